"""职称电子证书 (the e-certificate of a passed case): the cases service's methods, the event
it writes when it issues one, and the words around it. Pure: no I/O.

A certificate is issued in the transaction of the department's 确认办结 of a passed case;
docs/certificates.md says what its number is made of and who sees what.
"""

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from shared.contracts.base import SEALED_PATTERN, Event, Method, Payload, Reply
from shared.contracts.cases.integrity import DiscreditTerms, DiscreditView

NOT_FOUND = "未查询到该证书，请核对证书编号和验证码"


class CertificateStatus(StrEnum):
    label: str

    def __new__(cls, value: str, label: str) -> "CertificateStatus":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    VALID = "valid", "有效"
    REVOKED = "revoked", "已撤销"


class CertificateOfCase(BaseModel):
    case_id: uuid.UUID


class VerifyCertificate(BaseModel):
    """What anyone types on /verify (or the QR code's link carries), and where from."""

    certificate_no: str = Field("", max_length=40)
    verification_code: str = Field("", max_length=20)
    client_ip: str = ""  # the gateway's: what the rate limit counts and the record keeps
    channel: Literal["page", "api"] = "page"


class CertificateView(Reply):
    """The whole certificate, to those who may see its case."""

    certificate_id: str
    case_id: str
    certificate_no: str
    verification_code: str
    holder_name: str
    id_number: str
    qualification: str
    series: str
    level: str
    committee: str
    department: str  # the issuing 日常工作部门
    passed_on: str  # the committee's 评审通过, ISO date
    issued_on: str  # the department's 确认办结, ISO date
    status: str  # CertificateStatus
    status_label: str
    revoked_on: str | None
    revoked_reason: str | None  # for those who may see the case, never in verification


class RevokeCertificate(BaseModel):
    """撤销: the reason is required; a 失信 entry against the holder's ID number may come with
    it, in the same transaction."""

    case_id: uuid.UUID
    reason: str = ""
    discredit: DiscreditTerms | None = None


class CertificateRevoked(Reply):
    certificate_no: str
    status: str
    status_label: str
    revoked_on: str
    discredit: DiscreditView | None


class VerifiedCertificate(Reply):
    """What a verification shows anyone: the holder masked (李*华, 440305********0019)."""

    certificate_no: str
    holder_name: str
    id_number: str
    qualification: str
    series: str
    level: str
    committee: str
    department: str
    passed_on: str
    issued_on: str
    status: str
    status_label: str
    revoked_on: str | None


class QueryRecord(Reply):
    at: str  # ISO 8601 with offset
    client_ip: str
    who: str  # the signed-in person's name and role, or 未登录访客
    channel: str  # page or api


class CertificateQueries(Reply):
    """The 查询记录 of a certificate, newest first: for its holder only."""

    certificate_no: str
    total: int
    items: list[QueryRecord]


# --- 证书登记簿 (the register of the certificates issued) ---

REGISTER_SORTS = {"newest": "发证时间从新到旧", "oldest": "发证时间从旧到新"}
REGISTER_STATUSES = {"": "全部状态", **{s.value: s.label for s in CertificateStatus}}
FIRST_YEAR, LAST_YEAR = 2000, 2100  # a year of issue outside these is a typing mistake


class ListCertificates(BaseModel):
    """The register as its page filters it (and its export): the sysadmin's every
    certificate, a department's those of its cases; issue order, newest first by default."""

    q: str = Field("", max_length=50)  # a part of the certificate number or of the holder's name
    committee_id: str = Field("", max_length=40)
    year: int | None = None  # the year of issue (the number's year)
    status: str = ""  # CertificateStatus, or "" for both
    sort: str = "newest"
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=200)

    @field_validator("year", mode="before")
    @classmethod
    def _year(cls, value):
        """A blank box is no filter; anything but a year is refused, saying what is wanted."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip()
        if not (text.isdecimal() and FIRST_YEAR <= int(text) <= LAST_YEAR):
            raise PydanticCustomError("year", "发证年度须为四位年份，如 2026")
        return int(text)

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        if value not in REGISTER_STATUSES:
            raise PydanticCustomError("status", "状态须为有效（valid）或已撤销（revoked）")
        return value

    @field_validator("sort")
    @classmethod
    def _sort(cls, value: str) -> str:
        if value not in REGISTER_SORTS:
            raise PydanticCustomError("sort", "排序须为 newest（从新到旧）或 oldest（从旧到新）")
        return value


class RegisterRow(Reply):
    """One certificate in the register: the holder's ID number masked (440305********0019);
    显示完整号码 opens it for the roles that may see it."""

    certificate_id: str
    case_id: str
    case_no: str
    certificate_no: str
    holder_name: str
    id_number: str
    qualification: str
    series: str
    level: str
    committee: str
    department: str  # the issuing 日常工作部门
    passed_on: str
    issued_on: str
    status: str  # CertificateStatus
    status_label: str
    revoked_on: str | None


class CertificateRegister(Reply):
    total: int
    page: int
    page_size: int
    items: list[RegisterRow]


class CertificateIssued(Payload):
    """A certificate issued: what it prints, for the documents service to render and sign."""

    certificate_id: uuid.UUID
    case_id: uuid.UUID
    unit_id: uuid.UUID
    applicant_id: uuid.UUID
    certificate_no: str
    verification_code: str
    holder_name: str
    id_number: str = Field(pattern=SEALED_PATTERN)  # sealed for transit
    qualification: str
    series: str
    level: str
    committee: str
    department: str
    passed_on: str
    issued_on: str


class CertificateRevokedEvent(Payload):
    """A certificate revoked: verification shows 已撤销 with the day from now on."""

    certificate_id: uuid.UUID
    case_id: uuid.UUID
    certificate_no: str
    revoked_at: str
    reason: str


def _method(name, params, result, summary) -> Method:
    return Method("cases", name, params, result, summary)


CERTIFICATE_GET = _method(
    "certificate.get",
    CertificateOfCase,
    CertificateView,
    "A case's e-certificate, to those who may see the case (404 when it has none)",
)
CERTIFICATE_VERIFY = _method(
    "certificate.verify",
    VerifyCertificate,
    VerifiedCertificate,
    "Public verification by number and code (no login; rate-limited per client address;"
    " each success recorded)",
)
CERTIFICATE_QUERIES = _method(
    "certificate.queries",
    CertificateOfCase,
    CertificateQueries,
    "Who verified the certificate of this case, and when: its holder only",
)
CERTIFICATE_REVOKE = _method(
    "certificate.revoke",
    RevokeCertificate,
    CertificateRevoked,
    "Revoke a case's e-certificate with a reason, and maybe record a 失信 entry (department)",
)
CERTIFICATE_LIST = _method(
    "certificate.list",
    ListCertificates,
    CertificateRegister,
    "The register of e-certificates issued, newest first (sysadmin: all; a department: its"
    " cases'), holders' ID numbers masked",
)
METHODS = (
    CERTIFICATE_GET,
    CERTIFICATE_VERIFY,
    CERTIFICATE_QUERIES,
    CERTIFICATE_REVOKE,
    CERTIFICATE_LIST,
)

CERTIFICATE_ISSUED = Event(
    "certificate.issued",
    CertificateIssued,
    "cases",
    ("documents",),
    "An e-certificate was issued (确认办结 of a passed case): documents renders and signs its PDF",
)
CERTIFICATE_REVOKED = Event(
    "certificate.revoked",
    CertificateRevokedEvent,
    "cases",
    (),
    "An e-certificate was revoked (verification says 已撤销 at once; the holder is told by SMS)",
)

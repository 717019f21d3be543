"""诚信 (integrity): the 诚信承诺 applicants accept, objections (异议) during publicity, and 失信
records that bar a person from declaring. The cases service's methods, events and words for
them. Pure: no I/O.

docs/integrity.md says who does what, and why each rule is as it is.
"""

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from shared.contracts.base import SEALED_PATTERN, Event, Method, Payload, Reply


class _Labelled(StrEnum):
    label: str

    def __new__(cls, value: str, label: str) -> "_Labelled":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class PublicityPhase(_Labelled):
    PRE = "pre", "评前公示"
    POST = "post", "评后公示"


class ObjectionSource(_Labelled):
    """Who took the objection in: the unit or the department (someone came to them), or the
    public through the publicity page."""

    UNIT = "unit", "单位登记"
    DEPARTMENT = "department", "日常工作部门登记"
    PUBLIC = "public", "社会公众提出"


class Finding(_Labelled):
    UPHELD = "upheld", "成立"
    DISMISSED = "dismissed", "不成立"


class DiscreditStatus(_Labelled):
    RUNNING = "running", "执行中"
    EXPIRED = "expired", "已期满"
    ENDED = "ended", "已终止"


class CaseNote(_Labelled):
    """What the case history records beside the workflow's moves (its `action` column)."""

    OBJECTION_RECORDED = "objection_recorded", "登记异议"
    OBJECTION_FOUND = "objection_found", "异议核实"
    CERTIFICATE_REVOKED = "certificate_revoked", "撤销电子证书"
    DISCREDIT_RECORDED = "discredit_recorded", "记录失信"
    DISCREDIT_ENDED = "discredit_ended", "终止失信记录"


PUBLIC_ACTOR = "public"  # the history's actor_role of an objection from the public
PUBLIC_ACTOR_LABEL = "社会公众"
DEFAULT_DISCREDIT_YEARS = 3  # ZC_DISCREDIT_YEARS; the national rule's 记录期限 is three years
MAX_DISCREDIT_YEARS = 10

# --- 诚信承诺 (reference data the sysadmin keeps) ---


class PublishPledge(BaseModel):
    """A new text: it becomes the next version, and submissions from now on accept it."""

    pledge_text: str = ""


class PledgeView(Reply):
    version: int
    text: str
    published_at: str  # ISO 8601 with offset
    published_by: str


class PledgeVersions(Reply):
    versions: list[PledgeView]  # newest first; the first is the one in force


class PledgeAccepted(Reply):
    """What a case keeps of its applicant's 诚信承诺: printed on the 评审（申报）表."""

    version: int
    text: str
    accepted_at: str
    client_ip: str


# --- objections (异议) ---


class RecordObjection(BaseModel):
    """An objection someone brought to the unit or the department."""

    case_id: uuid.UUID
    objector_name: str = ""  # the objector's real name
    objector_contact: str = ""  # a telephone, a mobile, an address
    content: str = ""


class PublicObjection(BaseModel):
    """An objection from the public page: the gateway has confirmed the mobile by an SMS code
    (accounts `sms.confirm_code`, purpose objection) before it sends this."""

    case_id: uuid.UUID
    objector_name: str = ""
    mobile: str = ""
    content: str = ""
    client_ip: str = ""  # the gateway's: what the rate limit counts and the record keeps


class RecordFinding(BaseModel):
    """核实结论: 成立 or 不成立, and what was found."""

    objection_id: uuid.UUID
    finding: Literal["", "upheld", "dismissed"] = ""
    finding_text: str = ""


class ObjectionRef(BaseModel):
    case_id: uuid.UUID


class PublicityCasesQuery(BaseModel):
    """Cases under publicity the caller may take objections on (unit, department)."""

    phase: Literal["", "pre", "post"] = ""
    name: str = ""
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=100)


class PublicListQuery(BaseModel):
    name: str = ""  # a part of the (unmasked) name; the list shows it masked
    case_id: uuid.UUID | None = None  # one person (the objection form's)
    page: int = Field(1, ge=1, le=100_000)


class ObjectionView(Reply):
    """One objection. The objector's name and contact are shown to the department and to
    the party that took it in; to others they are empty (`identity_hidden`)."""

    id: str
    case_id: str
    seq: int  # 第 n 号, per case
    phase: str  # PublicityPhase
    phase_label: str
    source: str  # ObjectionSource
    source_label: str
    handler: Literal["unit", "department"]  # who records the finding
    handler_label: str
    objector_name: str
    objector_contact: str
    identity_hidden: bool
    content: str
    received_at: str
    recorded_by: str  # name (role), or 社会公众
    status: str  # open | upheld | dismissed
    status_label: str  # 待核实 | 成立 | 不成立
    finding_text: str | None
    found_at: str | None
    found_by: str | None
    may_find: bool  # the caller records its finding now


class CaseObjections(Reply):
    case_id: str
    case_no: str
    name: str
    unit_id: str
    qualification: str
    committee: str
    status_label: str
    phase: str | None  # the publicity the case is in, if any
    phase_label: str | None
    publicity_start: str | None
    publicity_end: str | None
    may_record: bool  # the caller may take an objection in now
    objections: list[ObjectionView]


class PublicityCaseRow(Reply):
    case_id: str
    case_no: str
    name: str
    unit_id: str
    qualification: str
    committee: str
    phase: str
    phase_label: str
    status_label: str
    publicity_start: str
    publicity_end: str
    objections: int
    open_objections: int


class PublicityCases(Reply):
    total: int
    page: int
    page_size: int
    items: list[PublicityCaseRow]


class PublicPerson(Reply):
    """A person under 评后公示 as anyone sees them: the name masked (李*华)."""

    case_id: str
    name: str
    unit_id: str
    qualification: str
    series: str
    committee: str
    department: str
    publicity_start: str
    publicity_end: str


class PublicPeople(Reply):
    total: int
    page: int
    page_size: int
    items: list[PublicPerson]


class ObjectionReceived(Reply):
    objection_id: str
    case_id: str
    seq: int
    received_at: str


class FindingRecorded(Reply):
    objection_id: str
    status: str
    status_label: str


# --- 失信 records ---


class DiscreditTerms(BaseModel):
    """失信: the reason, the first day barred (YYYY-MM-DD, default today) and the years (default
    ZC_DISCREDIT_YEARS)."""

    reason: str = ""
    starts_on: str = ""
    years: int | None = Field(None, ge=1, le=MAX_DISCREDIT_YEARS)


class RecordDiscredit(DiscreditTerms):
    case_id: uuid.UUID  # the entry is against the ID number of this case's 基本信息


class ListDiscredits(BaseModel):
    q: str = ""  # a part of the name or of the ID number
    status: Literal["", "running", "expired", "ended"] = ""
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=200)


class EndDiscredit(BaseModel):
    entry_id: uuid.UUID
    reason: str = ""


class DiscreditView(Reply):
    id: str
    name: str
    id_number: str
    reason: str
    starts_on: str
    years: int
    last_day: str  # the last day barred; the day after it a declaration is taken again
    status: str  # DiscreditStatus
    status_label: str
    case_id: str | None
    case_no: str | None
    department: str
    recorded_at: str
    recorded_by: str
    ended_at: str | None
    ended_by: str | None
    end_reason: str | None


class DiscreditPage(Reply):
    total: int
    page: int
    page_size: int
    items: list[DiscreditView]


# --- events ---


class ObjectionRecorded(Payload):
    objection_id: uuid.UUID
    case_id: uuid.UUID
    case_no: str
    seq: int
    phase: str
    source: str
    handler: str
    received_at: str


class ObjectionFound(Payload):
    """A finding recorded; a public objector is told by SMS (their confirmed mobile)."""

    objection_id: uuid.UUID
    case_id: uuid.UUID
    case_no: str
    seq: int
    phase: str
    source: str
    finding: str
    found_at: str
    # the public's only, sealed for transit: they are told the finding
    objector_mobile: str | None = Field(None, pattern=SEALED_PATTERN)


class DiscreditRecorded(Payload):
    entry_id: uuid.UUID
    case_id: uuid.UUID | None
    starts_on: str
    last_day: str
    recorded_at: str


class DiscreditEnded(Payload):
    entry_id: uuid.UUID
    case_id: uuid.UUID | None
    ended_at: str


def _method(name, params, result, summary) -> Method:
    return Method("cases", name, params, result, summary)


PLEDGE_CURRENT = _method(
    "pledge.current", None, PledgeView, "The 诚信承诺 in force (anyone signed in)"
)
PLEDGE_VERSIONS = _method(
    "pledge.versions", None, PledgeVersions, "Every version of the 诚信承诺 (sysadmin)"
)
PLEDGE_PUBLISH = _method(
    "pledge.publish", PublishPledge, PledgeView, "Publish a new version of the 诚信承诺 (sysadmin)"
)
OBJECTION_RECORD = _method(
    "objection.record",
    RecordObjection,
    ObjectionReceived,
    "Take in an objection against a case under publicity (unit, department)",
)
OBJECTION_SUBMIT_PUBLIC = _method(
    "objection.submit_public",
    PublicObjection,
    ObjectionReceived,
    "An objection from the public during 评后公示 (mobile confirmed by the gateway;"
    " rate-limited per client address)",
)
OBJECTION_FIND = _method(
    "objection.find",
    RecordFinding,
    FindingRecorded,
    "Record an objection's finding: 成立 or 不成立 (whoever handles it)",
)
OBJECTION_OF_CASE = _method(
    "objection.of_case",
    ObjectionRef,
    CaseObjections,
    "A case's objections (unit, department; a department sees its cases in 评前公示 too)",
)
OBJECTION_PUBLICITY_CASES = _method(
    "objection.publicity_cases",
    PublicityCasesQuery,
    PublicityCases,
    "The caller's cases under publicity, with their objections counted (unit, department)",
)
PUBLICITY_LIST = _method(
    "publicity.list",
    PublicListQuery,
    PublicPeople,
    "The persons under 评后公示 today, names masked (no login)",
)
DISCREDIT_RECORD = _method(
    "discredit.record",
    RecordDiscredit,
    DiscreditView,
    "Record a 失信 entry against the ID number of a case (department)",
)
DISCREDIT_LIST = _method(
    "discredit.list",
    ListDiscredits,
    DiscreditPage,
    "The 失信 entries (sysadmin: every one; a department: those it recorded)",
)
DISCREDIT_END = _method(
    "discredit.end", EndDiscredit, DiscreditView, "End a running 失信 entry early (sysadmin)"
)
METHODS = (
    PLEDGE_CURRENT,
    PLEDGE_VERSIONS,
    PLEDGE_PUBLISH,
    OBJECTION_RECORD,
    OBJECTION_SUBMIT_PUBLIC,
    OBJECTION_FIND,
    OBJECTION_OF_CASE,
    OBJECTION_PUBLICITY_CASES,
    PUBLICITY_LIST,
    DISCREDIT_RECORD,
    DISCREDIT_LIST,
    DISCREDIT_END,
)

OBJECTION_RECORDED = Event(
    "objection.recorded",
    ObjectionRecorded,
    "cases",
    (),
    "An objection was taken in against a case under publicity",
)
OBJECTION_FOUND = Event(
    "objection.found",
    ObjectionFound,
    "cases",
    ("notify",),
    "An objection's finding was recorded: notify texts a public objector the finding",
)
DISCREDIT_RECORDED = Event(
    "discredit.recorded",
    DiscreditRecorded,
    "cases",
    (),
    "A 失信 entry was recorded: its ID number cannot declare until the day after last_day",
)
DISCREDIT_ENDED = Event(
    "discredit.ended", DiscreditEnded, "cases", (), "A 失信 entry was ended early by the sysadmin"
)
EVENTS = (OBJECTION_RECORDED, OBJECTION_FOUND, DISCREDIT_RECORDED, DISCREDIT_ENDED)

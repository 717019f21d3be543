"""异议 during publicity: objections are part of the case they are against. Pure: no I/O;
time is an argument.

While a case is in 评前公示 or 评后公示 (the latter lasts until the department's 确认办结),
the unit or the department takes an objection in for someone who came to them; during the
评后公示 period the public may raise one from the publicity page. Whoever took it in records
its finding (成立 / 不成立); the public's are the department's, which runs 评后公示. An open
objection blocks the step that closes its publicity (model.py), and an upheld one fails it.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from services.cases.domain.calendar import local_date
from services.cases.domain.errors import DomainError, InvalidInput, cn_date
from shared.contracts.accounts.vocabulary import UNIT_ROLES, Role
from shared.contracts.cases.integrity import Finding, ObjectionSource, PublicityPhase
from shared.contracts.cases.vocabulary import CaseState

Handler = Literal["unit", "department"]
HANDLER_LABELS: dict[str, str] = {"unit": "单位", "department": "日常工作部门"}
PHASE_OF_STATE = {
    CaseState.PRE_PUBLICITY: PublicityPhase.PRE,
    CaseState.POST_PUBLICITY: PublicityPhase.POST,
    CaseState.DEPT_CONFIRM: PublicityPhase.POST,  # 评后公示 ends with the confirmation
}
MOBILE = re.compile(r"^1[3-9]\d{9}$")
NAME_LENGTH = (2, 30)


def handler_of(source: ObjectionSource) -> Handler:
    """Whoever took an objection in records its finding; the public's are the department's."""
    return "unit" if source is ObjectionSource.UNIT else "department"


@dataclass(frozen=True)
class Objection:
    id: str
    seq: int  # 第 n 号, per case
    phase: PublicityPhase
    source: ObjectionSource
    received_at: datetime
    finding: Finding | None = None

    @property
    def handler(self) -> Handler:
        return handler_of(self.source)

    @property
    def is_open(self) -> bool:
        return self.finding is None

    @property
    def label(self) -> str:
        """How messages name it; never the objector (the unit must not learn who objected)."""
        received = cn_date(local_date(self.received_at))
        return f"第{self.seq}号异议（{received}{self.source.label}）"


def phase_of(state: CaseState) -> PublicityPhase | None:
    return PHASE_OF_STATE.get(state)


def first_open(objections: Iterable[Objection], phase: PublicityPhase) -> Objection | None:
    pending = [o for o in objections if o.phase is phase and o.is_open]
    return min(pending, key=lambda o: o.seq, default=None)


def upheld(objections: Iterable[Objection], phase: PublicityPhase) -> list[Objection]:
    found = [o for o in objections if o.phase is phase and o.finding is Finding.UPHELD]
    return sorted(found, key=lambda o: o.seq)


# --- taking one in ---


class NotUnderPublicity(DomainError):
    """The case is not in a publicity (or its period is not running, for the public)."""


class ObjectionRefused(DomainError):
    """The actor's role takes no objections in, or may not record this finding."""


class AlreadyFound(DomainError):
    def __init__(self, objection: Objection) -> None:
        self.objection = objection
        super().__init__(f"{objection.label}已核实，结论为“{objection.finding.label}”")


def source_of(role: str) -> ObjectionSource:
    if role in UNIT_ROLES:
        return ObjectionSource.UNIT
    if role == Role.DEPARTMENT:
        return ObjectionSource.DEPARTMENT
    raise ObjectionRefused("只有申报人所在单位和日常工作部门可以登记异议")


def phase_for_staff(state: CaseState, status_label: str) -> PublicityPhase:
    phase = phase_of(state)
    if phase is None:
        raise NotUnderPublicity(f"业务状态为“{status_label}”，不在公示期内，不能登记异议")
    return phase


def phase_for_public(state: CaseState, start: date | None, end: date | None, today: date):
    """The public raises objections only while the 评后公示 period runs."""
    if state is not CaseState.POST_PUBLICITY or start is None or end is None:
        raise NotUnderPublicity("该人员不在评后公示期内，不能提出异议")
    if not start <= today <= end:
        raise NotUnderPublicity(
            f"该人员的评后公示期为{cn_date(start)}至{cn_date(end)}，现不在公示期内"
        )
    return PublicityPhase.POST


@dataclass(frozen=True)
class Details:
    objector_name: str
    objector_contact: str
    content: str


def check_details(name: str, contact: str, content: str, *, contact_field: str) -> Details:
    """The objector's real name, how to reach them and what they object to; a public
    objector's contact is their mobile (`contact_field` mobile), checked as one."""
    name, contact, content = name.strip(), contact.strip(), content.strip()
    errors = {}
    low, high = NAME_LENGTH
    if not name:
        errors["objector_name"] = "请填写异议人真实姓名"
    elif not low <= len(name) <= high:
        errors["objector_name"] = f"异议人姓名应为{low}至{high}个字"
    if not contact:
        errors[contact_field] = (
            "请填写异议人联系方式" if contact_field != "mobile" else "请填写手机号码"
        )
    elif contact_field == "mobile" and not MOBILE.match(contact):
        errors[contact_field] = "手机号码格式不正确"
    if not content:
        errors["content"] = "请填写异议内容"
    if errors:
        raise InvalidInput(errors)
    return Details(name, contact, content)


# --- its finding ---


def may_find(objection: Objection, role: str) -> bool:
    if objection.handler == "unit":
        return role in UNIT_ROLES
    return role == Role.DEPARTMENT


def check_finding(objection: Objection, role: str, finding: str, text: str) -> Finding:
    """成立 or 不成立 with what was found, by whoever handles it, once."""
    if not may_find(objection, role):
        handler = HANDLER_LABELS[objection.handler]
        raise ObjectionRefused(f"{objection.label}由{handler}核实并填写结论")
    if not objection.is_open:
        raise AlreadyFound(objection)
    errors = {}
    if finding not in (Finding.UPHELD, Finding.DISMISSED):
        errors["finding"] = "请选择核实结论：成立或不成立"
    if not text.strip():
        errors["finding_text"] = "请填写核实情况"
    if errors:
        raise InvalidInput(errors)
    return Finding(finding)

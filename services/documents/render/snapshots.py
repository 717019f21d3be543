"""What each document shows, as the caller sends it: a snapshot validated at the edge.

A snapshot holds exactly what is printed, already in display form (names, not ids), so
the documents service renders without reading any other service's tables. Its checksum,
with the kind and the template version, names the rendered PDF: the same snapshot printed
again is the stored PDF, not a new render.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class _Snapshot(BaseModel):
    # Unknown keys are refused: whatever is sent is in the checksum, so it must be shown.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Publicity(_Snapshot):
    """A publicity period (公示) and, once recorded, its result."""

    start: date
    end: date
    method: Text | None = None  # 公示方式
    contact: Text | None = None  # 异议受理联系方式
    passed: bool | None = None
    feedback: LongText | None = None  # 公示期间反映情况


class RosterPerson(_Snapshot):
    case_id: uuid.UUID
    name: Name
    gender: Text = ""
    birth_date: date | None = None
    education: Text = ""
    current_title: Text = ""
    qualification: Name  # 申报（评后：通过）的专业技术资格
    review_type: Name
    committee: Name


class Roster(_Snapshot):
    """评前公示名册 and 评后公示名单: one unit's people in one publicity."""

    unit_name: Name
    round_name: Name
    publicity: Publicity
    people: list[RosterPerson] = Field(min_length=1, max_length=5000)


class CaseHead(_Snapshot):
    case_id: uuid.UUID
    case_no: Name
    round_name: Name
    unit_name: Name
    applicant_name: Name
    review_type: Name
    qualification: Name
    committee: Name
    department: Name


class Basic(_Snapshot):
    """The 基本信息 section as the applicant filled it in (cases' materials.Basic)."""

    name: Text = ""
    gender: Text = ""
    birth_date: date | None = None
    id_number: Text = ""
    education: Text = ""
    school: Text = ""
    major: Text = ""
    graduated_on: date | None = None
    current_title: Text = ""
    current_title_on: date | None = None
    position: Text = ""
    work_started_on: date | None = None
    years_in_field: int | None = None
    exemptions: list[Text] = Field(default_factory=list, max_length=10)  # display labels


class WorkEntry(_Snapshot):
    start: Text = ""
    end: Text = ""
    employer: Text = ""
    role: Text = ""


class Achievement(_Snapshot):
    kind: Text = ""
    title: Text = ""
    year: int | None = None
    note: LongText = ""


class Approval(_Snapshot):
    """审核同意: the unit's approval form (manual §2.2)."""

    negative_situation: LongText = ""
    annual_assessments: dict[str, Text] = Field(default_factory=dict)  # year -> 优秀/合格/…
    evaluation: LongText = ""
    continuing_education_opinion: LongText = ""
    approved_on: date | None = None


class Attachment(_Snapshot):
    category: Text
    filename: Text


class RegistrationForm(_Snapshot):
    """专业技术资格评审登记表: the applicant's materials and the unit's approval."""

    case: CaseHead
    basic: Basic
    work_history: list[WorkEntry] = Field(default_factory=list, max_length=30)
    achievements: list[Achievement] = Field(default_factory=list, max_length=50)
    education_hours: dict[str, int] = Field(default_factory=dict)  # year -> 继续教育学时
    unit_approval: Approval
    attachments: list[Attachment] = Field(default_factory=list, max_length=100)


class Acceptance(_Snapshot):
    """The department's pre-acceptance (预受理) and, where needed, the office's pre-approval."""

    accepted_on: date
    pre_approved_on: date | None = None  # 专技处前置审批通过


class DeclarationForm(RegistrationForm):
    """评审（申报）表: the 登记表 plus publicity result and acceptance; case number as QR."""

    pre_publicity: Publicity
    acceptance: Acceptance


class PublicityReport(_Snapshot):
    """评前/评后公示情况表 for one case: period, method, what was reported, result."""

    case: CaseHead
    basic: Basic
    publicity: Publicity


@dataclass(frozen=True)
class Kind:
    key: str
    title: str
    model: type[_Snapshot]
    template: str
    roster: bool = False  # paginated by the engine, rendered in chunks when long


KINDS = {
    k.key: k
    for k in (
        Kind("pre_publicity_roster", "评前公示名册", Roster, "roster.html", roster=True),
        Kind("registration_form", "专业技术资格评审登记表", RegistrationForm, "registration.html"),
        Kind("pre_publicity_report", "评前公示情况表", PublicityReport, "publicity_report.html"),
        Kind("declaration_form", "评审（申报）表", DeclarationForm, "declaration.html"),
        Kind("post_publicity_roster", "评后公示名单", Roster, "roster.html", roster=True),
        Kind("post_publicity_report", "评后公示情况表", PublicityReport, "publicity_report.html"),
    )
}


def canonical_json(snapshot: _Snapshot) -> str:
    return json.dumps(
        snapshot.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def input_checksum(kind: str, snapshot: _Snapshot, template_version: str) -> str:
    text = f"{kind}\n{template_version}\n{canonical_json(snapshot)}"
    return hashlib.sha256(text.encode()).hexdigest()


def case_ids(snapshot: _Snapshot) -> list[uuid.UUID]:
    """The cases a document shows: whoever reads it must be allowed to see every one."""
    if isinstance(snapshot, Roster):
        return list(dict.fromkeys(p.case_id for p in snapshot.people))
    return [snapshot.case.case_id]

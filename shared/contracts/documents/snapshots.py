"""What each document shows, as the caller sends it (documents.render's `snapshots`).

A snapshot holds exactly what is printed, already in display form (names, not ids), so the
documents service renders without reading any other service's tables; its checksum, with
the kind and the template version, names the rendered PDF. Pure: no I/O.
"""

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
PageText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


class Snapshot(BaseModel):
    # Unknown keys are refused: whatever is sent is in the checksum, so it must be shown.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Publicity(Snapshot):
    """A publicity period (公示) and, once recorded, its result."""

    start: date
    end: date
    method: Text | None = None  # 公示方式
    contact: Text | None = None  # 异议受理联系方式
    passed: bool | None = None
    feedback: LongText | None = None  # 公示期间反映情况


class RosterPerson(Snapshot):
    case_id: uuid.UUID
    name: Name
    gender: Text = ""
    birth_date: date | None = None
    education: Text = ""
    current_title: Text = ""
    qualification: Name  # 申报（评后：通过）的专业技术资格
    review_type: Name
    committee: Name


class Roster(Snapshot):
    """评前公示名册 and 评后公示名单: one unit's people in one publicity."""

    unit_name: Name
    round_name: Name
    publicity: Publicity
    people: list[RosterPerson] = Field(min_length=1, max_length=5000)


class CaseHead(Snapshot):
    case_id: uuid.UUID
    case_no: Name
    round_name: Name
    unit_name: Name
    applicant_name: Name
    review_type: Name
    qualification: Name
    committee: Name
    department: Name


class Basic(Snapshot):
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


class WorkEntry(Snapshot):
    start: Text = ""
    end: Text = ""
    employer: Text = ""
    role: Text = ""


class Achievement(Snapshot):
    kind: Text = ""
    title: Text = ""
    year: int | None = None
    note: LongText = ""


class Approval(Snapshot):
    """审核同意: the unit's approval form (manual §2.2)."""

    negative_situation: LongText = ""
    annual_assessments: dict[str, Text] = Field(default_factory=dict)  # year -> 优秀/合格/…
    evaluation: LongText = ""
    continuing_education_opinion: LongText = ""
    approved_on: date | None = None


class Attachment(Snapshot):
    category: Text
    filename: Text


class RegistrationForm(Snapshot):
    """专业技术资格评审登记表: the applicant's materials and the unit's approval."""

    case: CaseHead
    basic: Basic
    work_history: list[WorkEntry] = Field(default_factory=list, max_length=30)
    achievements: list[Achievement] = Field(default_factory=list, max_length=50)
    education_hours: dict[str, int] = Field(default_factory=dict)  # year -> 继续教育学时
    unit_approval: Approval
    attachments: list[Attachment] = Field(default_factory=list, max_length=100)


class Acceptance(Snapshot):
    """The department's pre-acceptance (预受理) and, where needed, the office's pre-approval."""

    accepted_on: date
    pre_approved_on: date | None = None  # 专技处前置审批通过


class PledgeAccepted(Snapshot):
    """The 诚信承诺 the applicant accepted when submitting: which text, when, from where."""

    version: int
    text: PageText
    accepted_at: datetime
    client_ip: Text


class DeclarationForm(RegistrationForm):
    """评审（申报）表: the 登记表 plus publicity result and acceptance; case number as QR."""

    pre_publicity: Publicity
    acceptance: Acceptance
    pledge: PledgeAccepted | None = None  # none for a case submitted before the pledge was


class ObjectionLine(Snapshot):
    """An objection as a 公示情况表 lists it: never who raised it (the objector is protected)."""

    seq: int
    received_on: date
    source: Text  # 单位登记, 日常工作部门登记, 社会公众提出
    content: LongText
    status: Text  # 待核实, 成立, 不成立
    finding_text: LongText | None = None


class PublicityReport(Snapshot):
    """评前/评后公示情况表 for one case: period, method, what was reported, result."""

    case: CaseHead
    basic: Basic
    publicity: Publicity
    objections: list[ObjectionLine] = Field(default_factory=list, max_length=200)


# the snapshot model of each document kind (vocabulary.KINDS)
SNAPSHOT_MODELS: dict[str, type[Snapshot]] = {
    "pre_publicity_roster": Roster,
    "registration_form": RegistrationForm,
    "pre_publicity_report": PublicityReport,
    "declaration_form": DeclarationForm,
    "post_publicity_roster": Roster,
    "post_publicity_report": PublicityReport,
}

"""The cases service's RPC methods on `<prefix>.rpc.cases`, with their models."""

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.contracts.audit import CaseReaders, CaseReadersRef
from shared.contracts.base import Method, Reply, RpcErrorBody, ServiceApi
from shared.contracts.cases.certificates import METHODS as CERTIFICATE_METHODS
from shared.contracts.cases.holidays import METHODS as HOLIDAY_METHODS
from shared.contracts.cases.integrity import METHODS as INTEGRITY_METHODS
from shared.contracts.cases.integrity import ObjectionView, PledgeAccepted
from shared.contracts.cases.meetings import METHODS as MEETING_METHODS
from shared.contracts.cases.statistics import METHODS as STATISTICS_METHODS
from shared.contracts.cases.work_lists import ListSort
from shared.contracts.exports import owner_methods
from shared.contracts.personal import unmask_method

SERVICE = "cases"
MAX_BATCH = 500  # cases in one case.batch
MAX_LISTED_IDS = 2000  # case.list_ids: the most one print job takes
MAX_VIEWS = 2000  # case.get_many
MAX_VIEW_CHECKS = 5000  # case.can_view_many

# --- reference data (the sysadmin's 基础数据) ---


class SaveRound(BaseModel):
    id: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=50)
    opens_on: date
    closes_on: date
    pre_publicity_days: int = Field(5, ge=1, le=60)
    post_publicity_days: int = Field(5, ge=1, le=60)
    evaluation_max_length: int = Field(200, ge=50, le=2000)
    active: bool = True


class SaveReviewType(BaseModel):
    id: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=50)
    needs_pre_approval: bool = False


class SaveCommittee(BaseModel):
    id: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=100)
    department_id: str
    qualification_ids: list[str] = Field(min_length=1)
    active: bool = True


class SaveDepartment(BaseModel):
    id: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=100)


class SaveSeries(BaseModel):
    id: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=50)
    position: int = Field(0, ge=0, le=999)  # where it comes in lists


class SaveQualification(BaseModel):
    id: str = Field(min_length=1, max_length=40)
    series_id: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=50)
    level: Literal["正高", "副高", "中级", "初级"]
    position: int = Field(0, ge=0, le=999)  # where it comes within its series


class Round(Reply):
    id: str
    name: str
    opens_on: str
    closes_on: str
    pre_publicity_days: int
    post_publicity_days: int
    evaluation_max_length: int
    active: bool


class Series(Reply):
    id: str
    name: str
    position: int


class Qualification(Reply):
    id: str
    series_id: str
    name: str
    level: str
    position: int


class Department(Reply):
    id: str
    name: str


class Committee(Reply):
    id: str
    name: str
    department_id: str
    active: bool
    qualification_ids: list[str | None]


class ReviewType(Reply):
    id: str
    name: str
    needs_pre_approval: bool
    position: int


class ReferenceData(Reply):
    rounds: list[Round]
    series: list[Series]
    qualifications: list[Qualification]
    departments: list[Department]
    committees: list[Committee]
    review_types: list[ReviewType]


class Saved(Reply):
    saved: str  # the id


# --- the applicant's side ---


class CaseChoices(BaseModel):
    """What an applicant chooses when opening a case (the JSON API's body)."""

    round_id: str = ""
    review_type_id: str = ""
    qualification_id: str = ""
    committee_id: str = ""


class OpenCase(CaseChoices):
    """The choices, with the applicant's own details from their account."""

    applicant_name: str = ""
    applicant_mobile: str = ""
    id_number: str = ""
    gender: str = ""


class SaveSection(BaseModel):
    case_id: uuid.UUID
    section: str  # a key of materials.SECTIONS; data: that section's model
    data: dict[str, Any]


class Attach(BaseModel):
    case_id: uuid.UUID
    category: str
    file_id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    checksum: str


class UploadCheck(BaseModel):
    case_id: uuid.UUID
    category: str
    # the scan's size, checked against the case's scan limits before its bytes are stored;
    # 0 (a caller that does not send it): the size is checked by case.attach only
    size_bytes: int = Field(0, ge=0)


class RemoveAttachment(BaseModel):
    case_id: uuid.UUID
    attachment_id: uuid.UUID


class Opened(Reply):
    case_id: str
    case_no: str


class SectionSaved(Reply):
    saved: str
    at: str


class UploadAllowed(Reply):
    unit_id: str
    case_id: str


class Attached(Reply):
    attachment_id: str


class Removed(Reply):
    removed: bool


# --- reading cases ---


class ListedCases(BaseModel):
    """Which cases a work list shows and in which order: case.list without its paging."""

    list: str
    tab: Literal["todo", "done"] = "todo"
    name: str = ""
    review_type_id: str = ""
    qualification_id: str = ""
    state: str = ""
    department_id: str = ""
    committee_id: str = ""
    round_id: str = ""
    overdue: bool = False  # only the cases past their step time limit (超期)
    sort: ListSort = "updated"


class ListCases(ListedCases):
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=200)


class CaseRef(BaseModel):
    case_id: uuid.UUID


class GetMany(BaseModel):
    case_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_VIEWS)
    # the documents service printing: the forms show the full ID number, as the official ones
    for_print: bool = False


class CanViewMany(BaseModel):
    case_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_VIEW_CHECKS)


class ApplicantRef(BaseModel):
    applicant_id: uuid.UUID


class MyCases(BaseModel):
    page: int = Field(1, ge=1, le=100_000)


class CaseRow(Reply):
    """A case as a list shows it."""

    id: str
    case_no: str
    name: str
    review_type: str
    qualification: str
    status: str  # 业务状态: "单位审核同意-->待打印评前公示"
    state: str  # vocabulary.CaseState
    outcome: str | None  # vocabulary.Outcome, once closed
    reason: str
    department: str
    committee: str
    round: str
    version: int
    updated_at: str
    publicity_ends: str | None  # the last day of the publicity the case is in
    due_on: str | None = None  # the last day of its step time limit, if its step has one
    overdue: bool = False  # past it: 超期


class PublicityView(Reply):
    start: str
    end: str
    method: str | None = None
    contact: str | None = None
    passed: bool | None = None
    feedback: str | None = None


class ScanLimitsView(Reply):
    """What the cases service takes, counting the scans not removed (its ZC_SCAN_* settings)."""

    files_per_category: int
    bytes_per_category: int
    files_per_case: int
    bytes_per_case: int


class AttachmentView(Reply):
    id: str
    category: str
    category_name: str
    file_id: str
    filename: str
    content_type: str
    size_bytes: int
    uploaded_at: str


class HistoryEntry(Reply):
    action: str
    action_name: str
    actor_role: str
    actor_label: str
    actor_name: str | None
    from_state: str
    from_label: str
    to_state: str
    to_label: str
    outcome: str | None
    status_label: str
    inputs: dict[str, Any]
    reason: str | None
    at: str


class CaseView(CaseRow):
    """Everything about one case that the actor may see, with the buttons they may press."""

    applicant_id: str
    unit_id: str
    round_id: str
    assessment_years: list[int]  # the years the unit's 审核同意 asks about
    needs_pre_approval: bool
    unit_approval: dict[str, Any] | None  # inputs.ApproveInput as given
    pre_publicity: PublicityView | None
    post_publicity: PublicityView | None
    sections: dict[str, dict[str, Any]]  # materials.SECTION_MODELS, by section
    section_titles: dict[str, str]
    attachments: list[AttachmentView]  # the scans not removed
    scan_limits: ScanLimitsView
    history: list[HistoryEntry]
    actions: list[str]  # vocabulary.Action the actor may take now
    pledge: PledgeAccepted | None  # the 诚信承诺 accepted at submission
    objections: list[ObjectionView]  # 异议 during publicity (none shown to the applicant)


class CaseViews(Reply):
    cases: list[CaseView]  # in the order asked, each once
    missing: list[str]  # ids not found or not the actor's to see


class CasePage(Reply):
    list: str
    title: str
    tab: str
    total: int
    page: int
    page_size: int
    actions: list[str]  # the step's buttons (待办 only)
    items: list[CaseRow]


class CaseIds(Reply):
    ids: list[str]
    total: int
    limit: int


class ListCount(Reply):
    key: str
    title: str
    count: int
    overdue: int  # of them, past their step time limit (超期)


class HomeCounts(Reply):
    lists: list[ListCount]


class MyCaseRows(Reply):
    items: list[CaseRow]


class Allowed(Reply):
    allowed: bool


class AllAllowed(Allowed):
    denied: list[str]


class ApplicantCases(Reply):
    cases: int


# --- moving cases ---


class ActionRequest(BaseModel):
    """What an action takes besides its case (the JSON API's body): `inputs` is the model of
    inputs.ACTION_INPUTS for the action; `expected_version`, when sent, must be the case's
    version, or the answer is a conflict (409)."""

    inputs: dict[str, Any] = {}
    expected_version: int | None = None


class Act(ActionRequest):
    case_id: uuid.UUID
    action: str  # vocabulary.Action
    client_ip: str = ""  # the gateway's: kept with the 诚信承诺 accepted on 填报上报


class BatchAct(BaseModel):
    """One action on a selection (vocabulary.SELECTION_ACTIONS); a result per case."""

    case_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BATCH)
    action: str
    inputs: dict[str, Any] = {}


class Moved(Reply):
    ok: Literal[True]
    case_id: str
    name: str
    state: str
    status_label: str
    version: int


class NotMoved(Reply):
    ok: Literal[False]
    case_id: str
    name: str | None = None
    error: RpcErrorBody


class BatchResult(Reply):
    done: int
    failed: int
    results: list[Moved | NotMoved]  # in the order asked, each case once


# --- the expert library (评审专家库): a committee's secretary keeps its own, the sysadmin all ---


class ExpertFields(BaseModel):
    """An entry's fields as typed (experts.EXPERT_FIELD_LABELS); the service checks each and
    answers with a message per field. Dates YYYY-MM-DD; the series by id; unit_id: a
    registered unit's id, when the expert's unit is one."""

    name: str = ""
    id_number: str = ""
    mobile: str = ""
    unit_name: str = ""
    unit_id: str = ""
    series_id: str = ""
    speciality: str = ""
    title_level: str = ""
    joined_on: str = ""
    term_ends_on: str = ""


class CreateExpert(ExpertFields):
    committee_id: str = ""  # whose library: the sysadmin names it; a committee has its own


class UpdateExpert(ExpertFields):
    expert_id: uuid.UUID
    expected_version: int | None = None  # when sent, a differing version is a conflict (409)


class ExpertRef(BaseModel):
    expert_id: uuid.UUID


class RemoveExpert(BaseModel):
    """出库: the reason is required; removed_on (YYYY-MM-DD) defaults to today."""

    expert_id: uuid.UUID
    reason: str = ""
    removed_on: str = ""


class ListExperts(BaseModel):
    committee_id: str = ""  # the sysadmin's filter; a committee sees its own library only
    series_id: str = ""
    title_level: Literal["", "正高", "副高", "中级", "初级"] = ""
    status: Literal["", "active", "expired", "removed"] = ""  # experts.ExpertStatus
    q: str = ""  # a part of the name or of the ID number
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=200)


class ImportExperts(BaseModel):  # the .xlsx comes as the call's file (takes_file)
    committee_id: str = ""


class ExpertRow(Reply):
    """An entry as the library's list shows it: the ID number masked (440301********123X)."""

    id: str
    committee_id: str
    committee_name: str
    name: str
    id_number: str
    mobile: str
    unit_name: str
    series_id: str
    series_name: str
    speciality: str
    title_level: str
    joined_on: str
    term_ends_on: str
    status: str  # experts.ExpertStatus
    status_label: str
    removed_on: str | None
    removed_reason: str | None


class ExpertView(ExpertRow):
    """One entry for its keeper, the ID number in full."""

    unit_id: str | None
    version: int
    latest_term_end: str  # the latest term end its 入库 date allows
    other_committees: list[str]  # other libraries holding this ID number (the sysadmin only)


class ExpertPage(Reply):
    total: int
    page: int
    page_size: int
    items: list[ExpertRow]


class ExpertSaved(Reply):
    expert_id: str
    name: str


class ExpertImportedRow(Reply):
    row: int
    name: str
    id_number: str  # masked


class ExpertRefusedRow(ExpertImportedRow):
    reasons: dict[str, str]  # field -> message, or "row" for the row as a whole


class ExpertImportReport(Reply):
    created: list[ExpertImportedRow]
    refused: list[ExpertRefusedRow]


class ExpertImportTemplate(Reply):
    filename: str
    content_type: str


def _method(name, params, result, summary, **files: bool) -> Method:
    return Method(SERVICE, name, params, result, summary, **files)


REF_ALL = _method("ref.all", None, ReferenceData, "All reference data (anyone signed in)")
REF_SAVE_ROUND = _method("ref.save_round", SaveRound, Saved, "Save a review round (sysadmin)")
REF_SAVE_REVIEW_TYPE = _method(
    "ref.save_review_type", SaveReviewType, Saved, "Save a review type (sysadmin)"
)
REF_SAVE_COMMITTEE = _method(
    "ref.save_committee",
    SaveCommittee,
    Saved,
    "Save a committee (sysadmin); a rename is told to accounts",
)
REF_SAVE_DEPARTMENT = _method(
    "ref.save_department",
    SaveDepartment,
    Saved,
    "Save a department (sysadmin); a rename is told to accounts",
)
REF_SAVE_SERIES = _method("ref.save_series", SaveSeries, Saved, "Save a series (sysadmin)")
REF_SAVE_QUALIFICATION = _method(
    "ref.save_qualification", SaveQualification, Saved, "Save a qualification (sysadmin)"
)
CASE_OPEN = _method("case.open", OpenCase, Opened, "Open a case (applicant)")
CASE_SAVE_SECTION = _method(
    "case.save_section", SaveSection, SectionSaved, "Save one section of a draft's materials"
)
CASE_CHECK_UPLOAD = _method(
    "case.check_upload",
    UploadCheck,
    UploadAllowed,
    "May the actor add a scan of this size to this case (a draft, within its scan limits)",
)
CASE_ATTACH = _method(
    "case.attach", Attach, Attached, "Attach a stored scan to a draft (within its scan limits)"
)
CASE_REMOVE_ATTACHMENT = _method(
    "case.remove_attachment", RemoveAttachment, Removed, "Remove a scan from a draft"
)
CASE_MINE = _method("case.mine", MyCases, MyCaseRows, "The applicant's own cases")
CASE_GET = _method("case.get", CaseRef, CaseView, "One case as the actor may see it")
CASE_GET_MANY = _method("case.get_many", GetMany, CaseViews, "case.get of many cases at once")
CASE_CAN_VIEW = _method("case.can_view", CaseRef, Allowed, "May the actor see this case")
CASE_APPLICANT_CASE_COUNT = _method(
    "case.applicant_case_count",
    ApplicantRef,
    ApplicantCases,
    "How many cases an applicant has (unit staff)",
)
CASE_CAN_VIEW_MANY = _method(
    "case.can_view_many", CanViewMany, AllAllowed, "May the actor see every one of these"
)
CASE_LIST = _method("case.list", ListCases, CasePage, "A page of a work list (待办 or 已办)")
CASE_LIST_IDS = _method(
    "case.list_ids", ListedCases, CaseIds, "Every case id of a work list, in its order"
)
CASE_HOME = _method("case.home", None, HomeCounts, "Cases waiting at each of the actor's lists")
CASE_ACT = _method("case.act", Act, Moved, "One action on one case (409 if it moved meanwhile)")
CASE_BATCH = _method("case.batch", BatchAct, BatchResult, "One action on a selection of cases")

CASE_READERS = _method(
    "audit.case_readers",
    CaseReadersRef,
    CaseReaders,
    "Who read or printed a case's materials, for its applicant (audit trail)",
)

EXPERT_LIST = _method(
    "expert.list", ListExperts, ExpertPage, "A page of the expert library (committee, sysadmin)"
)
EXPERT_GET = _method("expert.get", ExpertRef, ExpertView, "One entry of the expert library")
EXPERT_CREATE = _method(
    "expert.create", CreateExpert, ExpertSaved, "Add an expert to a committee's library"
)
EXPERT_UPDATE = _method("expert.update", UpdateExpert, ExpertSaved, "Change an entry's details")
EXPERT_REMOVE = _method(
    "expert.remove", RemoveExpert, ExpertSaved, "出库: take an expert out, with the reason"
)
EXPERT_IMPORT = _method(
    "expert.import",
    ImportExperts,
    ExpertImportReport,
    "Import experts from an Excel file: the valid rows in one transaction, a report per row",
    takes_file=True,
)
EXPERT_IMPORT_TEMPLATE = _method(
    "expert.import_template",
    None,
    ExpertImportTemplate,
    "The import file's template (.xlsx)",
    returns_file=True,
)

PERSONAL_UNMASK = unmask_method(SERVICE)

EXPORT_COUNT, EXPORT_BUILD = owner_methods(SERVICE)

API = ServiceApi(
    SERVICE,
    (
        PERSONAL_UNMASK,
        EXPORT_COUNT,
        EXPORT_BUILD,
        REF_ALL,
        REF_SAVE_ROUND,
        REF_SAVE_REVIEW_TYPE,
        REF_SAVE_COMMITTEE,
        REF_SAVE_DEPARTMENT,
        REF_SAVE_SERIES,
        REF_SAVE_QUALIFICATION,
        CASE_OPEN,
        CASE_SAVE_SECTION,
        CASE_CHECK_UPLOAD,
        CASE_ATTACH,
        CASE_REMOVE_ATTACHMENT,
        CASE_MINE,
        CASE_GET,
        CASE_GET_MANY,
        CASE_CAN_VIEW,
        CASE_APPLICANT_CASE_COUNT,
        CASE_CAN_VIEW_MANY,
        CASE_LIST,
        CASE_LIST_IDS,
        CASE_HOME,
        CASE_ACT,
        CASE_BATCH,
        CASE_READERS,
        *CERTIFICATE_METHODS,
        *INTEGRITY_METHODS,
        EXPERT_LIST,
        EXPERT_GET,
        EXPERT_CREATE,
        EXPERT_UPDATE,
        EXPERT_REMOVE,
        EXPERT_IMPORT,
        EXPERT_IMPORT_TEMPLATE,
        *MEETING_METHODS,
        *HOLIDAY_METHODS,
        *STATISTICS_METHODS,
    ),
)
# Every service answers it; cases finds cases by their number too (handlers/audit_trail.py).
AUDIT_SEARCH = API["audit.search"]

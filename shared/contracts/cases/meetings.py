"""Review meetings (评审会议): the committee's secretary (its account) or the sysadmin plans a
meeting, assigns cases, draws the experts, takes attendance and opens the vote; the experts
vote; closing the vote moves every case by the two-thirds rule (docs/committee.md). The
vocabulary, the RPC methods with their models, and the events. Pure: no I/O.

The rules themselves are the cases service's (services/cases/domain/committee.py,
meetings.py); these names cross the boundary so the pages and the API say what it means.
"""

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from shared.contracts.base import SEALED_PATTERN, Event, Method, Payload, Reply

SERVICE = "cases"
MAX_MEETING_CASES = 500  # cases before one meeting (bench/committee.py decides 500 at once)


class MeetingPhase(StrEnum):
    label: str

    def __new__(cls, value: str, label: str) -> "MeetingPhase":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    PLANNED = "planned", "筹备中"  # cases being assigned; no experts yet
    DRAWN = "drawn", "已抽取专家"  # members known; declines replaced by reserves
    VOTING = "voting", "表决中"  # attendance taken, the vote open
    CLOSED = "closed", "已结束"  # the vote closed, every case moved by its result
    CANCELLED = "cancelled", "已取消"  # before voting: its cases free for another meeting


ChoiceKey = Literal["agree", "disagree", "abstain"]
CHOICE_LABELS: dict[str, str] = {"agree": "同意", "disagree": "不同意", "abstain": "弃权"}
BASIS_LABELS: dict[str, str] = {"series": "按系列", "speciality": "按专业"}
# Why an expert does not vote on a case (services/cases/domain/committee.py Recusal).
RECUSAL_LABELS: dict[str, str] = {
    "same_unit": "与申报人同一工作单位",
    "declared": "申报利害关系回避",
    "not_qualified": "职称系列或级别不符",
}
# The meeting's documents, printed from its page (services/documents).
MeetingDocumentKind = Literal["meeting_result", "meeting_members"]
MEETING_DOCUMENTS: dict[str, str] = {
    "meeting_result": "评审会议表决结果",
    "meeting_members": "评审专家抽取名单",
}

# --- the committees' meeting rules (the sysadmin's) ---


class CommitteeRules(Reply):
    committee_id: str
    committee_name: str
    level: str  # the highest level it reviews: the size rule's level
    basis: str  # series or speciality (BASIS_LABELS)
    default_minimum: int  # of the settings, for this level and basis
    min_members: int | None  # the committee's own minimum (provincial approval), if any
    max_members: int | None
    minimum: int  # what a meeting must reach: odd, the committee's own or the default
    maximum: int | None
    outside_results: bool  # records results reached outside the system (评审通过 buttons)


class CommitteeRulesList(Reply):
    items: list[CommitteeRules]


class SaveCommitteeRules(BaseModel):
    committee_id: str
    basis: Literal["series", "speciality"] = "series"
    min_members: int | None = Field(None, ge=1, le=199)
    max_members: int | None = Field(None, ge=1, le=199)
    outside_results: bool = False


# --- planning a meeting ---


class MeetingFields(BaseModel):
    """What the secretary types: the date (YYYY-MM-DD), the time (HH:MM), the place and the
    number of members; the service checks each and answers a message per field."""

    round_id: str = ""
    meets_on: str = ""
    starts_at: str = ""
    place: str = ""
    size: str = ""  # as typed: an odd number within the committee's bounds


class CreateMeeting(MeetingFields):
    committee_id: str = ""  # the sysadmin names it; a committee plans its own


class MeetingRef(BaseModel):
    meeting_id: uuid.UUID


class ListMeetings(BaseModel):
    committee_id: str = ""  # the sysadmin's filter
    phase: Literal["", "planned", "drawn", "voting", "closed", "cancelled"] = ""
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=200)


class AssignCases(BaseModel):
    """The cases to put before the meeting; `everything`: all of the committee's cases waiting
    in committee_review and in no open meeting."""

    meeting_id: uuid.UUID
    case_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_MEETING_CASES)
    everything: bool = False


class UnassignCases(BaseModel):
    meeting_id: uuid.UUID
    case_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_MEETING_CASES)


class Decline(BaseModel):
    """A member who cannot come, told before the meeting opens: the next reserve sits."""

    meeting_id: uuid.UUID
    expert_id: uuid.UUID
    reason: str = ""


class RecordConflict(BaseModel):
    """A conflict of interest with one applicant (回避): the secretary names the expert; an
    expert declares their own (expert_id left out)."""

    meeting_id: uuid.UUID
    case_id: uuid.UUID
    expert_id: uuid.UUID | None = None
    reason: str = ""


class OpenVoting(BaseModel):
    """Attendance: the members present (the others are absent for the whole meeting)."""

    meeting_id: uuid.UUID
    present: list[uuid.UUID] = Field(default_factory=list, max_length=200)


class CancelMeeting(BaseModel):
    meeting_id: uuid.UUID
    reason: str = ""


class CastVote(BaseModel):
    """One vote, by the expert signed in, on one case; it cannot be changed once cast."""

    meeting_id: uuid.UUID
    case_id: uuid.UUID
    choice: ChoiceKey


# --- what the meeting pages show ---


class MeetingRow(Reply):
    id: str
    committee_id: str
    committee_name: str
    round_id: str
    round_name: str
    meets_on: str
    starts_at: str
    place: str
    size: int
    phase: str  # MeetingPhase
    phase_label: str
    cases: int
    created_at: str


class MyMeeting(MeetingRow):
    """A meeting as an expert drawn for it sees it in their list."""

    seated: bool
    declined: bool
    present: bool | None
    remaining: int | None  # votes still to cast while voting is open


class MeetingPage(Reply):
    total: int
    page: int
    page_size: int
    items: list[MyMeeting | MeetingRow]  # an expert's own meetings are MyMeeting


class Tally(Reply):
    present: int
    eligible: int  # present and not recused: the pass rule's denominator
    agree: int
    disagree: int
    abstain: int
    passed: bool


class MeetingCase(Reply):
    case_id: str
    case_no: str
    name: str
    unit_name: str
    qualification: str
    level: str
    review_type: str
    state: str  # the case's
    status: str
    eligible: int | None  # how many present members vote on it (once voting opened)
    voted: int | None  # how many of them have: progress, never how
    tally: Tally | None  # once the vote closed


class MeetingMember(Reply):
    expert_id: str
    name: str
    unit_name: str
    series_name: str
    speciality: str
    title_level: str
    mobile: str  # masked: 139****1234
    drawn_rank: int  # from 1, in drawn order
    drawn_as: Literal["member", "reserve"]
    seated: bool  # sits the meeting (a member, or a reserve who replaced one)
    declined: bool
    decline_reason: str | None
    replaces: str | None  # the name of the member a seated reserve replaced
    present: bool | None  # once attendance is taken
    owed: int | None  # votes still owed while voting is open


class Exclusion(Reply):
    """An expert who does not vote on a case, and why (RECUSAL_LABELS)."""

    case_id: str
    case_name: str
    expert_id: str
    expert_name: str
    reason: str
    reason_label: str


class Conflict(Reply):
    case_id: str
    case_name: str
    expert_id: str
    expert_name: str
    reason: str
    declared_by: str  # 评委会秘书, 系统管理员 or 评审专家 with the name


class DrawRecord(Reply):
    """Everything needed to recompute the draw (docs/committee.md)."""

    seed: str
    pool: list[str]  # the library entry ids, sorted: the order does not change the draw
    size: int
    reserve_ratio: int
    drawn_order: list[str]  # members first, then reserves
    drawn_at: str
    drawn_by: str


class MeetingView(MeetingRow):
    department_name: str
    level: str
    basis: str
    minimum: int
    maximum: int | None
    version: int
    cases_before: list[MeetingCase]
    members: list[MeetingMember]
    exclusions: list[Exclusion]  # live before the vote opens, as stored once it opened
    conflicts: list[Conflict]
    draw: DrawRecord | None
    present: int | None
    quorum: int | None  # the least present for the vote to open (members seated)
    votes_owed: int | None
    opened_at: str | None
    closed_at: str | None
    cancelled_at: str | None
    cancel_reason: str | None
    actions: list[str]  # what the caller may do now: assign, draw, decline, open, close, …


class Candidates(Reply):
    """The committee's cases waiting in committee_review and in no open meeting."""

    items: list[MeetingCase]
    total: int


class Assigned(Reply):
    assigned: int
    cases: int  # before the meeting now


class Drawn(Reply):
    members: int
    reserves: int
    pool: int


class Declined(Reply):
    replaced_by: str | None  # the reserve's name, or None when the reserves ran out


class VotingOpened(Reply):
    present: int
    members: int


class VotingClosedResult(Reply):
    cases: int
    passed: int
    failed: int


class MeetingSaved(Reply):
    meeting_id: str


class Done(Reply):
    done: bool


# --- the expert's side ---


class BallotCase(Reply):
    case_id: str
    case_no: str
    name: str
    unit_name: str
    qualification: str
    review_type: str
    excluded: str | None  # why the expert does not vote on it (RECUSAL_LABELS key)
    excluded_label: str | None
    conflict_declared: bool
    voted: bool
    may_vote: bool  # now: voting open, present, not excluded, not voted
    may_read: bool  # its materials: once the expert sits (present at the open) and not excluded


class Ballot(Reply):
    meeting: MyMeeting
    expert_id: str
    expert_name: str
    cases: list[BallotCase]


class VoteCast(Reply):
    voted: bool
    remaining: int


# --- documents: what the meeting's PDFs print (documents asks for it as the caller) ---


class RecordMember(Reply):
    name: str
    unit_name: str
    title_level: str
    speciality: str
    drawn_rank: int
    drawn_as: str
    seated: bool
    declined: bool
    decline_reason: str | None
    present: bool | None


class RecordCase(Reply):
    case_no: str
    name: str
    unit_name: str
    qualification: str
    exclusions: list[str]  # "张三（与申报人同一工作单位）"
    tally: Tally | None


class MeetingRecord(Reply):
    meeting_id: str
    committee_name: str
    department_name: str
    round_name: str
    meets_on: str
    starts_at: str
    place: str
    size: int
    phase: str
    seed: str | None
    pool_size: int
    drawn_at: str | None
    members: list[RecordMember]
    cases: list[RecordCase]
    closed_at: str | None


# --- events ---


class SeatedExpert(Payload):
    """An expert who sits a meeting: accounts opens their account (one per ID number, the
    user id the cases service keeps for it), notify tells them the date and place."""

    expert_id: str
    user_id: str
    name: str
    id_number: str = Field(pattern=SEALED_PATTERN)  # sealed for transit
    mobile: str = Field(pattern=SEALED_PATTERN)


class MeetingDrawn(Payload):
    meeting_id: str
    committee_id: str
    committee_name: str
    round_name: str
    meets_on: str  # YYYY-MM-DD
    starts_at: str  # HH:MM
    place: str
    size: int
    seed: str
    pool_size: int
    seated: list[SeatedExpert]  # the members, in drawn order
    reserves: list[str]  # library entry ids, in drawn order


class ExpertReplaced(Payload):
    """A member declined before the meeting; the next reserve sits (told as the members were)."""

    meeting_id: str
    committee_name: str
    meets_on: str
    starts_at: str
    place: str
    declined_expert_id: str
    seated: list[SeatedExpert]  # the reserve who now sits; empty when none was left


class MeetingOpened(Payload):
    meeting_id: str
    committee_id: str
    members: int
    present: int
    cases: int
    opened_at: str


class VotingClosed(Payload):
    meeting_id: str
    committee_id: str
    cases: int
    passed: int
    failed: int
    closed_at: str


class CaseDecided(Payload):
    """One case's result, with its tally (the counts only: the ballot is secret)."""

    meeting_id: str
    case_id: str
    case_no: str
    passed: bool
    present: int
    eligible: int
    agree: int
    disagree: int
    abstain: int
    decided_at: str


MEETING_DRAWN = Event(
    "meeting.drawn",
    MeetingDrawn,
    "cases",
    ("accounts", "notify"),
    "Experts drawn for a review meeting: accounts opens their accounts, notify tells them",
)
EXPERT_REPLACED = Event(
    "meeting.expert_replaced",
    ExpertReplaced,
    "cases",
    ("accounts", "notify"),
    "A member declined before the meeting and the next reserve sits",
)
MEETING_OPENED = Event(
    "meeting.opened",
    MeetingOpened,
    "cases",
    (),
    "Attendance taken with a quorum: the meeting's vote is open",
)
VOTING_CLOSED = Event(
    "meeting.voting_closed",
    VotingClosed,
    "cases",
    (),
    "A meeting's vote closed: every case moved by the two-thirds rule in one transaction",
)
CASE_DECIDED = Event(
    "meeting.case_decided",
    CaseDecided,
    "cases",
    (),
    "One case decided by a meeting's vote, with its tally",
)

EVENTS = (MEETING_DRAWN, EXPERT_REPLACED, MEETING_OPENED, VOTING_CLOSED, CASE_DECIDED)


# --- methods ---


def _method(name, params, result, summary) -> Method:
    return Method(SERVICE, name, params, result, summary)


COMMITTEE_RULES = _method(
    "committee.rules", None, CommitteeRulesList, "The committees' meeting rules (keepers)"
)
COMMITTEE_SAVE_RULES = _method(
    "committee.save_rules",
    SaveCommitteeRules,
    CommitteeRules,
    "Set a committee's basis, size bounds and outside-results flag (sysadmin)",
)
MEETING_LIST = _method(
    "meeting.list",
    ListMeetings,
    MeetingPage,
    "A page of meetings: the keeper's (committee, sysadmin); an expert's own",
)
MEETING_CREATE = _method("meeting.create", CreateMeeting, MeetingSaved, "Plan a review meeting")
MEETING_GET = _method("meeting.get", MeetingRef, MeetingView, "A meeting as its keeper sees it")
MEETING_CANDIDATES = _method(
    "meeting.candidates",
    MeetingRef,
    Candidates,
    "Cases the meeting may take: waiting in committee_review, in no open meeting",
)
MEETING_ASSIGN = _method("meeting.assign", AssignCases, Assigned, "Put cases before a meeting")
MEETING_UNASSIGN = _method(
    "meeting.unassign", UnassignCases, Assigned, "Take cases off a meeting before its draw"
)
MEETING_DRAW = _method(
    "meeting.draw", MeetingRef, Drawn, "Draw the members and reserves, seed stored with the pool"
)
MEETING_DECLINE = _method(
    "meeting.decline", Decline, Declined, "A member cannot come: the next reserve sits"
)
MEETING_CONFLICT = _method(
    "meeting.conflict",
    RecordConflict,
    Done,
    "Record (secretary) or declare (expert) a conflict with one applicant, before the vote",
)
MEETING_OPEN = _method(
    "meeting.open",
    OpenVoting,
    VotingOpened,
    "Take attendance and open the vote (only with 3 × present ≥ 2 × members)",
)
MEETING_CLOSE = _method(
    "meeting.close",
    MeetingRef,
    VotingClosedResult,
    "Close the vote once every vote is cast; every case moves by its result at once",
)
MEETING_CANCEL = _method(
    "meeting.cancel", CancelMeeting, Done, "Cancel a meeting before its vote opens"
)
MEETING_BALLOT = _method(
    "meeting.ballot", MeetingRef, Ballot, "An expert's ballot sheet: the cases and what is left"
)
MEETING_VOTE = _method(
    "meeting.vote", CastVote, VoteCast, "An expert's vote on one case (secret: counted only)"
)
MEETING_RECORD = _method(
    "meeting.record", MeetingRef, MeetingRecord, "What a meeting's PDFs print (its keeper)"
)

METHODS = (
    COMMITTEE_RULES,
    COMMITTEE_SAVE_RULES,
    MEETING_LIST,
    MEETING_CREATE,
    MEETING_GET,
    MEETING_CANDIDATES,
    MEETING_ASSIGN,
    MEETING_UNASSIGN,
    MEETING_DRAW,
    MEETING_DECLINE,
    MEETING_CONFLICT,
    MEETING_OPEN,
    MEETING_CLOSE,
    MEETING_CANCEL,
    MEETING_BALLOT,
    MEETING_VOTE,
    MEETING_RECORD,
)

"""Review meetings' JSON API (评审会议): the committee's account (its secretary) and the sysadmin
plan, draw, open and close meetings; the experts read their ballot and vote. The cases
service decides who may do what; these views parse, call and answer."""

import uuid
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from gateway.api import spec
from gateway.api_identity import body_of
from gateway.auth import login_required
from gateway.http import file_response, json_response
from gateway.web import call
from shared.contracts.cases import meetings as contract
from shared.contracts.cases.meetings import (
    MAX_MEETING_CASES,
    ChoiceKey,
    CreateMeeting,
    ListMeetings,
)
from shared.contracts.documents import rpc as documents_rpc

KEEPERS = ("committee", "sysadmin")
LIST_QUERY = tuple(ListMeetings.model_fields)
PDF_TIMEOUT = 60.0
CLOSE_TIMEOUT = 30.0


class RulesUpdate(BaseModel):
    """A committee's meeting rules: its basis, its own size bounds (empty: the defaults) and
    whether it records results reached outside the system."""

    basis: Literal["series", "speciality"] = "series"
    min_members: int | None = Field(None, ge=1, le=199)
    max_members: int | None = Field(None, ge=1, le=199)
    outside_results: bool = False


class CaseSelection(BaseModel):
    case_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_MEETING_CASES)
    everything: bool = False  # every case waiting for the committee in the meeting's round


class CaseRemoval(BaseModel):
    case_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_MEETING_CASES)


class DeclineBody(BaseModel):
    expert_id: uuid.UUID
    reason: str = ""


class ConflictBody(BaseModel):
    """The secretary names the expert; an expert declares their own (expert_id left out)."""

    case_id: uuid.UUID
    expert_id: uuid.UUID | None = None
    reason: str = ""


class Attendance(BaseModel):
    present: list[uuid.UUID] = Field(default_factory=list, max_length=200)


class Cancellation(BaseModel):
    reason: str = ""


class Vote(BaseModel):
    """One vote on one case; once cast it cannot be changed (ask the person first)."""

    case_id: uuid.UUID
    choice: ChoiceKey


def meeting_id(request: web.Request) -> str:
    return request.match_info["meeting_id"]


async def _with_meeting(request: web.Request, method, model=None, timeout=None):
    params = {"meeting_id": meeting_id(request)}
    if model is not None:
        params |= (await body_of(request, model)).model_dump(mode="json")
    return await call(request, method, params, timeout=timeout)


# --- the committees' rules ---


@spec.operation(
    "get",
    "/api/committee-rules",
    "Each committee's meeting rules: basis, size bounds, outside results",
    "meetings",
    response=contract.CommitteeRulesList,
    errors=(401, 403),
)
@login_required(*KEEPERS)
async def list_rules(request: web.Request) -> web.Response:
    return json_response(await call(request, contract.COMMITTEE_RULES))


@spec.operation(
    "put",
    "/api/committee-rules/{committee_id}",
    "Set a committee's meeting rules (sysadmin)",
    "meetings",
    body=RulesUpdate,
    response=contract.CommitteeRules,
    errors=(401, 403, 404, 422),
)
@login_required("sysadmin")
async def save_rules(request: web.Request) -> web.Response:
    body = await body_of(request, RulesUpdate)
    params = {"committee_id": request.match_info["committee_id"], **body.model_dump()}
    return json_response(await call(request, contract.COMMITTEE_SAVE_RULES, params))


# --- meetings ---


@spec.operation(
    "get",
    "/api/meetings",
    "Meetings: a committee's (the sysadmin: any, or filtered); an expert's own",
    "meetings",
    response=contract.MeetingPage,
    query=LIST_QUERY,
    errors=(401, 403, 422),
)
@login_required(*KEEPERS, "expert")
async def list_meetings(request: web.Request) -> web.Response:
    params = {k: request.query[k] for k in LIST_QUERY if request.query.get(k)}
    return json_response(await call(request, contract.MEETING_LIST, params))


@spec.operation(
    "post",
    "/api/meetings",
    "Plan a meeting: round, date, time, place, size (odd, within the committee's bounds)",
    "meetings",
    body=CreateMeeting,
    response=contract.MeetingSaved,
    errors=(401, 403, 422),
)
@login_required(*KEEPERS)
async def create_meeting(request: web.Request) -> web.Response:
    body = await body_of(request, CreateMeeting)
    saved = await call(request, contract.MEETING_CREATE, body.model_dump())
    return json_response(saved, status=201)


@spec.operation(
    "get",
    "/api/meetings/{meeting_id}",
    "A meeting: its cases and progress, members, exclusions, conflicts, the draw's record",
    "meetings",
    response=contract.MeetingView,
    errors=(401, 403, 404),
)
@login_required(*KEEPERS)
async def get_meeting(request: web.Request) -> web.Response:
    return json_response(await _with_meeting(request, contract.MEETING_GET))


@spec.operation(
    "get",
    "/api/meetings/{meeting_id}/candidates",
    "The committee's cases the meeting may take (committee_review, in no open meeting)",
    "meetings",
    response=contract.Candidates,
    errors=(401, 403, 404),
)
@login_required(*KEEPERS)
async def candidates(request: web.Request) -> web.Response:
    return json_response(await _with_meeting(request, contract.MEETING_CANDIDATES))


@spec.operation(
    "post",
    "/api/meetings/{meeting_id}/cases",
    "Put cases before the meeting (a selection, or everything waiting)",
    "meetings",
    body=CaseSelection,
    response=contract.Assigned,
    errors=(401, 403, 404, 409, 422),
)
@login_required(*KEEPERS)
async def assign(request: web.Request) -> web.Response:
    return json_response(await _with_meeting(request, contract.MEETING_ASSIGN, CaseSelection))


@spec.operation(
    "post",
    "/api/meetings/{meeting_id}/cases/removal",
    "Take cases off the meeting before its draw",
    "meetings",
    body=CaseRemoval,
    response=contract.Assigned,
    errors=(401, 403, 404, 409, 422),
)
@login_required(*KEEPERS)
async def unassign(request: web.Request) -> web.Response:
    return json_response(await _with_meeting(request, contract.MEETING_UNASSIGN, CaseRemoval))


@spec.operation(
    "post",
    "/api/meetings/{meeting_id}/draw",
    "Draw the members and reserves (the seed is stored with the pool)",
    "meetings",
    response=contract.Drawn,
    errors=(401, 403, 404, 409, 422),
)
@login_required(*KEEPERS)
async def draw(request: web.Request) -> web.Response:
    return json_response(await _with_meeting(request, contract.MEETING_DRAW))


@spec.operation(
    "post",
    "/api/meetings/{meeting_id}/declines",
    "A member cannot come: the next reserve in drawn order sits",
    "meetings",
    body=DeclineBody,
    response=contract.Declined,
    errors=(401, 403, 404, 409, 422),
)
@login_required(*KEEPERS)
async def decline(request: web.Request) -> web.Response:
    return json_response(await _with_meeting(request, contract.MEETING_DECLINE, DeclineBody))


@spec.operation(
    "post",
    "/api/meetings/{meeting_id}/conflicts",
    "A conflict with one applicant (回避): recorded by the secretary, or declared by the expert",
    "meetings",
    body=ConflictBody,
    response=contract.Done,
    errors=(401, 403, 404, 409, 422),
)
@login_required(*KEEPERS, "expert")
async def conflict(request: web.Request) -> web.Response:
    return json_response(await _with_meeting(request, contract.MEETING_CONFLICT, ConflictBody))


@spec.operation(
    "post",
    "/api/meetings/{meeting_id}/opening",
    "Attendance, and the vote opens (only when 3 × present ≥ 2 × members)",
    "meetings",
    body=Attendance,
    response=contract.VotingOpened,
    errors=(401, 403, 404, 409, 422),
)
@login_required(*KEEPERS)
async def open_voting(request: web.Request) -> web.Response:
    return json_response(await _with_meeting(request, contract.MEETING_OPEN, Attendance))


@spec.operation(
    "post",
    "/api/meetings/{meeting_id}/closing",
    "Close the vote (every vote cast): every case moves by the two-thirds rule at once",
    "meetings",
    response=contract.VotingClosedResult,
    errors=(401, 403, 404, 409),
)
@login_required(*KEEPERS)
async def close_voting(request: web.Request) -> web.Response:
    closed = await _with_meeting(request, contract.MEETING_CLOSE, timeout=CLOSE_TIMEOUT)
    return json_response(closed)


@spec.operation(
    "post",
    "/api/meetings/{meeting_id}/cancellation",
    "Cancel a meeting before its vote opens (its cases are free again)",
    "meetings",
    body=Cancellation,
    response=contract.Done,
    errors=(401, 403, 404, 409, 422),
)
@login_required(*KEEPERS)
async def cancel(request: web.Request) -> web.Response:
    return json_response(await _with_meeting(request, contract.MEETING_CANCEL, Cancellation))


@spec.operation(
    "get",
    "/api/meetings/{meeting_id}/ballot",
    "The signed-in expert's ballot: the cases, which they vote on, what is left",
    "meetings",
    response=contract.Ballot,
    errors=(401, 403, 404),
)
@login_required("expert")
async def ballot(request: web.Request) -> web.Response:
    return json_response(await _with_meeting(request, contract.MEETING_BALLOT))


@spec.operation(
    "post",
    "/api/meetings/{meeting_id}/votes",
    "The signed-in expert's vote on one case: 同意, 不同意 or 弃权 (secret: only counted)",
    "meetings",
    body=Vote,
    response=contract.VoteCast,
    errors=(401, 403, 404, 409, 422),
)
@login_required("expert")
async def vote(request: web.Request) -> web.Response:
    return json_response(await _with_meeting(request, contract.MEETING_VOTE, Vote))


@spec.operation(
    "get",
    "/api/meetings/{meeting_id}/documents/{kind}",
    "The meeting's 评审会议表决结果 (meeting_result) or 评审专家抽取名单 (meeting_members), PDF",
    "meetings",
    response={"type": "string", "format": "binary"},
    response_media=("application/pdf",),
    errors=(401, 403, 404, 409),
)
@login_required(*KEEPERS)
async def document(request: web.Request) -> web.Response:
    params = {"meeting_id": meeting_id(request), "kind": request.match_info["kind"]}
    pdf = await call(request, documents_rpc.MEETINGS_PDF, params, timeout=PDF_TIMEOUT)
    return file_response(pdf)


def setup_meetings_api(app: web.Application) -> None:
    add = app.router
    one = "/api/meetings/{meeting_id}"
    add.add_get("/api/committee-rules", list_rules, name="api_committee_rules")
    add.add_put("/api/committee-rules/{committee_id}", save_rules, name="api_committee_rule")
    add.add_get("/api/meetings", list_meetings, name="api_meetings")
    add.add_post("/api/meetings", create_meeting)
    add.add_get(one, get_meeting, name="api_meeting")
    add.add_get(f"{one}/candidates", candidates, name="api_meeting_candidates")
    add.add_post(f"{one}/cases", assign, name="api_meeting_cases")
    add.add_post(f"{one}/cases/removal", unassign, name="api_meeting_cases_removal")
    add.add_post(f"{one}/draw", draw, name="api_meeting_draw")
    add.add_post(f"{one}/declines", decline, name="api_meeting_declines")
    add.add_post(f"{one}/conflicts", conflict, name="api_meeting_conflicts")
    add.add_post(f"{one}/opening", open_voting, name="api_meeting_opening")
    add.add_post(f"{one}/closing", close_voting, name="api_meeting_closing")
    add.add_post(f"{one}/cancellation", cancel, name="api_meeting_cancellation")
    add.add_get(f"{one}/ballot", ballot, name="api_meeting_ballot")
    add.add_post(f"{one}/votes", vote, name="api_meeting_votes")
    add.add_get(f"{one}/documents/{{kind}}", document, name="api_meeting_document")

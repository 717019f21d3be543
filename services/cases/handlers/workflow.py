"""Moving cases: one action on one case, or the same action on a selection.

Every request goes the same way: parse it and check once who may take which action
(`Permit`); load the cases locked, only those the actor may see (the repository); let each
case act (the domain); save what moved with its history and events; answer. Each case is
checked inside the transaction (state, and version when the caller saw one): of two people
acting at once, one wins and the other gets a conflict, and the history shows one
transition. In a batch every case gets its own result; a case that moved meanwhile is a
conflict and the others still go through.

A refusal is a domain error until the edge, where one table (`ANSWERS`) gives its RPC code
and status; its message is the error's own.
"""

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.cases.certificates import issue_certificates
from services.cases.declarations import check_declaration, record_pledges
from services.cases.domain.calendar import (
    PACKAGE_CALENDAR,
    WorkingCalendar,
    YearNotKnown,
    local_date,
)
from services.cases.domain.deadlines import OutsideDeclarationWindow
from services.cases.domain.events import CaseTransitioned
from services.cases.domain.integrity import DeclarationBarred
from services.cases.domain.model import (
    ACTION_ROLES,
    Action,
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotAllowed,
    Role,
)
from services.cases.holidays import load_calendar
from services.cases.repository import (
    CaseFacts,
    LoadedCase,
    MovedCase,
    load_for_update,
    missing_materials,
    save,
)
from services.cases.sealed import in_transit
from shared.audit import Entry
from shared.contracts.cases.rpc import Act, BatchAct
from shared.contracts.cases.vocabulary import SELECTION_ACTIONS
from shared.db import transaction_begun_with
from shared.envelope import Envelope, new_event
from shared.outbox import SendAtCommit
from shared.rpc import Actor, CallContext, RpcError

log = logging.getLogger(__name__)


# --- the workflow's own refusals, beside the state machine's ---


class UnknownAction(InvalidInput):
    """An action name the workflow does not know; the message repeats it, the field not."""

    def __init__(self, name: str) -> None:
        super().__init__({"action": "未知的操作"})
        self.name = name
        self.message = f"未知的操作：{name}"
        self.args = (self.message,)


class RoleRefused(DomainError):
    """The actor may not take this action on any case: their role, or nobody logged in.

    `role` is None when the actor's role is none the workflow knows."""

    def __init__(self, action: Action, role: Role | None) -> None:
        self.action, self.role = action, role
        super().__init__(
            "您没有权限进行此操作" if role is None else f"您没有权限进行“{action.verb}”操作"
        )


class NotForSelection(InvalidInput):
    """An action that must be taken case by case, asked of a selection."""

    def __init__(self, action: Action) -> None:
        self.action = action
        super().__init__({"action": f"“{action.verb}”须逐件办理，不能批量办理"})


class CaseNotFound(DomainError):
    """No such case, or not one the actor may see: the same answer for both."""

    def __init__(self, case_id: uuid.UUID) -> None:
        self.case_id = case_id
        super().__init__("申报业务不存在或无权访问")


class StaleVersion(DomainError):
    """The case changed since the caller saw it."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected, self.actual = expected, actual
        super().__init__("该业务已被他人办理，请刷新后查看")


class MaterialsMissing(InvalidInput):
    """Submitting a case whose materials lack these parts."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__({"materials": "申报材料不完整，缺少：" + "；".join(missing)})


class ReviewedByMeeting(DomainError):
    """评审通过/不通过 by a committee whose results come from its meetings' votes."""

    def __init__(self) -> None:
        super().__init__("本评委会的评审结果由评审会议表决产生，请在评审会议中组织表决")


class InOpenMeeting(DomainError):
    """A decision recorded by hand on a case that is before a meeting."""

    def __init__(self) -> None:
        super().__init__("该申报已提交评审会议，评审结果由会议表决产生")


# --- the edge: a refusal's RPC code and status ---


@dataclass(frozen=True)
class Answer:
    code: str
    status: int


# The most specific class of the error that is listed here answers it (PublicityNotOver is an
# IllegalTransition; any other DomainError is "invalid"). Fields are InvalidInput's `errors`.
ANSWERS: Mapping[type[DomainError], Answer] = {
    # the request as a whole
    UnknownAction: Answer("invalid_input", 422),
    RoleRefused: Answer("forbidden", 403),
    NotForSelection: Answer("invalid_input", 422),
    # each case
    CaseNotFound: Answer("not_found", 404),
    StaleVersion: Answer("conflict", 409),
    MaterialsMissing: Answer("incomplete", 422),
    DeclarationBarred: Answer("discredited", 422),
    OutsideDeclarationWindow: Answer("outside_window", 422),
    YearNotKnown: Answer("calendar_unknown", 422),
    ReviewedByMeeting: Answer("forbidden", 403),
    InOpenMeeting: Answer("conflict", 409),
    IllegalTransition: Answer("conflict", 409),
    NotAllowed: Answer("forbidden", 403),
    InvalidInput: Answer("invalid_input", 422),
    DomainError: Answer("invalid", 422),
}


def rpc_error(error: DomainError) -> RpcError:
    answer = next(ANSWERS[kind] for kind in type(error).__mro__ if kind in ANSWERS)
    fields = error.errors if isinstance(error, InvalidInput) else None
    return RpcError(answer.code, error.message, answer.status, fields)


# --- who acts, checked once ---


@dataclass(frozen=True)
class Permit:
    """An actor whose role may take a known action: checked once per request."""

    actor: Actor
    role: Role
    action: Action
    client_ip: str = ""  # where the request came from: kept with a 诚信承诺 accepted

    @classmethod
    def check(cls, actor: Actor, action: Action | str) -> "Permit":
        """The permit, or UnknownAction for an action the workflow does not know, else
        RoleRefused."""
        try:
            action = Action(action)
        except ValueError:
            raise UnknownAction(action) from None
        try:
            role = Role(actor.role)
        except ValueError:
            raise RoleRefused(action, None) from None
        if role not in ACTION_ROLES[action] or actor.user_id is None:
            raise RoleRefused(action, role)
        return cls(actor, role, action)


@dataclass(frozen=True)
class Refused:
    """A case the action did not move, and why."""

    case_id: uuid.UUID
    error: DomainError
    name: str | None = None  # the applicant's, when the actor may see the case


MoveOutcome = MovedCase | Refused  # one case's, in a request


# --- the RPC methods ---


async def act(params: Act, ctx: CallContext) -> dict:
    try:
        permit = replace(Permit.check(ctx.actor, params.action), client_ip=params.client_ip)
    except DomainError as error:
        raise rpc_error(error) from None
    # Sent means compared, whatever the number (0 included): only an absent one is not.
    expected = {} if params.expected_version is None else {params.case_id: params.expected_version}
    [outcome] = await move_cases(ctx, permit, [params.case_id], params.inputs, expected)
    if isinstance(outcome, Refused):
        raise rpc_error(outcome.error)
    return _answer(outcome)


async def batch(params: BatchAct, ctx: CallContext) -> dict:
    try:
        permit = Permit.check(ctx.actor, params.action)  # who asks comes before what they ask
        if permit.action not in SELECTION_ACTIONS:
            raise NotForSelection(permit.action)
    except DomainError as error:
        raise rpc_error(error) from None
    case_ids = list(dict.fromkeys(params.case_ids))  # the same case twice is one request
    outcomes = await move_cases(ctx, permit, case_ids, params.inputs, {})
    done = sum(1 for o in outcomes if isinstance(o, MovedCase))
    log.info(
        "batch %s by %s %s: %d done, %d failed",
        permit.action.value,
        permit.role.value,
        permit.actor.user_id,
        done,
        len(outcomes) - done,
    )
    return {"done": done, "failed": len(outcomes) - done, "results": [_answer(o) for o in outcomes]}


def _answer(outcome: MoveOutcome) -> dict:
    """One case's result as the RPC answers it."""
    if isinstance(outcome, Refused):
        seen = {} if outcome.name is None else {"name": outcome.name}
        error = rpc_error(outcome.error).to_dict()
        return {"case_id": str(outcome.case_id), **seen, "ok": False, "error": error}
    case = outcome.loaded.case
    return {
        "case_id": case.id,
        "name": outcome.loaded.facts.applicant_name,
        "ok": True,
        "state": case.state.value,
        "status_label": case.status_label,
        "version": case.version,
    }


# --- load, act, save ---


# A move's statements look cases up by id, whatever the values: planned once per connection
# rather than for each move (PostgreSQL planned the load and SAVE_MOVES anew every time, its
# cost estimate for the arrays' values being lower than the generic plan's). Sent with the
# BEGIN, in the same round trip.
GENERIC_PLANS = "SET LOCAL plan_cache_mode = force_generic_plan"


async def move_cases(
    ctx: CallContext,
    permit: Permit,
    case_ids: list[uuid.UUID],
    inputs: dict,
    expected: Mapping[uuid.UUID, int],
) -> list[MoveOutcome]:
    now = ctx.deps.clock.now()
    relay = ctx.deps.relay
    at_commit = SendAtCommit() if relay else None  # the events on the wire at once
    async with ctx.pool.acquire() as conn, transaction_begun_with(conn, GENERIC_PLANS):
        outcomes = await move_as(conn, permit, now, case_ids, inputs, expected, at_commit)
    if relay:
        relay.send_committed(at_commit)
    return outcomes


async def move_as(
    conn,
    permit: Permit,
    now: datetime,
    case_ids: list[uuid.UUID],
    inputs: dict,
    expected: Mapping[uuid.UUID, int] | None = None,
    at_commit: SendAtCommit | None = None,
) -> list[MoveOutcome]:
    """Move these cases as the permit says at `now`, in the caller's transaction on `conn`.

    One outcome per case id, in order: moved, or refused with its reason. `expected` holds the
    version the caller saw of a case, if any; `at_commit` takes the events, for the caller to
    send once committed.
    """
    expected = expected or {}
    found = await load_for_update(conn, permit.actor, case_ids)
    counting = permit.action in COUNTS_WORKING_DAYS
    calendar = await load_calendar(conn) if counting else PACKAGE_CALENDAR
    outcomes = [
        await _move_one(conn, permit, case_id, found.get(case_id), inputs, now, expected, calendar)
        for case_id in case_ids
    ]
    moved = [o for o in outcomes if isinstance(o, MovedCase)]
    events = [_event(m.loaded.facts, m.event, permit.actor) for m in moved]
    notices = [_notice(m.loaded.facts, m.event) for m in moved if m.event.applicant_notice]
    refused = _audited_refusals(permit.action, outcomes)
    await save(conn, permit.actor, moved, now, [*events, *notices], refused, at_commit)
    await record_pledges(conn, moved, now, permit.client_ip)  # with each 填报上报
    await issue_certificates(conn, moved, now)  # a passed case's, with its confirmation
    return outcomes


# The moves that count working days (a publicity's end): they take the sysadmin's holidays.
COUNTS_WORKING_DAYS = frozenset({Action.START_PRE_PUBLICITY, Action.START_POST_PUBLICITY})

# Refusals that say something of the actor's reach (a case out of their sight or rights)
# go to the audit trail; a conflict or a wrong input is the day's ordinary business.
AUDITED_REFUSALS = ("not_found", "forbidden")


def _audited_refusals(action: Action, outcomes: list[MoveOutcome]) -> list[Entry]:
    entries = []
    for o in outcomes:
        code = rpc_error(o.error).code if isinstance(o, Refused) else None
        if code in AUDITED_REFUSALS:
            case_id = str(o.case_id)
            entries.append(Entry(f"case.{action.value}", "case", case_id).refusal(code))
    return entries


async def _move_one(
    conn,
    permit: Permit,
    case_id: uuid.UUID,
    loaded: LoadedCase | None,
    inputs: dict,
    now: datetime,
    expected: Mapping[uuid.UUID, int],
    calendar: WorkingCalendar = PACKAGE_CALENDAR,
) -> MoveOutcome:
    if loaded is None:
        return Refused(case_id, CaseNotFound(case_id))
    case = loaded.case
    try:
        if case_id in expected and expected[case_id] != case.version:
            raise StaleVersion(expected[case_id], case.version)
        if permit.action is Action.SUBMIT and loaded.rules.window is not None:
            # before the materials: past the closing day, nothing else is worth saying
            loaded.rules.window.require_open(local_date(now), Action.SUBMIT.verb)
        if permit.action is Action.SUBMIT and (missing := await missing_materials(conn, case_id)):
            raise MaterialsMissing(missing)
        if permit.action is Action.SUBMIT:
            await check_declaration(conn, case_id, inputs, now)  # 失信 records, 诚信承诺
        if permit.action in RECORDED_OUTSIDE:
            await _may_record_outside(conn, case_id)
        [event] = case.act(
            permit.action,
            permit.role,
            inputs,
            now,
            actor_id=str(permit.actor.user_id),
            rules=loaded.rules,
            calendar=calendar,
        )
    except DomainError as error:
        return Refused(case_id, error, loaded.facts.applicant_name)
    if permit.action in RECORDED_OUTSIDE:
        event = replace(event, inputs={**event.inputs, "recorded_outside": True})
    return MovedCase(loaded, event)


# A committee's result by these buttons is one reached outside the system: only a committee
# the sysadmin marked so records one, and never for a case before one of its meetings.
RECORDED_OUTSIDE = frozenset({Action.PASS_REVIEW, Action.FAIL_REVIEW})


async def _may_record_outside(conn, case_id: uuid.UUID) -> None:
    row = await conn.fetchrow(
        "SELECT coalesce(r.outside_results, false) AS outside,"
        " EXISTS (SELECT 1 FROM meeting_cases mc WHERE mc.case_id = c.id AND mc.open) AS before"
        " FROM cases c LEFT JOIN committee_meeting_rules r ON r.committee_id = c.committee_id"
        " WHERE c.id = $1",
        case_id,
    )
    if not row["outside"]:
        raise ReviewedByMeeting()
    if row["before"]:
        raise InOpenMeeting()


# --- what other services are told ---


def events_of(moved: Sequence[MovedCase], actor: Actor) -> list[Envelope]:
    """The events of these moves: each transition, and the notices to their applicants."""
    events = [_event(m.loaded.facts, m.event, actor) for m in moved]
    return events + [_notice(m.loaded.facts, m.event) for m in moved if m.event.applicant_notice]


def _event(facts: CaseFacts, e: CaseTransitioned, actor: Actor) -> Envelope:
    payload = {
        "case_id": e.case_id,
        "case_no": facts.case_no,
        "name": e.name,
        "action": e.action.value,
        "from_state": e.from_state.value,
        "to_state": e.to_state.value,
        "outcome": e.outcome.value if e.outcome else None,
        "status_label": e.status_label,
        "reason": e.reason,
        "at": e.at.isoformat(),
        "version": e.version,
        "actor_id": str(actor.user_id),
        "actor_role": e.actor_role.value,
        "unit_id": str(facts.unit_id),
        "applicant_id": str(facts.applicant_id),
        "applicant_name": facts.applicant_name,
        "applicant_mobile": in_transit(facts.applicant_mobile),
        "round_name": facts.round_name,
        "qualification_name": facts.qualification_name,
        "applicant_notice": e.applicant_notice,
    }
    return new_event("case.transitioned", payload, "cases", correlation_id=None)


def _notice(facts: CaseFacts, e: CaseTransitioned) -> Envelope:
    """What the applicant is told of this move: only the moves that concern them have one,
    so notify consumes these few instead of every transition (a batch approval has none)."""
    payload = {
        "case_id": e.case_id,
        "case_no": facts.case_no,
        "action": e.action.value,
        "applicant_id": str(facts.applicant_id),
        "applicant_name": facts.applicant_name,
        "applicant_mobile": in_transit(facts.applicant_mobile),
        "round_name": facts.round_name,
        "qualification_name": facts.qualification_name,
        "notice": e.applicant_notice,
        "reason": e.reason,
        "at": e.at.isoformat(),
    }
    return new_event("case.applicant_notice", payload, "cases", correlation_id=None)

"""The meeting's vote (docs/committee.md): attendance and the quorum when it opens; one
secret vote per present, non-excluded expert and case; closing once every vote is cast, which
moves every case of the meeting by the pass rule in one transaction.

The ballot is secret by what is stored: a vote adds one to its case's count and marks that
this expert voted on this case (meeting_votes_cast, whose key refuses a second vote however
many arrive at once). Which way anybody voted is never written, logged or sent.
"""

import uuid

from services.cases.domain.committee import RuleBroken, VotesMissing
from services.cases.domain.meetings import (
    ballot_problem,
    check_opening,
    exclusions,
    owed_message,
    require_phase,
    results,
)
from services.cases.domain.model import Case
from services.cases.handlers.workflow import events_of
from services.cases.meeting_repository import (
    MEETING,
    applicant_of,
    declared_conflicts,
    expert_of,
    fetch_meeting,
    meeting_cases,
    meeting_members,
    not_found,
    phase_of,
    rule_error,
    seat_of,
)
from services.cases.meeting_trail import meeting_entry, tally
from services.cases.meeting_views import live_exclusions, meeting_row, owed_by_name
from services.cases.repository import MovedCase, load_for_update, save
from shared.audit import record
from shared.contracts.cases.meetings import (
    CASE_DECIDED,
    MEETING_OPENED,
    RECUSAL_LABELS,
    VOTING_CLOSED,
    CaseDecided,
    CastVote,
    ListMeetings,
    MeetingOpened,
    MeetingPhase,
    MeetingRef,
    OpenVoting,
    VotingClosed,
)
from shared.envelope import new_event
from shared.outbox import add_to_outbox
from shared.rpc import Actor, CallContext, RpcError

P = MeetingPhase


# --- opening: attendance and the quorum ---


async def open_voting(params: OpenVoting, ctx: CallContext) -> dict:
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        meeting = await fetch_meeting(conn, ctx.actor, params.meeting_id, lock=True)
        cases = await meeting_cases(conn, meeting["id"])
        seated = [m for m in await meeting_members(conn, meeting["id"]) if m["seated"]]
        present = {str(p) for p in params.present}
        declared = await declared_conflicts(conn, [c["case_id"] for c in cases])
        excluded = exclusions(
            [expert_of(m) for m in seated], [applicant_of(c) for c in cases], declared
        )
        try:
            require_phase(phase_of(meeting), P.DRAWN, act="开始表决")
            voting = check_opening(
                [str(m["expert_id"]) for m in seated],
                present,
                [str(c["case_id"]) for c in cases],
                [(c, e) for c, e, _ in excluded],
            )
        except RuleBroken as error:
            raise rule_error(error) from None
        await _store_opening(conn, meeting, present, excluded, voting, now, ctx.actor)
        opened = MeetingOpened(
            meeting_id=str(meeting["id"]),
            committee_id=meeting["committee_id"],
            members=len(seated),
            present=len(present),
            cases=len(cases),
            opened_at=now.isoformat(),
        )
        await add_to_outbox(conn, new_event(MEETING_OPENED.type, opened, "cases"))
        # attendance is taken as the vote opens: who was absent by library entry, no names
        absent = sorted(str(m["expert_id"]) for m in seated if str(m["expert_id"]) not in present)
        details = {
            "members": len(seated),
            "present": len(present),
            "absent": absent,
            "cases": len(cases),
            "exclusions": len(excluded),
        }
        await record(conn, ctx.actor, meeting_entry("open_voting", meeting, **details), at=now)
    return {"present": len(present), "members": len(seated)}


async def _store_opening(conn, meeting, present, excluded, voting, now, actor: Actor) -> None:
    meeting_id = meeting["id"]
    await conn.execute(
        "UPDATE meeting_members SET present = (expert_id::text = ANY($2::text[]))"
        " WHERE meeting_id = $1 AND seated",
        meeting_id,
        sorted(present),
    )
    await conn.executemany(
        "UPDATE meeting_members SET to_vote = $3 WHERE meeting_id = $1 AND expert_id = $2",
        [(meeting_id, uuid.UUID(e), _to_vote(voting, e)) for e in present],
    )
    await conn.executemany(
        "INSERT INTO meeting_exclusions (meeting_id, case_id, expert_id, reason)"
        " VALUES ($1, $2, $3, $4)",
        [(meeting_id, uuid.UUID(c), uuid.UUID(e), r.value) for c, e, r in excluded],
    )
    await conn.executemany(
        "UPDATE meeting_cases SET eligible = $3, present = $4"
        " WHERE meeting_id = $1 AND case_id = $2",
        [(meeting_id, uuid.UUID(c), len(voting.eligible(c)), len(present)) for c in voting.cases],
    )
    await conn.execute(
        "UPDATE meetings SET phase = 'voting', opened_at = $2, opened_by = $3,"
        " version = version + 1 WHERE id = $1",
        meeting_id,
        now,
        actor.name or actor.role,
    )


def _to_vote(voting, expert_id: str) -> int:
    return sum(1 for c in voting.cases if expert_id in voting.eligible(c))


# --- one vote ---

# One statement, so one round trip and no BEGIN/COMMIT: who votes and on what, read with the
# meeting's row FOR SHARE (closing takes it FOR UPDATE, so it waits for the votes in flight,
# and a vote that waited for a close sees the meeting closed); then, only when the rules of
# ballot_problem allow it (written again in SQL here, `allowed`; the two are checked against
# each other in tests/integration/test_meeting_vote_rule.py), the mark, the case's count and the
# member's progress. No mark (a second vote): nothing counted, `remaining` is null.
# $1 meeting, $2 the expert's user id, $3 case, $4 choice.
VOTE = (
    "WITH voter AS (SELECT m.phase, mm.expert_id, mm.present,"
    " EXISTS (SELECT 1 FROM meeting_cases mc WHERE mc.meeting_id = m.id AND mc.case_id = $3)"
    " AS in_meeting,"
    " (SELECT x.reason FROM meeting_exclusions x WHERE x.meeting_id = m.id"
    "  AND x.case_id = $3 AND x.expert_id = mm.expert_id) AS excluded"
    " FROM meetings m LEFT JOIN (meeting_members mm JOIN expert_accounts a"
    "  ON a.id_number_index = mm.id_number_index AND a.user_id = $2)"
    "  ON mm.meeting_id = m.id AND mm.seated"
    " WHERE m.id = $1 FOR SHARE OF m),"
    " allowed AS (SELECT expert_id FROM voter WHERE phase = 'voting' AND in_meeting"
    "  AND present AND excluded IS NULL AND expert_id IS NOT NULL),"
    " marked AS (INSERT INTO meeting_votes_cast (meeting_id, case_id, expert_id)"
    "  SELECT $1, $3, expert_id FROM allowed ON CONFLICT DO NOTHING RETURNING expert_id),"
    " counted AS (UPDATE meeting_cases SET agree = agree + ($4 = 'agree')::int,"
    "  disagree = disagree + ($4 = 'disagree')::int, abstain = abstain + ($4 = 'abstain')::int"
    "  WHERE meeting_id = $1 AND case_id = $3 AND EXISTS (SELECT 1 FROM marked) RETURNING 1),"
    " progressed AS (UPDATE meeting_members SET voted = voted + 1"
    "  WHERE meeting_id = $1 AND expert_id = (SELECT expert_id FROM marked)"
    "  AND EXISTS (SELECT 1 FROM counted) RETURNING to_vote - voted AS remaining)"
    " SELECT voter.*, (SELECT remaining FROM progressed) AS remaining FROM voter"
)


async def cast_vote(params: CastVote, ctx: CallContext) -> dict:
    if ctx.actor.role != "expert" or ctx.actor.user_id is None:
        raise RpcError("forbidden", "只有出席会议的评审专家可以投票", 403)
    voter = await ctx.pool.fetchrow(
        VOTE, params.meeting_id, ctx.actor.user_id, params.case_id, params.choice
    )
    if voter is None or voter["expert_id"] is None:
        raise not_found()
    problem = ballot_problem(
        P(voter["phase"]), voter["present"], voter["in_meeting"], voter["excluded"]
    )
    if problem is not None:
        raise rule_error(problem)
    if voter["remaining"] is None:
        raise RpcError("already_voted", "您已对该申报人投过票，不能再次投票", 409)
    return {"voted": True, "remaining": voter["remaining"]}


# --- closing: every case moves by its result, at once ---


async def close_voting(params: MeetingRef, ctx: CallContext) -> dict:
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        meeting = await fetch_meeting(conn, ctx.actor, params.meeting_id, lock=True)
        try:
            require_phase(phase_of(meeting), P.VOTING, act="结束表决")
            owed = await owed_by_name(conn, meeting["id"])
            if owed:
                raise VotesMissing(owed_message(owed))
            decided = await _results(conn, meeting["id"])
        except RuleBroken as error:
            raise rule_error(error) from None
        committee = _committee_actor(ctx.actor, meeting["committee_id"])
        moved = await _move(conn, committee, meeting, decided, now)
        await _store_closing(conn, meeting, decided, now, ctx.actor)
        await save(conn, committee, moved, now, [*events_of(moved, committee)])
        await add_to_outbox(conn, *_closing_events(meeting, moved, decided, now))
        # after the cases' rows, in the chain's head save() already holds: the tally per
        # case as the keeper's page shows it now; never who voted how (nobody knows)
        await record(conn, ctx.actor, _closed_entry(meeting, moved, decided), at=now)
    passed = sum(1 for r in decided if r.passed)
    return {"cases": len(decided), "passed": passed, "failed": len(decided) - passed}


async def _results(conn, meeting_id):
    rows = await conn.fetch(
        "SELECT case_id, agree, disagree, abstain, eligible, present FROM meeting_cases"
        " WHERE meeting_id = $1 ORDER BY position",
        meeting_id,
    )
    present = rows[0]["present"] if rows else 0
    counts = {str(r["case_id"]): (r["agree"], r["disagree"], r["abstain"]) for r in rows}
    return results(present, counts, {str(r["case_id"]): r["eligible"] for r in rows})


def _committee_actor(actor: Actor, committee_id: str) -> Actor:
    """The meeting decides as its committee, whoever closes it (the secretary, the sysadmin):
    the history names that person, the 已办 list is the committee's."""
    return actor.model_copy(update={"role": "committee", "org_id": committee_id, "unit_id": None})


async def _move(conn, committee: Actor, meeting, decided, now) -> list[MovedCase]:
    loaded = await load_for_update(conn, committee, [uuid.UUID(r.case_id) for r in decided])
    label = f"{meeting['meets_on'].isoformat()} {meeting['committee_name']}评审会议"
    moved = []
    for result in decided:
        case = loaded.get(uuid.UUID(result.case_id))
        if case is None:
            raise RpcError("conflict", "有申报已不在待评审状态，不能结束表决", 409)
        vote = {"meeting_id": str(meeting["id"]), "meeting": label, **result.record()}
        [event] = _decide(case.case, result.passed, vote, now, committee, case.rules)
        moved.append(MovedCase(case, event))
    return moved


def _decide(case: Case, passed: bool, vote: dict, now, actor: Actor, rules):
    try:
        return case.decide_by_vote(passed, vote, now, actor_id=str(actor.user_id), rules=rules)
    except Exception as error:  # a case no longer in committee_review: nothing moves
        raise RpcError("conflict", f"申报状态已变化，不能结束表决：{error}", 409) from None


async def _store_closing(conn, meeting, decided, now, actor: Actor) -> None:
    await conn.executemany(
        "UPDATE meeting_cases SET passed = $3, open = false WHERE meeting_id = $1 AND case_id = $2",
        [(meeting["id"], uuid.UUID(r.case_id), r.passed) for r in decided],
    )
    await conn.execute(
        "UPDATE meetings SET phase = 'closed', closed_at = $2, closed_by = $3,"
        " version = version + 1 WHERE id = $1",
        meeting["id"],
        now,
        actor.name or actor.role,
    )


def _closed_entry(meeting, moved: list[MovedCase], decided):
    numbers = {m.loaded.case.id: m.loaded.facts.case_no for m in moved}
    passed = sum(1 for r in decided if r.passed)
    return meeting_entry(
        "close_voting",
        meeting,
        [r.case_id for r in decided],
        cases=len(decided),
        passed=passed,
        failed=len(decided) - passed,
        tally=tally(decided, numbers),
    )


def _closing_events(meeting, moved: list[MovedCase], decided, now) -> list:
    numbers = {m.loaded.case.id: m.loaded.facts.case_no for m in moved}
    passed = sum(1 for r in decided if r.passed)
    closed = VotingClosed(
        meeting_id=str(meeting["id"]),
        committee_id=meeting["committee_id"],
        cases=len(decided),
        passed=passed,
        failed=len(decided) - passed,
        closed_at=now.isoformat(),
    )
    return [new_event(VOTING_CLOSED.type, closed, "cases")] + [
        new_event(CASE_DECIDED.type, _decided(meeting, r, numbers[r.case_id], now), "cases")
        for r in decided
    ]


def _decided(meeting, result, case_no: str, now) -> CaseDecided:
    return CaseDecided(
        meeting_id=str(meeting["id"]),
        case_id=result.case_id,
        case_no=case_no,
        passed=result.passed,
        present=result.present,
        eligible=result.eligible,
        agree=result.agree,
        disagree=result.disagree,
        abstain=result.abstain,
        decided_at=now.isoformat(),
    )


# --- the expert's own pages ---


async def my_meetings(params: ListMeetings, ctx: CallContext) -> dict:
    rows = await ctx.pool.fetch(
        f"SELECT * FROM ({MEETING}) m JOIN LATERAL (SELECT mm.expert_id, mm.seated,"
        " mm.declined_at IS NOT NULL AS declined, mm.present, mm.to_vote - mm.voted AS left"
        " FROM meeting_members mm"
        " JOIN expert_accounts a ON a.id_number_index = mm.id_number_index"
        " WHERE mm.meeting_id = m.id AND a.user_id = $1"
        " AND (mm.seated OR mm.declined_at IS NOT NULL)) me ON true"
        " ORDER BY m.meets_on DESC LIMIT 100",
        ctx.actor.user_id,
    )
    items = [_mine(r, r["left"] if r["phase"] == P.VOTING and r["present"] else None) for r in rows]
    return {"total": len(items), "page": 1, "page_size": 100, "items": items}


def _mine(row, remaining) -> dict:
    return {
        **meeting_row(row),
        "seated": row["seated"],
        "declined": row["declined"],
        "present": row["present"],
        "remaining": remaining,
    }


async def ballot(params: MeetingRef, ctx: CallContext) -> dict:
    async with ctx.pool.acquire() as conn:
        seat = await seat_of(conn, ctx.actor, params.meeting_id)
        if seat is None:
            raise not_found()
        meeting = await conn.fetchrow(MEETING + " WHERE m.id = $1", params.meeting_id)
        cases = await meeting_cases(conn, meeting["id"])
        excluded = await _my_exclusions(conn, meeting, cases, seat.expert_id)
        voted = {
            r["case_id"]
            for r in await conn.fetch(
                "SELECT case_id FROM meeting_votes_cast WHERE meeting_id = $1 AND expert_id = $2",
                meeting["id"],
                seat.expert_id,
            )
        }
        declared = {
            r["case_id"]
            for r in await conn.fetch(
                "SELECT case_id FROM expert_conflicts WHERE expert_id = $1", seat.expert_id
            )
        }
    phase = P(meeting["phase"])
    sitting = bool(seat.present) and phase in (P.VOTING, P.CLOSED)
    return {
        "meeting": {
            **meeting_row(meeting),
            "seated": seat.seated,
            "declined": seat.declined,
            "present": seat.present,
            "remaining": seat.left if phase == P.VOTING and seat.present else None,
        },
        "expert_id": str(seat.expert_id),
        "expert_name": seat.name,
        "cases": [
            _ballot_case(c, excluded.get(c["case_id"]), voted, declared, sitting, phase)
            for c in cases
        ],
    }


async def _my_exclusions(conn, meeting, cases, expert_id) -> dict:
    if meeting["phase"] in (P.VOTING, P.CLOSED):
        rows = await conn.fetch(
            "SELECT case_id, reason FROM meeting_exclusions WHERE meeting_id = $1"
            " AND expert_id = $2",
            meeting["id"],
            expert_id,
        )
        return {r["case_id"]: r["reason"] for r in rows}
    me = await conn.fetch(
        "SELECT * FROM meeting_members WHERE meeting_id = $1 AND expert_id = $2",
        meeting["id"],
        expert_id,
    )
    return {c: str(r) for c, e, r in await live_exclusions(conn, cases, me)}


def _ballot_case(row, excluded, voted: set, declared: set, sitting: bool, phase) -> dict:
    readable = sitting and excluded is None
    cast = row["case_id"] in voted
    return {
        "case_id": str(row["case_id"]),
        "case_no": row["case_no"],
        "name": row["applicant_name"],
        "unit_name": row["unit_name"],
        "qualification": row["qualification"],
        "review_type": row["review_type"],
        "excluded": excluded,
        "excluded_label": RECUSAL_LABELS[excluded] if excluded else None,
        "conflict_declared": row["case_id"] in declared,
        "voted": cast,
        "may_vote": readable and phase == P.VOTING and not cast,
        "may_read": readable,
    }

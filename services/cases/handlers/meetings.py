"""Planning review meetings (评审会议): the committee's secretary (its account) keeps its own
committee's meetings, the sysadmin every committee's; another committee's meeting is a 404.
A meeting is planned, given cases (those waiting in committee_review, each in at most one open
meeting), drawn (meeting_draw.py), opened and closed by vote (meeting_vote.py)."""

import uuid

import asyncpg

from services.cases.domain.committee import RuleBroken
from services.cases.domain.meetings import check_plan, require_phase
from services.cases.handlers.committee_rules import bounds_of_row, committee_rules_row
from services.cases.handlers.experts import invalid, keeper, library_for
from services.cases.handlers.meeting_vote import my_meetings
from services.cases.meeting_repository import (
    MEETING,
    fetch_meeting,
    phase_of,
    rule_error,
)
from services.cases.meeting_trail import meeting_entry
from services.cases.meeting_views import meeting_record, meeting_row, meeting_view
from shared.audit import record as audit
from shared.contracts.accounts.rpc import UNITS_NAMES
from shared.contracts.cases.meetings import (
    MAX_MEETING_CASES,
    AssignCases,
    CancelMeeting,
    CreateMeeting,
    ListMeetings,
    MeetingFields,
    MeetingPhase,
    MeetingRef,
    UnassignCases,
)
from shared.rpc import CallContext, RpcError

REASON_LENGTH = 200


# --- reading ---


async def list_meetings(params: ListMeetings, ctx: CallContext) -> dict:
    if ctx.actor.role == "expert":
        return await my_meetings(params, ctx)
    condition, args = meetings_query(params, ctx.actor)
    total = await ctx.pool.fetchval(f"SELECT count(*) FROM meetings m WHERE {condition}", *args)
    rows = await ctx.pool.fetch(
        f"{MEETING} WHERE {condition} ORDER BY {MEETINGS_ORDER}"
        f" LIMIT {params.page_size} OFFSET {(params.page - 1) * params.page_size}",
        *args,
    )
    return {
        "total": total,
        "page": params.page,
        "page_size": params.page_size,
        "items": [meeting_row(r) for r in rows],
    }


MEETINGS_ORDER = "m.meets_on DESC, m.created_at DESC"


def meetings_query(params: ListMeetings, actor) -> tuple[str, list]:
    """The keeper's meetings as the list filters them (and its export): a condition on `m`."""
    own = keeper(actor)
    where, args = ["true"], []
    for column, value in (
        ("m.committee_id", own or params.committee_id),
        ("m.phase", params.phase),
    ):
        if value:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    return " AND ".join(where), args


async def get_meeting(params: MeetingRef, ctx: CallContext) -> dict:
    async with ctx.pool.acquire() as conn:
        row = await fetch_meeting(conn, ctx.actor, params.meeting_id)
        return await meeting_view(conn, row, ctx.deps.settings)


async def record(params: MeetingRef, ctx: CallContext) -> dict:
    """What the meeting's PDFs print, for the documents service asking as the keeper."""
    async with ctx.pool.acquire() as conn:
        row = await fetch_meeting(conn, ctx.actor, params.meeting_id)
        return await meeting_record(conn, row)


CANDIDATES = (
    "SELECT c.id AS case_id, c.case_no, c.applicant_name, c.unit_id, c.state, c.status_label,"
    " q.name AS qualification, q.level, t.name AS review_type FROM cases c"
    " JOIN qualifications q ON q.id = c.qualification_id"
    " JOIN review_types t ON t.id = c.review_type_id"
    " WHERE c.committee_id = $1 AND c.round_id = $2 AND c.state = 'committee_review'"
    " AND NOT EXISTS (SELECT 1 FROM meeting_cases mc WHERE mc.case_id = c.id AND mc.open)"
)


async def candidates(params: MeetingRef, ctx: CallContext) -> dict:
    async with ctx.pool.acquire() as conn:
        meeting = await fetch_meeting(conn, ctx.actor, params.meeting_id)
        rows = await conn.fetch(
            CANDIDATES + " ORDER BY c.case_no LIMIT $3",
            meeting["committee_id"],
            meeting["round_id"],
            MAX_MEETING_CASES,
        )
    names = await unit_names(ctx, rows)
    items = [_candidate(r, names) for r in rows]
    return {"items": items, "total": len(items)}


def _candidate(row, names: dict[str, str]) -> dict:
    return {
        "case_id": str(row["case_id"]),
        "case_no": row["case_no"],
        "name": row["applicant_name"],
        "unit_name": names.get(str(row["unit_id"]), ""),
        "qualification": row["qualification"],
        "level": row["level"],
        "review_type": row["review_type"],
        "state": row["state"],
        "status": row["status_label"],
        "eligible": None,
        "voted": None,
        "tally": None,
    }


async def unit_names(ctx: CallContext, rows) -> dict[str, str]:
    """The applicants' units by name (accounts owns them): recusal compares them with the
    work unit an expert's entry names."""
    unit_ids = sorted({str(r["unit_id"]) for r in rows})
    if not unit_ids:
        return {}
    if ctx.deps.peers is None:
        raise RpcError("service_unavailable", "账户服务未连接，请稍后再试", 503)
    answer = await ctx.deps.peers.invoke(UNITS_NAMES, {"unit_ids": unit_ids}, ctx.actor)
    return answer["names"]


# --- planning ---


def typed(params: MeetingFields) -> dict[str, str]:
    return {name: getattr(params, name) for name in MeetingFields.model_fields}


async def create_meeting(params: CreateMeeting, ctx: CallContext) -> dict:
    committee_id = library_for(ctx.actor, params.committee_id)
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        try:
            rules = await committee_rules_row(conn, committee_id)
        except RpcError:
            raise invalid({"committee_id": "评委会不存在"}) from None
        rounds = [r["id"] for r in await conn.fetch("SELECT id FROM rounds")]
        plan, errors = check_plan(
            typed(params), bounds_of_row(rules, ctx.deps.settings), rounds, ctx.deps.clock.today()
        )
        if errors:
            raise invalid(errors)
        meeting_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO meetings (id, committee_id, round_id, meets_on, starts_at, place, size,"
            " created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            meeting_id,
            committee_id,
            plan.round_id,
            plan.meets_on,
            plan.starts_at,
            plan.place,
            plan.size,
            ctx.actor.name or ctx.actor.role,
            now,
        )
        created = await conn.fetchrow(MEETING + " WHERE m.id = $1", meeting_id)
        details = {"committee_id": committee_id, "round_id": plan.round_id, "size": plan.size}
        await audit(conn, ctx.actor, meeting_entry("create", created, **details), at=now)
    return {"meeting_id": str(meeting_id)}


async def assign(params: AssignCases, ctx: CallContext) -> dict:
    if not params.everything and not params.case_ids:
        raise invalid({"case_ids": "请勾选要提交评审会议的申报"})
    async with ctx.pool.acquire() as conn, conn.transaction():
        meeting = await fetch_meeting(conn, ctx.actor, params.meeting_id, lock=True)
        _in_phase(meeting, MeetingPhase.PLANNED, "分配申报")
        rows = await _assignable(conn, meeting, params)
        already = meeting["case_count"]
        if already + len(rows) > MAX_MEETING_CASES:
            message = f"一次评审会议最多评审 {MAX_MEETING_CASES} 件申报"
            raise RpcError("too_many", message, 422, {"case_ids": message})
        names = await unit_names(ctx, rows)
        try:
            await conn.executemany(
                "INSERT INTO meeting_cases (meeting_id, case_id, position, unit_name)"
                " VALUES ($1, $2, $3, $4)",
                [
                    (meeting["id"], r["case_id"], already + n, names.get(str(r["unit_id"]), ""))
                    for n, r in enumerate(rows, start=1)
                ],
            )
        except asyncpg.UniqueViolationError:
            raise RpcError("conflict", "有申报已分配到其他评审会议，请刷新后重试", 409) from None
        await _touch(conn, meeting["id"])
        assigned = [r["case_id"] for r in rows]
        entry = meeting_entry("assign", meeting, assigned, assigned=len(rows))
        await audit(conn, ctx.actor, entry, at=ctx.deps.clock.now())
    return {"assigned": len(rows), "cases": already + len(rows)}


async def _assignable(conn, meeting, params: AssignCases) -> list:
    """The cases asked for, locked against a decision recorded meanwhile; a case that is not
    waiting for this committee (or sits in another open meeting) refuses the whole request."""
    query, args = CANDIDATES, [meeting["committee_id"], meeting["round_id"]]
    if not params.everything:
        query += " AND c.id = ANY($3::uuid[])"
        args.append(list(dict.fromkeys(params.case_ids)))
    rows = await conn.fetch(query + " ORDER BY c.case_no FOR SHARE OF c", *args)
    if not params.everything and len(rows) < len(args[2]):
        missing = len(args[2]) - len(rows)
        message = f"有 {missing} 件申报不在待评委会评审状态，或已分配到其他评审会议"
        raise RpcError("conflict", message, 409, {"case_ids": message})
    if not rows:
        raise RpcError("conflict", "没有可分配的待评审申报", 409, {"case_ids": "没有可分配的申报"})
    return rows


async def unassign(params: UnassignCases, ctx: CallContext) -> dict:
    async with ctx.pool.acquire() as conn, conn.transaction():
        meeting = await fetch_meeting(conn, ctx.actor, params.meeting_id, lock=True)
        _in_phase(meeting, MeetingPhase.PLANNED, "移出申报")
        taken = await conn.fetch(
            "DELETE FROM meeting_cases WHERE meeting_id = $1 AND case_id = ANY($2::uuid[])"
            " RETURNING case_id",
            meeting["id"],
            params.case_ids,
        )
        left = await conn.fetchval(
            "SELECT count(*) FROM meeting_cases WHERE meeting_id = $1", meeting["id"]
        )
        await _touch(conn, meeting["id"])
        if taken:
            off = [r["case_id"] for r in taken]
            entry = meeting_entry("unassign", meeting, off, unassigned=len(off))
            await audit(conn, ctx.actor, entry, at=ctx.deps.clock.now())
    return {"assigned": 0, "cases": left}


async def cancel(params: CancelMeeting, ctx: CallContext) -> dict:
    reason = params.reason.strip()
    if not reason:
        raise invalid({"reason": "请填写取消原因"})
    if len(reason) > REASON_LENGTH:
        raise invalid({"reason": f"取消原因不能超过{REASON_LENGTH}个字"})
    async with ctx.pool.acquire() as conn, conn.transaction():
        meeting = await fetch_meeting(conn, ctx.actor, params.meeting_id, lock=True)
        _in_phase(meeting, (MeetingPhase.PLANNED, MeetingPhase.DRAWN), "取消")
        await conn.execute(
            "UPDATE meetings SET phase = 'cancelled', cancelled_at = $2, cancel_reason = $3,"
            " version = version + 1 WHERE id = $1",
            meeting["id"],
            ctx.deps.clock.now(),
            reason,
        )
        await conn.execute(
            "UPDATE meeting_cases SET open = false WHERE meeting_id = $1", meeting["id"]
        )
        # the reason stays with the meeting: the trail keeps no reasons (docs/audit.md)
        entry = meeting_entry("cancel", meeting, cases=meeting["case_count"])
        await audit(conn, ctx.actor, entry, at=ctx.deps.clock.now())
    return {"done": True}


def _in_phase(meeting, phases, act: str) -> None:
    allowed = phases if isinstance(phases, tuple) else (phases,)
    try:
        require_phase(phase_of(meeting), *allowed, act=act)
    except RuleBroken as error:
        raise rule_error(error) from None


async def _touch(conn, meeting_id) -> None:
    await conn.execute("UPDATE meetings SET version = version + 1 WHERE id = $1", meeting_id)

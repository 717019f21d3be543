"""Drawing a meeting's experts (docs/committee.md): the pool, the seed, the members and
reserves in drawn order, stored with the meeting; a member who declines before the vote
opens is replaced by the next reserve; conflicts declared or recorded per expert and case.

The drawn are told through the outbox (meeting.drawn, meeting.expert_replaced): accounts
opens an account for each (one per ID number, the user id kept here), notify texts them.
"""

import secrets
import uuid
from datetime import datetime

from services.cases.domain.committee import Draw, RuleBroken, draw
from services.cases.domain.meetings import (
    REASON_LENGTH,
    LibraryEntry,
    pool_of,
    require_phase,
)
from services.cases.handlers.experts import invalid, keeper
from services.cases.meeting_repository import (
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
from services.cases.meeting_trail import meeting_entry
from services.cases.sealed import (
    ACCOUNT_ID_NUMBER,
    EXPERT_ID_NUMBER,
    EXPERT_MOBILE,
    MEMBER_ID_NUMBER,
    MEMBER_MOBILE,
    in_transit,
    seal,
    unseal,
)
from shared.audit import record
from shared.contracts.cases.meetings import (
    EXPERT_REPLACED,
    MEETING_DRAWN,
    Decline,
    ExpertReplaced,
    MeetingDrawn,
    MeetingPhase,
    MeetingRef,
    RecordConflict,
    SeatedExpert,
)
from shared.envelope import new_event
from shared.outbox import add_to_outbox
from shared.rpc import Actor, CallContext

P = MeetingPhase
ENTRIES = (
    "SELECT id, unit_id, unit_name, series_id, title_level, joined_on, term_ends_on, removed_on"
    " FROM experts WHERE committee_id = $1 AND removed_on IS NULL"
)


def _checked(act):
    """RuleBroken as the RPC answers it."""
    try:
        return act()
    except RuleBroken as error:
        raise rule_error(error) from None


# --- the draw ---


async def draw_members(params: MeetingRef, ctx: CallContext) -> dict:
    now = ctx.deps.clock.now()
    ratio = ctx.deps.settings.committee_reserve_ratio
    async with ctx.pool.acquire() as conn, conn.transaction():
        meeting = await fetch_meeting(conn, ctx.actor, params.meeting_id, lock=True)
        _checked(lambda: require_phase(phase_of(meeting), P.PLANNED, act="抽取评审专家"))
        cases = await meeting_cases(conn, meeting["id"])
        declared = await declared_conflicts(conn, [c["case_id"] for c in cases])
        entries = [_entry(r) for r in await conn.fetch(ENTRIES, meeting["committee_id"])]
        applicants = [applicant_of(c) for c in cases]
        pool = _checked(lambda: pool_of(entries, applicants, declared, meeting["meets_on"]))
        result = _checked(lambda: draw(secrets.token_hex(16), pool, meeting["size"], ratio))
        await _store_draw(conn, meeting, result, ratio, ctx.actor, now)
        seated = await seated_experts(conn, meeting["id"], result.members)
        await add_to_outbox(
            conn, new_event(MEETING_DRAWN.type, _drawn(meeting, result, seated), "cases")
        )
        details = {
            "seed": result.seed,
            "size": meeting["size"],
            "pool": len(result.pool),
            "members": len(result.members),
            "reserves": len(result.reserves),
        }
        await record(conn, ctx.actor, meeting_entry("draw", meeting, **details), at=now)
    return {"members": len(result.members), "reserves": len(result.reserves), "pool": len(pool)}


def _entry(row) -> LibraryEntry:
    return LibraryEntry(
        expert_of(row, "id"), row["joined_on"], row["term_ends_on"], row["removed_on"]
    )


MEMBER_INSERT = (
    "INSERT INTO meeting_members (meeting_id, expert_id, drawn_rank, drawn_as, seated, name,"
    " id_number, mobile, id_number_index, unit_id, unit_name, series_id, speciality,"
    " title_level) SELECT $1, e.id, $3, $4, $5, e.name, $6, $7, e.id_number_index, e.unit_id,"
    " e.unit_name, e.series_id, e.speciality, e.title_level FROM experts e WHERE e.id = $2"
)


async def _member_row(conn, meeting_id, expert_id: uuid.UUID, rank: int, kind: str) -> tuple:
    """The entry's numbers sealed again for meeting_members: a token opens in its column only."""
    entry = await conn.fetchrow("SELECT id_number, mobile FROM experts WHERE id = $1", expert_id)
    id_number = seal(unseal(entry["id_number"], EXPERT_ID_NUMBER), MEMBER_ID_NUMBER)
    mobile = seal(unseal(entry["mobile"], EXPERT_MOBILE), MEMBER_MOBILE)
    return (meeting_id, expert_id, rank, kind, kind == "member", id_number, mobile)


async def _store_draw(conn, meeting, result: Draw, ratio: int, actor: Actor, now: datetime):
    drawn = [(e, "member") for e in result.members] + [(e, "reserve") for e in result.reserves]
    rows = [
        await _member_row(conn, meeting["id"], uuid.UUID(e), rank, kind)
        for rank, (e, kind) in enumerate(drawn, start=1)
    ]
    await conn.executemany(MEMBER_INSERT, rows)
    await conn.execute(
        "UPDATE meetings SET phase = 'drawn', seed = $2, pool = $3, reserve_ratio = $4,"
        " drawn_at = $5, drawn_by = $6, version = version + 1 WHERE id = $1",
        meeting["id"],
        result.seed,
        list(result.pool),
        ratio,
        now,
        actor.name or actor.role,
    )


async def seated_experts(conn, meeting_id, expert_ids) -> list[SeatedExpert]:
    """The experts told they sit, each with the id of their account: one per ID number,
    named here the first time and the same for every later meeting."""
    rows = await conn.fetch(
        "SELECT expert_id, name, id_number, mobile, id_number_index FROM meeting_members"
        " WHERE meeting_id = $1 AND expert_id = ANY($2::uuid[]) ORDER BY drawn_rank",
        meeting_id,
        [uuid.UUID(str(e)) for e in expert_ids],
    )
    numbers = {r["id_number_index"]: unseal(r["id_number"], MEMBER_ID_NUMBER) for r in rows}
    await conn.executemany(
        "INSERT INTO expert_accounts (id_number_index, id_number, user_id) VALUES ($1, $2, $3)"
        " ON CONFLICT (id_number_index) DO NOTHING",
        [(index, seal(n, ACCOUNT_ID_NUMBER), uuid.uuid4()) for index, n in numbers.items()],
    )
    accounts = dict(
        await conn.fetch(
            "SELECT id_number_index, user_id FROM expert_accounts"
            " WHERE id_number_index = ANY($1::text[])",
            list(numbers),
        )
    )
    return [
        SeatedExpert(
            expert_id=str(r["expert_id"]),
            user_id=str(accounts[r["id_number_index"]]),
            name=r["name"],
            id_number=in_transit(numbers[r["id_number_index"]]),
            mobile=in_transit(unseal(r["mobile"], MEMBER_MOBILE)),
        )
        for r in rows
    ]


def _drawn(meeting, result: Draw, seated: list[SeatedExpert]) -> MeetingDrawn:
    return MeetingDrawn(
        meeting_id=str(meeting["id"]),
        committee_id=meeting["committee_id"],
        committee_name=meeting["committee_name"],
        round_name=meeting["round_name"],
        meets_on=meeting["meets_on"].isoformat(),
        starts_at=meeting["starts_at"].strftime("%H:%M"),
        place=meeting["place"],
        size=meeting["size"],
        seed=result.seed,
        pool_size=len(result.pool),
        seated=seated,
        reserves=list(result.reserves),
    )


# --- a member who cannot come ---


async def decline(params: Decline, ctx: CallContext) -> dict:
    reason = _reason(params.reason, "请填写不能参会的原因")
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        meeting = await fetch_meeting(conn, ctx.actor, params.meeting_id, lock=True)
        _checked(lambda: require_phase(phase_of(meeting), P.DRAWN, act="登记专家请假"))
        members = await meeting_members(conn, meeting["id"])
        member = next((m for m in members if m["expert_id"] == params.expert_id), None)
        if member is None or not member["seated"]:
            raise invalid({"expert_id": "该专家不在本次会议的参会名单中"})
        now_seated = _seated_after(meeting, members, params.expert_id)
        newly = [e for e in now_seated if not _by_id(members, e)["seated"]]
        await conn.execute(
            "UPDATE meeting_members SET seated = false, declined_at = $3, decline_reason = $4"
            " WHERE meeting_id = $1 AND expert_id = $2",
            meeting["id"],
            params.expert_id,
            now,
            reason,
        )
        await conn.execute(
            "UPDATE meeting_members SET seated = true, replaces = $3"
            " WHERE meeting_id = $1 AND expert_id = ANY($2::uuid[])",
            meeting["id"],
            newly,
            params.expert_id,
        )
        seated = await seated_experts(conn, meeting["id"], newly)
        replaced = _replaced(meeting, params.expert_id, seated)
        await add_to_outbox(conn, new_event(EXPERT_REPLACED.type, replaced, "cases"))
        # experts by their library entry: no names; the reason stays with the meeting
        declined = str(params.expert_id)
        entry = meeting_entry("replace", meeting, declined=declined, seated=[str(e) for e in newly])
        await record(conn, ctx.actor, entry, at=now)
    return {"replaced_by": seated[0].name if seated else None}


def _by_id(members, expert_id):
    return next(m for m in members if m["expert_id"] == expert_id)


def _seated_after(meeting, members, declining: uuid.UUID) -> list[uuid.UUID]:
    """Who sits once this member declines: Draw.seated, the next reserve in drawn order."""
    order = sorted(members, key=lambda m: m["drawn_rank"])
    result = Draw(
        meeting["seed"],
        tuple(meeting["pool"]),
        meeting["size"],
        tuple(str(m["expert_id"]) for m in order if m["drawn_as"] == "member"),
        tuple(str(m["expert_id"]) for m in order if m["drawn_as"] == "reserve"),
    )
    declined = {str(m["expert_id"]) for m in members if m["declined_at"]} | {str(declining)}
    return [uuid.UUID(e) for e in result.seated(declined)]


def _replaced(meeting, declined: uuid.UUID, seated: list[SeatedExpert]) -> ExpertReplaced:
    return ExpertReplaced(
        meeting_id=str(meeting["id"]),
        committee_name=meeting["committee_name"],
        meets_on=meeting["meets_on"].isoformat(),
        starts_at=meeting["starts_at"].strftime("%H:%M"),
        place=meeting["place"],
        declined_expert_id=str(declined),
        seated=seated,
    )


# --- conflicts of interest (回避), before the vote ---


def _reason(raw: str, missing: str) -> str:
    reason = raw.strip()
    if not reason:
        raise invalid({"reason": missing})
    if len(reason) > REASON_LENGTH:
        raise invalid({"reason": f"原因不能超过{REASON_LENGTH}个字"})
    return reason


async def record_conflict(params: RecordConflict, ctx: CallContext) -> dict:
    reason = _reason(params.reason, "请填写回避原因（如亲属关系、其他利害关系）")
    async with ctx.pool.acquire() as conn, conn.transaction():
        if ctx.actor.role == "expert":
            expert_id, meeting, who = await _own_conflict(conn, ctx.actor, params)
        else:
            meeting = await fetch_meeting(conn, ctx.actor, params.meeting_id, lock=True)
            expert_id, who = await _secretary_conflict(conn, ctx.actor, meeting, params)
        _checked(lambda: require_phase(phase_of(meeting), P.PLANNED, P.DRAWN, act="登记回避"))
        if not await conn.fetchval(
            "SELECT 1 FROM meeting_cases WHERE meeting_id = $1 AND case_id = $2",
            meeting["id"],
            params.case_id,
        ):
            raise invalid({"case_id": "该申报人不在本次会议评审范围内"})
        await conn.execute(
            "INSERT INTO expert_conflicts (expert_id, case_id, reason, declared_by, declared_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (expert_id, case_id)"
            " DO UPDATE SET reason = $3, declared_by = $4, declared_at = $5",
            expert_id,
            params.case_id,
            reason,
            who,
            ctx.deps.clock.now(),
        )
        # which expert and which case; the reason stays in expert_conflicts
        entry = meeting_entry("conflict", meeting, [params.case_id], expert_id=str(expert_id))
        await record(conn, ctx.actor, entry, at=ctx.deps.clock.now())
    return {"done": True}


async def _own_conflict(conn, actor: Actor, params: RecordConflict):
    seat = await seat_of(conn, actor, params.meeting_id)
    if seat is None or not seat.seated:
        raise not_found()
    meeting = await conn.fetchrow(
        "SELECT m.id, m.phase, m.meets_on, c.name AS committee_name FROM meetings m"
        " JOIN committees c ON c.id = m.committee_id WHERE m.id = $1 FOR SHARE OF m",
        params.meeting_id,
    )
    return seat.expert_id, meeting, f"评审专家 {seat.name}"


async def _secretary_conflict(conn, actor: Actor, meeting, params: RecordConflict):
    if params.expert_id is None:
        raise invalid({"expert_id": "请选择回避的专家"})
    found = await conn.fetchval(
        "SELECT 1 FROM experts WHERE id = $1 AND committee_id = $2 AND removed_on IS NULL",
        params.expert_id,
        meeting["committee_id"],
    )
    if not found:
        raise invalid({"expert_id": "本评委会专家库中没有该专家"})
    who = "系统管理员" if keeper(actor) is None else "评委会秘书"
    return params.expert_id, f"{who} {actor.name}".strip()

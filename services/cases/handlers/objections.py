"""异议 during publicity: taken in by the unit or the department, raised by the public during
评后公示, found 成立 or 不成立 by whoever handles it. The case row is locked while an objection
is taken in or found, so the workflow (which loads the case's objections under the same lock)
never acts on a case whose objections are changing. Rules: services/cases/domain/objections.py.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.cases import objection_views
from services.cases.discredits import case_for_update
from services.cases.domain.calendar import local_date
from services.cases.domain.certificates import mask_name
from services.cases.domain.errors import DomainError
from services.cases.domain.objections import (
    Details,
    check_details,
    check_finding,
    handler_of,
    phase_for_public,
    phase_for_staff,
    phase_of,
    source_of,
)
from services.cases.handlers.integrity import rpc_error
from services.cases.repository import Note, objection_from_row, save_notes
from services.cases.scope import objection_visibility
from services.cases.sealed import OBJECTOR_CONTACT, in_transit, seal, unseal
from shared.contracts.cases.integrity import (
    OBJECTION_FOUND,
    OBJECTION_RECORDED,
    PUBLIC_ACTOR,
    PUBLIC_ACTOR_LABEL,
    CaseNote,
    ObjectionFound,
    ObjectionRecorded,
    ObjectionRef,
    ObjectionSource,
    PublicityCasesQuery,
    PublicityPhase,
    PublicListQuery,
    PublicObjection,
    RecordFinding,
    RecordObjection,
)
from shared.contracts.cases.vocabulary import CaseState
from shared.envelope import new_event
from shared.outbox import add_to_outbox
from shared.rpc import Actor, CallContext, RpcError
from shared.text import like_pattern

NOT_FOUND = "申报业务不存在或无权访问"
PUBLIC_PAGE_SIZE = 20
PHASE_STATES = {
    "pre": [CaseState.PRE_PUBLICITY.value],
    "post": [CaseState.POST_PUBLICITY.value, CaseState.DEPT_CONFIRM.value],
}


# --- taking one in ---


async def record(params: RecordObjection, ctx: CallContext) -> dict:
    try:
        source = source_of(ctx.actor.role)
    except DomainError as error:
        raise rpc_error(error) from None
    now = ctx.deps.clock.now()
    visible, args = objection_visibility(ctx.actor, 2)
    async with ctx.pool.acquire() as conn, conn.transaction():
        case = await case_for_update(conn, params.case_id, visible, args)
        if case is None:
            raise RpcError("not_found", NOT_FOUND, 404)
        try:
            phase = phase_for_staff(CaseState(case["state"]), case["status_label"])
            details = check_details(
                params.objector_name,
                params.objector_contact,
                params.content,
                contact_field="objector_contact",
            )
        except DomainError as error:
            raise rpc_error(error) from None
        party = str(case["unit_id"]) if source is ObjectionSource.UNIT else case["department_id"]
        taken = _Taken(case, phase, source, details, party, now)
        return await _take_in(conn, ctx.actor, taken)


async def submit_public(params: PublicObjection, ctx: CallContext) -> dict:
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn:
        # Counted outside the transaction: a refused objection still counts.
        await ctx.deps.rate_limits.hit(conn, "objection", params.client_ip or "?", now)
        async with conn.transaction():
            case = await case_for_update(conn, params.case_id, "true", [])
            if case is None:
                raise RpcError("not_found", "未找到该公示人员", 404)
            period = case["post_publicity"] or {}
            try:
                phase = phase_for_public(
                    CaseState(case["state"]),
                    _day(period.get("start")),
                    _day(period.get("end")),
                    local_date(now),
                )
                details = check_details(
                    params.objector_name, params.mobile, params.content, contact_field="mobile"
                )
            except DomainError as error:
                raise rpc_error(error) from None
            public = Actor(role=PUBLIC_ACTOR)
            taken = _Taken(case, phase, ObjectionSource.PUBLIC, details, case["department_id"], now)
            return await _take_in(conn, public, taken, client_ip=params.client_ip)


@dataclass(frozen=True)
class _Taken:
    """An objection about to be taken in: its case (locked), and what it is."""

    case: Any
    phase: PublicityPhase
    source: ObjectionSource
    details: Details
    party: str  # who handles it: the unit's id or the department's
    now: datetime


async def _take_in(conn, actor: Actor, taken: _Taken, client_ip: str | None = None) -> dict:
    case, details = taken.case, taken.details
    objection_id = uuid.uuid4()
    seq = await conn.fetchval(
        "SELECT coalesce(max(seq), 0) + 1 FROM objections WHERE case_id = $1", case["id"]
    )
    public = actor.role == PUBLIC_ACTOR
    await conn.execute(
        "INSERT INTO objections (id, case_id, seq, phase, source, objector_name,"
        " objector_contact, content, received_at, recorded_by, recorded_by_name,"
        " recorded_by_role, party_id, client_ip)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        objection_id,
        case["id"],
        seq,
        taken.phase.value,
        taken.source.value,
        details.objector_name,
        seal(details.objector_contact, OBJECTOR_CONTACT),
        details.content,
        taken.now,
        actor.user_id,
        PUBLIC_ACTOR_LABEL if public else actor.name,
        actor.role,
        taken.party,
        client_ip,
    )
    facts = {
        "objection_id": str(objection_id),
        "seq": seq,
        "phase": taken.phase.value,
        "source": taken.source.value,
    }
    note = _note(case, CaseNote.OBJECTION_RECORDED, taken.now, facts)
    await save_notes(conn, actor, [note])
    payload = ObjectionRecorded(
        objection_id=objection_id,
        case_id=case["id"],
        case_no=case["case_no"],
        seq=seq,
        phase=taken.phase.value,
        source=taken.source.value,
        handler=handler_of(taken.source),
        received_at=taken.now.isoformat(),
    )
    await add_to_outbox(conn, new_event(OBJECTION_RECORDED.type, payload, "cases"))
    return {
        "objection_id": str(objection_id),
        "case_id": str(case["id"]),
        "seq": seq,
        "received_at": taken.now.isoformat(),
    }


def _note(case, note: CaseNote, at: datetime, inputs: dict, reason: str | None = None) -> Note:
    return Note(
        case["id"],
        note,
        case["state"],
        case["status_label"],
        case["outcome"],
        at,
        inputs,
        reason,
    )


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


# --- its finding ---


async def find(params: RecordFinding, ctx: CallContext) -> dict:
    now = ctx.deps.clock.now()
    visible, args = objection_visibility(ctx.actor, 2)
    async with ctx.pool.acquire() as conn, conn.transaction():
        case_id = await conn.fetchval(
            "SELECT case_id FROM objections WHERE id = $1", params.objection_id
        )
        case = case_id and await case_for_update(conn, case_id, visible, args)
        if not case:
            raise RpcError("not_found", "异议不存在或无权访问", 404)
        row = await conn.fetchrow(
            f"SELECT {objection_views.COLUMNS}, o.objector_contact AS mobile"
            " FROM objections o WHERE o.id = $1 FOR UPDATE",
            params.objection_id,
        )
        objection = objection_from_row(row)
        try:
            finding = check_finding(objection, ctx.actor.role, params.finding, params.finding_text)
        except DomainError as error:
            raise rpc_error(error) from None
        await conn.execute(
            "UPDATE objections SET finding = $2, finding_text = $3, found_at = $4,"
            " found_by = $5, found_by_name = $6, found_by_role = $7 WHERE id = $1",
            params.objection_id,
            finding.value,
            params.finding_text.strip(),
            now,
            ctx.actor.user_id,
            ctx.actor.name,
            ctx.actor.role,
        )
        facts = {"objection_id": objection.id, "seq": objection.seq, "finding": finding.value}
        reason = f"第{objection.seq}号异议核实{finding.label}"
        await save_notes(
            conn, ctx.actor, [_note(case, CaseNote.OBJECTION_FOUND, now, facts, reason)]
        )
        public = objection.source is ObjectionSource.PUBLIC
        payload = ObjectionFound(
            objection_id=params.objection_id,
            case_id=case["id"],
            case_no=case["case_no"],
            seq=objection.seq,
            phase=objection.phase.value,
            source=objection.source.value,
            finding=finding.value,
            found_at=now.isoformat(),
            objector_mobile=in_transit(unseal(row["mobile"], OBJECTOR_CONTACT)) if public else None,
        )
        await add_to_outbox(conn, new_event(OBJECTION_FOUND.type, payload, "cases"))
    return {"objection_id": objection.id, "status": finding.value, "status_label": finding.label}


# --- reading ---


async def of_case(params: ObjectionRef, ctx: CallContext) -> dict:
    visible, args = objection_visibility(ctx.actor, 2)
    async with ctx.pool.acquire() as conn:
        case = await conn.fetchrow(
            f"SELECT {_CASE_COLUMNS} FROM cases c{_JOINS} WHERE c.id = $1 AND {visible}",
            params.case_id,
            *args,
        )
        if case is None:
            raise RpcError("not_found", NOT_FOUND, 404)
        rows = (await objection_views.objection_rows(conn, [case["id"]])).get(case["id"], [])
    phase = phase_of(CaseState(case["state"]))
    period = (case[f"{phase.value}_publicity"] or {}) if phase else {}
    may_record = phase is not None and ctx.actor.role in _TAKERS
    return {
        **_case_fields(case),
        "status_label": case["status_label"],
        "phase": phase.value if phase else None,
        "phase_label": phase.label if phase else None,
        "publicity_start": period.get("start"),
        "publicity_end": period.get("end"),
        "may_record": may_record,
        "objections": [objection_views.view(r, ctx.actor) for r in rows],
    }


_TAKERS = ("unit_admin", "unit_operator", "department")
_CASE_COLUMNS = (
    "c.id, c.case_no, c.applicant_name, c.unit_id, c.state, c.status_label, c.pre_publicity,"
    " c.post_publicity, q.name AS qualification_name, m.name AS committee_name,"
    " se.name AS series_name, d.name AS department_name"
)
_JOINS = (
    " JOIN qualifications q ON q.id = c.qualification_id"
    " JOIN series se ON se.id = q.series_id"
    " JOIN committees m ON m.id = c.committee_id"
    " JOIN departments d ON d.id = c.department_id"
)


def _case_fields(case) -> dict:
    return {
        "case_id": str(case["id"]),
        "case_no": case["case_no"],
        "name": case["applicant_name"],
        "unit_id": str(case["unit_id"]),
        "qualification": case["qualification_name"],
        "committee": case["committee_name"],
    }


async def publicity_cases(params: PublicityCasesQuery, ctx: CallContext) -> dict:
    """The caller's cases under publicity (unit, department), with their objections counted."""
    clause, args = publicity_query(params, ctx.actor)
    total = await ctx.pool.fetchval(f"SELECT count(*) FROM cases c WHERE {clause}", *args)
    rows = await ctx.pool.fetch(
        f"SELECT {PUBLICITY_COLUMNS} FROM cases c{_JOINS} WHERE {clause}"
        f" ORDER BY {PUBLICITY_ORDER} LIMIT {params.page_size}"
        f" OFFSET {(params.page - 1) * params.page_size}",
        *args,
    )
    return {
        "total": total,
        "page": params.page,
        "page_size": params.page_size,
        "items": [_publicity_row(r) for r in rows],
    }


PUBLICITY_COLUMNS = (
    f"{_CASE_COLUMNS},"
    " (SELECT count(*) FROM objections o WHERE o.case_id = c.id) AS objections,"
    " (SELECT count(*) FROM objections o WHERE o.case_id = c.id AND o.finding IS NULL)"
    " AS open_objections"
)
PUBLICITY_ORDER = "c.state, c.applicant_name, c.id"
PUBLICITY_JOINS = _JOINS


def publicity_query(params: PublicityCasesQuery, actor) -> tuple[str, list]:
    """The cases under publicity the actor takes objections on, as the list filters them."""
    visible, args = objection_visibility(actor, 1)
    states = PHASE_STATES.get(params.phase) or [*PHASE_STATES["pre"], *PHASE_STATES["post"]]
    args.append(states)
    where = [visible, f"c.state = ANY(${len(args)}::text[])"]
    if params.name.strip():
        args.append(like_pattern(params.name.strip()))
        where.append(f"c.applicant_name ILIKE ${len(args)}")
    return " AND ".join(where), args


def _publicity_row(row) -> dict:
    phase = phase_of(CaseState(row["state"])) or PublicityPhase.POST
    period = row[f"{phase.value}_publicity"] or {}
    return {
        **_case_fields(row),
        "phase": phase.value,
        "phase_label": phase.label,
        "status_label": row["status_label"],
        "publicity_start": period.get("start", ""),
        "publicity_end": period.get("end", ""),
        "objections": row["objections"],
        "open_objections": row["open_objections"],
    }


PUBLIC_WHERE = (
    "c.state = 'post_publicity' AND (c.post_publicity->>'start')::date <= $1"
    " AND (c.post_publicity->>'end')::date >= $1"
)


async def public_list(params: PublicListQuery, ctx: CallContext) -> dict:
    """Who is under 评后公示 today: anyone may read it, names masked."""
    args: list = [ctx.deps.clock.today()]
    where = PUBLIC_WHERE
    if params.name.strip():
        args.append(like_pattern(params.name.strip()))
        where += f" AND c.applicant_name ILIKE ${len(args)}"
    if params.case_id is not None:
        args.append(params.case_id)
        where += f" AND c.id = ${len(args)}"
    total = await ctx.pool.fetchval(f"SELECT count(*) FROM cases c WHERE {where}", *args)
    rows = await ctx.pool.fetch(
        f"SELECT {_CASE_COLUMNS} FROM cases c{_JOINS} WHERE {where}"
        " ORDER BY m.name, c.applicant_name, c.id"
        f" LIMIT {PUBLIC_PAGE_SIZE} OFFSET {(params.page - 1) * PUBLIC_PAGE_SIZE}",
        *args,
    )
    return {
        "total": total,
        "page": params.page,
        "page_size": PUBLIC_PAGE_SIZE,
        "items": [_public_person(r) for r in rows],
    }


def _public_person(row) -> dict:
    period = row["post_publicity"]
    return {
        "case_id": str(row["id"]),
        "name": mask_name(row["applicant_name"]),
        "unit_id": str(row["unit_id"]),
        "qualification": row["qualification_name"],
        "series": row["series_name"],
        "committee": row["committee_name"],
        "department": row["department_name"],
        "publicity_start": period["start"],
        "publicity_end": period["end"],
    }

"""The 诚信承诺 (reference data the sysadmin versions) and 失信 records: the department records
one against a case it sees and lists those it recorded, the sysadmin lists them all and ends
them. Every change leaves a note in the case history; the rules are the domain's
(services/cases/domain/integrity.py)."""

from services.cases import discredits
from services.cases.domain.calendar import local_date
from services.cases.domain.errors import DomainError, InvalidInput
from services.cases.domain.integrity import (
    DISCREDIT_ENDED_NOTICE,
    DeclarationBarred,
    check_end_reason,
    check_pledge_text,
    discredit_term,
)
from services.cases.domain.objections import AlreadyFound, NotUnderPublicity, ObjectionRefused
from services.cases.repository import Note, save_notes
from services.cases.scope import visibility
from services.cases.sealed import blind_id
from shared.contracts.cases.integrity import (
    DISCREDIT_ENDED,
    CaseNote,
    DiscreditEnded,
    EndDiscredit,
    ListDiscredits,
    PublishPledge,
    RecordDiscredit,
)
from shared.envelope import new_event
from shared.outbox import add_to_outbox
from shared.rpc import CallContext, RpcError
from shared.text import like_pattern

# A refusal's RPC code and status, by the most specific class listed (as workflow.ANSWERS).
ANSWERS: dict[type[DomainError], tuple[str, int]] = {
    InvalidInput: ("invalid_input", 422),
    DeclarationBarred: ("discredited", 422),
    NotUnderPublicity: ("conflict", 409),
    AlreadyFound: ("conflict", 409),
    ObjectionRefused: ("forbidden", 403),
    DomainError: ("invalid", 422),
}


def rpc_error(error: DomainError) -> RpcError:
    code, status = next(ANSWERS[k] for k in type(error).__mro__ if k in ANSWERS)
    fields = error.errors if isinstance(error, InvalidInput) else None
    return RpcError(code, error.message, status, fields)


def require(ctx: CallContext, *roles: str) -> None:
    if ctx.actor.user_id is None:
        raise RpcError("unauthorized", "请先登录", 401)
    if ctx.actor.role not in roles:
        raise RpcError("forbidden", "您没有权限进行此操作", 403)


# --- 诚信承诺 ---

PLEDGE_COLUMNS = "version, text, published_at, published_by"


def pledge_view(row) -> dict:
    return {
        "version": row["version"],
        "text": row["text"],
        "published_at": row["published_at"].isoformat(),
        "published_by": row["published_by"],
    }


async def current_pledge(conn):
    return await conn.fetchrow(
        f"SELECT {PLEDGE_COLUMNS} FROM pledge_versions ORDER BY version DESC LIMIT 1"
    )


async def pledge_current(_params, ctx: CallContext) -> dict:
    if ctx.actor.user_id is None:
        raise RpcError("unauthorized", "请先登录", 401)
    async with ctx.pool.acquire() as conn:
        row = await current_pledge(conn)
    if row is None:
        raise RpcError("not_found", "尚未发布诚信承诺书", 404)
    return pledge_view(row)


async def pledge_versions(_params, ctx: CallContext) -> dict:
    require(ctx, "sysadmin")
    rows = await ctx.pool.fetch(
        f"SELECT {PLEDGE_COLUMNS} FROM pledge_versions ORDER BY version DESC"
    )
    return {"versions": [pledge_view(r) for r in rows]}


async def pledge_publish(params: PublishPledge, ctx: CallContext) -> dict:
    require(ctx, "sysadmin")
    async with ctx.pool.acquire() as conn, conn.transaction():
        # One publisher at a time, so two at once cannot both take the next number.
        await conn.execute("LOCK TABLE pledge_versions IN SHARE ROW EXCLUSIVE MODE")
        current = await current_pledge(conn)
        try:
            text = check_pledge_text(params.pledge_text, current["text"] if current else None)
        except DomainError as error:
            raise rpc_error(error) from None
        row = await conn.fetchrow(
            "INSERT INTO pledge_versions (version, text, published_at, published_by)"
            f" VALUES ($1, $2, $3, $4) RETURNING {PLEDGE_COLUMNS}",
            (current["version"] if current else 0) + 1,
            text,
            ctx.deps.clock.now(),
            ctx.actor.name or "系统管理员",
        )
    return pledge_view(row)


# --- 失信 ---


async def discredit_record(params: RecordDiscredit, ctx: CallContext) -> dict:
    require(ctx, "department")
    now = ctx.deps.clock.now()
    visible, args = visibility(ctx.actor, 2)
    async with ctx.pool.acquire() as conn, conn.transaction():
        case = await discredits.case_for_update(conn, params.case_id, visible, args)
        if case is None:
            raise RpcError("not_found", "申报业务不存在或无权访问", 404)
        try:
            entry, note, events = await record_discredit(ctx, conn, dict(case), params, now)
        except DomainError as error:
            raise rpc_error(error) from None
        await save_notes(conn, ctx.actor, [note])
        await add_to_outbox(conn, *events)
    return entry


async def record_discredit(ctx, conn, case: dict, terms, now, certificate_id=None):
    """The entry of `terms` (DiscreditTerms) against the case's ID number, with its note and
    events; the caller saves them in its transaction."""
    if not case["id_number"]:
        raise InvalidInput({"reason": "该申报没有身份证号，无法记录失信"})
    reason, term = discredit_term(
        terms.reason,
        terms.starts_on,
        terms.years,
        default_years=ctx.deps.settings.discredit_years,
        today=local_date(now),
    )
    return await discredits.record(conn, ctx.actor, case, reason, term, now, certificate_id)


async def discredit_list(params: ListDiscredits, ctx: CallContext) -> dict:
    today = ctx.deps.clock.today()
    clause, args = discredits_query(params, ctx, today)
    total = await ctx.pool.fetchval(f"SELECT count(*) FROM {discredits.FROM} WHERE {clause}", *args)
    rows = await ctx.pool.fetch(
        f"SELECT {discredits.COLUMNS} FROM {discredits.FROM} WHERE {clause}"
        f" ORDER BY {DISCREDITS_ORDER} LIMIT {params.page_size}"
        f" OFFSET {(params.page - 1) * params.page_size}",
        *args,
    )
    return {
        "total": total,
        "page": params.page,
        "page_size": params.page_size,
        "items": [discredits.view(r, today) for r in rows],
    }


DISCREDITS_ORDER = "d.recorded_at DESC, d.id"


def discredits_scope(ctx: CallContext) -> tuple[list[str], list]:
    """Whose entries the actor lists: the conditions on d and their arguments."""
    if ctx.actor.user_id is None:
        raise RpcError("unauthorized", "请先登录", 401)
    if ctx.actor.role == "sysadmin":
        return ["true"], []
    if ctx.actor.role == "department" and ctx.actor.org_id:
        return ["d.department_id = $1"], [ctx.actor.org_id]
    raise RpcError("forbidden", "只有日常工作部门和系统管理员可以查看失信记录", 403)


def discredits_query(params: ListDiscredits, ctx: CallContext, today) -> tuple[str, list]:
    """The 失信 entries as the list filters them (and its export): the sysadmin's every one,
    a department's those it recorded (read only: ending one is the sysadmin's)."""
    where, args = discredits_scope(ctx)
    if params.q.strip():
        # an ID number is found whole, by its blind index: the column holds it sealed
        args += [like_pattern(params.q.strip()), blind_id(discredits.normalised(params.q))]
        where.append(f"(d.name ILIKE ${len(args) - 1} OR d.id_number_index = ${len(args)})")
    if params.status == "ended":
        where.append("d.ended_at IS NOT NULL")
    elif params.status:
        args.append(today)
        running = ">=" if params.status == "running" else "<"
        where.append(f"(d.ended_at IS NULL AND d.last_day {running} ${len(args)})")
    return " AND ".join(where), args


async def discredit_end(params: EndDiscredit, ctx: CallContext) -> dict:
    require(ctx, "sysadmin")
    now, today = ctx.deps.clock.now(), ctx.deps.clock.today()
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await discredits.entry(conn, params.entry_id, lock=True)
        if row is None:
            raise RpcError("not_found", "失信记录不存在", 404)
        if discredits.status_of(row, today).value != "running":
            raise RpcError("conflict", "该失信记录已不在执行中，无需终止", 409)
        try:
            reason = check_end_reason(params.reason)
        except DomainError as error:
            raise rpc_error(error) from None
        await conn.execute(
            "UPDATE discredits SET ended_at = $2, ended_by = $3, ended_by_name = $4,"
            " end_reason = $5 WHERE id = $1",
            params.entry_id,
            now,
            ctx.actor.user_id,
            discredits.recorded_by(ctx.actor),
            reason,
        )
        await _tell_ended(conn, ctx, row, reason, now)
        row = await discredits.entry(conn, params.entry_id)
    return discredits.view(row, today)


async def _tell_ended(conn, ctx: CallContext, row, reason: str, now) -> None:
    """The note in the history of the case it was recorded from, the event, the person's SMS."""
    payload = DiscreditEnded(entry_id=row["id"], case_id=row["case_id"], ended_at=now.isoformat())
    events = [new_event(DISCREDIT_ENDED.type, payload, "cases")]
    if row["case_id"] is not None:
        case = dict(await discredits.case_for_update(conn, row["case_id"], "true", []))
        inputs = {"entry_id": str(row["id"])}
        note = Note(
            case["id"],
            CaseNote.DISCREDIT_ENDED,
            case["state"],
            case["status_label"],
            case["outcome"],
            now,
            inputs,
            reason,
        )
        await save_notes(conn, ctx.actor, [note])
        notice = discredits.applicant_notice(
            case, DISCREDIT_ENDED_NOTICE, "discredit_ended", reason, now
        )
        events.append(notice)
    await add_to_outbox(conn, *events)

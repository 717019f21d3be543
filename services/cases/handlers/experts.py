"""The expert library (评审专家库): a committee's secretary (its organisation's account) keeps
its own committee's entries, the sysadmin every committee's. Another committee's entry is
answered as if it did not exist (404)."""

import uuid
from datetime import date

from services.cases.domain.experts import (
    CommitteeScope,
    ExpertInput,
    check_expert,
    committee_scope,
    latest_term_end,
    status_on,
)
from services.cases.meeting_trail import expert_entry
from services.cases.sealed import EXPERT_ID_NUMBER, EXPERT_MOBILE, blind_id, seal, unseal
from shared.audit import record
from shared.contracts.cases.experts import EXPERT_FIELD_LABELS, ExpertStatus
from shared.contracts.cases.rpc import (
    CreateExpert,
    ExpertRef,
    ListExperts,
    RemoveExpert,
    UpdateExpert,
)
from shared.masks import mask_id_number, mask_mobile
from shared.rpc import Actor, CallContext, RpcError
from shared.text import like_pattern

SELECT = (
    "SELECT e.*, c.name AS committee_name, s.name AS series_name FROM experts e"
    " JOIN committees c ON c.id = e.committee_id JOIN series s ON s.id = e.series_id"
)


# --- whose library ---


def keeper(actor: Actor) -> str | None:
    """The committee whose library the actor keeps; None for the sysadmin (every one)."""
    if actor.user_id is None:
        raise RpcError("unauthenticated", "请先登录", 401)
    if actor.role == "committee" and actor.org_id:
        return actor.org_id
    if actor.role == "sysadmin":
        return None
    raise RpcError("forbidden", "只有评委会和系统管理员可以维护评审专家库", 403)


def library_for(actor: Actor, committee_id: str) -> str:
    """The library a new entry goes to: the committee's own, or the sysadmin's choice."""
    own = keeper(actor)
    if own is not None:
        if committee_id and committee_id != own:
            raise RpcError("forbidden", "只能维护本评委会的评审专家库", 403)
        return own
    if not committee_id:
        raise invalid({"committee_id": "请选择评委会"})
    return committee_id


def invalid(errors: dict[str, str]) -> RpcError:
    return RpcError("invalid_input", "信息有误，请按提示修改", 422, errors)


def not_found() -> RpcError:
    return RpcError("not_found", "该专家不存在", 404)


async def fetch_entry(conn, actor: Actor, expert_id: uuid.UUID, lock: bool = False):
    own = keeper(actor)
    row = await conn.fetchrow(
        SELECT + " WHERE e.id = $1" + (" FOR UPDATE OF e" if lock else ""), expert_id
    )
    if row is None or (own is not None and row["committee_id"] != own):
        raise not_found()
    return row


async def scope_of(conn, committee_id: str) -> CommitteeScope:
    if not await conn.fetchval("SELECT 1 FROM committees WHERE id = $1", committee_id):
        raise invalid({"committee_id": "评委会不存在"})
    rows = await conn.fetch(
        "SELECT s.id, s.name, q.level FROM committee_qualifications cq"
        " JOIN qualifications q ON q.id = cq.qualification_id"
        " JOIN series s ON s.id = q.series_id WHERE cq.committee_id = $1 ORDER BY s.position",
        committee_id,
    )
    return committee_scope(committee_id, [(r["id"], r["name"], r["level"]) for r in rows])


async def lock_library(conn, committee_id: str) -> None:
    """One writer per library at a time: 'already in the library' stays true until commit."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('experts:' || $1))", committee_id)


async def live_entry_problem(
    conn, committee_id: str, id_number: str, today: date, besides: uuid.UUID | None = None
) -> str | None:
    ends = await conn.fetchval(
        "SELECT term_ends_on FROM experts WHERE committee_id = $1 AND id_number_index = $2"
        " AND removed_on IS NULL AND id IS DISTINCT FROM $3",
        committee_id,
        blind_id(id_number),
        besides,
    )
    if ends is None:
        return None
    if ends < today:
        return "该专家已在本评委会专家库中（任期已届满，可修改其任期续聘）"
    return "该专家已在本评委会专家库中"


# --- views ---


def row_view(row, today: date, masked: bool = True) -> dict:
    status = status_on(row["term_ends_on"], row["removed_on"], today)
    id_number = unseal(row["id_number"], EXPERT_ID_NUMBER)
    mobile = unseal(row["mobile"], EXPERT_MOBILE)
    return {
        "id": str(row["id"]),
        "committee_id": row["committee_id"],
        "committee_name": row["committee_name"],
        "name": row["name"],
        "id_number": mask_id_number(id_number) if masked else id_number,
        "mobile": mask_mobile(mobile) if masked else mobile,
        "unit_name": row["unit_name"],
        "series_id": row["series_id"],
        "series_name": row["series_name"],
        "speciality": row["speciality"],
        "title_level": row["title_level"],
        "joined_on": row["joined_on"].isoformat(),
        "term_ends_on": row["term_ends_on"].isoformat(),
        "status": status.value,
        "status_label": status.label,
        "removed_on": row["removed_on"].isoformat() if row["removed_on"] else None,
        "removed_reason": row["removed_reason"],
    }


TERM_COMPARISON = {ExpertStatus.ACTIVE: ">=", ExpertStatus.EXPIRED: "<"}  # term end vs today


async def list_experts(params: ListExperts, ctx: CallContext) -> dict:
    condition, args = experts_query(params, ctx.actor, ctx.deps.clock.today())
    total = await ctx.pool.fetchval(f"SELECT count(*) FROM experts e WHERE {condition}", *args)
    offset = (params.page - 1) * params.page_size
    rows = await ctx.pool.fetch(
        f"{SELECT} WHERE {condition} ORDER BY {EXPERTS_ORDER}"
        f" LIMIT {params.page_size} OFFSET {offset}",
        *args,
    )
    today = ctx.deps.clock.today()
    return {
        "total": total,
        "page": params.page,
        "page_size": params.page_size,
        "items": [row_view(r, today) for r in rows],
    }


EXPERTS_ORDER = "e.removed_on IS NOT NULL, e.name, e.id"


def experts_query(params: ListExperts, actor: Actor, today: date) -> tuple[str, list]:
    """The library's entries as its page filters them (and its export): a condition on `e`."""
    own = keeper(actor)
    where, args = ["true"], []

    def arg(value) -> str:
        args.append(value)
        return f"${len(args)}"

    committee = own or params.committee_id
    if committee:
        where.append(f"e.committee_id = {arg(committee)}")
    if params.series_id:
        where.append(f"e.series_id = {arg(params.series_id)}")
    if params.title_level:
        where.append(f"e.title_level = {arg(params.title_level)}")
    if params.status == ExpertStatus.REMOVED:
        where.append("e.removed_on IS NOT NULL")
    elif params.status:
        compare = TERM_COMPARISON[ExpertStatus(params.status)]
        where.append(f"e.removed_on IS NULL AND e.term_ends_on {compare} {arg(today)}")
    if params.q.strip():
        # an ID number is found whole, by its blind index: the column holds it sealed
        found = arg(like_pattern(params.q.strip()))
        index = arg(blind_id(params.q.strip().upper()))
        where.append(f"(e.name ILIKE {found} OR e.id_number_index = {index})")
    return " AND ".join(where), args


async def get_expert(params: ExpertRef, ctx: CallContext) -> dict:
    async with ctx.pool.acquire() as conn:
        row = await fetch_entry(conn, ctx.actor, params.expert_id)
        others = []
        if keeper(ctx.actor) is None:  # a committee never learns of another's library
            others = await conn.fetchval(
                "SELECT coalesce(array_agg(c.name ORDER BY c.name), '{}') FROM experts e"
                " JOIN committees c ON c.id = e.committee_id"
                " WHERE e.id_number_index = $1 AND e.id <> $2 AND e.removed_on IS NULL",
                row["id_number_index"],
                row["id"],
            )
    return {
        **row_view(row, ctx.deps.clock.today()),
        "unit_id": str(row["unit_id"]) if row["unit_id"] else None,
        "version": row["version"],
        "latest_term_end": latest_term_end(row["joined_on"]).isoformat(),
        "other_committees": list(others),
    }


# --- changes ---


def typed(params) -> dict[str, str]:
    return {name: getattr(params, name) for name in EXPERT_FIELD_LABELS}


async def create_expert(params: CreateExpert, ctx: CallContext) -> dict:
    committee_id = library_for(ctx.actor, params.committee_id)
    today = ctx.deps.clock.today()
    async with ctx.pool.acquire() as conn, conn.transaction():
        expert, errors = check_expert(typed(params), today, await scope_of(conn, committee_id))
        if errors:
            raise invalid(errors)
        await lock_library(conn, committee_id)
        if problem := await live_entry_problem(conn, committee_id, expert.id_number, today):
            raise invalid({"id_number": problem})
        now = ctx.deps.clock.now()
        expert_id = await insert_expert(conn, committee_id, expert, now)
        await record(
            conn, ctx.actor, expert_entry("create", expert_id, expert.name, committee_id), at=now
        )
    return {"expert_id": str(expert_id), "name": expert.name}


async def insert_expert(conn, committee_id: str, expert: ExpertInput, now) -> uuid.UUID:
    expert_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO experts (id, committee_id, name, id_number, mobile, unit_id, unit_name,"
        " series_id, speciality, title_level, joined_on, term_ends_on, created_at, updated_at,"
        " id_number_index)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)",
        expert_id,
        committee_id,
        expert.name,
        seal(expert.id_number, EXPERT_ID_NUMBER),
        seal(expert.mobile, EXPERT_MOBILE),
        expert.unit_id,
        expert.unit_name,
        expert.series_id,
        expert.speciality,
        expert.title_level,
        expert.joined_on,
        expert.term_ends_on,
        now,
        blind_id(expert.id_number),
    )
    return expert_id


def kept_numbers(values: dict[str, str], row) -> dict[str, str]:
    """The edit form shows the numbers masked: a mask sent back unchanged keeps the number."""
    kept = {
        "id_number": (unseal(row["id_number"], EXPERT_ID_NUMBER), mask_id_number),
        "mobile": (unseal(row["mobile"], EXPERT_MOBILE), mask_mobile),
    }
    for name, (number, mask) in kept.items():
        if values.get(name, "").strip() == mask(number):
            values = {**values, name: number}
    return values


async def update_expert(params: UpdateExpert, ctx: CallContext) -> dict:
    today = ctx.deps.clock.today()
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await fetch_entry(conn, ctx.actor, params.expert_id, lock=True)
        if row["removed_on"] is not None:
            raise RpcError("conflict", "该专家已出库，不能再修改", 409)
        if params.expected_version is not None and params.expected_version != row["version"]:
            raise RpcError("conflict", "该专家的信息已被他人修改，请刷新后重试", 409)
        committee_id = row["committee_id"]
        wanted = kept_numbers(typed(params), row)
        expert, errors = check_expert(wanted, today, await scope_of(conn, committee_id))
        if errors:
            raise invalid(errors)
        await lock_library(conn, committee_id)
        clash = await live_entry_problem(conn, committee_id, expert.id_number, today, row["id"])
        if clash:
            raise invalid({"id_number": clash})
        now = ctx.deps.clock.now()
        await conn.execute(
            "UPDATE experts SET name = $2, id_number = $3, mobile = $4, unit_id = $5,"
            " unit_name = $6, series_id = $7, speciality = $8, title_level = $9,"
            " joined_on = $10, term_ends_on = $11, version = version + 1, updated_at = $12,"
            " id_number_index = $13 WHERE id = $1",
            row["id"],
            expert.name,
            seal(expert.id_number, EXPERT_ID_NUMBER),
            seal(expert.mobile, EXPERT_MOBILE),
            expert.unit_id,
            expert.unit_name,
            expert.series_id,
            expert.speciality,
            expert.title_level,
            expert.joined_on,
            expert.term_ends_on,
            now,
            blind_id(expert.id_number),
        )
        fields = changed_fields(row, expert)
        entry = expert_entry("update", row["id"], expert.name, committee_id, fields=fields)
        await record(conn, ctx.actor, entry, at=now)
    return {"expert_id": str(row["id"]), "name": expert.name}


def changed_fields(row, expert: ExpertInput) -> list[str]:
    """The names of the fields an update changed (never their values: the trail keeps no
    ID number or mobile)."""
    before = {
        **{name: row[name] for name in EXPERT_FIELD_LABELS if name not in ("id_number", "mobile")},
        "id_number": unseal(row["id_number"], EXPERT_ID_NUMBER),
        "mobile": unseal(row["mobile"], EXPERT_MOBILE),
        "unit_id": str(row["unit_id"]) if row["unit_id"] else None,
    }
    after = {name: getattr(expert, name) for name in EXPERT_FIELD_LABELS}
    after["unit_id"] = str(after["unit_id"]) if after["unit_id"] else None
    return [name for name in EXPERT_FIELD_LABELS if before[name] != after[name]]


async def remove_expert(params: RemoveExpert, ctx: CallContext) -> dict:
    today = ctx.deps.clock.today()
    reason = params.reason.strip()
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await fetch_entry(conn, ctx.actor, params.expert_id, lock=True)
        if row["removed_on"] is not None:
            raise RpcError("conflict", "该专家已出库", 409)
        removed_on, errors = removal_date(params.removed_on, row["joined_on"], today)
        if not reason:
            errors["reason"] = "请填写出库原因"
        if errors:
            raise invalid(errors)
        now = ctx.deps.clock.now()
        await conn.execute(
            "UPDATE experts SET removed_on = $2, removed_reason = $3, removed_by = $4,"
            " version = version + 1, updated_at = $5 WHERE id = $1",
            row["id"],
            removed_on,
            reason,
            ctx.actor.name or ctx.actor.role,
            now,
        )
        # the reason stays in the library: the trail keeps no reasons (docs/audit.md)
        day = removed_on.isoformat()
        entry = expert_entry("retire", row["id"], row["name"], row["committee_id"], removed_on=day)
        await record(conn, ctx.actor, entry, at=now)
    return {"expert_id": str(row["id"]), "name": row["name"]}


def removal_date(raw: str, joined_on: date, today: date) -> tuple[date, dict[str, str]]:
    """出库日期: today when left empty; between the 入库 date and today."""
    if not raw.strip():
        return today, {}
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return today, {"removed_on": "出库日期须为有效日期，格式为 YYYY-MM-DD"}
    if not joined_on <= day <= today:
        return today, {"removed_on": f"出库日期须在入库日期（{joined_on}）与今天之间"}
    return day, {}

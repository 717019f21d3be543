"""The committees' meeting rules: what a committee is formed by (按系列/按专业), its own size
bounds (a region may change the minimum with provincial approval) and whether it records
results reached outside the system. The sysadmin sets them; keepers read them."""

from services.cases.domain.committee import Basis, SizeBounds, size_bounds
from services.cases.domain.experts import LEVEL_RANK
from services.cases.handlers.experts import keeper
from shared.contracts.cases.meetings import SaveCommitteeRules
from shared.rpc import CallContext, RpcError

RULES = (
    "SELECT c.id, c.name, r.basis, r.min_members, r.max_members,"
    " coalesce(r.outside_results, false) AS outside_results,"
    " (SELECT array_agg(DISTINCT q.level) FROM committee_qualifications cq"
    "  JOIN qualifications q ON q.id = cq.qualification_id WHERE cq.committee_id = c.id)"
    " AS levels"
    " FROM committees c LEFT JOIN committee_meeting_rules r ON r.committee_id = c.id"
)


def highest_level(levels) -> str:
    """The size rule's level: a committee reviewing any 高级 qualification sits as 高级."""
    return max(levels or ["初级"], key=LEVEL_RANK.__getitem__)


def rules_view(row, settings) -> dict:
    level, basis = highest_level(row["levels"]), Basis(row["basis"] or Basis.SERIES)
    bounds = bounds_of_row(row, settings)
    return {
        "committee_id": row["id"],
        "committee_name": row["name"],
        "level": level,
        "basis": basis.value,
        "default_minimum": settings.size_rules().minimum(level, basis),
        "min_members": row["min_members"],
        "max_members": row["max_members"],
        "minimum": bounds.minimum,
        "maximum": bounds.maximum,
        "outside_results": row["outside_results"],
    }


def bounds_of_row(row, settings) -> SizeBounds:
    return size_bounds(
        highest_level(row["levels"]),
        Basis(row["basis"] or Basis.SERIES),
        settings.size_rules(),
        row["min_members"],
        row["max_members"],
    )


async def committee_rules_row(conn, committee_id: str):
    row = await conn.fetchrow(RULES + " WHERE c.id = $1", committee_id)
    if row is None:
        raise RpcError("not_found", "评委会不存在", 404)
    return row


async def outside_results(conn, committee_id: str) -> bool:
    """Whether this committee records results reached outside the system."""
    return bool(
        await conn.fetchval(
            "SELECT outside_results FROM committee_meeting_rules WHERE committee_id = $1",
            committee_id,
        )
    )


async def list_rules(_params, ctx: CallContext) -> dict:
    own = keeper(ctx.actor)
    where, args = ("WHERE c.id = $1", [own]) if own else ("", [])
    rows = await ctx.pool.fetch(f"{RULES} {where} ORDER BY c.name", *args)
    return {"items": [rules_view(r, ctx.deps.settings) for r in rows]}


async def save_rules(params: SaveCommitteeRules, ctx: CallContext) -> dict:
    if ctx.actor.role != "sysadmin" or ctx.actor.user_id is None:
        raise RpcError("forbidden", "只有系统管理员可以设置评委会的评审会议规则", 403)
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await committee_rules_row(conn, params.committee_id)
        bounds = size_bounds(
            highest_level(row["levels"]),
            Basis(params.basis),
            ctx.deps.settings.size_rules(),
            params.min_members,
            params.max_members,
        )
        if bounds.maximum is not None and bounds.maximum < bounds.minimum:
            message = f"最多人数不能少于最少人数（{bounds.minimum} 人）"
            raise RpcError("invalid_input", message, 422, {"max_members": message})
        await conn.execute(
            "INSERT INTO committee_meeting_rules (committee_id, basis, min_members, max_members,"
            " outside_results) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (committee_id) DO UPDATE"
            " SET basis = $2, min_members = $3, max_members = $4, outside_results = $5",
            params.committee_id,
            params.basis,
            params.min_members,
            params.max_members,
            params.outside_results,
        )
        row = await committee_rules_row(conn, params.committee_id)
    return rules_view(row, ctx.deps.settings)

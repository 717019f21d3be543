"""Units as other services show them: the documents service prints the unit's name."""

from shared.contracts.accounts.rpc import UnitIds
from shared.rpc import CallContext, RpcError


async def unit_names(params: UnitIds, ctx: CallContext) -> dict:
    """{unit_id: name} of the units that exist; a unit's name is public (it is on every roster)."""
    if ctx.actor.user_id is None:
        raise RpcError("unauthorized", "请先登录", 401)
    rows = await ctx.pool.fetch(
        "SELECT id, name FROM units WHERE id = ANY($1::uuid[])", list(set(params.unit_ids))
    )
    return {"names": {str(r["id"]): r["name"] for r in rows}}

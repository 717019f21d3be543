"""Units as other services show them: the documents service prints the unit's name, the
public 评后公示 page shows where each person works."""

from shared.contracts.accounts.rpc import UnitIds
from shared.rpc import CallContext


async def unit_names(params: UnitIds, ctx: CallContext) -> dict:
    """{unit_id: name} of the units that exist, to anyone: a unit's name is public (it is on
    every roster and publicity list), and its random id names nothing else."""
    rows = await ctx.pool.fetch(
        "SELECT id, name FROM units WHERE id = ANY($1::uuid[])", list(set(params.unit_ids))
    )
    return {"names": {str(r["id"]): r["name"] for r in rows}}

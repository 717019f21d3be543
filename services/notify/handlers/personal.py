"""显示完整号码 for an SMS record: the full mobile of a delivery, for the system administrator
only; every answer and every refusal is in the audit trail (shared/contracts/personal.py)."""

import uuid

from services.notify.sealed import DELIVERY_MOBILE, opened
from shared.audit import Entry, record
from shared.contracts.personal import UNMASK_METHOD, Unmask
from shared.rpc import Actor, CallContext, RpcError


async def unmask(params: Unmask, ctx: CallContext) -> dict:
    entry = Entry(UNMASK_METHOD, "delivery", params.object_id, details={"field": params.field})
    async with ctx.pool.acquire() as conn, conn.transaction():
        mobile, refused = await _mobile(conn, params, ctx.actor)
        done = entry.refusal(refused.code) if refused else entry
        await record(conn, ctx.actor, done, at=ctx.deps.clock.now())
    if refused:  # raised after the commit, so the refusal stays recorded
        raise refused
    return {"value": mobile}


async def _mobile(conn, params: Unmask, actor: Actor) -> tuple[str | None, RpcError | None]:
    if actor.role != "sysadmin" or actor.user_id is None:
        return None, RpcError("forbidden", "只有系统管理员可以查看短信的完整号码", 403)
    row = None
    delivery_id = _uuid(params.object_id)
    if params.object_type == "delivery" and params.field == "mobile" and delivery_id:
        row = await conn.fetchrow("SELECT mobile FROM deliveries WHERE id = $1", delivery_id)
    if row is None:
        return None, RpcError("not_found", "没有这条短信记录", 404)
    return opened(row["mobile"], DELIVERY_MOBILE), None


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None

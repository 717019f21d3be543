"""Who read or printed a case's scans and PDFs, for the case's applicant (docs/audit.md)."""

from shared.audit import case_readers
from shared.contracts.audit import CaseReadersRef
from shared.contracts.cases.rpc import CASE_CAN_VIEW
from shared.rpc import CallContext, RpcError


async def readers(params: CaseReadersRef, ctx: CallContext) -> dict:
    """Only an applicant asks, about a case of theirs (the only cases they may see)."""
    not_found = RpcError("not_found", "申报业务不存在或无权访问", 404)
    if ctx.actor.role != "applicant":
        raise not_found
    answer = await ctx.deps.peers.invoke(CASE_CAN_VIEW, {"case_id": params.case_id}, ctx.actor)
    if not answer["allowed"]:
        raise not_found
    async with ctx.pool.acquire() as conn:
        return {"readers": await case_readers(conn, params.case_id, ctx.actor.user_id)}

"""The cases service's audit trail as others read it (shared/audit.py, docs/audit.md).

`audit.search` finds a case by its number as well (only cases knows case numbers); the
gateway then asks the other services about the same cases by id. `audit.case_readers`
shows a case's applicant who read or printed their materials.
"""

from shared.audit import case_readers, require_sysadmin, search_rows
from shared.contracts.audit import AuditSearch, CaseReadersRef
from shared.rpc import CallContext, RpcError


async def search(params: AuditSearch, ctx: CallContext) -> dict:
    require_sysadmin(ctx.actor)
    async with ctx.pool.acquire() as conn:
        numbered = []
        if params.object.strip():
            rows = await conn.fetch(
                "SELECT id FROM cases WHERE case_no = $1", params.object.strip()
            )
            numbered = [r["id"] for r in rows]
        return await search_rows(conn, ctx.service, params, numbered)


async def readers(params: CaseReadersRef, ctx: CallContext) -> dict:
    """Only the case's applicant asks: for anyone else it is not there."""
    async with ctx.pool.acquire() as conn:
        owner = await conn.fetchval("SELECT applicant_id FROM cases WHERE id = $1", params.case_id)
        if ctx.actor.role != "applicant" or owner is None or owner != ctx.actor.user_id:
            raise RpcError("not_found", "申报业务不存在或无权访问", 404)
        return {"readers": await case_readers(conn, params.case_id, ctx.actor.user_id)}

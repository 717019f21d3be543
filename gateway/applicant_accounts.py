"""Deleting an applicant account: across accounts (the account) and cases (its cases).

Only an account with no case may go (manual §2.1: 新增申报人员 adds, edits and deletes);
one with cases is refused with a 409, and can be disabled instead.
"""

from aiohttp import web

from gateway.web import call
from shared.contracts.accounts import rpc as accounts_rpc
from shared.contracts.cases import rpc as cases_rpc
from shared.rpc import RpcError


async def delete_applicant(request: web.Request, person: dict) -> None:
    """Deletes the account of `person` (as users.get answered it), or raises a 409."""
    ref = {"role": "applicant", "user_id": person["id"]}
    count = await _case_count(request, person["id"])
    if not count:
        # Signed out first, so no request of theirs can open a case between the count and
        # the deletion; then counted again.
        await call(request, accounts_rpc.USERS_SET_ACTIVE, ref | {"active": False})
        count = await _case_count(request, person["id"])
        if count and person["active"]:
            await call(request, accounts_rpc.USERS_SET_ACTIVE, ref | {"active": True})
    if count:
        who = f"{person['name']}（用户名 {person['username']}）"
        message = f"{who}已有 {count} 件申报业务，不能删除；如不再使用，请停用该账户"
        raise RpcError("has_cases", message, 409)
    await call(request, accounts_rpc.USERS_DELETE, ref)


async def _case_count(request: web.Request, applicant_id: str) -> int:
    answer = await call(
        request, cases_rpc.CASE_APPLICANT_CASE_COUNT, {"applicant_id": applicant_id}
    )
    return answer["cases"]

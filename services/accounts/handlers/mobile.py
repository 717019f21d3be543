"""修改手机号码: a signed-in person changes their own mobile.

Re-authentication: the current password again, and the code sent to the new mobile, which
proves they hold it. Their other sessions end, as after a password change.
"""

from services.accounts import trail
from services.accounts.access import own_account_with_mobile
from services.accounts.domain.credentials import verify_password_async
from services.accounts.domain.validation import FieldError, validate_new_mobile
from services.accounts.handlers import lockout
from services.accounts.handlers.sessions import revoke_sessions
from services.accounts.handlers.sms import consume_code
from services.accounts.personal import index, seal
from shared.contracts.accounts.rpc import ChangeMobile
from shared.rpc import CallContext, RpcError


def _invalid(fields: dict[str, str]) -> RpcError:
    return RpcError("invalid_input", "请按提示修改后重试", 422, fields)


async def change_mobile(params: ChangeMobile, ctx: CallContext) -> dict:
    account = await own_account_with_mobile(ctx.pool, ctx.actor)
    mobile, problems = _check_form(params, account["mobile"])
    if params.password:
        await lockout.count_reauthentication(ctx)
    # The code is only tried once the password is right, so a wrong password costs no try.
    if params.password and not await verify_password_async(
        account["password_hash"], params.password
    ):
        problems["password"] = "当前密码错误"
    if problems:
        raise _invalid(problems)
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn:
        async with conn.transaction():
            problem = await consume_code(
                conn, ctx.deps, mobile, "change_mobile", params.sms_code.strip()
            )
            if problem is None:
                await conn.execute(
                    "UPDATE users SET mobile = $2, mobile_index = $3, updated_at = $4"
                    " WHERE id = $1",
                    account["id"],
                    seal(mobile, "users", "mobile"),
                    index(mobile, "mobile"),
                    now,
                )
                await revoke_sessions(conn, account["id"], now, keep=ctx.actor.session_id)
                await trail.changed(conn, ctx, trail.account(account, "account.mobile_change"))
        if problem is not None:  # after the commit: a wrong try must count
            raise _invalid({"sms_code": problem})
    return {"mobile": mobile}


def _check_form(params: ChangeMobile, current: str) -> tuple[str, dict[str, str]]:
    """The new mobile, and a message for each field that is wrong or missing."""
    mobile, problems = "", {}
    if not params.password:
        problems["password"] = "请填写当前密码"
    try:
        mobile = validate_new_mobile(params.mobile, current)
    except FieldError as error:
        problems["mobile"] = error.message
    if not params.sms_code.strip():
        problems["sms_code"] = "请填写短信验证码"
    return mobile, problems

"""SMS verification codes: issue (with cooldown and daily caps) and check (with a try limit)."""

import logging
import uuid
from datetime import timedelta

from services.accounts.access import own_account_with_mobile
from services.accounts.domain.credentials import keyed_hash, new_sms_code, same
from services.accounts.domain.validation import (
    FieldError,
    validate_mobile,
    validate_new_mobile,
    validate_username,
)
from services.accounts.personal import index, seal
from shared.contracts.accounts.rpc import ConfirmCode, RequestCode
from shared.contracts.notify.rpc import SMS_SEND_CODE
from shared.rpc import CallContext, RpcError

NO_CODE = "请先获取验证码，或重新获取"
EXPIRED = "验证码已过期，请重新获取"

log = logging.getLogger(__name__)


def _field(field: str, message: str, status: int = 422, code: str = "invalid_input") -> RpcError:
    return RpcError(code, message, status, {field: message})


async def request_code(params: RequestCode, ctx: CallContext) -> dict:
    try:
        mobile = validate_mobile(params.mobile, label="手机号码")
    except FieldError as error:
        raise _field("mobile", error.message) from None
    if params.purpose == "change_mobile":
        await _may_take_mobile(ctx, mobile)
    withheld = params.purpose == "reset_password" and not await _account_has_mobile(
        ctx, params.username, mobile
    )
    return await issue_code(ctx, mobile, params.purpose, params.client_ip, withheld=withheld)


async def issue_code(
    ctx: CallContext, mobile: str, purpose: str, client_ip: str, *, withheld: bool = False
) -> dict:
    """A new code for this mobile and purpose, within the per-mobile limits, sent unless
    withheld: what a CodeSent answer says."""
    deps = ctx.deps
    now, mobile_index = deps.clock.now(), index(mobile, "mobile")
    async with ctx.pool.acquire() as conn, conn.transaction():
        # Serialise sends to one phone so two quick clicks cannot both pass the cooldown.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", mobile_index)
        await _check_limits(conn, deps, mobile_index, purpose, client_ip, now)
        code = new_sms_code()
        code_id = uuid.uuid4()
        if not withheld:
            await conn.execute(
                "UPDATE sms_codes SET status = 'replaced'"
                " WHERE mobile_index = $1 AND purpose = $2 AND status = 'live'",
                mobile_index,
                purpose,
            )
        expires_at = now + timedelta(seconds=deps.settings.sms_code_ttl_seconds)
        await conn.execute(
            "INSERT INTO sms_codes (id, mobile, mobile_index, purpose, code_hash, status,"
            " client_ip, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            code_id,
            seal(mobile, "sms_codes", "mobile"),
            mobile_index,
            purpose,
            keyed_hash(deps.settings.secret_key, str(code_id), code),
            "withheld" if withheld else "live",
            client_ip,
            now,
            expires_at,
        )
    if not withheld:
        await _send(ctx, code_id, mobile, code, purpose, expires_at)
    # A withheld code is answered as a sent one: the form must not say which accounts exist.
    return {
        "sent": True,
        "mobile": mobile,
        "cooldown_seconds": deps.settings.sms_cooldown_seconds,
        "expires_in_seconds": deps.settings.sms_code_ttl_seconds,
    }


async def _account_has_mobile(ctx: CallContext, username: str, mobile: str) -> bool:
    """Whether an active account has this username and this registered mobile."""
    try:
        username = validate_username(username)
    except FieldError as error:
        raise _field("username", error.message) from None
    row = await ctx.pool.fetchrow(
        "SELECT mobile_index, active FROM users WHERE lower(username) = lower($1)", username
    )
    if row is None or row["mobile_index"] != index(mobile, "mobile") or not row["active"]:
        log.info("password reset code withheld: no active account with that username and mobile")
        return False
    return True


async def _may_take_mobile(ctx: CallContext, mobile: str) -> None:
    """A code for a new mobile goes out only to a signed-in person who may change theirs."""
    account = await own_account_with_mobile(ctx.pool, ctx.actor)
    try:
        validate_new_mobile(mobile, account["mobile"])
    except FieldError as error:
        raise _field("mobile", error.message) from None


async def _check_limits(conn, deps, mobile_index: str, purpose: str, client_ip, now) -> None:
    """Codes per mobile: a minute's cooldown, an hour's and a day's caps (settings), counted
    over every purpose, as the SMS providers count them per number: the system refuses first,
    in words of its own, so nobody ever meets a provider's throttling."""
    settings = deps.settings
    last = await conn.fetchval(
        "SELECT max(created_at) FROM sms_codes WHERE mobile_index = $1", mobile_index
    )
    if last is not None:
        wait = settings.sms_cooldown_seconds - int((now - last).total_seconds())
        if wait > 0:
            raise _field("mobile", f"验证码已发送，请 {wait} 秒后再获取", 429, "too_many_requests")
    hour_ago = now - timedelta(hours=1)
    in_hour = await conn.fetch(
        "SELECT created_at FROM sms_codes WHERE mobile_index = $1 AND created_at > $2"
        " ORDER BY created_at",
        mobile_index,
        hour_ago,
    )
    if len(in_hour) >= settings.sms_hourly_cap_per_mobile:
        # Free again once the oldest code of the last hour is an hour old.
        oldest = in_hour[len(in_hour) - settings.sms_hourly_cap_per_mobile]["created_at"]
        minutes = max(1, -(-int((oldest - hour_ago).total_seconds()) // 60))
        raise _field(
            "mobile",
            f"该手机号获取验证码过于频繁，请 {minutes} 分钟后再试",
            429,
            "too_many_requests",
        )
    day_start = deps.clock.start_of_today()
    sent_today = await conn.fetchval(
        "SELECT count(*) FROM sms_codes WHERE mobile_index = $1 AND created_at >= $2",
        mobile_index,
        day_start,
    )
    if sent_today >= settings.sms_daily_cap_per_mobile:
        raise _field(
            "mobile", "该手机号今日获取验证码次数已达上限，请明天再试", 429, "too_many_requests"
        )
    if client_ip:
        from_client = await conn.fetchval(
            "SELECT count(*) FROM sms_codes WHERE client_ip = $1 AND created_at >= $2",
            client_ip,
            day_start,
        )
        if from_client >= settings.sms_daily_cap_per_client:
            raise _field("mobile", "您今日获取验证码次数过多，请明天再试", 429, "too_many_requests")


async def _send(ctx: CallContext, code_id, mobile: str, code: str, purpose: str, expires_at):
    try:
        if ctx.deps.notify is None:
            raise RpcError("service_unavailable", "短信服务未配置", 503)
        await ctx.deps.notify.invoke(
            SMS_SEND_CODE,
            {  # checked as notify's SendCode: refused here as notify would
                "mobile": mobile,
                "code": code,
                "purpose": purpose,
                "expires_at": expires_at.isoformat(),
                "reference": str(code_id),
            },
        )
    except RpcError:
        await ctx.pool.execute("UPDATE sms_codes SET status = 'unsent' WHERE id = $1", code_id)
        raise _field("mobile", "验证码发送失败，请稍后重试", 503, "sms_send_failed") from None


async def confirm_code(params: ConfirmCode, ctx: CallContext) -> dict:
    """A mobile confirmed by its code, for a service that trusts the caller with it (the
    gateway, before it passes a public objection to cases); the code is used up."""
    try:
        mobile = validate_mobile(params.mobile, label="手机号码")
    except FieldError as error:
        raise _field("mobile", error.message) from None
    if not params.sms_code.strip():
        raise _field("sms_code", "请填写短信验证码")
    async with ctx.pool.acquire() as conn, conn.transaction():
        problem = await consume_code(conn, ctx.deps, mobile, params.purpose, params.sms_code)
    if problem:
        raise _field("sms_code", problem)
    return {"mobile": mobile}


async def consume_code(conn, deps, mobile: str, purpose: str, code: str) -> str | None:
    """Check a code inside the caller's transaction: None when right, else the message.

    A right code is marked used; a wrong one counts a try, and the fifth wrong try kills it.
    The caller must commit even when a message is returned, so the count sticks.
    """
    row = await conn.fetchrow(
        "SELECT id, code_hash, attempts, expires_at FROM sms_codes"
        " WHERE mobile_index = $1 AND purpose = $2 AND status = 'live' FOR UPDATE",
        index(mobile, "mobile"),
        purpose,
    )
    if row is None:
        return NO_CODE
    if row["expires_at"] <= deps.clock.now():
        await conn.execute("UPDATE sms_codes SET status = 'dead' WHERE id = $1", row["id"])
        return EXPIRED
    if same(row["code_hash"], keyed_hash(deps.settings.secret_key, str(row["id"]), code)):
        await conn.execute("UPDATE sms_codes SET status = 'used' WHERE id = $1", row["id"])
        return None
    attempts = row["attempts"] + 1
    dead = attempts >= deps.settings.sms_code_max_attempts
    await conn.execute(
        "UPDATE sms_codes SET attempts = $2, status = CASE WHEN $3 THEN 'dead' ELSE status END"
        " WHERE id = $1",
        row["id"],
        attempts,
        dead,
    )
    if dead:
        return "验证码错误次数过多，已失效，请重新获取"
    return f"验证码错误，还可尝试 {deps.settings.sms_code_max_attempts - attempts} 次"

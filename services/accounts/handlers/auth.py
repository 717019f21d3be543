"""Login with captcha and lockout (lockout.py), sessions, logout, password change and reset.

A reviewer's correct password opens a login challenge instead of a session when the second
factor is on (second_factor.py)."""

from datetime import timedelta

from services.accounts import trail
from services.accounts.domain.credentials import (
    hash_password_async,
    needs_rehash,
    token_digest,
    verify_password_async,
)
from services.accounts.domain.second_factor import needs_code
from services.accounts.domain.validation import FieldError, validate_password
from services.accounts.handlers import lockout, second_factor
from services.accounts.handlers.captchas import check_captcha
from services.accounts.handlers.sessions import revoke_sessions
from services.accounts.handlers.signin import disabled, open_session, save_rehash
from services.accounts.handlers.sms import NO_CODE, consume_code
from services.accounts.personal import index
from services.accounts.views import user_view
from shared.audit import Entry
from shared.contracts.accounts.rpc import (
    ChangePassword,
    Login,
    ResetRequest,
    SessionLookup,
    Token,
)
from shared.rpc import CallContext, RpcError

SESSION_TOUCH_SECONDS = 60  # last_seen is written at most once a minute per session


def _invalid(fields: dict[str, str], message: str = "请按提示修改后重试") -> RpcError:
    return RpcError("invalid_input", message, 422, fields)


def _bad_credentials() -> RpcError:
    return RpcError("bad_credentials", "用户名或密码错误", 401, {"password": "用户名或密码错误"})


async def login(params: Login, ctx: CallContext) -> dict:
    deps, settings = ctx.deps, ctx.deps.settings
    username_key = params.username.strip().lower()
    if not username_key or not params.password:
        fields = {}
        if not username_key:
            fields["username"] = "请填写用户名"
        if not params.password:
            fields["password"] = "请填写密码"
        raise _invalid(fields)
    now = deps.clock.now()
    async with ctx.pool.acquire() as conn:
        await deps.rate_limits.hit(conn, "login", params.client_ip, now)
        captcha_problem = await check_captcha(conn, deps, params.captcha_id, params.captcha_answer)
        if captcha_problem:
            raise _invalid({"captcha_answer": captcha_problem})
        user = await conn.fetchrow(
            "SELECT u.*, n.active AS unit_active, n.name AS unit_name FROM users u"
            " LEFT JOIN units n ON n.id = u.unit_id WHERE lower(u.username) = $1",
            username_key,
        )
        try:
            await lockout.check(conn, settings, user, username_key, params.client_ip, now)
        except RpcError as refused:
            await trail.sign_in_refused(conn, ctx, user, params.client_ip, refused.code)
            raise
    # No connection is held while argon2 runs (~100 ms, longer under load): ten logins at
    # once would otherwise take the whole pool and every other call would queue behind them.
    verified = await verify_password_async(user and user["password_hash"], params.password)
    new_hash = (
        await hash_password_async(params.password)
        if verified and needs_rehash(user["password_hash"])
        else None
    )
    async with ctx.pool.acquire() as conn:
        if not verified:
            await lockout.record_failure(conn, ctx, user, username_key, params.client_ip, now)
            raise _bad_credentials()
        if not user["active"] or user["unit_active"] is False:
            await trail.sign_in_refused(conn, ctx, user, params.client_ip, "account_disabled")
            raise disabled(user)
        if needs_code(user["role"], settings.second_factor):
            await save_rehash(conn, user["id"], new_hash)
        else:
            async with conn.transaction():
                await save_rehash(conn, user["id"], new_hash)
                return await open_session(conn, ctx, user, params.client_ip, params.user_agent)
    return await second_factor.open_challenge(ctx, user, params.client_ip)


async def resolve_session(params: SessionLookup, ctx: CallContext) -> dict:
    """The user behind a session cookie; 401 when it is unknown, expired, idle or revoked.

    A gateway that served the session from its cache says when it last did (`last_active`):
    that use counts as activity, as a call here would have."""
    deps = ctx.deps
    now = deps.clock.now()
    row = await ctx.pool.fetchrow(
        "SELECT s.id AS session_id, s.token_hash, s.csrf_token, s.last_seen_at, s.expires_at,"
        " s.revoked_at, u.*,"
        " n.active AS unit_active, n.name AS unit_name"
        " FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN units n ON n.id = u.unit_id"
        " WHERE s.token_hash = $1",
        token_digest(params.token),
    )
    idle = timedelta(minutes=deps.settings.session_idle_minutes)
    seen = row and row["last_seen_at"]
    if row is not None and params.last_active is not None:
        seen = max(seen, min(params.last_active, now))
    if (
        row is None
        or row["revoked_at"] is not None
        or row["expires_at"] <= now
        or seen + idle <= now
        or not row["active"]
        or row["unit_active"] is False
    ):
        raise RpcError("unauthenticated", "登录已失效，请重新登录", 401)
    if (now - row["last_seen_at"]).total_seconds() > SESSION_TOUCH_SECONDS:
        await ctx.pool.execute(
            "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1", row["token_hash"], now
        )
    return {
        "csrf_token": row["csrf_token"],
        "session_id": str(row["session_id"]),
        "user": user_view(row, row["unit_name"]),
        "expires_at": row["expires_at"],
        "idle_seconds": int(idle.total_seconds()),
    }


async def logout(params: Token, ctx: CallContext) -> dict:
    async with ctx.pool.acquire() as conn, conn.transaction():
        session_id = await conn.fetchval(
            "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL"
            " RETURNING id",
            token_digest(params.token),
            ctx.deps.clock.now(),
        )
        if session_id is not None:
            await trail.changed(conn, ctx, Entry("auth.logout", "session", session_id))
    return {"logged_out": True}


def check_new_password(new: str, confirm: str, field: str = "new_password") -> dict[str, str]:
    try:
        validate_password(new, label="新密码")
    except FieldError as error:
        return {field: error.message}
    if new != confirm:
        return {f"{field}_confirm": "两次输入的密码不一致"}
    return {}


async def change_password(params: ChangePassword, ctx: CallContext) -> dict:
    """The old password again, then the new one; every other session of the person ends
    (one opened by whoever learnt the old password), the one they changed it in goes on."""
    actor = ctx.actor
    if actor.user_id is None:
        raise RpcError("unauthenticated", "请先登录", 401)
    problems = check_new_password(params.new_password, params.new_password_confirm)
    row = await ctx.pool.fetchrow(
        "SELECT id, username, password_hash FROM users WHERE id = $1", actor.user_id
    )
    if row is None:
        raise RpcError("unauthenticated", "请先登录", 401)
    await lockout.count_reauthentication(ctx)
    if not await verify_password_async(row["password_hash"], params.old_password):
        problems["old_password"] = "原密码错误"
    elif params.old_password == params.new_password and not problems:
        problems["new_password"] = "新密码不能与原密码相同"
    if problems:
        raise _invalid(problems)
    new_hash = await hash_password_async(params.new_password)
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3"
            " WHERE id = $1",
            actor.user_id,
            new_hash,
            now,
        )
        await revoke_sessions(conn, actor.user_id, now, keep=actor.session_id)
        await trail.changed(conn, ctx, trail.account(row, "account.password_change"))
    return {"changed": True}


async def reset_password(params: ResetRequest, ctx: CallContext) -> dict:
    """Forgot password: a code sent to the registered mobile proves who is asking; every
    session of the account ends, as none of them is the asker's."""
    async with ctx.pool.acquire() as conn:
        await ctx.deps.rate_limits.hit(
            conn, "password_reset", params.client_ip, ctx.deps.clock.now()
        )
    problems = check_new_password(params.new_password, params.new_password_confirm)
    mobile, username = params.mobile.strip(), params.username.strip()
    if not params.sms_code.strip():
        problems["sms_code"] = "请填写短信验证码"
    if problems:
        raise _invalid(problems)
    row = await ctx.pool.fetchrow(
        "SELECT id, username, mobile_index FROM users WHERE lower(username) = lower($1)", username
    )
    if row is None or row["mobile_index"] != index(mobile, "mobile"):  # no code was sent
        raise _invalid({"sms_code": NO_CODE})
    new_hash = await hash_password_async(params.new_password)
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn:
        async with conn.transaction():
            problem = await consume_code(conn, ctx.deps, mobile, "reset_password", params.sms_code)
            if problem is None:
                await conn.execute(
                    "UPDATE users SET password_hash = $2, password_changed_at = $3,"
                    " locked_until = NULL, updated_at = $3 WHERE id = $1",
                    row["id"],
                    new_hash,
                    now,
                )
                await revoke_sessions(conn, row["id"], now)
                await lockout.forget_failures(conn, row["id"])
                await trail.changed(conn, ctx, trail.account(row, "account.password_reset"))
        if problem is not None:
            raise _invalid({"sms_code": problem})
    return {"reset": True}

"""The second step of a reviewer's sign-in: a code sent to the account's registered mobile.

A correct password opens a login challenge (login_challenges) and sends a code (sms_codes,
purpose login, with the per-mobile limits of every code); the challenge's id goes back to the
browser, and the code typed with it opens the session. A challenge lives a few minutes and
takes a few wrong codes over all its resent codes; each wrong code also counts as a failed
sign-in for the lockout (lockout.py), as a wrong password does.
"""

import uuid
from datetime import timedelta

from services.accounts import trail
from services.accounts.domain.second_factor import (
    NO_MOBILE,
    challenge_problem,
    wrong_code,
)
from services.accounts.handlers import lockout
from services.accounts.handlers.signin import disabled, open_session
from services.accounts.handlers.sms import EXPIRED, NO_CODE, consume_code, issue_code
from services.accounts.personal import index, unseal
from shared.contracts.accounts.rpc import ConfirmLogin, ResendLoginCode
from shared.masks import mask_mobile
from shared.rpc import CallContext, RpcError

CHALLENGE_USER = (
    "SELECT c.id AS challenge_id, c.status, c.attempts, c.expires_at, u.*,"
    " n.active AS unit_active, n.name AS unit_name FROM login_challenges c"
    " JOIN users u ON u.id = c.user_id LEFT JOIN units n ON n.id = u.unit_id WHERE c.id = $1"
)


async def registered_mobile(conn, user_id) -> str | None:
    """The mobile a login code goes to: the one place sign-in reads an account's mobile."""
    sealed = await conn.fetchval("SELECT mobile FROM users WHERE id = $1", user_id)
    return unseal(sealed, "users", "mobile")


def _code_field(message: str, status: int = 422, code: str = "invalid_input") -> RpcError:
    return RpcError(code, message, status, {"sms_code": message})


def _over(message: str) -> RpcError:
    return RpcError("login_challenge_over", message, 401, {"sms_code": message})


async def open_challenge(ctx: CallContext, user, client_ip: str) -> dict:
    """After a correct password: a challenge, and a code to the account's mobile."""
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn:
        mobile = await registered_mobile(conn, user["id"])
        if not mobile:
            await trail.sign_in_refused(conn, ctx, user, client_ip, "no_mobile")
            raise RpcError("no_mobile", NO_MOBILE, 403)
        challenge_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO login_challenges (id, user_id, status, client_ip, created_at,"
            " expires_at) VALUES ($1, $2, 'open', $3, $4, $5)",
            challenge_id,
            user["id"],
            client_ip,
            now,
            now + timedelta(minutes=ctx.deps.settings.login_challenge_minutes),
        )
    try:
        return {"second_factor": await _send(ctx, user, challenge_id, mobile, client_ip)}
    except RpcError as error:
        # Signing in again within the cooldown (after a typo on the code page, say): the code
        # sent a moment ago is still live and opens this challenge too.
        live = error.status == 429 and await _live_code(ctx, mobile)
        if not live:
            raise
        return {"second_factor": _step(challenge_id, mobile, live, ctx.deps)}


async def _live_code(ctx: CallContext, mobile: str) -> dict | None:
    row = await ctx.pool.fetchrow(
        "SELECT created_at, expires_at FROM sms_codes WHERE mobile_index = $1"
        " AND purpose = 'login' AND status = 'live' AND expires_at > $2"
        " ORDER BY created_at DESC LIMIT 1",
        index(mobile, "mobile"),
        ctx.deps.clock.now(),
    )
    return dict(row) if row else None


def _step(challenge_id, mobile: str, live: dict, deps) -> dict:
    now, cooldown = deps.clock.now(), deps.settings.sms_cooldown_seconds
    return {
        "challenge_id": str(challenge_id),
        "mobile": mask_mobile(mobile),
        "expires_in_seconds": max(1, int((live["expires_at"] - now).total_seconds())),
        "cooldown_seconds": max(0, cooldown - int((now - live["created_at"]).total_seconds())),
    }


async def _send(ctx: CallContext, user, challenge_id, mobile: str, client_ip: str) -> dict:
    try:
        sent = await issue_code(ctx, mobile, "login", client_ip)
    except RpcError as error:  # the per-mobile limits speak of the code, not of a mobile field
        raise RpcError(
            error.code, error.message, error.status, {"sms_code": error.message}, error.details
        ) from None
    async with ctx.pool.acquire() as conn:
        await trail.code_sent(conn, ctx, user, client_ip, challenge_id)
    return {
        "challenge_id": str(challenge_id),
        "mobile": mask_mobile(mobile),
        "expires_in_seconds": sent["expires_in_seconds"],
        "cooldown_seconds": sent["cooldown_seconds"],
    }


async def _challenge(conn, ctx: CallContext, challenge_id: str):
    """The open challenge with its account, or 401."""
    try:
        key = uuid.UUID(challenge_id)
    except ValueError:
        key = None
    row = key and await conn.fetchrow(CHALLENGE_USER, key)
    max_attempts = ctx.deps.settings.sms_code_max_attempts
    problem = challenge_problem(row, ctx.deps.clock.now(), max_attempts)
    if problem:
        raise _over(problem)
    return row


async def resend_code(params: ResendLoginCode, ctx: CallContext) -> dict:
    """重新获取: another code for an open challenge, within the per-mobile limits."""
    async with ctx.pool.acquire() as conn:
        user = await _challenge(conn, ctx, params.challenge_id)
        mobile = await registered_mobile(conn, user["id"])
    if not mobile:
        raise RpcError("no_mobile", NO_MOBILE, 403)
    return await _send(ctx, user, user["challenge_id"], mobile, params.client_ip)


async def confirm(params: ConfirmLogin, ctx: CallContext) -> dict:
    """The code typed: the session, or why not (a wrong code counts as a failed sign-in)."""
    deps, code = ctx.deps, params.sms_code.strip()
    now = deps.clock.now()
    if not code:
        raise _code_field("请填写短信验证码")
    async with ctx.pool.acquire() as conn:
        await deps.rate_limits.hit(conn, "login_code", params.client_ip, now)
        user = await _challenge(conn, ctx, params.challenge_id)
        username_key = user["username"].lower()
        try:
            await lockout.check(conn, deps.settings, user, username_key, params.client_ip, now)
            if not user["active"] or user["unit_active"] is False:
                raise disabled(user)
        except RpcError as refused:
            await trail.sign_in_refused(conn, ctx, user, params.client_ip, refused.code)
            raise
        mobile = await registered_mobile(conn, user["id"])
        async with conn.transaction():
            outcome = await _try_code(conn, ctx, user, mobile, code, params)
        if isinstance(outcome, dict):
            return outcome
        problem, attempts = outcome
        if problem in (NO_CODE, EXPIRED):  # no guess was made: nothing to count
            raise _code_field(problem)
        await lockout.record_failure(
            conn, ctx, user, username_key, params.client_ip, now, "wrong_sms_code"
        )
    message = wrong_code(attempts, deps.settings.sms_code_max_attempts)
    if attempts >= deps.settings.sms_code_max_attempts:
        raise _over(message)
    raise _code_field(message)


async def _try_code(conn, ctx: CallContext, user, mobile, code: str, params: ConfirmLogin):
    """In one transaction: the session (a dict), or (the code's problem, wrong tries so far).
    The challenge row is locked first, so two codes typed at once are taken one by one."""
    status = await conn.fetchval(
        "SELECT status FROM login_challenges WHERE id = $1 FOR UPDATE", user["challenge_id"]
    )
    if status != "open":
        raise _over(challenge_problem(None, ctx.deps.clock.now(), 0))
    problem = await consume_code(conn, ctx.deps, mobile or "", "login", code)
    if problem is None:
        await conn.execute(
            "UPDATE login_challenges SET status = 'passed' WHERE id = $1", user["challenge_id"]
        )
        return await open_session(conn, ctx, user, params.client_ip, params.user_agent)
    if problem in (NO_CODE, EXPIRED):
        return problem, user["attempts"]
    attempts = await conn.fetchval(
        "UPDATE login_challenges SET attempts = attempts + 1,"
        " status = CASE WHEN attempts + 1 >= $2 THEN 'dead' ELSE status END"
        " WHERE id = $1 RETURNING attempts",
        user["challenge_id"],
        ctx.deps.settings.sms_code_max_attempts,
    )
    return problem, attempts

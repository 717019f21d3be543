"""The end of every sign-in: the session, in one transaction with its audit rows. Shared by
the password step (auth.py) and, for reviewers, the code step (second_factor.py)."""

from datetime import timedelta

from services.accounts import trail
from services.accounts.domain.credentials import new_token, token_digest
from services.accounts.handlers import lockout
from services.accounts.views import user_view
from shared.rpc import CallContext, RpcError


async def open_session(conn, ctx: CallContext, user, client_ip: str, user_agent: str) -> dict:
    """The sign-in's writes, audit rows last, in the caller's transaction: the LoggedIn."""
    deps = ctx.deps
    now = deps.clock.now()
    # Asked before record_success makes the address a usual one.
    usual = await lockout.is_usual(conn, deps.settings, user["id"], client_ip, now)
    await lockout.record_success(conn, user["id"], user["username"].lower(), client_ip, now)
    token, csrf = new_token(), new_token()
    session_id = await conn.fetchval(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at,"
        " expires_at, client_ip, user_agent) VALUES ($1, $2, $3, $4, $4, $5, $6, $7)"
        " RETURNING id",
        token_digest(token),
        user["id"],
        csrf,
        now,
        now + timedelta(hours=deps.settings.session_max_hours),
        client_ip,
        user_agent[:300],
    )
    await trail.signed_in(conn, ctx, user, user["unit_name"], client_ip, session_id)
    if client_ip and not usual:
        await trail.new_address(conn, ctx, user, user["unit_name"], client_ip, session_id)
    return {
        "token": token,
        "csrf_token": csrf,
        "session_id": str(session_id),
        "user": user_view(user, user["unit_name"]),
    }


async def save_rehash(conn, user_id, new_hash: str | None) -> None:
    if new_hash is not None:
        await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, new_hash)


def disabled(user) -> RpcError:
    """A unit's people ask their unit admin; reviewer accounts ask the system administrator."""
    manager = "单位管理员" if user["unit_id"] else "系统管理员"
    return RpcError("account_disabled", f"该账户已停用，请联系{manager}", 403)

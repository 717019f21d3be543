"""登录设备: a person's own active sessions, listed and ended one by one or all but this one.

A session is named outside by its public id, never by its token. Everyone reaches only their
own: another person's session id answers as if there were no such session.
"""

import uuid
from datetime import datetime, timedelta

from services.accounts import trail
from services.accounts.domain.user_agent import browser_name
from shared.audit import Entry
from shared.contracts.accounts.rpc import SessionRef
from shared.rpc import Actor, CallContext, RpcError

# Not revoked, not past its absolute limit, not idle too long: $2 is now, $3 the idle limit.
ACTIVE = "revoked_at IS NULL AND expires_at > $2 AND last_seen_at + $3 > $2"


def _signed_in(actor: Actor) -> uuid.UUID:
    if actor.user_id is None:
        raise RpcError("unauthenticated", "请先登录", 401)
    return actor.user_id


def _window(ctx: CallContext) -> tuple[datetime, timedelta]:
    deps = ctx.deps
    return deps.clock.now(), timedelta(minutes=deps.settings.session_idle_minutes)


def session_view(row, current_id: uuid.UUID | None) -> dict:
    return {
        "id": str(row["id"]),
        "current": row["id"] == current_id,
        "created_at": row["created_at"].isoformat(),
        "last_seen_at": row["last_seen_at"].isoformat(),
        "expires_at": row["expires_at"].isoformat(),
        "client_ip": row["client_ip"],
        "user_agent": row["user_agent"],
        "browser": browser_name(row["user_agent"]),
    }


async def list_sessions(_params, ctx: CallContext) -> dict:
    user_id = _signed_in(ctx.actor)
    rows = await ctx.pool.fetch(
        f"SELECT * FROM sessions WHERE user_id = $1 AND {ACTIVE}"
        " ORDER BY id = $4 DESC, last_seen_at DESC, created_at DESC",
        user_id,
        *_window(ctx),
        ctx.actor.session_id,
    )
    return {"items": [session_view(row, ctx.actor.session_id) for row in rows]}


async def end_session(params: SessionRef, ctx: CallContext) -> dict:
    user_id = _signed_in(ctx.actor)
    if params.session_id == ctx.actor.session_id:
        raise RpcError("current_session", "当前设备请使用“退出”结束登录", 409)
    async with ctx.pool.acquire() as conn, conn.transaction():
        ended = await conn.fetchval(
            f"UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND {ACTIVE} AND id = $4"
            " RETURNING id",
            user_id,
            *_window(ctx),
            params.session_id,
        )
        if ended is not None:
            await trail.changed(conn, ctx, Entry("session.end", "session", ended))
    if ended is None:
        raise RpcError("not_found", "该登录设备不存在或已退出", 404)
    return {"ended": 1}


async def end_other_sessions(_params, ctx: CallContext) -> dict:
    user_id = _signed_in(ctx.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        status = await conn.execute(
            f"UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND {ACTIVE}"
            " AND id IS DISTINCT FROM $4",
            user_id,
            *_window(ctx),
            ctx.actor.session_id,
        )
        ended = int(status.split()[-1])
        if ended:
            entry = Entry(
                "session.end", "user", user_id, ctx.actor.username, details={"ended": ended}
            )
            await trail.changed(conn, ctx, entry)
    return {"ended": ended}


async def revoke_sessions(conn, user_id, now, keep: uuid.UUID | None = None) -> None:
    """End every session of the user but `keep` (the caller's own, on a change they made)."""
    await conn.execute(
        "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL"
        " AND id IS DISTINCT FROM $3",
        user_id,
        now,
        keep,
    )

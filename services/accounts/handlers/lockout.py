"""Lockout that protects an account without letting a stranger lock its owner out.

Wrong passwords are counted per (account, client address) first: five within 15 minutes
pause that address's logins to that account for 15 minutes, and nobody else's. The account
itself is locked only after 100 wrong passwords within an hour from anywhere (ASVS 2.2.1),
which takes a stranger many addresses; even then the lock keeps out only addresses the
account was never used from, so its owner, at a usual address and with a solved captcha,
still logs in. The owner is told of the lock by SMS (at most once a day). The numbers are
settings (services/accounts/settings.py); docs/security.md explains the choice.
"""

import math
from datetime import timedelta

from services.accounts import trail
from services.accounts.personal import for_transit, unseal
from shared.contracts.accounts.events import ACCOUNT_LOCKED, AccountLocked
from shared.envelope import new_event
from shared.outbox import add_to_outbox
from shared.rpc import RpcError

NOTIFY_AGAIN_AFTER = timedelta(days=1)


async def check(conn, settings, user, username_key: str, client_ip: str, now) -> None:
    """Refuse, before the password is checked, an address paused for this account, and an
    unusual address while the account is locked."""
    wait = await _pair_pause(conn, settings, username_key, client_ip, now)
    if wait is not None:
        raise _paused(wait)
    if user is not None and _locked_at(user, now):
        if not await is_usual(conn, settings, user["id"], client_ip, now):
            raise _locked(user["locked_until"], now)


async def record_failure(
    conn, ctx, user, username_key: str, client_ip: str, now, code: str = "bad_credentials"
) -> None:
    """Count a wrong password (or a wrong login code: `code`), and write it to the audit
    trail; the one that reaches a limit answers with the pause or lock."""
    settings = ctx.deps.settings
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO login_failures (username_key, at, client_ip) VALUES ($1, $2, $3)",
            username_key,
            now,
            client_ip,
        )
        locked_until = None
        if user is not None:
            locked_until = await _lock_if_hammered(conn, settings, user, username_key, now)
        await trail.sign_in_refused(conn, ctx, user, client_ip, code)
    wait = await _pair_pause(conn, settings, username_key, client_ip, now)
    if wait is not None:
        raise _paused(wait)
    if locked_until is not None and not await is_usual(conn, settings, user["id"], client_ip, now):
        raise _locked(locked_until, now)


async def record_success(conn, user_id, username_key: str, client_ip: str, now) -> None:
    """The pair starts afresh, and the address becomes (or stays) one of the owner's.

    Failures from other addresses stay counted: an attack elsewhere goes on."""
    await conn.execute(
        "DELETE FROM login_failures WHERE username_key = $1 AND client_ip = $2",
        username_key,
        client_ip,
    )
    if client_ip:
        await conn.execute(
            "INSERT INTO login_addresses (user_id, client_ip, last_success_at)"
            " VALUES ($1, $2, $3) ON CONFLICT (user_id, client_ip)"
            " DO UPDATE SET last_success_at = excluded.last_success_at",
            user_id,
            client_ip,
            now,
        )


async def _pair_pause(conn, settings, username_key: str, client_ip: str, now) -> int | None:
    """Seconds this address must still wait before trying this account, or None."""
    window_start = now - timedelta(minutes=settings.login_failure_window_minutes)
    row = await conn.fetchrow(
        "SELECT count(*) AS failures, max(at) AS last FROM login_failures"
        " WHERE username_key = $1 AND client_ip = $2 AND at > $3",
        username_key,
        client_ip,
        window_start,
    )
    if row["failures"] < settings.login_max_failures:
        return None
    resume = row["last"] + timedelta(minutes=settings.login_lock_minutes)
    wait = math.ceil((resume - now).total_seconds())
    return wait if wait > 0 else None


async def _lock_if_hammered(conn, settings, user, username_key: str, now):
    """Lock the account when the failures from anywhere reach the limit; the new lock's end.

    Only the first failure over the limit locks (the row lock of the UPDATE orders racing
    ones), so one lock is one event and at most one SMS."""
    window_start = now - timedelta(minutes=settings.account_failure_window_minutes)
    counted = await conn.fetchrow(
        "SELECT count(*) AS failures, count(DISTINCT client_ip) AS addresses"
        " FROM login_failures WHERE username_key = $1 AND at > $2",
        username_key,
        window_start,
    )
    if counted["failures"] < settings.account_max_failures:
        return _locked_at(user, now)
    locked_until = now + timedelta(minutes=settings.account_lock_minutes)
    locked = await conn.fetchrow(
        "UPDATE users SET locked_until = $2,"
        " lock_notified_at = CASE WHEN lock_notified_at IS NULL OR lock_notified_at < $4"
        " THEN $3 ELSE lock_notified_at END"
        " WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $3)"
        " RETURNING username, mobile, lock_notified_at = $3 AS notify_owner",
        user["id"],
        locked_until,
        now,
        now - NOTIFY_AGAIN_AFTER,
    )
    if locked is None:  # locked already, by this failure's twin
        return await conn.fetchval("SELECT locked_until FROM users WHERE id = $1", user["id"])
    event = AccountLocked(
        user_id=str(user["id"]),
        username=locked["username"],
        mobile=for_transit(unseal(locked["mobile"], "users", "mobile")),
        locked_until=locked_until.isoformat(),
        failures=counted["failures"],
        addresses=counted["addresses"],
        notify_owner=locked["notify_owner"],
    )
    await add_to_outbox(conn, new_event(ACCOUNT_LOCKED.type, event, "accounts"))
    return locked_until


def _locked_at(user, now):
    until = user["locked_until"]
    return until if until is not None and until > now else None


async def is_usual(conn, settings, user_id, client_ip: str, now) -> bool:
    if not client_ip:
        return False
    since = now - timedelta(days=settings.usual_address_days)
    return await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM login_addresses"
        " WHERE user_id = $1 AND client_ip = $2 AND last_success_at > $3)",
        user_id,
        client_ip,
        since,
    )


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def _paused(wait: int) -> RpcError:
    message = f"该账户在您当前网络上登录失败次数过多，请 {_minutes(wait)} 分钟后再试"
    return RpcError("login_paused", message, 429, {"username": message}, {"retry_after": wait})


def _locked(until, now) -> RpcError:
    wait = max(1, math.ceil((until - now).total_seconds()))
    message = (
        f"该账户近期登录失败次数过多，已暂停在新的网络上登录，请 {_minutes(wait)} 分钟后再试，"
        "或通过“忘记密码”重设密码"
    )
    return RpcError("account_locked", message, 423, {"username": message}, {"retry_after": wait})


async def count_reauthentication(ctx) -> None:
    """Each time a signed-in person types their current password again (rate-limited)."""
    async with ctx.pool.acquire() as conn:
        await ctx.deps.rate_limits.hit(conn, "reauth", str(ctx.actor.user_id), ctx.deps.clock.now())


async def forget_failures(conn, user_id) -> None:
    """A new password set by its owner (SMS) or a manager starts the counts afresh."""
    await conn.execute(
        "DELETE FROM login_failures WHERE username_key ="
        " (SELECT lower(username) FROM users WHERE id = $1)",
        user_id,
    )

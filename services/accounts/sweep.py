"""The accounts sweep: what has expired goes, so the tables hold only what is still used.

- captchas: a few minutes after they expired (a form open that long is refreshed anyway);
- SMS codes: after two days (the daily caps count today's codes, in Shenzhen's day);
- login challenges: a day after they expired;
- sessions: `session_keep_days` after their absolute end (ended ones end sooner still);
- failed logins: once older than the longest window that counts them;
- login addresses: once older than `usual_address_days`;
- rate-limit counters whose windows are over (shared/rate_limit.py).
"""

import logging
from datetime import timedelta

from shared.rate_limit import sweep as sweep_rate_counts

log = logging.getLogger(__name__)

BATCH = 5000  # rows one statement deletes: a long backlog goes in short transactions


async def sweep(pool, deps) -> dict[str, int]:
    """Delete what has expired; the number of rows deleted per table."""
    settings, now = deps.settings, deps.clock.now()
    failure_window = max(
        settings.login_failure_window_minutes, settings.account_failure_window_minutes
    )
    cutoffs = {
        "captchas": ("expires_at", now - timedelta(minutes=5)),
        "sms_codes": ("created_at", now - timedelta(days=2)),
        "login_challenges": ("expires_at", now - timedelta(days=1)),
        "sessions": ("expires_at", now - timedelta(days=settings.session_keep_days)),
        "login_failures": ("at", now - timedelta(minutes=failure_window)),
        "login_addresses": ("last_success_at", now - timedelta(days=settings.usual_address_days)),
    }
    removed = {}
    async with pool.acquire() as conn:
        for table, (column, cutoff) in cutoffs.items():
            removed[table] = await _delete_before(conn, table, column, cutoff)
        removed["rate_limit_counts"] = await sweep_rate_counts(conn, now, deps.rate_limits.table)
    if any(removed.values()):
        log.info("sweep removed %s", {k: v for k, v in removed.items() if v})
    return removed


async def _delete_before(conn, table: str, column: str, cutoff) -> int:
    total = 0
    while True:
        status = await conn.execute(
            f"DELETE FROM {table} WHERE ctid IN"
            f" (SELECT ctid FROM {table} WHERE {column} < $1 LIMIT {BATCH})",
            cutoff,
        )
        deleted = int(status.split()[-1])
        total += deleted
        if deleted < BATCH:
            return total

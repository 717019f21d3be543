"""Rate limits that hold across every copy of every process: counters kept in PostgreSQL.

`LIMITS` is the one table of what is limited, per what key, how many in what window. A
service counts a hit with `RateLimiter.hit(conn, what, key, now)`; past the limit it answers
429 with the seconds to wait (`details.retry_after`, sent by the gateway as `Retry-After`)
and a Chinese message.

The count is a sliding window estimated from two fixed windows (the current one and the one
before, weighted by how much of it still overlaps the last `window` seconds), so a burst at
the edge of a window cannot pass twice the limit. Refused hits count too: a client that keeps
hammering stays refused until it slows down. Each service keeps its counters in its own
schema (table `rate_limit_counts`, shared/migrations/0002_rate_limits.sql); the sweep drops
counters whose windows are over.

The SMS code caps per mobile and per client address per day are counted from the codes
themselves (services/accounts/handlers/sms.py), and failed logins per account and per
(account, address) from login_failures (services/accounts/handlers/auth.py): docs/security.md
lists them all beside this table.
"""

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.rpc import RpcError


@dataclass(frozen=True)
class Limit:
    what: str  # the name in the table and in ZC_RATE_LIMITS
    per: str  # what the key is, as the docs say it
    limit: int
    window_seconds: int
    message: str  # what the person was doing too often, in Chinese


LIMITS: dict[str, Limit] = {
    limit.what: limit
    for limit in (
        # One per login page view: an office of 100 behind one address on a deadline morning
        # stays well under it; a script asking for images to train a solver does not.
        Limit("captcha", "client address", 120, 600, "获取图片验证码过于频繁"),
        # Every attempt, right or wrong, whatever the username: stops one address trying
        # passwords across many accounts (guesses at one account meet the lockout first).
        Limit("login", "client address", 100, 600, "登录尝试过于频繁"),
        # Login codes typed (the reviewers' second step), right or wrong, over every challenge:
        # each challenge and each code die after a few wrong tries; this caps an address.
        Limit("login_code", "client address", 30, 600, "登录验证码尝试过于频繁"),
        Limit("password_reset", "client address", 20, 3600, "找回密码尝试过于频繁"),
        # The current password asked again (password or mobile change): a stolen session
        # must not become a way to guess the password without the login's lockout.
        Limit("reauth", "user", 10, 900, "密码验证过于频繁"),
        # A job renders up to hundreds of pages on the shared render pool.
        Limit("print_job", "user", 30, 600, "提交打印任务过于频繁"),
        # An export reads a whole list (up to a million rows) and builds a file of it.
        Limit("export_job", "user", 30, 600, "导出过于频繁"),
        # Public certificate verification: an employer checks a few, an HR system its batch
        # slowly; guessing a code (31^8) or walking the numbers for names does not get far.
        Limit("verify", "client address", 60, 600, "证书查询过于频繁"),
        # Objections from the public page: a person raises one or two; each also costs an SMS
        # code, which accounts caps per mobile and per address as well.
        Limit("objection", "client address", 10, 3600, "提交异议过于频繁"),
    )
}


class RateLimitSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_", extra="ignore")

    rate_limits: dict[str, str] = Field(
        {},
        description="Limits other than the table in shared/rate_limit.py, as JSON"
        ' {"captcha": "120/600"}: hits per seconds, per key.',
    )


def parse_limits(overrides: dict[str, str]) -> dict[str, Limit]:
    """The table with the overrides applied; an unknown name or a bad value stops start-up."""
    table = dict(LIMITS)
    for what, text in overrides.items():
        if what not in table:
            raise ValueError(f"ZC_RATE_LIMITS: no limit named {what!r} (known: {sorted(table)})")
        count, _, seconds = text.partition("/")
        try:
            limit, window = int(count), int(seconds)
        except ValueError:
            raise ValueError(f"ZC_RATE_LIMITS: {what}={text!r} is not hits/seconds") from None
        if limit < 1 or window < 1:
            raise ValueError(f"ZC_RATE_LIMITS: {what}={text!r} must be positive")
        table[what] = replace(table[what], limit=limit, window_seconds=window)
    return table


def window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = now.timestamp()
    return datetime.fromtimestamp(epoch - epoch % window_seconds, now.tzinfo)


def estimate(previous: int, current: int, elapsed: float, window: int) -> float:
    """Hits in the last `window` seconds, `elapsed` seconds into the current fixed window."""
    return previous * (1 - elapsed / window) + current


def one_more_fits(previous: int, current: int, elapsed: float, limit: int, window: int) -> bool:
    """Whether a hit may pass when `previous` and `current` hits are counted already."""
    # The tolerance keeps float rounding (30 * 0.3 = 9.000000000000002) from refusing a hit
    # at the very second the wait said it would pass.
    return estimate(previous, current, elapsed, window) + 1 <= limit + 1e-9


def seconds_to_wait(previous: int, current: int, elapsed: float, limit: int, window: int) -> int:
    """How long, with no more hits, until one more hit fits under the limit again."""
    room = limit - 1  # the hits that may already be in the window when one more comes
    if current > room:
        # The current window's hits must first become the previous window's, then fade.
        wait = (window - elapsed) + window * (1 - room / current)
    else:
        # The previous window's share fades as the current window goes on.
        wait = window * (1 - (room - current) / previous) - elapsed if previous else 0
    return max(1, math.ceil(wait))


def too_many(limit: Limit, wait: int) -> RpcError:
    minutes = -(-wait // 60)
    when = f"{wait} 秒" if wait < 60 else f"{minutes} 分钟"
    return RpcError(
        "too_many_requests",
        f"{limit.message}，请 {when}后再试",
        429,
        details={"retry_after": wait},
    )


@dataclass(frozen=True)
class Counting:
    """One hit being counted inside a statement: `ctes` go into its WITH clause, `columns`
    into its select list (the counts `check` reads), and `fits` is the SQL truth of
    one_more_fits, for a statement that should write something only when the hit passes
    (certificate verification records its query in the same round trip). `params` fill
    the placeholders from $`first`."""

    limit: Limit
    elapsed: float
    params: tuple
    first: int

    def _p(self, n: int) -> str:
        return f"${self.first + n}"

    @property
    def ctes(self) -> str:
        what, key, start, previous_start = (self._p(n) for n in range(4))
        return (
            "rate_counted AS ("
            " INSERT INTO rate_limit_counts (what, key, window_start, hits)"
            f" VALUES ({what}, {key}, {start}, 1)"
            " ON CONFLICT (what, key, window_start)"
            " DO UPDATE SET hits = rate_limit_counts.hits + 1 RETURNING hits),"
            " rate_previous AS (SELECT hits FROM rate_limit_counts"
            f" WHERE what = {what} AND key = {key} AND window_start = {previous_start})"
        )

    @property
    def columns(self) -> str:
        return (
            "(SELECT hits FROM rate_counted) AS rate_current,"
            " coalesce((SELECT hits FROM rate_previous), 0) AS rate_previous"
        )

    @property
    def fits(self) -> str:
        # one_more_fits(previous, current - 1, ...) in the same float8 steps as Python's
        # (tests/integration/test_rate_limits.py checks the two against each other).
        elapsed, window, limit = (self._p(n) for n in range(4, 7))
        return (
            f"(coalesce((SELECT hits FROM rate_previous), 0)::float8"
            f" * (1 - {elapsed}::float8 / {window}::float8)"
            f" + (SELECT hits FROM rate_counted) <= {limit}::float8 + 1e-9)"
        )

    def check(self, row) -> None:
        """Raise 429 when the hit just counted does not fit (`row` has the `columns`)."""
        previous, current = row["rate_previous"], row["rate_current"]
        limit, window = self.limit.limit, self.limit.window_seconds
        # The hit just counted is the one asked about: it passes while the rest fit under.
        if not one_more_fits(previous, current - 1, self.elapsed, limit, window):
            wait = seconds_to_wait(previous, current, self.elapsed, limit, window)
            raise too_many(self.limit, wait)


class RateLimiter:
    def __init__(self, settings: RateLimitSettings | None = None) -> None:
        self.table = parse_limits((settings or RateLimitSettings()).rate_limits)

    def counting(self, what: str, key: str, now: datetime, first: int = 1) -> Counting:
        """A hit of `what` by `key` to count inside the caller's own statement, its
        placeholders numbered from $`first`."""
        limit = self.table[what]
        start = window_start(now, limit.window_seconds)
        previous_start = start - timedelta(seconds=limit.window_seconds)
        elapsed = (now - start).total_seconds()
        params = (what, key, start, previous_start, elapsed, limit.window_seconds, limit.limit)
        return Counting(limit, elapsed, params, first)

    async def hit(self, conn, what: str, key: str, now: datetime) -> None:
        """Count one hit of `what` by `key`; raise 429 past the limit."""
        counting = self.counting(what, key, now)
        row = await conn.fetchrow(
            f"WITH {counting.ctes} SELECT {counting.columns}", *counting.params[:4]
        )
        counting.check(row)


async def sweep(conn, now: datetime, table: dict[str, Limit]) -> int:
    """Drop the counters no estimate reads any more; the number dropped."""
    longest = max(limit.window_seconds for limit in table.values())
    status = await conn.execute(
        "DELETE FROM rate_limit_counts WHERE window_start < $1",
        now - timedelta(seconds=2 * longest),
    )
    return int(status.split()[-1])

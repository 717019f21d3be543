"""Rate-limit counters in PostgreSQL and the accounts sweep (issue 19)."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.accounts.domain.credentials import token_digest
from services.accounts.personal import index, seal
from services.accounts.sweep import sweep
from shared.rate_limit import Counting, RateLimiter, RateLimitSettings, one_more_fits
from shared.rpc import RpcError


def limiter(**limits: str) -> RateLimiter:
    return RateLimiter(RateLimitSettings(rate_limits=limits))


async def hits_passed(pool, rate: RateLimiter, key: str, now, count: int) -> int:
    async def one() -> bool:
        async with pool.acquire() as conn:
            try:
                await rate.hit(conn, "captcha", key, now)
            except RpcError:
                return False
            return True

    return sum(await asyncio.gather(*(one() for _ in range(count))))


async def test_concurrent_hits_from_two_limiters_pass_exactly_the_limit(accounts):
    """Two limiters stand for two processes: only the table is shared."""
    pool, key = accounts.service.pool, f"k-{uuid.uuid4()}"
    now = datetime(2026, 12, 4, 10, 0, 5, tzinfo=UTC)
    first, second = limiter(captcha="25/600"), limiter(captcha="25/600")
    passed = await asyncio.gather(
        hits_passed(pool, first, key, now, 30), hits_passed(pool, second, key, now, 30)
    )
    assert sum(passed) == 25


async def test_the_window_slides_so_a_burst_at_the_edge_does_not_pass_twice(accounts):
    pool, key, rate = accounts.service.pool, f"k-{uuid.uuid4()}", limiter(captcha="10/600")
    end_of_window = datetime(2026, 12, 4, 10, 9, 59, tzinfo=UTC)
    assert await hits_passed(pool, rate, key, end_of_window, 10) == 10
    start_of_next = end_of_window + timedelta(seconds=2)
    assert await hits_passed(pool, rate, key, start_of_next, 10) == 0  # not 10 more
    async with pool.acquire() as conn:
        with pytest.raises(RpcError) as refused:
            await rate.hit(conn, "captcha", key, start_of_next)
    # Every refused hit counted too: the next window's 21 must fade below 10 first.
    wait = refused.value.details["retry_after"]
    assert 600 < wait <= 1200
    later = start_of_next + timedelta(seconds=wait)
    assert await hits_passed(pool, rate, key, later, 1) == 1


@pytest.mark.parametrize("limit,window", [(3, 600), (60, 600), (10, 3600), (25, 7)])
async def test_the_sql_of_a_hit_that_fits_agrees_with_one_more_fits(accounts, limit, window):
    """A statement that writes only when the hit passes (certificate verification) judges
    it in SQL: the same answer as Python's at every count and moment, edges included."""
    rate = limiter(captcha=f"{limit}/{window}")
    counting = rate.counting("captcha", "k", datetime(2026, 12, 4, tzinfo=UTC), first=-1)
    # rate_counted and rate_previous stand for the counts; $3..$5 are elapsed, window, limit
    statement = (
        "WITH rate_counted AS (SELECT $1::int AS hits), rate_previous AS (SELECT $2::int AS"
        f" hits) SELECT {counting.fits}"
    )
    cases = [
        (current, previous, elapsed)
        for current in range(1, 2 * limit + 2)
        for previous in range(0, 2 * limit + 2)
        for elapsed in (0.0, window * 0.3, window / 3, window / 2, window * 0.9999, window - 1)
    ]
    async with accounts.service.pool.acquire() as conn:
        sql = [
            await conn.fetchval(statement, current, previous, elapsed, window, limit)
            for current, previous, elapsed in cases
        ]
    python = [one_more_fits(p, c - 1, e, limit, window) for c, p, e in cases]
    assert sql == python
    assert any(python) and not all(python)


def test_a_counting_numbers_its_placeholders_from_where_it_is_told():
    counting = limiter().counting("verify", "192.0.2.1", datetime(2026, 12, 4, tzinfo=UTC), 9)
    assert isinstance(counting, Counting) and len(counting.params) == 7
    assert "$9" in counting.ctes and "$12" in counting.ctes and "$13" not in counting.ctes
    assert all(f"${n}" in counting.fits for n in (13, 14, 15))


async def test_the_sweep_purges_what_expired_and_keeps_what_is_live(accounts, accounts_deps):
    pool, now = accounts.service.pool, accounts_deps.clock.now()
    old, fresh = now - timedelta(days=40), now + timedelta(minutes=5)
    user = await pool.fetchval("SELECT id FROM users LIMIT 1")
    if user is None:
        _, admin = await accounts.new_unit_admin()
        user = admin.user_id
    marks = {}
    async with pool.acquire() as conn:
        for label, expires in (("old", old), ("fresh", fresh)):
            captcha, code, token = uuid.uuid4(), uuid.uuid4(), uuid.uuid4().hex
            marks[label] = (captcha, code, token)
            await conn.execute(
                "INSERT INTO captchas (id, answer_hash, expires_at) VALUES ($1, 'x', $2)",
                captcha,
                expires,
            )
            await conn.execute(
                "INSERT INTO sms_codes (id, mobile, mobile_index, purpose, code_hash, status,"
                " created_at, expires_at) VALUES ($1, $3, $4, 'register', 'x', 'dead', $2, $2)",
                code,
                expires,
                seal("13900000000", "sms_codes", "mobile"),
                index("13900000000", "mobile"),
            )
            await conn.execute(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at,"
                " last_seen_at, expires_at) VALUES ($1, $2, 'c', $3, $3, $3)",
                token_digest(token),
                user,
                expires,
            )
            await conn.execute(
                "INSERT INTO login_failures (username_key, at, client_ip) VALUES ($1, $2, 'x')",
                f"sweep-{label}",
                expires,
            )
            await conn.execute(
                "INSERT INTO login_challenges (id, user_id, status, created_at, expires_at)"
                " VALUES ($1, $2, 'open', $3, $3)",
                code,
                user,
                expires,
            )
            await conn.execute(
                "INSERT INTO rate_limit_counts (what, key, window_start, hits)"
                " VALUES ('captcha', $1, $2, 1)",
                f"sweep-{label}",
                expires,
            )

    removed = await sweep(pool, accounts_deps)

    assert all(removed[table] >= 1 for table in removed if table != "login_addresses")
    async with pool.acquire() as conn:
        for label, present in (("old", False), ("fresh", True)):
            captcha, code, token = marks[label]
            found = await conn.fetchrow(
                "SELECT EXISTS (SELECT 1 FROM captchas WHERE id = $1) AS captcha,"
                " EXISTS (SELECT 1 FROM sms_codes WHERE id = $2) AS code,"
                " EXISTS (SELECT 1 FROM sessions WHERE token_hash = $3) AS session,"
                " EXISTS (SELECT 1 FROM login_failures WHERE username_key = $4) AS failure,"
                " EXISTS (SELECT 1 FROM login_challenges WHERE id = $2) AS challenge,"
                " EXISTS (SELECT 1 FROM rate_limit_counts WHERE key = $4) AS counter",
                captcha,
                code,
                token_digest(token),
                f"sweep-{label}",
            )
            assert dict(found) == dict.fromkeys(found.keys(), present), label


async def test_typing_the_current_password_again_is_rate_limited_per_person(
    accounts, accounts_deps
):
    """A stolen session must not guess the password through the change forms."""
    _, admin = await accounts.new_unit_admin()
    kept = accounts_deps.rate_limits
    accounts_deps.rate_limits = limiter(reauth="3/900")
    wrong = {"old_password": "Wrong0pass", "new_password": "Newpass12"}
    wrong["new_password_confirm"] = "Newpass12"
    try:
        for _ in range(3):
            with pytest.raises(RpcError) as refused:
                await accounts.call("auth.change_password", wrong, actor=admin)
            assert refused.value.fields == {"old_password": "原密码错误"}
        with pytest.raises(RpcError) as limited:
            await accounts.call("auth.change_password", wrong, actor=admin)
        assert (limited.value.status, limited.value.code) == (429, "too_many_requests")
        assert limited.value.message.startswith("密码验证过于频繁")
    finally:
        accounts_deps.rate_limits = kept

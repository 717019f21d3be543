"""shared/db.transaction_begun_with: BEGIN and a first statement in one round trip, on a real
PostgreSQL: committed, rolled back, or the connection dropped, never half-done."""

import asyncio
import uuid

import asyncpg
import pytest

from shared.db import sql_literal, transaction_begun_with


@pytest.fixture
async def table(settings):
    """A table of the test's own, dropped after it."""
    name = f"begun_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(settings.database_url)
    await admin.execute(f"CREATE TABLE {name} (n int PRIMARY KEY)")
    yield name
    await admin.execute(f"DROP TABLE {name}")
    await admin.close()


@pytest.fixture
async def conn(settings, table):
    conn = await asyncpg.connect(settings.database_url)
    yield conn
    await conn.close()


async def rows(settings, table: str) -> list[int]:
    """What another connection sees: only what was committed."""
    other = await asyncpg.connect(settings.database_url)
    try:
        return [r["n"] for r in await other.fetch(f"SELECT n FROM {table} ORDER BY n")]
    finally:
        await other.close()


async def test_the_first_statement_and_the_rest_commit_together(settings, conn, table):
    first = f"INSERT INTO {table} VALUES (1) ON CONFLICT DO NOTHING"
    async with transaction_begun_with(conn, first) as status:
        assert status == "INSERT 0 1"
        assert conn.is_in_transaction()
        assert await rows(settings, table) == []  # not yet committed
        await conn.execute(f"INSERT INTO {table} VALUES (2)")
    assert not conn.is_in_transaction()
    assert await rows(settings, table) == [1, 2]

    async with transaction_begun_with(conn, first) as status:
        assert status == "INSERT 0 0"  # the row was there: how the inbox tells a duplicate


async def test_a_block_that_raises_leaves_nothing_behind(settings, conn, table):
    with pytest.raises(RuntimeError, match="half-way"):
        async with transaction_begun_with(conn, f"INSERT INTO {table} VALUES (1)"):
            await conn.execute(f"INSERT INTO {table} VALUES (2)")
            raise RuntimeError("half-way")
    assert not conn.is_in_transaction()
    assert await rows(settings, table) == []
    assert await conn.fetchval("SELECT 1") == 1  # the connection goes on


async def test_a_first_statement_that_fails_is_the_error_and_the_connection_goes_on(conn, table):
    await conn.execute(f"INSERT INTO {table} VALUES (1)")
    with pytest.raises(asyncpg.UniqueViolationError):
        async with transaction_begun_with(conn, f"INSERT INTO {table} VALUES (1)"):
            pytest.fail("the block must not run after its first statement failed")
    assert not conn.is_in_transaction()
    assert await conn.fetchval("SELECT count(*) FROM " + table) == 1


async def test_a_statement_failing_inside_rolls_the_first_back(settings, conn, table):
    with pytest.raises(asyncpg.UndefinedColumnError):
        async with transaction_begun_with(conn, f"INSERT INTO {table} VALUES (1)"):
            await conn.execute(f"UPDATE {table} SET missing = 1")
    assert not conn.is_in_transaction()
    assert await rows(settings, table) == []


async def test_a_transaction_opened_inside_is_refused_not_nested(settings, conn, table):
    with pytest.raises(asyncpg.InterfaceError, match="manually started transaction"):
        async with transaction_begun_with(conn, f"INSERT INTO {table} VALUES (1)"):
            async with conn.transaction():
                await conn.execute(f"INSERT INTO {table} VALUES (2)")
    assert await rows(settings, table) == []


async def test_a_block_cancelled_mid_statement_commits_nothing(settings, conn, table):
    async def slow_block():
        async with transaction_begun_with(conn, f"INSERT INTO {table} VALUES (1)"):
            await conn.execute("SELECT pg_sleep(5)")

    task = asyncio.create_task(slow_block())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert conn.is_closed() or not conn.is_in_transaction()
    assert await rows(settings, table) == []


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "O'Brien''s",
        "back\\slash\\' and \\\\",
        "王伟 审核同意",
        "'); DROP TABLE inbox; --",
        "line\nbreak\ttab",
    ],
)
async def test_a_literal_reads_back_as_the_string_it_was(conn, value):
    assert await conn.fetchval(f"SELECT {sql_literal(value)}") == value


def test_a_nul_cannot_become_a_literal():
    with pytest.raises(ValueError, match="NUL"):
        sql_literal("a\x00b")

"""asyncpg pools: one per service process, bound to the service's own schema."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

CONNECT_TIMEOUT = 5.0  # seconds to open one connection; asyncpg's default is 60


async def set_json_codecs(conn: asyncpg.Connection) -> None:
    """json and jsonb values as Python's: what every pool's connection has."""
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name,
            encoder=lambda value: json.dumps(value, ensure_ascii=False, default=str),
            decoder=json.loads,
            schema="pg_catalog",
        )


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """On release: only undo an unfinished transaction. Nothing here sets session state
    (the outbox relay unlistens before releasing), so asyncpg's full reset query, one more
    round trip on every release, buys nothing."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(database_url: str, schema: str, **kwargs) -> asyncpg.Pool:
    kwargs.setdefault("min_size", 1)
    kwargs.setdefault("max_size", 10)
    kwargs.setdefault("timeout", CONNECT_TIMEOUT)
    return await asyncpg.create_pool(
        database_url,
        server_settings={"search_path": schema},
        init=set_json_codecs,
        reset=_reset_connection,
        **kwargs,
    )


@asynccontextmanager
async def transaction_begun_with(conn: asyncpg.Connection, first: str) -> AsyncIterator[str]:
    """A transaction whose BEGIN goes to the server with its first statement, in one round
    trip (asyncpg's `transaction()` sends BEGIN by itself); yields that statement's status
    ("INSERT 0 1", say). Committed when the block ends, rolled back when it raises.

    `first` goes in the simple query protocol, without parameters: build it from constants
    and `sql_literal`. A `conn.transaction()` inside the block raises asyncpg's
    InterfaceError (a manually started transaction) rather than nesting wrongly.
    """
    try:
        status = await conn.execute(f"BEGIN; {first}")
        yield status
    except BaseException:
        await _roll_back(conn)
        raise
    await conn.execute("COMMIT")


async def _roll_back(conn: asyncpg.Connection) -> None:
    """End a failed block's transaction, or drop the connection when it cannot say ROLLBACK
    (a query cancelled half-way, a broken socket): the server rolls back on close, and the
    pool opens another. The block's own error is the one that goes on."""
    if conn.is_closed() or not conn.is_in_transaction():
        return
    try:
        await conn.execute("ROLLBACK")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        conn.terminate()


def sql_literal(value: str) -> str:
    """`value` as a PostgreSQL string literal, for the few statements that go without
    parameters (`transaction_begun_with`). E'' syntax, so backslashes mean the same whatever
    standard_conforming_strings says; a NUL has no place in a PostgreSQL string."""
    if "\x00" in value:
        raise ValueError("a NUL character cannot go into a PostgreSQL string")
    return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _with_database(database_url: str, database: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/" + database))


def array_args(rows: list[tuple], width: int) -> list[list]:
    """Rows as the `width` arrays a statement unnests (`unnest($1::uuid[], $2::text[], ...)`):
    one statement for any number of rows. Empty arrays when there are none."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def database_name(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


async def ensure_database(database_url: str) -> bool:
    """Create the database named in the URL if it is missing; True when it was created."""
    name = database_name(database_url)
    conn = await asyncpg.connect(_with_database(database_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            return False  # created by a concurrent setup meanwhile
        return True
    finally:
        await conn.close()


def is_database_unavailable(error: BaseException) -> bool:
    """True for the errors of a database that is away (down, restarting, unreachable, its
    connection cut), as against a query or a program that is wrong: the first is a 503 that
    heals by itself, the second a bug."""
    if isinstance(
        error,
        (
            OSError,  # refused, reset, unreachable
            TimeoutError,  # connect or command timeout
            asyncpg.PostgresConnectionError,  # class 08, a lost connection included
            asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up
            asyncpg.TooManyConnectionsError,
        ),
    ):
        return True
    if isinstance(error, asyncpg.InterfaceError):
        text = str(error)
        return "connection is closed" in text or "pool is closing" in text
    return False

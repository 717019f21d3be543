"""Two copies of a service share one schema and one broker: what each background job does
when another copy does the same at the same moment (docs/operations.md, "Several copies").

A "copy" here is what a process has of its own: its connection pool, its relay, its print-job
runner; the database and the broker are shared, as between processes. The same, with real
processes killed mid-batch, is tests/integration/test_two_copies_under_load.py.
"""

import asyncio
import json
import uuid
from contextlib import asynccontextmanager
from datetime import timedelta

import aio_pika
import asyncpg
import pytest

from services.accounts.deps import AccountsDeps
from services.accounts.sweep import sweep
from services.documents.jobs import JobSettings, PrintJobRunner
from shared.consumer import EventConsumer
from shared.db import create_pool
from shared.envelope import new_event
from shared.migrations import migrate_service, migration_files
from shared.outbox import OutboxRelay, add_to_outbox
from shared.topology import Names, declare_events_exchange
from tests.support.probes import drop_probe, start_probe, unique, wait_until


@asynccontextmanager
async def pools(database_url: str, schema: str, copies: int = 2):
    """One pool per copy, each bound to the schema as a service process's is."""
    opened = [await create_pool(database_url, schema, max_size=4) for _ in range(copies)]
    try:
        yield opened
    finally:
        for pool in opened:
            await pool.close()


# --- migrations at start-up --------------------------------------------------------------


async def test_copies_starting_at_once_apply_each_migration_once(own_database):
    schema = unique("docs")
    files = [name for name, _ in migration_files("documents")]
    applied = await asyncio.gather(
        *(migrate_service(own_database.database_url, "documents", schema) for _ in range(4))
    )
    assert sorted(applied, key=len) == [[], [], [], files]  # one copy applied, three waited
    conn = await asyncpg.connect(own_database.database_url)
    try:
        recorded = await conn.fetch(f'SELECT name FROM "{schema}".schema_migrations')
    finally:
        await conn.close()
    assert sorted(r["name"] for r in recorded) == sorted(files)


# --- the outbox relay --------------------------------------------------------------------


@asynccontextmanager
async def producer_schema(settings):
    schema = unique("producer")
    await migrate_service(settings.database_url, None, schema)
    async with pools(settings.database_url, schema) as opened:
        yield schema, opened


def relay(settings, pool, schema: str, batch_size: int = 50) -> OutboxRelay:
    return OutboxRelay(
        pool, settings.database_url, schema, settings.amqp_url, Names(settings), 0.2, batch_size
    )


async def write_events(pool, event_type: str, count: int) -> list[uuid.UUID]:
    events = [new_event(event_type, {"n": n}, "producer") for n in range(count)]
    async with pool.acquire() as conn, conn.transaction():
        await add_to_outbox(conn, *events)
    return [e.id for e in events]


@asynccontextmanager
async def listening(settings, routing_key: str):
    """A queue bound to the events of this type; yields the ids received, in order."""
    received: list[uuid.UUID] = []
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_events_exchange(channel, Names(settings))
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=routing_key)

        async def take(message) -> None:
            received.append(uuid.UUID(message.message_id))

        await queue.consume(take, no_ack=True)
        yield received


async def test_two_relays_on_one_outbox_send_each_row_once_and_share_the_work(own_database):
    event_type = unique("probe.r") + ".shared"
    async with producer_schema(own_database) as (schema, (pool_a, pool_b)):
        relays = [relay(own_database, pool, schema) for pool in (pool_a, pool_b)]
        async with listening(own_database, event_type) as received:
            for r in relays:
                await r.start()
            try:
                sent = []
                for _ in range(10):  # commits arrive over time, each waking both relays
                    sent += await write_events(pool_a, event_type, 200)
                await wait_until(lambda: len(received) >= len(sent), timeout=30)
                await asyncio.sleep(1.0)  # a second publish of anything would arrive by now
            finally:
                for r in relays:
                    await r.stop()
        assert sorted(received) == sorted(sent)  # every row, each once
        assert relays[0].published > 0 and relays[1].published > 0  # both took batches
        assert relays[0].published + relays[1].published == len(sent)
        unsent = await pool_a.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        assert unsent == 0


class Effects(EventConsumer):
    """A consumer whose effect is one row per event, and which counts its deliveries."""

    def __init__(self, event_type: str) -> None:
        super().__init__(unique("effects"))
        self.deliveries = 0
        self.on(event_type)(self.record)

    async def process(self, pool, body: bytes, message_id=None) -> bool:
        self.deliveries += 1
        return await super().process(pool, body, message_id)

    async def record(self, conn, envelope, _payload) -> None:
        await conn.execute("INSERT INTO effects VALUES ($1)", envelope.id)


async def test_a_relay_killed_between_its_publish_and_its_stamp_loses_nothing(own_database):
    """The rows it published stay unsent (its transaction dies with it): another copy sends
    them again, and the consumer's inbox makes the second delivery change nothing."""
    event_type = unique("probe.r") + ".again"
    effects = Effects(event_type)
    consumer = await start_probe(own_database, events=effects)
    try:
        await consumer.pool.execute("CREATE TABLE effects (event_id uuid)")
        async with producer_schema(own_database) as (schema, (pool_a, pool_b)):
            sent = await write_events(pool_a, event_type, 20)
            holder = await asyncpg.connect(own_database.database_url)
            doomed = relay(own_database, pool_a, schema)
            try:
                # Stamping needs a lock this SHARE lock holds off; publishing does not.
                async with holder.transaction():
                    await holder.execute(f'LOCK TABLE "{schema}".outbox IN SHARE MODE')
                    await doomed.start()
                    await wait_until(lambda: effects.handled == len(sent), timeout=30)
                    await doomed.stop(grace=0)  # dies here: published, never stamped
                assert await pool_a.fetchval(
                    "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
                ) == len(sent)
                survivor = relay(own_database, pool_b, schema)
                await survivor.start()
                try:
                    await wait_until(lambda: effects.deliveries == 2 * len(sent), timeout=30)
                finally:
                    await survivor.stop()
            finally:
                await holder.close()
        rows = await consumer.pool.fetch("SELECT event_id FROM effects")
        assert sorted(r["event_id"] for r in rows) == sorted(sent)  # each once in effect
        assert effects.duplicates == len(sent)  # the second copies, dropped by the inbox
    finally:
        await drop_probe(consumer, own_database)


# --- print jobs ------------------------------------------------------------------------------


async def test_two_print_job_runners_claim_each_job_once(own_database):
    schema = unique("documents")
    await migrate_service(own_database.database_url, "documents", schema)
    async with pools(own_database.database_url, schema) as (pool_a, pool_b):
        jobs = [uuid.uuid4() for _ in range(60)]
        actor = {"user_id": str(uuid.uuid4()), "role": "unit_operator"}
        await pool_a.executemany(
            "INSERT INTO print_jobs (id, kind, case_ids, actor, created_by, total)"
            " VALUES ($1, 'registration_form', $2, $3, $4, 0)",
            [(j, [uuid.uuid4()], json.dumps(actor), uuid.uuid4()) for j in jobs],
        )
        runners = [
            PrintJobRunner(pool, own_database.database_url, "documents", None, JobSettings())
            for pool in (pool_a, pool_b)
        ]

        async def claim_all(runner) -> list[uuid.UUID]:
            claimed = []
            while (job := await runner._claim()) is not None:
                claimed.append(job["id"])
            return claimed

        first, second = await asyncio.gather(*(claim_all(r) for r in runners))
        assert sorted(first + second) == sorted(jobs)  # each job claimed, and once
        assert first and second
        rows = await pool_a.fetch("SELECT attempts, claimed_by FROM print_jobs")
        assert {r["attempts"] for r in rows} == {1}
        assert all(r["claimed_by"] for r in rows)


# --- scheduled sweeps ----------------------------------------------------------------------


@pytest.mark.timeout(120)
async def test_two_accounts_sweeps_at_once_delete_each_expired_row_once(own_database):
    schema = unique("accounts")
    await migrate_service(own_database.database_url, "accounts", schema)
    deps = AccountsDeps()
    now = deps.clock.now()
    expired, live = 12_000, 100  # more than two of the sweep's batches of 5,000
    async with pools(own_database.database_url, schema) as (pool_a, pool_b):
        await pool_a.execute(
            "INSERT INTO captchas (id, answer_hash, expires_at) SELECT gen_random_uuid(), 'x',"
            " CASE WHEN n <= $1::int THEN $3::timestamptz ELSE $4::timestamptz END"
            " FROM generate_series(1, $1::int + $2::int) AS n",
            expired,
            live,
            now - timedelta(hours=1),
            now + timedelta(hours=1),
        )
        removed = await asyncio.gather(sweep(pool_a, deps), sweep(pool_b, deps))
        assert removed[0]["captchas"] + removed[1]["captchas"] == expired
        assert await pool_a.fetchval("SELECT count(*) FROM captchas") == live

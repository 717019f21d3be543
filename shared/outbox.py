"""Transactional outbox: write events with the state change, relay them to RabbitMQ.

`add_to_outbox` runs inside the caller's transaction, so an event exists exactly when the
change that caused it was committed. `OutboxRelay` publishes unsent rows as persistent
messages with publisher confirms and stamps them sent only after the broker confirmed;
a crash or a broker outage leaves them unsent, and the next round sends them again.

Several copies of a service relay the same table side by side: a round locks the rows it
publishes (FOR UPDATE SKIP LOCKED) until they are stamped, so the others take the next rows
instead, and a row stamped meanwhile no longer matches `sent_at IS NULL` when another copy
comes to lock it. A copy killed between its publish and its stamp leaves its rows unsent
(its transaction dies with it): another copy publishes them again, and the consumers'
inboxes drop the second copy (at least once, in effect once).

Sent at commit: a transaction on a hot path (a case's move) may write its events with a
`SendAtCommit` and hand it to `OutboxRelay.send_committed` once committed. The process then
publishes them itself at once, and stamps them in batches a little later, one statement for
many: no NOTIFY, no round, no transaction of the relay's own for each event. Such rows are
marked `direct`; the relay's rounds leave them alone for `direct_grace` seconds, and take
them after that like any other row: a process killed between its commit and its publish, or
a broker away at that moment, delays them by the grace, loses nothing. One killed between
its publish and its stamp has them sent twice, and the inboxes drop the second.
"""

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Iterable
from datetime import timedelta

import aio_pika
import asyncpg
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

from shared import amqp, metrics
from shared.db import array_args
from shared.envelope import Envelope
from shared.topology import Names, declare_events_exchange
from shared.wakeup import Wakeup

log = logging.getLogger(__name__)

SENT_RETENTION = timedelta(days=7)
# Confirms of a healthy broker take milliseconds; past this it is away or stuck.
PUBLISH_TIMEOUT = 10.0
PURGE_EVERY_SECONDS = 600
# How long the relay's rounds leave a row sent at commit to the process that wrote it: far
# longer than a publish and the stamp after it take, so that no row is sent twice while all
# is well; a crash or a broker away at the commit costs its events this much delay.
DIRECT_GRACE = timedelta(seconds=5)
STAMP_GAP = 0.05  # seconds the stamps of events sent at commit wait for others to join them

OutboxRow = tuple[uuid.UUID, str, dict]  # id, routing key, the envelope as JSON


class SendAtCommit:
    """The events one transaction writes for its own process to publish once it commits
    (`OutboxRelay.send_committed`), not at the relay's next round."""

    def __init__(self) -> None:
        self.rows: list[OutboxRow] = []

    def take(self, events: Iterable[Envelope]) -> list[OutboxRow]:
        rows = _rows(events)
        self.rows += rows
        return rows


def _rows(events: Iterable[Envelope]) -> list[OutboxRow]:
    return [(e.id, e.type, e.model_dump(mode="json")) for e in events]


async def add_to_outbox(
    conn: asyncpg.Connection, *events: Envelope, at_commit: SendAtCommit | None = None
) -> None:
    """Write these events in the caller's transaction; with `at_commit`, as rows its process
    sends itself once committed."""
    if not events:
        return
    # One statement over arrays, however many events: asyncpg's executemany cost a sixth of a
    # producer's CPU for a single row (bench.messaging, py-spy).
    await conn.execute(
        outbox_insert(1, direct=at_commit is not None), *outbox_columns(events, at_commit)
    )


def outbox_insert(first_arg: int, direct: bool = False) -> str:
    """An INSERT of events into the outbox, from the three arrays of outbox_columns as the
    arguments numbered from `first_arg`: for a statement that writes them with other rows.
    `direct`: rows sent at commit (SendAtCommit)."""
    a, b, c = (f"${n}" for n in range(first_arg, first_arg + 3))
    return (
        "INSERT INTO outbox (id, routing_key, envelope, direct)"
        f" SELECT *, {str(direct).lower()} FROM unnest({a}::uuid[], {b}::text[], {c}::jsonb[])"
    )


def outbox_columns(events, at_commit: SendAtCommit | None = None) -> list[list]:
    return array_args(at_commit.take(events) if at_commit else _rows(events), 3)


def to_message(envelope: dict) -> aio_pika.Message:
    # The envelope was validated when it was written; encoding the stored JSON is enough.
    return aio_pika.Message(
        body=json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode(),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=str(envelope["id"]),
        correlation_id=envelope.get("correlation_id"),
        type=envelope["type"],
        app_id=envelope["producer"],
    )


async def observe_backlog(pool: asyncpg.Pool, service: str) -> None:
    """The unsent rows and the age of the oldest, into their gauges (read at scrape time: one
    query on the partial index of unsent rows, whatever the relay is doing)."""
    row = await pool.fetchrow(
        "SELECT count(*) AS unsent,"
        " coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest"
        " FROM outbox WHERE sent_at IS NULL"
    )
    metrics.child(metrics.OUTBOX_UNSENT, service).set(row["unsent"])
    metrics.child(metrics.OUTBOX_OLDEST_UNSENT, service).set(max(0.0, row["oldest"]))


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        database_url: str,
        schema: str,
        amqp_url: str,
        names: Names,
        poll_interval: float = 1.0,
        batch_size: int = 500,
        round_gap: float = 0.0,
        direct_grace: timedelta = DIRECT_GRACE,
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.amqp_url = amqp_url
        self.names = names
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.round_gap = round_gap
        self.direct_grace = direct_grace
        self.published = 0
        self.rounds = 0  # rounds that published something
        self.sent_at_commit = 0  # events published by send_committed and confirmed
        self._sending: set[asyncio.Task] = set()
        self._unstamped: list[uuid.UUID] = []
        self._stamping: asyncio.Task | None = None
        self._wakeup = Wakeup(database_url, f"{schema}.outbox")
        self._task: asyncio.Task | None = None
        self._connection: AbstractConnection | None = None
        self._exchange: AbstractExchange | None = None
        self._last_purge = 0.0
        self._stopping = False
        self._publishing = False

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.schema}")

    async def stop(self, grace: float = PUBLISH_TIMEOUT) -> None:
        """The round under way and the events sent at commit are finished (up to `grace`
        seconds) and stamped, then the relay stops: what is cut short would only be
        published a second time later."""
        if self._task:
            self._stopping = True
            if self._publishing:
                await asyncio.wait({self._task}, timeout=grace)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=grace)
        if self._stamping is not None:
            await asyncio.gather(self._stamping, return_exceptions=True)
        await self._close_broker()
        await self._wakeup.close()

    def send_committed(self, batch: SendAtCommit) -> None:
        """Publish the events of a transaction that has just committed, now, and stamp them
        soon after; the caller does not wait. Without a broker at hand the relay's rounds
        send them after `direct_grace`."""
        if not batch.rows or self._exchange is None or self._stopping:
            return
        task = asyncio.create_task(self._send_direct(batch.rows))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_direct(self, rows: list[OutboxRow]) -> None:
        exchange = self._exchange
        try:
            await asyncio.wait_for(
                asyncio.gather(
                    *(exchange.publish(to_message(env), routing_key=key) for _, key, env in rows)
                ),
                PUBLISH_TIMEOUT,
            )
        except Exception as error:  # the rounds take them after the grace
            log.info(
                "outbox %s: %d events sent at commit failed: %r", self.schema, len(rows), error
            )
            return
        self.sent_at_commit += len(rows)
        metrics.count(metrics.OUTBOX_PUBLISHED, self.schema, amount=len(rows))
        self._unstamped += [row[0] for row in rows]
        if self._stamping is None:
            self._stamping = asyncio.create_task(self._stamp_soon())

    async def _stamp_soon(self) -> None:
        """Stamp what was sent at commit, many rows a statement: those of the next STAMP_GAP
        seconds join the first. A stamp that fails leaves its rows to the rounds (sent once
        more after the grace: the inboxes drop the copy)."""
        try:
            if not self._stopping:
                await asyncio.sleep(STAMP_GAP)
            while self._unstamped:
                ids, self._unstamped = self._unstamped, []
                await self.pool.execute(
                    "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::uuid[])"
                    " AND sent_at IS NULL",
                    ids,
                )
        except Exception as error:
            log.warning("outbox %s: stamping events sent at commit: %r", self.schema, error)
        finally:
            self._stamping = None

    def wake(self) -> None:
        self._wakeup.wake()

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._wakeup.listen()
                await self._ensure_exchange()
                started = asyncio.get_running_loop().time()
                self._publishing = True
                try:
                    sent = await self.relay_once()
                finally:
                    self._publishing = False
                if self._stopping:
                    return
                failures = 0
                if sent < self.batch_size:
                    await self._purge_if_due()
                    await self._wakeup.sleep(self.poll_interval)
                    if sent:  # events are coming: let those of the next milliseconds gather
                        await self._gather_more(started)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # broker or database away: keep rows, retry later
                failures += 1
                delay = min(5.0, 0.2 * 2 ** min(failures, 5)) * (0.5 + random.random() / 2)
                log.warning("outbox relay %s: %r; retrying in %.1fs", self.schema, error, delay)
                await self._close_broker()
                await self._wakeup.close()
                await asyncio.sleep(delay)

    async def _gather_more(self, started: float) -> None:
        """Woken again within `round_gap` of the start of a round that published: wait out the
        gap, so that the next round takes the events of those milliseconds at once. A round
        costs its transaction and four round trips however many rows it publishes; an event
        after a quiet spell, or after a round that found nothing, goes at once."""
        gap = self.round_gap - (asyncio.get_running_loop().time() - started)
        if gap > 0:
            await asyncio.sleep(gap)

    async def relay_once(self) -> int:
        """Publish one batch of unsent events; returns how many were sent."""
        assert self._exchange is not None
        async with self.pool.acquire() as conn, conn.transaction():
            # SKIP LOCKED lets several copies of a service relay side by side.
            rows = await conn.fetch(
                "SELECT seq, routing_key, envelope FROM outbox WHERE sent_at IS NULL"
                " AND (NOT direct OR created_at < now() - $2::interval)"
                " ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
                self.batch_size,
                self.direct_grace,
            )
            if not rows:
                return 0
            # One channel keeps the order; confirms are awaited together, not one by one.
            await asyncio.wait_for(
                asyncio.gather(
                    *(
                        self._exchange.publish(
                            to_message(r["envelope"]), routing_key=r["routing_key"]
                        )
                        for r in rows
                    )
                ),
                PUBLISH_TIMEOUT,
            )
            await conn.execute(
                "UPDATE outbox SET sent_at = now() WHERE seq = ANY($1::bigint[])",
                [r["seq"] for r in rows],
            )
        self.published += len(rows)
        self.rounds += 1
        metrics.count(metrics.OUTBOX_PUBLISHED, self.schema, amount=len(rows))
        return len(rows)

    async def _ensure_exchange(self) -> None:
        if self._exchange is not None and self._connection and not self._connection.is_closed:
            return
        await self._close_broker()
        self._connection = await amqp.connect(self.amqp_url, timeout=5)
        channel: AbstractChannel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await declare_events_exchange(channel, self.names)

    async def _close_broker(self) -> None:
        connection, self._connection, self._exchange = self._connection, None, None
        if connection is not None:
            await amqp.close_quietly(connection)

    async def _purge_if_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        await self.pool.execute(
            "DELETE FROM outbox WHERE sent_at < now() - $1::interval", SENT_RETENTION
        )

"""SIGTERM to a service process with calls and events in flight, another copy beside it.

Two copies of a test-only service (tests/support/slow_service.py: the real shared.service
bootstrap with a slow RPC method and a slow event handler) run as processes on this
module's database and broker names. One of them gets SIGTERM while it is handling some of
the calls and events; it must stop taking new ones at once (its consumers cancelled), finish
those it has within ZC_STOP_GRACE, answer them, and exit; new calls go to the other copy.
What outlasts the grace is cut short: its event is not acked, so the other copy handles it.
"""

import asyncio
import os
import signal
import time
import uuid

import aio_pika
import asyncpg
import pytest

from bench._processes import Processes, service_env
from shared.envelope import new_event
from shared.outbox import to_message
from shared.rpc import RpcClient, ServiceUnavailable
from shared.topology import Names, declare_events_exchange
from tests.support.probes import delete_broker_objects, unique, wait_until
from tests.support.slow_service import SLOW_EVENT, TABLES, build

COPIES = ("first", "second")


class Copies:
    """Two copies of one slow service, a client, and the service's schema."""

    def __init__(self, settings, name: str, processes: Processes, db, client) -> None:
        self.settings = settings
        self.name = name
        self.processes = processes
        self.db = db
        self.client = client

    def pid(self, copy: str) -> int:
        return self.processes.running[copy].pid

    async def start(self, copy: str) -> None:
        """Start one copy and wait until it answers (a ping its own pid answers)."""
        await self.processes.start(copy, fresh_log=True)
        pid = self.pid(copy)

        async def answered_by_it() -> bool:
            self.processes.check_alive(copy)
            pings = await asyncio.gather(
                *(self.client.call(self.name, "ping", timeout=2) for _ in range(4)),
                return_exceptions=True,
            )
            return any(isinstance(p, dict) and p["pid"] == pid for p in pings)

        await wait_until(answered_by_it, timeout=60, interval=0.2)

    async def slow(self, call_id: str, seconds: float, timeout: float = 30) -> dict:
        params = {"call_id": call_id, "seconds": seconds}
        return await self.client.call(self.name, "slow", params, timeout=timeout)

    async def publish(self, seconds: float, count: int = 1) -> list[uuid.UUID]:
        """Slow events, as a relay would publish them (persistent, confirmed)."""
        envelopes = [new_event(SLOW_EVENT, {"seconds": seconds}, "test") for _ in range(count)]
        connection = await aio_pika.connect(self.settings.amqp_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await declare_events_exchange(channel, Names(self.settings))
            for e in envelopes:
                await exchange.publish(to_message(e.model_dump(mode="json")), routing_key=e.type)
        return [e.id for e in envelopes]

    async def rpc_consumers(self) -> int:
        """How many consumers the broker has on the RPC queue. (A quorum queue, the events
        queue, counts a cancelled consumer until its messages are settled: not asked.)"""
        connection = await aio_pika.connect(self.settings.amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = Names(self.settings).rpc_queue(self.name)
            declared = await channel.declare_queue(queue, passive=True)
            return declared.declaration_result.consumer_count

    def said(self, copy: str, text: str) -> bool:
        return text in (self.processes.log_dir / f"{copy}.log").read_text(errors="replace")

    async def started_by(self, table: str, pid: int) -> int:
        return await self.db.fetchval(f"SELECT count(*) FROM {table} WHERE pid = $1", pid)


async def slow_copies(own_database, tmp_path, grace: float):
    name = unique("slow")
    db = await asyncpg.connect(own_database.database_url)
    await db.execute(f'CREATE SCHEMA "{name}"; SET search_path TO "{name}"; {TABLES}')
    env = service_env(
        own_database, tmp_path / "var", ZC_PROBE_SERVICE=name, ZC_STOP_GRACE=str(grace)
    )
    modules = dict.fromkeys(COPIES, "tests.support.slow_service")
    processes = Processes(modules, env, tmp_path / "logs")
    processes.log_dir.mkdir(parents=True)
    client = RpcClient(own_database.amqp_url, Names(own_database).rpc_queue, 30)
    await client.start()
    return Copies(own_database, name, processes, db, client)


@pytest.fixture
async def copies(request, own_database, tmp_path):
    system = await slow_copies(own_database, tmp_path, grace=request.param)
    try:
        yield system
    finally:
        await system.processes.stop()
        await system.client.close()
        await system.db.close()
        await delete_broker_objects(own_database, build(system.name))


async def terminated(copies: Copies, copy: str) -> tuple[int, float]:
    """SIGTERM one copy; its exit code and the seconds it took to exit."""
    process = copies.processes.running[copy]
    began = time.monotonic()
    os.kill(process.pid, signal.SIGTERM)
    code = await asyncio.wait_for(process.wait(), 60)
    return code, time.monotonic() - began


GRACE = 10.0
SLOW = 3.0  # seconds each call and event in flight takes: well inside the grace


@pytest.mark.timeout(180)
@pytest.mark.parametrize("copies", [GRACE], indirect=True)
async def test_sigterm_finishes_the_calls_and_events_in_flight_and_new_calls_go_to_the_other_copy(
    copies,
):
    for copy in COPIES:
        await copies.start(copy)
    first, second = copies.pid("first"), copies.pid("second")
    assert await copies.rpc_consumers() == 2

    calls = [asyncio.create_task(copies.slow(f"before-{n}", SLOW)) for n in range(8)]
    events = await copies.publish(SLOW, count=8)

    async def first_is_busy() -> bool:
        return (
            await copies.started_by("calls", first) > 0
            and await copies.started_by("event_starts", first) > 0
        )

    await wait_until(first_is_busy, timeout=20)
    unfinished_at_stop = await copies.db.fetchval(
        "SELECT count(*) FROM calls WHERE pid = $1 AND finished_at IS NULL", first
    )
    stopping = asyncio.create_task(terminated(copies, "first"))
    # Sent as the signal lands: whichever copy each reaches, each gets its answer.
    during = [asyncio.create_task(copies.slow(f"during-{n}", 0.2, timeout=10)) for n in range(8)]

    await wait_until(lambda: copies.said("first", "being handled"), timeout=5)
    still_busy = await copies.db.fetchval(
        "SELECT count(*) FROM calls WHERE pid = $1 AND finished_at IS NULL", first
    )
    rpc_consumers = await copies.rpc_consumers()
    after = await asyncio.gather(*(copies.slow(f"after-{n}", 0.2) for n in range(8)))
    events_after = await copies.publish(0.1, count=8)
    code, seconds = await stopping

    print(f"\nexited {seconds:.1f}s after SIGTERM with {unfinished_at_stop} call(s) in flight")
    assert code == 0
    assert seconds < GRACE  # it waited for its work, not for the grace to run out
    assert unfinished_at_stop > 0  # the stop came while the first copy had calls in flight
    assert still_busy > 0  # it stopped consuming first, before its calls were done
    assert rpc_consumers == 1
    assert len(await asyncio.gather(*during)) == len(during)  # none lost on the way
    answers = await asyncio.gather(*calls)  # every call in flight got its answer
    answered_by = {a["call_id"]: a["pid"] for a in answers}
    assert sorted(answered_by) == sorted(f"before-{n}" for n in range(8))
    assert first in answered_by.values()  # the first copy answered what it had begun
    assert {a["pid"] for a in after} == {second}  # new calls: the second copy only

    async def every_event_once() -> bool:
        rows = await copies.db.fetch("SELECT event_id FROM effects")
        return len(rows) >= len(events + events_after)

    await wait_until(every_event_once, timeout=30)
    effects = dict(await copies.db.fetch("SELECT event_id, pid FROM effects"))
    assert sorted(effects) == sorted(events + events_after)  # each once
    assert first in {effects[e] for e in events}  # the first copy finished what it had begun
    assert {effects[e] for e in events_after} == {second}  # new events: the second only
    started = await copies.db.fetch("SELECT event_id, pid FROM event_starts")
    assert len(started) == len(events + events_after)  # none handled twice, none came back


@pytest.mark.timeout(180)
@pytest.mark.parametrize("copies", [1.0], indirect=True)
async def test_an_event_that_outlasts_the_grace_is_not_acked_and_the_other_copy_handles_it(
    copies,
):
    await copies.start("first")
    first = copies.pid("first")
    [event] = await copies.publish(60.0)
    call = asyncio.create_task(copies.slow("cut-short", 60.0, timeout=8))

    async def both_begun() -> bool:
        return (
            await copies.started_by("calls", first) == 1
            and await copies.started_by("event_starts", first) == 1
        )

    await wait_until(both_begun, timeout=20)
    await copies.start("second")  # only now: what the first copy holds is not the second's
    second = copies.pid("second")
    code, seconds = await terminated(copies, "first")

    print(f"\nexited {seconds:.1f}s after SIGTERM, a grace of 1s")
    assert code == 0
    assert seconds < 1.0 + 5.0  # the grace, then closing its connections

    async def handled() -> list:
        return await copies.db.fetch("SELECT event_id, pid FROM effects")

    effects = await wait_until(handled, timeout=30)
    assert [(r["event_id"], r["pid"]) for r in effects] == [(event, second)]
    handled_by = await copies.db.fetchval(
        f'SELECT handled_by FROM "{copies.name}".inbox WHERE message_id = $1', event
    )
    assert handled_by.endswith(f":{second}")
    # The request cut short was acked on arrival: its caller gives up after its timeout, and
    # it is never run again (a command run twice is worse than one that failed visibly).
    with pytest.raises(ServiceUnavailable):
        await call
    rows = await copies.db.fetch("SELECT pid, finished_at FROM calls")
    assert [(r["pid"], r["finished_at"]) for r in rows] == [(first, None)]

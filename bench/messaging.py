"""Our messaging layer against bare aio-pika on the same broker, in one run.

    python -m bench.messaging

Three figures, each for ours and for bare aio-pika doing the same work: request/reply
latency one call at a time, request/reply throughput with 64 calls in flight, and event
latency from commit (ours) or publish (bare) to the consumer at a steady 500 events/s.
The far sides run in processes of their own (bench/_peers.py). The last line printed is
one JSON object with every figure. See bench/README.md.
"""

import asyncio
import json
import logging
import os
import secrets
import signal
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aio_pika
import asyncpg

from bench._peers import DURABLE_EVENT_TYPE, EVENT_TYPE, BareNames, now
from shared import event_loop
from shared.envelope import new_event
from shared.outbox import SendAtCommit, add_to_outbox
from shared.rpc import DIRECT_REPLY_TO, RpcClient, RpcRouter
from shared.service import Service
from shared.settings import Settings
from shared.topology import Names

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/zhicheng_bench"

LATENCY_WARMUP, LATENCY_CALLS = 200, 2000
IN_FLIGHT, THROUGHPUT_WARMUP_SECONDS, THROUGHPUT_SECONDS = 64, 1.0, 5.0
EVENT_RATE, EVENT_WARMUP_SECONDS, EVENT_SECONDS = 500, 1.0, 10.0

RPC_THROUGHPUT_SHARE = 0.5  # ours must reach half of bare aio-pika's calls/s
EVENT_P99_LIMIT_MS = 20.0  # issue 18 (50 ms before it)
EVENT_CPU_SHARE = 1.3  # issue 18: CPU per event, producer and consumer, at most 1.3 x bare

Call = Callable[[], Awaitable[object]]


# --- measuring -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def in_ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def machine_idle_seconds() -> float:
    """Seconds the cores of this machine were idle since boot, added up (Linux /proc/stat).

    Idle time is measured exactly; busy time there is sampled at each tick and misses the
    short bursts this benchmark is made of, so busy = elapsed x cores - idle.
    """
    with open("/proc/stat") as stat:
        ticks = stat.readline().split()
    return (int(ticks[4]) + int(ticks[5])) / os.sysconf("SC_CLK_TCK")  # idle, iowait


class CpuMeter:
    """CPU spent from its creation on by this process, the peer process and the machine."""

    def __init__(self, peer_pid: int) -> None:
        self.peer_pid = peer_pid
        self.started = self._read()

    def _read(self) -> tuple[float, ...]:
        peer = process_cpu_seconds(self.peer_pid)
        return now(), time.process_time(), peer, machine_idle_seconds()

    def figures(self, items: int, unit: str) -> dict:
        wall, bench, peer, idle = (b - a for a, b in zip(self.started, self._read(), strict=True))
        return {
            f"bench_cpu_us_per_{unit}": round(1e6 * bench / items),
            f"peer_cpu_us_per_{unit}": round(1e6 * peer / items),
            "machine_cpu_pct": round(100 * (wall * os.cpu_count() - idle) / wall),  # 100 = 1 core
        }


async def latency_one_at_a_time(call: Call, peer_pid: int) -> dict:
    for _ in range(LATENCY_WARMUP):
        await call()
    meter, times = CpuMeter(peer_pid), []
    for _ in range(LATENCY_CALLS):
        started = now()
        await call()
        times.append(now() - started)
    return {
        "p50_ms": in_ms(percentile(times, 0.50)),
        "p99_ms": in_ms(percentile(times, 0.99)),
        "calls": LATENCY_CALLS,
        **meter.figures(LATENCY_CALLS, "call"),
    }


async def calls_in_flight(call: Call, in_flight: int, seconds: float) -> int:
    """Keep `in_flight` calls going for `seconds`; returns how many completed."""
    deadline = now() + seconds
    completed = 0

    async def caller() -> None:
        nonlocal completed
        while now() < deadline:
            await call()
            completed += 1

    await asyncio.gather(*(caller() for _ in range(in_flight)))
    return completed


async def throughput(call: Call, peer_pid: int) -> dict:
    await calls_in_flight(call, IN_FLIGHT, THROUGHPUT_WARMUP_SECONDS)
    meter, started = CpuMeter(peer_pid), now()
    completed = await calls_in_flight(call, IN_FLIGHT, THROUGHPUT_SECONDS)
    return {
        "calls_per_s": round(completed / (now() - started), 1),
        "in_flight": IN_FLIGHT,
        **meter.figures(completed, "call"),
    }


async def fire_at_steady_rate(
    fire: Callable[[int], Awaitable[None]], rate: float, seconds: float
) -> tuple[int, float]:
    """Start fire(0), fire(1), ... every 1/rate s; returns (count, achieved per second).

    Each start is due at an absolute time, so a late wake-up shortens the next wait
    instead of shifting the whole schedule; a slow fire() runs on beside the next ones.
    """
    interval, started, seq, running = 1 / rate, now(), 0, set()
    while (due := started + seq * interval) < started + seconds:
        if (wait := due - now()) > 0:
            await asyncio.sleep(wait)
        task = asyncio.create_task(fire(seq))
        running.add(task)
        task.add_done_callback(running.discard)
        seq += 1
    fired_for = now() - started
    await asyncio.gather(*running)
    return seq, seq / fired_for


async def wait_for_receipts(fetch: Callable[[], Awaitable[list]], expected: int) -> dict:
    """Ask the consumer for its receipts until all `expected` arrived (or 10 s passed)."""
    deadline = now() + 10
    while True:
        receipts = dict(await fetch())
        if len(receipts) >= expected or now() > deadline:
            return {int(seq): at for seq, at in receipts.items()}
        await asyncio.sleep(0.2)


def event_figures(
    sent_at: dict[int, float], received_at: dict[int, float], rate: float, meter: CpuMeter
) -> dict:
    first_measured = int(EVENT_RATE * EVENT_WARMUP_SECONDS)
    measured = [seq for seq in sent_at if seq >= first_measured]
    latencies = [received_at[seq] - sent_at[seq] for seq in measured if seq in received_at]
    return {
        "p50_ms": in_ms(percentile(latencies, 0.50)),
        "p99_ms": in_ms(percentile(latencies, 0.99)),
        "max_ms": in_ms(max(latencies)),
        "events": len(measured),
        "missing": len(measured) - len(latencies),
        "rate_per_s": round(rate, 1),
        **meter.figures(len(sent_at), "event"),
    }


# --- our stack ------------------------------------------------------------------------------


async def our_event_latency(producer: Service, client: RpcClient, peer_pid: int) -> dict:
    """Commit a row and its event every 2 ms; latency is just-before-COMMIT to handler."""
    committed_at: dict[int, float] = {}

    async def commit_row_with_event(seq: int) -> None:
        # As a case's move writes its events: sent by this process once committed
        # (shared/outbox.SendAtCommit), the relay's rounds only a safety net.
        at_commit = SendAtCommit()
        async with producer.pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO ticks (seq) VALUES ($1)", seq)
            event = new_event(EVENT_TYPE, {"seq": seq}, "benchproducer")
            await add_to_outbox(conn, event, at_commit=at_commit)
            committed_at[seq] = now()  # COMMIT is sent as the block exits
        producer.relay.send_committed(at_commit)

    meter = CpuMeter(peer_pid)
    sent, rate = await fire_at_steady_rate(
        commit_row_with_event, EVENT_RATE, EVENT_WARMUP_SECONDS + EVENT_SECONDS
    )
    receipts = await wait_for_receipts(lambda: client.call("benchpeer", "receipts"), sent)
    return event_figures(committed_at, receipts, rate, meter)


async def start_producer(settings: Settings, schema: str) -> Service:
    """A service of ours whose OutboxRelay publishes what the bench commits."""
    producer = Service(
        "benchproducer", RpcRouter("benchproducer"), settings=settings, schema=schema
    )
    await producer.start()
    await producer.pool.execute(
        "CREATE TABLE ticks (seq int PRIMARY KEY, at timestamptz DEFAULT now())"
    )
    return producer


# --- bare aio-pika --------------------------------------------------------------------------


class BareRpcClient:
    """Direct reply-to and one future per correlation id, with nothing else."""

    def __init__(self, amqp_url: str, queue: str) -> None:
        self.amqp_url = amqp_url
        self.queue = queue
        self.pending: dict[str, asyncio.Future] = {}

    async def start(self) -> None:
        self.connection = await aio_pika.connect(self.amqp_url)
        self.channel = await self.connection.channel(publisher_confirms=False)
        replies = await self.channel.get_queue(DIRECT_REPLY_TO, ensure=False)
        await replies.consume(self._on_reply, no_ack=True)

    async def call(self, body: bytes, message_type: str | None = None) -> object:
        correlation_id = uuid.uuid4().hex
        self.pending[correlation_id] = future = asyncio.get_running_loop().create_future()
        try:
            message = aio_pika.Message(
                body, correlation_id=correlation_id, reply_to=DIRECT_REPLY_TO, type=message_type
            )
            await self.channel.default_exchange.publish(message, routing_key=self.queue)
            return json.loads(await asyncio.wait_for(future, 5))
        finally:
            self.pending.pop(correlation_id, None)

    async def _on_reply(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        future = self.pending.get(message.correlation_id or "")
        if future is not None and not future.done():
            future.set_result(message.body)

    async def close(self) -> None:
        await self.connection.close()


async def bare_event_latency(settings: Settings, client: BareRpcClient, peer_pid: int) -> dict:
    """Publish a persistent message with confirms every 2 ms; latency is publish to consumer."""
    published_at: dict[int, float] = {}
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(BareNames(settings).events_exchange)

        async def publish_with_confirm(seq: int) -> None:
            message = aio_pika.Message(
                json.dumps({"seq": seq}).encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            )
            published_at[seq] = now()
            await exchange.publish(message, routing_key=EVENT_TYPE)

        meter = CpuMeter(peer_pid)
        sent, rate = await fire_at_steady_rate(
            publish_with_confirm, EVENT_RATE, EVENT_WARMUP_SECONDS + EVENT_SECONDS
        )
        receipts = await wait_for_receipts(lambda: client.call(b"", "receipts"), sent)
    return event_figures(published_at, receipts, rate, meter)


async def bare_durable_event_latency(
    settings: Settings, schema: str, client: BareRpcClient, peer_pid: int
) -> dict:
    """The least a durable event can cost with nothing of ours: one statement commits a row
    and its event into an outbox table (one round trip, its own transaction), the event is
    published persistent with confirms, and the sent rows are deleted in one statement each
    50 ms; the consumer records each in an inbox table (one statement) before its ack."""
    committed_at: dict[int, float] = {}
    sent: list[uuid.UUID] = []
    pool = await asyncpg.create_pool(
        settings.database_url, min_size=2, max_size=10, server_settings={"search_path": schema}
    )
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(BareNames(settings).events_exchange)

        async def commit_row_with_event(seq: int) -> None:
            event_id = uuid.uuid4()
            body = json.dumps({"seq": seq}).encode()
            committed_at[seq] = now()
            await pool.execute(
                "WITH tick AS (INSERT INTO ticks (seq) VALUES ($1))"
                " INSERT INTO outbox (id, body) VALUES ($2, $3)",
                seq, event_id, body,
            )  # fmt: skip
            message = aio_pika.Message(
                body, message_id=str(event_id), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            )
            await exchange.publish(message, routing_key=DURABLE_EVENT_TYPE)
            sent.append(event_id)

        async def delete_sent() -> None:
            while True:
                await asyncio.sleep(0.05)
                if sent:
                    done = sent[:]
                    del sent[: len(done)]
                    await pool.execute("DELETE FROM outbox WHERE id = ANY($1::uuid[])", done)

        meter = CpuMeter(peer_pid)
        deleter = asyncio.create_task(delete_sent())
        try:
            count, rate = await fire_at_steady_rate(
                commit_row_with_event, EVENT_RATE, EVENT_WARMUP_SECONDS + EVENT_SECONDS
            )
        finally:
            deleter.cancel()
        receipts = await wait_for_receipts(lambda: client.call(b"", "durable_receipts"), count)
        return event_figures(committed_at, receipts, rate, meter)
    finally:
        await connection.close()
        await pool.close()


async def create_bare_tables(database_url: str, schema: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            f'CREATE SCHEMA "{schema}";'
            f' CREATE TABLE "{schema}".ticks (seq int PRIMARY KEY, at timestamptz DEFAULT now());'
            f' CREATE TABLE "{schema}".outbox (id uuid PRIMARY KEY, body bytea NOT NULL);'
            f' CREATE TABLE "{schema}".inbox (id uuid PRIMARY KEY)'
        )
    finally:
        await conn.close()


# --- peers, setup and clean-up --------------------------------------------------------------


def bench_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("ZC_DATABASE_URL", DEFAULT_DATABASE),
        # Unique per run, so runs side by side never share a queue.
        broker_prefix=f"{os.environ.get('ZC_BROKER_PREFIX', 'zcbench')}-{secrets.token_hex(3)}",
        log_level="WARNING",
    )


async def start_peer(settings: Settings, *args: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "ZC_DATABASE_URL": settings.database_url,
        "ZC_AMQP_URL": settings.amqp_url,
        "ZC_BROKER_PREFIX": settings.broker_prefix,
        "ZC_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench._peers", *args,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise RuntimeError(f"peer {args[0]} did not start")
    except BaseException:
        await stop_peer(process)
        raise
    return process


async def stop_peer(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 15)
    except TimeoutError:
        process.kill()
        await process.wait()


async def delete_broker_objects(settings: Settings) -> None:
    names, bare = Names(settings), BareNames(settings)
    queues = [
        names.rpc_queue("benchpeer"),
        names.rpc_queue("benchproducer"),
        names.event_queue("benchpeer"),
        names.dead_letter_queue("benchpeer"),
        bare.rpc_queue,
        bare.event_queue,
    ]
    exchanges = [names.events_exchange, names.dead_letter_exchange, bare.events_exchange]
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        for queue in queues:
            await channel.queue_delete(queue)
        for exchange in exchanges:
            await channel.exchange_delete(exchange)


async def drop_schemas(database_url: str, *schemas: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        for schema in schemas:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


# --- the run --------------------------------------------------------------------------------


async def measure_both_stacks(
    settings: Settings,
    producer: Service,
    ours: RpcClient,
    bare: BareRpcClient,
    pids: dict,
    bare_schema: str,
) -> dict:
    body = json.dumps({"method": "echo", "params": {"n": 1}}).encode()

    async def call_ours():
        return await ours.call("benchpeer", "echo", {"n": 1})

    async def call_bare():
        return await bare.call(body)

    figures = {"rpc_latency": {}, "rpc_throughput": {}, "event_latency": {}}
    print("request/reply, one at a time ...", flush=True)
    figures["rpc_latency"]["ours"] = await latency_one_at_a_time(call_ours, pids["ours"])
    figures["rpc_latency"]["bare"] = await latency_one_at_a_time(call_bare, pids["bare"])
    print(f"request/reply, {IN_FLIGHT} in flight ...", flush=True)
    figures["rpc_throughput"]["ours"] = await throughput(call_ours, pids["ours"])
    figures["rpc_throughput"]["bare"] = await throughput(call_bare, pids["bare"])
    print(f"events at {EVENT_RATE}/s ...", flush=True)
    figures["event_latency"]["ours"] = await our_event_latency(producer, ours, pids["ours"])
    figures["event_latency"]["bare"] = await bare_event_latency(settings, bare, pids["bare"])
    figures["event_latency"]["bare_durable"] = await bare_durable_event_latency(
        settings, bare_schema, bare, pids["bare"]
    )
    return figures


async def run_benchmarks(
    settings: Settings, producer_schema: str, peer_schema: str, bare_schema: str
) -> dict:
    """Start both far sides, a producer and both clients; measure; remove all of it."""
    peers, producer, ours, bare = {}, None, None, None
    try:
        peers["ours"] = await start_peer(settings, "ours", peer_schema)  # makes the database
        await create_bare_tables(settings.database_url, bare_schema)
        peers["bare"] = await start_peer(settings, "bare", bare_schema)
        producer = await start_producer(settings, producer_schema)
        ours = RpcClient(settings.amqp_url, Names(settings).rpc_queue, settings.rpc_timeout)
        await ours.start()
        bare = BareRpcClient(settings.amqp_url, BareNames(settings).rpc_queue)
        await bare.start()
        pids = {stack: peer.pid for stack, peer in peers.items()}
        return await measure_both_stacks(settings, producer, ours, bare, pids, bare_schema)
    finally:
        for client in (ours, bare):
            if client is not None:
                await client.close()
        if producer is not None:
            await producer.stop()
        for peer in peers.values():
            await stop_peer(peer)
        await delete_broker_objects(settings)
        if peers:  # the database exists
            await drop_schemas(settings.database_url, producer_schema, peer_schema, bare_schema)


def judge(figures: dict) -> dict:
    throughput_ = figures["rpc_throughput"]
    share = throughput_["ours"]["calls_per_s"] / throughput_["bare"]["calls_per_s"]
    throughput_["ours_share_of_bare"] = round(share, 3)
    events = figures["event_latency"]
    events["ours_cpu_over_bare"] = round(event_cpu(events["ours"]) / event_cpu(events["bare"]), 2)
    durable = event_cpu(events["bare_durable"])
    events["bare_durable_cpu_over_bare"] = round(durable / event_cpu(events["bare"]), 2)
    events["ours_cpu_over_bare_durable"] = round(event_cpu(events["ours"]) / durable, 2)
    return {
        "rpc_throughput_at_least_half_of_bare": share >= RPC_THROUGHPUT_SHARE,
        "event_p99_under_20ms": events["ours"]["p99_ms"] < EVENT_P99_LIMIT_MS,
        "event_cpu_at_most_1_3_of_bare": events["ours_cpu_over_bare"] <= EVENT_CPU_SHARE,
    }


def event_cpu(figures: dict) -> int:
    """CPU microseconds per event of the producer (the bench) and the consumer (the peer)."""
    return figures["bench_cpu_us_per_event"] + figures["peer_cpu_us_per_event"]


def cpu_note(figures: dict, unit: str) -> str:
    return (
        f"  [cpu per {unit}: bench {figures[f'bench_cpu_us_per_{unit}']} us,"
        f" peer {figures[f'peer_cpu_us_per_{unit}']} us; machine {figures['machine_cpu_pct']}%]"
    )


def print_readable(figures: dict, targets: dict) -> None:
    for stack in ("ours", "bare"):
        r = figures["rpc_latency"][stack]
        print(
            f"rpc latency     {stack}: p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms"
            + cpu_note(r, "call")
        )
    for stack in ("ours", "bare"):
        t = figures["rpc_throughput"][stack]
        print(
            f"rpc throughput  {stack}: {t['calls_per_s']:.0f} calls/s ({IN_FLIGHT} in flight)"
            + cpu_note(t, "call")
        )
    for stack in ("ours", "bare", "bare_durable"):
        e = figures["event_latency"][stack]
        print(
            f"event latency   {stack}: p50 {e['p50_ms']:.2f} ms  p99 {e['p99_ms']:.2f} ms"
            f"  max {e['max_ms']:.2f} ms  at {e['rate_per_s']:.0f}/s  missing {e['missing']}"
            + cpu_note(e, "event")
        )
    events = figures["event_latency"]
    print(
        f"CPU per event: ours {events['ours_cpu_over_bare']:.2f} x bare;"
        f" bare_durable {events['bare_durable_cpu_over_bare']:.2f} x bare (a row and its event"
        " in one statement, an inbox row before the ack);"
        f" ours {events['ours_cpu_over_bare_durable']:.2f} x bare_durable"
    )
    share = figures["rpc_throughput"]["ours_share_of_bare"]
    for passed, text in (
        (targets["rpc_throughput_at_least_half_of_bare"],
         f"rpc throughput at {IN_FLIGHT} in flight >= half of bare aio-pika ({share:.0%})"),
        (targets["event_p99_under_20ms"],
         f"event p99 < {EVENT_P99_LIMIT_MS:g} ms at {EVENT_RATE} events/s "
         f"({figures['event_latency']['ours']['p99_ms']:.1f} ms)"),
        (targets["event_cpu_at_most_1_3_of_bare"],
         f"CPU per event, producer and consumer, <= {EVENT_CPU_SHARE:g} x bare"
         f" ({figures['event_latency']['ours_cpu_over_bare']:.2f} x)"),
    ):  # fmt: skip
        print(f"{'PASS' if passed else 'FAIL'}: {text}")


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    # On SIGTERM (a `timeout`, say) unwind through the clean-up instead of dying in place.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    settings = bench_settings()
    token = settings.broker_prefix.rsplit("-", 1)[1]
    load = os.getloadavg()[0]
    print(f"broker prefix {settings.broker_prefix}, database {settings.database_url}")
    print(f"load average before the run {load:.2f} on {os.cpu_count()} cores", flush=True)
    figures = await run_benchmarks(
        settings, f"bench_{token}_producer", f"bench_{token}_peer", f"bench_{token}_bare"
    )
    targets = judge(figures)
    print_readable(figures, targets)
    run = {"prefix": settings.broker_prefix, "cores": os.cpu_count(), "load_before": load}
    print(json.dumps({**run, **figures, "targets": targets}))


if __name__ == "__main__":
    try:
        # on the loop the services run on (uvloop): the producer here stands for a service,
        # and the bare side gets the same loop
        event_loop.run(main(), bench_settings())
    except asyncio.CancelledError:
        sys.exit("stopped by SIGTERM; its queues, exchanges and schemas were removed")

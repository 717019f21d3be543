"""Batch approvals and applicant notices with one copy, then two copies, of cases and notify.

    python -m bench.scale [--cases 6000] [--events 2000] [--in-flight 4]

One run, two phases on the same data: phase `one` with one copy of cases and of notify,
phase `two` after a second copy of each has been started beside the first (accounts,
documents, the gateway and the development SMS provider stay single). Each phase measures:

- **batch approval**: `--cases` cases approved through the gateway in batches of 100
  (`POST /api/cases/batch`, `--in-flight` requests at a time, each of another unit: one
  request at a time could never use a second copy). Cases/s over the requests, p50/p99 per
  request, and cases/s until the cases relays have also published every approval's
  `case.transitioned` (a relay runs in each cases process, beside its requests, and falls
  behind while they keep it busy); the CPU window runs to then, so the relays' work counts.
- **events**: `--events` `case.applicant_notice` events, the event the cases service writes
  for a move that concerns the applicant (as `handlers/workflow._notice` builds it, for the
  generated cases), committed into `cases.outbox` by this process in transactions of 100
  (a batch's worth) as fast as it can: a backlog, as at a deadline. From there the real
  path: the cases relay(s) publish them, notify's copies consume them from their one queue
  (inbox row and delivery in one transaction), their SMS dispatchers hand the SMS to the
  development provider, whose receipts mark them delivered. Events/s from the first commit
  to the last `notify.inbox` row, commit → handled p50/p99 per event (the inbox's
  `handled_at`, the start of notify's transaction, against the commit's time), and the
  same to `delivered`. The producer is this process rather than an RPC so that it is not
  what bounds the rate: batch approval measures that side.

Split between copies: case.batch calls answered by each cases copy (their `stats`), events
handled by each notify copy (`notify.inbox.handled_by`), and each process's CPU.

Database `zhicheng_bench_scale` (ZC_DATABASE_URL's with `_scale` added, or
ZC_BENCH_SCALE_DATABASE_URL); its four service schemas are made anew at the start and
dropped at the end, and the broker objects of the run's prefix deleted, on SIGTERM too.
The last line printed is one JSON object with every figure. See bench/README.md.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import signal
import sys
import time
from secrets import token_hex
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import aiohttp
import asyncpg

from bench._processes import Processes, service_env
from bench._workflow_data import (
    DEFAULT_DATABASE,
    SERVICES,
    STATE_MIX,
    approval_inputs,
    check_bench_database,
    generate,
)
from bench.workflow import (
    ROOT,
    CpuMeter,
    Gateway,
    broker_pids,
    free_port,
    in_ms,
    machine_busy_pct,
    now,
    percentile,
    run_calls,
)
from services.cases.domain.model import APPLICANT_NOTICES, Action, CaseState
from services.notify.provider import provider_queue, receipts_queue
from shared.clock import Clock
from shared.envelope import new_event
from shared.personal_data import TRANSIT, keyring
from shared.rpc import RpcClient
from shared.settings import Settings
from shared.topology import Names, delete_prefix

BATCH_SIZE, UNITS, EVENTS_PER_COMMIT = 100, 20, 100
MODULES = {  # every process the run may start; the second copies only for phase two
    "accounts": "services.accounts",
    "cases": "services.cases",
    "documents": "services.documents",
    "notify": "services.notify",
    "sms-dev": "services.notify.dev_provider",
    "gateway": "gateway",
    "cases-2": "services.cases",
    "notify-2": "services.notify",
}
SCALED = ("cases", "notify")
ACCEPT_NOTICE = APPLICANT_NOTICES[(Action.ACCEPT, None)]


def say(text: str = "") -> None:
    print(text, flush=True)


def database_url() -> str:
    explicit = os.environ.get("ZC_BENCH_SCALE_DATABASE_URL")
    if explicit:
        return explicit
    parts = urlsplit(os.environ.get("ZC_DATABASE_URL", DEFAULT_DATABASE))
    name = parts.path.lstrip("/").removesuffix("_scale") + "_scale"
    return urlunsplit(parts._replace(path="/" + name))


def bench_settings() -> Settings:
    return Settings(
        database_url=database_url(),
        broker_prefix=f"{os.environ.get('ZC_BROKER_PREFIX', 'zcbench')}-scale-{token_hex(3)}",
        log_level=os.environ.get("ZC_BENCH_LOG_LEVEL", "WARNING"),
    )


def cases_to_generate(per_phase: int, warmup_batches: int) -> int:
    """Enough cases that both phases find their batches among those waiting for review."""
    needed = 2 * (per_phase + warmup_batches * BATCH_SIZE) + UNITS * BATCH_SIZE  # + leftovers
    return math.ceil(needed * 100 / STATE_MIX[CaseState.UNIT_REVIEW] * 1.15)


async def batches_by_turn(conn: asyncpg.Connection, ops: dict) -> list:
    """Every whole batch of 100 cases waiting for review, taken round the units in turn,
    so that the requests in flight are of different units."""
    rows = await conn.fetch(
        "SELECT unit_id, id FROM cases.cases WHERE state = 'unit_review' ORDER BY unit_id, id"
    )
    per_unit = []
    for unit_id, group in itertools.groupby(rows, key=lambda r: r["unit_id"]):
        ids = [str(r["id"]) for r in group]
        whole = len(ids) // BATCH_SIZE * BATCH_SIZE
        per_unit.append(
            [(ops[unit_id], ids[i : i + BATCH_SIZE]) for i in range(0, whole, BATCH_SIZE)]
        )
    return [b for turn in itertools.zip_longest(*per_unit) for b in turn if b is not None]


async def notices_of(conn: asyncpg.Connection, count: int) -> list:
    """`count` applicant notices of an accept, as the cases service writes them."""
    rows = await conn.fetch(
        "SELECT c.id, c.case_no, c.applicant_id, c.applicant_name, r.name AS round_name,"
        " q.name AS qualification_name FROM cases.cases c JOIN cases.rounds r ON r.id = c.round_id"
        " JOIN cases.qualifications q ON q.id = c.qualification_id ORDER BY c.case_no LIMIT $1",
        count,
    )
    if len(rows) < count:
        raise SystemExit(f"{count} notices asked for, {len(rows)} cases to make them of")
    sealer = keyring()
    return [
        new_event(
            "case.applicant_notice",
            {
                "case_id": str(r["id"]),
                "case_no": r["case_no"],
                "action": Action.ACCEPT.value,
                "applicant_id": str(r["applicant_id"]),
                "applicant_name": r["applicant_name"],
                "applicant_mobile": sealer.seal(f"139{n:08d}", TRANSIT),
                "round_name": r["round_name"],
                "qualification_name": r["qualification_name"],
                "notice": ACCEPT_NOTICE,
                "reason": None,
                "at": Clock().now().isoformat(),
            },
            "cases",
            correlation_id=None,
        )
        for n, r in enumerate(rows)
    ]


# --- the processes ---------------------------------------------------------------------------


class System:
    """The processes of the run, each a `python -m ...` of its own, logging to var_dir."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.settings = settings
        self.port = port
        self.var_dir = ROOT / os.environ.get("ZC_VAR_DIR", "var/bench") / "scale"
        env = service_env(
            settings, self.var_dir, ZC_GATEWAY_HOST="127.0.0.1", ZC_GATEWAY_PORT=str(port)
        )
        self.processes = Processes(MODULES, env, self.var_dir)
        self.rpc = RpcClient(settings.amqp_url, Names(settings).rpc_queue, 30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, copies: int) -> None:
        """Start what is not running yet, with `copies` of cases and notify; wait until each
        copy consumes its RPC queue and notify's copies their events queue."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        for name in MODULES:
            wanted = not name.endswith("-2") or copies == 2
            if wanted and name not in self.processes.running:
                await self.processes.start(name, fresh_log=True)
        names, settings = Names(self.settings), self.settings
        consumers = {
            names.rpc_queue("accounts"): 1, names.rpc_queue("documents"): 1,
            names.rpc_queue("cases"): copies, names.rpc_queue("notify"): copies,
            names.event_queue("notify"): copies, receipts_queue(settings): copies,
            provider_queue(settings): 1,
        }  # fmt: skip
        connection = await aio_pika.connect(settings.amqp_url, timeout=10)
        http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        async with connection, http:

            async def ready() -> bool:
                self.processes.check_alive()
                if await self._short_of_consumers(connection, consumers):
                    return False
                with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                    async with http.get(f"{self.url}/readyz") as response:
                        return response.status == 200
                return False

            await wait_for(ready, 90, "each copy consuming its queues, the gateway ready")
        if not self.rpc.connected:
            await self.rpc.start()

    @staticmethod
    async def _short_of_consumers(connection, queues: dict[str, int]) -> list[str]:
        short = []
        for queue, wanted in queues.items():
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(queue, passive=True)
                if declared.declaration_result.consumer_count < wanted:
                    short.append(queue)
            except aio_pika.exceptions.ChannelClosed:  # not declared yet
                short.append(queue)
            with contextlib.suppress(Exception):
                await channel.close()
        return short

    def labels(self) -> dict[int, str]:
        return {pid: name for name, pid in self.processes.pids().items()}

    def groups(self) -> dict[str, list[int]]:
        return {name: [pid] for name, pid in self.processes.pids().items()}

    async def handled(self, service: str) -> dict[int, tuple[int, int]]:
        """pid -> (calls handled at its first answer, at its last), `stats` called one at a
        time until every copy of `service` has answered (each stats call counts one)."""
        pids = {p for label, p in self.processes.pids().items() if label.startswith(service)}
        seen: dict[int, tuple[int, int]] = {}
        for _ in range(40):
            answer = await self.rpc.call(service, "stats", timeout=10)
            first = seen.get(answer["pid"], (answer["handled"],))[0]
            seen[answer["pid"]] = (first, answer["handled"])
            if pids <= set(seen):
                return seen
        raise RuntimeError(f"not every copy of {service} answered stats: {seen}")

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.rpc.close()
        await self.processes.stop(grace=20)


# --- the two measurements --------------------------------------------------------------------


async def wait_for(check, timeout: float, what: str) -> float:
    """Poll `check()` until true; seconds waited. RuntimeError after `timeout`."""
    started = now()
    while not await check():
        if now() - started > timeout:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(0.1)
    return now() - started


class Meter:
    """CPU of each process of the run (each copy on its own), the bench, the database's
    backends and the broker, over a window; with each scaled service's sum, everything's,
    and how much of the machine was busy with something else meanwhile."""

    def __init__(self, system: System, monitor: asyncpg.Connection) -> None:
        groups = system.groups() | {"bench": [os.getpid()]}
        self.cpu = CpuMeter(groups | {"broker": broker_pids(system.settings.amqp_url)}, monitor)

    async def start(self) -> "Meter":
        self.started = now()
        await self.cpu.start()
        return self

    async def figures(self, items: int, unit: str) -> dict:
        wall = now() - self.started
        figures = await self.cpu.figures(items, unit)
        cpu = figures[f"cpu_us_per_{unit}"]
        cpu["all"] = sum(cpu.values())
        for service in SCALED:
            cpu[f"{service}_all"] = sum(us for k, us in cpu.items() if k.split("-")[0] == service)
        ours = round(100 * cpu["all"] * items / 1e6 / wall)
        figures["others_cpu_pct"] = max(0, figures["machine_cpu_pct"] - ours)
        return figures


async def approve_batches(
    system: System, gateway: Gateway, monitor, batches: list, warmup: list, in_flight: int
) -> dict:
    inputs = approval_inputs(Clock().today())

    async def approve(item) -> None:
        op, ids = item
        body = {"case_ids": ids, "action": "approve", "inputs": inputs}
        result = await gateway.post(op, "/api/cases/batch", body)
        if result is not None and result["done"] != len(ids):
            gateway.errors.add(f"batch: {result['failed']} failed: {result['results'][:1]}")

    async def outbox_empty() -> bool:
        return not await monitor.fetchval("SELECT count(*) FROM cases.outbox WHERE sent_at IS NULL")

    await run_calls(warmup, approve, in_flight)
    await wait_for(outbox_empty, 60, "warm-up events published")
    before = await system.handled("cases")
    meter = await Meter(system, monitor).start()
    latencies, elapsed = await run_calls(batches, approve, in_flight)
    drained = await wait_for(outbox_empty, 60, "approvals' events published")
    cases = len(batches) * BATCH_SIZE
    figures = await meter.figures(cases, "case")
    after = await system.handled("cases")
    labels = system.labels()
    # a copy's first answer after, less its last before, less that stats call itself
    split = {labels[pid]: after[pid][0] - before[pid][1] - 1 for pid in after}
    return {
        "cases_per_s": round(cases / elapsed, 1),
        # until the last approval's event is out too: what a longer run would settle at
        "cases_per_s_with_events": round(cases / (elapsed + drained), 1),
        "p50_ms": in_ms(percentile(latencies, 0.50)),
        "p99_ms": in_ms(percentile(latencies, 0.99)),
        "requests": len(batches),
        "in_flight": in_flight,
        "seconds": round(elapsed, 2),
        "events_published_after_s": round(drained, 2),
        **figures,
        "calls_by_copy": split,
    }


async def commit_notices(conn: asyncpg.Connection, events: list) -> dict:
    """In transactions of EVENTS_PER_COMMIT; event id -> the wall time of its commit."""
    committed = {}
    for i in range(0, len(events), EVENTS_PER_COMMIT):
        chunk = events[i : i + EVENTS_PER_COMMIT]
        async with conn.transaction():
            await conn.executemany(
                "INSERT INTO cases.outbox (id, routing_key, envelope) VALUES ($1, $2, $3)",
                [(e.id, e.type, e.model_dump_json()) for e in chunk],
            )
        at = time.time()
        committed.update({e.id: at for e in chunk})
    return committed


async def delivered_all(monitor, events: list, timeout: float) -> None:
    references = [f"case:{e.payload['case_id']}:{e.id}" for e in events]

    async def done() -> bool:
        n = await monitor.fetchval(
            "SELECT count(*) FROM notify.deliveries WHERE reference = ANY($1::text[])"
            " AND status = 'delivered'",
            references,
        )
        return n == len(events)

    await wait_for(done, timeout, f"{len(events)} SMS delivered")


async def notices(system: System, monitor, events: list, warmup: list) -> dict:
    producer = await asyncpg.connect(system.settings.database_url)
    try:
        await commit_notices(producer, warmup)
        await delivered_all(monitor, warmup, 120)
        meter = await Meter(system, monitor).start()
        started = time.time()
        committed = await commit_notices(producer, events)
        commit_seconds = time.time() - started
        await delivered_all(monitor, events, 60 + len(events) / 10)
        figures = await meter.figures(len(events), "event")
    finally:
        await producer.close()
    ids = [e.id for e in events]
    handled = await monitor.fetch(
        "SELECT message_id, extract(epoch FROM handled_at)::float8 AS at, handled_by"
        " FROM notify.inbox WHERE consumer = 'notify' AND message_id = ANY($1::uuid[])",
        ids,
    )
    delivered = await monitor.fetch(
        "SELECT split_part(reference, ':', 3)::uuid AS message_id,"
        " extract(epoch FROM updated_at)::float8 AS at FROM notify.deliveries"
        " WHERE reference = ANY($1::text[]) AND status = 'delivered'",
        [f"case:{e.payload['case_id']}:{e.id}" for e in events],
    )
    if len(handled) != len(events) or len(delivered) != len(events):
        raise RuntimeError(
            f"{len(events)} events: {len(handled)} handled, {len(delivered)} delivered"
        )
    labels = system.labels()
    split = {}
    for r in handled:
        label = labels.get(int(r["handled_by"].rsplit(":", 1)[1]), r["handled_by"])
        split[label] = split.get(label, 0) + 1
    return {
        **rates("", handled, committed, started),
        **rates("sms_", delivered, committed, started),
        "events": len(events),
        "commit_seconds": round(commit_seconds, 2),
        **figures,
        "handled_by_copy": split,
    }


def rates(prefix: str, rows, committed: dict, started: float) -> dict:
    waits = [r["at"] - committed[r["message_id"]] for r in rows]
    last = max(r["at"] for r in rows)
    return {
        f"{prefix}per_s": round(len(rows) / (last - started), 1),
        f"{prefix}p50_ms": in_ms(percentile(waits, 0.50)),
        f"{prefix}p99_ms": in_ms(percentile(waits, 0.99)),
    }


# --- the run ---------------------------------------------------------------------------------


async def phase(copies: int, system: System, gateway, monitor, batches, events, args) -> dict:
    name = "one" if copies == 1 else "two"
    say(f"phase {name}: {copies} cop{'y' if copies == 1 else 'ies'} of cases and notify ...")
    await system.start(copies)
    load = os.getloadavg()[0]
    busy = await machine_busy_pct(1.0)
    say(f"  load average {load:.2f}, machine {busy}% busy before")
    warm = 2 * args.in_flight
    approve = await approve_batches(
        system, gateway, monitor, batches[warm:], batches[:warm], args.in_flight
    )
    say(f"  batch approval: {approve['cases_per_s']:,.0f} cases/s, p50 {approve['p50_ms']:.0f} ms,"
        f" p99 {approve['p99_ms']:.0f} ms a request; calls {approve['calls_by_copy']}")  # fmt: skip
    notice = await notices(system, monitor, events[EVENTS_PER_COMMIT:], events[:EVENTS_PER_COMMIT])
    say(f"  notices: {notice['per_s']:,.0f} events/s handled, p50 {notice['p50_ms']:.0f} ms,"
        f" p99 {notice['p99_ms']:.0f} ms; SMS delivered {notice['sms_per_s']:,.0f}/s;"
        f" handled {notice['handled_by_copy']}")  # fmt: skip
    return {"copies": copies, "load_before": load, "machine_cpu_pct_before": busy,
            "approve_batch": approve, "notices": notice}  # fmt: skip


async def run(settings: Settings, args) -> dict:
    warm = 2 * args.in_flight
    per_phase = warm + math.ceil(args.cases / BATCH_SIZE)  # batches
    system = System(settings, free_port(int(os.environ.get("ZC_GATEWAY_PORT", 18083))))
    (system.var_dir / "sms.log").unlink(missing_ok=True)
    gateway = Gateway(system.url)
    monitor = None
    try:
        total = cases_to_generate(args.cases, warm)
        say(f"generating {total:,} cases in {UNITS} units ...")
        data = await generate(settings.database_url, total, UNITS, say=say)
        figures = {"data": {"cases": data.cases, "units": data.units, "seconds": data.seconds}}
        monitor = await asyncpg.connect(settings.database_url)
        batches = await batches_by_turn(monitor, {op.unit_id: op for op in data.operators})
        if len(batches) < 2 * per_phase:
            raise SystemExit(f"{len(batches)} batches of {BATCH_SIZE} for {2 * per_phase}")
        events = await notices_of(monitor, 2 * (args.events + EVENTS_PER_COMMIT))
        half = len(events) // 2
        # The phases take the batches in turn: both approve cases of the same units.
        shares = {
            "one": (batches[0 : 2 * per_phase : 2], events[:half]),
            "two": (batches[1 : 2 * per_phase : 2], events[half:]),
        }
        await gateway.start()
        for copies, name in ((1, "one"), (2, "two")):
            figures[name] = await phase(copies, system, gateway, monitor, *shares[name], args)
    finally:
        with contextlib.suppress(Exception):
            await gateway.close()
        await system.stop()
        if monitor is not None:
            await monitor.close()
        await clean_up(settings, system)
    figures["errors"] = {"count": gateway.errors.count, "first": gateway.errors.first}
    return figures


async def clean_up(settings: Settings, system: System) -> None:
    """The broker objects of the run's prefix, the service schemas, the SMS log."""
    await delete_prefix(settings)
    with contextlib.suppress(asyncpg.InvalidCatalogNameError):  # stopped before it was made
        conn = await asyncpg.connect(settings.database_url)
        try:
            for schema in SERVICES:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()
    (system.var_dir / "sms.log").unlink(missing_ok=True)


def ratios(f: dict) -> dict:
    one, two = f["one"], f["two"]
    a1, a2, n1, n2 = one["approve_batch"], two["approve_batch"], one["notices"], two["notices"]
    return {
        "batch_cases_per_s": round(a2["cases_per_s"] / a1["cases_per_s"], 2),
        "batch_with_events": round(
            a2["cases_per_s_with_events"] / a1["cases_per_s_with_events"], 2
        ),
        "events_per_s": round(n2["per_s"] / n1["per_s"], 2),
        "sms_per_s": round(n2["sms_per_s"] / n1["sms_per_s"], 2),
        "cpu_per_case": round(a2["cpu_us_per_case"]["all"] / a1["cpu_us_per_case"]["all"], 2),
        "cpu_per_event": round(n2["cpu_us_per_event"]["all"] / n1["cpu_us_per_event"]["all"], 2),
    }


def table(p: dict) -> list[tuple[str, str]]:
    """One phase's column of the table printed at the end."""
    a, n = p["approve_batch"], p["notices"]
    return [
        ("load average before", f"{p['load_before']:.2f}"),
        ("batch approval, cases/s", f"{a['cases_per_s']:,.0f}"),
        ("  p50 / p99 per request, ms", f"{a['p50_ms']:,.0f} / {a['p99_ms']:,.0f}"),
        ("  events all published after, s", f"{a['events_published_after_s']:.1f}"),
        ("  cases/s, events out too", f"{a['cases_per_s_with_events']:,.0f}"),
        ("  CPU per case, µs, all processes", f"{a['cpu_us_per_case']['all']:,}"),
        ("  machine busy / others, %", f"{a['machine_cpu_pct']} / {a['others_cpu_pct']}"),
        ("notices handled, events/s", f"{n['per_s']:,.0f}"),
        ("  commit → handled p50 / p99, ms", f"{n['p50_ms']:,.0f} / {n['p99_ms']:,.0f}"),
        ("  SMS delivered, /s", f"{n['sms_per_s']:,.0f}"),
        ("  commit → delivered p50 / p99, ms", f"{n['sms_p50_ms']:,.0f} / {n['sms_p99_ms']:,.0f}"),
        ("  CPU per event, µs, all processes", f"{n['cpu_us_per_event']['all']:,}"),
        ("  machine busy / others, %", f"{n['machine_cpu_pct']} / {n['others_cpu_pct']}"),
    ]


def print_readable(f: dict, two_over_one: dict) -> None:
    say(f"\n{'':36}{'one copy':>15}{'two copies':>15}")
    for (title, one), (_, two) in zip(table(f["one"]), table(f["two"]), strict=True):
        say(f"{title:36}{one:>15}{two:>15}")
    for part, unit in (("approve_batch", "case"), ("notices", "event")):
        for name in ("one", "two"):
            cpu = f[name][part][f"cpu_us_per_{unit}"]
            say(f"cpu µs per {unit}, {name}: " + ", ".join(f"{k} {v}" for k, v in cpu.items() if v))
    two = f["two"]
    say(f"split between the copies: case.batch calls {two['approve_batch']['calls_by_copy']},"
        f" notices handled {two['notices']['handled_by_copy']}")  # fmt: skip
    say("two over one: " + ", ".join(f"{k} {v}" for k, v in two_over_one.items()))
    errors = f["errors"]
    say(f"errors: {errors['count']}" + (f"; first: {errors['first']}" if errors["count"] else ""))


async def main(args: argparse.Namespace) -> None:
    # On SIGTERM (a `timeout`, say) unwind through the clean-up instead of dying in place.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    settings = bench_settings()
    check_bench_database(settings.database_url)
    say(f"broker prefix {settings.broker_prefix}, database {settings.database_url}")
    started = now()
    figures = await run(settings, args)
    two_over_one = ratios(figures)
    print_readable(figures, two_over_one)
    head = {
        "prefix": settings.broker_prefix, "database": settings.database_url,
        "cores": os.cpu_count(), "batch_size": BATCH_SIZE, "events_per_commit": EVENTS_PER_COMMIT,
    }  # fmt: skip
    figures["seconds_total"] = round(now() - started, 1)
    say(f"whole run {figures['seconds_total']:.0f} s")
    print(json.dumps({**head, **figures, "two_over_one": two_over_one}, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=6000, help="cases approved in each phase")
    parser.add_argument("--events", type=int, default=2000, help="notices in each phase")
    parser.add_argument("--in-flight", type=int, default=4, help="batch requests at a time")
    try:
        asyncio.run(main(parser.parse_args()))
    except asyncio.CancelledError:
        sys.exit("stopped by SIGTERM; processes stopped, schemas dropped, broker objects removed")

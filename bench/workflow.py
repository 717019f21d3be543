"""The case workflow through the real processes, beside the bare SQL doing the same work.

    python -m bench.workflow [--cases 100000] [--units 200] [--phases reads,singles,batch]
    python -m bench.workflow --cases 1000000 --units 1000 --phases reads,pages,explain,batch

Loads the cases with COPY (bench/_workflow_data.py), starts the four services and the
gateway as the processes they are in production, and measures through HTTP what --phases
names: reads, the unit home counts and the 材料审核 list's 待办 and 已办 first pages round
every unit's operator; pages, every page of bench/_workflow_pages.py (each party's home and
lists, their sorts, filters and last pages); singles, approvals one at a time and 8 in
flight; batch, batch approvals of 100 cases a request. explain writes EXPLAIN (ANALYZE,
BUFFERS) of every page's statements into a Markdown file (--plans). Beside each, asyncpg in
this process runs the statements the cases service runs for it on the same database: the
limit. The last line printed is one JSON object with every figure. See bench/README.md.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import aiohttp
import asyncpg

from bench._bare_approval import approve as bare_approve
from bench._processes import Processes, service_env
from bench._workflow_data import (
    DEFAULT_DATABASE,
    Generated,
    Operator,
    approval_inputs,
    check_bench_database,
    generate,
)
from bench._workflow_pages import PAGE_SIZE, BarePages, Page, explain
from bench._workflow_pages import pages as all_pages
from services.notify.provider import outbound_exchange, provider_queue, receipts_queue
from shared.clock import Clock
from shared.db import create_pool
from shared.settings import Settings
from shared.topology import Names

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = {  # started in this order; the gateway's /readyz pings the other four
    "accounts": "services.accounts",
    "cases": "services.cases",
    "documents": "services.documents",
    "notify": "services.notify",
    "gateway": "gateway",
}
SERVICES = ("accounts", "cases", "documents", "notify")
# The floor: aiohttp and RabbitMQ around the bare SQL, nothing of ours (phase floor).
FLOOR_PROCESSES = {"service": "bench._floor_service", "gateway": "bench._floor_gateway"}
DEFAULT_GATEWAY_PORT = 18081

HOME_WARMUP, HOME_REQUESTS = 100, 1000
LIST_WARMUP, LIST_REQUESTS = 100, 1000
DONE_WARMUP, DONE_REQUESTS = 50, 500
SINGLE_WARMUP, SINGLE_SERIAL = 50, 1000
IN_FLIGHT, CONCURRENT_WARMUP, SINGLE_CONCURRENT = 8, 80, 2000
BATCH_SIZE, BATCH_WARMUP, BATCHES = 100, 2, 100

PAGE_WARMUP, PAGE_REQUESTS = 10, 100  # each page of phase pages

# Targets (issue 18): home counts p99 at most 5 ms at 100,000 cases, 20 ms at a million;
# every list page p99 under 50 ms; batch approvals at least 1,000 cases/s.
HOME_LIMIT_MS, HOME_LIMIT_MS_MILLION = 5.0, 20.0
LIST_LIMIT_MS = 50.0
BATCH_TARGET = 1000.0
SINGLE_SHARE = 0.4  # issue 18: single approvals 8 in flight, ours / bare cases per second
APPROVAL_CPU_RATIO = 3.0  # issue 18: CPU per approval, every process, ours / bare

# What a run measures (--phases): reads, the home counts and the 材料审核 待办 and 已办 first
# pages round every unit's operator; pages, every page of bench/_workflow_pages.py; explain,
# their plans into a file; singles, approvals one at a time and 8 in flight; batch, batches;
# floor, approvals 8 in flight through a bare aiohttp server and a bare aio-pika RPC server
# that runs the bare SQL: the least an approval through the design card's path can cost.
PHASES = ("reads", "pages", "explain", "singles", "batch", "floor")
DEFAULT_PHASES = ("reads", "singles", "batch", "floor")
READS = ("home_first", "home", "list_todo", "list_done")
APPROVALS = (
    ("approve_one_at_a_time", "one at a time"),
    ("approve_in_flight", f"{IN_FLIGHT} in flight"),
    ("approve_batch", f"batches of {BATCH_SIZE}"),
)

TODO_LIST, DONE_LIST = "unit:3", "unit:3"  # 材料审核: its 待办 and 已办 tabs


# --- measuring -----------------------------------------------------------------------------


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def in_ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def process_cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def machine_idle_seconds() -> float:
    """Idle core-seconds since boot (busy = elapsed x cores - idle; see bench/messaging.py)."""
    with open("/proc/stat") as stat:
        ticks = stat.readline().split()
    return (int(ticks[4]) + int(ticks[5])) / os.sysconf("SC_CLK_TCK")


async def machine_busy_pct(seconds: float) -> int:
    """How busy the whole machine is over the next `seconds` (100 = one core)."""
    idle, started = machine_idle_seconds(), now()
    await asyncio.sleep(seconds)
    wall = now() - started
    return round(100 * (wall * os.cpu_count() - (machine_idle_seconds() - idle)) / wall)


def broker_pids(amqp_url: str) -> list[int]:
    """The process listening on the broker's port, if it runs on this machine."""
    port = urlsplit(amqp_url).port or 5672
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    pids = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{entry}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                        pids.add(int(entry))
                        break
    return sorted(pids)


class CpuMeter:
    """CPU time of each process group from start() to figures(): the bench, each service,
    the database backends of the bench database, and the broker; and the whole machine."""

    def __init__(self, groups: dict[str, list[int]], db: asyncpg.Connection | None) -> None:
        self.groups = groups
        self.db = db

    async def _db_pids(self) -> list[int]:
        if self.db is None:
            return []
        rows = await self.db.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        )
        return [r["pid"] for r in rows]

    async def _read(self) -> tuple[float, float, dict[str, dict[int, float]]]:
        groups = {**self.groups, "db": await self._db_pids()}
        cpu = {
            name: {pid: t for pid in pids if (t := process_cpu_seconds(pid)) is not None}
            for name, pids in groups.items()
        }
        return now(), machine_idle_seconds(), cpu

    async def start(self) -> "CpuMeter":
        self.started = await self._read()
        return self

    async def figures(self, items: int, unit: str) -> dict:
        wall0, idle0, cpu0 = self.started
        wall1, idle1, cpu1 = await self._read()
        wall = wall1 - wall0
        per_item = {}
        for name, pids in cpu1.items():
            # a process that appeared meanwhile (a new pool connection) counts from its start
            spent = sum(t - cpu0.get(name, {}).get(pid, 0.0) for pid, t in pids.items())
            per_item[name] = round(1e6 * spent / items)
        return {
            f"cpu_us_per_{unit}": per_item,
            "machine_cpu_pct": round(100 * (wall * os.cpu_count() - (idle1 - idle0)) / wall),
        }


class Errors:
    def __init__(self) -> None:
        self.count = 0
        self.first: str | None = None

    def add(self, what: str) -> None:
        self.count += 1
        if self.first is None:
            self.first = what[:300]


async def run_calls(items: list, call: Callable[[object], Awaitable[None]], in_flight: int):
    """call(item) for every item, `in_flight` at a time; (latencies, elapsed seconds)."""
    pending = iter(items)
    latencies: list[float] = []

    async def worker() -> None:
        for item in pending:  # one iterator shared by the workers
            started = now()
            await call(item)
            latencies.append(now() - started)

    started = now()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return latencies, now() - started


async def measure(
    items: list,
    warmup: list,
    call: Callable[[object], Awaitable[None]],
    meter: CpuMeter,
    in_flight: int = 1,
    per_item: int = 1,
    rate: bool = False,
) -> dict:
    """Latency per call and throughput; `per_item` cases per call (a batch)."""
    await run_calls(warmup, call, in_flight)
    await meter.start()
    latencies, elapsed = await run_calls(items, call, in_flight)
    cases = len(items) * per_item
    figures = {
        "p50_ms": in_ms(percentile(latencies, 0.50)),
        "p99_ms": in_ms(percentile(latencies, 0.99)),
        "requests": len(items),
        "in_flight": in_flight,
        "seconds": round(elapsed, 2),
    }
    if rate:
        figures["cases_per_s"] = round(cases / elapsed, 1)
    return {**figures, **(await meter.figures(cases, "case" if per_item > 1 else "request"))}


# --- through the gateway ---------------------------------------------------------------------


class Gateway:
    """HTTP calls as a signed-in unit operator makes them: the session cookie, and on
    POST the X-CSRF-Token header."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.errors = Errors()
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.http = aiohttp.ClientSession(
            self.url,
            cookie_jar=aiohttp.DummyCookieJar(),
            connector=aiohttp.TCPConnector(limit=64),
            timeout=aiohttp.ClientTimeout(total=90),
        )

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()

    async def get(self, op: Operator, path: str, check=None) -> None:
        async with self.http.get(path, headers={"Cookie": f"zc_session={op.token}"}) as r:
            body = await r.read()
            if r.status != 200:
                self.errors.add(f"GET {path}: {r.status} {body.decode(errors='replace')}")
            elif check is not None:
                check(json.loads(body))

    async def post(self, op: Operator, path: str, payload: dict) -> dict | None:
        headers = {
            "Cookie": f"zc_session={op.token}",
            "X-CSRF-Token": op.csrf,
            "Content-Type": "application/json",
        }
        data = json.dumps(payload, ensure_ascii=False).encode()
        async with self.http.post(path, data=data, headers=headers) as r:
            body = await r.read()
            if r.status != 200:
                self.errors.add(f"POST {path}: {r.status} {body.decode(errors='replace')}")
                return None
            return json.loads(body)


# --- the bare SQL: the statements the cases service runs, from this process ------------------

HOME, TODO_PAGE, DONE_PAGE = Page("unit"), Page("unit", TODO_LIST), Page("unit", DONE_LIST, "done")


class Bare:
    """The cases service's statements for each request, run with asyncpg on a pool made as
    the service makes its own (shared.db.create_pool: schema, JSON codecs, reset)."""

    def __init__(self, pool: asyncpg.Pool, today, users: dict) -> None:
        self.pool = pool
        self.errors = Errors()
        self.approval = approval_inputs(today)
        self.stored_approval = {**self.approval, "negative_situation": "无负面情况"}
        self.pages = BarePages(pool, {who: user.actor for who, user in users.items()})

    # queries.home_counts: the calendar, then the counts by state
    async def home(self, op: Operator) -> None:
        await self.pages.run(HOME, op.actor)

    # queries.list_cases, tab=todo, page 1 of 20, sort updated: the calendar, count, page
    async def list_todo(self, op: Operator) -> None:
        if not await self.pages.run(TODO_PAGE, op.actor):
            self.errors.add("待办 page came back empty")

    # queries.list_cases, tab=done
    async def list_done(self, op: Operator) -> None:
        if not await self.pages.run(DONE_PAGE, op.actor):
            self.errors.add("已办 page came back empty")

    # workflow.move_cases + repository.save for action approve, without the Python domain
    async def approve(self, op: Operator, cases: list[tuple[uuid.UUID, int]]) -> None:
        if error := await bare_approve(self.pool, op.actor, cases, self.stored_approval):
            self.errors.add(error)


# --- the cases to approve ------------------------------------------------------------------


async def cases_to_approve(
    conn: asyncpg.Connection, operators: list[Operator], phases: set[str]
) -> dict:
    """Every case waiting for its unit's review, split into the approval phases' shares.

    Batches take 100 cases of one unit each, taken round the units in turn; single
    approvals take what is left, one unit after another, so consecutive requests come from
    different units' operators. Ours and bare get the same number from the same units.
    """
    by_unit: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = defaultdict(list)
    for r in await conn.fetch(
        "SELECT unit_id, id, version FROM cases.cases WHERE state = 'unit_review'"
        " ORDER BY unit_id, id"
    ):
        by_unit[r["unit_id"]].append((r["id"], r["version"]))
    per_unit_batches, rests = [], []
    for op in operators:
        cases = by_unit.get(op.unit_id, [])
        whole = len(cases) // BATCH_SIZE * BATCH_SIZE
        per_unit_batches.append(
            [(op, cases[i : i + BATCH_SIZE]) for i in range(0, whole, BATCH_SIZE)]
        )
        rests.append([(op, case) for case in cases[whole:]])
    batches = _round_robin(per_unit_batches)
    singles = _round_robin(rests)
    need_batches = 2 * (BATCH_WARMUP + BATCHES) if "batch" in phases else 0
    # split_singles warms up until every operator came once: a round, give or take
    warm_up = max(SINGLE_WARMUP, 2 * len(operators))
    need_singles = 2 * (warm_up + SINGLE_SERIAL + CONCURRENT_WARMUP + SINGLE_CONCURRENT)
    need_singles *= "singles" in phases
    need_floor = (CONCURRENT_WARMUP + SINGLE_CONCURRENT) * ("floor" in phases)
    spare = batches[need_batches:]  # whole batches nobody needs go to single approvals
    singles += [(op, case) for op, chunk in spare for case in chunk]
    if len(batches) < need_batches or len(singles) < need_singles + need_floor:
        raise SystemExit(
            f"not enough unit_review cases: {len(batches)} batches of {BATCH_SIZE} for"
            f" {need_batches}, {len(singles)} single cases for {need_singles + need_floor}"
        )
    # Even positions to ours, odd to bare: both get cases of the same units.
    return {
        "ours": {"batches": batches[0:need_batches:2], "singles": singles[0:need_singles:2]},
        "bare": {"batches": batches[1:need_batches:2], "singles": singles[1:need_singles:2]},
        "floor": singles[need_singles : need_singles + need_floor],
    }


def _all_seen(operators) -> int:
    """How many of these operators, in order, until each of them has come once."""
    operators = list(operators)
    left = {op.user_id for op in operators}
    for count, op in enumerate(operators, 1):
        left.discard(op.user_id)
        if not left:
            return count
    return len(operators)


def _round_robin(lists: list[list]) -> list:
    out, longest = [], max(map(len, lists), default=0)
    for i in range(longest):
        out.extend(items[i] for items in lists if i < len(items))
    return out


def split_singles(singles: list) -> tuple[list, list, list, list]:
    """Warm-up, one at a time, warm-up, in flight. The first warm-up reaches every operator
    of the share, as reads_phases' does: their sessions cached in the gateway."""
    a = max(SINGLE_WARMUP, _all_seen(op for op, _case in singles))
    b = a + SINGLE_SERIAL
    c = b + CONCURRENT_WARMUP
    return singles[:a], singles[a:b], singles[b:c], singles[c : c + SINGLE_CONCURRENT]


# --- the processes ---------------------------------------------------------------------------


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


class System:
    """accounts, cases, documents, notify and the gateway, each a process of its own (or
    the floor's two, FLOOR_PROCESSES)."""

    def __init__(
        self, settings: Settings, port: int, log_dir: Path, modules: dict = PROCESSES
    ) -> None:
        self.port = port
        env = service_env(settings, log_dir, ZC_GATEWAY_HOST="127.0.0.1", ZC_GATEWAY_PORT=str(port))
        self.processes = Processes(modules, env, log_dir)

    async def start(self, ready_timeout: float = 90.0) -> None:
        await self.processes.spawn()
        deadline = now() + ready_timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            while True:
                self.processes.check_alive()
                with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                    async with http.get(f"{self.url}/readyz") as r:
                        if r.status == 200:
                            return
                if now() > deadline:
                    raise RuntimeError(f"{self.url}/readyz not 200 in {ready_timeout:.0f} s")
                await asyncio.sleep(0.3)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> dict[str, list[int]]:
        return {name: [pid] for name, pid in self.processes.pids().items()}

    async def stop(self) -> None:
        await self.processes.stop(grace=15)


async def delete_broker_objects(settings: Settings) -> None:
    """Every queue and exchange the five processes declare under the run's prefix."""
    names = Names(settings)
    queues = [names.rpc_queue(s) for s in SERVICES]
    queues += [q for s in SERVICES for q in (names.event_queue(s), names.dead_letter_queue(s))]
    queues += [provider_queue(settings), receipts_queue(settings)]
    exchanges = [names.events_exchange, names.dead_letter_exchange, outbound_exchange(settings)]
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        for kind, name in [("queue", q) for q in queues] + [("exchange", e) for e in exchanges]:
            channel = await connection.channel()  # a failed delete closes its channel
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                if kind == "queue":
                    await channel.queue_delete(name)
                else:
                    await channel.exchange_delete(name)
            with contextlib.suppress(Exception):
                await channel.close()


# --- the run ---------------------------------------------------------------------------------


def bench_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("ZC_DATABASE_URL", DEFAULT_DATABASE),
        broker_prefix=f"{os.environ.get('ZC_BROKER_PREFIX', 'zcbench')}-{secrets.token_hex(3)}",
        log_level=os.environ.get("ZC_BENCH_LOG_LEVEL", "WARNING"),
    )


def say(text: str) -> None:
    print(text, flush=True)


async def reads_phases(
    name: str, run: Callable, ops: list[Operator], meter: CpuMeter, checks: dict
) -> dict:
    """home, list todo, list done for one stack; `run(kind, op, check)` makes one call."""
    out = {}
    # Each operator's first request, the processes warm: through the gateway the session is
    # not cached yet, so it asks accounts too (not a target; the same statements bare).
    await run("home", ops[0], checks.get("home"))

    async def first(op):
        await run("home", op, None)

    out["home_first"] = await measure(ops[1:], [], first, meter)
    for kind, warm, count in (
        ("home", HOME_WARMUP, HOME_REQUESTS),
        ("list_todo", LIST_WARMUP, LIST_REQUESTS),
        ("list_done", DONE_WARMUP, DONE_REQUESTS),
    ):
        # Round the 200 units' operators: the largest and the smallest units alike. The
        # warm-up reaches each of them once, as a working day has: every gateway session in
        # the cache (a session's first request, or one after ZC_SESSION_CACHE_SECONDS, asks
        # accounts too; bench/README.md, "Sessions in the warm-up").
        items = [ops[i % len(ops)] for i in range(count)]
        warmup = [ops[-1 - i % len(ops)] for i in range(max(warm, len(ops)))]
        await run(kind, ops[0], checks.get(kind))  # one answer of the largest unit, checked

        async def call(op, kind=kind):
            await run(kind, op, None)

        out[kind] = await measure(items, warmup, call, meter)
        say(f"  {name:<4} {kind:<10} p50 {out[kind]['p50_ms']:6.2f} ms  p99 "
            f"{out[kind]['p99_ms']:6.2f} ms")  # fmt: skip
    return out


async def approval_phases(
    name: str, approve: Callable, share: dict, meter: CpuMeter, phases: set[str]
) -> dict:
    """approve(op, [(case_id, version), ...]) for one stack: one at a time, 8 in flight
    (phase singles), batches (phase batch)."""
    warm1, serial, warm8, concurrent = split_singles(share["singles"])
    batches = share["batches"]

    async def approve_one(item):
        op, case = item
        await approve(op, [case])

    async def approve_batch(item):
        op, cases = item
        await approve(op, cases)

    out = {}
    if "singles" in phases:
        out["approve_one_at_a_time"] = await measure(serial, warm1, approve_one, meter, rate=True)
        out["approve_in_flight"] = await measure(
            concurrent, warm8, approve_one, meter, IN_FLIGHT, rate=True
        )
    if "batch" in phases:
        out["approve_batch"] = await measure(
            batches[BATCH_WARMUP:], batches[:BATCH_WARMUP], approve_batch, meter, 1, BATCH_SIZE,
            True,
        )  # fmt: skip
    for key, label in APPROVALS:
        if key in out:
            f = out[key]
            say(f"  {name:<4} approve {label:<19} {f['cases_per_s']:8.1f} cases/s  p50 "
                f"{f['p50_ms']:7.2f} ms  p99 {f['p99_ms']:7.2f} ms per request")  # fmt: skip
    return out


async def pages_phase(name: str, run_page: Callable, pages: list[Page], meter: CpuMeter) -> dict:
    """Every page of `pages` in turn, PAGE_REQUESTS times after PAGE_WARMUP, one at a time;
    `run_page(page, check)` makes one call (the first one checked)."""
    out = {}
    for page in pages:
        await run_page(page, True)

        async def call(page):
            await run_page(page, False)

        out[page.name] = await measure([page] * PAGE_REQUESTS, [page] * PAGE_WARMUP, call, meter)
        f = out[page.name]
        say(f"  {name:<4} {page.name:<58} p50 {f['p50_ms']:6.2f} ms  p99 {f['p99_ms']:6.2f} ms")
    return out


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


async def write_plans(bare: Bare, pages: list[Page], path: Path, head: str) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of every page's statements into `path` (Markdown);
    returns each statement's execution time by page, as the plans give it."""
    times: dict[str, dict[str, float]] = {}
    parts = [f"# Plans: {head}\n"]
    for page in pages:
        parts.append(f"## {page.name}\n")
        for statement, plan, took in await explain(bare.pages, page):
            ran = float(plan.rsplit("Execution Time: ", 1)[1].split()[0])
            times.setdefault(page.name, {})[statement.what] = ran
            args = json.dumps(statement.args, default=str, ensure_ascii=False)[:300]
            parts.append(
                f"`{statement.what}`: {ran:.2f} ms in the plan, {took * 1000:.2f} ms run again\n\n"
                f"```sql\n{statement.sql}\n-- {args}\n```\n\n```\n{plan}\n```\n"
            )
    await asyncio.to_thread(_write, path, "\n".join(parts))
    say(f"  plans of {len(pages)} pages written to {path}")
    return times


async def wait_for_events(conn: asyncpg.Connection, expected: int, timeout: float = 60) -> dict:
    """Until the cases relay has published every approval's event. An approval tells the
    applicant nothing, so notify gets none of them (it consumes case.applicant_notice only):
    `handled_by_notify` shows that it stayed out of the way."""
    started = now()
    while True:
        unsent = await conn.fetchval("SELECT count(*) FROM cases.outbox WHERE sent_at IS NULL")
        handled = await conn.fetchval("SELECT count(*) FROM notify.inbox")
        if unsent == 0 or now() - started > timeout:
            return {
                "events": expected,
                "unsent": unsent,
                "handled_by_notify": handled,
                "seconds_after_last_approval": round(now() - started, 2),
            }
        await asyncio.sleep(0.2)


async def run(settings: Settings, port: int, args: argparse.Namespace) -> dict:
    phases = set(args.phases)
    figures: dict = {"phases": [p for p in PHASES if p in phases]}
    say(f"generating {args.cases:,} cases in {args.units} units ...")
    data: Generated = await generate(settings.database_url, args.cases, args.units, say=say)
    ops = data.operators
    figures["data"] = {
        "cases": data.cases, "units": data.units, "largest_unit": max(data.unit_sizes),
        "smallest_unit": min(data.unit_sizes), "by_state": data.by_state,
        "case_done_rows": data.done_rows, "history_rows": data.history_rows,
        "seconds": data.seconds,
    }  # fmt: skip
    say(f"  load average {os.getloadavg()[0]:.2f} after loading")
    monitor = await asyncpg.connect(settings.database_url)
    bare_pool = await create_pool(settings.database_url, "cases")
    var = ROOT / os.environ.get("ZC_VAR_DIR", "var/bench") / "workflow"
    system = System(settings, port, var)
    gateway = Gateway(system.url)
    bench_pid = {"bench": [os.getpid()]}
    broker = {"broker": broker_pids(settings.amqp_url)}
    users = {"unit": ops[0], **{r.role: r for r in data.reviewers}}  # ops[0]: the largest unit
    pages = all_pages(str(Clock().today().year))
    reads, writes, measured = {}, {}, {}
    try:
        shares = await cases_to_approve(monitor, ops, phases)
        bare = Bare(bare_pool, Clock().today(), users)
        bare_meter = CpuMeter({**bench_pid, **broker}, monitor)

        async def bare_read(kind, op, _check):
            await getattr(bare, kind)(op)

        async def bare_page(page, _check):
            await bare.pages.run(page)

        if "reads" in phases:
            say("bare SQL: home counts, list pages ...")
            reads["bare"] = await reads_phases("bare", bare_read, ops, bare_meter, {})
        if "pages" in phases:
            say(f"bare SQL: {len(pages)} pages ...")
            measured["bare"] = await pages_phase("bare", bare_page, pages, bare_meter)
        if "explain" in phases:
            say("bare SQL: EXPLAIN (ANALYZE, BUFFERS) of every page ...")
            path = Path(args.plans or var / f"plans-{data.cases}.md")
            head = f"{data.cases:,} cases in {data.units} units, load average {os.getloadavg()}"
            figures["plans_ms"] = await write_plans(bare, pages, path, head)

        if phases & {"reads", "pages", "singles", "batch"}:
            say(f"starting accounts, cases, documents, notify, gateway (port {port}) ...")
            started = now()
            await system.start()
            figures["startup_seconds"] = round(now() - started, 1)
            await gateway.start()
        ours_meter = CpuMeter({**bench_pid, **system.pids(), **broker}, monitor)

        paths = {
            "home": HOME.path(),
            "list_todo": TODO_PAGE.path(),
            "list_done": DONE_PAGE.path(),
        }
        checks = {
            "home": lambda b: _expect(b["lists"][1]["count"] > 0, "home count", b),
            "list_todo": lambda b: _expect(len(b["items"]) == 20, "todo page", b),
            "list_done": lambda b: _expect(len(b["items"]) == 20, "done page", b),
        }

        async def ours_read(kind, op, check):
            await gateway.get(op, paths[kind], check)

        async def ours_page(page, check):
            user = users[page.who]
            number = await bare.pages.page_number(page)
            expected = bare.pages.totals.get(page.first())
            await gateway.get(
                user, page.path(number), _page_check(page, number, expected) if check else None
            )

        if "reads" in phases:
            say("through the gateway: home counts, list pages ...")
            reads["ours"] = await reads_phases("ours", ours_read, ops, ours_meter, checks)
        if "pages" in phases:
            say(f"through the gateway: {len(pages)} pages ...")
            measured["ours"] = await pages_phase("ours", ours_page, pages, ours_meter)

        if phases & {"singles", "batch"}:
            say("through the gateway: approvals ...")
            inputs = approval_inputs(Clock().today())

            async def ours_approve(op, cases):
                if len(cases) == 1:
                    [(case_id, version)] = cases
                    body = {"inputs": inputs, "expected_version": version}
                    await gateway.post(op, f"/api/cases/{case_id}/actions/approve", body)
                    return
                body = {
                    "case_ids": [str(c) for c, _ in cases], "action": "approve", "inputs": inputs
                }  # fmt: skip
                result = await gateway.post(op, "/api/cases/batch", body)
                if result is not None and result["done"] != len(cases):
                    gateway.errors.add(f"batch: {result['failed']} failed: {result['results'][:1]}")

            writes["ours"] = await approval_phases(
                "ours", ours_approve, shares["ours"], ours_meter, phases
            )
            approved = sum(len(c) for c in _all_cases(shares["ours"]))
            figures["events"] = await wait_for_events(monitor, approved)
            say(f"  ours events: {figures['events']}")
        await gateway.close()
        await system.stop()

        if phases & {"singles", "batch"}:
            say("bare SQL: approvals (services stopped) ...")
            writes["bare"] = await approval_phases(
                "bare", bare.approve, shares["bare"], bare_meter, phases
            )
            # The bare side's events are nobody's: drop them so no relay sends them later.
            await monitor.execute("DELETE FROM cases.outbox WHERE sent_at IS NULL")
        if "floor" in phases:
            say("the floor: approvals through bare aiohttp and aio-pika around the bare SQL ...")
            floor = System(settings, free_port(port + 1), var / "floor", FLOOR_PROCESSES)
            writes["floor"] = await floor_phase(floor, shares["floor"], bare, broker, monitor)
            await monitor.execute("DELETE FROM cases.outbox WHERE sent_at IS NULL")
    finally:
        with contextlib.suppress(Exception):
            await gateway.close()
        await system.stop()
        await bare_pool.close()
        await monitor.close()
        await delete_broker_objects(settings)

    for phase in READS:
        if phase in reads.get("ours", {}):
            ours, theirs = reads["ours"][phase], reads["bare"][phase]
            figures[phase] = {
                "ours": ours, "bare": theirs,
                "ours_p50_over_bare": round(ours["p50_ms"] / theirs["p50_ms"], 1),
            }  # fmt: skip
    if measured:
        figures["pages"] = {
            page.name: {
                "ours": measured["ours"][page.name],
                "bare": measured["bare"][page.name],
                "rows_in_list": bare.pages.totals.get(page.first()),
            }  # fmt: skip
            for page in pages
        }
    for phase, _ in APPROVALS:
        if phase in writes.get("ours", {}):
            ours, theirs = writes["ours"][phase], writes["bare"][phase]
            figures[phase] = {
                "ours": ours, "bare": theirs,
                "ours_share_of_bare": round(ours["cases_per_s"] / theirs["cases_per_s"], 3),
                "ours_cpu_over_bare": round(cpu_sum(ours) / cpu_sum(theirs), 2),
            }  # fmt: skip
    if "floor" in writes:
        floor_ = writes["floor"]
        if theirs := writes.get("bare", {}).get("approve_in_flight"):
            floor_["floor_share_of_bare"] = round(floor_["cases_per_s"] / theirs["cases_per_s"], 3)
            floor_["floor_cpu_over_bare"] = round(cpu_sum(floor_) / cpu_sum(theirs), 2)
        figures["approve_floor"] = floor_
    figures["errors"] = {
        "ours": gateway.errors.count, "ours_first": gateway.errors.first,
        "bare": bare.errors.count, "bare_first": bare.errors.first,
    }  # fmt: skip
    return figures


async def floor_phase(
    floor: System, cases: list, bare: Bare, broker: dict, monitor: asyncpg.Connection
) -> dict:
    """Approvals 8 in flight through the floor's two processes: what aiohttp, RabbitMQ and
    asyncpg cost around the bare SQL with none of our code (no session, CSRF or input checks,
    no domain, no audit row, no event sent). Errors count with the bare side's."""
    await floor.start()
    client = Gateway(floor.url)
    await client.start()
    try:
        meter = CpuMeter({"bench": [os.getpid()], **floor.pids(), **broker}, monitor)

        async def approve_one(item):
            op, (case_id, version) = item
            body = {"unit_id": str(op.unit_id), "user_id": str(op.user_id), "version": version,
                    "inputs": bare.stored_approval}  # fmt: skip
            if (await client.post(op, f"/approve/{case_id}", body)) is None:
                bare.errors.add(client.errors.first or "floor approval failed")

        warm, measured = cases[:CONCURRENT_WARMUP], cases[CONCURRENT_WARMUP:]
        out = await measure(measured, warm, approve_one, meter, IN_FLIGHT, rate=True)
    finally:
        await client.close()
        await floor.stop()
    say(f"  floor approve {IN_FLIGHT} in flight {out['cases_per_s']:11.1f} cases/s  p50 "
        f"{out['p50_ms']:7.2f} ms  p99 {out['p99_ms']:7.2f} ms per request")  # fmt: skip
    return out


def cpu_sum(figures: dict) -> int:
    """CPU microseconds per request (or case) of every process measured, the bench's own
    client included: the issue's "CPU per approval summed over all processes"."""
    key = next(k for k in figures if k.startswith("cpu_us_per_"))
    return sum(figures[key].values())


def _page_check(page: Page, number: int, total: int | None):
    """A page's answer: the list's count as the bare count, and its rows on that page."""

    def check(body) -> None:
        if page.list is None:
            _expect(len(body["lists"]) > 0, "home counts", body)
            return
        rows = max(0, min(PAGE_SIZE, (total or 0) - (number - 1) * PAGE_SIZE))
        _expect(body["total"] == total and len(body["items"]) == rows, page.name, body)

    return check


def _expect(ok: bool, what: str, body) -> None:
    if not ok:
        raise RuntimeError(f"unexpected {what}: {json.dumps(body, ensure_ascii=False)[:300]}")


def _all_cases(share: dict) -> list:
    return [[c] for _, c in share["singles"]] + [c for _, c in share["batches"]]


def home_limit_ms(cases: int) -> float:
    return HOME_LIMIT_MS if cases <= 100_000 else HOME_LIMIT_MS_MILLION


def judge(f: dict) -> dict:
    """Each target whose phase ran: True or False (a phase with errors fails it)."""
    clean = f["errors"]["ours"] == 0 and f["errors"]["bare"] == 0
    targets = {}
    if "home" in f:
        limit = home_limit_ms(f["data"]["cases"])
        targets[f"home_p99_at_most_{limit:g}ms"] = clean and f["home"]["ours"]["p99_ms"] <= limit
    if "list_todo" in f:
        targets["list_p99_under_50ms"] = clean and f["list_todo"]["ours"]["p99_ms"] < LIST_LIMIT_MS
    if "pages" in f:
        lists = [x["ours"]["p99_ms"] for name, x in f["pages"].items() if not name.endswith("home")]
        targets["every_page_p99_under_50ms"] = clean and max(lists) < LIST_LIMIT_MS
    if "approve_in_flight" in f:
        share = f["approve_in_flight"]["ours_share_of_bare"]
        targets["single_8_in_flight_at_least_0_4_of_bare"] = clean and share >= SINGLE_SHARE
        cpu = f["approve_in_flight"]["ours_cpu_over_bare"]
        targets["cpu_per_approval_at_most_3x_bare"] = clean and cpu <= APPROVAL_CPU_RATIO
    if "approve_batch" in f:
        rate = f["approve_batch"]["ours"]["cases_per_s"]
        targets["batch_at_least_1000_cases_per_s"] = clean and rate >= BATCH_TARGET
    return targets


def cpu_line(figures: dict) -> str:
    key = next(k for k in figures if k.startswith("cpu_us_per_"))
    unit = key.removeprefix("cpu_us_per_")
    parts = [f"{name} {us}" for name, us in figures[key].items() if us]
    return f"cpu us per {unit}: " + ", ".join(parts) + f"; machine {figures['machine_cpu_pct']}%"


def print_readable(f: dict, targets: dict) -> None:
    say("")
    for phase, title in (
        ("home_first", "home counts, each session's first request (not a target)"),
        ("home", f"home counts  GET {HOME.path()}"),
        ("list_todo", f"待办 page 1   GET {TODO_PAGE.path()}"),
        ("list_done", f"已办 page 1   GET {DONE_PAGE.path()}"),
    ):
        if phase not in f:
            continue
        say(title)
        for stack in ("ours", "bare"):
            x = f[phase][stack]
            say(f"  {stack}: p50 {x['p50_ms']:6.2f} ms  p99 {x['p99_ms']:6.2f} ms"
                f"   [{cpu_line(x)}]")  # fmt: skip
    if "pages" in f:
        say(f"pages, {PAGE_REQUESTS} requests each: ours p50 / p99 — bare p50 / p99 (ms), rows")
        for name, x in f["pages"].items():
            o, b = x["ours"], x["bare"]
            rows = "" if x["rows_in_list"] is None else f"{x['rows_in_list']:,}"
            say(f"  {name:<58} {o['p50_ms']:6.2f} / {o['p99_ms']:6.2f} — {b['p50_ms']:6.2f} /"
                f" {b['p99_ms']:6.2f}  {rows}")  # fmt: skip
    for phase, title in APPROVALS:
        if phase not in f:
            continue
        say(f"approve, {title}: ours {f[phase]['ours_share_of_bare']:.0%} of bare")
        for stack in ("ours", "bare"):
            x = f[phase][stack]
            say(f"  {stack}: {x['cases_per_s']:8.1f} cases/s  p50 {x['p50_ms']:7.2f} ms"
                f"  p99 {x['p99_ms']:7.2f} ms   [{cpu_line(x)}]")  # fmt: skip
        say(f"  CPU per case, every process: ours {f[phase]['ours_cpu_over_bare']:.2f} x bare")
    if "approve_floor" in f:
        x = f["approve_floor"]
        share = x.get("floor_share_of_bare")
        say(f"approve, {IN_FLIGHT} in flight, the floor (bare aiohttp + aio-pika around the bare"
            " SQL, nothing of ours)" + (f": {share:.0%} of bare, CPU {x['floor_cpu_over_bare']:.2f}"
            " x bare" if share is not None else ""))  # fmt: skip
        say(f"  floor: {x['cases_per_s']:8.1f} cases/s  p50 {x['p50_ms']:7.2f} ms"
            f"  p99 {x['p99_ms']:7.2f} ms   [{cpu_line(x)}]")  # fmt: skip
    e = f["errors"]
    say(
        f"errors: ours {e['ours']}, bare {e['bare']}"
        + (f"; first: {e['ours_first'] or e['bare_first']}" if e["ours"] or e["bare"] else "")
    )
    figure = {
        "home": lambda: f"{f['home']['ours']['p99_ms']:.1f} ms",
        "list": lambda: f"{f['list_todo']['ours']['p99_ms']:.1f} ms",
        "every": lambda: "slowest {1:.1f} ms: {0}".format(*max(
            ((n, x["ours"]["p99_ms"]) for n, x in f["pages"].items() if not n.endswith("home")),
            key=lambda item: item[1],
        )),
        "batch": lambda: f"{f['approve_batch']['ours']['cases_per_s']:.0f} cases/s",
        "single": lambda: f"{f['approve_in_flight']['ours_share_of_bare']:.2f} of bare",
        "cpu": lambda: f"{f['approve_in_flight']['ours_cpu_over_bare']:.2f} x bare",
    }  # fmt: skip
    for name, passed in targets.items():
        say(f"{'PASS' if passed else 'FAIL'}: {name} ({figure[name.split('_')[0]]()})")


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    # On SIGTERM (a `timeout`, say) unwind through the clean-up instead of dying in place.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    settings = bench_settings()
    check_bench_database(settings.database_url)
    port = free_port(int(os.environ.get("ZC_GATEWAY_PORT", DEFAULT_GATEWAY_PORT)))
    load = os.getloadavg()[0]
    busy = await machine_busy_pct(1.0)
    say(f"broker prefix {settings.broker_prefix}, database {settings.database_url}")
    say(f"before the run: load average {load:.2f}, machine {busy}% busy on {os.cpu_count()} cores")
    if busy > 25:
        say("  something else is running: latencies and cases/s will be low; CPU per request holds")
    started = now()
    figures = await run(settings, port, args)
    targets = judge(figures)
    print_readable(figures, targets)
    head = {
        "prefix": settings.broker_prefix, "database": settings.database_url,
        "cores": os.cpu_count(), "load_before": load, "machine_cpu_pct_before": busy,
        "load_after": os.getloadavg()[0], "gateway_port": port,
    }  # fmt: skip
    figures["seconds_total"] = round(now() - started, 1)
    say(f"whole run {figures['seconds_total']:.0f} s; load average {head['load_after']:.2f}")
    print(json.dumps({**head, **figures, "targets": targets}, ensure_ascii=False))


def phase_list(text: str) -> list[str]:
    chosen = [p.strip() for p in text.split(",") if p.strip()]
    if unknown := [p for p in chosen if p not in PHASES]:
        raise argparse.ArgumentTypeError(
            f"unknown phase {', '.join(unknown)} (of {', '.join(PHASES)})"
        )
    return chosen


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument(
        "--phases", type=phase_list, default=list(DEFAULT_PHASES),
        help=f"what to measure, of {','.join(PHASES)} (default {','.join(DEFAULT_PHASES)})",
    )  # fmt: skip
    parser.add_argument(
        "--plans", metavar="FILE", help="where the explain phase writes the plans (Markdown)"
    )
    try:
        asyncio.run(main(parser.parse_args()))
    except asyncio.CancelledError:
        sys.exit("stopped by SIGTERM; the processes were stopped and the broker objects removed")

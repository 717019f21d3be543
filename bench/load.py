"""A crowd on the running system (issue 18): simulated applicants, unit operators and
department reviewers working through the pages at once, in growing numbers.

    python -m bench.load [--steps 50,200,500] [--ramp 10] [--hold 35] [--probes 3]

Loads a season's cases (bench/_load_data.py: 20,000 in 100 units, drafts for the applicants
to fill, people to log in), starts the four services, the development SMS provider and the
gateway as the processes they are in production (bench/_processes.py), and drives them with
its own asyncio crowd (bench/_crowd.py: one aiohttp client, each person a browser with its
own cookies, address and seeded think time). For each crowd size it ramps up, holds, and
reports per page type p50/p99, requests/s, refusals and errors, the CPU seconds of every
process and the load average; then it looks between the sizes for the largest crowd this
machine holds with p99 < 200 ms and no error. For context, the same driver first hits a bare
aiohttp "hello" server (bench/_hello.py) with the same crowds and flat out: its own limit.
The last line printed is one JSON object with every figure. See bench/README.md.
"""

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
import asyncpg

from bench._crowd import (
    CAPTCHA,
    ROLES,
    Crowd,
    HelloVisitor,
    Recorder,
    Setting,
    Visitor,
    now,
    person_of,
    role_pattern,
)
from bench._load_data import (
    ROLE_SHARES,
    LoadData,
    database_url,
    generate_load_data,
    insert_sessions,
)
from bench._processes import Processes, service_env
from bench._workflow_data import check_bench_database
from bench.workflow import broker_pids, free_port, percentile
from services.accounts.domain.credentials import keyed_hash
from services.accounts.settings import AccountsSettings
from shared.event_loop import run as run_on_loop
from shared.rpc import RpcClient, RpcError
from shared.settings import Settings
from shared.topology import Names, delete_prefix

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GATEWAY_PORT = 18085
PROCESSES = {  # started in this order; the gateway's /readyz pings the four services
    "accounts": "services.accounts",
    "cases": "services.cases",
    "documents": "services.documents",
    "notify": "services.notify",
    "sms-dev": "services.notify.dev_provider",
    "gateway": "gateway",
}
SERVICES = ("accounts", "cases", "documents", "notify")
# The system's processes: their CPU per request is what the crowd costs wherever it runs.
SYSTEM = (*PROCESSES, "postgres", "rabbitmq")
P99_LIMIT_MS = 200.0
UNFINISHED_WAIT = 15.0  # seconds a window's last requests get before they count as errors


def say(text: str = "") -> None:
    print(text, flush=True)


# --- CPU of every process, the machine's load ------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds so far) of every process on the machine."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return table


def with_descendants(table: dict, roots: list[int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [r for r in roots if r in table]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def machine_busy_seconds() -> float:
    """Core-seconds the machine has not been idle since boot."""
    with open("/proc/stat") as stat:
        ticks = [int(t) for t in stat.readline().split()[1:8]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS


class CpuMeter:
    """CPU seconds of each group of processes between two samples: each process of the run
    with its children (the documents service's render workers, the cases export writer),
    PostgreSQL's backends serving the bench database, the RabbitMQ server (shared with
    anything else using it), the bench itself; `others` is the rest of the machine."""

    def __init__(self, roots: dict[str, list[int]], db: asyncpg.Connection) -> None:
        self.roots = roots  # "bench" alone: the processes it started are counted apart
        self.db = db

    async def sample(self) -> tuple[float, dict[str, dict[int, float]]]:
        backends = await self.db.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        )
        table = process_table()
        groups = {
            name: pids if name == "bench" else with_descendants(table, pids)
            for name, pids in self.roots.items()
        }
        groups["postgres"] = [r["pid"] for r in backends]
        return machine_busy_seconds(), {
            name: {pid: table[pid][1] for pid in pids if pid in table}
            for name, pids in groups.items()
        }

    @staticmethod
    def spent(before, after) -> dict[str, float]:
        (busy0, groups0), (busy1, groups1) = before, after
        spent = {
            name: round(sum(t - groups0.get(name, {}).get(pid, 0.0) for pid, t in pids.items()), 2)
            for name, pids in groups1.items()
        }
        spent["others"] = round(max(0.0, busy1 - busy0 - sum(spent.values())), 2)
        spent["machine"] = round(busy1 - busy0, 2)
        return spent


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- a window of the crowd at one size ------------------------------------------------------


def in_ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def await_window(recorder: Recorder, since: float, until: float) -> int:
    """Until the requests started in the window have ended (or UNFINISHED_WAIT passed);
    the number still unfinished."""
    deadline = now() + UNFINISHED_WAIT
    while now() < deadline:
        if not recorder.unfinished(since, until):
            break
        await asyncio.sleep(0.1)
    return recorder.unfinished(since, until)


def summarise(recorder: Recorder, since: float, until: float, unfinished: int, limit: float):
    seconds = until - since
    records = [r for r in recorder.records if since <= r.started < until]
    by_kind: dict[str, list] = {}
    for r in records:
        by_kind.setdefault(r.kind, []).append(r)

    def figures(rs: list) -> dict:
        latencies = [r.seconds for r in rs]
        return {
            "requests": len(rs),
            "per_s": round(len(rs) / seconds, 1),
            "p50_ms": in_ms(percentile(latencies, 0.5)) if rs else None,
            "p99_ms": in_ms(percentile(latencies, 0.99)) if rs else None,
            "max_ms": in_ms(max(latencies)) if rs else None,
            "refused": sum(r.outcome == "refused" for r in rs),
            "errors": sum(r.outcome == "error" for r in rs),
        }

    total = figures(records)
    total["errors"] += unfinished
    jobs = [(s, status) for started, s, status in recorder.print_jobs if since <= started < until]
    done = [s for s, status in jobs if status == "done"]
    return {
        **total,
        "unfinished": unfinished,
        "holds": total["errors"] == 0 and total["p99_ms"] is not None and total["p99_ms"] < limit,
        "by_kind": {kind: figures(rs) for kind, rs in sorted(by_kind.items())},
        "print_jobs": {
            "started": len(jobs),
            "done": len(done),
            "to_done_p50_s": round(percentile(done, 0.5), 2) if done else None,
            "to_done_max_s": round(max(done), 2) if done else None,
        },  # fmt: skip
        "batch_approvals": {
            "requests": len(batches := [b for b in recorder.batch_cases if since <= b[0] < until]),
            "cases_asked": sum(asked for _, asked, _ in batches),
            "cases_approved": sum(done for _, _, done in batches),
        },
        "first_errors": [w for t, w, _ in recorder.errors if since <= t < until][:5],
        "errors_by_sort": dict(
            Counter(why for t, _, why in recorder.errors if since <= t < until)
            + Counter({"unfinished": unfinished})
        ),
        "refusals": dict(Counter(w for t, w in recorder.refusals if since <= t < until)),
    }


async def hold_window(
    users: int, hold: float, meter: CpuMeter, recorder: Recorder, limit: float, alive
) -> dict:
    load_start = load_average()
    before = await meter.sample()
    since = now()
    while now() - since < hold:
        alive()
        await asyncio.sleep(min(1.0, hold - (now() - since)))
    until = now()
    after = await meter.sample()
    load_end = load_average()
    unfinished = await await_window(recorder, since, until)
    window = summarise(recorder, since, until, unfinished, limit)
    cpu = CpuMeter.spent(before, after)
    system = sum(cpu.get(name, 0.0) for name in SYSTEM)
    return {
        "users": users, "held_s": round(until - since, 1), **window, "cpu_seconds": cpu,
        "system_cpu_ms_per_request": round(1000 * system / max(1, window["requests"]), 1),
        "load_average": [load_start, load_end],
    }  # fmt: skip


# --- the system ------------------------------------------------------------------------------


class System:
    """The services, the development SMS provider and the gateway, each a process of its own;
    the gateway trusts 127.0.0.1 as its reverse proxy (each simulated person's address comes
    in X-Forwarded-For, so the per-address limits count per person, as in production)."""

    def __init__(self, settings: Settings, port: int, log_dir: Path) -> None:
        self.port = port
        env = service_env(
            settings, log_dir, ZC_GATEWAY_HOST="127.0.0.1", ZC_GATEWAY_PORT=str(port),
            ZC_TRUSTED_PROXIES="127.0.0.1",
        )  # fmt: skip
        self.processes = Processes(PROCESSES, env, log_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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

    def cpu_roots(self) -> dict[str, list[int]]:
        return {name: [pid] for name, pid in self.processes.pids().items()}

    async def stop(self) -> None:
        await self.processes.stop(grace=15)


def client(url: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        url,
        cookie_jar=aiohttp.DummyCookieJar(),  # each Browser keeps its own cookies
        connector=aiohttp.TCPConnector(limit=0),
        timeout=aiohttp.ClientTimeout(total=60),
    )


# --- the bare side: the driver against a hello server ---------------------------------------


async def hello_phase(args, settings: Settings, log_dir: Path, bench_pid: int, db) -> dict:
    """The same driver, the same crowds and think times, against a bare aiohttp server; then
    as many requests as it can send with that many in flight (no think time)."""
    port = free_port(DEFAULT_GATEWAY_PORT + 1)
    env = service_env(settings, log_dir, ZC_GATEWAY_HOST="127.0.0.1", ZC_GATEWAY_PORT=str(port))
    processes = Processes({"hello": "bench._hello"}, env, log_dir)
    await processes.spawn()
    out = {}
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_for_hello(url, processes)
        meter = CpuMeter({"hello": [processes.pids()["hello"]], "bench": [bench_pid]}, db)
        async with client(url) as http:
            for users in args.steps:
                recorder = Recorder()
                setting = Setting(http, recorder, None, args.think, args.visit, args.seed)
                crowd = Crowd(lambda i, s=setting: HelloVisitor(i, 0, None, s), no_sessions)
                await crowd.resize(users, args.hello_ramp)
                window = await hold_window(
                    users, args.hello_hold, meter, recorder, args.p99_limit, processes.check_alive
                )
                await crowd.stop()
                flat = await flat_out(http, users, args.hello_burst, meter)
                out[str(users)] = {"crowd": slim(window), "flat_out": flat}
                say(f"  hello, {users:>4} people thinking {args.think[0]:g}-{args.think[1]:g} s:"
                    f" {window['per_s']:7.1f} req/s, p50 {window['p50_ms']} ms, p99"
                    f" {window['p99_ms']} ms | flat out, {users} in flight:"
                    f" {flat['per_s']:7.1f} req/s, p50 {flat['p50_ms']} ms, p99 {flat['p99_ms']}"
                    f" ms; cpu s bench {flat['cpu_seconds']['bench']}, hello"
                    f" {flat['cpu_seconds']['hello']} in {flat['seconds']} s")  # fmt: skip
    finally:
        await processes.stop(grace=5)
    return out


async def no_sessions(_visitors) -> None:
    return None


async def wait_for_hello(url: str, processes: Processes) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            processes.check_alive()
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(url + "/") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError("the hello server did not answer")


async def flat_out(http, in_flight: int, seconds: float, meter: CpuMeter) -> dict:
    recorder = Recorder()
    setting = Setting(http, recorder, None, (0, 0), (1, 1), 0)
    visitors = [HelloVisitor(i, 1, None, setting) for i in range(in_flight)]
    before = await meter.sample()
    since = now()

    async def loop(visitor: Visitor) -> None:
        while now() - since < seconds:
            await visitor.act()

    await asyncio.gather(*(loop(v) for v in visitors))
    until = now()
    cpu = CpuMeter.spent(before, await meter.sample())
    window = summarise(recorder, since, until, 0, P99_LIMIT_MS)
    return {**slim(window), "seconds": round(until - since, 1), "cpu_seconds": cpu}


def slim(window: dict) -> dict:
    keep = ("requests", "per_s", "p50_ms", "p99_ms", "max_ms", "errors", "cpu_seconds")
    return {k: window[k] for k in keep if k in window}


# --- the run -------------------------------------------------------------------------------


class Run:
    def __init__(self, args, settings: Settings, data: LoadData, system: System, db) -> None:
        self.args = args
        self.rpc = RpcClient(settings.amqp_url, Names(settings).rpc_queue, 10)
        self.data = data
        self.system = system
        self.db = db
        self.recorder = Recorder()
        self.pattern = role_pattern(ROLE_SHARES, args.seed)
        self.generation = 0
        self.secret = AccountsSettings().secret_key

    async def solve_captcha(self, captcha_id: str) -> None:
        """The person reads the image; the bench knows the server's key and sets the answer
        (as tests/faults/conftest.py does)."""
        with contextlib.suppress(ValueError):
            await self.db.execute(
                "UPDATE accounts.captchas SET answer_hash = $2 WHERE id = $1",
                uuid.UUID(captcha_id),
                keyed_hash(self.secret, captcha_id, CAPTCHA).encode(),
            )

    def visitor(self, index: int, setting: Setting) -> Visitor:
        self.generation += 1
        person = person_of(index, self.pattern, self.data.people)
        return ROLES[person.role](index, self.generation, person, setting)

    async def arrive(self, visitors: list[Visitor]) -> None:
        sessions = await insert_sessions(self.db, [v.person for v in visitors], "bench.load")
        for visitor, session in zip(visitors, sessions, strict=True):
            visitor.browser.sign_in_with(session)

    async def window(self, crowd: Crowd, meter: CpuMeter, users: int, ramp: float, hold: float,
                     phase: str) -> dict:  # fmt: skip
        growing = users > len(crowd)
        say(f"{phase} {users} people: {'ramping up' if growing else 'leaving'} ...")
        await crowd.resize(users, ramp)
        if not growing:
            await asyncio.sleep(ramp)  # what the larger crowd left queued drains first
        before = await self.service_stats()
        window = await hold_window(
            users, hold, meter, self.recorder, self.args.p99_limit,
            self.system.processes.check_alive,
        )  # fmt: skip
        after = await self.service_stats()
        window["rpc"] = {
            s: {"handled": after[s]["handled"] - before[s]["handled"],
                "expired": after[s]["expired"] - before[s]["expired"],
                "peak_in_flight": after[s]["peak_in_flight"]}
            for s in SERVICES if s in before and s in after
        }  # fmt: skip
        window["phase"] = phase
        print_window(window, self.args.p99_limit)
        return window

    async def service_stats(self) -> dict[str, dict]:
        """Each service's request counters (`stats`, answered at once even when it is busy)."""
        answers = {}
        for service in SERVICES:
            with contextlib.suppress(RpcError):
                answers[service] = await self.rpc.call(service, "stats", timeout=10)
        return answers

    async def crowd(self, http) -> dict:
        args = self.args
        await self.rpc.start()
        setting = Setting(http, self.recorder, self.solve_captcha, args.think, args.visit,
                          args.seed)  # fmt: skip
        crowd = Crowd(lambda i: self.visitor(i, setting), self.arrive)
        roots = self.system.cpu_roots() | {
            "rabbitmq": broker_pids(Settings().amqp_url), "bench": [os.getpid()],
        }  # fmt: skip
        meter = CpuMeter(roots, self.db)
        windows = []
        try:
            for users in args.steps:
                windows.append(await self.window(crowd, meter, users, args.ramp, args.hold, "step"))
            held = [w["users"] for w in windows if w["holds"]]
            failed = [w["users"] for w in windows if not w["holds"]]
            if not failed:
                low, high = max(held), None
            else:
                high = min(failed)
                low = max([u for u in held if u < high], default=0)
                for _ in range(args.probes):
                    middle = (low + high) // 2
                    if high - low <= max(4, high // 20):
                        break
                    w = await self.window(
                        crowd, meter, middle, args.probe_ramp, args.probe_hold, "probe"
                    )
                    windows.append(w)
                    low, high = (middle, high) if w["holds"] else (low, middle)
        finally:
            await crowd.stop()
            await self.rpc.close()
        return {"windows": windows, "largest_held": low, "first_not_held": high}


def print_window(w: dict, limit: float) -> None:
    verdict = "HOLDS" if w["holds"] else "does not hold"
    say(f"  {w['users']} people, {w['held_s']} s: {w['requests']:,} requests, {w['per_s']} req/s,"
        f" p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms, errors {w['errors']}, refused"
        f" {w['refused']}: {verdict} (p99 < {limit:g} ms and no error)")  # fmt: skip
    say(f"    {'page type':<16}{'n':>7}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'refused':>9}{'errors':>8}")  # fmt: skip
    for kind, k in w["by_kind"].items():
        say(f"    {kind:<16}{k['requests']:>7}{k['per_s']:>8}{k['p50_ms']:>9}{k['p99_ms']:>9}"
            f"{k['max_ms']:>9}{k['refused']:>9}{k['errors']:>8}")  # fmt: skip
    cpu = w["cpu_seconds"]
    say("    cpu s: " + ", ".join(f"{k} {v}" for k, v in cpu.items())
        + f" (of {w['held_s'] * os.cpu_count():.0f} core-seconds); load average"
        f" {w['load_average'][0][0]} -> {w['load_average'][1][0]}; the system's processes"
        f" {w['system_cpu_ms_per_request']} ms of CPU a request")  # fmt: skip
    say("    rpc requests handled (dropped unrun, their callers gone; peak at once): "
        + ", ".join(f"{s} {r['handled']} ({r['expired']}; {r['peak_in_flight']})"
                    for s, r in w.get("rpc", {}).items()))  # fmt: skip
    jobs = w["print_jobs"]
    if jobs["started"]:
        say(f"    print jobs: {jobs['started']} started, {jobs['done']} done, to done p50"
            f" {jobs['to_done_p50_s']} s, max {jobs['to_done_max_s']} s")  # fmt: skip
    for why, n in sorted(w["refusals"].items(), key=lambda x: -x[1])[:3]:
        say(f"    refused {n}x: {why}")
    if w["errors"]:
        sorts = ", ".join(f"{why} {n}" for why, n in w["errors_by_sort"].items())
        say(f"    errors by sort: {sorts}")
    for text in w["first_errors"][:3]:
        say(f"    error: {text}")


def summary_lines(result: dict, hello: dict, limit: float) -> None:
    say("")
    say(f"{'people':>7} {'phase':<6}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}"
        f"{'refused':>8}  {'holds':<6} cpu s: gateway accounts cases documents notify postgres"
        " rabbitmq bench others | load | system cpu ms/request")  # fmt: skip
    for w in sorted(result["windows"], key=lambda w: w["users"]):
        c = w["cpu_seconds"]
        say(f"{w['users']:>7} {w['phase']:<6}{w['per_s']:>8}{w['p50_ms']:>8}{w['p99_ms']:>8}"
            f"{w['errors']:>7}{w['refused']:>8}  {'yes' if w['holds'] else 'no':<6} "
            + " ".join(str(c.get(k, 0)) for k in ("gateway", "accounts", "cases", "documents",
                                                    "notify", "postgres", "rabbitmq", "bench",
                                                    "others"))
            + f" | {w['load_average'][1][0]} | {w['system_cpu_ms_per_request']}")  # fmt: skip
    for users, h in hello.items():
        say(
            f"{users:>7} hello {h['crowd']['per_s']:>8}{h['crowd']['p50_ms']:>8}"
            f"{h['crowd']['p99_ms']:>8}   (flat out: {h['flat_out']['per_s']} req/s)"
        )
    high = result["first_not_held"]
    between = f"; {high} did not" if high else "; no size tried failed"
    say(
        f"largest crowd held (p99 < {limit:g} ms, no error): {result['largest_held']} people"
        f"{between}"
    )


async def run(args) -> dict:
    prefix = os.environ.get("ZC_BROKER_PREFIX", "zcbench")
    settings = Settings(
        database_url=database_url(),
        broker_prefix=f"{prefix}-load-{secrets.token_hex(3)}",
        log_level=os.environ.get("ZC_BENCH_LOG_LEVEL", "WARNING"),
    )  # fmt: skip
    check_bench_database(settings.database_url)
    log_dir = ROOT / os.environ.get("ZC_VAR_DIR", "var/bench") / "load"
    port = free_port(int(os.environ.get("ZC_GATEWAY_PORT", DEFAULT_GATEWAY_PORT)))
    figures: dict = {
        "prefix": settings.broker_prefix, "database": settings.database_url,
        "cores": os.cpu_count(), "load_average_before": load_average(),
        "mix": {"roles_of_20": ROLE_SHARES, "think_s": list(args.think),
                "visit_actions": list(args.visit)},
    }  # fmt: skip
    say(f"broker prefix {settings.broker_prefix}, database {settings.database_url}, "
        f"{os.cpu_count()} cores, load average {figures['load_average_before']}")  # fmt: skip
    started = now()
    say(f"loading {args.cases:,} cases in {args.units} units ...")
    data = await generate_load_data(
        settings.database_url, args.cases, args.units, max(args.steps), args.seed, say
    )
    figures["data"] = {"cases": data.cases, "units": data.units, "by_state": data.by_state,
                       "rows": data.rows, "seconds": data.seconds}  # fmt: skip
    db = await asyncpg.connect(settings.database_url)
    system = System(settings, port, log_dir)
    try:
        if args.hello_hold > 0:
            say("the driver against a bare aiohttp hello server ...")
            figures["hello"] = await hello_phase(args, settings, log_dir, os.getpid(), db)
        say(f"starting {', '.join(PROCESSES)} (gateway on port {port}) ...")
        t = now()
        await system.start()
        figures["startup_seconds"] = round(now() - t, 1)
        async with client(system.url) as http:
            result = await Run(args, settings, data, system, db).crowd(http)
        figures |= result
    finally:
        await system.stop()
        await db.close()
        await delete_prefix(settings)
        with contextlib.suppress(OSError):
            (log_dir / "sms.log").unlink()
    summary_lines(figures, figures.get("hello", {}), args.p99_limit)
    figures["load_average_after"] = load_average()
    figures["seconds_total"] = round(now() - started, 1)
    say(f"whole run {figures['seconds_total']:.0f} s; load average after"
        f" {figures['load_average_after']}")  # fmt: skip
    return figures


def pair(text: str, kind=float) -> tuple:
    low, _, high = text.partition(",")
    return kind(low), kind(high or low)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="50,200,500",
                        type=lambda t: [int(x) for x in t.split(",")],
                        help="crowd sizes, in order (default 50,200,500)")  # fmt: skip
    parser.add_argument("--ramp", type=float, default=10, help="seconds to grow to a step")
    parser.add_argument("--hold", type=float, default=35, help="seconds each step is measured")
    parser.add_argument(
        "--probes",
        type=int,
        default=3,
        help="sizes tried between the last step held and the first not held",
    )
    parser.add_argument("--probe-ramp", type=float, default=8)
    parser.add_argument("--probe-hold", type=float, default=25)
    parser.add_argument(
        "--think",
        type=pair,
        default=(1.0, 3.0),
        help="seconds between a person's actions: low,high (uniform)",
    )
    parser.add_argument(
        "--visit",
        type=lambda t: pair(t, int),
        default=(20, 100),
        help="actions between a login and its logout: low,high",
    )
    parser.add_argument("--p99-limit", type=float, default=P99_LIMIT_MS)
    parser.add_argument(
        "--hello-hold",
        type=float,
        default=8,
        help="seconds of each hello crowd (0: no hello server)",
    )
    parser.add_argument("--hello-ramp", type=float, default=2)
    parser.add_argument(
        "--hello-burst",
        type=float,
        default=3,
        help="seconds of the hello server flat out at each size",
    )
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    # On SIGTERM (a `timeout`, say) unwind through the clean-up instead of dying in place.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    figures = await run(args)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    try:
        run_on_loop(main(parse_args()), Settings())
    except asyncio.CancelledError:
        sys.exit("stopped by SIGTERM; the processes were stopped and the broker objects removed")

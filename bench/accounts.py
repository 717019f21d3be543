"""Login and registration through the gateway, against argon2 alone on the same machine.

    python -m bench.accounts

Starts accounts (bench/_accounts_peer.py: every captcha shows AB12, SMS limits lifted),
cases, documents, notify, the development SMS provider and the gateway as processes of
their own, on a broker prefix and database schemas of this run. Then measures:

- argon2id verify of one stored hash with nothing around it: one at a time, in a pool of
  2 processes (this machine's limit, 2 cores), whether it releases the GIL, and how many
  hashes/s the accounts process does through verify_password_async (asyncio.to_thread);
- login as a browser does it, POST /api/captcha then POST /api/session, at 1, 4 and 16
  browsers; and POST /api/session alone (captchas fetched beforehand);
- unit registration: POST /api/sms-codes, the code read from the provider's sms.log,
  POST /api/units; one at a time and 4 at once.

Readable lines first, the last line one JSON object. See bench/README.md.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import aiohttp
import asyncpg

from bench._accounts_peer import CAPTCHA, SERVICES
from bench._processes import die_with_parent, service_env
from services.accounts.domain.credentials import hash_password, verify_password
from services.accounts.domain.validation import id_check_char, org_code_check_char
from services.accounts.personal import index, seal, sealed_user
from shared.db import ensure_database
from shared.rpc import RpcClient
from shared.settings import Settings
from shared.topology import Names

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/zhicheng_bench"
PASSWORD = "Bench0pass"

USERS = 200  # logins go round them, so no account sees two logins in a row
DISTINCT_HASHES = 8  # argon2 costs the same for any hash with these parameters; 200 would
# take ~30 s of CPU to make, so the users share 8 hashes (8 salts) of one password
HASH_SECONDS = 4.0  # per argon2-alone figure
BURST_CONCURRENCY = (1, 2, 6)  # verify_password_async callers in the accounts process
BURST_SECONDS = 3.0
LOGIN_CONCURRENCY = (1, 4, 16)
LOGIN_SECONDS = 6.0  # per login phase
SESSION_ALONE_MAX = {1: 40, 4: 80, 16: 120}  # captchas fetched before a session-alone phase
REGISTER_CONCURRENCY = (1, 4)
REGISTER_SECONDS = 8.0
PEOPLE = 300  # enrolled for registration; a phase stops early if they run out
START_TIMEOUT = 90.0
SMS_TIMEOUT = 10.0

# "The login path should add little beyond the hash": our reading of "little".
LATENCY_RATIO_LIMIT = 1.25  # login p50 (one browser) / argon2 p50 (one at a time)
THROUGHPUT_SHARE = 0.8  # logins/s at 16 browsers / argon2 verifies/s in 2 processes
FOREIGN_CPU_LIMIT = 0.15  # above this share of the machine's CPU, say the figures are unsure


Rpc = Callable[..., Awaitable]

# --- measuring -----------------------------------------------------------------------------


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def in_ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def spread(values: list[float], prefix: str = "") -> dict:
    if not values:
        return {f"{prefix}p50_ms": None, f"{prefix}p99_ms": None}
    return {
        f"{prefix}p50_ms": in_ms(percentile(values, 0.50)),
        f"{prefix}p99_ms": in_ms(percentile(values, 0.99)),
    }


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def machine_idle_seconds() -> float:
    """Idle core-seconds since boot (Linux /proc/stat): busy = elapsed x cores - idle."""
    with open("/proc/stat") as stat:
        ticks = stat.readline().split()
    return (int(ticks[4]) + int(ticks[5])) / os.sysconf("SC_CLK_TCK")  # idle, iowait


def pids_named(command: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError):
            if entry.isdigit() and Path(f"/proc/{entry}/comm").read_text().strip() == command:
                pids.append(int(entry))
    return pids


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def tcp_sockets() -> list[tuple[int, int, int, str]]:
    """(local port, remote port, inode, state) of every TCP socket of this network namespace."""
    sockets = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
                sockets.append((int(local, 16), int(remote, 16), int(fields[9]), fields[3]))
    return sockets


def postgres_backends(client_pids: list[int], port: int) -> list[int]:
    """The PostgreSQL backend processes serving connections of `client_pids` (Linux /proc)."""
    sockets = tcp_sockets()
    ours = set().union(*(socket_inodes(pid) for pid in client_pids))
    client_ports = {
        local for local, remote, inode, _ in sockets if inode in ours and remote == port
    }
    serving = {
        inode for local, remote, inode, _ in sockets if local == port and remote in client_ports
    }
    return [pid for pid in pids_named("postgres") if socket_inodes(pid) & serving]


def listening(command: str, port: int) -> list[int]:
    """The processes named `command` listening on `port` (the broker our URL points to)."""
    listeners = {
        inode for local, _, inode, state in tcp_sockets() if local == port and state == "0A"
    }
    return [pid for pid in pids_named(command) if socket_inodes(pid) & listeners]


class CpuMeter:
    """CPU spent from its creation on by groups of processes, this process and the machine.

    A group is a function giving its pids when read, so PostgreSQL backends opened during a
    phase count too (all of their CPU: they began within it).
    """

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self.started = self._read()

    def _read(self) -> dict:
        reading: dict = {}
        for name, pids in self.groups.items():
            reading[name] = {}
            for pid in pids():
                with contextlib.suppress(OSError):
                    reading[name][pid] = process_cpu_seconds(pid)
        reading |= {"bench": time.process_time(), "idle": machine_idle_seconds(), "wall": now()}
        return reading

    def figures(self, items: int, unit: str) -> dict:
        end, start = self._read(), self.started
        used = {
            name: sum(cpu - start[name].get(pid, 0.0) for pid, cpu in end[name].items())
            for name in self.groups
        }
        used["bench"] = end["bench"] - start["bench"]
        wall, cores = end["wall"] - start["wall"], os.cpu_count() or 1
        machine = wall * cores - (end["idle"] - start["idle"])
        used["unattributed"] = machine - sum(used.values())  # other work on the machine
        figures = {
            f"cpu_ms_per_{unit}": {
                name: round(1000 * seconds / max(items, 1), 1)
                for name, seconds in (used | {"machine": machine}).items()
            },
            "machine_cpu_pct": round(100 * machine / wall),  # 100 = one core busy
        }
        if "accounts" in used:
            figures["accounts_cpu_pct"] = round(100 * used["accounts"] / wall)
        return figures


class ThreadSampler:
    """Samples how many threads of a process are running or runnable (state R)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[int] = []
        self._task: asyncio.Task | None = None

    def _count(self) -> int:
        running = 0
        for task in os.listdir(f"/proc/{self.pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{self.pid}/task/{task}/stat") as f:
                running += f.read().rsplit(")", 1)[1].split()[0] == "R"
        return running

    async def _run(self) -> None:
        while True:
            self.samples.append(self._count())
            await asyncio.sleep(self.interval)

    def __enter__(self) -> "ThreadSampler":
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_exc) -> None:
        self._task.cancel()

    def figures(self) -> dict:
        if not self.samples:
            return {"mean_runnable_threads": None, "max_runnable_threads": None}
        return {
            "mean_runnable_threads": round(sum(self.samples) / len(self.samples), 2),
            "max_runnable_threads": max(self.samples),
        }


# --- argon2 alone (these run in worker processes) ---------------------------------------


def verify_for(password_hash: str, password: str, seconds: float) -> dict:
    """Verify one hash over and over for `seconds`; latencies and this process's CPU."""
    verify_password(password_hash, password)  # warm: first call allocates
    latencies, cpu, deadline = [], time.process_time(), time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < deadline:
        began = time.monotonic()
        if not verify_password(password_hash, password):
            raise RuntimeError("the bench password does not verify")
        latencies.append(time.monotonic() - began)
    return {
        "latencies": latencies,
        "cpu_seconds": time.process_time() - cpu,  # every thread of the process
        "wall_seconds": time.monotonic() - started,
    }


def gil_probe(password_hash: str, password: str, seconds: float = 1.5) -> dict:
    """Does verify release the GIL? Count pure-Python loops beside a verifying thread.

    With the GIL held for a whole verify (~100 ms) the counting thread would get the
    interpreter only between two verifies: a few per cent of its speed alone. With the GIL
    released it runs on, slowed only by argon2's own threads taking the cores. The control
    is the same beside a thread sorting a long list, a C call known to hold the GIL.
    """

    def count_for(span: float) -> float:
        loops, deadline = 0, time.perf_counter() + span
        while time.perf_counter() < deadline:
            for _ in range(1000):
                loops += 1
        return loops / span

    def beside(work: Callable[[], object]) -> tuple[float, int]:
        stop, calls = threading.Event(), [0]

        def worker() -> None:
            while not stop.is_set():
                work()
                calls[0] += 1

        thread = threading.Thread(target=worker)
        thread.start()
        time.sleep(0.05)
        rate = count_for(seconds)
        stop.set()
        thread.join()
        return rate, calls[0]

    alone = count_for(seconds)
    with_verify, verifies = beside(lambda: verify_password(password_hash, password))
    shuffled = list(range(1_000_000))
    secrets.SystemRandom(1).shuffle(shuffled)
    with_sort, sorts = beside(lambda: sorted(shuffled))  # ~0.2-0.5 s, GIL held throughout
    share = with_verify / alone
    return {
        "loops_per_s_alone": round(alone),
        "share_beside_verify": round(share, 3),
        "verifies_meanwhile": verifies,
        "share_beside_gil_holding_sort": round(with_sort / alone, 3),
        "sorts_meanwhile": sorts,
        "released": share > 0.2,
    }


def verify_figures(runs: list[dict], machine: dict) -> dict:
    latencies = [x for run in runs for x in run["latencies"]]
    wall = max(run["wall_seconds"] for run in runs)
    cpu = sum(run["cpu_seconds"] for run in runs)
    return {
        "verifies_per_s": round(len(latencies) / wall, 2),
        **spread(latencies),
        "verifies": len(latencies),
        "cpu_ms_per_verify": round(1000 * cpu / len(latencies), 1),
        # above 1.0: one verify keeps more than one core busy (argon2's own lanes)
        "cpu_per_wall": round(cpu / wall, 2),
        "machine_cpu_pct": machine["machine_cpu_pct"],
    }


async def argon2_alone(password_hash: str) -> dict:
    loop = asyncio.get_running_loop()
    figures = {"params": password_hash.split("$")[3]}
    for workers, name in ((1, "one_at_a_time"), (2, "process_pool_2")):
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            # start every worker first (spawn imports this module), then time
            await asyncio.gather(*(loop.run_in_executor(pool, time.sleep, 0.3)
                                   for _ in range(workers)))  # fmt: skip
            meter = CpuMeter({})
            runs = await asyncio.gather(
                *(loop.run_in_executor(pool, verify_for, password_hash, PASSWORD, HASH_SECONDS)
                  for _ in range(workers))
            )  # fmt: skip
            figures[name] = verify_figures(runs, meter.figures(1, "x"))
            if workers == 1:
                figures["gil"] = await loop.run_in_executor(
                    pool, gil_probe, password_hash, PASSWORD
                )
    return figures


async def accounts_process_hashing(rpc: "Rpc", password_hash: str, pid: int) -> dict:
    """Hashes/s the accounts process does through verify_password_async, nothing else."""
    figures = {}
    for concurrency in BURST_CONCURRENCY:
        meter, sampler = CpuMeter({"accounts": lambda: [pid]}), ThreadSampler(pid)
        with sampler:
            burst = await rpc(
                "bench.verify_burst",
                {
                    "password_hash": password_hash,
                    "password": PASSWORD,
                    "concurrency": concurrency,
                    "seconds": BURST_SECONDS,
                },
                BURST_SECONDS + 30,
            )
        verifies = len(burst["latencies"])
        cpu = meter.figures(verifies, "verify")
        figures[str(concurrency)] = {
            "verifies_per_s": round(verifies / burst["seconds"], 2),
            **spread(burst["latencies"]),
            "verifies": verifies,
            "verifies_at_once_mean": burst["at_once"]["mean_at_once_when_busy"],
            "verifies_at_once_peak": burst["at_once"]["peak_at_once"],
            "accounts_cpu_pct": cpu["accounts_cpu_pct"],
            "machine_cpu_pct": cpu["machine_cpu_pct"],
            **sampler.figures(),
            "default_executor_threads": burst["default_executor_threads"],
        }
    return figures


# --- the system under test ------------------------------------------------------------------


def bench_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("ZC_DATABASE_URL", DEFAULT_DATABASE),
        amqp_url=os.environ.get("ZC_AMQP_URL", Settings().amqp_url),
        # Unique per run, so runs side by side never share a queue.
        broker_prefix=f"{os.environ.get('ZC_BROKER_PREFIX', 'zcbench')}-{secrets.token_hex(3)}",
        log_level="WARNING",
    )


def free_port() -> int:
    wanted = int(os.environ.get("ZC_GATEWAY_PORT") or 0)
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted))
        except OSError:  # taken (another run): any free one
            probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class System:
    """The four services, the SMS provider and the gateway, each a process of its own."""

    def __init__(self, settings: Settings, token: str) -> None:
        self.settings = settings
        self.token = token
        self.var_dir = ROOT / "var" / "bench" / f"accounts-{token}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.logs: dict[str, Path] = {}

    def schema(self, service: str) -> str:
        return f"bench_{self.token}_{service}"

    @property
    def sms_log(self) -> Path:
        return self.var_dir / "sms.log"

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def cpu_groups(self) -> dict[str, Callable[[], list[int]]]:
        """Whose CPU a phase reports: ours by process, and the two servers."""
        ours = [process.pid for process in self.processes.values()]
        others = [self.pid(name) for name in ("cases", "documents", "notify", "sms-dev")]
        port = urlsplit(self.settings.database_url).port or 5432
        broker = listening("beam.smp", urlsplit(self.settings.amqp_url).port or 5672)
        return {
            "accounts": lambda: [self.pid("accounts")],
            "gateway": lambda: [self.pid("gateway")],
            "other_services": lambda: others,  # cases, documents, notify, sms-dev
            "postgres": lambda: postgres_backends(ours, port),  # our connections' backends
            "rabbitmq": lambda: broker,  # the whole broker: shared with whoever else uses it
        }

    def _env(self) -> dict[str, str]:
        return service_env(
            self.settings,
            self.var_dir,
            ZC_LOG_LEVEL="WARNING",
            ZC_GATEWAY_HOST="127.0.0.1",
            ZC_GATEWAY_PORT=str(self.port),
        )

    async def _spawn(self, name: str, *args: str, ready_line: bool) -> None:
        self.logs[name] = self.var_dir / f"{name}.log"
        log = self.logs[name].open("wb")  # noqa: ASYNC230 (a local file, once per process)
        try:
            self.processes[name] = await asyncio.create_subprocess_exec(
                sys.executable, "-m", *args,
                cwd=ROOT, env=self._env(), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE if ready_line else log, stderr=log,
                preexec_fn=die_with_parent,
            )  # fmt: skip
        finally:
            log.close()  # the child has its own copy

    async def _ready_line(self, name: str) -> None:
        line = await asyncio.wait_for(self.processes[name].stdout.readline(), START_TIMEOUT)
        if line.strip() != b"ready":
            raise RuntimeError(f"{name} did not start:\n{self.tail(name)}")

    async def start(self) -> None:
        try:  # a broker that accepts TCP but never answers would fail every process later
            connection = await aio_pika.connect(self.settings.amqp_url, timeout=10)
            await connection.close()
        except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as error:
            raise SystemExit(
                f"RabbitMQ at {self.settings.amqp_url} gave no AMQP connection in 10 s"
                f" ({type(error).__name__}); `rabbitmqctl status` shows its file handles"
            ) from None
        self.var_dir.mkdir(parents=True, exist_ok=True)
        await ensure_database(self.settings.database_url)
        for service in SERVICES:
            await self._spawn(
                service, "bench._accounts_peer", service, self.schema(service), ready_line=True
            )
        await self._spawn("sms-dev", "services.notify.dev_provider", ready_line=False)
        await self._spawn("gateway", "gateway", ready_line=False)
        await asyncio.gather(*(self._ready_line(service) for service in SERVICES))
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        deadline = now() + START_TIMEOUT
        async with aiohttp.ClientSession() as http:
            while now() < deadline:
                for name, process in self.processes.items():
                    if process.returncode is not None:
                        raise RuntimeError(f"{name} exited:\n{self.tail(name)}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(self.url + "/readyz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.3)
        raise RuntimeError(f"{self.url}/readyz not 200 in {START_TIMEOUT:g} s")

    def tail(self, name: str, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.logs[name].read_text(errors="replace").splitlines()[-lines:])
        return ""

    async def stop(self) -> None:
        for process in self.processes.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()

    async def remove(self) -> None:
        """Delete this run's queues, exchanges, schemas and files."""
        names, s = Names(self.settings), self.settings
        queues = [names.rpc_queue(service) for service in SERVICES]
        queues += [names.event_queue(service) for service in SERVICES]
        queues += [names.dead_letter_queue(service) for service in SERVICES]
        queues += [s.name("sms", "provider"), s.name("sms", "receipts")]
        exchanges = [names.events_exchange, names.dead_letter_exchange, s.name("sms", "outbound")]
        if not self.processes:  # stopped before anything was started: nothing to remove
            return
        connection = await aio_pika.connect(s.amqp_url, timeout=10)
        async with connection:
            channel = await connection.channel()
            for queue in queues:
                await channel.queue_delete(queue)
            for exchange in exchanges:
                await channel.exchange_delete(exchange)
        conn = await asyncpg.connect(s.database_url)
        try:
            for service in SERVICES:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema(service)}" CASCADE')
        finally:
            await conn.close()
        shutil.rmtree(self.var_dir, ignore_errors=True)


# --- browsers ---------------------------------------------------------------------------------


class Failure(Exception):
    def __init__(self, what: str, status: int, body: str) -> None:
        super().__init__(f"{what}: HTTP {status} {body[:200]}")
        self.status = status


class Gateway:
    """What a browser sends: the anonymous CSRF cookie and header, JSON bodies."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()
        )

    async def browser(self) -> dict[str, str]:
        """A fresh anonymous browser: GET /api/session gives it the zc_csrf cookie."""
        async with self.http.get(self.url + "/api/session") as response:
            token = (await response.json())["csrf_token"]
            assert response.cookies["zc_csrf"].value == token
        return {"Cookie": f"zc_csrf={token}", "X-CSRF-Token": token}

    async def post(self, browser: dict, path: str, body: dict, expect: int = 200) -> dict:
        async with self.http.post(self.url + path, json=body, headers=browser) as response:
            data = await response.read()
            if response.status != expect:
                raise Failure(f"POST {path}", response.status, data.decode(errors="replace"))
            return json.loads(data)

    async def captcha(self, browser: dict) -> str:
        return (await self.post(browser, "/api/captcha", {}))["captcha_id"]

    async def login(self, browser: dict, username: str, captcha_id: str) -> None:
        body = {
            "username": username,
            "password": PASSWORD,
            "captcha_id": captcha_id,
            "captcha_answer": CAPTCHA,
        }
        result = await self.post(browser, "/api/session", body)
        if result["user"]["username"] != username:
            raise RuntimeError("logged in as someone else")

    async def close(self) -> None:
        await self.http.close()


class Phase:
    """Calls from `concurrency` browsers; latencies by part, failures counted."""

    def __init__(self) -> None:
        self.parts: dict[str, list[float]] = {}
        self.done = 0
        self.failures: dict[str, int] = {}
        self.first_failure: str | None = None

    def record(self, **parts: float) -> None:
        for name, seconds in parts.items():
            self.parts.setdefault(name, []).append(seconds)
        self.done += 1

    def failed(self, error: Exception) -> None:
        key = f"HTTP {error.status}" if isinstance(error, Failure) else type(error).__name__
        self.failures[key] = self.failures.get(key, 0) + 1
        self.first_failure = self.first_failure or str(error)


async def run_browsers(
    gateway: Gateway, concurrency: int, seconds: float, one: Callable[[dict, Phase], Awaitable]
) -> tuple[Phase, float]:
    """Each browser repeats `one` until `seconds` pass (or `one` returns False)."""
    phase, deadline = Phase(), now() + seconds
    browsers = [await gateway.browser() for _ in range(concurrency)]

    async def browse(browser: dict) -> None:
        while now() < deadline:
            try:
                if await one(browser, phase) is False:
                    return
            except (Failure, aiohttp.ClientError, TimeoutError) as error:
                phase.failed(error)

    started = now()
    await asyncio.gather(*(browse(b) for b in browsers))
    return phase, now() - started


# --- logins -----------------------------------------------------------------------------------


async def create_users(system: System) -> tuple[list[str], str]:
    """USERS applicants of one unit, straight into accounts.users, argon2id hashes."""
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        hashes = await asyncio.gather(
            *(loop.run_in_executor(pool, hash_password, PASSWORD) for _ in range(DISTINCT_HASHES))
        )
    unit_id, names = uuid.uuid4(), [f"bu{system.token}{i:04d}" for i in range(USERS)]
    conn = await asyncpg.connect(
        system.settings.database_url, server_settings={"search_path": system.schema("accounts")}
    )
    try:
        await conn.execute(
            "INSERT INTO units (id, org_code, name, si_unit_no, source)"
            " VALUES ($1, $2, '深圳市基准测试有限公司', '12345678', 'local')",
            unit_id,
            org_code(0),
        )
        await conn.executemany(
            "INSERT INTO users (id, username, password_hash, role, unit_id, name, id_number,"
            " id_number_index, gender, mobile, mobile_index)"
            " VALUES ($1, $2, $3, 'applicant', $4, '李基准', $5, $6, $7, $8, $9)",
            [
                (uuid.uuid4(), name, hashes[i % DISTINCT_HASHES], unit_id, *numbers)
                for i, name in enumerate(names)
                for id_no in [id_number(i)]
                # sealed as the accounts service keeps them
                for sealed in [sealed_user({"id_number": id_no, "mobile": f"139{i:08d}"})]
                for numbers in [
                    (
                        sealed["id_number"],
                        sealed["id_number_index"],
                        "男" if int(id_no[16]) % 2 else "女",
                        sealed["mobile"],
                        sealed["mobile_index"],
                    )
                ]
            ],
        )
    finally:
        await conn.close()
    return names, hashes[0]  # the hash argon2 is measured on alone


def login_figures(phase: Phase, elapsed: float, meter: CpuMeter, extra: dict) -> dict:
    figures = {
        "logins_per_s": round(phase.done / elapsed, 2),
        "logins": phase.done,
        "failures": phase.failures,
    }
    for part in ("pair", "captcha", "session"):
        if part in phase.parts:
            figures.update(spread(phase.parts[part], "" if part == "pair" else f"{part}_"))
    if "pair" not in phase.parts:
        figures.update(spread(phase.parts.get("session", [])))
    return figures | meter.figures(max(phase.done, 1), "login") | extra


async def login_phases(system: System, gateway: Gateway, users: list[str], rpc) -> dict:
    usernames = itertools.cycle(users)
    groups, accounts_pid = system.cpu_groups(), system.pid("accounts")
    figures: dict[str, dict] = {"pair": {}, "session_alone": {}}

    async def pair(browser: dict, phase: Phase) -> None:
        started = now()
        captcha_id = await gateway.captcha(browser)
        asked = now()
        await gateway.login(browser, next(usernames), captcha_id)
        ended = now()
        phase.record(pair=ended - started, captcha=asked - started, session=ended - asked)

    # warm-up: pools, connections, code paths
    await run_browsers(gateway, 2, 2.0, pair)

    for concurrency in LOGIN_CONCURRENCY:
        print(f"login, captcha + session, {concurrency} browser(s) ...", flush=True)
        await rpc("bench.verify_stats", {"reset": True})
        meter, sampler = CpuMeter(groups), ThreadSampler(accounts_pid)
        with sampler:
            phase, elapsed = await run_browsers(gateway, concurrency, LOGIN_SECONDS, pair)
        extra = verify_extra(await rpc("bench.verify_stats", {}), sampler)
        figures["pair"][str(concurrency)] = login_figures(phase, elapsed, meter, extra)
        report_first_failure(phase)

    captchas: list[str] = []

    async def session_alone(browser: dict, phase: Phase) -> bool:
        if not captchas:
            return False
        captcha_id = captchas.pop()
        started = now()
        await gateway.login(browser, next(usernames), captcha_id)
        phase.record(session=now() - started)
        return True

    for concurrency in LOGIN_CONCURRENCY:
        print(f"login, session alone, {concurrency} browser(s) ...", flush=True)
        fetcher = await gateway.browser()
        wanted = SESSION_ALONE_MAX[concurrency]
        captchas[:] = [await gateway.captcha(fetcher) for _ in range(wanted)]

        await rpc("bench.verify_stats", {"reset": True})
        meter, sampler = CpuMeter(groups), ThreadSampler(accounts_pid)
        with sampler:
            phase, elapsed = await run_browsers(gateway, concurrency, LOGIN_SECONDS, session_alone)
        extra = verify_extra(await rpc("bench.verify_stats", {}), sampler)
        figures["session_alone"][str(concurrency)] = login_figures(phase, elapsed, meter, extra)
        report_first_failure(phase)
    return figures


def verify_extra(stats: dict, sampler: ThreadSampler) -> dict:
    return {
        "verifies_at_once_mean": stats["mean_at_once_when_busy"],
        "verifies_at_once_peak": stats["peak_at_once"],
        "verify_busy_share": stats["busy_share"],
        **sampler.figures(),
    }


def report_first_failure(phase: Phase) -> None:
    if phase.first_failure:
        print(f"  {sum(phase.failures.values())} failed; first: {phase.first_failure}")


# --- registrations ----------------------------------------------------------------------------


def org_code(n: int) -> str:
    body = f"B{n:07d}"
    return body + org_code_check_char(body)


def id_number(n: int) -> str:
    first17 = f"440305{19700101 + (n % 28)}{n % 1000:03d}"  # a valid date in January 1970
    # n // 1000 goes into the region code, so the first 200,000 numbers are distinct
    first17 = f"{440000 + n // 1000:06d}" + first17[6:]
    return first17 + id_check_char(first17)


def registration_form(n: int, token: str) -> dict[str, str]:
    return {
        "org_code": org_code(n + 1),
        "si_unit_no": f"{50_000_000 + n}",
        "admin_name": "王基准",
        "admin_id_number": id_number(n + USERS + 1),
        "admin_si_no": f"{60_000_000 + n}",
        "email": "admin@example.cn",
        "username": f"ra{token}{n:05d}",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "phone": "0755-83000000",
        "mobile": f"137{n:08d}",
        "sms_code": "",
    }


async def enrol_people(system: System) -> list[dict]:
    """PEOPLE admins-to-be, each enrolled at a unit of their own (si_enrolments rows)."""
    forms = [registration_form(n, system.token) for n in range(PEOPLE)]
    conn = await asyncpg.connect(
        system.settings.database_url, server_settings={"search_path": system.schema("accounts")}
    )
    try:
        await conn.executemany(
            "INSERT INTO si_enrolments (id_number, id_number_index, si_unit_no, si_no,"
            " unit_name, person_name) VALUES ($1, $2, $3, $4, $5, $6)",
            [
                (
                    seal(
                        f["admin_id_number"], "si_enrolments", "id_number"
                    ),  # as accounts keeps it
                    index(f["admin_id_number"], "id_number"),
                    f["si_unit_no"],
                    f["admin_si_no"],
                    f"深圳市基准单位{n:04d}有限公司",
                    f["admin_name"],
                )
                for n, f in enumerate(forms)
            ],  # fmt: skip
        )
    finally:
        await conn.close()
    return forms


class SmsLog:
    """Reads the development provider's sms.log as it grows, as a person tailing it would."""

    CODE = re.compile(r"验证码 (\d{6})")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.pending = b""
        self.waiting: dict[str, asyncio.Future] = {}
        self._task: asyncio.Task | None = None

    def expect(self, mobile: str) -> asyncio.Future:
        self.waiting[mobile] = future = asyncio.get_running_loop().create_future()
        return future

    def _read(self) -> None:
        with contextlib.suppress(FileNotFoundError), open(self.path, "rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
            self.offset += len(chunk)
            *lines, self.pending = (self.pending + chunk).split(b"\n")
            for line in lines:
                sms = json.loads(line)
                future = self.waiting.pop(sms["mobile"], None)
                match = self.CODE.search(sms["body"])
                if future is not None and match and not future.done():
                    future.set_result(match.group(1))

    async def _run(self) -> None:
        while True:
            self._read()
            await asyncio.sleep(0.005)

    def __enter__(self) -> "SmsLog":
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_exc) -> None:
        self._task.cancel()


async def registration_phases(system: System, gateway: Gateway) -> dict:
    forms = iter(await enrol_people(system))
    groups = system.cpu_groups()
    figures = {}

    async def register(browser: dict, phase: Phase) -> bool:
        form = next(forms, None)
        if form is None:
            return False
        started = now()
        delivered = sms.expect(form["mobile"])
        ask = {"mobile": form["mobile"], "purpose": "register"}
        await gateway.post(browser, "/api/sms-codes", ask)
        asked = now()
        code = await asyncio.wait_for(delivered, SMS_TIMEOUT)
        read = now()
        result = await gateway.post(browser, "/api/units", form | {"sms_code": code}, 201)
        if result["username"] != form["username"]:
            raise RuntimeError("registered someone else")
        ended = now()
        phase.record(
            registration=ended - started, sms_request=asked - started,
            sms_delivery=read - asked, units_post=ended - read,
        )  # fmt: skip
        return True

    with SmsLog(system.sms_log) as sms:
        await run_browsers(gateway, 1, 1.0, register)  # warm-up
        for concurrency in REGISTER_CONCURRENCY:
            print(f"registration, {concurrency} at once ...", flush=True)
            meter = CpuMeter(groups)
            phase, elapsed = await run_browsers(gateway, concurrency, REGISTER_SECONDS, register)
            report_first_failure(phase)
            result = {
                "registrations_per_s": round(phase.done / elapsed, 2),
                "registrations": phase.done,
                "failures": phase.failures,
                **spread(phase.parts.get("registration", [])),
            }
            for part in ("sms_request", "sms_delivery", "units_post"):
                result |= spread(phase.parts.get(part, []), f"{part}_")
            figures[str(concurrency)] = result | meter.figures(max(phase.done, 1), "registration")
    return figures


# --- the run --------------------------------------------------------------------------------


def ratios(argon2: dict, login: dict) -> dict:
    hash_p50 = argon2["one_at_a_time"]["p50_ms"]
    hash_rate = argon2["process_pool_2"]["verifies_per_s"]
    top = str(max(LOGIN_CONCURRENCY))
    figures = {"hash_p50_ms": hash_p50, "hash_per_s_2_processes": hash_rate}
    for kind in ("pair", "session_alone"):
        one, many = login[kind]["1"], login[kind][top]
        figures[kind] = {
            "login_p50_over_hash_p50": round(one["p50_ms"] / hash_p50, 2)
            if one["p50_ms"]
            else None,
            f"logins_per_s_at_{top}_over_hash_per_s": round(many["logins_per_s"] / hash_rate, 2),
            "logins_per_s_at_1_over_hash_per_s_one_at_a_time": round(
                one["logins_per_s"] / argon2["one_at_a_time"]["verifies_per_s"], 2
            ),
        }
    return figures


def foreign_cpu_share(login: dict, registration: dict) -> float:
    """The largest share of the machine's CPU none of ours used, over the timed phases."""
    phases = [*login["pair"].values(), *login["session_alone"].values(), *registration.values()]
    shares = []
    for phase in phases:
        cpu = next(v for k, v in phase.items() if k.startswith("cpu_ms_per_"))
        shares.append(max(0.0, cpu["unattributed"]) / cpu["machine"] if cpu["machine"] else 0.0)
    return round(max(shares), 2)


def judge(ratio: dict) -> dict:
    top = max(LOGIN_CONCURRENCY)
    pair = ratio["pair"]
    return {
        "login_p50_within_1.25x_hash_p50": (pair["login_p50_over_hash_p50"] or 99)
        <= LATENCY_RATIO_LIMIT,
        f"logins_per_s_at_{top}_at_least_0.8x_hash_per_s": pair[
            f"logins_per_s_at_{top}_over_hash_per_s"
        ]
        >= THROUGHPUT_SHARE,
    }


def cpu_note(figures: dict, unit: str) -> str:
    cpu = figures[f"cpu_ms_per_{unit}"]
    parts = " ".join(f"{name} {ms:g}" for name, ms in cpu.items())
    return f"  [cpu ms per {unit}: {parts}; machine {figures['machine_cpu_pct']}%]"


def print_readable(figures: dict) -> None:
    a = figures["argon2"]
    print(f"argon2id {a['params']}:")
    for name in ("one_at_a_time", "process_pool_2"):
        r = a[name]
        print(
            f"  {name:<16} {r['verifies_per_s']:6.2f} verifies/s  p50 {r['p50_ms']:7.1f} ms"
            f"  p99 {r['p99_ms']:7.1f} ms  (n={r['verifies']}; cpu {r['cpu_ms_per_verify']} ms"
            f" per verify, {r['cpu_per_wall']} cores busy; machine {r['machine_cpu_pct']}%)"
        )
    g = a["gil"]
    print(
        f"  GIL: a Python loop beside a verifying thread runs at {g['share_beside_verify']:.0%}"
        f" of its speed alone (beside a GIL-holding sort: {g['share_beside_gil_holding_sort']:.0%})"
        f" -> argon2-cffi {'releases' if g['released'] else 'HOLDS'} the GIL"
    )
    for concurrency, r in figures["accounts_process"].items():
        print(
            f"  accounts process, {concurrency} verify_password_async caller(s):"
            f" {r['verifies_per_s']:6.2f} verifies/s  p50 {r['p50_ms']:7.1f} ms"
            f"  ({r['verifies_at_once_mean']} verifies at once on average, peak"
            f" {r['verifies_at_once_peak']}; {r['mean_runnable_threads']} threads runnable;"
            f" accounts {r['accounts_cpu_pct']}% cpu, machine {r['machine_cpu_pct']}%)"
        )
    for kind, label in (("pair", "captcha+session"), ("session_alone", "session alone  ")):
        for concurrency, r in figures["login"][kind].items():
            extra = ""
            if kind == "pair" and r.get("session_p50_ms") is not None:
                extra = (
                    f" (session part p50 {r['session_p50_ms']}, captcha p50 {r['captcha_p50_ms']})"
                )
            print(
                f"login {label} x{concurrency:<2}: {r['logins_per_s']:6.2f} logins/s"
                f"  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  n={r['logins']}"
                f" failed={sum(r['failures'].values())}{extra}"
            )
            print("   " + cpu_note(r, "login") + f" verifies at once {r['verifies_at_once_mean']}")
    for concurrency, r in figures["registration"].items():
        print(
            f"registration x{concurrency}: {r['registrations_per_s']:6.2f} registrations/s"
            f"  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  n={r['registrations']}"
            f" failed={sum(r['failures'].values())}  (parts p50: sms request"
            f" {r['sms_request_p50_ms']}, sms in log {r['sms_delivery_p50_ms']},"
            f" POST /api/units {r['units_post_p50_ms']})"
        )
        print("   " + cpu_note(r, "registration"))
    ratio = figures["ratios"]
    top = max(LOGIN_CONCURRENCY)
    for kind in ("pair", "session_alone"):
        r = ratio[kind]
        print(
            f"ratio {kind}: login p50 / hash p50 = {r['login_p50_over_hash_p50']};"
            f" logins/s at {top} / hash verifies/s (2 processes) ="
            f" {r[f'logins_per_s_at_{top}_over_hash_per_s']}"
        )
    for target, passed in figures["targets"].items():
        print(f"{'PASS' if passed else 'FAIL'}: {target}")
    if figures["foreign_cpu_share_max"] > FOREIGN_CPU_LIMIT:
        print(
            f"NOTE: in one phase {figures['foreign_cpu_share_max']:.0%} of the machine's CPU went"
            " to processes not ours: something else was running, so logins/s and latencies are"
            " low; cpu ms per login of accounts still holds. Run it again on a quiet machine."
        )


async def measure(system: System) -> dict:
    gateway = Gateway(system.url)
    client = RpcClient(system.settings.amqp_url, Names(system.settings).rpc_queue, 10.0)
    await client.start()

    async def rpc(method: str, params: dict, timeout: float = 10.0):
        """The bench-only methods of the accounts process, straight over the broker."""
        return await client.call("accounts", method, params, timeout=timeout)

    try:
        print(f"creating {USERS} users ...", flush=True)
        users, password_hash = await create_users(system)
        print("argon2 alone ...", flush=True)
        argon2 = await argon2_alone(password_hash)
        print("argon2 in the accounts process ...", flush=True)
        in_accounts = await accounts_process_hashing(rpc, password_hash, system.pid("accounts"))
        login = await login_phases(system, gateway, users, rpc)
        registration = await registration_phases(system, gateway)
    finally:
        await gateway.close()
        await client.close()
    ratio = ratios(argon2, login)
    return {
        "argon2": argon2,
        "accounts_process": in_accounts,
        "login": login,
        "registration": registration,
        "ratios": ratio,
        "targets": judge(ratio),
        "foreign_cpu_share_max": foreign_cpu_share(login, registration),
    }


async def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    logging.basicConfig(level=logging.WARNING)
    # On SIGTERM (a `timeout`, say) unwind through the clean-up instead of dying in place.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    settings = bench_settings()
    token = settings.broker_prefix.rsplit("-", 1)[1]
    load = os.getloadavg()[0]
    system = System(settings, token)
    print(f"broker prefix {settings.broker_prefix}, database {settings.database_url}")
    print(f"load average before the run {load:.2f} on {os.cpu_count()} cores", flush=True)
    started = now()
    try:
        print(f"starting 4 services, the SMS provider and the gateway on {system.url} ...",
              flush=True)  # fmt: skip
        await system.start()
        print(f"ready after {now() - started:.1f} s", flush=True)
        figures = await measure(system)
    finally:
        await system.stop()
        await system.remove()
    print_readable(figures)
    run = {
        "prefix": settings.broker_prefix,
        "cores": os.cpu_count(),
        "load_before": load,
        "load_after": round(os.getloadavg()[0], 2),
        "seconds": round(now() - started, 1),
        "users": USERS,
    }
    print(json.dumps(run | figures, ensure_ascii=False))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        sys.exit("stopped by SIGTERM; its queues, exchanges, schemas and files were removed")

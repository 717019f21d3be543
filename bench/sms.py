"""Case notices through a real provider adapter, against the provider's local fake.

    python -m bench.sms                       # Alibaba Cloud's adapter, 200 notices/s, 30 s
    python -m bench.sms --provider tencent --rate 200 --seconds 30

A notice is committed as the cases service commits it (a `case.applicant_notice` event in
`cases.outbox`, one transaction each, at a steady rate, each to a phone of its own); the
cases process's relay publishes it, notify makes it a delivery and sends it, the adapter
process (`python -m services.notify.sms_adapter`) calls the provider through its SDK, and the
fake (`python -m tests.support.fake_sms`, a process of its own) notes when each request came
in. Measured: from just before COMMIT to the fake receiving the SendSms request (p50, p99,
max), how many never came (lost) and how many came twice (by out-id, and by phone);
then how many were delivered (report included) in the end.

Beside it, the bare limit: the same SDK calling the same fake from this process, 16 threads
(the adapter's default), at the same rate (from the call to the fake's arrival) and flat out
(calls/s). CPU: how busy the machine was (100 = one core) and each process's CPU seconds.

Everything runs on a database and broker prefix of its own (`zhicheng_bench_sms_<run>`,
`zcbench-sms-<run>`), removed at the end; logs and the fake's record stay in
var/bench/sms/. The last line printed is one JSON object.
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aio_pika
import asyncpg

from bench._processes import ROOT, Processes, service_env
from services.notify.provider import provider_queue
from services.notify.sealed import DELIVERY_MOBILE, in_transit, opened
from services.notify.settings import SmsAdapterSettings
from services.notify.templates import TEMPLATES
from shared.db import ensure_database
from shared.envelope import new_event
from shared.rpc import RpcClient, RpcError
from shared.settings import Settings
from shared.topology import Names, delete_prefix
from tests.support.sms_providers import (
    ALIYUN_KEY_ID,
    ALIYUN_KEY_SECRET,
    ALIYUN_TEMPLATES,
    TENCENT_APP_ID,
    TENCENT_SECRET_ID,
    TENCENT_SECRET_KEY,
    TENCENT_TEMPLATES,
    adapter_env,
    adapter_settings,
)

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/zhicheng_bench"
WARMUP_SECONDS = 2.0
BARE_SECONDS = 10.0
FLAT_OUT_SECONDS = 5.0
THREADS = 16
ACCEPTED = "您的职称申报已通过日常工作部门预受理。"


async def drop_database(database_url: str) -> None:
    server, name = database_url.rsplit("/", 1)
    conn = await asyncpg.connect(server + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def process_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_idle_seconds() -> float:
    with open("/proc/stat") as stat:
        ticks = stat.readline().split()
    return (int(ticks[4]) + int(ticks[5])) / os.sysconf("SC_CLK_TCK")


def pids_named(command: str) -> list[int]:
    """Processes of this machine whose command name is `command` (e.g. beam.smp)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == command:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class Meter:
    """Wall time, how busy the machine was and the CPU seconds of groups of processes, from
    now on; `others_cores` is the rest of the machine (other people's work)."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.began = self._read()

    def _read(self):
        cpu = {
            name: sum(process_cpu_seconds(pid) for pid in pids)
            for name, pids in self.groups.items()
        }
        cpu["bench"] = time.process_time()
        return time.monotonic(), machine_idle_seconds(), cpu

    def figures(self) -> dict:
        (w0, i0, c0), (w1, i1, c1) = self.began, self._read()
        wall = w1 - w0
        busy = wall * os.cpu_count() - (i1 - i0)
        used = {name: round(c1[name] - c0[name], 2) for name in c0}
        return {
            "seconds": round(wall, 2),
            "machine_cpu_pct": round(100 * busy / wall),
            "cpu_seconds": used,
            "others_cores": round(max(0.0, busy - sum(used.values())) / wall, 2),
        }


async def quiet(limit_pct: float = 30.0, patience: float = 90.0) -> dict:
    """Wait (a while at most) until the machine is less than `limit_pct` busy for 2 s."""
    began = time.monotonic()
    while time.monotonic() - began < patience:
        meter = Meter({})
        await asyncio.sleep(2)
        if meter.figures()["machine_cpu_pct"] < limit_pct:
            return {"waited_s": round(time.monotonic() - began, 1), "still_busy": False}
    return {"waited_s": round(time.monotonic() - began, 1), "still_busy": True}


def fake_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


class Bench:
    def __init__(self, provider: str, rate: float, seconds: float) -> None:
        self.provider = provider
        self.rate = rate
        self.seconds = seconds
        run = uuid.uuid4().hex[:6]
        base = os.environ.get("ZC_DATABASE_URL", DEFAULT_DATABASE)
        prefix = os.environ.get("ZC_BROKER_PREFIX", "zcbench")
        self.settings = Settings(
            database_url=f"{base.rsplit('/', 1)[0]}/zhicheng_bench_sms_{run}",
            broker_prefix=f"{prefix}-sms-{run}",
            log_level=os.environ.get("ZC_BENCH_LOG_LEVEL", "WARNING"),
        )
        self.var_dir = ROOT / "var" / "bench" / "sms"
        self.fake_log = self.var_dir / f"fake-{run}.jsonl"
        self.bare_log = self.var_dir / f"fake-bare-{run}.jsonl"
        self.port = 18500 + os.getpid() % 1000
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.processes: Processes | None = None
        self.fake: asyncio.subprocess.Process | None = None

    # --- set-up --------------------------------------------------------------------------

    async def start_fake(self, log: Path) -> asyncio.subprocess.Process:
        templates = {
            (ALIYUN_TEMPLATES if self.provider == "aliyun" else TENCENT_TEMPLATES)[k]: list(
                t.params
            )
            for k, t in TEMPLATES.items()
        }
        credential = (
            f"{ALIYUN_KEY_ID}:{ALIYUN_KEY_SECRET}"
            if self.provider == "aliyun"
            else f"{TENCENT_SECRET_ID}:{TENCENT_SECRET_KEY}"
        )
        fake = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support.fake_sms", self.provider,
            "--port", str(self.port), "--log", str(log), "--credential", credential,
            "--templates", json.dumps(templates), "--app-id", TENCENT_APP_ID,
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        line = await asyncio.wait_for(fake.stdout.readline(), 30)
        assert line.startswith(b"ready"), line
        return fake

    async def stop_fake(self) -> None:
        if self.fake is not None and self.fake.returncode is None:
            self.fake.send_signal(signal.SIGTERM)
            await self.fake.wait()

    async def start_system(self) -> None:
        await ensure_database(self.settings.database_url)
        self.var_dir.mkdir(parents=True, exist_ok=True)
        env = service_env(
            self.settings,
            self.var_dir,
            ZC_SMS_PROVIDER=self.provider,
            **adapter_env(self.port, self.port),
        )
        self.processes = Processes(
            {
                "cases": "services.cases",
                "notify": "services.notify",
                f"sms-{self.provider}": "services.notify.sms_adapter",
            },
            env,
            self.var_dir / "logs",
        )
        await self.processes.spawn()
        client = RpcClient(self.settings.amqp_url, Names(self.settings).rpc_queue, 2)
        await client.start()
        try:
            for service in ("cases", "notify"):
                await until(lambda s=service: answers(client, s), 90)
        finally:
            await client.close()
        await until(self.adapter_consumes, 60)

    async def adapter_consumes(self) -> bool:
        self.processes.check_alive()
        connection = await aio_pika.connect(self.settings.amqp_url)
        async with connection:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(provider_queue(self.settings), passive=True)
            except aio_pika.exceptions.ChannelClosed:
                return False
            return queue.declaration_result.consumer_count > 0

    async def clean_up(self) -> None:
        if self.processes is not None:
            await self.processes.stop()
        await self.stop_fake()
        await delete_prefix(self.settings)
        await drop_database(self.settings.database_url)

    # --- the run through the system --------------------------------------------------------

    async def notices(self, db: asyncpg.Pool, count: int, first: int, commits: dict) -> None:
        """`count` notices at the rate, each committed in its own transaction."""
        interval = 1.0 / self.rate
        began = time.monotonic()
        pending: set[asyncio.Task] = set()

        async def commit(n: int) -> None:
            mobile = f"139{n:08d}"
            payload = {
                "case_id": str(uuid.uuid4()),
                "case_no": f"2026{n:06d}",
                "applicant_name": "申报人",
                "applicant_mobile": in_transit(mobile),  # as cases seals it
                "round_name": "2026年度",
                "qualification_name": "工程师",
                "notice": ACCEPTED,
            }
            event = new_event("case.applicant_notice", payload, producer="cases")
            async with db.acquire() as conn:
                transaction = conn.transaction()
                await transaction.start()
                await conn.execute(
                    "INSERT INTO cases.outbox (id, routing_key, envelope) VALUES ($1, $2, $3)",
                    event.id,
                    event.type,
                    event.model_dump_json(),
                )
                commits[mobile] = time.monotonic()  # just before COMMIT
                await transaction.commit()

        for i in range(count):
            delay = began + i * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(commit(first + i))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)

    async def groups(self, db: asyncpg.Pool) -> dict[str, list[int]]:
        """Our processes, the PostgreSQL backends serving our database, the broker."""
        backends = await db.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        )
        return {
            **{name: [pid] for name, pid in self.processes.pids().items()},
            "fake": [self.fake.pid],
            "postgres": [r["pid"] for r in backends],
            "rabbitmq": pids_named("beam.smp"),
        }

    async def run_system(self) -> dict:
        db = await asyncpg.create_pool(self.settings.database_url, min_size=4, max_size=8)
        try:
            warm: dict[str, float] = {}
            await self.notices(db, int(self.rate * WARMUP_SECONDS), 0, warm)
            await asyncio.sleep(2)
            groups = await self.groups(db)
            self.quiet = await quiet()
            commits: dict[str, float] = {}
            meter = Meter(groups)
            count = int(self.rate * self.seconds)
            await self.notices(db, count, 1_000_000, commits)
            sending = meter.figures()
            expected = set(commits)

            def arrived() -> dict[str, list[dict]]:
                lines: dict[str, list[dict]] = {}
                for line in fake_lines(self.fake_log):
                    if line["mobile"] in expected:
                        lines.setdefault(line["mobile"], []).append(line)
                return lines

            async def all_arrived() -> bool:
                return len(arrived()) == len(expected)

            await until(all_arrived, 60, raises=False)
            all_of_it = meter.figures()
            got = arrived()
            latencies = [got[m][0]["monotonic"] - at for m, at in commits.items() if m in got]
            out_ids = Counter(line["out_id"] for lines in got.values() for line in lines)

            async def statuses() -> Counter:
                # Mobiles are sealed at rest: opened here to pick this run's deliveries.
                rows = await db.fetch("SELECT mobile, status FROM notify.deliveries")
                ours = (r for r in rows if opened(r["mobile"], DELIVERY_MOBILE) in expected)
                return Counter(r["status"] for r in ours)

            async def delivered() -> int:
                return (await statuses())["delivered"]

            async def all_delivered() -> bool:
                return await delivered() == len(expected)

            await until(all_delivered, 60, raises=False)
            states = dict(await statuses())
            return {
                "quiet_before": self.quiet,
                "notices": count,
                "rate_per_s": self.rate,
                "commit_to_provider_ms": {
                    "p50": ms(percentile(latencies, 0.5)),
                    "p99": ms(percentile(latencies, 0.99)),
                    "max": ms(max(latencies)),
                },
                "lost": len(expected) - len(got),
                "doubled_by_out_id": sum(1 for n in out_ids.values() if n > 1),
                "doubled_by_phone": sum(1 for lines in got.values() if len(lines) > 1),
                "deliveries": states,
                "while_sending": sending,
                "until_last_arrival": all_of_it,
            }
        finally:
            await db.close()

    # --- the bare limit ------------------------------------------------------------------------

    async def run_bare(self) -> dict:
        """The SDK alone against the same fake (a fresh one, with a record of its own)."""
        fake = await self.start_fake(self.bare_log)
        try:
            settings = adapter_settings(self.port, self.port, sms_provider_concurrency=THREADS)
            api = _api(self.provider, settings)
            template_id = (ALIYUN_TEMPLATES if self.provider == "aliyun" else TENCENT_TEMPLATES)[
                "case.accepted"
            ]
            executor = ThreadPoolExecutor(THREADS)
            loop = asyncio.get_running_loop()
            started: dict[str, float] = {}
            answered: dict[str, float] = {}

            async def call(n: int) -> None:
                mobile = f"137{n:08d}"
                started[mobile] = time.monotonic()
                result = await loop.run_in_executor(
                    executor,
                    api.send,
                    mobile,
                    f"bare:{n}",
                    template_id,
                    [("case_no", f"2026{n:06d}")],
                )
                assert result.accepted, result
                answered[mobile] = time.monotonic()

            for n in range(200):  # warm-up: connections made
                await call(n)
            started.clear()
            answered.clear()
            pids = {"fake": [fake.pid]}
            meter = Meter(pids)
            interval, began, tasks = 1.0 / self.rate, time.monotonic(), []
            for i in range(int(self.rate * BARE_SECONDS)):
                delay = began + i * interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(call(10_000 + i)))
            await asyncio.gather(*tasks)
            at_rate = meter.figures()
            await asyncio.sleep(0.5)
            arrivals = {
                line["mobile"]: line["monotonic"]
                for line in fake_lines(self.bare_log)
                if line["mobile"] in started
            }
            to_arrival = [arrivals[m] - started[m] for m in started if m in arrivals]
            to_answer = [answered[m] - started[m] for m in started]

            # Flat out: THREADS calls in flight for FLAT_OUT_SECONDS.
            done = 0
            stop_at = time.monotonic() + FLAT_OUT_SECONDS

            async def worker(w: int) -> None:
                nonlocal done
                n = 0
                while time.monotonic() < stop_at:
                    await call(100_000 + w * 10_000 + n)
                    n += 1
                    done += 1

            meter = Meter(pids)
            await asyncio.gather(*(worker(w) for w in range(THREADS)))
            flat = meter.figures()
            executor.shutdown()
            return {
                "threads": THREADS,
                "at_rate": {
                    "calls": len(to_answer),
                    "call_to_provider_ms": {
                        "p50": ms(percentile(to_arrival, 0.5)),
                        "p99": ms(percentile(to_arrival, 0.99)),
                        "max": ms(max(to_arrival)),
                    },
                    "call_to_answer_ms": {
                        "p50": ms(percentile(to_answer, 0.5)),
                        "p99": ms(percentile(to_answer, 0.99)),
                    },
                    **at_rate,
                },
                "flat_out": {"calls_per_s": round(done / flat["seconds"]), **flat},
            }
        finally:
            fake.send_signal(signal.SIGTERM)
            await fake.wait()


def _api(provider: str, settings: SmsAdapterSettings):
    if provider == "aliyun":
        from services.notify.aliyun_sms import AliyunSms

        return AliyunSms(settings, "深圳职称申报")
    from services.notify.tencent_sms import TencentSms

    return TencentSms(settings, "深圳职称申报")


async def answers(client: RpcClient, service: str) -> bool:
    try:
        return await client.call(service, "ping") is not None
    except RpcError:
        return False


async def until(check, timeout: float, raises: bool = True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    if raises:
        raise TimeoutError(f"not ready within {timeout:.0f}s")


async def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sms")
    parser.add_argument("--provider", choices=("aliyun", "tencent"), default="aliyun")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    bench = Bench(args.provider, args.rate, args.seconds)
    load_before = os.getloadavg()[0]

    async def measure() -> tuple[dict, dict]:
        bench.fake = await bench.start_fake(bench.fake_log)
        await bench.start_system()
        system = await bench.run_system()
        await bench.processes.stop()
        await bench.stop_fake()
        return system, await bench.run_bare()

    task = asyncio.create_task(measure())
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        system, bare = await task
    finally:
        await bench.clean_up()
    result = {
        "provider": args.provider,
        "cores": os.cpu_count(),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "system": system,
        "bare_sdk": bare,
        "checks": {
            "lost_0": system["lost"] == 0,
            "doubled_0": system["doubled_by_out_id"] == 0 and system["doubled_by_phone"] == 0,
        },
    }
    c, b = system["commit_to_provider_ms"], bare["at_rate"]["call_to_provider_ms"]
    print(f"{args.provider}: {system['notices']} notices at {args.rate:g}/s")
    print(f"  commit -> provider request: p50 {c['p50']} ms, p99 {c['p99']} ms, max {c['max']} ms")
    print(f"  bare SDK call -> provider request: p50 {b['p50']} ms, p99 {b['p99']} ms")
    print(f"  bare SDK flat out, {THREADS} threads: {bare['flat_out']['calls_per_s']} calls/s")
    print(
        f"  lost {system['lost']}, doubled {system['doubled_by_out_id']} by out-id,"
        f" {system['doubled_by_phone']} by phone; deliveries {system['deliveries']}"
    )
    sending = system["while_sending"]
    print(
        f"  machine {sending['machine_cpu_pct']}% busy while sending (100 = one core of"
        f" {os.cpu_count()}), of which other work {sending['others_cores']} cores;"
        f" CPU s {sending['cpu_seconds']}; load before {load_before:.2f}"
    )
    for name, ok in result["checks"].items():
        print(f"  {'PASS' if ok else 'FAIL'} {name}")
    print(json.dumps(result, ensure_ascii=False))
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

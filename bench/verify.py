"""Public e-certificate verification through the real processes, beside the bare SQL lookup
of the same row.

    python -m bench.verify [--certificates 20000] [--requests 3000]

Into a database of its own (`ZC_DATABASE_URL`, default .../zhicheng_bench_verify; the name
must contain "bench"): drops the service schemas, applies every migration, seeds the reference
data and loads, with COPY, that many passed cases and their 职称电子证书 (numbers
SZZC-<year>-<committee code>-<serial>, random 8-character codes). Then it starts accounts,
cases, documents, notify and the gateway as the processes they are in production and
measures, 50 requests in flight, each for a random certificate with its right code:

- `ours_api`: `GET /api/verify?no=…&code=…` through the gateway (JSON, for employers' systems);
- `ours_page`: `GET /verify?no=…&code=…`, what the QR code's link opens (HTML);
- `bare_lookup`: from this process, with asyncpg on a pool made as the service makes its own
  (10 connections), the service's SELECT of the row by its number: the floor;
- `bare_statements`: everything the service does for one verification, in SQL: its one
  statement (the rate-limit count, an upsert; the lookup; and the query record, an insert);
- `ours_api_one_at_a_time`: `/api/verify` again, one request at a time: what one costs
  without waiting behind the others.

Every request comes from 127.0.0.1, so the per-address limit of `verify` (60 per 10 minutes)
is lifted for this run with `ZC_RATE_LIMITS={"verify": "1000000000/60"}` in the processes'
environment: every attempt is still counted in the same table, as in production. The last
line printed is one JSON object with every figure. See bench/README.md.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import secrets
import signal
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import uvloop

from bench._http import Connections
from bench._workflow_data import check_bench_database, reset_schemas
from bench.workflow import (
    CpuMeter,
    Errors,
    System,
    broker_pids,
    cpu_line,
    delete_broker_objects,
    free_port,
    in_ms,
    machine_busy_pct,
    now,
    percentile,
    run_calls,
    say,
)
from services.cases.domain.certificates import CertificateNumber, new_verification_code
from services.cases.handlers.certificates import COLUMNS, verify_statement
from services.cases.reference_seed import seed_reference
from shared.db import create_pool
from shared.rate_limit import RateLimiter, RateLimitSettings
from shared.settings import Settings
from tools.demo_data import demo_reference
from tools.personal_data import seal_written

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/zhicheng_bench_verify"
DEFAULT_GATEWAY_PORT = 18082
IN_FLIGHT = 50
WARMUP = 300
ONE_AT_A_TIME = 500  # requests of the phase without queueing
P99_TARGET_MS = 100.0
LIFTED = {"verify": "1000000000/60"}  # out of reach for the bench's one address, still counted
COMMITTEE = "cmte-qg-gj"  # a demo committee, with its department
CASE_COLUMNS = (
    "id", "case_no", "unit_id", "applicant_id", "applicant_name", "round_id", "review_type_id",
    "qualification_id", "committee_id", "department_id", "needs_pre_approval", "state",
    "outcome", "status_label", "created_at", "updated_at", "reached_department",
)  # fmt: skip
CERTIFICATE_COLUMNS = (
    "id", "certificate_no", "case_id", "committee_id", "year", "serial", "verification_code",
    "holder_name", "id_number", "qualification", "series", "level", "committee", "department",
    "passed_on", "issued_on", "issued_at",
)  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华"


# --- the data: passed cases and their certificates -------------------------------------------


def _certificates(count: int, now_: datetime) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Rows of cases and certificates, and the (number, code) pairs to verify."""
    rng = random.Random(1)
    cases, certificates, pairs = [], [], []
    issued_on = now_.date()
    for serial in range(1, count + 1):
        case_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        number = str(CertificateNumber(issued_on.year, 1, serial))
        code = new_verification_code(rng.randrange)
        cases.append(
            (case_id, f"B{serial:09d}", uuid.uuid4(), uuid.uuid4(), name, str(issued_on.year),
             "ptsb", "gc-fg", COMMITTEE, "dept-gcslh", False, "closed", "passed",
             "日常工作部门已确认-->业务办结", now_, now_, True)
        )  # fmt: skip
        certificates.append(
            (uuid.uuid4(), number, case_id, COMMITTEE, issued_on.year, serial, code, name,
             f"44030519800101{serial % 10000:04d}", "高级工程师", "工程", "副高",
             "深圳市轻工专业高级专业技术资格评审委员会", "深圳市工程师联合会",
             issued_on - timedelta(days=30), issued_on, now_)
        )  # fmt: skip
        pairs.append((number, code))
    return cases, certificates, pairs


async def load(database_url: str, count: int) -> list[tuple[str, str]]:
    applied = await reset_schemas(database_url)
    say(f"  schemas dropped; {len(applied)} migrations applied")
    cases, certificates, pairs = _certificates(count, datetime.now(UTC))
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    try:
        await seed_reference(conn, demo_reference())
        await conn.execute(
            "INSERT INTO certificate_committees (committee_id, code) VALUES ($1, 1)", COMMITTEE
        )
        await conn.copy_records_to_table("cases", columns=CASE_COLUMNS, records=cases)
        await conn.copy_records_to_table(
            "certificates", columns=CERTIFICATE_COLUMNS, records=certificates
        )
        await seal_written(conn, "cases")  # as the cases service keeps them
        for table in ("cases", "certificates"):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()
    say(f"  loaded {count:,} passed cases with their certificates")
    return pairs


# --- measuring -------------------------------------------------------------------------------


async def measure(
    pairs: list, call, meter: CpuMeter, requests: int, in_flight: int = IN_FLIGHT
) -> dict:
    """`call(number, code)` for `requests` random certificates, `in_flight` at a time."""
    rng = random.Random(2)
    warmup = [rng.choice(pairs) for _ in range(min(WARMUP, requests))]
    items = [rng.choice(pairs) for _ in range(requests)]

    async def one(pair):
        await call(*pair)

    await run_calls(warmup, one, in_flight)
    await meter.start()
    latencies, elapsed = await run_calls(items, one, in_flight)
    return {
        "p50_ms": in_ms(percentile(latencies, 0.50)),
        "p99_ms": in_ms(percentile(latencies, 0.99)),
        "max_ms": in_ms(max(latencies)),
        "requests": len(items),
        "in_flight": in_flight,
        "requests_per_s": round(len(items) / elapsed, 1),
        **(await meter.figures(len(items), "request")),
    }


class Through:
    """Verification requests through the gateway, as an employer's system or a phone sends
    them: no session, no cookie."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.errors = Errors()

    async def start(self) -> None:
        # the lean client (bench/_http.py): aiohttp's cost ~250 us of the shared cores a request
        self.http = Connections(self.url, {})

    async def close(self) -> None:
        await self.http.close()

    async def api(self, number: str, code: str) -> None:
        query = urlencode({"no": number, "code": code})
        status, body = await self.http.exchange("GET", f"/api/verify?{query}")
        if status != 200 or json.loads(body)["certificate_no"] != number:
            self.errors.add(f"/api/verify {number}: {status} {body[:200]!r}")

    async def page(self, number: str, code: str) -> None:
        query = urlencode({"no": number, "code": code})
        status, body = await self.http.exchange("GET", f"/verify?{query}")
        if status != 200 or b'id="cert-status"' not in body:
            self.errors.add(f"/verify {number}: {status} {body[:200]!r}")


class Bare:
    """The cases service's statements for one verification, on a pool made as its own."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.errors = Errors()
        self.limits = RateLimiter(RateLimitSettings(rate_limits=LIFTED))  # as the processes

    async def lookup(self, number: str, code: str) -> None:
        row = await self.pool.fetchrow(
            f"SELECT {COLUMNS} FROM certificates x WHERE x.certificate_no = $1", number
        )
        if row is None or row["verification_code"] != code:
            self.errors.add(f"bare lookup {number}: {row}")

    async def statements(self, number: str, code: str) -> None:
        at = datetime.now(UTC)
        counting = self.limits.counting("verify", "127.0.0.2", at, first=9)
        row = await self.pool.fetchrow(
            verify_statement(counting), number, code, at, "127.0.0.2", "api", None, None, None,
            *counting.params,
        )  # fmt: skip
        counting.check(row)


# --- the run ---------------------------------------------------------------------------------


def bench_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("ZC_DATABASE_URL", DEFAULT_DATABASE),
        broker_prefix=f"{os.environ.get('ZC_BROKER_PREFIX', 'zcbench')}-{secrets.token_hex(3)}",
        log_level=os.environ.get("ZC_BENCH_LOG_LEVEL", "WARNING"),
    )


async def run(settings: Settings, port: int, certificates: int, requests: int) -> dict:
    say(f"loading {certificates:,} certificates ...")
    pairs = await load(settings.database_url, certificates)
    monitor = await asyncpg.connect(settings.database_url)
    bare_pool = await create_pool(settings.database_url, "cases")
    log_dir = ROOT / os.environ.get("ZC_VAR_DIR", "var/bench") / "verify"
    system = System(settings, port, log_dir)
    system.processes.env["ZC_RATE_LIMITS"] = json.dumps(LIFTED)
    through = Through(system.url)
    bench_pid = {"bench": [os.getpid()]}
    broker = {"broker": broker_pids(settings.amqp_url)}
    figures: dict = {"certificates": certificates}
    try:
        bare = Bare(bare_pool)
        bare_meter = CpuMeter({**bench_pid}, monitor)
        say(f"bare SQL, {IN_FLIGHT} in flight ...")
        figures["bare_lookup"] = await measure(pairs, bare.lookup, bare_meter, requests)
        say_phase("bare_lookup", figures["bare_lookup"])
        figures["bare_statements"] = await measure(pairs, bare.statements, bare_meter, requests)
        say_phase("bare_statements", figures["bare_statements"])

        say(f"starting accounts, cases, documents, notify, gateway (port {port}) ...")
        started = now()
        await system.start()
        figures["startup_seconds"] = round(now() - started, 1)
        await through.start()
        meter = CpuMeter({**bench_pid, **system.pids(), **broker}, monitor)
        say(f"through the gateway, {IN_FLIGHT} in flight ...")
        figures["ours_api"] = await measure(pairs, through.api, meter, requests)
        say_phase("ours_api", figures["ours_api"])
        figures["ours_page"] = await measure(pairs, through.page, meter, requests)
        say_phase("ours_page", figures["ours_page"])
        say("through the gateway, one at a time (no queueing: the cost of one request) ...")
        alone = await measure(pairs, through.api, meter, ONE_AT_A_TIME, 1)
        figures["ours_api_one_at_a_time"] = alone
        say_phase("ours_api_1", alone)
        figures["queries_recorded"] = await monitor.fetchval(
            "SELECT count(*) FROM cases.certificate_queries WHERE client_ip = '127.0.0.1'"
        )
    finally:
        await through.close()
        await system.stop()
        await bare_pool.close()
        await monitor.close()
        await delete_broker_objects(settings)
    figures["errors"] = {
        "ours": through.errors.count, "ours_first": through.errors.first,
        "bare": bare.errors.count, "bare_first": bare.errors.first,
    }  # fmt: skip
    figures["ours_api_p99_over_bare_lookup"] = round(
        figures["ours_api"]["p99_ms"] / figures["bare_lookup"]["p99_ms"], 1
    )
    return figures


def say_phase(name: str, f: dict) -> None:
    say(f"  {name:<16} p50 {f['p50_ms']:7.2f} ms  p99 {f['p99_ms']:7.2f} ms"
        f"  {f['requests_per_s']:8.1f} req/s   [{cpu_line(f)}]")  # fmt: skip


def judge(f: dict) -> dict:
    clean = f["errors"]["ours"] == 0 and f["errors"]["bare"] == 0
    return {"verify_p99_under_100ms": clean and f["ours_api"]["p99_ms"] < P99_TARGET_MS}


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    # On SIGTERM (a `timeout`, say) unwind through the clean-up instead of dying in place.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    settings = bench_settings()
    check_bench_database(settings.database_url)
    port = free_port(int(os.environ.get("ZC_GATEWAY_PORT", DEFAULT_GATEWAY_PORT)))
    load_before = os.getloadavg()[0]
    busy = await machine_busy_pct(2.0)
    say(f"broker prefix {settings.broker_prefix}, database {settings.database_url}")
    say(f"before the run: load average {load_before:.2f}, machine {busy}% busy on"
        f" {os.cpu_count()} cores")  # fmt: skip
    if busy > 25:
        say("  something else is running: latencies will be high; CPU per request holds")
    started = now()
    figures = await run(settings, port, args.certificates, args.requests)
    targets = judge(figures)
    e = figures["errors"]
    say(
        f"errors: ours {e['ours']}, bare {e['bare']}"
        + (f"; first: {e['ours_first'] or e['bare_first']}" if e["ours"] or e["bare"] else "")
    )
    api = figures["ours_api"]
    say(f"{'PASS' if targets['verify_p99_under_100ms'] else 'FAIL'}: /api/verify p99 <"
        f" {P99_TARGET_MS:g} ms at {IN_FLIGHT} in flight ({api['p99_ms']:.1f} ms; bare lookup"
        f" {figures['bare_lookup']['p99_ms']:.1f} ms)")  # fmt: skip
    head = {
        "prefix": settings.broker_prefix, "database": settings.database_url,
        "cores": os.cpu_count(), "load_before": load_before, "machine_cpu_pct_before": busy,
        "load_after": os.getloadavg()[0], "gateway_port": port, "rate_limits": LIFTED,
    }  # fmt: skip
    figures["seconds_total"] = round(now() - started, 1)
    say(f"whole run {figures['seconds_total']:.0f} s")
    print(json.dumps({**head, **figures, "targets": targets}, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--certificates", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=3_000)
    try:
        uvloop.run(main(parser.parse_args()))  # the load costs the shared cores less
    except asyncio.CancelledError:
        sys.exit("stopped by SIGTERM; the processes were stopped and the broker objects removed")

"""Reports (issue 16) through the real processes, beside the bare SQL of the same work.

    python -m bench.reports [--cases 100000] [--units 200]

`bench_statistics`: 100,000 cases with whole histories (bench/_statistics_data.py, COPY),
the four services and the gateway as the processes they are in production, and the 统计查询
page (GET /statistics, HTML with its charts) asked by the sysadmin, the office, a department
and a committee with and without filters; beside it, asyncpg in this process runs the
statements the cases service runs for the same page (the reference names, the cells, the
returning units' names). The last line printed is one JSON object with every figure.
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import signal
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import aiohttp
import asyncpg

from bench._statistics_data import load
from bench._workflow_data import approval_inputs, check_bench_database
from bench.workflow import (
    ROOT,
    CpuMeter,
    Errors,
    System,
    bench_settings,
    broker_pids,
    cases_to_approve,
    delete_broker_objects,
    free_port,
    machine_busy_pct,
    measure,
    now,
    say,
)
from services.cases import statistics_store
from services.cases.handlers.statistics import REFERENCE
from services.cases.handlers.workflow import Permit, move_as
from services.cases.repository import MovedCase
from services.cases.statistics_views import SPAN, cells_query
from shared.contracts.cases.statistics import StatisticsQuery
from shared.db import create_pool
from shared.rpc import Actor

STATISTICS_WARMUP, STATISTICS_REQUESTS = 40, 600
STATISTICS_P99_LIMIT_MS = 200.0
MOVE_BATCHES, MOVE_SINGLES = 30, 300  # approvals: what keeping the sums costs a move
DEFAULT_GATEWAY_PORT = 0  # any free port: other benches and `make up` keep theirs


@dataclass(frozen=True)
class Reader:
    """A reviewer with a session, as the gateway knows them, and the actor the service sees."""

    role: str
    org_id: str | None
    token: str
    user_id: uuid.UUID

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, role=self.role, org_id=self.org_id)


READERS = (
    ("sysadmin", None, "系统管理员"),
    ("office", "office-zjc", "专技处"),
    ("department", "dept-gcslh", "深圳市工程师联合会"),
    ("committee", "cmte-qg-gj", "深圳市轻工专业高级专业技术资格评审委员会"),
)


async def reader_sessions(conn: asyncpg.Connection) -> dict[str, Reader]:
    """A signed-in reviewer of each role, written straight into accounts."""
    at = datetime.now(UTC)
    readers = {}
    for role, org_id, org_name in READERS:
        user_id, token = uuid.uuid4(), secrets.token_urlsafe(32)
        await conn.execute(
            "INSERT INTO accounts.users (id, username, password_hash, role, org_id, org_name,"
            " name) VALUES ($1, $2, '!', $3, $4, $5, $6)",
            user_id, f"bench_{role}", role, org_id, org_name if org_id else None, org_name,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO accounts.sessions (token_hash, user_id, csrf_token, created_at,"
            " last_seen_at, expires_at, client_ip, user_agent)"
            " VALUES ($1, $2, $3, $4, $4, $5, '127.0.0.1', 'bench.reports')",
            hashlib.sha256(token.encode()).digest(), user_id, secrets.token_urlsafe(24), at,
            at + timedelta(hours=12),
        )  # fmt: skip
        readers[role] = Reader(role, org_id, token, user_id)
    return readers


def asked(today: date) -> list[tuple[str, dict]]:
    """(role, filters) of the pages asked, in turn: each role's page as it opens, then
    filtered by round, by the last 30 days, by the whole year (the daily table, all of it),
    by a department or a committee."""
    year = {"date_from": f"{today.year}-01-01", "date_to": today.isoformat()}
    month = {"date_from": (today - timedelta(days=30)).isoformat()}
    return [
        ("sysadmin", {}),
        ("sysadmin", {"round_id": str(today.year)}),
        ("sysadmin", month),
        ("sysadmin", year),
        ("sysadmin", {"department_id": "dept-jyj"}),
        ("office", {}),
        ("department", {}),
        ("department", {**month, "committee_id": "cmte-qg-gj"}),
        ("committee", {}),
        ("committee", year),
    ]


class Pages:
    def __init__(self, url: str) -> None:
        self.url = url
        self.errors = Errors()

    async def start(self) -> None:
        self.http = aiohttp.ClientSession(
            self.url, cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=60)
        )

    async def close(self) -> None:
        await self.http.close()

    async def get(self, reader: Reader, filters: dict) -> str:
        path = "/statistics" + (f"?{urlencode(filters)}" if filters else "")
        async with self.http.get(path, headers={"Cookie": f"zc_session={reader.token}"}) as r:
            body = await r.text()
            if r.status != 200 or "<svg" not in body:
                self.errors.add(f"GET {path}: {r.status} {body[:200]}")
            return body


class BareStatistics:
    """What the cases service runs for one page: the reference names, the span of the daily
    table (when dates are asked), the cells, and what accounts runs for the names of the
    units with the most returns."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.errors = Errors()

    async def get(self, reader: Reader, filters: dict) -> None:
        params = StatisticsQuery.model_validate(filters)
        async with self.pool.acquire() as conn:
            await conn.fetch(REFERENCE)
            span = await conn.fetchrow(SPAN) if params.date_from or params.date_to else None
            sql, args = cells_query(params, reader.actor, tuple(span) if span else None)
            rows = await conn.fetch(sql, *args)
            units = [uuid.UUID(r["key"]) for r in rows if r["figure"] == "return"][:10]
            await conn.fetch("SELECT id, name FROM accounts.units WHERE id = ANY($1)", units)
        if not rows:
            self.errors.add(f"no cells for {reader.role} {filters}")


async def statistics_phase(name: str, get, readers: dict, meter: CpuMeter, today: date) -> dict:
    pages = asked(today)
    items = [pages[i % len(pages)] for i in range(STATISTICS_REQUESTS)]
    warmup = [pages[i % len(pages)] for i in range(STATISTICS_WARMUP)]
    by_page: dict[int, list[float]] = {}

    async def call(item):
        started = now()
        await get(readers[item[0]], item[1])
        by_page.setdefault(pages.index(item), []).append(now() - started)

    figures = await measure(items, warmup, call, meter)
    figures["pages"] = [
        {"role": role, "filters": filters, "p50_ms": _ms(sorted(t)[len(t) // 2]),
         "max_ms": _ms(max(t))}
        for i, (role, filters) in enumerate(pages)
        if (t := by_page[i][STATISTICS_WARMUP // len(pages):])
    ]  # fmt: skip
    say(f"  {name:<4} statistics p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms")
    return figures


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# --- what keeping the sums costs a move ---


class Timed:
    """statistics_store.record_moves as repository.save calls it, timed: the module's own
    function is called, the time spent in it added up."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.originals = {"record_moves": statistics_store.record_moves}

    def __enter__(self) -> "Timed":
        for name, original in self.originals.items():
            setattr(statistics_store, name, self._timed(original))
        return self

    def __exit__(self, *_exc) -> None:
        for name, original in self.originals.items():
            setattr(statistics_store, name, original)

    def _timed(self, original):
        async def timed(*args):
            started = now()
            try:
                return await original(*args)
            finally:
                self.seconds += now() - started

        return timed


async def moves_phase(pool, monitor, operators) -> dict:
    """Approvals as the workflow makes them (`workflow.move_as`: load, act, save, in one
    transaction, rolled back so each case serves again), one at a time and in batches of
    100: the time of the transaction, and the part of it the statistics' statements take."""
    shares = (await cases_to_approve(monitor, operators))["ours"]
    inputs = approval_inputs(datetime.now(UTC).date())
    found = {}
    for kind, items in (
        ("single", [(op, [case]) for op, case in shares["singles"][:MOVE_SINGLES]]),
        ("batch_of_100", shares["batches"][:MOVE_BATCHES]),
    ):
        total, moved = 0.0, 0
        with Timed() as timed:
            for op, cases in items:
                actor = Actor(user_id=op.user_id, role="unit_operator", unit_id=op.unit_id)
                permit = Permit.check(actor, "approve")
                async with pool.acquire() as conn:
                    transaction = conn.transaction()
                    await transaction.start()
                    started = now()
                    outcomes = await move_as(
                        conn, permit, datetime.now(UTC), [c for c, _ in cases], inputs
                    )
                    total += now() - started
                    await transaction.rollback()
                moved += sum(1 for o in outcomes if isinstance(o, MovedCase))
        if moved != sum(len(cases) for _, cases in items):
            raise RuntimeError(f"{kind}: only {moved} cases moved")
        found[kind] = {
            "transactions": len(items),
            "ms_per_transaction": round(1000 * total / len(items), 2),
            "statistics_ms_per_transaction": round(1000 * timed.seconds / len(items), 2),
            "statistics_share": round(timed.seconds / total, 3),
        }
        f = found[kind]
        say(f"  approvals, {kind:<13} {f['ms_per_transaction']:7.2f} ms a transaction, of"
            f" which the statistics {f['statistics_ms_per_transaction']:6.2f} ms")  # fmt: skip
    return found


async def bench_statistics(settings, port: int, cases: int, units: int) -> dict:
    say(f"loading {cases:,} cases in {units} units with their histories ...")
    data = await load(settings.database_url, cases, units, say=say)
    monitor = await asyncpg.connect(settings.database_url)
    figures: dict = {
        "data": {
            "cases": data.generated.cases,
            "history_rows": data.history_rows,
            "cells": await monitor.fetchval("SELECT count(*) FROM cases.case_statistics"),
            "cells_over_all_days": await monitor.fetchval(
                "SELECT count(*) FROM cases.case_statistics_totals"
            ),
            "seconds": {**data.generated.seconds, **data.seconds},
        }
    }
    readers = await reader_sessions(monitor)
    bare_pool = await create_pool(settings.database_url, "cases")
    system = System(settings, port, ROOT / os.environ.get("ZC_VAR_DIR", "var/bench") / "reports")
    pages = Pages(system.url)
    bench_pid, broker = {"bench": [os.getpid()]}, {"broker": broker_pids(settings.amqp_url)}
    today = datetime.now(UTC).date()
    try:
        bare = BareStatistics(bare_pool)
        say("bare SQL: the statistics page's statements ...")
        bare_meter = CpuMeter({**bench_pid, **broker}, monitor)
        figures["bare"] = await statistics_phase("bare", bare.get, readers, bare_meter, today)
        say(f"starting accounts, cases, documents, notify, gateway (port {port}) ...")
        await system.start()
        await asyncio.sleep(1)
        system.processes.check_alive()  # ours answered /readyz, not another's on that port
        await pages.start()
        say("through the gateway: GET /statistics ...")
        ours_meter = CpuMeter({**bench_pid, **system.pids(), **broker}, monitor)
        figures["ours"] = await statistics_phase("ours", pages.get, readers, ours_meter, today)
        await pages.close()
        await system.stop()
        say("approvals by workflow.move_as, rolled back (services stopped) ...")
        figures["moves"] = await moves_phase(bare_pool, monitor, data.generated.operators)
    finally:
        with contextlib.suppress(Exception):
            await pages.close()
        await system.stop()
        await bare_pool.close()
        await monitor.close()
        await delete_broker_objects(settings)
    figures["ours_p50_over_bare"] = round(figures["ours"]["p50_ms"] / figures["bare"]["p50_ms"], 1)
    figures["errors"] = {
        "ours": pages.errors.count, "ours_first": pages.errors.first,
        "bare": bare.errors.count, "bare_first": bare.errors.first,
    }  # fmt: skip
    clean = not pages.errors.count and not bare.errors.count
    figures["targets"] = {
        "statistics_p99_under_200ms": clean and figures["ours"]["p99_ms"] < STATISTICS_P99_LIMIT_MS
    }
    return figures


def print_statistics(f: dict) -> None:
    say("")
    say("统计查询  GET /statistics (the page, its charts drawn), 10 pages in turn:")
    for stack in ("ours", "bare"):
        x = f[stack]
        say(f"  {stack}: p50 {x['p50_ms']:6.2f} ms  p99 {x['p99_ms']:6.2f} ms  "
            f"machine {x['machine_cpu_pct']}%")  # fmt: skip
        for page in x["pages"]:
            say(f"    {page['role']:<10} {json.dumps(page['filters'], ensure_ascii=False):<60}"
                f" p50 {page['p50_ms']:6.2f} ms  max {page['max_ms']:6.2f} ms")  # fmt: skip
    e = f["errors"]
    first = f"; first: {e['ours_first'] or e['bare_first']}" if e["ours"] or e["bare"] else ""
    say(f"errors: ours {e['ours']}, bare {e['bare']}{first}")
    for kind, m in f["moves"].items():
        say(f"approvals ({kind}): {m['ms_per_transaction']:.2f} ms a transaction, the"
            f" statistics {m['statistics_ms_per_transaction']:.2f} ms of it"
            f" ({m['statistics_share']:.0%})")  # fmt: skip
    ok = f["targets"]["statistics_p99_under_200ms"]
    say(f"{'PASS' if ok else 'FAIL'}: statistics p99 < {STATISTICS_P99_LIMIT_MS:g} ms "
        f"({f['ours']['p99_ms']:.1f} ms)")  # fmt: skip


BENCHES = {"statistics": (bench_statistics, print_statistics)}


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    settings = bench_settings()
    check_bench_database(settings.database_url)
    port = free_port(int(os.environ.get("ZC_GATEWAY_PORT", DEFAULT_GATEWAY_PORT)))
    load_before = os.getloadavg()
    busy = await machine_busy_pct(1.0)
    say(f"broker prefix {settings.broker_prefix}, database {settings.database_url}")
    say(f"before the run: load average {' '.join(f'{x:.2f}' for x in load_before)},"
        f" machine {busy}% busy on {os.cpu_count()} cores")  # fmt: skip
    results = {
        "cores": os.cpu_count(), "load_before": load_before, "machine_cpu_pct_before": busy,
    }  # fmt: skip
    unknown = set(args.benches) - set(BENCHES)
    if unknown:
        sys.exit(f"no bench named {', '.join(sorted(unknown))}; there are {', '.join(BENCHES)}")
    for name in args.benches or list(BENCHES):
        run, show = BENCHES[name]
        results[name] = await run(settings, port, args.cases, args.units)
        show(results[name])
    results["load_after"] = os.getloadavg()
    say(f"after the run: load average {' '.join(f'{x:.2f}' for x in results['load_after'])}")
    print(json.dumps(results, ensure_ascii=False, default=str))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("benches", nargs="*", help=f"of {', '.join(BENCHES)}; default: all")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=200)
    try:
        asyncio.run(main(parser.parse_args()))
    except asyncio.CancelledError:
        sys.exit("stopped by SIGTERM; the processes were stopped and the broker objects removed")

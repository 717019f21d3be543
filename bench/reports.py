"""Reports (issue 16) through the real processes, beside the bare SQL of the same work.

    python -m bench.reports [--cases 100000] [--units 200]

`bench_statistics`: 100,000 cases with whole histories (bench/_statistics_data.py, COPY),
the four services and the gateway as the processes they are in production, and the 统计查询
page (GET /statistics, HTML with its charts) asked by the sysadmin, the office, a department
and a committee with and without filters; beside it, asyncpg in this process runs the
statements the cases service runs for the same page (the reference names, the cells, the
returning units' names).

`bench_export`: 导出Excel of a 100,000-row work list through the gateway (POST
/api/exports, the job followed to its end, the file downloaded), beside the bare
`COPY (the same query) TO STDOUT` of the same rows (run once right before each timed export:
this VM's speed drifts within minutes) and the writer alone on the rows in memory,
and the peak memory and CPU of the processes that build the file (the cases service and its
sheet-writing worker) for a 10,000-row and the 100,000-row export: flat memory means the two
peaks are alike. Its data is its own (two units' lists, loaded with COPY).

The last line printed is one JSON object with every figure.
"""

import argparse
import asyncio
import contextlib
import hashlib
import io
import json
import logging
import os
import random
import secrets
import signal
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import aiohttp
import asyncpg
import openpyxl

from bench._statistics_data import load
from bench._workflow_data import (
    CASE_COLUMNS,
    CaseFactory,
    Operator,
    approval_inputs,
    check_bench_database,
    load_accounts,
    reset_schemas,
)
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
from services.cases.deadline_views import Deadlines, deadlines_today
from services.cases.deps import CasesDeps
from services.cases.domain.model import CaseState
from services.cases.handlers.exports import work_source_on
from services.cases.handlers.queries import JOINS, work_list_query
from services.cases.handlers.statistics import REFERENCE
from services.cases.handlers.workflow import Permit, move_as
from services.cases.reference_seed import seed_reference
from services.cases.repository import MovedCase
from services.cases.sealed import CASE_ID_NUMBER, seal
from services.cases.statistics_views import SPAN, cells_query
from shared.contracts.cases.rpc import ListedCases
from shared.contracts.cases.statistics import StatisticsQuery
from shared.db import create_pool
from shared.export_render import Sealed, block_rows, open_columns, sealed_tokens, split_block
from shared.exports import BLOCK_BYTES, Lookup
from shared.rpc import Actor, CallContext
from shared.settings import Settings
from shared.xlsx import SheetFile
from tools.demo_data import demo_reference

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
    """statistics_store.move_changes as repository.save calls it, timed: the module's own
    function is called, the time spent in it added up. (What the statistics read and write
    rides on the move's load and save, HISTORY_JSON and SAVE_MOVES: no statement of theirs.)"""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.original = statistics_store.move_changes

    def __enter__(self) -> "Timed":
        statistics_store.move_changes = self._timed
        return self

    def __exit__(self, *_exc) -> None:
        statistics_store.move_changes = self.original

    def _timed(self, *args):
        started = now()
        try:
            return self.original(*args)
        finally:
            self.seconds += now() - started


async def moves_phase(pool, monitor, operators) -> dict:
    """Approvals as the workflow makes them (`workflow.move_as`: load, act, save, in one
    transaction, rolled back so each case serves again), one at a time and in batches of
    100: the time of the transaction, and the part of it the statistics' Python takes."""
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


# --- 导出Excel: bench_export ---------------------------------------------------------

EXPORT_ROWS = 100_000  # the list exported
SMALL_ROWS = 10_000  # a second unit's list: the memory of a tenth of the rows
LIST = "unit:3"  # 材料审核: every loaded case waits there
EXPORT_TARGET = 3.0  # the export within this many times the bare COPY
COPY_RUNS = 3
SETTLE_SECONDS = 2.0  # between one export's end and the next bare COPY
EXPORT_RUNS = 5  # the 100,000-row export through the gateway, each timed; the median reported
SAMPLE_SECONDS = 0.02  # how often the builder's memory is read
PROBE_SECONDS = 0.1  # how often the cases service is asked something while it exports
JOB_WAIT = 600.0


# --- data ---


async def load_export_data(database_url: str, sizes=(EXPORT_ROWS, SMALL_ROWS)) -> list[Operator]:
    """Empty schemas, the reference data, a unit (and its operator, signed in) per size with
    that many cases waiting at its 材料审核, each with a sealed ID number and mobile."""
    await reset_schemas(database_url)
    rng = random.Random(1)
    unit_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in sizes]
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    try:
        await seed_reference(conn, demo_reference())
        operators = await load_accounts(conn, unit_ids, datetime.now(UTC))
        factory = CaseFactory(rng, datetime.now(UTC), str(date.today().year))
        for unit_id, size in zip(unit_ids, sizes, strict=True):
            rows = [
                (*factory.case(unit_id, CaseState.UNIT_REVIEW), _id_number(rng))
                for _ in range(size)
            ]
            await conn.copy_records_to_table(
                "cases", columns=[*CASE_COLUMNS, "applicant_id_number"], records=rows
            )
        await conn.execute("VACUUM ANALYZE cases.cases")
    finally:
        await conn.close()
    return operators


def _id_number(rng: random.Random) -> str:
    born = f"19{rng.randrange(60, 99)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    return seal(f"440305{born}{rng.randrange(1000):03d}{rng.choice('0123456789X')}", CASE_ID_NUMBER)


# --- bare SQL ---


async def today_limits(conn) -> Deadlines:
    """Today's step limits, as the cases service reads them for a list."""
    return await deadlines_today(conn, CasesDeps())


# The export's columns as the tables hold them, plainly: what COPY sends of the same rows.
# (The export asks PostgreSQL to make most of them into the sheet's XML as it reads them,
# which costs the database more than this: that is on ours, not on the bare side.)
BARE_COLUMNS = (
    "c.case_no, c.applicant_name, c.applicant_id_number, c.applicant_mobile, c.unit_id,"
    " t.name AS review_type_name, q.name AS qualification_name, c.status_label, c.state,"
    " c.pre_publicity, c.post_publicity, c.last_reason, d.name AS department_name,"
    " m.name AS committee_name, r.name AS round_name, c.state_since, c.created_at,"
    " c.updated_at"
)


def export_query(op: Operator, deadlines: Deadlines) -> tuple[str, list]:
    """The rows of the operator's export (its WHERE and ORDER BY), their columns plain."""
    actor = Actor(role="unit_operator", user_id=op.user_id, unit_id=op.unit_id)
    query = work_list_query(ListedCases(list=LIST), actor, deadlines)
    sql = (
        f"SELECT {BARE_COLUMNS} FROM {query.source}{JOINS}"
        f" WHERE {query.clause} ORDER BY {query.order}"
    )
    return sql, query.args


async def bare_copy(database_url: str, op: Operator) -> dict:
    """COPY (the export's query) TO STDOUT, to this process: best and median of a few runs."""
    async with BareCopy(database_url, op) as copy:
        runs = [await copy.once() for _ in range(COPY_RUNS)]
    seconds = sorted(r["seconds"] for r in runs)
    cpu = sorted(r["postgres_cpu_seconds"] for r in runs)
    return {"seconds_best": round(seconds[0], 3), "seconds_median": round(seconds[1], 3),
            "bytes": runs[-1]["bytes"], "postgres_cpu_seconds": round(cpu[1], 2)}  # fmt: skip


class BareCopy:
    """COPY (the export's query) TO STDOUT to this process, one run at a time: before the
    system starts (`bare_copy`), and once right before each timed export, so that each
    export has its bare limit measured at the same moment of this VM's drifting speed."""

    def __init__(self, database_url: str, op: Operator) -> None:
        self.database_url, self.op = database_url, op

    async def __aenter__(self) -> "BareCopy":
        self.conn = await asyncpg.connect(
            self.database_url, server_settings={"search_path": "cases"}
        )
        self.sql, self.args = export_query(self.op, await today_limits(self.conn))
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.conn.close()

    async def once(self) -> dict:
        received = 0

        async def sink(chunk: bytes) -> None:
            nonlocal received
            received += len(chunk)

        started, before = now(), servers_cpu()
        await self.conn.copy_from_query(self.sql, *self.args, output=sink)
        seconds = now() - started
        cpu = servers_cpu()["postgres"] - before["postgres"]
        return {"seconds": seconds, "bytes": received, "postgres_cpu_seconds": cpu}


class UnitNamesFromTable:
    """What accounts answers to units.names, read from its table by the bench (the writer
    alone runs without the services)."""

    def __init__(self, conn) -> None:
        self.conn = conn

    async def invoke(self, _method, params: dict) -> dict:
        rows = await self.conn.fetch(
            "SELECT id::text, name FROM accounts.units WHERE id = ANY($1::uuid[])",
            params["unit_ids"],
        )
        return {"names": {row["id"]: row["name"] for row in rows}}


async def writer_alone(database_url: str, op: Operator) -> dict:
    """The export's own making of the file from the same rows, their COPY lines already in
    this process's memory, one after the other on one core: render (each block's lines
    split, their sealed numbers opened, made into rows: the export does it in its worker
    process) and deflate into the zip. The export overlaps these with the reading, over two
    processes, and sends the file on."""
    actor = Actor(role="unit_operator", user_id=op.user_id, unit_id=op.unit_id)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    lines = bytearray()

    async def received(data: bytes) -> None:
        lines.extend(data)

    try:
        deps = CasesDeps(peers=UnitNamesFromTable(conn))
        context = CallContext("cases", conn, actor, None, deps)  # the connection as its pool
        source = work_source_on(ListedCases(list=LIST), context, await today_limits(conn))
        await conn.copy_from_query(source.sql, *source.args, output=received, null="")
        text = bytes(lines)
        blocks, start = [], 0
        while start < len(text):  # whole lines of about the export's block each
            end = text.find(b"\n", start + BLOCK_BYTES)
            end = len(text) - 1 if end < 0 else end
            blocks.append(text[start:end])
            start = end + 1
        width = len(source.fields)
        # the keys' cells, made before the clock starts (the export makes them at its first
        # block, while the database goes on)
        looked_up = {}
        for index, lookup in source.fields_of(Lookup).items():
            keys = {f for b in blocks for f in split_block(b, width)[index::width]} - {b""}
            made = await lookup.cells_of([key.decode() for key in keys])
            cells = {key: made.get(key.decode(), lookup.empty) for key in keys}
            looked_up[index] = {b"": lookup.empty, **cells}
    finally:
        await conn.close()
    plain, sealed = source.fields_of(str), source.fields_of(Sealed)
    with tempfile.TemporaryDirectory(prefix="zc-bench-") as tmpdir:
        sheet = SheetFile(os.path.join(tmpdir, "x.xlsx"), source.title, source.columns)
        started = now()
        chunks = []
        for block in blocks:
            fields = split_block(block, width)
            opened = open_columns(sealed_tokens(fields, width, sealed), sealed)
            chunks.append(block_rows(fields, width, plain, looked_up, opened))
        rendered = now()
        for chunk in chunks:
            sheet.write_xml(chunk, 0)
        sheet.close()
        total = now() - started
    rows = text.count(b"\n")
    return {"seconds": round(total, 3), "seconds_render": round(rendered - started, 3),
            "seconds_deflate": round(total - (rendered - started), 3),
            "us_per_cell": round(1e6 * total / (rows * len(source.columns)), 2),
            "rows": rows}  # fmt: skip


# --- through the gateway ---


class ProcessWatch:
    """The resident memory of some processes, read from /proc every SAMPLE_SECONDS while an
    export runs (its peak, and how far above its start it went), and the CPU each spent: on a
    machine other work shares, CPU seconds say what the export cost better than the clock."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start = {name: rss_kb(pid) for name, pid in pids.items()}
        self.peak = dict(self.start)
        self.cpu_start = {name: cpu_seconds(pid) for name, pid in pids.items()}
        self.servers_start = servers_cpu()
        self.cpu: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "ProcessWatch":
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *_) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._read()
        self.cpu = {n: cpu_seconds(p) - self.cpu_start[n] for n, p in self.pids.items()}
        self.cpu |= {n: c - self.servers_start[n] for n, c in servers_cpu().items()}

    async def _sample(self) -> None:
        while True:
            self._read()
            await asyncio.sleep(SAMPLE_SECONDS)

    def _read(self) -> None:
        for name, pid in self.pids.items():
            self.peak[name] = max(self.peak[name], rss_kb(pid))

    def figures(self) -> dict:
        return {
            name: {"rss_start_mb": mb(self.start[name]), "rss_peak_mb": mb(self.peak[name]),
                   "rss_rise_mb": mb(self.peak[name] - self.start[name]),
                   "cpu_seconds": round(self.cpu.get(name, 0.0), 2)}
            for name in self.pids
        } | {name: {"cpu_seconds": round(self.cpu[name], 2)} for name in SERVERS}  # fmt: skip


def export_worker(pid: int) -> int | None:
    """The worker process the cases process opens an export's sealed numbers in
    (shared/exports.py, started by the first export)."""
    with open(f"/proc/{pid}/task/{pid}/children") as found:
        children = [int(c) for c in found.read().split()]
    for child in children:
        with open(f"/proc/{child}/cmdline", "rb") as cmdline:
            if b"spawn_main" in cmdline.read():
                return child
    return None


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process so far (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SERVERS = {"postgres": "postgres", "rabbitmq": "beam.smp"}  # by the command's name


def servers_cpu() -> dict[str, float]:
    """CPU so far of every PostgreSQL process (with the parallel workers and backends that
    ended, in the postmaster's children's time) and of RabbitMQ."""
    ticks = dict.fromkeys(SERVERS, 0)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                head, rest = stat.read().rsplit(")", 1)
        except OSError:  # gone meanwhile
            continue
        command, fields = head.split("(", 1)[1], rest.split()
        for server, name in SERVERS.items():
            if command == name:
                ticks[server] += sum(int(f) for f in fields[11:15])
    return {server: n / os.sysconf("SC_CLK_TCK") for server, n in ticks.items()}


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def mb(kb: int) -> float:
    return round(kb / 1024, 1)


async def export_through_gateway(http: aiohttp.ClientSession, op: Operator) -> dict:
    """POST the export, follow the job, download the file: seconds for each part."""
    headers = {"Cookie": f"zc_session={op.token}", "X-CSRF-Token": op.csrf}
    body = {"list": "work", "filters": {"list": LIST}}
    started = now()
    async with http.post("/api/exports", json=body, headers=headers) as r:
        job = await r.json()
        if r.status != 202:
            raise RuntimeError(f"POST /api/exports: {r.status} {job}")
    while job["status"] in ("queued", "running"):
        await asyncio.sleep(0.05)
        async with http.get(f"/api/exports/{job['job_id']}", headers=headers) as r:
            job = await r.json()
        if now() - started > JOB_WAIT:
            raise RuntimeError(f"export not done in {JOB_WAIT:.0f} s: {job}")
    built = now() - started
    if job["status"] != "done":
        raise RuntimeError(f"export {job['status']}: {job['error']}")
    async with http.get(f"/api/exports/{job['job_id']}/file", headers=headers) as r:
        content = await r.read()
    return {"seconds": round(now() - started, 3), "seconds_to_built": round(built, 3),
            "rows": job["done"], "bytes": len(content), "content": content}  # fmt: skip


class Latency:
    """GET /api/cases/home (a question the cases process answers) every PROBE_SECONDS while an
    export runs: whether building the file holds the service up."""

    def __init__(self, http: aiohttp.ClientSession, op: Operator) -> None:
        self.http, self.op = http, op
        self.ms: list[float] = []
        self._task: asyncio.Task | None = None

    async def probe(self) -> None:
        started = now()
        headers = {"Cookie": f"zc_session={self.op.token}"}
        async with self.http.get("/api/cases/home", headers=headers) as r:
            await r.read()
            if r.status != 200:
                raise RuntimeError(f"GET /api/cases/home: {r.status}")
        self.ms.append(1000 * (now() - started))

    async def __aenter__(self) -> "Latency":
        async def probing() -> None:
            while True:
                await self.probe()
                await asyncio.sleep(PROBE_SECONDS)

        self._task = asyncio.create_task(probing())
        return self

    async def __aexit__(self, *_) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def figures(self) -> dict:
        ordered = sorted(self.ms)
        return {"probes": len(ordered), "p50_ms": round(ordered[len(ordered) // 2], 1),
                "max_ms": round(ordered[-1], 1)}  # fmt: skip


def rows_in(content: bytes) -> int:
    """The data rows of the file, read one by one as openpyxl reads them, the header left out
    (the file states no dimension: it is written before its rows are known)."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return sum(1 for _ in book.worksheets[0].iter_rows(min_row=2, values_only=True))


async def bench_export(settings: Settings, port: int, cases: int, units: int) -> dict:
    """导出Excel; its data is its own (`cases` and `units` are the statistics' data)."""
    say(f"loading {EXPORT_ROWS:,} + {SMALL_ROWS:,} cases with COPY ...")
    started = now()
    big, small = await load_export_data(settings.database_url)
    figures: dict = {"load_seconds": round(now() - started, 1)}

    say("bare SQL: COPY (the export's query) TO STDOUT ...")
    figures["bare_copy"] = await bare_copy(settings.database_url, big)
    say("the writer alone: the same rows converted and written from memory ...")
    figures["writer_alone"] = await writer_alone(settings.database_url, big)

    system = System(settings, port, ROOT / os.environ.get("ZC_VAR_DIR", "var/bench") / "reports")
    try:
        say(f"starting accounts, cases, documents, notify, gateway (port {port}) ...")
        await system.start()
        pids = {n: system.processes.pids()[n] for n in ("cases", "documents", "gateway")}
        timeout = aiohttp.ClientTimeout(total=JOB_WAIT)
        paired = BareCopy(settings.database_url, big)
        async with aiohttp.ClientSession(system.url, timeout=timeout) as http, paired:
            exports = [(f"export_{n}", big, EXPORT_ROWS) for n in range(1, EXPORT_RUNS + 1)]
            # the timed exports run alone, as the bare COPY does; one more asks the home
            # page meanwhile (PROBE_SECONDS), to show the service answering while it exports
            for name, op, rows in (("warm_up", small, SMALL_ROWS), ("small", small, SMALL_ROWS),
                                   *exports, ("probed", big, EXPORT_ROWS)):  # fmt: skip
                say(f"through the gateway: export of {rows:,} rows ({name}) ...")
                worker = export_worker(pids["cases"])  # started by the first export
                watched = pids | ({"cases_worker": worker} if worker else {})
                probed = name == "probed"
                idle = Latency(http, small)
                for _ in range(20 if probed else 0):
                    await idle.probe()
                busy = Latency(http, small) if probed else contextlib.nullcontext()
                bare = None
                if name.startswith("export_"):
                    await asyncio.sleep(SETTLE_SECONDS)  # the last export's writes flushed
                    bare = await paired.once()
                async with ProcessWatch(watched) as memory, busy:
                    run = await export_through_gateway(http, op)
                if bare is not None:
                    run["bare_copy_seconds"] = round(bare["seconds"], 3)
                if probed:
                    run["home_latency"] = {"idle": idle.figures(), "exporting": busy.figures()}
                found = rows_in(run.pop("content"))
                if found != rows or run["rows"] != rows:
                    raise RuntimeError(f"{name}: {found} rows in the file, {rows} expected")
                figures[name] = {**run, "memory": memory.figures()}
    finally:
        await system.stop()
        await delete_broker_objects(settings)
    runs = sorted((figures.pop(name) for name, _, _ in exports), key=lambda r: r["seconds"])
    figures["export"] = runs[len(runs) // 2]
    figures["export_runs"] = [
        {"seconds": r["seconds"], "bare_copy_seconds": r["bare_copy_seconds"],
         "cpu_seconds": round(sum(m["cpu_seconds"] for m in r["memory"].values()), 2)}
        for r in runs
    ]  # fmt: skip
    beside = sorted(r["bare_copy_seconds"] for r in runs)
    figures["bare_copy"]["seconds_beside_exports"] = beside
    # the exports' median over the median of the COPYs run one right before each of them
    figures["export_over_copy"] = round(figures["export"]["seconds"] / beside[len(beside) // 2], 2)
    figures["export_over_copy_at_start"] = round(
        figures["export"]["seconds"] / figures["bare_copy"]["seconds_median"], 2
    )
    figures["export_over_writer"] = round(
        figures["export"]["seconds"] / figures["writer_alone"]["seconds"], 2
    )
    return figures


def print_export(f: dict) -> None:
    copy, export, small = f["bare_copy"], f["export"], f["small"]
    say("")
    say(f"导出Excel of {EXPORT_ROWS:,} rows (POST /api/exports .. file downloaded)")
    say(f"  ours: {export['seconds']:.2f} s ({export['seconds_to_built']:.2f} s to the job done),"
        f" {export['bytes'] / 1e6:.1f} MB; the median of "
        + ", ".join(f"{r['seconds']:.2f} s" for r in f["export_runs"])
        + " (CPU in all " + ", ".join(f"{r['cpu_seconds']:.2f}" for r in f["export_runs"])
        + " s)")  # fmt: skip
    beside = copy["seconds_beside_exports"]
    say(f"  bare: COPY TO STDOUT {beside[len(beside) // 2]:.3f} s, the median of the COPYs run"
        " one right before each export (" + ", ".join(f"{s:.3f} s" for s in beside) + ");"
        f" before the system started {copy['seconds_median']:.3f} s (best"
        f" {copy['seconds_best']:.3f}); {copy['bytes'] / 1e6:.1f} MB of text, PostgreSQL's CPU"
        f" {copy['postgres_cpu_seconds']:.2f} s")  # fmt: skip
    alone = f["writer_alone"]
    say(f"  the writer alone (the COPY lines in memory): render (split, open the numbers, make"
        f" the rows) {alone['seconds_render']:.2f} s, deflate {alone['seconds_deflate']:.2f} s"
        f" ({alone['us_per_cell']:.2f} us a cell), {alone['seconds']:.2f} s in all")  # fmt: skip
    pairs = ", ".join(f"{r['seconds'] / r['bare_copy_seconds']:.2f}x" for r in f["export_runs"])
    say(f"  ours / bare: {f['export_over_copy']:.2f}x (target <= {EXPORT_TARGET:g}x; each export"
        f" over the COPY right before it: {pairs}; over the COPY before the system started"
        f" {f['export_over_copy_at_start']:.2f}x);"
        f" ours / writer alone: {f['export_over_writer']:.1f}x")  # fmt: skip
    probed = f["probed"]
    busy, idle = probed["home_latency"]["exporting"], probed["home_latency"]["idle"]
    say(f"  one more export with GET /api/cases/home every {PROBE_SECONDS:g} s meanwhile:"
        f" {probed['seconds']:.2f} s; home p50 {busy['p50_ms']:.1f} ms, max"
        f" {busy['max_ms']:.1f} ms ({busy['probes']} probes); idle p50 {idle['p50_ms']:.1f} ms,"
        f" max {idle['max_ms']:.1f} ms")  # fmt: skip
    cpu = {n: m["cpu_seconds"] for n, m in export["memory"].items()}
    say(f"  CPU seconds of the {EXPORT_ROWS:,}-row export: "
        + ", ".join(f"{n} {c:.2f}" for n, c in cpu.items()) + f"; in all {sum(cpu.values()):.2f}"
        + f" (the writer alone: {alone['seconds']:.2f} s of one core)")  # fmt: skip
    for name in ("cases", "cases_worker", "documents", "gateway"):
        if name not in small["memory"] or name not in export["memory"]:
            continue
        a, b = small["memory"][name], export["memory"][name]
        say(f"  peak RSS {name:<12} {SMALL_ROWS:,} rows: {a['rss_peak_mb']:6.1f} MB"
            f" (+{a['rss_rise_mb']:.1f});  {EXPORT_ROWS:,} rows: {b['rss_peak_mb']:6.1f} MB"
            f" (+{b['rss_rise_mb']:.1f})")  # fmt: skip


BENCHES = {
    "statistics": (bench_statistics, print_statistics),
    "export": (bench_export, print_export),
}


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

"""Reports on 100,000 cases through the real processes, beside bare SQL in the same run.

    python -m bench.reports

`bench_export()`: 导出Excel of a 100,000-row work list through the gateway (POST
/api/exports, the job followed to its end, the file downloaded), beside the bare
`COPY (the same query) TO STDOUT` of the same rows, and the peak memory of the process that
builds the file (the cases service) for a 10,000-row and the 100,000-row export: flat memory
means the two peaks are alike. The last line printed is one JSON object with every figure.
See bench/README.md.
"""

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import asyncpg
import openpyxl

from bench._workflow_data import (
    CASE_COLUMNS,
    CaseFactory,
    Operator,
    check_bench_database,
    load_accounts,
    reset_schemas,
)
from bench.workflow import (
    DEFAULT_GATEWAY_PORT,
    System,
    bench_settings,
    delete_broker_objects,
    free_port,
    machine_busy_pct,
    say,
)
from services.cases.deadline_views import Deadlines, deadlines_today
from services.cases.deps import CasesDeps
from services.cases.domain.model import CaseState
from services.cases.handlers.exports import WORK_SQL_COLUMNS, work_source_on
from services.cases.handlers.queries import JOINS, work_list_query
from services.cases.reference_seed import seed_reference
from services.cases.sealed import CASE_ID_NUMBER, seal
from shared.contracts.cases.rpc import ListedCases
from shared.rpc import Actor, CallContext
from shared.settings import Settings
from shared.sheets import Sheet
from tools.demo_data import demo_reference

ROOT = Path(__file__).resolve().parent.parent
EXPORT_ROWS = 100_000  # the list exported
SMALL_ROWS = 10_000  # a second unit's list: the memory of a tenth of the rows
LIST = "unit:3"  # 材料审核: every loaded case waits there
EXPORT_TARGET = 3.0  # the export within this many times the bare COPY
COPY_RUNS = 3
SAMPLE_SECONDS = 0.02  # how often the builder's memory is read
PROBE_SECONDS = 0.1  # how often the cases service is asked something while it exports
JOB_WAIT = 600.0


def now() -> float:
    return time.perf_counter()


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


def export_query(op: Operator, deadlines: Deadlines) -> tuple[str, list]:
    """The statement the cases service runs for the operator's export, and its arguments."""
    actor = Actor(role="unit_operator", user_id=op.user_id, unit_id=op.unit_id)
    query = work_list_query(ListedCases(list=LIST), actor, deadlines)
    sql = (
        f"SELECT {WORK_SQL_COLUMNS} FROM {query.source}{JOINS}"
        f" WHERE {query.clause} ORDER BY {query.order}"
    )
    return sql, query.args


async def bare_copy(database_url: str, op: Operator) -> dict:
    """COPY (the export's query) TO STDOUT, to this process: best and median of a few runs."""
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    runs, received = [], 0
    try:
        sql, args = export_query(op, await today_limits(conn))
        for _ in range(COPY_RUNS):
            received = 0

            async def sink(chunk: bytes) -> None:
                nonlocal received
                received += len(chunk)

            started = now()
            await conn.copy_from_query(sql, *args, output=sink)
            runs.append(now() - started)
    finally:
        await conn.close()
    runs.sort()
    return {"seconds_best": round(runs[0], 3), "seconds_median": round(runs[1], 3),
            "bytes": received}  # fmt: skip


async def writer_alone(database_url: str, op: Operator) -> dict:
    """The export's own conversion and XlsxWriter writing of the same rows, already fetched
    into this process's memory, one after the other: the floor under any export built with
    this library (the export itself overlaps the two, in two processes)."""
    actor = Actor(role="unit_operator", user_id=op.user_id, unit_id=op.unit_id)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    try:
        context = CallContext("cases", None, actor, None)
        source = work_source_on(ListedCases(list=LIST), context, await today_limits(conn))
        records = await conn.fetch(source.sql, *source.args)
    finally:
        await conn.close()
    with tempfile.TemporaryDirectory(prefix="zc-bench-") as tmpdir:
        started = now()
        rows = [tuple(source.convert(r)) for r in records]
        converted = now() - started
        sheet = Sheet(os.path.join(tmpdir, "x.xlsx"), source.title, source.columns, tmpdir)
        sheet.write(rows)
        written = now() - started - converted
        sheet.close()
        total = now() - started
    cells = len(records) * len(source.columns)
    return {"seconds": round(total, 3), "seconds_convert": round(converted, 3),
            "seconds_cells": round(written, 3), "us_per_cell": round(1e6 * written / cells, 2),
            "rows": len(records)}  # fmt: skip


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
        }  # fmt: skip


def sheet_writer(pid: int) -> int | None:
    """The worker process the cases process writes its sheets with (shared/sheets.py)."""
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
    """The data rows of the file as Excel reads them (its dimension), the header left out."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return book.worksheets[0].max_row - 1


async def bench_export(settings: Settings, port: int) -> dict:
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
        async with aiohttp.ClientSession(system.url, timeout=timeout) as http:
            for name, op, rows in (("warm_up", small, SMALL_ROWS), ("small", small, SMALL_ROWS),
                                   ("export", big, EXPORT_ROWS)):  # fmt: skip
                say(f"through the gateway: export of {rows:,} rows ({name}) ...")
                writer = sheet_writer(pids["cases"])  # started by the first export
                watched = pids | ({"cases_writer": writer} if writer else {})
                idle = Latency(http, small)
                for _ in range(20):
                    await idle.probe()
                async with ProcessWatch(watched) as memory, Latency(http, small) as busy:
                    run = await export_through_gateway(http, op)
                run["home_latency"] = {"idle": idle.figures(), "exporting": busy.figures()}
                found = rows_in(run.pop("content"))
                if found != rows or run["rows"] != rows:
                    raise RuntimeError(f"{name}: {found} rows in the file, {rows} expected")
                figures[name] = {**run, "memory": memory.figures()}
    finally:
        await system.stop()
        await delete_broker_objects(settings)
    figures["export_over_copy"] = round(
        figures["export"]["seconds"] / figures["bare_copy"]["seconds_median"], 1
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
        f" {export['bytes'] / 1e6:.1f} MB")  # fmt: skip
    say(f"  bare: COPY TO STDOUT {copy['seconds_median']:.3f} s (best {copy['seconds_best']:.3f}),"
        f" {copy['bytes'] / 1e6:.1f} MB of text")  # fmt: skip
    alone = f["writer_alone"]
    say(f"  the writer alone (rows in memory): convert {alone['seconds_convert']:.2f} s, then"
        f" XlsxWriter {alone['seconds_cells']:.2f} s ({alone['us_per_cell']:.2f} us a cell),"
        f" {alone['seconds']:.2f} s in all")  # fmt: skip
    say(f"  ours / bare: {f['export_over_copy']:.1f}x (target <= {EXPORT_TARGET:g}x);"
        f" ours / writer alone: {f['export_over_writer']:.1f}x")  # fmt: skip
    busy, idle = export["home_latency"]["exporting"], export["home_latency"]["idle"]
    say(f"  GET /api/cases/home meanwhile: p50 {busy['p50_ms']:.1f} ms, max {busy['max_ms']:.1f}"
        f" ms ({busy['probes']} probes); idle p50 {idle['p50_ms']:.1f} ms,"
        f" max {idle['max_ms']:.1f} ms")  # fmt: skip
    cpu = {n: m["cpu_seconds"] for n, m in export["memory"].items()}
    say(f"  CPU seconds of the {EXPORT_ROWS:,}-row export: "
        + ", ".join(f"{n} {c:.2f}" for n, c in cpu.items()) + f"; in all {sum(cpu.values()):.2f}"
        + f" (the writer alone: {alone['seconds']:.2f} s of one core)")  # fmt: skip
    for name in ("cases", "cases_writer", "documents", "gateway"):
        if name not in small["memory"] or name not in export["memory"]:
            continue
        a, b = small["memory"][name], export["memory"][name]
        say(f"  peak RSS {name:<12} {SMALL_ROWS:,} rows: {a['rss_peak_mb']:6.1f} MB"
            f" (+{a['rss_rise_mb']:.1f});  {EXPORT_ROWS:,} rows: {b['rss_peak_mb']:6.1f} MB"
            f" (+{b['rss_rise_mb']:.1f})")  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    settings = bench_settings()
    check_bench_database(settings.database_url)
    port = free_port(int(os.environ.get("ZC_GATEWAY_PORT", DEFAULT_GATEWAY_PORT)))
    load = os.getloadavg()
    busy = await machine_busy_pct(1.0)
    say(f"broker prefix {settings.broker_prefix}, database {settings.database_url}")
    say(f"before the run: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f},"
        f" machine {busy}% busy on {os.cpu_count()} cores")  # fmt: skip
    figures: dict = {"cores": os.cpu_count(), "load_before": load, "busy_before": busy}
    if "export" in args.only:
        figures["export"] = await bench_export(settings, port)
        print_export(figures["export"])
    figures["load_after"] = os.getloadavg()
    say(f"after the run: load average {figures['load_after'][0]:.2f}")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=["export"], help="which benches: export")
    try:
        asyncio.run(main(parser.parse_args()))
    except asyncio.CancelledError:
        sys.exit("stopped by SIGTERM; the processes were stopped and the broker objects removed")

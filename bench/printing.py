"""Printing end to end through the services, as a unit prints: documents.print, the job
done, documents.read.

    python -m bench.printing

Loads one unit's cases (bench/_printing_data.py), starts accounts, cases and documents as
the processes they are in production, and as the unit's operator (over shared.rpc):

- a 1,000-person 评前公示名册, three times (other people each time, so each is a render):
  from documents.print to the job done, split into gathering the cases (case.get_many,
  units.names), rendering and storing, and documents.read of the PDF; beside each, the
  same roster rendered by the engine alone (DocumentRenderer, same RenderSettings) in this
  process, and the overhead of the service path;
- a batch of 200 评审（申报）表 as one job: time to done, the render workers' CPU, and the
  200 cases moving on to dept_review (declaration_form.printed); beside it the engine alone;
- the first roster printed again: one lookup, no render.

Before each measurement it waits (up to 30 s) for the machine to be quiet. The last line
printed is one JSON object with every figure. See bench/README.md.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg

from bench._printing_data import PrintData, database_url, generate
from bench._processes import Processes, service_env
from bench._workflow_data import check_bench_database
from bench.documents import Meter, peak_rss_mb
from bench.messaging import machine_idle_seconds, process_cpu_seconds
from bench.workflow import broker_pids, machine_busy_pct
from services.documents.jobs import CASES_PER_CALL
from services.documents.render import from_cases
from services.documents.render.engine import DocumentRenderer
from services.documents.render.pool import RenderPool, RenderSettings
from services.documents.render.snapshots import KINDS
from shared.rpc import Actor, RpcClient
from shared.settings import Settings
from shared.topology import Names, delete_prefix

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("accounts", "cases", "documents")
WARM_FORMS, WARM_ROSTER = 4, 12  # the warm-up job of each side: 登记表 of 4, a roster of 12
POLL_SECONDS, POLL_SECONDS_LATER = 0.01, 0.05  # the bench follows a job in the database
POLL_FAST_FOR = 3.0  # this often for the first 3 s of a job, then less often
JOB_TIMEOUT = 180.0
MOVE_TIMEOUT = 60.0
CONTENDED_CORES = 0.3  # other processes' CPU during a phase past which wall times mislead
# The print job page (gateway/static/print.js) asks after 0.3 s, then 1.25 times later each
# time, at most every second.
PAGE_FIRST_POLL, PAGE_POLL_GROWTH, PAGE_POLL_MAX = 0.3, 1.25, 1.0


def say(text: str) -> None:
    print(text, flush=True)


QUIET_PCT, QUIET_WAIT = 25, 30.0  # before each measurement: wait up to 30 s for < 25 % busy
waited = {"seconds": 0.0, "still_busy": 0}


async def quiet() -> None:
    """Wait (up to QUIET_WAIT) until the machine is idle but for our idle processes."""
    started = time.perf_counter()
    while await machine_busy_pct(0.5) > QUIET_PCT:
        if time.perf_counter() - started > QUIET_WAIT:
            waited["still_busy"] += 1
            break
    waited["seconds"] = round(waited["seconds"] + time.perf_counter() - started - 0.5, 1)


def page_sees_done(seconds: float) -> float:
    """When the print job page's polling first finds a job that finished after `seconds`."""
    at, delay = PAGE_FIRST_POLL, PAGE_FIRST_POLL
    while at < seconds:
        delay = min(PAGE_POLL_MAX, delay * PAGE_POLL_GROWTH)
        at += delay
    return at


# --- CPU of every process involved --------------------------------------------------------


def descendants(pid: int) -> list[int]:
    """Every process below `pid`: the documents service's fork server and render workers."""
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cpu(pid: int) -> float | None:
    try:
        return process_cpu_seconds(pid)
    except OSError:
        return None


class Cpu:
    """Snapshots of the CPU seconds of each group of processes and the machine's idle time."""

    def __init__(self, services: dict[str, int], broker: list[int], db: asyncpg.Connection):
        self.services = services
        self.broker = broker
        self.db = db

    async def snapshot(self) -> dict:
        db = [r["pid"] for r in await self.db.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        )]  # fmt: skip
        groups = {
            "bench": [os.getpid()],
            **{name: [pid] for name, pid in self.services.items()},
            "render_workers": descendants(self.services["documents"]),
            "postgres": db,
            "rabbitmq": self.broker,
        }
        cpu = {g: {p: t for p in pids if (t := _cpu(p)) is not None} for g, pids in groups.items()}
        return {"at": time.perf_counter(), "idle": machine_idle_seconds(), "cpu": cpu}


def cpu_between(a: dict, b: dict) -> dict:
    """CPU seconds per group from snapshot a to b, the machine's busy cores, and the others'."""
    wall = b["at"] - a["at"]
    spent = {
        # a process that appeared meanwhile (a new pool connection) counts from its start
        group: round(sum(t - a["cpu"].get(group, {}).get(pid, 0.0) for pid, t in pids.items()), 3)
        for group, pids in b["cpu"].items()
    }
    busy = wall * (os.cpu_count() or 1) - (b["idle"] - a["idle"])
    ours = sum(spent.values())
    return {
        "seconds": round(wall, 3),
        "cpu_seconds": spent,
        "cpu_seconds_all": round(ours, 3),
        "machine_cpu_pct": round(100 * busy / wall) if wall > 0 else 0,
        "others_cores": round(max(0.0, busy - ours) / wall, 2) if wall > 0 else 0.0,
    }


# --- the services, each a process of its own -----------------------------------------------


class Services:
    def __init__(self, settings: Settings, log_dir: Path) -> None:
        modules = {name: f"services.{name}" for name in SERVICES}
        self.processes = Processes(modules, service_env(settings, log_dir), log_dir)

    async def start(self, client: RpcClient, ready_timeout: float = 90.0) -> None:
        await self.processes.spawn()
        deadline = time.perf_counter() + ready_timeout
        for name in SERVICES:
            while True:
                self.processes.check_alive(name)
                with contextlib.suppress(Exception):
                    await client.call(name, "ping", timeout=2)
                    break
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"{name} did not answer ping in {ready_timeout:.0f} s")
                await asyncio.sleep(0.2)

    def pids(self) -> dict[str, int]:
        return self.processes.pids()

    async def stop(self) -> None:
        await self.processes.stop()


# --- a unit printing ------------------------------------------------------------------------


class Unit:
    """The unit's operator: print, follow the job (in the database, every 10-50 ms), read."""

    def __init__(self, client: RpcClient, actor: Actor, monitor: asyncpg.Connection, cpu: Cpu):
        self.client = client
        self.actor = actor
        self.monitor = monitor
        self.cpu = cpu

    async def documents(self, method: str, params: dict) -> dict:
        return await self.client.call("documents", method, params, actor=self.actor, timeout=120)

    async def print_job(self, kind: str, case_ids: list[uuid.UUID]) -> dict:
        """documents.print, then the job followed to its end; phases and CPU of each."""
        marks = {"pressed": await self.cpu.snapshot()}
        pressed_wall = time.time()
        job = await self.documents(
            "documents.print", {"kind": kind, "case_ids": [str(c) for c in case_ids]}
        )
        print_call = time.perf_counter() - marks["pressed"]["at"]
        job_id = uuid.UUID(job["job_id"])
        walls: dict[str, float] = {}
        deadline = time.perf_counter() + JOB_TIMEOUT
        while True:
            row = await self.monitor.fetchrow(
                "SELECT status, total, done FROM documents.print_jobs WHERE id = $1", job_id
            )
            now = time.time()
            if row["total"] > 0 and "gathered" not in marks:
                marks["gathered"], walls["gathered"] = await self.cpu.snapshot(), now
            if row["total"] > 0 and row["done"] >= row["total"] and "parts" not in marks:
                marks["parts"], walls["parts"] = await self.cpu.snapshot(), now
            if row["status"] in ("done", "failed"):
                marks["finished"], walls["finished"] = await self.cpu.snapshot(), now
                break
            if time.perf_counter() > deadline:
                raise RuntimeError(f"job {job_id} not finished in {JOB_TIMEOUT:.0f} s: {dict(row)}")
            fast = time.perf_counter() - marks["pressed"]["at"] < POLL_FAST_FOR
            await asyncio.sleep(POLL_SECONDS if fast else POLL_SECONDS_LATER)
        seen_done = marks["finished"]["at"] - marks["pressed"]["at"]
        job = await self.documents("documents.job", {"job_id": str(job_id)})  # the page's poll
        if job["status"] != "done":
            raise RuntimeError(f"job failed: {json.dumps(job, ensure_ascii=False)[:500]}")
        server = await self.monitor.fetchrow(
            "SELECT extract(epoch FROM created_at) AS created, extract(epoch FROM started_at)"
            " AS started, extract(epoch FROM finished_at) AS finished, attempts"
            " FROM documents.print_jobs WHERE id = $1",
            job_id,
        )
        created, started, finished = (float(server[k]) for k in ("created", "started", "finished"))
        # Seen by polling, so up to one poll late: never later than finished_at.
        gathered = min(walls.get("gathered", finished), finished)
        parts = max(gathered, min(walls.get("parts", finished), finished))
        to_done = finished - pressed_wall
        figures = {
            "job_id": str(job_id),
            "document_id": job["document_id"],
            "total": job["total"],
            "skipped": len(job["skipped"]),
            "pages": job["pages"],
            "bytes": job["size_bytes"],
            "attempts": server["attempts"],
            "print_call_ms": round(1000 * print_call, 1),
            "to_done_seconds": round(to_done, 3),  # press to finished_at (the database's clock)
            "seen_done_seconds": round(seen_done, 3),  # press to the bench seeing it done
            "page_sees_done_seconds": round(page_sees_done(to_done), 2),
            "phases": {
                "queued": round(started - created, 3),  # NOTIFY, claim
                "gathering": round(gathered - started, 3),  # case.get_many, units.names, select
                "rendering_storing": round(parts - gathered, 3),  # every part rendered, stored
                "finishing": round(finished - parts, 3),  # combine the parts, store, finish
            },
            "cpu": cpu_between(marks["pressed"], marks["finished"]),
        }
        if "gathered" in marks and "parts" in marks:
            render = cpu_between(marks["gathered"], marks["parts"])
            figures["render_phase"] = {
                "seconds": render["seconds"],
                "workers_cpu_seconds": render["cpu_seconds"]["render_workers"],
                "workers_cores_busy": round(
                    render["cpu_seconds"]["render_workers"] / render["seconds"], 2
                )
                if render["seconds"] > 0
                else 0.0,
                "documents_cpu_seconds": render["cpu_seconds"]["documents"],
                "machine_cpu_pct": render["machine_cpu_pct"],
                "others_cores": render["others_cores"],
            }
        if "parts" in marks:
            finish = cpu_between(marks["parts"], marks["finished"])
            figures["finish_phase_cpu_seconds"] = finish["cpu_seconds"]
        figures["finished_at"] = finished
        return figures

    async def read(self, document_id: str) -> dict:
        started, cpu = time.perf_counter(), await self.cpu.snapshot()
        answer = await self.documents("documents.read", {"document_id": document_id})
        answer, pdf = answer.value, answer.content
        seconds = time.perf_counter() - started
        return {
            "seconds": round(seconds, 3),
            "bytes": len(pdf),
            "pages": answer["pages"],
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "sha256_matches": hashlib.sha256(pdf).hexdigest() == answer["sha256"],
            "cpu_seconds": cpu_between(cpu, await self.cpu.snapshot())["cpu_seconds"],
        }


async def gather_as_the_runner(unit: Unit, kind: str, case_ids: list[uuid.UUID]) -> tuple:
    """What the job runner does before rendering, timed call by call from this process:
    case.get_many in chunks of CASES_PER_CALL at once, units.names, from_cases.select."""
    ids = [str(c) for c in case_ids]
    chunks = [ids[i : i + CASES_PER_CALL] for i in range(0, len(ids), CASES_PER_CALL)]
    actor, client = unit.actor, unit.client
    cpu0 = await unit.cpu.snapshot()
    started = time.perf_counter()
    answers = await asyncio.gather(
        *(client.call("cases", "case.get_many", {"case_ids": c}, actor=actor) for c in chunks)
    )
    got = time.perf_counter()
    cases = [c for a in answers for c in a["cases"]]
    unit_ids = sorted({c["unit_id"] for c in cases})
    names = await client.call("accounts", "units.names", {"unit_ids": unit_ids}, actor=actor)
    named = time.perf_counter()
    selection = from_cases.select(kind, cases, names["names"])
    selected = time.perf_counter()
    cpu = cpu_between(cpu0, await unit.cpu.snapshot())["cpu_seconds"]
    return selection, {
        "case_get_many_seconds": round(got - started, 3),
        "calls": len(chunks),
        "reply_bytes": sum(len(json.dumps(a, ensure_ascii=False).encode()) for a in answers),
        "units_names_seconds": round(named - got, 3),
        "select_seconds": round(selected - named, 3),
        "seconds": round(selected - started, 3),
        "cases_cpu_seconds": cpu["cases"],
    }


# --- the engine alone, in this process ------------------------------------------------------


async def engine_roster(renderer: DocumentRenderer, roster) -> dict:
    with Meter(renderer.pool) as meter:
        pdf = await renderer.render("pre_publicity_roster", roster)
    return meter.figures(bytes=len(pdf.content), pages=pdf.pages, sha256=pdf.sha256)


async def engine_batch(renderer: DocumentRenderer, forms: list) -> dict:
    title = KINDS["declaration_form"].title
    with Meter(renderer.pool) as meter:
        parts = await asyncio.gather(*(renderer.render("declaration_form", f) for f in forms))
        rendered = time.perf_counter()
        pdf = await renderer.combine(
            [p.content for p in parts],
            [f"{title}（{f.case.applicant_name}，{f.case.case_no}）" for f in forms],
        )
    return meter.figures(
        bytes=len(pdf.content),
        pages=pdf.pages,
        render_seconds=round(rendered - meter.started, 3),
        parts_bytes=sum(len(p.content) for p in parts),
    )


async def warm_engine(renderer: DocumentRenderer, forms: list, roster) -> None:
    await asyncio.gather(*(renderer.render("registration_form", f) for f in forms))
    await renderer.render("pre_publicity_roster", roster)


# --- the run ---------------------------------------------------------------------------------


def bench_settings() -> Settings:
    prefix = os.environ.get("ZC_BROKER_PREFIX", "zcbench")
    return Settings(
        database_url=database_url(),
        broker_prefix=f"{prefix}-print-{secrets.token_hex(3)}",
        log_level=os.environ.get("ZC_BENCH_LOG_LEVEL", "WARNING"),
    )


async def wait_until_moved(monitor: asyncpg.Connection, case_ids: list, finished: float) -> dict:
    """The cases of a printed 评审（申报）表 job moving on to dept_review (the event)."""
    started = time.perf_counter()
    while True:
        row = await monitor.fetchrow(
            "SELECT count(*) FILTER (WHERE state = 'dept_review') AS moved,"
            " extract(epoch FROM max(updated_at) FILTER (WHERE state = 'dept_review')) AS last"
            " FROM cases.cases WHERE id = ANY($1::uuid[])",
            case_ids,
        )
        if row["moved"] == len(case_ids) or time.perf_counter() - started > MOVE_TIMEOUT:
            break
        await asyncio.sleep(0.02)
    seen = time.time()
    event = await monitor.fetchrow(
        "SELECT extract(epoch FROM created_at) AS created, extract(epoch FROM sent_at) AS sent"
        " FROM documents.outbox WHERE routing_key = 'declaration_form.printed'"
        " ORDER BY seq DESC LIMIT 1"
    )
    history = await monitor.fetchval(
        "SELECT count(*) FROM cases.case_history WHERE case_id = ANY($1::uuid[])"
        " AND action = 'print_declaration_form' AND actor_role = 'unit_operator'",
        case_ids,
    )
    last = float(row["last"]) if row["last"] is not None else None
    return {
        "moved": row["moved"],
        "of": len(case_ids),
        "history_rows": history,
        "event_sent_after_done_seconds": round(float(event["sent"]) - finished, 3)
        if event and event["sent"] is not None
        else None,
        "last_moved_after_done_seconds": round(last - finished, 3) if last else None,
        "seen_after_done_seconds": round(seen - finished, 3),
    }


async def run(settings: Settings) -> dict:
    figures: dict = {}
    say(f"loading the data into {settings.database_url} ...")
    data: PrintData = await generate(settings.database_url, say=say)
    figures["data"] = {"rows": data.rows, "seconds": data.seconds}
    actor = Actor(user_id=data.operator_id, role="unit_operator", unit_id=data.unit_id)
    monitor = await asyncpg.connect(settings.database_url)
    client = RpcClient(settings.amqp_url, Names(settings).rpc_queue, 60)
    services = Services(settings, ROOT / os.environ.get("ZC_VAR_DIR", "var/bench") / "printing")
    pool = RenderPool(RenderSettings())  # the engine alone: what documents makes of ZC_RENDER_*
    try:
        await client.start()
        say("starting accounts, cases, documents ...")
        started = time.perf_counter()
        await services.start(client)
        await pool.start()
        figures["startup_seconds"] = round(time.perf_counter() - started, 1)
        cpu = Cpu(services.pids(), broker_pids(settings.amqp_url), monitor)
        unit = Unit(client, actor, monitor, cpu)
        renderer = DocumentRenderer(pool)

        say("warming up: a job of 4 登记表 and one of a 12-person roster; the same in the engine")
        warm_forms, _ = await gather_as_the_runner(
            unit, "registration_form", data.form_ids[:WARM_FORMS]
        )
        warm_roster, _ = await gather_as_the_runner(
            unit, "pre_publicity_roster", data.rosters[0][-WARM_ROSTER:]
        )
        await warm_engine(renderer, warm_forms.snapshots, warm_roster.snapshots[0])
        await unit.print_job("registration_form", data.form_ids[:WARM_FORMS])
        await unit.print_job("pre_publicity_roster", data.rosters[0][-WARM_ROSTER:])

        figures["roster"] = await roster_phase(unit, renderer, data)
        figures["batch"] = await batch_phase(unit, renderer, data, monitor)
        figures["reprint"] = await reprint_phase(unit, data, figures["roster"])
        figures["render_workers"] = pool.workers  # each side: ZC_RENDER_WORKERS, or one per core
        documents = services.pids()["documents"]
        figures["peak_rss_mb"] = {
            "documents": peak_rss_mb([documents]),
            "render_workers": peak_rss_mb(descendants(documents)),
            "cases": peak_rss_mb([services.pids()["cases"]]),
        }
    finally:
        await pool.close()
        with contextlib.suppress(Exception):
            await client.close()
        await services.stop()
        await monitor.close()
        await delete_prefix(settings)
    return figures


async def roster_once(unit: Unit, renderer: DocumentRenderer, case_ids: list) -> dict:
    """One 1,000-person roster: the engine alone, then the service, then the PDF read."""
    selection, gathered = await gather_as_the_runner(unit, "pre_publicity_roster", case_ids)
    [roster] = selection.snapshots
    await quiet()
    engine = await engine_roster(renderer, roster)
    await quiet()
    job = await unit.print_job("pre_publicity_roster", case_ids)
    read = await unit.read(job["document_id"])
    end_to_end = job["seen_done_seconds"] + read["seconds"]
    overhead = end_to_end - engine["seconds"]
    return {
        "gathering_alone": gathered,
        "engine": engine,
        "service": job,
        "read": read,
        "end_to_end_seconds": round(end_to_end, 3),
        "overhead_seconds": round(overhead, 3),
        "overhead_share": round(overhead / end_to_end, 3),
        "cpu_overhead_seconds": round(job["cpu"]["cpu_seconds_all"] - engine["cpu_seconds"], 3),
        "render_store_over_engine": round(
            job["phases"]["rendering_storing"] / engine["seconds"], 3
        ),
        "same_pdf_as_engine": read["sha256"] == engine["sha256"],
    }


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


async def roster_phase(unit: Unit, renderer: DocumentRenderer, data: PrintData) -> dict:
    n = len(data.rosters[0])
    say(f"{n:,}-person 评前公示名册, {len(data.rosters)} times (other people each time) ...")
    runs = []
    for i, case_ids in enumerate(data.rosters, 1):
        r = await roster_once(unit, renderer, case_ids)
        runs.append(r)
        e, job, g, read = r["engine"], r["service"], r["gathering_alone"], r["read"]
        say(f" {i}. engine alone     {e['seconds']:6.2f} s (cpu {e['cpu_seconds']:.2f} s,"
            f" {e['pages']} pages, {e['bytes'] / 1e6:.2f} MB; others {e['others_cores']:.2f}"
            " cores)")  # fmt: skip
        say(f"    gathering alone  {g['seconds']:6.2f} s (case.get_many"
            f" {g['case_get_many_seconds']:.2f} s in {g['calls']} calls at once,"
            f" {g['reply_bytes'] / 1e6:.1f} MB of JSON; units.names"
            f" {g['units_names_seconds']:.3f} s; select {g['select_seconds']:.3f} s)")  # fmt: skip
        _report_job("service", job)
        say(f"    documents.read   {read['seconds']:6.2f} s ({read['bytes'] / 1e6:.2f} MB,"
            f" {read['pages']} pages)")  # fmt: skip
        say(f"    end to end {r['end_to_end_seconds']:.2f} s against the engine's"
            f" {e['seconds']:.2f} s: overhead {r['overhead_seconds']:.2f} s"
            f" ({r['overhead_share']:.0%}); CPU {job['cpu']['cpu_seconds_all']:.2f} s against"
            f" {e['cpu_seconds']:.2f} s")  # fmt: skip
    medians = {
        "engine_seconds": median([r["engine"]["seconds"] for r in runs]),
        "to_done_seconds": median([r["service"]["to_done_seconds"] for r in runs]),
        "gathering_seconds": median([r["service"]["phases"]["gathering"] for r in runs]),
        "rendering_storing_seconds": median(
            [r["service"]["phases"]["rendering_storing"] for r in runs]
        ),
        "read_seconds": median([r["read"]["seconds"] for r in runs]),
        "end_to_end_seconds": median([r["end_to_end_seconds"] for r in runs]),
        "overhead_seconds": median([r["overhead_seconds"] for r in runs]),
        "overhead_share": median([r["overhead_share"] for r in runs]),
        "cpu_overhead_seconds": median([r["cpu_overhead_seconds"] for r in runs]),
    }
    m = medians
    say(f"  median: engine {m['engine_seconds']:.2f} s; service to done {m['to_done_seconds']:.2f}"
        f" s (gathering {m['gathering_seconds']:.2f}, rendering+storing"
        f" {m['rendering_storing_seconds']:.2f}), read {m['read_seconds']:.3f} s, end to end"
        f" {m['end_to_end_seconds']:.2f} s: overhead {m['overhead_seconds']:.2f} s"
        f" ({m['overhead_share']:.0%}), {m['cpu_overhead_seconds']:.2f} s of CPU")  # fmt: skip
    return {
        "people": n,
        "median": medians,
        "runs": runs,
        "same_pdf_as_engine": all(r["same_pdf_as_engine"] for r in runs),
    }


async def batch_phase(
    unit: Unit, renderer: DocumentRenderer, data: PrintData, monitor: asyncpg.Connection
) -> dict:
    n = len(data.form_ids)
    say(f"batch of {n} 评审（申报）表 ...")
    selection, gathered = await gather_as_the_runner(unit, "declaration_form", data.form_ids)
    await quiet()
    engine = await engine_batch(renderer, selection.snapshots)
    say(
        f"  engine alone      {engine['seconds']:6.2f} s (cpu {engine['cpu_seconds']:.2f} s,"
        f" {engine['cores_busy']:.2f} cores, {engine['pages']} pages,"
        f" {engine['bytes'] / 1e6:.2f} MB; parts {engine['parts_bytes'] / 1e6:.1f} MB)"
    )
    await quiet()
    job = await unit.print_job("declaration_form", data.form_ids)
    moved = await wait_until_moved(monitor, data.form_ids, job["finished_at"])
    _report_job("service", job)
    stored_parts = await monitor.fetchrow(
        "SELECT count(*) AS n, sum(size_bytes) AS bytes FROM documents.rendered_documents"
        " WHERE kind = 'declaration_form' AND cardinality(part_ids) = 0"
    )
    read = await unit.read(job["document_id"])
    say(f"  documents.read    {read['seconds']:6.2f} s ({read['bytes'] / 1e6:.2f} MB,"
        f" {read['pages']} pages)")  # fmt: skip
    say(f"  moved to dept_review: {moved['moved']}/{moved['of']}, the last"
        f" {moved['last_moved_after_done_seconds']} s after the job was done (event sent after"
        f" {moved['event_sent_after_done_seconds']} s)")  # fmt: skip
    overhead = job["to_done_seconds"] - engine["seconds"]
    table = await monitor.fetchval("SELECT pg_total_relation_size('documents.rendered_documents')")
    say(f"  stored: {stored_parts['n']} parts of {int(stored_parts['bytes'] or 0) / 1e6:.1f} MB"
        f" beside the combined {job['bytes'] / 1e6:.1f} MB; rendered_documents now"
        f" {table / 1e6:.0f} MB")  # fmt: skip
    cpu_overhead = job["cpu"]["cpu_seconds_all"] - engine["cpu_seconds"]
    say(f"  service to done {job['to_done_seconds']:.2f} s against the engine's"
        f" {engine['seconds']:.2f} s: overhead {overhead:.2f} s"
        f" ({overhead / job['to_done_seconds']:.0%}); CPU {job['cpu']['cpu_seconds_all']:.2f} s"
        f" against {engine['cpu_seconds']:.2f} s")  # fmt: skip
    return {
        "forms": n,
        "gathering_alone": gathered,
        "engine": engine,
        "service": job,
        "stored_parts": {"count": stored_parts["n"], "bytes": int(stored_parts["bytes"] or 0)},
        "rendered_documents_table_bytes": table,
        "render_store_over_engine_render": round(
            job["phases"]["rendering_storing"] / engine["render_seconds"], 3
        ),
        "finishing_over_engine_combine": round(
            job["phases"]["finishing"] / (engine["seconds"] - engine["render_seconds"]), 3
        ),
        "read": read,
        "moved": moved,
        "overhead_seconds": round(overhead, 3),
        "overhead_share": round(overhead / job["to_done_seconds"], 3),
        "cpu_overhead_seconds": round(cpu_overhead, 3),
    }


async def reprint_phase(unit: Unit, data: PrintData, roster: dict) -> dict:
    say("the first roster again ...")
    first = roster["runs"][0]["service"]
    await quiet()
    job = await unit.print_job("pre_publicity_roster", data.rosters[0])
    _report_job("reprint", job)
    return {
        "service": job,
        "same_document": job["document_id"] == first["document_id"],
        "workers_cpu_seconds": job["cpu"]["cpu_seconds"]["render_workers"],
        "share_of_first": round(job["to_done_seconds"] / first["to_done_seconds"], 3),
    }


def _report_job(label: str, job: dict) -> None:
    p, cpu = job["phases"], job["cpu"]["cpu_seconds"]
    render = job.get("render_phase", {})
    say(f"    {label:<8} to done {job['to_done_seconds']:6.2f} s: queued {p['queued']:.3f},"
        f" gathering {p['gathering']:.2f}, rendering+storing {p['rendering_storing']:.2f},"
        f" finishing {p['finishing']:.2f} s; the page would see it at"
        f" {job['page_sees_done_seconds']:.1f} s")  # fmt: skip
    say("             cpu s: " + ", ".join(f"{g} {t:.2f}" for g, t in cpu.items() if t >= 0.01)
        + f"; render workers {render.get('workers_cores_busy', 0):.2f} cores while rendering;"
        f" others {job['cpu']['others_cores']:.2f} cores")  # fmt: skip


def judge(f: dict) -> dict:
    return {
        "roster_pdf_same_as_engine": f["roster"]["same_pdf_as_engine"],
        "batch_moved_every_case": f["batch"]["moved"]["moved"] == f["batch"]["forms"],
        "reprint_is_a_lookup": f["reprint"]["same_document"]
        and f["reprint"]["workers_cpu_seconds"] < 0.2,
    }


def contention(f: dict) -> float:
    phases = [r["service"]["cpu"] for r in f["roster"]["runs"]] + [f["batch"]["service"]["cpu"]]
    engines = [r["engine"] for r in f["roster"]["runs"]] + [f["batch"]["engine"]]
    return max(p["others_cores"] for p in phases + engines)


async def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    settings = bench_settings()
    check_bench_database(settings.database_url)
    load = round(os.getloadavg()[0], 2)
    busy = await machine_busy_pct(1.0)
    say(f"broker prefix {settings.broker_prefix}, database {settings.database_url}")
    say(f"before the run: load average {load:.2f}, machine {busy}% busy on {os.cpu_count()} cores")
    started = time.perf_counter()
    figures = await run(settings)
    figures["seconds_total"] = round(time.perf_counter() - started, 1)
    checks = judge(figures)
    others = contention(figures)
    if waited["seconds"] >= 1 or waited["still_busy"]:
        say(f"waited {waited['seconds']:.0f} s in all for a quiet machine before measurements;"
            f" {waited['still_busy']} started on a busy one all the same")  # fmt: skip
    if others > CONTENDED_CORES:
        say(f"NOTE other processes used up to {others:.2f} cores during a phase: wall times show"
            " them as much as printing; run again on a quiet machine")  # fmt: skip
    for check, passed in checks.items():
        say(f"{'PASS' if passed else 'FAIL'} {check}")
    say(f"whole run {figures['seconds_total']:.0f} s")
    head = {
        "prefix": settings.broker_prefix, "database": settings.database_url,
        "cores": os.cpu_count(), "load_before": load, "machine_cpu_pct_before": busy,
    }  # fmt: skip
    result = {
        **head,
        **figures,
        "waited_for_quiet": waited,
        "others_cores_max": others,
        "contended": others > CONTENDED_CORES,
    }
    print(json.dumps({**result, "checks": checks}, ensure_ascii=False))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except asyncio.CancelledError:
        sys.exit("stopped by SIGTERM; the services were stopped and the broker objects removed")

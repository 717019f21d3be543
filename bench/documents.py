"""The document engine against bare WeasyPrint on the same HTML, in one run.

    python -m bench.documents

Three figures, each for ours (services.documents.render: the worker pool, rosters in
parallel chunks) and for bare WeasyPrint (`HTML(string=...).write_pdf()` in one process of
its own, default settings) rendering the same documents from the same HTML:

- one 专业技术资格评审登记表;
- a 1,000-person 评前公示名册;
- a batch of 200 评审（申报）表, as one PDF (both sides merge with pypdf).

No broker or database: this measures rendering, not RPC. The last line printed is one JSON
object with every figure. See bench/README.md.
"""

import asyncio
import concurrent.futures
import io
import json
import multiprocessing
import os
import sys
import time

from bench.messaging import machine_idle_seconds, process_cpu_seconds
from services.documents.render import html
from services.documents.render.engine import DocumentRenderer
from services.documents.render.pool import RenderPool, RenderSettings
from services.documents.render.snapshots import KINDS
from tests.support import document_samples as samples

ROSTER_PEOPLE, BATCH_FORMS = 1000, 200
ROSTER_SHARE = 0.4  # issue 18: ours renders the roster in at most 0.4 of bare's time
BATCH_CORES = 1.6  # and keep (nearly) both cores busy on the batch
CONTENDED_CORES = 0.3  # other processes' CPU during a phase past which wall times mislead


# --- bare WeasyPrint, in a process of its own ------------------------------------------------


def bare_render(documents: list[str], merge: bool) -> dict:
    """Each HTML to a PDF in turn, as a script calling WeasyPrint would; then one PDF."""
    import pypdf
    from weasyprint import HTML

    started, cpu = time.perf_counter(), time.process_time()
    pdfs = [HTML(string=document).write_pdf() for document in documents]
    rendered = time.perf_counter()
    if merge:
        writer = pypdf.PdfWriter()
        for pdf in pdfs:
            writer.append(pypdf.PdfReader(io.BytesIO(pdf)))
        out = io.BytesIO()
        writer.write(out)
        pdfs = [out.getvalue()]
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "render_seconds": round(rendered - started, 3),
        "cpu_seconds": round(time.process_time() - cpu, 3),
        "bytes": len(pdfs[0]),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) // 1024
    return 0


def bare_warm_up() -> None:
    from weasyprint import HTML

    HTML(string=html.document_html(KINDS["registration_form"], samples.registration(2))).write_pdf()


# --- ours -----------------------------------------------------------------------------------


class Meter:
    """Wall time, the pool's CPU time (all workers) and how busy the machine was."""

    def __init__(self, pool: RenderPool) -> None:
        self.pool = pool

    def __enter__(self) -> "Meter":
        self.pids = self.pool.worker_pids()
        self.cpu = sum(process_cpu_seconds(p) for p in self.pids) + time.process_time()
        self.idle, self.started = machine_idle_seconds(), time.perf_counter()
        return self

    def __exit__(self, *_exc) -> None:
        self.seconds = time.perf_counter() - self.started
        cpu = sum(process_cpu_seconds(p) for p in self.pids) + time.process_time()
        self.cpu_seconds = cpu - self.cpu
        self.busy = self.seconds * (os.cpu_count() or 1) - (machine_idle_seconds() - self.idle)

    def figures(self, **extra) -> dict:
        return {
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "cores_busy": round(self.cpu_seconds / self.seconds, 2),
            **_machine(self.busy, self.cpu_seconds, self.seconds),
            **extra,
        }


def _machine(busy: float, own_cpu: float, seconds: float) -> dict:
    """How busy the machine was, and how much of that was other processes (in cores)."""
    return {
        "machine_cpu_pct": round(100 * busy / seconds),
        "others_cores": round(max(0.0, busy - own_cpu) / seconds, 2),
    }


async def ours_form(renderer: DocumentRenderer) -> dict:
    form = samples.registration(1)
    with Meter(renderer.pool) as meter:
        pdf = await renderer.render("registration_form", form)
    return meter.figures(bytes=len(pdf.content), pages=pdf.pages)


async def ours_roster(renderer: DocumentRenderer) -> dict:
    roster = samples.roster(ROSTER_PEOPLE)
    with Meter(renderer.pool) as meter:
        pdf = await renderer.render("pre_publicity_roster", roster)
    return meter.figures(bytes=len(pdf.content), pages=pdf.pages)


async def ours_batch(renderer: DocumentRenderer) -> dict:
    forms = [samples.declaration(n) for n in range(1, BATCH_FORMS + 1)]
    with Meter(renderer.pool) as meter:
        parts = await asyncio.gather(*(renderer.render("declaration_form", f) for f in forms))
        rendered = time.perf_counter()
        pdf = await renderer.combine(
            [p.content for p in parts], [f.case.applicant_name for f in forms]
        )
    return meter.figures(
        bytes=len(pdf.content),
        pages=pdf.pages,
        render_seconds=round(rendered - meter.started, 3),
    )


def peak_rss_mb(pids: list[int]) -> int:
    peaks = []
    for pid in pids:
        with open(f"/proc/{pid}/status") as status:
            peaks += [int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM")]
    return max(peaks, default=0)


# --- the run ---------------------------------------------------------------------------------


async def run() -> dict:
    cores = os.cpu_count() or 1
    load_before = round(os.getloadavg()[0], 2)
    form_html = [html.document_html(KINDS["registration_form"], samples.registration(1))]
    roster_html = [html.document_html(KINDS["pre_publicity_roster"], samples.roster(ROSTER_PEOPLE))]
    batch_html = [
        html.document_html(KINDS["declaration_form"], samples.declaration(n))
        for n in range(1, BATCH_FORMS + 1)
    ]
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as bare:
        loop = asyncio.get_running_loop()

        async def in_bare(fn, *args):
            return await loop.run_in_executor(bare, fn, *args)

        async def bare_measured(documents, merge):
            idle, started = machine_idle_seconds(), time.perf_counter()
            figures = await in_bare(bare_render, documents, merge)
            seconds = time.perf_counter() - started
            busy = seconds * cores - (machine_idle_seconds() - idle)
            return {**figures, **_machine(busy, figures["cpu_seconds"], seconds)}

        await in_bare(bare_warm_up)
        pool = RenderPool(RenderSettings(warm=True))
        await pool.start()
        renderer = DocumentRenderer(pool)
        await renderer.render("registration_form", samples.registration(2))  # every worker warm
        await asyncio.gather(
            *(
                renderer.render("registration_form", samples.registration(n))
                for n in range(3, 3 + pool.workers)
            )
        )
        try:
            figures = {}
            for name, ours, documents, merge in (
                ("form", ours_form, form_html, False),
                ("roster", ours_roster, roster_html, False),
                ("batch", ours_batch, batch_html, True),
            ):
                bare_figures = await bare_measured(documents, merge)
                ours_figures = await ours(renderer)
                figures[name] = {"ours": ours_figures, "bare": bare_figures}
                _report(name, ours_figures, bare_figures)
            figures["workers"] = {
                "count": pool.workers,
                "peak_rss_mb": peak_rss_mb(pool.worker_pids()),
            }
        finally:
            await pool.close()
    roster, batch = figures["roster"], figures["batch"]
    roster["ours_share_of_bare"] = round(roster["ours"]["seconds"] / roster["bare"]["seconds"], 3)
    batch["ours_share_of_bare"] = round(batch["ours"]["seconds"] / batch["bare"]["seconds"], 3)
    targets = {
        "roster_within_0_4_of_bare": roster["ours_share_of_bare"] <= ROSTER_SHARE,
        "batch_uses_both_cores": cores < 2 or batch["ours"]["cores_busy"] >= BATCH_CORES,
    }
    busiest = max(f[side]["others_cores"] for f in (roster, batch) for side in ("ours", "bare"))
    return {
        "cores": cores,
        "load_before": load_before,
        **figures,
        "others_cores_max": busiest,
        "contended": busiest > CONTENDED_CORES,
        "targets": targets,
    }


def _report(name: str, ours: dict, bare: dict) -> None:
    print(
        f"{name:7} ours {ours['seconds']:7.2f} s (cpu {ours['cpu_seconds']:6.2f} s,"
        f" {ours['cores_busy']:.2f} cores, {ours['bytes'] / 1e6:6.2f} MB)"
        f"   bare {bare['seconds']:7.2f} s (cpu {bare['cpu_seconds']:6.2f} s,"
        f" {bare['bytes'] / 1e6:6.2f} MB)   ours/bare {ours['seconds'] / bare['seconds']:.2f}"
        f"   others: {ours['others_cores']:.2f} / {bare['others_cores']:.2f} cores",
        flush=True,
    )


def main() -> int:
    result = asyncio.run(run())
    if result["contended"]:
        print(
            f"NOTE other processes used up to {result['others_cores_max']:.2f} cores during a"
            " phase: wall times (and the targets) do not show the engine; run again on a"
            " quiet machine"
        )
    for target, passed in result["targets"].items():
        print(f"{'PASS' if passed else 'FAIL'} {target}")
    print(json.dumps(result, ensure_ascii=False))
    return 0 if all(result["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

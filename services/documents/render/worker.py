"""What runs inside a render worker process: HTML to PDF, and PDFs into one.

Each worker has an address-space limit (RLIMIT_AS) and a time limit per task (SIGALRM,
raised as RenderTimeout between two Python bytecodes: WeasyPrint's layout is Python). The
pool in the service process adds a hard limit on top, for a worker stuck in C code.
"""

import gc
import hashlib
import io
import os
import pickle
import resource
import signal
import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pypdf
from weasyprint import HTML

from services.documents.render import fonts, layout
from services.documents.render import html as templates
from services.documents.render.snapshots import KINDS
from shared.processes import end_with


class RenderTimeout(Exception):
    """The task ran past its time limit inside the worker."""


class PaginationMismatch(Exception):
    """A roster chunk came out with more or fewer pages than its plan (the plan misjudged)."""

    def __init__(self, planned: int, rendered: int) -> None:
        super().__init__(planned, rendered)  # both in args: it must unpickle in the service
        self.planned = planned
        self.rendered = rendered

    def __str__(self) -> str:
        return f"planned {self.planned} pages, rendered {self.rendered}"


@dataclass(frozen=True)
class Pdf:
    content: bytes
    pages: int
    sha256: str


WARM_UP_HTML = (
    "<html><body style=\"font-family: 'Noto Serif CJK SC'\">"
    "<h1 style=\"font-family: 'Noto Sans CJK SC'; font-weight: bold\">预热 第1页</h1>"
    "<p>预热</p></body></html>"
)


@dataclass(frozen=True)
class Failure:
    """What a task raised, as left for the service by run_task."""

    error: Exception


def run_task(outcome_dir: str, fn: Callable[..., Any], args: tuple, time_limit: float) -> str:
    """fn(*args, time_limit=...), its result or exception pickled into a new file of
    outcome_dir; answers that file's path.

    Why a file: the executor carries results over one pipe that all workers write to. A
    worker killed halfway through writing a large result (a PDF) leaves half a message in
    it, and the executor's manager thread then waits for the rest for ever: the crash is
    never reported, and the process cannot exit. A path is written to the pipe in one
    piece (a pipe write under 4 KiB is atomic), and a half-written file harms no one."""
    try:
        outcome = fn(*args, time_limit=time_limit)
    except Exception as error:
        outcome = Failure(_portable(error))
    descriptor, path = tempfile.mkstemp(dir=outcome_dir, suffix=".pickle")
    with os.fdopen(descriptor, "wb") as out:
        pickle.dump(outcome, out, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def take_outcome(path: str) -> Any:
    """The result run_task left at path (the file is removed), or its exception raised."""
    try:
        with open(path, "rb") as left:
            outcome = pickle.load(left)
    finally:
        os.unlink(path)
    if isinstance(outcome, Failure):
        raise outcome.error
    return outcome


def _portable(error: Exception) -> Exception:
    # The worker's traceback goes along as a note, for the service's log.
    where = "".join(traceback.format_exception(error)).rstrip()
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        error = RuntimeError(f"{type(error).__name__}: {error}")
    error.__traceback__ = error.__context__ = error.__cause__ = None
    error.add_note(f"in the render worker:\n{where}")
    return error


_memory_limit = 0  # bytes of address space this worker may use; 0: no limit


def initialize(memory_limit_bytes: int | None, warm: bool = True, service: int = 0) -> None:
    """Worker initializer: limits, then fonts loaded once rather than on the first task; the
    worker ends with the service (`service`, its pid) should that be killed."""
    global _memory_limit
    if service:
        end_with(service)
    if memory_limit_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
        _memory_limit = memory_limit_bytes
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service stops its workers itself
    if warm:
        HTML(string=WARM_UP_HTML).write_pdf()
    # What is loaded now lives as long as the worker: keep it out of every collection, and
    # collect less often during a task (a layout makes millions of objects; with Python's
    # defaults the collector takes a quarter of a long render). Each task ends with a full
    # collection, so its garbage does not pile up over the next ones.
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 50)


def _on_alarm(_signum, _frame) -> None:
    raise RenderTimeout()


class _Task:
    """A task's time limit, and its garbage collected when it ends."""

    def __init__(self, time_limit: float | None) -> None:
        self.time_limit = time_limit

    def __enter__(self) -> None:
        if self.time_limit:
            signal.setitimer(signal.ITIMER_REAL, self.time_limit)

    def __exit__(self, kind, error, _traceback) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        # Out of address space, C code fails in its own ways (SystemError, a ValueError
        # from cffi...): what failed next to the limit is reported as what it is.
        near_limit = _memory_limit and _address_space() > 0.85 * _memory_limit
        gc.collect()
        if error is not None and not isinstance(error, RenderTimeout) and near_limit:
            raise MemoryError("render worker near its address-space limit") from error


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _pdf(content: bytes, pages: int) -> Pdf:
    return Pdf(content, pages, hashlib.sha256(content).hexdigest())


def _write(html: str) -> tuple[bytes, int]:
    document = HTML(string=html).render()
    return document.write_pdf(), len(document.pages)


def render_document(kind_key: str, snapshot, time_limit: float | None = None) -> Pdf:
    """One whole document."""
    with _Task(time_limit):
        content, pages = _write(templates.document_html(KINDS[kind_key], snapshot))
        return _pdf(content, pages)


def render_roster_pages(
    kind_key: str,
    roster,
    plan: layout.RosterPlan,
    first: int,
    count: int,
    time_limit: float | None = None,
) -> Pdf:
    """Pages first..first+count-1 (from 0) of a planned roster; PaginationMismatch if the
    render does not come out as planned."""
    with _Task(time_limit):
        sheets = plan.sheets[first : first + count]
        html = templates.roster_html(KINDS[kind_key], roster, plan, sheets)
        content, pages = _write(html)
        if pages != len(sheets):
            raise PaginationMismatch(len(sheets), pages)
        return _pdf(content, pages)


def merge(
    parts: Sequence[bytes], labels: Sequence[str] | None = None, time_limit: float | None = None
) -> Pdf:
    """The parts, in order, as one PDF, each font embedded once; with `labels`, one bookmark
    per part."""
    with _Task(time_limit):
        writer = pypdf.PdfWriter()
        for index, part in enumerate(parts):
            label = labels[index] if labels else None
            writer.append(pypdf.PdfReader(io.BytesIO(part)), outline_item=label)
        if fonts.share_fonts(writer):
            writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        out = io.BytesIO()
        writer.write(out)
        return _pdf(out.getvalue(), len(writer.pages))

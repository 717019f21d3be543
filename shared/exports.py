"""导出Excel, the owner's half: a list's rows, read with a server-side cursor in one snapshot,
written to an .xlsx by rust_xlsxwriter in constant-memory mode, and sent to the documents service
in parts (docs/reports.md, "Excel exports").

Memory stays flat however long the list: the cursor hands over CHUNK rows at a time,
the writer keeps one row (it writes each finished row to a temporary file and zips them at
the end), and the file leaves in parts of PART_BYTES. The service's event loop stays free and
its requests fast: a thread converts a chunk (opening sealed numbers, masking) while the loop
fetches the next, and a worker process of the service's own writes the converted rows
(shared/sheets.py), so the writer's Python side (a dict per row, the generator) runs beside
the service, not inside it.

The writer: rust_xlsxwriter (PyPI rustpy-xlsxwriter) writes the cells in Rust; XlsxWriter,
which wrote them in Python at 4-5 us a cell, took the same 100,000 rows about eight times as
long, and openpyxl's write-only mode longer still (bench/reports.py, docs/reports.md).
"""

import asyncio
import base64
import hashlib
import inspect
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime
from multiprocessing import get_context
from typing import Any

from pydantic import ValidationError

from shared import sheets
from shared.clock import SHENZHEN
from shared.contracts.documents.rpc import EXPORTS_PART, EXPORTS_PROGRESS
from shared.contracts.export_lists import EXPORT_LISTS, UnknownFilters, filters_of
from shared.contracts.exports import MAX_EXPORT_ROWS, PART_BYTES, BuildExport, ExportQuery
from shared.rpc import CallContext, RpcError, invalid_input

log = logging.getLogger(__name__)

CHUNK = 2000  # rows fetched from the cursor and written at a time
PROGRESS_SECONDS = 0.5  # the documents job hears how far the file got at most this often
Column = sheets.Column  # the owners' column specs, as the worker reads them
WRITER_LOST = "生成 Excel 文件的进程意外退出，将自动重试"


@dataclass
class Source:
    """One list as its owner exports it: the query (the list's own WHERE and ORDER BY, no
    paging), the sheet's columns and how a row becomes their values."""

    title: str  # the sheet's and the file's name
    columns: Sequence[Column]
    sql: str
    args: Sequence[Any]
    convert: Callable[[Any], Sequence[Any]]  # a record to its values (runs in the thread)
    # before a chunk is written, on the event loop: look up what the rows need from elsewhere
    prepare: Callable[[list], Awaitable[None]] | None = None
    full_fields: list[str] = field(default_factory=list)  # personal numbers shown in full
    count_sql: str = ""  # how many rows `sql` gives (the same args), as the list's page counts
    # a list that is not one query (the audit trails merged): its rows a chunk at a time, in
    # place of `sql`; its count is not known before it is written (0)
    chunks: Callable[[], AsyncIterator[list]] | None = None


def excel_time(value: datetime | None) -> datetime | None:
    """A moment as Shenzhen's wall clock: Excel knows no time zones."""
    return value.astimezone(SHENZHEN).replace(tzinfo=None) if value else None


def excel_date(text: str | date | None) -> date | None:
    if not text:
        return None
    return text if isinstance(text, date) else date.fromisoformat(text)


# --- the owner's two methods ---

# a list's filters and the caller: its source (or a coroutine giving it)
SourceOf = Callable[[dict, CallContext], Source | Awaitable[Source]]


def export_methods(owner: str, sources: dict[str, SourceOf], client_of: Callable):
    """`export.count` and `export.build` of a service that owns the lists in `sources`;
    `client_of(ctx)` is its RpcClient to documents."""

    async def source_of(params: ExportQuery, ctx: CallContext) -> Source:
        export = EXPORT_LISTS.get(params.list)
        if export is None or export.owner != owner or params.list not in sources:
            raise RpcError("not_found", "没有这个可导出的列表", 404)
        try:
            filters = filters_of(params.list, params.filters)
        except UnknownFilters as unknown:
            raise RpcError("invalid_input", "查询条件有误", 422, unknown.fields) from None
        except ValidationError as error:
            raise invalid_input(error) from None
        source = sources[params.list](filters, ctx)
        return await source if inspect.isawaitable(source) else source

    async def count(params: ExportQuery, ctx: CallContext) -> dict:
        source = await source_of(params, ctx)
        rows = await ctx.pool.fetchval(source.count_sql, *source.args) if source.count_sql else 0
        if rows > MAX_EXPORT_ROWS:
            raise too_many(rows, MAX_EXPORT_ROWS)
        return {"rows": rows, "title": source.title}

    async def build_export(params: BuildExport, ctx: CallContext) -> dict:
        return await build(ctx, params, await source_of(params, ctx), client_of(ctx))

    return count, build_export


async def build(ctx: CallContext, params: BuildExport, source: Source, client) -> dict:
    """Build the file of `source` and send it to the documents job `params` names."""
    key = f"{params.job_id}:{params.attempt}"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="zc-export-") as tmpdir:
        path = os.path.join(tmpdir, "export.xlsx")
        writer = SheetWriter(key)
        await writer.call(sheets.open_sheet, key, path, source.title, list(source.columns), tmpdir)
        opened = time.monotonic()
        try:
            rows = await _write_rows(ctx, params, source, writer, client)
        except BaseException:
            await asyncio.shield(writer.call(sheets.drop_sheet, key))
            raise
        handed = time.monotonic()
        await writer.call(sheets.close_sheet, key)
        written = time.monotonic()
        parts, size, sha256 = await _send(ctx, params, path, client)
    log.info(
        "export %s: %d rows, %d bytes; opening the sheet %.2fs, rows read and handed over"
        " %.2fs, the writer finishing %.2fs, parts sent %.2fs",
        key, rows, size, opened - started, handed - opened, written - handed,
        time.monotonic() - written,
    )  # fmt: skip
    return {
        "rows": rows,
        "parts": parts,
        "size_bytes": size,
        "sha256": sha256,
        "full_fields": source.full_fields,
    }


async def _write_rows(ctx, params: BuildExport, source: Source, writer, client) -> int:
    """While the worker writes one chunk, fetch and convert the next."""
    progress = _Progress(ctx, params, client)
    writing: asyncio.Future | None = None
    rows = 0
    async for records in source.chunks() if source.chunks else _cursor_chunks(ctx, source):
        if source.prepare is not None:
            await source.prepare(records)
        values = await asyncio.to_thread(_converted, records, source.convert)
        if writing is not None:
            await writing
            await progress.report(rows)
        if rows + len(values) > MAX_EXPORT_ROWS:
            raise too_many(rows + len(values), MAX_EXPORT_ROWS)
        writing = asyncio.ensure_future(writer.call(sheets.write_rows, writer.key, values))
        rows += len(values)
    if writing is not None:
        await writing
    await progress.report(rows, final=True)
    return rows


def _converted(records: list, convert: Callable[[Any], Sequence[Any]]) -> list[tuple]:
    return [tuple(convert(record)) for record in records]


async def _cursor_chunks(ctx: CallContext, source: Source) -> AsyncIterator[list]:
    """The rows of `source.sql` from a server-side cursor, in one snapshot."""
    async with ctx.pool.acquire() as conn, conn.transaction(readonly=True):
        cursor = await conn.cursor(source.sql, *source.args)
        while records := await cursor.fetch(CHUNK):
            yield records


class SheetWriter:
    """The service's sheet-writing worker process (one, started on the first export and kept;
    a worker that died is replaced at the next export, the export it broke fails and its job is
    tried again)."""

    _pool: ProcessPoolExecutor | None = None

    def __init__(self, key: str) -> None:
        self.key = key
        if SheetWriter._pool is None:
            # spawn: not fork (the service has threads and open connections), nor the fork
            # server (documents' render pool sets what it preloads)
            SheetWriter._pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
        self.pool = SheetWriter._pool

    async def call(self, fn, *args):
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        except BrokenProcessPool:
            if SheetWriter._pool is self.pool:
                SheetWriter._pool = None
            raise RpcError(
                "writer_lost", "生成 Excel 文件的进程意外退出，将自动重试", 503
            ) from None


@dataclass
class _Progress:
    ctx: CallContext
    params: BuildExport
    client: Any
    last: float = 0.0

    async def report(self, rows: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < PROGRESS_SECONDS:
            return
        self.last = now
        progress = {"job_id": self.params.job_id, "attempt": self.params.attempt, "rows": rows}
        await self.client.invoke(EXPORTS_PROGRESS, progress, self.ctx.actor)


async def _send(ctx: CallContext, params: BuildExport, path: str, client) -> tuple[int, int, str]:
    """The finished file to documents, a part at a time; a refused part (the job was taken
    over by another attempt, or expired) stops the build."""
    digest = hashlib.sha256()
    size = seq = 0
    file = await asyncio.to_thread(open, path, "rb")
    with file:
        while content := await asyncio.to_thread(file.read, PART_BYTES):
            digest.update(content)
            size += len(content)
            part = {
                "job_id": params.job_id,
                "attempt": params.attempt,
                "seq": seq,
                "content_base64": base64.b64encode(content).decode(),
            }
            await client.invoke(EXPORTS_PART, part, ctx.actor)
            seq += 1
    return seq, size, digest.hexdigest()


def too_many(rows: int, limit: int) -> RpcError:
    message = f"本列表共 {rows} 行，一次最多导出 {limit} 行，请用查询条件缩小范围后分批导出"
    return RpcError("too_many_rows", message, 422)

"""导出Excel, the owner's half: a list's rows, read with a server-side cursor in one snapshot,
written into an .xlsx by shared/xlsx.py as they come, and sent to the documents service in
parts while the file is still being written (docs/reports.md, "Excel exports").

Memory is bounded however long the list: the cursor hands over CHUNK rows at a time, a
chunk becomes XML and deflated bytes, and those leave in parts of PART_BYTES; a few chunks
are in flight at once. A task fetches; threads convert chunks and make their XML meanwhile
(sealed numbers are opened in a worker process: AES-GCM holds the GIL); the sheet's thread
deflates (ISA-L) and sends the parts. A list's plain columns can be made into
cells by PostgreSQL as it reads them (`cells_sql`): the cases' work list, the one that runs to
100,000 rows, does, with its units' names and step marks looked up once and joined in; its
sealed numbers become cells in the worker.
"""

import asyncio
import base64
import hashlib
import inspect
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime
from multiprocessing import get_context
from typing import Any

from pydantic import ValidationError

from shared import xlsx
from shared.clock import SHENZHEN
from shared.contracts.documents.rpc import EXPORTS_PART, EXPORTS_PROGRESS
from shared.contracts.export_lists import EXPORT_LISTS, UnknownFilters, filters_of
from shared.contracts.exports import (
    HEARTBEAT_SECONDS,
    MAX_EXPORT_ROWS,
    PART_BYTES,
    BuildExport,
    ExportQuery,
)
from shared.export_render import Sealed, open_columns
from shared.rpc import CallContext, RpcError, invalid_input

log = logging.getLogger(__name__)

CHUNK = 2000  # rows fetched from the cursor and written at a time
FETCHED_AHEAD = 1  # chunks fetched and waiting to be converted
RENDERS_AHEAD = 2  # chunks being converted and made into XML while the next is fetched
CHUNKS_AHEAD = 2  # made chunks waiting to be deflated: with the above, bounded memory
WORKER_LOST = "生成 Excel 文件的进程意外退出，将自动重试"
SORT_MEMORY = "64MB"  # an export's sort of 100,000 rows, in memory rather than on disk
PROGRESS_SECONDS = 0.5  # the documents job hears how far the file got at most this often
Column = xlsx.Column


@dataclass
class Source:
    """One list as its owner exports it: the query (the list's own WHERE and ORDER BY, no
    paging), the sheet's columns and how a row becomes their values."""

    title: str  # the sheet's and the file's name
    columns: Sequence[Column]
    sql: str
    args: Sequence[Any]
    # a record to its values (runs in a thread)
    convert: Callable[[Any], Sequence[Any]] | None = None
    # or, for a long list, a chunk of records to its values a column at a time (a list
    # comprehension a column, where convert is a call and a tuple a row)
    convert_columns: Callable[[list], list[list]] | None = None
    # the kinds of the values given, where some are cells made by `cells_sql` (one value for
    # several columns); by default a value of each column's kind
    values: Sequence[xlsx.ValueKind] | None = None
    # before the rows are read, in their snapshot: more arguments for `sql` (after `args`),
    # what its rows need from elsewhere looked up once for the list
    lookups: Callable[[Any], Awaitable[Sequence[Any]]] | None = None
    full_fields: list[str] = field(default_factory=list)  # personal numbers shown in full
    # values (by position) that are sealed numbers: opened (and masked) in the service's
    # worker process for exports, which makes them into cells (shared/export_render.py):
    # their kind in `values` is "cells"
    sealed: dict[int, Sealed] = field(default_factory=dict)
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


def cells_sql(*cells: tuple[str, xlsx.Kind]) -> str:
    """SQL giving the XML of consecutive cells of a row, in UTF-8 (bytea: no decoding into a
    Python str and back), each an (expression, kind): a text escaped for XML (the control
    characters XML forbids are left out by the writer), a number, a date, a moment
    (timestamptz, shown as Shenzhen's wall clock). PostgreSQL makes these in C as it reads
    the rows, where Python took a few microseconds a cell."""
    xml = " || ".join(_cell_sql(expression, kind) for expression, kind in cells)
    return f"convert_to({xml}, 'UTF8')"


# The end of a query that makes cells (cells_sql) and sorts: one row past the most an export
# takes (too many is still seen). With a LIMIT, PostgreSQL puts off making the cells until
# after the sort: it sorts the plain columns and makes a row's cells as the cursor reads it.
# Without, it made them all, then sorted those wide rows before the first row came (0.95 s
# to the first 2,000 of 100,000 rows against 0.41 s: bench/reports.py).
CELLS_LIMIT = f" LIMIT {MAX_EXPORT_ROWS + 1}"


def _cell_sql(expression: str, kind: xlsx.Kind) -> str:
    if kind in ("text", "label"):
        value = f"nullif(({expression})::text, '')"  # an empty text, an empty cell
        for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
            value = f"replace({value}, '{char}', '{escaped}')"
    elif kind == "number":
        value = f"({expression})::text"
    elif kind == "date":
        value = f"(({expression})::date - DATE '1899-12-30')::text"
    else:  # Excel's day number of the wall-clock moment
        local = f"({expression}) AT TIME ZONE '{SHENZHEN.key}'"
        value = f"(date_part('epoch', {local}) / 86400 + 25569)::text"
    before, after = xlsx.CELLS[kind].split("%s")
    return f"coalesce('{before}' || {value} || '{after}', '{xlsx.EMPTY}')"


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
    if source.sealed:
        _Worker.start()  # while the database sorts
    parts = _Parts(ctx, params, client, asyncio.get_running_loop())
    sheet = _Sheet(parts, source)
    progress = _Progress(ctx, params, client)
    beating = asyncio.ensure_future(progress.beat())
    try:
        rows = await _write_rows(ctx, source, sheet, progress)
        written = time.monotonic()
        await sheet.close()
    except BaseException:
        await asyncio.shield(asyncio.to_thread(sheet.abandon))
        raise
    finally:
        beating.cancel()
    log.info(
        "export %s: %d rows, %d bytes in %d parts; rows read and rendered %.2fs,"
        " the file finished and its last parts sent %.2fs",
        key, rows, parts.size, parts.seq, written - started, time.monotonic() - written,
    )  # fmt: skip
    return {
        "rows": rows,
        "parts": parts.seq,
        "size_bytes": parts.size,
        "sha256": parts.digest.hexdigest(),
        "full_fields": source.full_fields,
    }


async def _write_rows(ctx, source: Source, sheet: "_Sheet", progress: "_Progress") -> int:
    """Chunks are fetched by a task of their own (FETCHED_AHEAD ahead) while up to
    RENDERS_AHEAD are being converted and made into XML; the made ones go to the sheet in
    their order. Fetching (the database making the cells) and making the XML overlap."""
    fetched: asyncio.Queue = asyncio.Queue(FETCHED_AHEAD)
    fetching = asyncio.ensure_future(_fetch_all(ctx, source, fetched))
    rendering: deque[tuple[asyncio.Future, int]] = deque()
    rows = written = 0
    try:
        while (records := await fetched.get()) is not None:
            if isinstance(records, Exception):
                raise records
            if rows + len(records) > MAX_EXPORT_ROWS:
                raise too_many(rows + len(records), MAX_EXPORT_ROWS)
            rendering.append((asyncio.ensure_future(sheet.render(records)), len(records)))
            rows += len(records)
            while len(rendering) > RENDERS_AHEAD:
                written += await _hand_over(sheet, rendering.popleft())
                await progress.report(written)
        while rendering:
            written += await _hand_over(sheet, rendering.popleft())
    finally:
        fetching.cancel()  # an export that failed: nothing more to fetch or make
        for future, _ in rendering:
            future.cancel()
    await progress.report(rows, force=True)
    return rows


async def _fetch_all(ctx: CallContext, source: Source, fetched: asyncio.Queue) -> None:
    """Every chunk into `fetched`, then None; or, where fetching failed, its error."""
    try:
        async for records in source.chunks() if source.chunks else _cursor_chunks(ctx, source):
            await fetched.put(records)
    except Exception as error:
        await fetched.put(error)
        return
    await fetched.put(None)


async def _hand_over(sheet: "_Sheet", rendered: tuple[asyncio.Future, int]) -> int:
    future, rows = rendered
    await sheet.deflate(await future, rows)
    return rows


async def _cursor_chunks(ctx: CallContext, source: Source) -> AsyncIterator[list]:
    """The rows of `source.sql` from a server-side cursor, in one snapshot (its lookups'
    too), its sort in memory (SORT_MEMORY) rather than on disk."""
    async with ctx.pool.acquire() as conn:
        async with conn.transaction(readonly=True, isolation="repeatable_read"):
            await conn.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
            args = [*source.args, *(await source.lookups(conn))] if source.lookups else source.args
            cursor = await conn.cursor(source.sql, *args)
            while records := await cursor.fetch(CHUNK):
                yield records


class _Worker:
    """The service's worker process for exports (one, started with the first export that
    opens numbers and kept; one that died is replaced at the next export, and the export it
    broke is tried again)."""

    _pool: ProcessPoolExecutor | None = None
    _lock = threading.Lock()

    @classmethod
    def start(cls) -> ProcessPoolExecutor:
        with cls._lock:
            if cls._pool is None:
                # spawn: not fork (the service has threads and open connections)
                cls._pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
                cls._pool.submit(int)  # the process starts now, not at the first chunk
            return cls._pool

    @classmethod
    async def open(cls, *args) -> dict[int, list]:
        """open_columns, in the worker."""
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(cls.start(), open_columns, *args)
        except BrokenProcessPool:
            with cls._lock:
                cls._pool = None
            raise RpcError("worker_lost", WORKER_LOST, 503) from None


class _Sheet:
    """The .xlsx of one export: `render` (in a thread) converts a chunk of records and makes
    its XML; a thread of the sheet's own deflates that into the zip and hands the zip's bytes
    to `parts` as they come. The zip is written as a stream (no seeking back), so a byte
    written is final and may leave before the file is done."""

    def __init__(self, parts: "_Parts", source: Source) -> None:
        self.source, self.parts = source, parts
        self.file = xlsx.SheetFile(parts, source.title, source.columns, source.values)
        self._rendered: queue.Queue = queue.Queue(CHUNKS_AHEAD)
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._deflate_all, name="export-zip", daemon=True)
        self._thread.start()

    async def render(self, records: list) -> bytes:
        """A chunk of records as the sheet's XML: converted in a thread, made into XML there
        or, where it holds sealed numbers, in the worker process."""
        file, source = self.file, self.source
        if not source.sealed:
            return await asyncio.to_thread(self._render, records)
        columns = await asyncio.to_thread(self._columns, records)
        sealed = {index: columns[index] for index in source.sealed}
        for index, values in (await _Worker.open(sealed, source.sealed)).items():
            columns[index] = values
        return await asyncio.to_thread(xlsx.columns_xml, file.template, file.kinds, columns)

    def _render(self, records: list) -> bytes:
        return xlsx.columns_xml(self.file.template, self.file.kinds, self._columns(records))

    def _columns(self, records: list) -> list[list]:
        source = self.source
        if source.convert_columns is not None:
            return source.convert_columns(records)
        return [list(c) for c in zip(*[source.convert(r) for r in records], strict=True)]

    async def deflate(self, xml: bytes, rows: int) -> None:
        """Into the zip, in the sheet's thread (waits while CHUNKS_AHEAD are waiting there)."""
        self._raise_if_failed()
        await asyncio.to_thread(self._rendered.put, (xml, rows))

    async def close(self) -> None:
        await asyncio.to_thread(self._finish)

    def _finish(self) -> None:
        self._rendered.put(None)
        self._thread.join()
        self._raise_if_failed()
        self.file.close()
        self.parts.flush_all()

    def abandon(self) -> None:
        """A build that failed: the zip closed, and what it would still write dropped."""
        self._rendered.put(None)
        self._thread.join()
        self.parts.abandoned = True
        self.file.abandon()

    def _deflate_all(self) -> None:
        while (item := self._rendered.get()) is not None:
            if self._failed is not None:
                continue  # drained, so that render and close never wait on a full queue
            try:
                self.file.write_xml(*item)
            except BaseException as error:  # handed to the loop at the next render or close
                self._failed = error

    def _raise_if_failed(self) -> None:
        if self._failed is not None:
            raise self._failed


class _Parts:
    """Where the zip is written: bytes gathered into parts of PART_BYTES, each sent to
    documents (from the sheet's thread, waiting for the answer) as soon as it is full. A
    refused part (the job was taken over by another attempt, or expired) stops the build."""

    def __init__(self, ctx: CallContext, params: BuildExport, client, loop) -> None:
        self.ctx, self.params, self.client, self.loop = ctx, params, client, loop
        self.buffer = bytearray()
        self.digest = hashlib.sha256()
        self.size = self.seq = 0
        self.abandoned = False

    def write(self, data: bytes) -> int:
        if self.abandoned:
            return len(data)
        self.buffer += data
        while len(self.buffer) >= PART_BYTES:
            self._send(bytes(self.buffer[:PART_BYTES]))
            del self.buffer[:PART_BYTES]
        return len(data)

    def flush(self) -> None:  # zipfile flushes its file; a part leaves only when full
        pass

    def flush_all(self) -> None:
        if self.buffer:
            self._send(bytes(self.buffer))
            self.buffer.clear()

    def _send(self, content: bytes) -> None:
        self.digest.update(content)
        self.size += len(content)
        part = {
            "job_id": self.params.job_id,
            "attempt": self.params.attempt,
            "seq": self.seq,
            "content_base64": base64.b64encode(content).decode(),
        }
        sent = self.client.invoke(EXPORTS_PART, part, self.ctx.actor)
        asyncio.run_coroutine_threadsafe(sent, self.loop).result()
        self.seq += 1


@dataclass
class _Progress:
    """The rows written, reported to the documents job at most every PROGRESS_SECONDS, and
    at least every HEARTBEAT_SECONDS (`beat`) while the build lives, rows written or not:
    documents gives up on a build it has not heard of for a while (its owner killed)."""

    ctx: CallContext
    params: BuildExport
    client: Any
    last: float = 0.0
    rows: int = 0

    async def report(self, rows: int, force: bool = False) -> None:
        self.rows = rows
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_SECONDS:
            return
        self.last = now
        progress = {"job_id": self.params.job_id, "attempt": self.params.attempt, "rows": rows}
        await self.client.invoke(EXPORTS_PROGRESS, progress, self.ctx.actor)

    async def beat(self) -> None:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        while True:
            quiet = time.monotonic() - self.last
            if quiet >= HEARTBEAT_SECONDS:
                try:
                    await self.report(self.rows, force=True)
                except Exception as error:  # a missed beat; a lost job stops the build anyway
                    log.warning("export %s: progress not reported: %r", self.params.job_id, error)
                    self.last = time.monotonic()
                quiet = 0.0
            await asyncio.sleep(HEARTBEAT_SECONDS - quiet)


def too_many(rows: int, limit: int) -> RpcError:
    message = f"本列表共 {rows} 行，一次最多导出 {limit} 行，请用查询条件缩小范围后分批导出"
    return RpcError("too_many_rows", message, 422)

"""导出Excel, the owner's half: a list's rows, read with a server-side cursor in one snapshot,
written into an .xlsx by shared/xlsx.py as they come, and sent to the documents service in
parts while the file is still being written (docs/reports.md, "Excel exports").

Memory is bounded however long the list: the rows come CHUNK at a time (or a block of
about BLOCK_BYTES of COPY text), a chunk becomes XML and deflated bytes, and those leave in
parts of PART_BYTES; a few chunks are in flight at once. A task fetches; threads convert
chunks and make their XML meanwhile; the sheet's thread deflates (ISA-L) and sends the parts.

A long list with sealed numbers (the cases' work list, the one that runs to 100,000 rows) is
read with COPY (`Source.fields`): PostgreSQL sends each row's plain values (`copy_select`),
the service splits a block of lines into fields, makes the cells of the keys it has not seen
(a unit's id: its name's cell, `Lookup`) and joins the fields into the sheet's rows, and its
worker process opens the sealed numbers between (AES-GCM holds the GIL):
shared/export_render.py.
"""

import asyncio
import concurrent.futures
import contextlib
import hashlib
import inspect
import logging
import os
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
from shared.export_render import (
    Sealed,
    block_rows,
    key_text,
    open_columns,
    sealed_tokens,
    split_block,
)
from shared.processes import end_with
from shared.rpc import CallContext, RpcError, invalid_input

log = logging.getLogger(__name__)

CHUNK = 2000  # rows fetched from the cursor and written at a time
BLOCK_BYTES = 400 * 1024  # COPY text handed to the worker at a time: about 1,300 rows
FETCHED_AHEAD = 1  # chunks fetched and waiting to be converted
RENDERS_AHEAD = 2  # chunks being converted and made into XML while the next is fetched
CHUNKS_AHEAD = 2  # made chunks waiting to be deflated: with the above, bounded memory
WORKER_LOST = "生成 Excel 文件的进程意外退出，将自动重试"
SORT_MEMORY = "64MB"  # an export's sort of 100,000 rows, in memory rather than on disk
RANDOM_PAGE_COST = 1.1  # the planner's cost of a page read out of order, against 1 in order
PARTS_IN_FLIGHT = 2  # parts sent to documents and not yet answered
PROGRESS_SECONDS = 0.5  # the documents job hears how far the file got at most this often
Column = xlsx.Column


@dataclass(frozen=True)
class Lookup:
    """A COPY field that is a key (an id), made into the sheet's cells once for the export:
    `cells_of` is given the keys a block brings that were not seen before, as texts, and
    gives each key's cells (one or more); a key it leaves out, and an empty field (NULL),
    is `empty`."""

    cells_of: Callable[[list[str]], Awaitable[dict[str, bytes]]]
    empty: bytes = xlsx.EMPTY.encode()


# What a field of a COPY source is: a plain value of a kind, a sealed number, a key
CopyField = xlsx.Kind | Sealed | Lookup


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
    # or: `sql` is read with COPY, its select list made by `copy_select`, and these are its
    # fields, in order: a field gives one column, but a key's cells may be several
    fields: Sequence[CopyField] = ()
    full_fields: list[str] = field(default_factory=list)  # personal numbers shown in full
    count_sql: str = ""  # how many rows `sql` gives (the same args), as the list's page counts
    # a list that is not one query (the audit trails merged): its rows a chunk at a time, in
    # place of `sql`; its count is not known before it is written (0)
    chunks: Callable[[], AsyncIterator[list]] | None = None

    @property
    def copy(self) -> bool:
        return bool(self.fields)

    def fields_of(self, how: type) -> dict[int, Any]:
        """The fields of one sort (Sealed, Lookup, str: plain), by position."""
        return {index: f for index, f in enumerate(self.fields) if isinstance(f, how)}


def excel_time(value: datetime | None) -> datetime | None:
    """A moment as Shenzhen's wall clock: Excel knows no time zones."""
    return value.astimezone(SHENZHEN).replace(tzinfo=None) if value else None


def excel_date(text: str | date | None) -> date | None:
    if not text:
        return None
    return text if isinstance(text, date) else date.fromisoformat(text)


def copy_select(fields: Sequence[tuple[str, CopyField]]) -> str:
    """The select list of a COPY source (`Source.fields`) from each field's expression and
    what it is: a date or a moment (timestamptz, shown as Shenzhen's wall clock) sent as
    Excel's day number, anything else as it is."""
    return ", ".join(_field_sql(expression, how) for expression, how in fields)


def _field_sql(expression: str, how: CopyField) -> str:
    if how == "date":
        return f"(({expression})::date - DATE '1899-12-30')"
    if how == "datetime":
        local = f"({expression}) AT TIME ZONE '{SHENZHEN.key}'"
        return f"(date_part('epoch', {local}) / 86400 + 25569)"
    return expression


def label_cells(names: Sequence[str | None]) -> list[bytes]:
    """Names that repeat (a unit's, a committee's) as the sheet's cells, made once for a
    list (a `Lookup`'s)."""
    return xlsx.column_cells("label", list(names))


# The end of a COPY source's query: one row past the most an export takes (too many is
# still seen)
ROWS_LIMIT = f" LIMIT {MAX_EXPORT_ROWS + 1}"


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
    if source.copy:
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
            count = _rows_in(records)
            if rows + count > MAX_EXPORT_ROWS:
                raise too_many(rows + count, MAX_EXPORT_ROWS)
            rendering.append((asyncio.ensure_future(sheet.render(records)), count))
            rows += count
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
        if source.copy:
            await _copy_blocks(ctx, source, fetched)
        else:
            chunks = source.chunks() if source.chunks else _cursor_chunks(ctx, source)
            async for records in chunks:
                await fetched.put(records)
    except Exception as error:
        await fetched.put(error)
        return
    await fetched.put(None)


async def _copy_blocks(ctx: CallContext, source: Source, fetched: asyncio.Queue) -> None:
    """The lines of `source.sql`, COPY'd in one snapshot (its lookups' too), into `fetched`
    in blocks of about BLOCK_BYTES, whole lines (the last without its newline). The queue is
    bounded: while it is full, the sink waits, asyncpg stops reading and PostgreSQL waits on
    its socket."""
    pending = bytearray()

    async def sink(data: bytes) -> None:
        pending.extend(data)
        if len(pending) >= BLOCK_BYTES and (end := pending.rfind(b"\n")) >= 0:
            await fetched.put(bytes(pending[:end]))
            del pending[: end + 1]

    async with _snapshot(ctx) as conn:
        # COPY may run its query in parallel workers: on two cores, with the service and its
        # worker busy beside it, they cost 0.2-0.3 s more of the database's CPU for a
        # 100,000-row list and the export took as long (bench/README.md)
        await conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        # NULL as an empty field, so that a backslash means an escape in a value
        await conn.copy_from_query(source.sql, *source.args, output=sink, null="")
    if pending:
        await fetched.put(bytes(pending[:-1]))  # COPY ends every line, the last too


async def _none() -> dict:
    return {}


def _rows_in(chunk: list | bytes) -> int:
    """A chunk's rows: records, or a block of COPY lines."""
    return chunk.count(b"\n") + 1 if isinstance(chunk, bytes) else len(chunk)


async def _hand_over(sheet: "_Sheet", rendered: tuple[asyncio.Future, int]) -> int:
    future, rows = rendered
    await sheet.deflate(await future, rows)
    return rows


async def _cursor_chunks(ctx: CallContext, source: Source) -> AsyncIterator[list]:
    """The rows of `source.sql` from a server-side cursor, in one snapshot."""
    async with _snapshot(ctx) as conn:
        cursor = await conn.cursor(source.sql, *source.args)
        while records := await cursor.fetch(CHUNK):
            yield records


@contextlib.asynccontextmanager
async def _snapshot(ctx: CallContext):
    """A connection in a read-only REPEATABLE READ transaction, its sort in memory
    (SORT_MEMORY) rather than on disk."""
    async with ctx.pool.acquire() as conn:
        async with conn.transaction(readonly=True, isolation="repeatable_read"):
            await conn.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
            # The lists are read from memory, in their index's order where one gives it. With
            # that much memory to sort in and the default cost of a random read (a spinning
            # disk's), the planner scanned and sorted a 100,000-row list before its first row
            # (0.3 s) where the index gave the rows at once, in less time in all (bench/README.md)
            await conn.execute(f"SET LOCAL random_page_cost = {RANDOM_PAGE_COST}")
            yield conn


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
                cls._pool = ProcessPoolExecutor(
                    1,
                    mp_context=get_context("spawn"),
                    initializer=end_with,
                    initargs=(os.getpid(),),
                )
                cls._pool.submit(int)  # the process starts now, not at the first chunk
            return cls._pool

    @classmethod
    async def open(cls, *args) -> dict[int, bytes]:
        """export_render.open_columns, in the worker."""
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
        self.file = xlsx.SheetFile(parts, source.title, source.columns)
        self._rendered: queue.Queue = queue.Queue(CHUNKS_AHEAD)
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._deflate_all, name="export-zip", daemon=True)
        self._thread.start()
        # a COPY source's: its fields by sort, and each key's cells as they are made
        self.width = len(source.fields)
        self.plain, self.sealed = source.fields_of(str), source.fields_of(Sealed)
        self.lookups: dict[int, Lookup] = source.fields_of(Lookup)
        self.looked_up = {index: {b"": how.empty} for index, how in self.lookups.items()}
        self._looking_up = asyncio.Lock()

    async def render(self, records: list | bytes) -> bytes:
        """A chunk of records as the sheet's XML, converted and made in a thread; a block
        of COPY lines split and joined on the loop, its numbers opened in the worker while
        its new keys' cells are made."""
        if not self.source.copy:
            return await asyncio.to_thread(self._render, records)
        # split and joined on the loop: a block's few milliseconds in C, which a thread
        # would run no sooner (they hold the GIL), only later, after a wait for it
        fields = split_block(records, self.width)
        tokens = sealed_tokens(fields, self.width, self.sealed)
        opening = asyncio.ensure_future(_Worker.open(tokens, self.sealed) if tokens else _none())
        try:
            await self._look_up(fields)
            opened = await opening
        finally:
            opening.cancel()  # a lookup that failed: the numbers are not waited for
        return block_rows(fields, self.width, self.plain, self.looked_up, opened)

    async def _look_up(self, fields: list[bytes]) -> None:
        """The cells of the keys in a block that were not seen before, made (one block at
        a time: blocks rendered side by side bring the same new keys)."""
        async with self._looking_up:
            for index, lookup in self.lookups.items():
                cells = self.looked_up[index]
                new = list(set(fields[index :: self.width]).difference(cells))
                if new:
                    texts = [key_text(key) for key in new]
                    made = await lookup.cells_of(texts)
                    for key, text in zip(new, texts, strict=True):
                        cells[key] = made.get(text, lookup.empty)

    def _render(self, records: list) -> bytes:
        columns = [list(c) for c in zip(*map(self.source.convert, records), strict=True)]
        return xlsx.columns_xml(self.file.template, self.file.kinds, columns)

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
    documents (from the sheet's thread) as soon as it is full, PARTS_IN_FLIGHT at most
    unanswered: the zip goes on while documents stores a part. A refused part (the job was
    taken over by another attempt, or expired) stops the build."""

    def __init__(self, ctx: CallContext, params: BuildExport, client, loop) -> None:
        self.ctx, self.params, self.client, self.loop = ctx, params, client, loop
        self.buffer = bytearray()
        self.digest = hashlib.sha256()
        self.size = self.seq = 0
        self.abandoned = False
        self.in_flight: deque[concurrent.futures.Future] = deque()

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
        while self.in_flight:
            self.in_flight.popleft().result()

    def _send(self, content: bytes) -> None:
        self.digest.update(content)
        self.size += len(content)
        part = {"job_id": self.params.job_id, "attempt": self.params.attempt, "seq": self.seq}
        sent = self.client.invoke(EXPORTS_PART, part, self.ctx.actor, attachment=content)
        self.in_flight.append(asyncio.run_coroutine_threadsafe(sent, self.loop))
        self.seq += 1
        while self.in_flight and (
            len(self.in_flight) > PARTS_IN_FLIGHT or self.in_flight[0].done()
        ):
            self.in_flight.popleft().result()  # a refused part raises here


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

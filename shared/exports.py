"""导出Excel, the owner's half: a list's rows, read with a server-side cursor in one snapshot,
written to an .xlsx with XlsxWriter's constant_memory mode, and sent to the documents service
in parts (docs/reports.md, "Excel exports").

Memory stays flat however long the list: the cursor hands over CHUNK rows at a time,
XlsxWriter keeps one row (it writes each finished row to a temporary file and zips them at
the end), and the file leaves in parts of PART_BYTES. The event loop stays free: converting
and writing a chunk runs in a worker thread while the loop fetches the next chunk, and the
zipping runs there too.

XlsxWriter rather than openpyxl's write-only mode: measured on this machine (bench/reports.py
and the commit that added it), XlsxWriter writes the same 100,000 rows about 1.5x faster, and
its constant_memory mode writes strings inline, so no shared-string table grows with the list.
"""

import asyncio
import base64
import hashlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import xlsxwriter
from pydantic import ValidationError

from shared.clock import SHENZHEN
from shared.contracts.documents.rpc import EXPORTS_PART, EXPORTS_PROGRESS
from shared.contracts.export_lists import EXPORT_LISTS, UnknownFilters, filters_of
from shared.contracts.exports import MAX_EXPORT_ROWS, PART_BYTES, BuildExport, ExportQuery
from shared.rpc import CallContext, RpcError, invalid_input

CHUNK = 2000  # rows fetched from the cursor and written at a time
PROGRESS_SECONDS = 0.5  # the documents job hears how far the file got at most this often
SHEET_NAME_MAX = 31  # Excel's limit

Kind = Literal["text", "number", "date", "datetime"]
FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}


@dataclass(frozen=True)
class Column:
    header: str  # in Chinese, as the page heads it
    kind: Kind = "text"
    width: float = 14


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


class Sheet:
    """One worksheet written row by row (XlsxWriter constant_memory). Used from one thread at
    a time: the export hands it chunk after chunk."""

    def __init__(self, path: str, title: str, columns: Sequence[Column], tmpdir: str) -> None:
        options = {
            "constant_memory": True,
            "tmpdir": tmpdir,
            # a cell that starts with "=" or looks like a link stays the text it is
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        }
        self.book = xlsxwriter.Workbook(path, options)
        self.sheet = self.book.add_worksheet(_sheet_name(title))
        self.columns = list(columns)
        self.rows = 0
        self._writers = [self._writer(c) for c in self.columns]
        bold = self.book.add_format({"bold": True})
        for number, column in enumerate(self.columns):
            self.sheet.set_column(number, number, column.width)
            self.sheet.write_string(0, number, column.header, bold)
        self.sheet.freeze_panes(1, 0)

    def _writer(self, column: Column) -> Callable[[int, int, Any], Any]:
        if column.kind == "number":
            return self.sheet.write_number
        if column.kind in FORMATS:
            shown = self.book.add_format({"num_format": FORMATS[column.kind]})
            return lambda row, col, value: self.sheet.write_datetime(row, col, value, shown)
        return self.sheet.write_string

    def write(self, records: list, convert: Callable[[Any], Sequence[Any]]) -> None:
        writers = self._writers
        row = self.rows
        for record in records:
            row += 1
            for col, value in enumerate(convert(record)):
                if value is not None and value != "":
                    writers[col](row, col, value)
        self.rows = row

    def close(self) -> None:
        if self.rows:
            self.sheet.autofilter(0, 0, self.rows, len(self.columns) - 1)
        self.book.close()


def _sheet_name(title: str) -> str:
    for banned in "[]:*?/\\":
        title = title.replace(banned, "_")
    return title[:SHEET_NAME_MAX] or "Sheet1"


# --- the owner's two methods ---

SourceOf = Callable[[dict, CallContext], Source]  # a list's filters and the caller: its source


def export_methods(owner: str, sources: dict[str, SourceOf], client_of: Callable):
    """`export.count` and `export.build` of a service that owns the lists in `sources`;
    `client_of(ctx)` is its RpcClient to documents."""

    def source_of(params: ExportQuery, ctx: CallContext) -> Source:
        export = EXPORT_LISTS.get(params.list)
        if export is None or export.owner != owner or params.list not in sources:
            raise RpcError("not_found", "没有这个可导出的列表", 404)
        try:
            filters = filters_of(params.list, params.filters)
        except UnknownFilters as unknown:
            raise RpcError("invalid_input", "查询条件有误", 422, unknown.fields) from None
        except ValidationError as error:
            raise invalid_input(error) from None
        return sources[params.list](filters, ctx)

    async def count(params: ExportQuery, ctx: CallContext) -> dict:
        source = source_of(params, ctx)
        rows = await ctx.pool.fetchval(source.count_sql, *source.args) if source.count_sql else 0
        if rows > MAX_EXPORT_ROWS:
            raise too_many(rows, MAX_EXPORT_ROWS)
        return {"rows": rows, "title": source.title}

    async def build_export(params: BuildExport, ctx: CallContext) -> dict:
        return await build(ctx, params, source_of(params, ctx), client_of(ctx))

    return count, build_export


async def build(ctx: CallContext, params: BuildExport, source: Source, client) -> dict:
    """Build the file of `source` and send it to the documents job `params` names."""
    with tempfile.TemporaryDirectory(prefix="zc-export-") as tmpdir:
        path = os.path.join(tmpdir, "export.xlsx")
        sheet = await asyncio.to_thread(Sheet, path, source.title, source.columns, tmpdir)
        rows = await _write_rows(ctx, params, source, sheet, client)
        await asyncio.to_thread(sheet.close)
        parts, size, sha256 = await _send(ctx, params, path, client)
    return {
        "rows": rows,
        "parts": parts,
        "size_bytes": size,
        "sha256": sha256,
        "full_fields": source.full_fields,
    }


async def _write_rows(ctx: CallContext, params: BuildExport, source: Source, sheet, client) -> int:
    """Fetch a chunk while the thread writes the one before."""
    progress = _Progress(ctx, params, client)
    writing: asyncio.Future | None = None
    async for records in source.chunks() if source.chunks else _cursor_chunks(ctx, source):
        if source.prepare is not None:
            await source.prepare(records)
        if writing is not None:
            await writing
            await progress.report(sheet.rows)
        if sheet.rows + len(records) > MAX_EXPORT_ROWS:
            raise too_many(sheet.rows + len(records), MAX_EXPORT_ROWS)
        writing = asyncio.ensure_future(asyncio.to_thread(sheet.write, records, source.convert))
    if writing is not None:
        await writing
    await progress.report(sheet.rows, final=True)
    return sheet.rows


async def _cursor_chunks(ctx: CallContext, source: Source) -> AsyncIterator[list]:
    """The rows of `source.sql` from a server-side cursor, in one snapshot."""
    async with ctx.pool.acquire() as conn, conn.transaction(readonly=True):
        cursor = await conn.cursor(source.sql, *source.args)
        while records := await cursor.fetch(CHUNK):
            yield records


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

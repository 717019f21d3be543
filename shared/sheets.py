"""The writing half of an export (导出Excel), in a process of its own: rustpy-xlsxwriter (the
Rust library rust_xlsxwriter, in constant-memory mode) writes one worksheet row by row from a
generator that a thread of the worker feeds a chunk of already converted rows at a time. It
replaced XlsxWriter, whose pure-Python cell writing (4-5 us a cell) put a 100,000-row export
at 24-42 times the bare COPY of its rows; the Rust writer takes about an eighth of that
(bench/reports.py). It still runs in a worker process (shared/exports.py starts one per
service process): making each row's dict and walking the generator holds the GIL, which in a
thread of the service would slow every request it answers meanwhile. This module imports
nothing but the writer, so the worker starts quickly.

The worker keeps the open sheets by key (job and attempt): several exports of one service
share it, each chunk written in the order it was sent.
"""

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rustpy_xlsxwriter import FastExcel, Format

Kind = Literal["text", "number", "date", "datetime"]
FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
SHEET_NAME_MAX = 31  # Excel's limit
CHUNKS_AHEAD = 4  # chunks waiting for the writer before the sender waits: bounded memory
_END = None


@dataclass(frozen=True)
class Column:
    header: str  # in Chinese, as the page heads it
    kind: Kind = "text"
    width: float = 14


class Sheet:
    """One worksheet, written by a thread of its own from the chunks `write` hands it."""

    def __init__(self, path: str, title: str, columns: Sequence[Column], tmpdir: str) -> None:
        self.columns = list(columns)
        self.headers = _unique([c.header for c in self.columns])
        self.rows = 0
        self._chunks: queue.Queue = queue.Queue(CHUNKS_AHEAD)
        self._failed: BaseException | None = None
        self._thread = threading.Thread(
            target=self._write_all, args=(path, sheet_name(title)), daemon=True
        )
        self._thread.start()

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of values in column order; None and "" leave the cell empty."""
        self._raise_if_failed()
        self._chunks.put(rows)

    def close(self) -> int:
        self._chunks.put(_END)
        self._thread.join()
        self._raise_if_failed()
        return self.rows

    def _write_all(self, path: str, title: str) -> None:
        try:
            book = FastExcel(path).format(bold_headers=True).freeze(row=1)
            book.sheet(
                title,
                self._records(),
                column_widths=[c.width for c in self.columns],
                column_formats={
                    header: _number_format(FORMATS[c.kind])
                    for header, c in zip(self.headers, self.columns, strict=True)
                    if c.kind in FORMATS
                },
                autofilter=True,
            )
            book.save()
        except BaseException as error:  # handed to the caller at its next write or close
            self._failed = error
            while self._chunks.get() is not _END:  # let the sender finish
                pass

    def _records(self) -> Iterator[dict]:
        headers = self.headers
        # A header row even for an empty list: the writer takes its headers from the keys.
        first = True
        while (chunk := self._chunks.get()) is not _END:
            for values in chunk:
                self.rows += 1
                first = False
                yield {h: (None if v == "" else v) for h, v in zip(headers, values, strict=True)}
        if first:
            yield dict.fromkeys(headers)

    def _raise_if_failed(self) -> None:
        if self._failed is not None:
            raise RuntimeError(f"写入表格失败：{self._failed}") from self._failed


def _number_format(pattern: str) -> Format:
    shown = Format()
    return shown.set_num_format(pattern) or shown


def _unique(headers: list[str]) -> list[str]:
    """Column headers as keys: a repeated one gets a number (the writer keys cells by header)."""
    seen: dict[str, int] = {}
    out = []
    for header in headers:
        seen[header] = seen.get(header, 0) + 1
        out.append(header if seen[header] == 1 else f"{header}{seen[header]}")
    return out


def sheet_name(title: str) -> str:
    for banned in "[]:*?/\\":
        title = title.replace(banned, "_")
    return title[:SHEET_NAME_MAX] or "Sheet1"


# --- in the worker process: the open sheets by key ---

_open: dict[str, Sheet] = {}


def open_sheet(key: str, path: str, title: str, columns: list[Column], tmpdir: str) -> None:
    _open[key] = Sheet(path, title, columns, tmpdir)


def write_rows(key: str, rows: list[tuple]) -> int:
    sheet = _open[key]
    sheet.write(rows)
    return sheet.rows


def close_sheet(key: str) -> int:
    return _open.pop(key).close()


def drop_sheet(key: str) -> None:
    """An export that failed: its workbook closed (its temporary files go with its folder)."""
    sheet = _open.pop(key, None)
    if sheet is not None:
        try:
            sheet.close()
        except Exception:  # a half-written book: nothing left to keep
            pass

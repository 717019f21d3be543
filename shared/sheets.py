"""The writing half of an export (导出Excel), in a process of its own: XlsxWriter's
constant_memory mode writes one worksheet row by row, a chunk of already converted rows at a
time. It runs in a worker process (shared/exports.py starts one per service process) because
XlsxWriter is pure Python: in a thread it would hold the GIL for seconds and slow every
request its service answers meanwhile. This module imports nothing but XlsxWriter, so the
worker starts quickly.

The worker keeps the open sheets by key (job and attempt): several exports of one service
share it, each chunk written in the order it was sent.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import xlsxwriter

Kind = Literal["text", "number", "date", "datetime"]
FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
SHEET_NAME_MAX = 31  # Excel's limit


@dataclass(frozen=True)
class Column:
    header: str  # in Chinese, as the page heads it
    kind: Kind = "text"
    width: float = 14


class Sheet:
    """One worksheet written row by row, from one thread at a time."""

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
        self.sheet = self.book.add_worksheet(sheet_name(title))
        self.columns = list(columns)
        self.rows = 0
        self._writers = [self._writer(c) for c in self.columns]
        bold = self.book.add_format({"bold": True})
        for number, column in enumerate(self.columns):
            self.sheet.set_column(number, number, column.width)
            self.sheet.write_string(0, number, column.header, bold)
        self.sheet.freeze_panes(1, 0)

    def _writer(self, column: Column):
        if column.kind == "number":
            return self.sheet.write_number
        if column.kind in FORMATS:
            shown = self.book.add_format({"num_format": FORMATS[column.kind]})
            return lambda row, col, value: self.sheet.write_datetime(row, col, value, shown)
        return self.sheet.write_string

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of values in column order; None and "" leave the cell empty."""
        writers = self._writers
        number = self.rows
        for values in rows:
            number += 1
            for col, value in enumerate(values):
                if value is not None and value != "":
                    writers[col](number, col, value)
        self.rows = number

    def close(self) -> int:
        if self.rows:
            self.sheet.autofilter(0, 0, self.rows, len(self.columns) - 1)
        self.book.close()
        return self.rows


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
            sheet.book.close()
        except Exception:  # a half-written book: nothing left to keep
            pass

"""A one-sheet .xlsx written as it streams: the file format of Office Open XML (ECMA-376
SpreadsheetML), the few parts a worksheet of values needs, zipped with the standard library.

Why not a library: XlsxWriter, openpyxl and rust_xlsxwriter all take a value at a time through
Python (a call or a dict entry per cell), which put a 100,000-row export at 8-42 times the
bare COPY of its rows; the issue asks for 3 (bench/reports.py, docs/reports.md). Here a
chunk's cells are made a column at a time by list comprehensions (no call per cell), a row is
one join, and the sheet is deflated by Intel's ISA-L (level 1: the XML is repetitive; five
times zlib's speed at its level 1, for a smaller file) in the zip the standard library
writes. What the file holds is what the exports need and no more: inline strings (no
shared-strings table to keep in memory), numbers, dates and times as Excel serials with a date
format, a bold frozen header row with an auto filter, column widths. openpyxl reads every
file back in the tests.
"""

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO, Literal
from xml.sax.saxutils import quoteattr

from isal import isal_zlib

# "label": a text that never starts or ends with a space worth keeping (a number, a name, a
# status): its cell leaves out xml:space="preserve", a fifth of a short cell's bytes
Kind = Literal["text", "label", "number", "date", "datetime"]
# What a row's value can be: a cell of a kind, or "cells": the XML of one or more cells made
# elsewhere, escaped as `escape` does
ValueKind = Literal["text", "label", "number", "date", "datetime", "cells"]
SHEET_NAME_MAX = 31  # Excel's limit
COMPRESS_LEVEL = 1  # zlib's, for the small parts
# The sheet, nearly all of the file, deflated by ISA-L: on 93 MB of a sheet's XML, level 1
# took 0.03 s for 4.9 MB where zlib's level 1 took 0.18 s for 5.4 MB (bench/README.md).
SHEET_LEVEL = 1
_EXCEL_EPOCH = date(1899, 12, 30).toordinal()  # serial 0; serials from 1900-03-01 on are exact

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# cellXfs of styles.xml, by index: the styles a cell's s attribute names
STYLE_DATE, STYLE_DATETIME, STYLE_HEADER = 1, 2, 3
STYLES = (
    f'{_HEAD}<styleSheet xmlns="{MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
CONTENT_TYPES = (
    f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
)
PACKAGE_RELS = (
    f'{_HEAD}<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
    f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK_RELS = (
    f'{_HEAD}<Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{DOC_RELS}/styles" Target="styles.xml"/></Relationships>'
)

# What XML 1.0 cannot hold as it is, or holds only escaped; and \r, which a reader would
# turn into \n. Anything else, Chinese included, goes into the file as its UTF-8.
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


@dataclass(frozen=True)
class Column:
    header: str  # in Chinese, as the page heads it
    kind: Kind = "text"
    width: float = 14


def escape(text: str) -> str:
    """Text as XML character data; characters XML 1.0 cannot hold are left out."""
    return _SPECIAL.sub(lambda m: _ESCAPES.get(m.group(), ""), text)


def sheet_name(title: str) -> str:
    for banned in "[]:*?/\\'":
        title = title.replace(banned, "_")
    return title[:SHEET_NAME_MAX] or "Sheet1"


def column_letters(number: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def excel_serial(value: Any) -> Any:
    """A date or a wall-clock time (naive, as shown) as Excel's day number; a number as it is;
    an ISO date text parsed."""
    if isinstance(value, datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return value.toordinal() - _EXCEL_EPOCH + (seconds + value.microsecond / 1e6) / 86400
    if isinstance(value, date):
        return value.toordinal() - _EXCEL_EPOCH
    if isinstance(value, str):
        return date.fromisoformat(value).toordinal() - _EXCEL_EPOCH
    return value


# --- a chunk of rows, as XML ---

# A cell of each kind, its value put in by %
CELLS = {
    "text": '<c t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>',
    "label": '<c t="inlineStr"><is><t>%s</t></is></c>',
    "number": "<c><v>%s</v></c>",
    "date": f'<c s="{STYLE_DATE}"><v>%s</v></c>',
    "datetime": f'<c s="{STYLE_DATETIME}"><v>%s</v></c>',
}
EMPTY = "<c/>"
_EMPTY = EMPTY.encode()
# The bytes of the control characters XML 1.0 forbids, left out of every chunk in one pass
# in C (a UTF-8 sequence never holds a byte under 0x80, so no character is cut). They come
# only from cells made elsewhere: a text value's are left out by `escape` already.
CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10))


def row_template(kinds: Sequence[ValueKind]) -> bytes:
    return b"<row>" + b"%s" * len(kinds) + b"</row>"


def rows_xml(template: bytes, kinds: Sequence[ValueKind], rows: Sequence[Sequence[Any]]) -> bytes:
    """The <row> elements of a chunk of rows (values in column order; None or "" is an empty
    cell), as UTF-8."""
    if not rows:
        return b""
    return columns_xml(template, kinds, [list(column) for column in zip(*rows, strict=True)])


def columns_xml(template: bytes, kinds: Sequence[ValueKind], columns: Sequence[list]) -> bytes:
    """The same from the chunk's values a column at a time: a list comprehension makes a
    column's cells, then each row is one % of the row's template. No Python call per cell.
    The cells carry no reference: each row holds every column, so its place is its order, as
    the format allows."""
    if len(columns) != len(kinds):
        raise ValueError(f"{len(columns)} values a row for {len(kinds)} columns")
    if not columns or not columns[0]:
        return b""
    cells = [column_cells(kind, column) for kind, column in zip(kinds, columns, strict=True)]
    xml = b"".join(map(template.__mod__, zip(*cells, strict=True)))
    return xml.translate(None, CONTROL_BYTES)


def column_cells(kind: ValueKind, values: list) -> list[bytes]:
    """A column's values as cells, in UTF-8; "cells" are cells already."""
    types = set(map(type, values))  # one pass in C: most columns need no conversion
    if kind == "cells":
        return values if types <= {bytes} else [v.encode() for v in values]
    if kind in ("text", "label"):
        if types - {str}:
            values = ["" if v is None else str(v) for v in values]
        if _SPECIAL.search("".join(values)):
            values = [escape(v) for v in values]
        cell = CELLS[kind]
        return [(cell % v).encode() if v else _EMPTY for v in values]
    if kind != "number":
        known: dict = {None: None, "": None}
        values = [known[v] if v in known else known.setdefault(v, excel_serial(v))
                  for v in values]  # fmt: skip
    cell = CELLS[kind]
    return [_EMPTY if v is None or v == "" else (cell % v).encode() for v in values]


def _deflate_with_isal(entry) -> None:
    """A zip entry open for writing, its deflating handed to ISA-L: zipfile makes its raw
    deflate stream with zlib and takes no other; ISA-L's is the same format (RFC 1951)."""
    if not hasattr(entry, "_compressor"):  # zipfile's _ZipWriteFile (CPython 3.6 on)
        raise RuntimeError("zipfile's entry writer changed: see shared/xlsx.py")
    entry._compressor = isal_zlib.compressobj(SHEET_LEVEL, isal_zlib.DEFLATED, -15)


class SheetFile:
    """One worksheet written into an .xlsx as rows come: `write` a chunk, `close` at the end
    (the workbook part, which names the filter's range, is written once the rows are known)."""

    def __init__(
        self,
        file: BinaryIO | str,
        title: str,
        columns: Sequence[Column],
        values: Sequence[ValueKind] | None = None,
    ) -> None:
        """`values`: the kinds of a row's values when some come as cells made elsewhere
        (a value of kind "cells" stands for one or more columns); by default a value a column."""
        self.columns = list(columns)
        self.kinds = list(values) if values is not None else [c.kind for c in self.columns]
        self.template = row_template(self.kinds)
        self.title = sheet_name(title)
        self.rows = 0
        self._zip = zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
        for name, text in (
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", PACKAGE_RELS),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            ("xl/styles.xml", STYLES),
        ):
            self._zip.writestr(name, text)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        _deflate_with_isal(self._sheet)
        self._sheet.write(self._sheet_start().encode())

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        self.write_xml(rows_xml(self.template, self.kinds, rows), len(rows))

    def write_xml(self, xml: bytes, rows: int) -> None:
        """Rows made by rows_xml (in another thread), encoded: deflated into the zip."""
        if xml:
            self._sheet.write(xml)
        self.rows += rows

    def close(self) -> int:
        last = f"{column_letters(len(self.columns))}{self.rows + 1}"
        self._sheet.write(f'</sheetData><autoFilter ref="A1:{last}"/></worksheet>'.encode())
        self._sheet.close()
        self._zip.writestr("xl/workbook.xml", self._workbook(last))
        self._zip.close()
        return self.rows

    def abandon(self) -> None:
        """A sheet that will not be finished: its file closed, whatever it holds."""
        try:
            self._sheet.close()
            self._zip.close()
        except Exception:  # half-written: nothing of it is kept
            pass

    def _sheet_start(self) -> str:
        widths = "".join(
            f'<col min="{i}" max="{i}" width="{c.width}" customWidth="1"/>'
            for i, c in enumerate(self.columns, 1)
        )
        header = "".join(
            f'<c t="inlineStr" s="{STYLE_HEADER}"><is><t>{escape(c.header)}</t></is></c>'
            for c in self.columns
        )
        return (
            f'{_HEAD}<worksheet xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
            '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{widths}</cols>'
            f"<sheetData><row>{header}</row>"
        )

    def _workbook(self, last: str) -> str:
        letters, rows = last.rstrip("0123456789"), last[len(last.rstrip("0123456789")) :]
        quoted = "'" + self.title + "'"
        filtered = escape(f"{quoted}!$A$1:${letters}${rows}")
        return (
            f'{_HEAD}<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
            "<bookViews><workbookView/></bookViews>"
            f'<sheets><sheet name={quoteattr(self.title)} sheetId="1" r:id="rId1"/></sheets>'
            '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0"'
            f' hidden="1">{filtered}</definedName></definedNames></workbook>'
        )

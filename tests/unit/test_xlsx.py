"""The sheet writer (shared/xlsx.py): what Excel's format asks of the file, read back by
openpyxl, a library that did not write it."""

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from shared.xlsx import (
    CELLS,
    Column,
    SheetFile,
    column_letters,
    escape,
    excel_serial,
    row_template,
    rows_xml,
    sheet_name,
)

COLUMNS = [
    Column("姓名"),
    Column("人数", "number"),
    Column("截止", "date"),
    Column("时间", "datetime"),
]


class Stream(io.RawIOBase):
    """Where a zip is written without seeking back (as an export sends its parts)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.data += data
        return len(data)


def read_back(columns, rows, values=None, chunks=1) -> tuple:
    stream = Stream()
    sheet = SheetFile(stream, "名单", columns, values)
    size = max(1, -(-len(rows) // chunks))
    for at in range(0, len(rows), size):
        sheet.write(rows[at : at + size])
    assert sheet.close() == len(rows)
    book = openpyxl.load_workbook(io.BytesIO(bytes(stream.data)))
    return book, list(book.worksheets[0].iter_rows(values_only=True)), bytes(stream.data)


def test_a_streamed_file_is_a_workbook_whose_rows_come_back_as_written():
    rows = [
        (f"人{i}", i, date(2026, 1, 1 + i % 28), datetime(2026, 2, 1, 8, i % 60)) for i in range(50)
    ]
    book, read, data = read_back(COLUMNS, rows, chunks=4)
    assert read[0] == ("姓名", "人数", "截止", "时间")
    assert read[1:] == [(n, c, datetime.combine(d, datetime.min.time()), t) for n, c, d, t in rows]
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None  # every entry's CRC holds


def test_empty_values_leave_empty_cells_in_their_places():
    book, read, _ = read_back(COLUMNS, [("", None, None, None), (None, 0, "", None)])
    assert read[1:] == [(None, None, None, None), (None, 0, None, None)]


def test_text_with_markup_characters_and_control_characters_reads_back_as_typed():
    typed = [
        "R&D <部门>",
        "a > b & c",
        "  spaced  ",
        "line\none",
        "tab\there",
        "bell\x07gone",
        "cr\rkept",
    ]
    book, read, _ = read_back([Column("原因")], [(t,) for t in typed])
    assert [r[0] for r in read[1:]] == [
        "R&D <部门>",
        "a > b & c",
        "  spaced  ",
        "line\none",
        "tab\there",
        "bellgone",
        "cr\rkept",
    ]


def test_cells_made_elsewhere_go_in_as_made_without_control_characters():
    made = (CELLS["text"] % escape("张三 & 李四") + "<c/>").encode()
    bad = (CELLS["text"] % "x\x01y" + "<c/>").encode()
    kinds = ["cells", "number"]
    book, read, _ = read_back([Column("姓名"), Column("备注"), Column("数", "number")],
                              [(made, 1), (bad, None)], values=kinds)  # fmt: skip
    assert read[1:] == [("张三 & 李四", None, 1), ("xy", None, None)]


def test_the_header_is_bold_and_frozen_with_a_filter_over_the_rows_and_widths_as_asked():
    book, _, data = read_back(
        [Column("业务编号", width=18), Column("人数", "number", 6)], [("1", 2)] * 3
    )
    sheet = book.worksheets[0]
    assert sheet.title == "名单" and sheet["A1"].font.b and not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:B4"
    assert sheet.column_dimensions["A"].width == 18 and sheet.column_dimensions["B"].width == 6
    workbook = zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml").decode()
    assert "'名单'!$A$1:$B$4</definedName>" in workbook  # the filter's range, as Excel keeps it


def test_dates_and_times_are_numbers_with_a_date_format():
    book, _, _ = read_back(COLUMNS, [("a", 1, date(2026, 6, 5), datetime(2026, 6, 1, 9, 30, 15))])
    sheet = book.worksheets[0]
    assert sheet["C2"].is_date and sheet["C2"].number_format == "yyyy-mm-dd"
    assert sheet["D2"].is_date and sheet["D2"].number_format == "yyyy-mm-dd hh:mm"
    assert excel_serial(date(1900, 3, 1)) == 61 and excel_serial(date(2026, 1, 1)) == 46023
    assert excel_serial(datetime(2026, 1, 1, 12)) == 46023.5 and excel_serial("2026-01-01") == 46023


def test_an_empty_list_is_a_header_row_alone():
    book, read, _ = read_back(COLUMNS, [])
    assert read == [("姓名", "人数", "截止", "时间")]
    assert book.worksheets[0].auto_filter.ref == "A1:D1"


def test_a_row_of_the_wrong_length_is_refused_not_shifted():
    with pytest.raises(ValueError):
        rows_xml(row_template(["text", "text"]), ["text", "text"], [("a", "b"), ("c",)])
    with pytest.raises(ValueError):
        rows_xml(row_template(["text", "text"]), ["text", "text"], [("a", "b", "c")])


def test_sheet_names_and_column_letters_are_ones_excel_takes():
    assert sheet_name("a/b:c*d?e[f]g\\h'") == "a_b_c_d_e_f_g_h_"
    assert len(sheet_name("很" * 40)) == 31 and sheet_name("") == "Sheet1"
    assert [column_letters(n) for n in (1, 17, 26, 27, 52, 703)] == [
        "A",
        "Q",
        "Z",
        "AA",
        "AZ",
        "AAA",
    ]


def test_labels_read_back_as_text_without_the_preserve_attribute():
    columns = [Column("编号", "label"), Column("原因")]
    rows = [("440305199001011234", " 材料不全 "), ("<&>", "")]
    _, read, data = read_back(columns, rows)
    assert read[1:] == [("440305199001011234", " 材料不全 "), ("<&>", None)]
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b'<c t="inlineStr"><is><t>440305199001011234</t></is></c>' in sheet
    assert b'<t xml:space="preserve"> \xe6' in sheet  # the text cell keeps its spaces

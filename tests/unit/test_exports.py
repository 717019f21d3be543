"""导出Excel's pure parts: the filters an export takes, and how a searched number is kept in
the audit trail. The sheet writer's own tests: tests/unit/test_xlsx.py."""

import uuid
from datetime import date, datetime

import openpyxl
import pytest
from pydantic import ValidationError

from services.documents.exports import masked_search, shown_filters
from shared.contracts.export_lists import UnknownFilters, filters_of
from shared.xlsx import Column, SheetFile, sheet_name

COLUMNS = [
    Column("姓名"),
    Column("人数", "number"),
    Column("公示截止", "date"),
    Column("最近办理", "datetime"),
    Column("原因"),
]


def written(tmp_path, rows) -> list[tuple]:
    path = tmp_path / "x.xlsx"
    sheet = SheetFile(str(path), "材料审核（待办业务）", COLUMNS)
    sheet.write(rows)
    assert sheet.close() == len(rows)
    book = openpyxl.load_workbook(path)
    return book, list(book.worksheets[0].iter_rows(values_only=True))


def test_cells_are_text_numbers_and_dates_as_excel_reads_them(tmp_path):
    row = ("张三", 3, date(2026, 6, 5), datetime(2026, 6, 1, 9, 30), "")
    book, rows = written(tmp_path, [row, ("李四", None, None, None, None)])
    assert rows[0] == ("姓名", "人数", "公示截止", "最近办理", "原因")
    assert rows[1] == ("张三", 3, datetime(2026, 6, 5), datetime(2026, 6, 1, 9, 30), None)
    assert rows[2] == ("李四", None, None, None, None)
    sheet = book.worksheets[0]
    assert sheet.title == "材料审核（待办业务）" and sheet["A1"].font.b
    assert sheet["C2"].is_date and sheet["C2"].number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E3"


def test_a_formula_or_a_link_typed_by_someone_stays_text(tmp_path):
    typed = ['=HYPERLINK("http://evil.example","点我")', "http://example.com", "+1-2", "0012"]
    book, rows = written(tmp_path, [(t, None, None, None, None) for t in typed])
    assert [r[0] for r in rows[1:]] == typed
    assert all(book.worksheets[0][f"A{n}"].data_type == "s" for n in range(2, 6))


def test_a_sheet_name_is_one_excel_takes():
    assert sheet_name("a/b:c*d?e[f]g\\h") == "a_b_c_d_e_f_g_h"
    assert len(sheet_name("很" * 40)) == 31 and sheet_name("") == "Sheet1"


def test_an_export_takes_the_lists_own_filters_and_ignores_its_paging():
    given = {"list": "unit:3", "sort": "name", "page": "3", "page_size": "50"}
    assert filters_of("work", given) == {
        "list": "unit:3",
        "tab": "todo",
        "name": "",
        "review_type_id": "",
        "qualification_id": "",
        "state": "",
        "department_id": "",
        "committee_id": "",
        "round_id": "",
        "overdue": False,
        "sort": "name",
    }
    at = "2026-06-01T00:00:00+08:00"
    audit = filters_of("audit", {"action": "export", "since": at, "limit": 50, "before_seq": 3})
    assert audit["action"] == "export" and audit["since"] == at and "limit" not in audit


def test_a_filter_the_list_does_not_take_is_refused_not_ignored():
    with pytest.raises(UnknownFilters) as unknown:
        filters_of("work", {"list": "unit:3", "colour": "red"})
    assert unknown.value.fields == {"colour": "该列表没有这个查询条件"}
    with pytest.raises(ValidationError):
        filters_of("work", {"list": "unit:3", "sort": "newest"})
    with pytest.raises(KeyError):
        filters_of("recipes", {})


def test_the_trail_keeps_a_searched_number_masked_and_a_name_as_typed():
    assert masked_search("11010519850302002X") == "110105********002X"
    assert masked_search("13912345678") == "139****5678"
    user = str(uuid.uuid4())
    assert masked_search(user) == user and masked_search("张三") == "张三"
    shown = shown_filters("people", {"role": "applicant", "q": "13912345678", "status": ""})
    assert shown == {"role": "applicant", "q": "139****5678"}

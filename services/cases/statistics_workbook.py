"""The statistics as an Excel workbook: a sheet of what was asked, then a sheet per table
(shared/contracts/cases/statistics.py TABLES, the page's tables), Chinese headers, counts
as numbers, rates as percentages, days with one decimal place."""

import io
from datetime import datetime

import openpyxl
from openpyxl.styles import Font

from shared.clock import SHENZHEN
from shared.contracts.cases.statistics import TABLES, Column, step_label

FORMATS = {"rate": "0.0%", "days": "0.0", "count": "0"}


def workbook(figures: dict, at: datetime) -> bytes:
    book = openpyxl.Workbook()
    _about(book.active, figures, at)
    for table in TABLES:
        sheet = book.create_sheet(table.title)
        _header(sheet, [c.header for c in table.columns])
        for row in figures[table.key]:
            sheet.append([_value(column, row) for column in table.columns])
            for column, cell in zip(table.columns, sheet[sheet.max_row], strict=True):
                if column.kind in FORMATS:
                    cell.number_format = FORMATS[column.kind]
        _widths(sheet, table.columns)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _value(column: Column, row: dict):
    value = row[column.field]
    return step_label(value) if column.kind == "step" else value


def _about(sheet, figures: dict, at: datetime) -> None:
    sheet.title = "查询条件"
    _header(sheet, ["项目", "内容"])
    filters, choices = figures["filters"], figures["choices"]
    rows = [
        ("统计范围", figures["scope"]),
        ("评审年度", _named(filters["round_id"], choices["rounds"])),
        ("起始日期", filters["date_from"] or "不限"),
        ("截止日期", filters["date_to"] or "不限"),
        ("评委会", _named(filters["committee_id"], choices["committees"])),
        ("日常工作部门", _named(filters["department_id"], choices["departments"])),
        ("申报总数", figures["total"]),
        ("导出时间", at.astimezone(SHENZHEN).strftime("%Y-%m-%d %H:%M")),
    ]
    for row in rows:
        sheet.append(row)
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 48


def _named(chosen: str, choices: list[dict]) -> str:
    if not chosen:
        return "全部"
    return next((c["name"] for c in choices if c["id"] == chosen), chosen)


def _header(sheet, headers: list[str]) -> None:
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)


def _widths(sheet, columns: tuple[Column, ...]) -> None:
    for column, cell in zip(columns, sheet[1], strict=True):
        sheet.column_dimensions[cell.column_letter].width = 40 if column.kind == "text" else 14

"""Excel imports (.xlsx, openpyxl): a template with the header row, and the rows of an
uploaded file by header, each cell as text. Used by every import with a per-row report
(accounts' applicants, cases' experts). In memory: bytes in, values out."""

import io
import zipfile
from datetime import date, datetime

import openpyxl
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UnreadableSheet(ValueError):
    """The file as a whole cannot be imported; `message` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def template(title: str, headers: list[str], width: int = 20) -> bytes:
    """An empty workbook with the header row in bold, offered for download."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_rows(
    data: bytes, columns: dict[str, str], max_rows: int
) -> list[tuple[int, dict[str, str]]]:
    """(row number, text by field) of each non-empty row of the first sheet; `columns` maps
    each header the file must have to its field. UnreadableSheet for a file that is not."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UnreadableSheet("文件无法读取，请上传 .xlsx 格式的 Excel 文件") from None
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = [cell_text(c) for c in next(rows, ())]
    missing = [name for name in columns if name not in header]
    if missing:
        raise UnreadableSheet(f"表头缺少列：{'、'.join(missing)}（请使用导入模板）")
    positions = {field: header.index(name) for name, field in columns.items()}
    found = []
    for number, row in enumerate(rows, start=2):
        values = {f: cell_text(row[i] if i < len(row) else None) for f, i in positions.items()}
        if any(values.values()):
            found.append((number, values))
        if len(found) > max_rows:
            raise UnreadableSheet(f"一次最多导入 {max_rows} 行，请分批导入")
    return found


def cell_text(value) -> str:
    """A cell as the person typed it: digit strings Excel made numbers lose the ".0", a
    date cell is YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()

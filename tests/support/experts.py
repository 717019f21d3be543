"""Expert library entries for the tests: unique ID numbers, forms, import files."""

import io
import random
import uuid
from datetime import date, timedelta

import openpyxl

from services.accounts.domain.validation import id_check_char
from shared.contracts.cases.experts import IMPORT_COLUMNS

TODAY = date(2026, 6, 1)  # the tests' clock (WORKFLOW_TODAY)
COMMITTEE = "cmte-qg-gj"  # 轻工 高级: reviews 工程 正高 and 副高, so its experts are 副高 or 正高
OTHER_COMMITTEE = "cmte-sl-zj"  # 水利水电 中级: 工程 中级 and 初级


def id_number() -> str:
    birth = f"{random.randint(1950, 1985)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    first17 = str(random.randint(110000, 659999)) + birth + str(uuid.uuid4().int)[-3:].zfill(3)
    return first17 + id_check_char(first17)


def mobile() -> str:
    return "139" + str(uuid.uuid4().int)[-8:].zfill(8)


def expert_form(**overrides) -> dict[str, str]:
    try:
        joined = date.fromisoformat(overrides.get("joined_on", ""))
    except ValueError:
        joined = TODAY
    form = {
        "name": "王专家",
        "id_number": id_number(),
        "mobile": mobile(),
        "unit_name": "深圳市某研究院",
        "unit_id": "",
        "series_id": "gc",
        "speciality": "轻工机械",
        "title_level": "正高",
        "joined_on": joined.isoformat(),
        "term_ends_on": (joined + timedelta(days=3 * 365 - 1)).isoformat(),
    }
    return form | overrides


SERIES_NAMES = {"gc": "工程", "da": "档案", "gxjs": "高校教师"}


def import_row(form: dict[str, str]) -> dict[str, str]:
    """A form as a row of the import file (系列 by name)."""
    return form | {"series_id": SERIES_NAMES.get(form["series_id"], form["series_id"])}


def xlsx(rows: list[dict[str, str]], headers: list[str] | None = None) -> bytes:
    """A workbook in the import template's layout."""
    headers = headers or list(IMPORT_COLUMNS)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(IMPORT_COLUMNS.get(h, h), "") for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

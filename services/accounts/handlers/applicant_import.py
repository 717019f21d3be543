"""Import many applicant accounts from an Excel file, with a report per row."""

import asyncpg

from services.accounts.access import require_unit
from services.accounts.domain.credentials import hash_password_async
from services.accounts.handlers.users import clean_person, insert_user
from shared import spreadsheet
from shared.contracts.accounts.rpc import ImportApplicants
from shared.contracts.accounts.vocabulary import PERSON_FIELD_LABELS
from shared.rpc import Attached, CallContext, RpcError
from shared.spreadsheet import XLSX
from shared.text import clean_fields, visible

COLUMNS = {label: field for field, label in PERSON_FIELD_LABELS.items()}  # header -> field
MAX_ROWS = 500  # each row hashes a password (argon2): 500 rows take about 20 s


TEMPLATE_NAME = "申报人员导入模板.xlsx"


def template_xlsx() -> bytes:
    """An empty workbook with the header row, offered for download on the import page."""
    return spreadsheet.template("申报人员", list(COLUMNS))


async def import_template(_params, ctx: CallContext) -> Attached:
    """The import page's 下载导入模板: the header row the import reads."""
    require_unit(ctx.actor, "unit_admin", "unit_operator")
    return Attached(
        {
            "filename": TEMPLATE_NAME,
            "content_type": XLSX,
        },
        template_xlsx(),
    )


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(row number, values by field) for each non-empty row; RpcError for a bad file."""
    try:
        return spreadsheet.read_rows(data, COLUMNS, MAX_ROWS)
    except spreadsheet.UnreadableSheet as error:
        raise _bad_file(error.message) from None


def _bad_file(message: str) -> RpcError:
    return RpcError("invalid_file", message, 422, {"file": message})


async def import_applicants(params: ImportApplicants, ctx: CallContext) -> dict:
    unit_id = require_unit(ctx.actor, "unit_admin", "unit_operator")
    rows = read_rows(ctx.attachment)
    if not rows:
        raise _bad_file("文件中没有数据行")
    created, refused = [], []
    seen: dict[str, dict[str, int]] = {"username": {}, "id_number": {}}
    today = ctx.deps.clock.today()
    async with ctx.pool.acquire() as conn:
        for number, cells in rows:
            # Each cell is a text that enters the system: the input rule first, per cell.
            fields, refused_cells = clean_fields(cells)
            values, errors = clean_person(fields, "applicant", today, creating=True)
            errors.update(refused_cells)
            errors.update(_repeats(seen, number, values))
            if not errors:
                errors = await _create_one(conn, ctx, unit_id, values)
            report = {
                "row": number,
                "name": visible(fields.get("name", "")),
                "username": visible(fields.get("username", "")),
            }
            if errors:
                refused.append({**report, "reasons": errors})
            else:
                created.append(report)
    return {"created": created, "refused": refused}


def _repeats(seen: dict, number: int, values: dict) -> dict[str, str]:
    errors = {}
    for field, label in (("username", "用户名"), ("id_number", "身份证号")):
        key = (values.get(field) or "").lower()
        if not key:
            continue
        if key in seen[field]:
            errors[field] = f"{label}与第 {seen[field][key]} 行重复"
        else:
            seen[field][key] = number
    return errors


async def _create_one(conn, ctx, unit_id, values) -> dict[str, str]:
    password_hash = await hash_password_async(values["password"])
    try:
        async with conn.transaction():
            await insert_user(conn, ctx, unit_id, "applicant", values, password_hash)
    except asyncpg.UniqueViolationError as error:
        if "id_number" in (error.constraint_name or ""):
            return {"id_number": "该身份证号已有账户（身份证号在全系统唯一）"}
        return {"username": "该用户名已被使用"}
    return {}

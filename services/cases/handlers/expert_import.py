"""Import a committee's experts from an Excel file: every row checked as the form checks it,
the valid ones entered in one transaction, a report per row."""

import re
from datetime import date

from services.cases.domain.experts import CommitteeScope, ExpertInput, check_expert
from services.cases.handlers.experts import (
    insert_expert,
    keeper,
    library_for,
    live_entry_problem,
    lock_library,
    scope_of,
)
from shared import spreadsheet
from shared.audit import Entry, record
from shared.contracts.cases.experts import (
    IMPORT_COLUMNS,
    IMPORT_MAX_ROWS,
    IMPORT_TEMPLATE_NAME,
    TITLE_LEVELS,
)
from shared.contracts.cases.rpc import ImportExperts
from shared.masks import mask_id_number
from shared.rpc import Attached, CallContext, RpcError
from shared.text import clean_fields, visible

# 2026/1/5, 2026.01.05, 2026年1月5日: a date typed as text in a cell
TYPED_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
LEVEL_ALIASES = {f"{level}级": level for level in TITLE_LEVELS}  # 正高级 -> 正高


async def import_template(_params, ctx: CallContext) -> Attached:
    keeper(ctx.actor)
    sheet = spreadsheet.template("评审专家", list(IMPORT_COLUMNS))
    return Attached(
        {
            "filename": IMPORT_TEMPLATE_NAME,
            "content_type": spreadsheet.XLSX,
        },
        sheet,
    )


def bad_file(message: str) -> RpcError:
    return RpcError("invalid_file", message, 422, {"file": message})


def rows_of(data: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        rows = spreadsheet.read_rows(data, IMPORT_COLUMNS, IMPORT_MAX_ROWS)
    except ValueError as error:
        raise bad_file(getattr(error, "message", "文件内容无效")) from None
    if not rows:
        raise bad_file("文件中没有数据行")
    return rows


async def import_experts(params: ImportExperts, ctx: CallContext) -> dict:
    committee_id = library_for(ctx.actor, params.committee_id)
    rows = rows_of(ctx.attachment)
    today = ctx.deps.clock.today()
    created, refused = [], []
    async with ctx.pool.acquire() as conn, conn.transaction():
        scope = await scope_of(conn, committee_id)
        series = await series_by_name(conn)
        await lock_library(conn, committee_id)
        seen: dict[str, int] = {}
        for number, cells in rows:
            expert, errors = checked_row(cells, series, today, scope)
            if expert:
                errors = await row_clashes(conn, committee_id, expert, number, seen, today)
            report = {"row": number, "name": visible(cells.get("name", ""))}
            if errors:
                refused.append({**report, "id_number": shown_id(cells, errors), "reasons": errors})
                continue
            await insert_expert(conn, committee_id, expert, ctx.deps.clock.now())
            created.append({**report, "id_number": mask_id_number(expert.id_number)})
        counts = {"rows": len(rows), "created": len(created), "refused": len(refused)}
        entry = Entry("expert.import", "expert_library", committee_id, details=counts)
        await record(conn, ctx.actor, entry, at=ctx.deps.clock.now())
    return {"created": created, "refused": refused}


def shown_id(cells: dict[str, str], errors: dict[str, str]) -> str:
    """Masked as in the list, unless the ID number is what is wrong: then as typed."""
    typed = visible(cells.get("id_number", ""))
    return typed if "id_number" in errors else mask_id_number(typed)


def checked_row(
    cells: dict[str, str], series: dict[str, str], today: date, scope: CommitteeScope
) -> tuple[ExpertInput | None, dict[str, str]]:
    # Each cell is a text that enters the system: the input rule first, per cell.
    fields, refused_cells = clean_fields(cells)
    fields = as_form(fields, series)
    expert, errors = check_expert(fields, today, scope)
    if cells.get("series_id") and not fields["series_id"]:
        errors["series_id"] = f"系列“{visible(cells['series_id'])}”不存在"
    errors |= refused_cells
    return (None if errors else expert), errors


def as_form(fields: dict[str, str], series: dict[str, str]) -> dict[str, str]:
    """The row as the form would have it: the series by id, dates as YYYY-MM-DD."""
    form = dict(fields)
    form["series_id"] = series.get(fields.get("series_id", "").strip(), "")
    level = fields.get("title_level", "").strip()
    form["title_level"] = LEVEL_ALIASES.get(level, level)
    for name in ("joined_on", "term_ends_on"):
        if found := TYPED_DATE.fullmatch(fields.get(name, "").strip()):
            year, month, day = (int(part) for part in found.groups())
            form[name] = f"{year:04d}-{month:02d}-{day:02d}"
    return form


async def series_by_name(conn) -> dict[str, str]:
    """Series by name and by id: a file may name either."""
    rows = await conn.fetch("SELECT id, name FROM series")
    return {r["name"]: r["id"] for r in rows} | {r["id"]: r["id"] for r in rows}


async def row_clashes(
    conn, committee_id: str, expert: ExpertInput, number: int, seen: dict[str, int], today
) -> dict[str, str]:
    if expert.id_number in seen:
        return {"id_number": f"身份证号与第 {seen[expert.id_number]} 行重复"}
    seen[expert.id_number] = number
    if problem := await live_entry_problem(conn, committee_id, expert.id_number, today):
        return {"id_number": problem}
    return {}

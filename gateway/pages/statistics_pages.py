"""统计查询: the figures over the cases the signed-in department, office, committee or
sysadmin may see, each table beside a chart drawn here as SVG, and the same figures as an
Excel workbook (the cases service builds it and records the export)."""

from datetime import date
from urllib.parse import urlencode

from aiohttp import web

from gateway.auth import login_required
from gateway.charts import bar_chart, format_value
from gateway.http import file_response
from gateway.web import call, render
from shared.contracts.cases.statistics import (
    STATISTICS_EXPORT,
    STATISTICS_GET,
    STATISTICS_ROLES,
    TABLES,
    step_label,
)
from shared.rpc import RpcError

FILTERS = ("round_id", "date_from", "date_to", "committee_id", "department_id")
DATE_LABELS = {"date_from": "起始日期", "date_to": "截止日期"}
EXPORT_TIMEOUT = 30.0

reviewers = login_required(*STATISTICS_ROLES)


def read_query(query) -> dict:
    """The filters from a query string; RpcError 422 naming each field that is not right."""
    values = {name: query.get(name, "").strip() for name in FILTERS}
    errors = {}
    for name, label in DATE_LABELS.items():
        try:
            values[name] = date.fromisoformat(values[name]).isoformat() if values[name] else None
        except ValueError:
            errors[name] = f"{label}不是有效日期，请按“年-月-日”填写，如 2026-03-01"
    if errors:
        raise RpcError("invalid_input", next(iter(errors.values())), 422, errors)
    return values


@reviewers
async def statistics_page(request: web.Request) -> web.Response:
    typed = {name: request.query.get(name, "") for name in FILTERS}
    try:
        figures = await call(request, STATISTICS_GET, read_query(request.query))
    except RpcError as error:
        if error.status != 422:
            raise
        return await _refused(request, typed, error)
    context = {
        "figures": figures,
        "values": typed,
        "sections": sections(figures),
        "export_url": "/statistics/export" + _query_string(typed),
        "filtered": any(typed.values()),
    }
    return render(request, "statistics/index.html", context)


async def _refused(request: web.Request, typed: dict, error: RpcError) -> web.Response:
    """The form again with what was typed and each field's message; the choices come from
    the figures of the filters that were right (which are not shown)."""
    valid = {k: v for k, v in typed.items() if k not in error.fields and k not in DATE_LABELS}
    try:
        choices = (await call(request, STATISTICS_GET, valid))["choices"]
    except RpcError:
        choices = {"rounds": [], "committees": [], "departments": []}
    context = {
        "figures": None,
        "choices": choices,
        "values": typed,
        "errors": error.fields,
        "problem": error.message,
        "filtered": True,
    }
    return render(request, "statistics/index.html", context, 422)


@reviewers
async def export(request: web.Request) -> web.Response:
    """The workbook of the figures the page shows for the same filters."""
    try:
        params = read_query(request.query)
        book = await call(request, STATISTICS_EXPORT, params, timeout=EXPORT_TIMEOUT)
    except RpcError as error:
        if error.status != 422:
            raise
        typed = {name: request.query.get(name, "") for name in FILTERS}
        return await _refused(request, typed, error)
    return file_response(book, "attachment")


def _query_string(values: dict) -> str:
    given = {k: v for k, v in values.items() if v}
    return f"?{urlencode(given)}" if given else ""


# --- what the template draws: each table with its chart ---


def sections(figures: dict) -> list[dict]:
    shown = []
    for table in TABLES:
        rows = figures[table.key]
        label = table.columns[0].field
        kinds = {c.field: c.kind for c in table.columns}
        chart = (
            bar_chart(table.title, rows, label, table.chart, kinds[table.chart])
            if table.chart
            else None
        )
        shown.append(
            {
                "key": table.key,
                "title": table.title,
                "headers": [c.header for c in table.columns],
                "numeric": [c.kind != "text" for c in table.columns],
                "rows": [[_cell(c, row) for c in table.columns] for row in rows],
                "chart": chart,
            }
        )
    return shown


def _cell(column, row: dict) -> str:
    value = row[column.field]
    if column.kind == "step":
        return step_label(value)
    return format_value(column.kind, value)


def setup_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/statistics", statistics_page, name="statistics")
    app.router.add_route("GET", "/statistics/export", export, name="statistics_export")

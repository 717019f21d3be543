"""统计查询 over the JSON API: the figures, and the same as an Excel workbook."""

from aiohttp import web

from gateway.api import spec
from gateway.auth import login_required
from gateway.http import file_response, json_response
from gateway.pages.statistics_pages import FILTERS, read_query
from gateway.web import call
from shared.contracts.cases.statistics import (
    STATISTICS_EXPORT,
    STATISTICS_GET,
    STATISTICS_ROLES,
    Statistics,
)
from shared.spreadsheet import XLSX


@spec.operation(
    "get",
    "/api/statistics",
    "统计查询 over the cases the caller may see: counts by state, step, round, qualification,"
    " committee and department; pass rates; days per step; the units with the most returns."
    " Filters: round_id, date_from/date_to (YYYY-MM-DD, Shenzhen), committee_id, department_id",
    "statistics",
    response=Statistics,
    query=FILTERS,
    errors=(401, 403, 422),
)
@login_required(*STATISTICS_ROLES)
async def statistics(request: web.Request) -> web.Response:
    return json_response(await call(request, STATISTICS_GET, read_query(request.query)))


@spec.operation(
    "get",
    "/api/statistics/export",
    "The same figures as an Excel workbook, a sheet per table (recorded as an export)",
    "statistics",
    response={"type": "string", "format": "binary"},
    response_media=(XLSX,),
    query=FILTERS,
    errors=(401, 403, 422),
)
@login_required(*STATISTICS_ROLES)
async def export(request: web.Request) -> web.Response:
    params = read_query(request.query)
    return file_response(await call(request, STATISTICS_EXPORT, params, timeout=30.0), "attachment")


def setup_statistics_api(app: web.Application) -> None:
    app.router.add_get("/api/statistics", statistics, name="api_statistics")
    app.router.add_get("/api/statistics/export", export, name="api_statistics_export")

"""导出Excel over the JSON API: queue an export of a list with its filters, follow it, fetch
the file (the same download as the pages')."""

from aiohttp import web

from gateway.api import spec
from gateway.api_identity import body_of
from gateway.auth import login_required
from gateway.http import json_response
from gateway.pages import export_pages
from gateway.web import call
from shared.contracts.documents import rpc as documents_rpc
from shared.contracts.exports import ExportJob, StartExport


@spec.operation(
    "post",
    "/api/exports",
    "Export a list as .xlsx (runs in the background; follow it by its id): `list` is one of"
    " shared/contracts/export_lists.py, `filters` the list's own query (as its page or GET"
    " takes it; paging ignored)",
    "exports",
    body=StartExport,
    response=ExportJob,
    errors=(401, 403, 404, 422, 429),
)
@login_required()
async def start(request: web.Request) -> web.Response:
    body = await body_of(request, StartExport)
    job = await export_pages.start_export(request, body.model_dump(mode="json"))
    return json_response(job, status=202)


@spec.operation(
    "get",
    "/api/exports/{job_id}",
    "An export's status and progress (rows written of the list's total)",
    "exports",
    response=ExportJob,
    errors=(401, 404),
)
@login_required()
async def job(request: web.Request) -> web.Response:
    found = await call(request, documents_rpc.EXPORTS_JOB, {"job_id": request.match_info["job_id"]})
    return json_response(found)


@spec.operation(
    "get",
    "/api/exports/{job_id}/file",
    "A finished export's .xlsx, to whoever asked for it (kept ZC_EXPORT_KEEP_HOURS)",
    "exports",
    response={"type": "string", "format": "binary"},
    response_media=("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    errors=(401, 404),
)
@login_required()
async def file(request: web.Request) -> web.StreamResponse:
    return await export_pages.download(request)


def setup_exports_api(app: web.Application) -> None:
    uuid_part = "[0-9a-fA-F-]{36}"
    app.router.add_post("/api/exports", start, name="api_exports")
    app.router.add_get(f"/api/exports/{{job_id:{uuid_part}}}", job, name="api_export")
    app.router.add_get(f"/api/exports/{{job_id:{uuid_part}}}/file", file, name="api_export_file")

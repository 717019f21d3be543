"""The printing JSON API: queue a print job, follow it, fetch the PDF.

What may be printed for whom is decided by the documents and cases services; the gateway
passes the actor.
"""

from aiohttp import web

from gateway.api import spec
from gateway.api_identity import body_of
from gateway.auth import login_required
from gateway.http import file_response, json_response
from gateway.web import call
from shared.contracts.documents import rpc as documents_rpc

READ_TIMEOUT = 30.0  # a combined PDF of hundreds of forms is a few megabytes over the broker


@spec.operation(
    "post",
    "/api/print-jobs",
    "Print a selection as one PDF (runs in the background; follow it by its id)",
    "documents",
    body=documents_rpc.PrintRequest,
    response=documents_rpc.PrintJob,
    errors=(401, 422),
)
@login_required()
async def start_print(request: web.Request) -> web.Response:
    body = await body_of(request, documents_rpc.PrintRequest)
    job = await call(request, documents_rpc.DOCUMENTS_PRINT, body)
    return json_response(job, status=202)


@spec.operation(
    "get",
    "/api/print-jobs/{job_id}",
    "A print job's status, progress, skipped cases and, when done, its document id",
    "documents",
    response=documents_rpc.PrintJob,
    errors=(401, 404),
)
@login_required()
async def print_job(request: web.Request) -> web.Response:
    job = await call(request, documents_rpc.DOCUMENTS_JOB, {"job_id": request.match_info["job_id"]})
    return json_response(job)


@spec.operation(
    "get",
    "/api/documents/{document_id}",
    "A printed PDF, to those who may see every case in it",
    "documents",
    response={"type": "string", "format": "binary"},
    response_media=("application/pdf",),
    errors=(401, 404),
)
@login_required()
async def document(request: web.Request) -> web.Response:
    stored = await call(
        request,
        documents_rpc.DOCUMENTS_READ,
        {"document_id": request.match_info["document_id"]},
        timeout=READ_TIMEOUT,
    )
    return file_response(stored)


def setup_documents_api(app: web.Application) -> None:
    uuid_part = "[0-9a-fA-F-]{36}"
    app.router.add_post("/api/print-jobs", start_print, name="api_print_jobs")
    app.router.add_get(f"/api/print-jobs/{{job_id:{uuid_part}}}", print_job, name="api_print_job")
    app.router.add_get(f"/api/documents/{{document_id:{uuid_part}}}", document, name="api_document")

"""导出Excel: a list page's button becomes an export job in the documents service; its page
shows the progress and offers the file when it is ready. Every export is a job, however short
the list (docs/reports.md): one path for permissions, the audit row and the download.
"""

import asyncio
import contextlib
from collections import deque
from urllib.parse import quote, urlencode

from aiohttp import web

from gateway.auth import CSRF_FIELD, login_required
from gateway.web import call, local_path, render, see_other
from shared.contracts.documents import rpc as documents_rpc
from shared.rpc import Attached, RpcError
from shared.spreadsheet import XLSX

JOB_ID = "{job_id:[0-9a-fA-F-]{36}}"
START_TIMEOUT = 15.0  # documents asks the list's owner to count the rows first
READ_TIMEOUT = 30.0  # one part of the file (1 MiB) over the broker
# parts asked for ahead of the one written: each is a round trip through the broker and
# documents, longer than writing one to the browser; with one ahead, the download of a
# 6-part file waited on each in turn
PARTS_AHEAD = 3
FORM_KEYS = ("export", "back", CSRF_FIELD)  # the button's own fields; the rest are filters


def setup_routes(app: web.Application) -> None:
    app.router.add_route("POST", "/exports", start, name="export_start")
    app.router.add_route("GET", f"/exports/{JOB_ID}", job_page, name="export_job")
    app.router.add_route("GET", f"/exports/{JOB_ID}/file", download, name="export_file")


def job_url(job_id: str, back: str | None) -> str:
    return f"/exports/{job_id}" + (f"?{urlencode({'back': back})}" if back else "")


@login_required()
async def start(request: web.Request) -> web.Response:
    """From a list's 导出Excel button: the list and its query as the page shows it."""
    data = await request.post()
    back = local_path(data.get("back")) or "/home"
    filters = {k: v for k, v in data.items() if k not in FORM_KEYS and isinstance(v, str)}
    params = {"list": data.get("export", ""), "filters": filters}
    try:
        job = await start_export(request, params)
    except RpcError as error:
        if error.status >= 500 or error.status in (401, 403):
            raise
        return see_other(request, back, f"未能导出：{_reason(error)}", "error")
    return see_other(request, job_url(job["job_id"], back))


async def start_export(request: web.Request, params: dict) -> dict:
    return await call(request, documents_rpc.EXPORTS_START, params, timeout=START_TIMEOUT)


def _reason(error: RpcError) -> str:
    if error.fields:
        return "；".join(f"{name}：{text}" for name, text in error.fields.items())
    return error.message


@login_required()
async def job_page(request: web.Request) -> web.Response:
    job = await call(request, documents_rpc.EXPORTS_JOB, {"job_id": request.match_info["job_id"]})
    working = job["status"] in ("queued", "running")
    context = {
        "job": job,
        "back": local_path(request.query.get("back")),
        "file_url": f"/exports/{job['job_id']}/file" if job["status"] == "done" else None,
        "working": working,
        "percent": percent(job),
    }
    return render(request, "exports/job.html", context)


def percent(job: dict) -> int:
    if job["status"] not in ("queued", "running"):
        return 100
    if not job["total"]:
        return 0
    return min(99, round(100 * job["done"] / job["total"]))


@login_required()
async def download(request: web.Request) -> web.StreamResponse:
    """The finished file, streamed a part at a time, the next PARTS_AHEAD asked for while one
    is written: never more than that many parts in the gateway's memory."""
    job_id = request.match_info["job_id"]
    first = await _part(request, job_id, 0)
    about = first.value
    response = web.StreamResponse(
        headers={
            "Content-Type": XLSX,
            "Content-Length": str(about["size_bytes"]),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(about['filename'])}",
            "X-Content-Type-Options": "nosniff",
        }
    )
    parts = about["parts"]
    asked = deque(_ask_for(request, job_id, n) for n in range(1, min(parts, 1 + PARTS_AHEAD)))
    try:
        await response.prepare(request)
        await response.write(first.content)
        for number in range(1, parts):
            part = await asked.popleft()
            if number + PARTS_AHEAD < parts:
                asked.append(_ask_for(request, job_id, number + PARTS_AHEAD))
            await response.write(part.content)
    finally:
        for following in asked:  # the browser went away: the parts asked for are not wanted
            following.cancel()
            with contextlib.suppress(BaseException):
                await following
    await response.write_eof()
    return response


def _ask_for(request: web.Request, job_id: str, number: int) -> asyncio.Task:
    return asyncio.create_task(_part(request, job_id, number))


async def _part(request: web.Request, job_id: str, number: int) -> Attached:
    params = {"job_id": job_id, "part": number}
    return await call(request, documents_rpc.EXPORTS_READ, params, timeout=READ_TIMEOUT)

"""Printing: a selection becomes a print job in the documents service; its page shows the
progress and offers the PDF when it is ready. The PDF itself is served by the JSON API's
document route, to whoever may see every case in it.
"""

from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from multidict import MultiDict

from gateway.auth import login_required
from gateway.pages.case_forms import DOCUMENT_LABELS, list_query, valid_ids
from gateway.web import call, form_of, local_path, render, see_other
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.documents import rpc as documents_rpc
from shared.rpc import RpcError

JOB_ID = "{job_id:[0-9a-fA-F-]{36}}"
MAX_ON_PAGE = 50  # skipped cases listed on the job page; the rest are counted


def setup_routes(app: web.Application) -> None:
    app.router.add_route("POST", "/print", start, name="print_start")
    app.router.add_route("GET", f"/print/{JOB_ID}", job_page, name="print_job")


def job_url(job_id: str, back: str | None) -> str:
    return f"/print/{job_id}" + (f"?{urlencode({'back': back})}" if back else "")


@login_required()
async def start(request: web.Request) -> web.Response:
    """From a list's 打印 buttons (the ticked rows, or ?case= for one row) or a case page."""
    data = await request.post()
    values = await form_of(request)
    back = local_path(values.get("back")) or "/home"
    kind = values.get("kind", "")
    if kind not in DOCUMENT_LABELS:
        return see_other(request, back, "没有这种打印文档，请刷新页面后重试", "error")
    only = valid_ids([request.query.get("case", "")])
    if only:
        case_ids = only
    elif values.get("all_pages") == "1":
        case_ids, problem = await _whole_list(request, values.get("list_query", ""))
        if problem:
            return see_other(request, back, problem, "error")
    else:
        case_ids = valid_ids(data.getall("case_id", []))
    if not case_ids:
        return see_other(request, back, f"请先勾选要打印{DOCUMENT_LABELS[kind]}的人员", "error")
    return await start_job(request, kind, case_ids, back)


async def _whole_list(request: web.Request, encoded: str) -> tuple[list[str], str | None]:
    """Every case of the list the page showed (its filters and order), not only the ticked."""
    query = MultiDict(parse_qsl(encoded))
    params = {k: v for k, v in list_query(query).items() if k not in ("page", "page_size")}
    params = {k: v for k, v in params.items() if v not in ("", None)}
    params["list"] = query.get("list", "")
    try:
        answer = await call(request, cases_rpc.CASE_LIST_IDS, params)
    except RpcError as error:
        if error.status >= 500:
            raise
        return [], f"未能取得列表：{error.message}"
    if answer["total"] > answer["limit"]:
        return [], (
            f"本列表共 {answer['total']} 人，一次最多打印 {answer['limit']} 人，"
            "请用查询条件分批打印"
        )
    return answer["ids"], None


async def start_job(
    request: web.Request,
    kind: str,
    case_ids: list[str],
    back: str,
    message: str | None = None,
    message_kind: str = "success",
) -> web.Response:
    """Queue the job and go to its page; `message` (what was just done) shows there."""
    try:
        job = await call(
            request, documents_rpc.DOCUMENTS_PRINT, {"kind": kind, "case_ids": case_ids}
        )
    except RpcError as error:
        if message:  # what was just done stands: say so, and where to print it later
            problem = f"{message}。未能打印：{error.message}，可在“已办业务”中打印"
            return see_other(request, back, problem, "error")
        if error.status >= 500 or error.status in (401, 403):
            raise
        return see_other(request, back, f"未能打印：{error.message}", "error")
    return see_other(request, job_url(job["job_id"], back), message, message_kind)


@login_required()
async def job_page(request: web.Request) -> web.Response:
    job = await call(request, documents_rpc.DOCUMENTS_JOB, {"job_id": request.match_info["job_id"]})
    back = local_path(request.query.get("back"))
    context = {
        "job": job,
        "back": back,
        "pdf_url": f"/api/documents/{job['document_id']}" if job["document_id"] else None,
        "skipped": job["skipped"][:MAX_ON_PAGE],
        "more_skipped": max(0, len(job["skipped"]) - MAX_ON_PAGE),
        "working": job["status"] in ("queued", "running"),
        "percent": _percent(job),
    }
    return render(request, "print/job.html", context)


def _percent(job: dict) -> int:
    if job["status"] in ("done", "failed"):
        return 100
    if not job["total"]:
        return 0
    return min(99, round(100 * job["done"] / job["total"]))

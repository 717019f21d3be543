"""Errors as their users need them: JSON under /api/, Chinese pages elsewhere."""

import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from gateway.http import json_response
from shared.rpc import RpcError

log = logging.getLogger(__name__)

PAGES = {
    400: ("请求有误", "提交的内容格式有误，请刷新页面后重试。"),
    401: ("请先登录", "登录已失效，请重新登录。"),
    403: ("没有权限", "您没有权限进行此操作。"),
    404: ("页面不存在", "您访问的页面不存在或已被移除。"),
    405: ("不支持的操作", "该页面不支持此操作。"),
    413: ("提交的内容过大", "一次提交的内容不能超过 20 MB。"),
    422: ("输入有误", "提交的内容有误，请检查后重试。"),
    423: ("账户已锁定", "该账户暂时无法登录，请稍后再试。"),
    429: ("操作过于频繁", "您的操作过于频繁，请稍后再试。"),
    503: ("服务暂时不可用", "系统的部分服务暂时无法应答，请稍后再试。"),
    500: ("系统错误", "系统处理您的请求时出错，请稍后再试。如问题持续，请联系技术支持。"),
}


def json_error(status: int, code: str, message: str, fields: dict | None = None) -> web.Response:
    error = {"code": code, "message": message, "status": status}
    if fields:
        error["fields"] = fields
    return json_response({"error": error}, status=status)


def with_retry_after(response: web.StreamResponse, error: RpcError) -> web.StreamResponse:
    """A refusal that says how long to wait (rate limits, lockout) says it in `Retry-After`."""
    details = error.details if isinstance(error.details, dict) else {}
    wait = details.get("retry_after")
    if isinstance(wait, int | float) and wait > 0:
        response.headers["Retry-After"] = str(int(wait))
    return response


async def error_page(request: web.Request, status: int, detail: str | None = None) -> web.Response:
    """A Chinese error page with the site's header as the person sees it (signed in or not)."""
    from gateway.web import render  # gateway.web imports this module's neighbours

    title, text = PAGES.get(status, PAGES[500])
    context = {"status": status, "title": title, "text": detail or text}
    return render(request, "errors/error.html", context, status=status)


def _is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            # A redirect raised is answered as one returned: raised on through the frames
            # that hold the request, it would leave them in a cycle with the exception.
            return web.Response(status=exc.status, headers=exc.headers)
        if exc.status not in PAGES:
            raise
        if _is_api(request):
            return json_error(exc.status, "http_error", PAGES[exc.status][0])
        return await error_page(request, exc.status)
    except RpcError as exc:
        if exc.status >= 500:
            log.warning("%s %s: %s", request.method, request.path, exc.message)
        if _is_api(request):
            response = json_error(exc.status, exc.code, exc.message, exc.fields)
        else:
            status = exc.status if exc.status in PAGES else 500
            response = await error_page(request, status, exc.message)
        return with_retry_after(response, exc)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        if _is_api(request):
            return json_error(500, "internal", PAGES[500][1])
        return await error_page(request, 500)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@web.middleware
async def form_body_middleware(request: web.Request, handler) -> web.StreamResponse:
    """A form body is read once, here: a malformed one (multipart without a boundary, a broken
    part header, bytes that are not UTF-8) is the sender's error, a 400, not a 500 from deep
    in a handler. Handlers then get the parsed form from request.post(), which keeps it."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.content_type in FORM_TYPES:
        try:
            await request.post()
        except (ValueError, HttpProcessingError):
            raise RpcError("bad_request", PAGES[400][1], 400) from None
    return await handler(request)

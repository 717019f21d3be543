"""The input rule (shared/text.py) on what the gateway reads itself.

The services apply the rule to every string of every RPC request, so a form posted to a page
comes back from the service as a 422 naming the field, and the page shows the form again
with what was typed and the message beside the field. What the gateway reads before any
service sees it is checked here, so that no handler works with a text the rule refuses:

- every request: the path's parameters and the query string (names and values);
- the JSON API (/api/): the JSON body (every string, every property name), and a form or
  multipart body (its fields and the names of uploaded files).

Anything refused is a 422 naming each field by its path in what was sent (`inputs.reason`,
`entries.0.title`, `q`): JSON under /api/, the error page elsewhere.
"""

from aiohttp import web

from gateway.http import nested_too_deep
from shared.rpc import RpcError
from shared.text import (
    CONTROLS,
    InputRefused,
    TextRefused,
    check_key,
    check_text,
    clean_tree,
    limit_of,
    shown_path,
)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


# What a person calls the query parameters and fields the error page may name; JSON clients
# get the field names themselves in `fields`.
LABELS = {
    "q": "查询内容",
    "name": "姓名",
    "status": "状态",
    "page": "页码",
    "tab": "标签页",
    "list": "业务列表",
    "sort": "排序",
    "filename": "文件名",
}


def refused(fields: dict[str, str]) -> RpcError:
    """A 422 naming each field; its message lists them too, for the pages' error page."""
    listed = "；".join(
        f"{LABELS.get(name, name)}{message}" for name, message in list(fields.items())[:5]
    )
    return RpcError("invalid_input", f"输入有误：{listed}", 422, fields)


def upload_filename(field: str, filename: str | None) -> str:
    """An uploaded file's name as kept (NFC), or a 422 naming the file field."""
    try:
        return check_text("filename", filename or "")
    except TextRefused as problem:
        raise refused({field: f"文件名{problem.message}"}) from None


def header_text(value: str, name: str) -> str:
    """A header's text passed on to a service (User-Agent): what the rule would refuse is
    dropped rather than refused, and it is cut to the field's limit."""
    kept = "".join(ch for ch in value if ch not in CONTROLS and not "\ud800" <= ch <= "\udfff")
    return kept[: limit_of(name)]


def _check_pairs(pairs, problems: dict[str, str]) -> None:
    for name, value in pairs:
        try:
            check_key(name)
        except TextRefused as problem:
            problems.setdefault(shown_path([name]), problem.message)
            continue
        if isinstance(value, str):
            try:
                check_text(name, value)
            except TextRefused as problem:
                problems.setdefault(name, problem.message)
        elif isinstance(value, web.FileField):
            try:
                check_text("filename", value.filename or "")
            except TextRefused as problem:
                problems.setdefault(name, f"文件名{problem.message}")


async def _body_problems(request: web.Request) -> dict[str, str]:
    problems: dict[str, str] = {}
    if request.content_type in FORM_TYPES:
        _check_pairs((await request.post()).items(), problems)
    elif request.content_type == "application/json" or request.can_read_body:
        try:
            body = await request.json()
        except (ValueError, RecursionError):
            return problems  # not JSON: the handler answers 400
        if nested_too_deep(body):
            raise RpcError("bad_request", "请求体嵌套过深", 400)
        try:
            clean_tree(body)
        except InputRefused as problem:
            problems.update(problem.fields)
    return problems


@web.middleware
async def input_middleware(request: web.Request, handler) -> web.StreamResponse:
    if request.path.startswith("/static/") or request.match_info.http_exception is not None:
        return await handler(request)
    problems: dict[str, str] = {}
    _check_pairs(request.match_info.items(), problems)
    _check_pairs(request.query.items(), problems)
    if request.path.startswith("/api/") and request.method not in ("GET", "HEAD", "OPTIONS"):
        problems.update(await _body_problems(request))
    if problems:
        raise refused(problems)
    return await handler(request)

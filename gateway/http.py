"""JSON responses that keep Chinese text readable."""

import functools
import json
from urllib.parse import quote

from aiohttp import web

from shared.rpc import Attached

dumps = functools.partial(json.dumps, ensure_ascii=False, default=str)
json_response = functools.partial(web.json_response, dumps=dumps)


MAX_JSON_DEPTH = 32  # far deeper than any body of this API; deeper is an attack


async def json_body(request: web.Request):
    """The request body parsed as JSON, or a clear 400 (not JSON, or nested too deep)."""
    from shared.rpc import RpcError

    try:
        data = await request.json()
    except (ValueError, RecursionError):
        raise RpcError("bad_request", "请求体须为 JSON 对象", 400) from None
    if nested_too_deep(data):
        raise RpcError("bad_request", "请求体嵌套过深", 400)
    return data


async def json_object(request: web.Request) -> dict:
    """The request body as a JSON object, or a clear 400."""
    from shared.rpc import RpcError

    data = await json_body(request)
    if not isinstance(data, dict):
        raise RpcError("bad_request", "请求体须为 JSON 对象", 400)
    return data


def nested_too_deep(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when lists and objects nest deeper than `limit` (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def file_response(file: Attached, disposition: str = "inline") -> web.Response:
    """A file a service answered with, by the `filename` and `content_type` beside it: shown
    in the browser (inline) or downloaded (attachment); never cached
    (gateway/security_headers.py)."""
    name = quote(file.value["filename"])
    return web.Response(
        body=file.content,
        content_type=file.value["content_type"],
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{name}",
            "X-Content-Type-Options": "nosniff",
        },
    )

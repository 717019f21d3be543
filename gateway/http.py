"""JSON responses that keep Chinese text readable."""

import base64
import functools
import json
from urllib.parse import quote

from aiohttp import web

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


def stored_file_response(stored: dict, content_type: str) -> web.Response:
    """A file a service answered with (base64 content), shown in the browser; never cached
    (gateway/security_headers.py)."""
    return web.Response(
        body=base64.b64decode(stored["content_base64"]),
        content_type=content_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(stored['filename'])}",
            "X-Content-Type-Options": "nosniff",
        },
    )

"""JSON responses that keep Chinese text readable."""

import base64
import functools
import json
from urllib.parse import quote

from aiohttp import web

dumps = functools.partial(json.dumps, ensure_ascii=False, default=str)
json_response = functools.partial(web.json_response, dumps=dumps)


async def json_object(request: web.Request) -> dict:
    """The request body as a JSON object, or a clear 400."""
    from shared.rpc import RpcError

    try:
        data = await request.json()
    except ValueError:
        raise RpcError("bad_request", "请求体须为 JSON 对象", 400) from None
    if not isinstance(data, dict):
        raise RpcError("bad_request", "请求体须为 JSON 对象", 400)
    return data


def stored_file_response(stored: dict, content_type: str) -> web.Response:
    """A file a service answered with (base64 content), shown in the browser, kept private."""
    return web.Response(
        body=base64.b64decode(stored["content_base64"]),
        content_type=content_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(stored['filename'])}",
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )

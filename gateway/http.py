"""JSON responses that keep Chinese text readable."""

import functools
import json

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

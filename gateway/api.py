"""The JSON API under /api/; every operation is declared in the OpenAPI document."""

from aiohttp import web

from gateway.http import json_response
from gateway.openapi import ApiSpec

spec = ApiSpec(title="深圳市专业技术资格评审申报系统 API", version="0.1.0")


async def openapi_document(_request: web.Request) -> web.Response:
    return json_response(spec.document())


@spec.operation(
    "get",
    "/api/services/{service}/stats",
    "A service's request counters (in flight, peak, handled)",
    "operations",
    response={"type": "object"},
    errors=(404,),
)
async def service_stats(request: web.Request) -> web.Response:
    from gateway.keys import SERVICES, rpc_key

    service = request.match_info["service"]
    if service not in SERVICES:
        raise web.HTTPNotFound()
    return json_response(await request.app[rpc_key].call(service, "stats"))

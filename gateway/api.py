"""The JSON API under /api/; every operation is declared in the OpenAPI document."""

from aiohttp import web

from gateway.auth import login_required
from gateway.http import json_response
from gateway.keys import asyncapi_key
from gateway.openapi import ApiSpec
from shared.contracts.base import Stats
from shared.contracts.registry import SERVICES

spec = ApiSpec(title="深圳市专业技术资格评审申报系统 API", version="0.1.0")


async def openapi_document(_request: web.Request) -> web.Response:
    return json_response(spec.document())


async def asyncapi(request: web.Request) -> web.Response:
    """The AsyncAPI document of every event and RPC queue (shared/asyncapi.py), with this
    deployment's broker names."""
    return json_response(request.app[asyncapi_key])


@spec.operation(
    "get",
    "/api/services/{service}/stats",
    "A service's request counters (in flight, peak, handled); system administrator only",
    "operations",
    response=Stats,
    errors=(401, 403, 404),
)
@login_required("sysadmin")
async def service_stats(request: web.Request) -> web.Response:
    from gateway.keys import rpc_key

    service = request.match_info["service"]
    if service not in SERVICES:
        raise web.HTTPNotFound()
    stats = SERVICES[service]["stats"]
    return json_response(await request.app[rpc_key].invoke(stats))

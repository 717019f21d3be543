"""The gateway's own metrics: each HTTP request by its route's pattern, method and status
(shared/metrics.py), and its metrics endpoint, on a port apart from the public one."""

import time

from aiohttp import web

from gateway.keys import rpc_key, settings_key
from shared import metrics
from shared.metrics_server import MetricsServer

# Other methods are counted as one: a label never takes a value the caller made up.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@web.middleware
async def http_metrics_middleware(request: web.Request, handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500  # unless an answer says otherwise (an error raised, the client gone)
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route, method = route_of(request), request.method
        method = method if method in METHODS else "other"
        metrics.count(metrics.HTTP_REQUESTS, route, method, str(status))
        elapsed = time.perf_counter() - started
        metrics.observe(metrics.HTTP_SECONDS, elapsed, route, method)


def route_of(request: web.Request) -> str:
    """The pattern of the route that took the request (/api/cases/{case_id}), never the path:
    one series per route however many cases; `unmatched` for a path no route has."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


async def metrics_endpoint(app: web.Application):
    """/metrics, /healthz and /readyz on ZC_METRICS_PORT (cleanup_ctx, after the RPC client)."""
    settings = app[settings_key]
    server = MetricsServer(settings.metrics_host, settings.metrics_port, _ready(app), _no_refresh)
    await server.start()
    yield
    await server.close()


def _ready(app: web.Application):
    async def problems() -> dict[str, str]:
        # The gateway's own broker connection: the services' answers are the public /readyz's.
        client = app.get(rpc_key)
        return {} if client is not None and client.connected else {"broker": "not connected"}

    return problems


async def _no_refresh() -> None:
    """Nothing of the gateway's is read at scrape time."""

"""Gateway app factory: `create_app(settings)`."""

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from gateway import routes
from gateway.auth import session_middleware
from gateway.client_address import trusted_networks
from gateway.errors import error_middleware, form_body_middleware
from gateway.input_rule import input_middleware
from gateway.keys import asyncapi_key, rpc_key, session_cache_key, settings_key
from gateway.metrics import http_metrics_middleware, metrics_endpoint
from gateway.request_id import request_id_middleware
from gateway.sessions import SessionCache, SessionListener
from shared import metrics
from shared.asyncapi import asyncapi_document
from shared.rpc import RpcClient
from shared.settings import Settings
from shared.topology import Names

HERE = Path(__file__).resolve().parent


async def rpc_client(app: web.Application):
    settings = app[settings_key]
    client = RpcClient(settings.amqp_url, Names(settings).rpc_queue, settings.rpc_timeout)
    await client.start()
    app[rpc_key] = client
    yield
    await client.close()


async def session_listener(app: web.Application):
    settings = app[settings_key]
    listener = SessionListener(app[session_cache_key], settings.amqp_url, Names(settings))
    await listener.start()
    yield
    await listener.close()


def create_app(settings: Settings) -> web.Application:
    # Errors wrap everything, so a failure in the session lookup still gets a proper page;
    # the metrics wrap even that, so they count what the client got and the whole time.
    app = web.Application(
        middlewares=[
            http_metrics_middleware,
            request_id_middleware,
            error_middleware,
            form_body_middleware,
            session_middleware,
            input_middleware,
        ],
        client_max_size=20 * 1024 * 1024,
    )
    app[settings_key] = settings
    app[asyncapi_key] = asyncapi_document(settings)  # with this deployment's broker names
    trusted_networks(settings.trusted_proxies)  # a mistyped ZC_TRUSTED_PROXIES stops start-up
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    cache = app[session_cache_key] = SessionCache(settings.session_cache_seconds)
    metrics.SESSION_CACHE_ENTRIES.set_function(lambda: len(cache))
    metrics.SESSION_CACHE_SUBSCRIBED.set_function(lambda: float(cache.listening))
    app.cleanup_ctx.append(rpc_client)
    app.cleanup_ctx.append(session_listener)
    if settings.metrics_port:
        app.cleanup_ctx.append(metrics_endpoint)
    routes.setup(app, HERE / "static")
    return app

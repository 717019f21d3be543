"""The floor's gateway: a bare aiohttp server, run as the gateway runs (uvloop, the same
garbage collector settings, no access log), that hands each approval to bench._floor_service
over RabbitMQ (direct reply-to, as shared.rpc does) and answers its reply. No middlewares:
no session, CSRF or input checks, no metrics, no request id.

    ZC_GATEWAY_PORT=PORT python -m bench._floor_gateway
"""

import json

from aiohttp import web

from bench._floor_service import queue_name
from bench.messaging import BareRpcClient
from shared.event_loop import new_event_loop, tune_garbage_collector
from shared.settings import Settings


def build_app(settings: Settings) -> web.Application:
    rpc = BareRpcClient(settings.amqp_url, queue_name(settings))

    async def approve(request: web.Request) -> web.Response:
        body = await request.json()
        reply = await rpc.call(
            json.dumps({**body, "case_id": request.match_info["case_id"]}).encode()
        )
        return web.json_response(reply, status=200 if reply["ok"] else 409)

    async def ready(_request: web.Request) -> web.Response:
        reply = await rpc.call(json.dumps({"ping": True}).encode())
        return web.json_response(reply)

    async def connect(_app) -> None:
        await rpc.start()

    async def close(_app) -> None:
        await rpc.close()

    app = web.Application()
    app.router.add_post("/approve/{case_id}", approve)
    app.router.add_get("/readyz", ready)
    app.on_startup.append(connect)
    app.on_cleanup.append(close)
    return app


def main() -> None:
    settings = Settings()
    tune_garbage_collector()
    web.run_app(
        build_app(settings), host=settings.gateway_host, port=settings.gateway_port,
        print=lambda _: None, access_log=None, loop=new_event_loop(settings),
    )  # fmt: skip


if __name__ == "__main__":
    main()

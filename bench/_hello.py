"""A bare aiohttp "hello" server, run as the gateway runs (uvloop, the same garbage collector
settings, no access log): bench.load hits it with its own driver to show the driver's and
one Python process's limit beside the system's figures.

    ZC_GATEWAY_PORT=PORT python -m bench._hello
"""

from aiohttp import web

from shared.event_loop import new_event_loop, tune_garbage_collector
from shared.settings import Settings


async def hello(_request: web.Request) -> web.Response:
    return web.Response(text="hello")


def main() -> None:
    app = web.Application()
    app.router.add_get("/", hello)
    settings = Settings()
    tune_garbage_collector()
    web.run_app(
        app, host=settings.gateway_host, port=settings.gateway_port, print=lambda _: None,
        access_log=None, loop=new_event_loop(settings),
    )  # fmt: skip


if __name__ == "__main__":
    main()

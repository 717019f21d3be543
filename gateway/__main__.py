from aiohttp import web

from gateway.app import create_app
from shared.event_loop import new_event_loop, tune_garbage_collector
from shared.logs import setup_logging
from shared.settings import get_settings

settings = get_settings()
setup_logging(settings.log_level, "gateway")
tune_garbage_collector()
web.run_app(
    create_app(settings),
    host=settings.gateway_host,
    port=settings.gateway_port,
    reuse_port=settings.gateway_reuse_port or None,
    # On SIGTERM: no new connections, the requests under way get this long to finish.
    shutdown_timeout=settings.stop_grace,
    print=lambda _: None,
    access_log=None,  # gateway/request_id.py writes each request's line, with its id
    loop=new_event_loop(settings),
)

"""Each process's own small HTTP endpoint, apart from any public port (`ZC_METRICS_PORT`).

- `GET /metrics`: the process's metrics in Prometheus' text format (shared/metrics.py), with
  the figures that are read when asked (outbox backlog, pool, render workers) read first.
- `GET /healthz`: 200 while the process's event loop runs (liveness: it answers from that loop).
- `GET /readyz`: 200 when the process's own broker connection and database answer, else 503
  with why (readiness). Only its own: the gateway's public `/readyz` pings every service.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

log = logging.getLogger(__name__)

# Problems keyed by what failed ("broker", "database"), with why; empty when ready.
ReadyCheck = Callable[[], Awaitable[dict[str, str]]]
Refresh = Callable[[], Awaitable[None]]
REFRESH_TIMEOUT = 2.0  # seconds the figures read at scrape time may take


class MetricsServer:
    def __init__(self, host: str, port: int, ready: ReadyCheck, refresh: Refresh) -> None:
        self.host, self.port = host, port
        self.ready, self.refresh = ready, refresh
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", _alive)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        log.info("metrics, /healthz and /readyz on http://%s:%d", self.host, self.port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(REFRESH_TIMEOUT):
                await self.refresh()
        except Exception as error:  # the database away: the rest is still worth reading
            log.warning("metrics read at scrape time not refreshed: %r", error)
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _readyz(self, _request: web.Request) -> web.Response:
        problems = await self.ready()
        if problems:
            return web.json_response({"status": "not_ready", "problems": problems}, status=503)
        return web.json_response({"status": "ready"})


async def _alive(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})

"""Liveness and readiness."""

import asyncio
import time

from aiohttp import web

from gateway.http import json_response
from gateway.keys import rpc_key, settings_key
from shared.contracts.registry import SERVICES
from shared.rpc import RpcError


async def healthz(_request: web.Request) -> web.Response:
    return json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    deadline = request.app[settings_key].ready_timeout
    names = list(SERVICES)
    answers = await asyncio.gather(*(_ping(request, s, deadline) for s in names))
    services = dict(zip(names, answers, strict=True))
    ready = all(a["ok"] for a in answers)
    return json_response(
        {"status": "ready" if ready else "not_ready", "services": services},
        status=200 if ready else 503,
    )


async def _ping(request: web.Request, service: str, deadline: float) -> dict:
    started = time.perf_counter()
    try:
        ping = SERVICES[service]["ping"]
        answer = await request.app[rpc_key].invoke(ping, timeout=deadline)
    except RpcError as error:
        return {"ok": False, "error": error.message}
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return {"ok": True, "pid": answer["pid"], "ms": elapsed_ms}

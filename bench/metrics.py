"""What the metrics add to the hot paths, beside the same paths with them switched off, in one run.

    python -m bench.metrics

Three paths, run in this process with nothing slow behind them, so that what the metrics add
is not lost in a database's or a broker's time:

- `rpc_server`: `RpcRouter.dispatch` of a request whose method answers at once (the server
  side of every RPC: read, check, call, reply);
- `rpc_client`: `RpcClient.call` with a round trip that answers at once (the caller's side:
  the request's JSON, the reply's reading);
- `http`: the gateway's `http_metrics_middleware` around a handler that answers at once.

"off" is the same code with `shared.metrics.count` and `shared.metrics.observe` replaced by
functions that do nothing; on and off take turns, round after round, and each figure is the
median of the rounds (CPU time of this process per call, so other work on the machine counts
less). The last line printed is one JSON object with every figure. See bench/README.md.
"""

import asyncio
import json
import os
import statistics
import time

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gateway.metrics import http_metrics_middleware
from shared import metrics
from shared.rpc import RpcClient, RpcRouter

ROUNDS, CALLS = 21, 5000
REQUEST = json.dumps(
    {
        "method": "bench.echo",
        "params": {"case_id": "5d0c3f52-7b8e-4b7a-8f0e-1c2d3e4f5a6b"},
        "actor": {"user_id": "0b9f0c2e-4c1e-4f7e-9d7a-2f6f1b0e8a11", "role": "unit_operator"},
        "request_id": "bench",
    }
).encode()


class AnsweringClient(RpcClient):
    """The client's own work around a round trip that is answered at once."""

    async def _round_trip(
        self, service: str, body: bytes, content_type: str, timeout: float
    ) -> tuple[dict, bytes | None]:
        return {"ok": True, "result": {"echo": len(body)}}, None


async def echo(_params, _context) -> dict:
    return {"ok": True}


async def answer(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


def paths() -> dict:
    router = RpcRouter("bench")
    router.method("bench.echo")(echo)
    client = AnsweringClient("amqp://unused/", lambda s: s, 5.0)
    app = web.Application()
    app.router.add_get("/api/cases/{case_id}", answer)
    request = make_mocked_request("GET", "/api/cases/1", app=app)

    async def http_once() -> None:
        request._match_info = await app.router.resolve(request)
        await http_metrics_middleware(request, answer)

    return {
        "rpc_server": lambda: router.dispatch(REQUEST, None, "c1", "m1"),
        "rpc_client": lambda: client.call("cases", "case.get", {"case_id": "x"}),
        "http": http_once,
    }


async def per_call(call, calls: int) -> float:
    """CPU microseconds per call over `calls` calls."""
    started = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - started) / calls * 1e6


async def compare(call) -> dict:
    on, off = [], []
    count, observe = metrics.count, metrics.observe
    for _ in range(ROUNDS):
        on.append(await per_call(call, CALLS))
        metrics.count = metrics.observe = lambda *args, **kwargs: None
        try:
            off.append(await per_call(call, CALLS))
        finally:
            metrics.count, metrics.observe = count, observe
    with_metrics, without = statistics.median(on), statistics.median(off)
    return {
        "on_us": round(with_metrics, 2),
        "off_us": round(without, 2),
        "added_us": round(with_metrics - without, 2),
    }


async def main() -> None:
    figures = {"cores": os.cpu_count(), "load_before": os.getloadavg()[0]}
    for name, call in paths().items():
        await per_call(call, CALLS)  # warm-up: the series exist, the caches are filled
        figures[name] = result = await compare(call)
        print(
            f"{name:<11} with metrics {result['on_us']:7.2f} µs/call   without"
            f" {result['off_us']:7.2f}   added {result['added_us']:5.2f} µs"
        )
    figures["load_after"] = os.getloadavg()[0]
    print(f"load average {figures['load_before']:.2f} before, {figures['load_after']:.2f} after")
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())

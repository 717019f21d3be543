"""A service process for the stop tests: `python -m tests.support.slow_service`, its name
in ZC_PROBE_SERVICE.

Built and run like every service (shared.service.Service, until SIGTERM), with what no real
service has: an RPC method and an event handler that take as long as they are told. Each
records in the service's schema (tables the test made) that it began, in which process, and
what it did:

- `slow` {call_id, seconds}: a row in `calls` at once (committed), sleeps, stamps it finished;
- event `probe.slow` {seconds}: a row in `event_starts` at once (committed), sleeps (only the
  first time the event is seen: a redelivery is quick), then a row in `effects` in the event's
  own transaction, which a handler cut short rolls back.
"""

import asyncio
import os

from pydantic import BaseModel

from shared.consumer import EventConsumer
from shared.processes import identity
from shared.rpc import RpcRouter
from shared.service import Service

SLOW_EVENT = "probe.slow"
TABLES = """
CREATE TABLE calls (call_id text PRIMARY KEY, pid int NOT NULL, finished_at timestamptz);
CREATE TABLE event_starts (event_id uuid, pid int NOT NULL, at timestamptz DEFAULT now());
CREATE TABLE effects (event_id uuid NOT NULL, pid int NOT NULL);
"""


class Slow(BaseModel):
    call_id: str
    seconds: float


class SlowEvent(BaseModel):
    seconds: float


def build(name: str) -> Service:
    rpc = RpcRouter(name)
    events = EventConsumer(name)
    service = Service(name, rpc, events, schema=name)

    @rpc.method("slow", Slow)
    async def slow(params: Slow, ctx) -> dict:
        await ctx.pool.execute(
            "INSERT INTO calls (call_id, pid) VALUES ($1, $2)", params.call_id, os.getpid()
        )
        await asyncio.sleep(params.seconds)
        await ctx.pool.execute(
            "UPDATE calls SET finished_at = now() WHERE call_id = $1", params.call_id
        )
        return {"call_id": params.call_id, "pid": os.getpid(), "process": identity()}

    @events.on(SLOW_EVENT, SlowEvent)
    async def handle(conn, envelope, payload: SlowEvent) -> None:
        seen = await service.pool.fetchval(
            "SELECT count(*) FROM event_starts WHERE event_id = $1", envelope.id
        )
        await service.pool.execute(
            "INSERT INTO event_starts (event_id, pid) VALUES ($1, $2)", envelope.id, os.getpid()
        )
        if not seen:
            await asyncio.sleep(payload.seconds)
        await conn.execute(
            "INSERT INTO effects (event_id, pid) VALUES ($1, $2)", envelope.id, os.getpid()
        )

    return service


if __name__ == "__main__":
    build(os.environ["ZC_PROBE_SERVICE"]).run()

"""The floor's service: a bare aio-pika RPC server that runs the bare 审核同意
(bench/_bare_approval.py) for each request, and nothing else: no validation, no domain, no
audit row, no event sent. bench.workflow's `floor` phase starts it beside bench._floor_gateway.

    ZC_* settings from the environment; python -m bench._floor_service
"""

import asyncio
import json
import signal
import uuid

import aio_pika

from bench._bare_approval import approve as bare_approve
from shared import event_loop
from shared.db import create_pool
from shared.rpc import Actor
from shared.settings import Settings, get_settings


def queue_name(settings: Settings) -> str:
    return settings.name("floor", "rpc")


async def serve(settings: Settings) -> None:
    pool = await create_pool(settings.database_url, "cases")  # as the cases service makes it
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=settings.rpc_prefetch)
        queue = await channel.declare_queue(queue_name(settings), durable=False, auto_delete=True)

        async def answer(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            reply = await run(pool, json.loads(message.body))
            await channel.default_exchange.publish(
                aio_pika.Message(json.dumps(reply).encode(), correlation_id=message.correlation_id),
                routing_key=message.reply_to,
                mandatory=False,
            )

        await queue.consume(answer, no_ack=True)
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await stop.wait()
    await pool.close()


async def run(pool, request: dict) -> dict:
    """{"ping": true} → ok; else approve request's case as its unit's operator."""
    if request.get("ping"):
        return {"ok": True}
    actor = Actor(
        user_id=uuid.UUID(request["user_id"]), role="unit_operator",
        unit_id=uuid.UUID(request["unit_id"]),
    )  # fmt: skip
    case = (uuid.UUID(request["case_id"]), request["version"])
    error = await bare_approve(pool, actor, [case], request["inputs"])
    return {"ok": error is None, "error": error}


if __name__ == "__main__":
    event_loop.run(serve(get_settings()), get_settings())  # the services' loop (uvloop)

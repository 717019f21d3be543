"""The far side of bench.messaging, run in a process of its own.

    python -m bench._peers ours <schema>   a shared.service.Service: RPC `echo` and `receipts`,
                                           and an EventConsumer of `bench.tick`
    python -m bench._peers bare <schema>   the same with nothing but aio-pika, and asyncpg for
                                           `bench.tick.durable`: each recorded in an inbox
                                           table of <schema> before its ack

Settings come from the ZC_* environment the bench passes. Each peer prints `ready` on
stdout once it consumes, and stops on SIGTERM. Receipt times are CLOCK_MONOTONIC, which
is one clock for every process on Linux, so the bench subtracts its own times from them.
"""

import asyncio
import json
import signal
import sys
import time
import uuid

import aio_pika
import asyncpg

from shared import event_loop
from shared.consumer import EventConsumer
from shared.rpc import RpcRouter
from shared.service import Service
from shared.settings import Settings, get_settings

EVENT_TYPE = "bench.tick"
DURABLE_EVENT_TYPE = "bench.tick.durable"  # the bare stack's durable events (bench.messaging)


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


class BareNames:
    """Broker objects of the bare stack, under the run's prefix beside ours."""

    def __init__(self, settings: Settings) -> None:
        self.rpc_queue = settings.name("bare", "rpc")
        self.events_exchange = settings.name("bare", "events")
        self.event_queue = settings.name("bare", "events", "queue")


def build_our_peer(schema: str) -> Service:
    rpc = RpcRouter("benchpeer")
    events = EventConsumer("benchpeer")
    received: dict[int, float] = {}

    @rpc.method("echo")
    async def echo(params, _context):
        return params

    @rpc.method("receipts")
    async def receipts(_params, _context):
        return sorted(received.items())

    @events.on(EVENT_TYPE)
    async def record_receipt(_conn, _envelope, payload):
        received[payload["seq"]] = now()

    async def say_ready(_service):
        print("ready", flush=True)

    return Service("benchpeer", rpc, events, schema=schema, on_start=[say_ready])


async def run_bare_peer(settings: Settings, schema: str) -> None:
    names = BareNames(settings)
    received: dict[int, float] = {}
    durable_received: dict[int, float] = {}
    database = await asyncpg.create_pool(
        settings.database_url, min_size=2, max_size=10, server_settings={"search_path": schema}
    )
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        rpc_channel = await connection.channel(publisher_confirms=False)
        await rpc_channel.set_qos(prefetch_count=settings.rpc_prefetch)
        rpc_queue = await rpc_channel.declare_queue(names.rpc_queue, durable=False)

        event_channel = await connection.channel()
        await event_channel.set_qos(prefetch_count=settings.event_prefetch)
        exchange = await event_channel.declare_exchange(
            names.events_exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        event_queue = await event_channel.declare_queue(
            names.event_queue, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await event_queue.bind(exchange, routing_key=EVENT_TYPE)
        await event_queue.bind(exchange, routing_key=DURABLE_EVENT_TYPE)

        async def answer(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            if message.type == "receipts":
                body = json.dumps(sorted(received.items())).encode()
            elif message.type == "durable_receipts":
                body = json.dumps(sorted(durable_received.items())).encode()
            else:
                body = message.body
            await rpc_channel.default_exchange.publish(
                aio_pika.Message(body, correlation_id=message.correlation_id),
                routing_key=message.reply_to,
                mandatory=False,  # RabbitMQ 3.10 returns mandatory direct replies it delivered
            )

        async def record_receipt(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            if message.routing_key == DURABLE_EVENT_TYPE:
                # the least a consumer that handles each event once can do: one statement,
                # its own transaction, before the ack
                await database.execute(
                    "INSERT INTO inbox (id) VALUES ($1) ON CONFLICT DO NOTHING",
                    uuid.UUID(message.message_id),
                )
                durable_received[json.loads(message.body)["seq"]] = now()
            else:
                received[json.loads(message.body)["seq"]] = now()
            await message.ack()

        await rpc_queue.consume(answer, no_ack=True)
        await event_queue.consume(record_receipt)
        print("ready", flush=True)
        await wait_for_sigterm()
    await database.close()


async def wait_for_sigterm() -> None:
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()


if __name__ == "__main__":
    if sys.argv[1] == "ours":
        build_our_peer(sys.argv[2]).run()
    else:
        event_loop.run(
            run_bare_peer(get_settings(), sys.argv[2]), get_settings()
        )  # the services' loop

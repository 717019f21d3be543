"""Throwaway services for messaging tests: unique names, their own schemas, cleaned up after."""

import asyncio
import time
import uuid

import aio_pika
import asyncpg

from shared.consumer import EventConsumer
from shared.rpc import RpcRouter
from shared.service import Service
from shared.settings import Settings
from shared.topology import Names


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def start_probe(settings: Settings, events: EventConsumer | None = None, rpc=None) -> Service:
    rpc = rpc or RpcRouter(unique("probe"))
    service = Service(rpc.service, rpc, events, settings=settings, schema=rpc.service)
    await service.start()
    return service


async def drop_probe(service: Service, settings: Settings) -> None:
    await service.stop()
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{service.schema}" CASCADE')
    finally:
        await conn.close()
    await delete_broker_objects(settings, service)


async def delete_broker_objects(settings: Settings, service: Service) -> None:
    names = Names(settings)
    queues = [names.rpc_queue(service.name)]
    if service.events is not None:
        queues += [
            names.event_queue(service.events.name),
            names.dead_letter_queue(service.events.name),
            *(names.retry_queue(service.events.name, ms) for ms in names.retry_delays_ms),
        ]
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        for queue in queues:
            channel = await connection.channel()
            try:
                await channel.queue_delete(queue)
            except aio_pika.exceptions.AMQPError:
                pass


async def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll an (async or plain) predicate until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def publish_raw(settings: Settings, body: bytes, routing_key: str) -> str:
    """Put bytes on the events exchange as any producer (or a broken one) could; returns the
    message id of its AMQP properties."""
    message_id = uuid.uuid4().hex
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(Names(settings).events_exchange)
        await exchange.publish(
            aio_pika.Message(body, message_id=message_id), routing_key=routing_key
        )
    return message_id

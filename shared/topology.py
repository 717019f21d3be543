"""RabbitMQ objects: names and declarations, in one place.

- `<prefix>.events`: topic exchange; an event's routing key is its type (case.approved).
- `<prefix>.<service>.events`: a durable quorum queue per consuming service, bound to the
  types it handles. A message whose consumer dies `max_deliveries` times while handling it
  is dead-lettered through `<prefix>.dlx` into `<prefix>.<service>.events.dlq`, where an
  operator can inspect and replay it (tools.dlq).
- `<prefix>.<service>.events.retry.<ms>ms`: one durable queue per retry delay; a failed
  event waits there and expires back into the service's queue (shared/failed_events.py).
- `<prefix>.rpc.<service>`: the request queue of a service; replies go to the caller's
  direct reply-to pseudo-queue.
"""

import logging
from dataclasses import dataclass

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

from shared import amqp
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Names:
    settings: Settings

    @property
    def events_exchange(self) -> str:
        return self.settings.name("events")

    @property
    def dead_letter_exchange(self) -> str:
        return self.settings.name("dlx")

    def event_queue(self, consumer: str) -> str:
        return self.settings.name(consumer, "events")

    def dead_letter_queue(self, consumer: str) -> str:
        return self.settings.name(consumer, "events", "dlq")

    @property
    def retry_delays_ms(self) -> list[int]:
        return [max(1, round(seconds * 1000)) for seconds in self.settings.event_retry_delays]

    def retry_queue(self, consumer: str, delay_ms: int) -> str:
        return self.settings.name(consumer, "events", "retry", f"{delay_ms}ms")

    def rpc_queue(self, service: str) -> str:
        return self.settings.name("rpc", service)


def event_queue_arguments(names: Names, consumer: str) -> dict:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": names.settings.max_deliveries,
        "x-dead-letter-exchange": names.dead_letter_exchange,
        "x-dead-letter-routing-key": names.event_queue(consumer),
    }


async def declare_events_exchange(channel: AbstractChannel, names: Names) -> AbstractExchange:
    return await channel.declare_exchange(
        names.events_exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )


async def declare_consumer_queues(
    connection: AbstractConnection,
    names: Names,
    consumer: str,
    routing_keys: list[str],
    retired_keys: list[str] = (),
) -> None:
    """The consumer's quorum queue, its bindings (less retired ones), its dead-letter queue
    and its retry queues."""
    channel = await connection.channel()
    events = await declare_events_exchange(channel, names)
    dlx = await channel.declare_exchange(
        names.dead_letter_exchange, aio_pika.ExchangeType.DIRECT, durable=True
    )
    dlq = await channel.declare_queue(
        names.dead_letter_queue(consumer), durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dlq.bind(dlx, routing_key=names.event_queue(consumer))
    try:
        queue = await channel.declare_queue(
            names.event_queue(consumer),
            durable=True,
            arguments=event_queue_arguments(names, consumer),
        )
    except aiormq.exceptions.ChannelPreconditionFailed as error:
        # A queue made by an older version with other arguments (say another delivery
        # limit): arguments of a queue cannot change, and the queue holds events, so it is
        # kept as it is, and the operator told how to apply the new ones.
        log.warning(
            "queue %s exists with other arguments (%s); keeping it. To apply the current"
            " ones, stop %s, move its messages and delete the queue.",
            names.event_queue(consumer),
            error,
            consumer,
        )
        channel = await connection.channel()
        queue = await channel.declare_queue(names.event_queue(consumer), passive=True)
    for key in routing_keys:
        await queue.bind(events, routing_key=key)
    for key in retired_keys:  # unbinding a binding that is not there is no error
        await queue.unbind(events, routing_key=key)
    for delay_ms in names.retry_delays_ms:
        await channel.declare_queue(
            names.retry_queue(consumer, delay_ms),
            durable=True,
            arguments={
                "x-message-ttl": delay_ms,
                "x-dead-letter-exchange": "",  # the default exchange: by queue name
                "x-dead-letter-routing-key": names.event_queue(consumer),
            },
        )


SERVICES = ("accounts", "cases", "documents", "notify")


def names_under_prefix(names: Names) -> tuple[list[str], list[str]]:
    """(queues, exchanges) the services declare under one prefix: what a cleanup removes."""
    settings = names.settings
    queues = [
        settings.name("sms", "provider"),
        settings.name("sms", "provider", "fallback"),
        settings.name("sms", "receipts"),
    ]
    for service in SERVICES:
        queues += [
            names.event_queue(service),
            names.dead_letter_queue(service),
            names.rpc_queue(service),
            *(names.retry_queue(service, ms) for ms in names.retry_delays_ms),
        ]
    exchanges = [
        names.events_exchange,
        names.dead_letter_exchange,
        settings.name("sms", "outbound"),
    ]
    return queues, exchanges


async def delete_prefix(settings: Settings) -> None:
    """Remove a finished run's queues and exchanges (tests and benchmarks use their own
    prefix; quorum queues left behind pile up and slow the broker down)."""
    names = Names(settings)
    queues, exchanges = names_under_prefix(names)
    connection = await amqp.connect(settings.amqp_url, timeout=10)
    async with connection:
        for queue in queues:
            channel = await connection.channel()
            await channel.queue_delete(queue)  # deleting a missing queue is not an error
        for exchange in exchanges:
            channel = await connection.channel()
            await channel.exchange_delete(exchange)

"""Where an event goes when it was not handled: back later, or to the dead-letter queue.

A handler that fails (its database away, a peer down, a bug) gets the event again after a
delay that grows: the copy waits in a retry queue `<consumer>.events.retry.<ms>ms` whose
messages expire into the consumer's own queue after that many milliseconds. Waiting there
holds no prefetch slot and no process, and survives a restart of the consumer. With the
delays of the settings (1 s to 2 min, about 4 minutes in all) a dependency can be away for
minutes before anything is dead-lettered. Once they are spent, or at once for a message that
cannot be understood, the event goes to `<consumer>.events.dlq` with the reason of its last
failure in the header `x-last-error`, where `python -m tools.dlq list` shows it.

The copy is published with a confirm before the original is acked, so a crash between the
two means one more delivery, which the inbox makes harmless.
"""

import logging
from datetime import UTC, datetime

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from shared import amqp, metrics
from shared.topology import Names

log = logging.getLogger(__name__)

RETRIES_HEADER = "x-retries"
LAST_ERROR_HEADER = "x-last-error"
FAILED_AT_HEADER = "x-failed-at"
MAX_REASON = 500


class FailedEvents:
    def __init__(self, amqp_url: str, names: Names, consumer: str) -> None:
        self.amqp_url = amqp_url
        self.names = names
        self.consumer = consumer
        self.delays_ms = names.retry_delays_ms
        self.retried = 0
        self.dead_lettered = 0
        self._connection: AbstractRobustConnection | None = None
        self._exchange = None

    async def start(self) -> None:
        self._connection = await amqp.connect_robust(self.amqp_url, timeout=10)
        channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = channel.default_exchange

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def retry_later(self, message: AbstractIncomingMessage, reason: str) -> None:
        """Send the event back after the next delay, or dead-letter it when none is left."""
        retries = _retries(message)
        if retries >= len(self.delays_ms):
            await self.dead_letter(message, f"gave up after {retries + 1} tries: {reason}")
            return
        delay_ms = self.delays_ms[retries]
        log.warning(
            "%s: event %s failed (%s); retry %d in %.1fs",
            self.consumer,
            message.message_id or "?",
            reason,
            retries + 1,
            delay_ms / 1000,
        )
        await self._publish(
            message,
            self.names.retry_queue(self.consumer, delay_ms),
            {RETRIES_HEADER: retries + 1, LAST_ERROR_HEADER: reason[:MAX_REASON]},
        )
        self.retried += 1
        metrics.count(metrics.EVENTS_RETRIED, self.consumer)

    async def dead_letter(self, message: AbstractIncomingMessage, reason: str) -> None:
        log.error("%s: event %s dead-lettered: %s", self.consumer, message.message_id, reason)
        await self._publish(
            message,
            self.names.dead_letter_queue(self.consumer),
            {
                LAST_ERROR_HEADER: reason[:MAX_REASON],
                FAILED_AT_HEADER: datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        self.dead_lettered += 1
        metrics.count(metrics.EVENTS_DEAD_LETTERED, self.consumer)

    async def _publish(self, message: AbstractIncomingMessage, queue: str, headers: dict) -> None:
        copy = aio_pika.Message(
            message.body,
            headers={**(message.headers or {}), **headers},
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            type=message.type,
            app_id=message.app_id,
        )
        await self._exchange.publish(copy, routing_key=queue, timeout=10)


def _retries(message: AbstractIncomingMessage) -> int:
    try:
        return max(0, int((message.headers or {}).get(RETRIES_HEADER) or 0))
    except (TypeError, ValueError):
        return 0


def describe_failure(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__

"""Publishing SMS to the provider exchange, with confirms, and recording what happened."""

import json
import uuid
from datetime import datetime, timedelta

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractExchange

from services.notify import provider
from shared.settings import Settings


class ProviderUnreachable(Exception):
    pass


class SmsGateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connection: AbstractConnection | None = None
        self._exchange: AbstractExchange | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self.settings.amqp_url, timeout=5)
        channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange, _, _ = await provider.declare(channel, self.settings)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def publish(
        self,
        delivery_id: uuid.UUID,
        mobile: str,
        body: str,
        priority: int,
        attempt: int,
        expires_at: datetime | None,
        now: datetime,
    ) -> None:
        """Hand one SMS to the providers; raises ProviderUnreachable when they did not get it."""
        if self._exchange is None:
            raise ProviderUnreachable("not connected")
        ttl = None
        if expires_at is not None:
            # A code must not reach a phone after it expired, even from a provider backlog.
            ttl = max(timedelta(milliseconds=1), expires_at - now)
        message = aio_pika.Message(
            json.dumps(
                {
                    "delivery_id": str(delivery_id),
                    "mobile": mobile,
                    "body": body,
                    "attempt": attempt,
                },
                ensure_ascii=False,
            ).encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            priority=priority,
            message_id=f"{delivery_id}:{attempt}",
            expiration=ttl,
        )
        try:
            await self._exchange.publish(message, routing_key="sms", mandatory=True, timeout=5)
        except (aio_pika.exceptions.AMQPError, ConnectionError, TimeoutError) as error:
            raise ProviderUnreachable(type(error).__name__) from None

"""Publishing SMS to the provider exchange, with confirms, telling sure failures from doubt."""

import json
import uuid
from datetime import datetime, timedelta

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractExchange

from services.notify import provider
from services.notify.sealed import in_transit
from shared import amqp
from shared.contracts.notify.provider import OutboundSms
from shared.settings import Settings

PUBLISH_TIMEOUT = 5.0  # seconds; the reconcile lease must be longer


class ProviderUnreachable(Exception):
    """The SMS certainly did not reach the provider queue: not connected, nacked, unroutable."""


class PublishUncertain(Exception):
    """The broker may or may not have taken the SMS: the confirm never came."""


class SmsGateway:
    def __init__(self, settings: Settings, fallback: bool = False) -> None:
        self.settings = settings
        self.fallback = fallback  # a fallback provider is configured: declare its queue
        self._connection: AbstractConnection | None = None
        self._exchange: AbstractExchange | None = None

    async def start(self) -> None:
        self._connection = await amqp.connect_robust(self.settings.amqp_url, timeout=5)
        channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange, _, _ = await provider.declare(
            channel, self.settings, fallback=self.fallback
        )

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
        reconciliation: int = 0,
        *,
        template: str | None = None,
        params: dict | None = None,
        route: str = "primary",
    ) -> None:
        """Hand one attempt of one SMS to the providers.

        Raises ProviderUnreachable when it certainly did not get there, PublishUncertain
        when it may have (a lost confirm): only the first may be retried as a new attempt.
        """
        if self._exchange is None or self._exchange.channel.is_closed:
            raise ProviderUnreachable("not connected")
        ttl = None
        if expires_at is not None:
            # A code must not reach a phone after it expired, even from a provider backlog.
            ttl = max(timedelta(milliseconds=1), expires_at - now)
        message_id = provider.out_id(delivery_id, attempt)
        sms = OutboundSms(
            delivery_id=str(delivery_id),
            attempt=attempt,
            out_id=message_id,
            mobile=in_transit(mobile),  # the queue is at rest in the broker
            body=body,
            expires_at=expires_at,
            template=template,
            params=params or {},
        )
        message = aio_pika.Message(
            json.dumps(sms.model_dump(mode="json"), ensure_ascii=False).encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            priority=priority,
            message_id=message_id,
            expiration=ttl,
            headers={provider.RECONCILIATION_HEADER: reconciliation} if reconciliation else None,
        )
        try:
            await self._exchange.publish(
                message,
                routing_key=provider.ROUTING_KEYS[route],
                mandatory=True,
                timeout=PUBLISH_TIMEOUT,
            )
        except aio_pika.exceptions.DeliveryError as error:  # nacked or returned unroutable
            raise ProviderUnreachable(type(error).__name__) from None
        except (aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError, TimeoutError) as e:
            # The frame may have left before the channel broke or the confirm timed out.
            raise PublishUncertain(type(e).__name__) from None

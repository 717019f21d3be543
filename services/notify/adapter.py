"""The provider side of the SMS contract, common to every provider adapter.

An adapter process consumes `<prefix>.sms.provider`, hands each SMS to its provider,
publishes the outcome to `<prefix>.sms.receipts` (confirmed) and only then acks, so an
adapter that dies on the way gets the message again (AMQP `redelivered`).

It owns the provider's idempotency. The out-id (`<delivery_id>:<attempt>`) goes to the
provider as its client-side id (Alibaba `OutId`, Tencent `SessionContext`), and one out-id
is never sent twice: a copy that may be a duplicate — redelivered (this adapter died before
its ack) or flagged `x-reconciliation` (notify died before it recorded the send and
republished the attempt) — is first checked against what the provider already has; found:
a receipt only (`duplicate: true`), no second SMS. The check and the send must not
interleave with another copy's (two copies can be in flight at once, in two adapter
processes or in one: consumer callbacks run concurrently), and an out-id whose send failed
must be answered failed again rather than sent, or a later attempt would make it two.

A subclass implements `deliver`; `services.notify.dev_provider` is the development one,
`services.notify.provider_adapter` the base of the real ones (Alibaba Cloud, Tencent Cloud),
which also report what the provider says later (delivery reports).
"""

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from services.notify import provider
from services.notify.sealed import received
from shared import amqp
from shared.contracts.notify.provider import SmsReceipt
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboundSms:
    delivery_id: str
    attempt: int
    out_id: str
    mobile: str
    body: str
    expires_at: datetime | None
    reconciliation: int  # 0: the attempt's first publish; n: notify's n-th republish of it
    redelivered: bool  # an adapter got it before and did not ack it
    template: str | None = None  # a key of services/notify/templates.py
    params: dict | None = None  # its parameters

    @property
    def may_be_duplicate(self) -> bool:
        return self.redelivered or self.reconciliation > 0

    @classmethod
    def from_message(cls, message: AbstractIncomingMessage) -> "OutboundSms":
        sms = json.loads(message.body)
        delivery_id, attempt = str(sms["delivery_id"]), int(sms["attempt"])
        expires_at = sms.get("expires_at")
        return cls(
            delivery_id=delivery_id,
            attempt=attempt,
            out_id=sms.get("out_id") or provider.out_id(delivery_id, attempt),
            mobile=received(str(sms["mobile"])),
            body=str(sms["body"]),
            expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
            reconciliation=int((message.headers or {}).get(provider.RECONCILIATION_HEADER) or 0),
            redelivered=bool(message.redelivered),
            template=sms.get("template"),
            params={str(k): str(v) for k, v in (sms.get("params") or {}).items()},
        )


@dataclass(frozen=True)
class Outcome:
    """What became of one out-id: the receipt's fields (services/notify/provider.py)."""

    status: Literal["sent", "delivered", "failed", "unsettled"]
    error: str | None = None
    duplicate: bool = False  # the provider already had this out-id: nothing was sent now
    code: str | None = None  # the provider's code of a refusal or report
    error_class: Literal["permanent", "throttled", "transient"] | None = None
    retry_after: float | None = None  # throttled: seconds until its window is over
    ref: str | None = None  # the provider's id of the SMS (BizId, SerialNo)
    report: bool = False  # a delivery report


class ProviderAdapter:
    """Consume, deliver once per out-id, report, ack. Subclasses implement `deliver`."""

    name = "sms-adapter"
    provider_name: str | None = None  # named in receipts and histories (aliyun, tencent)
    retry_pause = 1.0  # seconds before a message whose delivery raised is handed back

    def __init__(self, settings: Settings, prefetch: int = 32, route: str = "primary") -> None:
        self.settings = settings
        self.prefetch = prefetch
        self.route = route  # primary: <prefix>.sms.provider; fallback: ...provider.fallback
        self.sent = 0  # SMS handed to the provider by this adapter
        self.duplicates = 0  # copies answered with a receipt only
        self._connection = None
        self._channel = None

    async def deliver(self, sms: OutboundSms) -> Outcome:
        """Send once per out-id; a copy whose out-id the provider has is `duplicate=True`.

        Raise when the outcome is unknown (the provider did not answer): the message is
        handed back and comes again as redelivered, to be checked first.
        """
        raise NotImplementedError

    async def start(self) -> None:
        self._connection = await amqp.connect_robust(self.settings.amqp_url, timeout=5)
        self._channel = await self._connection.channel(publisher_confirms=True)
        await self._channel.set_qos(prefetch_count=self.prefetch)
        _, queue, _ = await provider.declare(self._channel, self.settings, self.route)
        await queue.consume(self._on_sms)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_sms(self, message: AbstractIncomingMessage) -> None:
        try:
            sms = OutboundSms.from_message(message)
        except (ValueError, KeyError, TypeError):
            log.error("%s: unreadable SMS message dropped: %r", self.name, message.body[:200])
            await message.reject(requeue=False)
            return
        if sms.expires_at is not None and sms.expires_at <= datetime.now(UTC):
            outcome = Outcome("failed", "expired before it was sent")
        else:
            try:
                outcome = await self.deliver(sms)
            except Exception:
                log.exception("%s: %s: outcome unknown; handed back", self.name, sms.out_id)
                await asyncio.sleep(self.retry_pause)
                await message.nack(requeue=True)
                return
        if outcome.duplicate:
            self.duplicates += 1
            why = "reconciliation" if sms.reconciliation else "redelivery"
            log.info("%s: %s already sent (%s): receipt only", self.name, sms.out_id, why)
        elif outcome.status in ("sent", "delivered"):
            self.sent += 1
        await self._finish(message, sms, outcome)

    async def _finish(self, message: AbstractIncomingMessage, sms: OutboundSms, outcome) -> None:
        """Report the outcome, then ack: a crash before the ack means a redelivery."""
        await self.report(sms.delivery_id, sms.attempt, sms.out_id, outcome)
        await message.ack()

    async def report(self, delivery_id: str, attempt: int, out_id: str, outcome: Outcome) -> None:
        """Publish one receipt to notify, confirmed."""
        receipt = {
            "delivery_id": delivery_id,
            "attempt": attempt,
            "out_id": out_id,
            "status": outcome.status,
        }
        optional = {
            "error": outcome.error,
            "duplicate": outcome.duplicate or None,
            "provider": self.provider_name,
            "code": outcome.code,
            "class": outcome.error_class,
            "retry_after": outcome.retry_after,
            "ref": outcome.ref,
            "report": outcome.report or None,
        }
        receipt.update({k: v for k, v in optional.items() if v is not None})
        await self._channel.default_exchange.publish(
            aio_pika.Message(
                SmsReceipt.model_validate(receipt)
                .model_dump_json(by_alias=True, exclude_none=True)
                .encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=provider.receipts_queue(self.settings),
        )

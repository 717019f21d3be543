"""Event consumers: envelope checked at the edge, inbox for idempotency, bounded retries.

A message that cannot be understood (not an envelope, an unknown type, a payload of the
wrong shape) is rejected at once with its reason logged, and goes to the dead-letter queue.
A handler that fails is nacked and redelivered; the quorum queue's delivery limit then
dead-letters it, so an operator can inspect and replay it.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from faststream.exceptions import RejectMessage
from pydantic import BaseModel, ValidationError

from shared.envelope import Envelope
from shared.inbox import first_delivery

log = logging.getLogger(__name__)

EventHandler = Callable[[asyncpg.Connection, Envelope, Any], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    payload_model: type[BaseModel] | None
    handler: EventHandler


class EventConsumer:
    """The events one service consumes: `@consumer.on("case.approved", CaseApproved)`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.subscriptions: dict[str, Subscription] = {}
        self.retired: set[str] = set()  # types once consumed here, now unbound and ignored
        self.handled = 0
        self.duplicates = 0
        self.retired_acked = 0

    def on(self, event_type: str, payload_model: type[BaseModel] | None = None):
        def register(handler: EventHandler) -> EventHandler:
            self.subscriptions[event_type] = Subscription(payload_model, handler)
            return handler

        return register

    def retire(self, *event_types: str) -> None:
        """No longer consumed: the queue is unbound from them, and any still queued are acked."""
        self.retired.update(event_types)

    @property
    def routing_keys(self) -> list[str]:
        return sorted(self.subscriptions)

    async def process(self, pool: asyncpg.Pool, body: bytes, delivery_count: int = 0) -> bool:
        """Handle one delivery; True when its effects were applied now, False for a duplicate."""
        envelope, subscription, payload = self._parse(body)
        if subscription is None:  # a retired type, queued before its binding was removed
            log.info("%s: %s %s retired here; acked", self.name, envelope.type, envelope.id)
            self.retired_acked += 1
            return False
        if delivery_count:
            # A short, growing pause before a retry gives a passing fault time to clear.
            await asyncio.sleep(min(2.0, 0.1 * delivery_count))
        async with pool.acquire() as conn:
            async with conn.transaction():
                if not await first_delivery(conn, envelope.id, self.name):
                    self.duplicates += 1
                    return False
                await subscription.handler(conn, envelope, payload)
            await self.after_commit(envelope)
        self.handled += 1
        return True

    async def after_commit(self, envelope: Envelope) -> None:
        """Runs between the commit and the ack; a crash here means a redelivery."""

    def _parse(self, body: bytes) -> tuple[Envelope, Subscription | None, Any]:
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError as error:
            self._reject(f"not an event envelope: {_brief(error)}")
        if envelope.type in self.retired:
            return envelope, None, None
        subscription = self.subscriptions.get(envelope.type)
        if subscription is None:
            self._reject(f"event type {envelope.type!r} is not handled here", envelope)
        payload: Any = envelope.payload
        if subscription.payload_model is not None:
            try:
                payload = subscription.payload_model.model_validate(envelope.payload)
            except ValidationError as error:
                self._reject(f"payload of {envelope.type}: {_brief(error)}", envelope)
        return envelope, subscription, payload

    def _reject(self, reason: str, envelope: Envelope | None = None) -> None:
        message_id = envelope.id if envelope else "?"
        log.error("%s rejected message %s: %s (dead-lettered)", self.name, message_id, reason)
        raise RejectMessage()


def _brief(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()[:5]
    )

"""Event consumers: envelope checked at the edge, inbox for idempotency.

A message that cannot be understood (too large, not JSON, nested too deep, not an envelope,
an unknown type, a payload of the wrong shape) raises `Unhandleable` with its reason: it goes
to the dead-letter queue at once (shared/failed_events.py). A handler that fails raises what
it raised, and the message comes back later, after a delay (shared/failed_events.py too).
"""

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import BaseModel, ValidationError

from shared import correlation, metrics
from shared.db import transaction_begun_with
from shared.envelope import Envelope
from shared.inbox import first_delivery, record_delivery

log = logging.getLogger(__name__)

# An event is a small JSON envelope; anything far larger is not one of ours.
MAX_EVENT_BYTES = 1024 * 1024


class Unhandleable(Exception):
    """A message no retry can help: dead-letter it at once, with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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

    async def process(self, pool: asyncpg.Pool, body: bytes, message_id: str | None = None) -> bool:
        """Handle one delivery; True when its effects were applied now, False for a duplicate.

        Raises Unhandleable for a message that cannot be understood (logged with the
        message id of the AMQP properties when the body has none), and whatever the handler
        raised when it failed."""
        try:
            envelope, subscription, payload = self._parse(body)
        except Unhandleable as error:
            log.error(
                "%s rejected message %s: %s (dead-lettered)",
                self.name,
                message_id or "?",
                error.reason,
            )
            metrics.count(metrics.EVENTS_CONSUMED, self.name, "-", "rejected")
            raise
        if subscription is None:  # a retired type, queued before its binding was removed
            log.info("%s: %s %s retired here; acked", self.name, envelope.type, envelope.id)
            self.retired_acked += 1
            metrics.count(metrics.EVENTS_CONSUMED, self.name, envelope.type, "retired")
            return False
        # What the handler logs and the events it writes carry the id of the event's cause.
        token = correlation.request_id.set(envelope.correlation_id)
        case_token = correlation.case_id.set(_case_of(envelope))
        started, outcome = time.perf_counter(), "failed"
        try:
            handled = await self._handle(pool, envelope, subscription, payload)
            outcome = "handled" if handled else "duplicate"
            return handled
        except Unhandleable:
            outcome = "rejected"
            raise
        finally:
            correlation.case_id.reset(case_token)
            correlation.request_id.reset(token)
            metrics.count(metrics.EVENTS_CONSUMED, self.name, envelope.type, outcome)
            elapsed = time.perf_counter() - started
            metrics.observe(metrics.EVENT_SECONDS, elapsed, self.name, envelope.type)

    async def _handle(self, pool, envelope: Envelope, subscription, payload) -> bool:
        async with pool.acquire() as conn:
            recorded = transaction_begun_with(conn, record_delivery(envelope.id, self.name))
            async with recorded as status:
                if not first_delivery(status, self.name):
                    self.duplicates += 1
                    return False
                await subscription.handler(conn, envelope, payload)
            await self.after_commit(envelope)
        self.handled += 1
        return True

    async def after_commit(self, envelope: Envelope) -> None:
        """Runs between the commit and the ack; a crash here means a redelivery."""

    def _parse(self, body: bytes) -> tuple[Envelope, Subscription | None, Any]:
        if len(body) > MAX_EVENT_BYTES:
            raise Unhandleable(f"{len(body)} bytes, over the {MAX_EVENT_BYTES} an event may have")
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError as error:
            raise Unhandleable(f"not an event envelope: {_brief(error)}") from None
        except (RecursionError, ValueError) as error:
            raise Unhandleable(f"unreadable: {type(error).__name__}") from None
        if envelope.type in self.retired:
            return envelope, None, None
        subscription = self.subscriptions.get(envelope.type)
        if subscription is None:
            raise Unhandleable(f"event type {envelope.type!r} is not handled here")
        payload: Any = envelope.payload
        if subscription.payload_model is not None:
            try:
                payload = subscription.payload_model.model_validate(envelope.payload)
            except ValidationError as error:
                raise Unhandleable(f"payload of {envelope.type}: {_brief(error)}") from None
            except RecursionError:
                raise Unhandleable(f"payload of {envelope.type} is nested too deep") from None
        return envelope, subscription, payload


def _case_of(envelope: Envelope) -> str | None:
    """The case an event is about, when its payload names one (for the log lines)."""
    case_id = envelope.payload.get("case_id") if isinstance(envelope.payload, dict) else None
    return case_id[:64] if isinstance(case_id, str) else None


def _brief(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()[:5]
    )

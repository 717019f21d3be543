"""The SMS provider contract's broker side: the exchange, the queues and their declaration.
The messages (OutboundSms, SmsReceipt), priorities and the out-id are the contract's
(shared/contracts/notify/provider.py, in /api/asyncapi.json).

- notify publishes each SMS to the direct exchange `<prefix>.sms.outbound` (routing key
  "sms") as JSON {delivery_id, attempt, out_id, mobile (sealed in transit), body, expires_at},
  persistent, with a priority (codes 9, notices 1), message id = out-id, and an AMQP expiry
  for codes. Provider adapters consume `<prefix>.sms.provider`, a priority queue, so codes
  overtake a backlog of notices.
- The out-id `<delivery_id>:<attempt>` names one attempt of one SMS. notify publishes an
  attempt once; after a crash it may publish the same attempt again with the header
  `x-reconciliation: <n>`. The adapter passes the out-id to its provider as the client-side
  id and never sends one out-id twice (services/notify/adapter.py).
- An adapter reports each outcome to `<prefix>.sms.receipts` as JSON {delivery_id, attempt,
  out_id, status, error?, duplicate?, provider?, code?, class?, retry_after?, ref?, report?};
  `duplicate: true` says the provider already had that out-id and nothing was sent this time.
  status: "sent" (the provider accepted it; `ref` its id), "delivered" or "failed" (with
  `report: true` when the provider's delivery report says so, with its `code`), "failed"
  when the provider refused it (`class`: permanent, throttled with `retry_after` seconds, or
  transient), "unsettled" (the provider cannot tell yet whether it went out).
- Real SMS are templates: the message carries `template` (a key of templates.py) and
  `params`; `body` is the text as the person reads it.
- Two routes: routing key "sms" to the primary provider's queue `<prefix>.sms.provider`,
  "sms.fallback" to the second provider's `<prefix>.sms.provider.fallback` (docs/sms.md).
"""

import aio_pika
from aio_pika.abc import AbstractChannel

from shared.contracts.notify.provider import (
    CODE_PRIORITY,
    NOTICE_PRIORITY,
    RECONCILIATION_HEADER,
    ROUTES,
    ROUTING_KEYS,
    out_id,
)
from shared.settings import Settings

__all__ = [
    "CODE_PRIORITY",
    "NOTICE_PRIORITY",
    "RECONCILIATION_HEADER",
    "ROUTES",
    "ROUTING_KEYS",
    "declare",
    "out_id",
    "outbound_exchange",
    "provider_queue",
    "receipts_queue",
]


def outbound_exchange(settings: Settings) -> str:
    return settings.name("sms", "outbound")


def provider_queue(settings: Settings, route: str = "primary") -> str:
    if route == "fallback":
        return settings.name("sms", "provider", "fallback")
    return settings.name("sms", "provider")


def receipts_queue(settings: Settings) -> str:
    return settings.name("sms", "receipts")


async def declare(
    channel: AbstractChannel, settings: Settings, route: str = "primary", fallback: bool = False
):
    """The exchange, `route`'s queue and the receipts queue. The fallback queue is declared
    only where a fallback provider is configured (`fallback`), so a fallback attempt waits
    there for its adapter; returns `route`'s queue."""
    exchange = await channel.declare_exchange(
        outbound_exchange(settings), aio_pika.ExchangeType.DIRECT, durable=True
    )
    queues = {}
    for name in ROUTES:
        if name == route or name == "primary" or fallback:
            queues[name] = await channel.declare_queue(
                provider_queue(settings, name), durable=True, arguments={"x-max-priority": 10}
            )
            await queues[name].bind(exchange, routing_key=ROUTING_KEYS[name])
    receipts = await channel.declare_queue(receipts_queue(settings), durable=True)
    return exchange, queues[route], receipts

"""The SMS provider contract's broker side: the exchange, the queues and their declaration.
The messages (OutboundSms, SmsReceipt), priorities and the out-id are the contract's
(shared/contracts/notify/provider.py, in /api/asyncapi.json).

- notify publishes each SMS to the direct exchange `<prefix>.sms.outbound` (routing key
  "sms") as JSON {delivery_id, attempt, out_id, mobile, body, expires_at}, persistent, with a
  priority (codes 9, notices 1), message id = out-id, and an AMQP expiry for codes. Provider
  adapters consume `<prefix>.sms.provider`, a priority queue, so codes overtake a backlog of
  notices.
- The out-id `<delivery_id>:<attempt>` names one attempt of one SMS. notify publishes an
  attempt once; after a crash it may publish the same attempt again with the header
  `x-reconciliation: <n>`. The adapter passes the out-id to its provider as the client-side
  id and never sends one out-id twice (services/notify/adapter.py).
- An adapter reports each outcome to `<prefix>.sms.receipts` as JSON {delivery_id, attempt,
  out_id, status: "delivered" | "failed", error?, duplicate?}; `duplicate: true` says the
  provider already had that out-id and nothing was sent this time.
"""

import aio_pika
from aio_pika.abc import AbstractChannel

from shared.contracts.notify.provider import (
    CODE_PRIORITY,
    NOTICE_PRIORITY,
    RECONCILIATION_HEADER,
    ROUTING_KEY,
    out_id,
)
from shared.settings import Settings

__all__ = [
    "CODE_PRIORITY",
    "NOTICE_PRIORITY",
    "RECONCILIATION_HEADER",
    "ROUTING_KEY",
    "declare",
    "out_id",
    "outbound_exchange",
    "provider_queue",
    "receipts_queue",
]


def outbound_exchange(settings: Settings) -> str:
    return settings.name("sms", "outbound")


def provider_queue(settings: Settings) -> str:
    return settings.name("sms", "provider")


def receipts_queue(settings: Settings) -> str:
    return settings.name("sms", "receipts")


async def declare(channel: AbstractChannel, settings: Settings):
    exchange = await channel.declare_exchange(
        outbound_exchange(settings), aio_pika.ExchangeType.DIRECT, durable=True
    )
    queue = await channel.declare_queue(
        provider_queue(settings), durable=True, arguments={"x-max-priority": 10}
    )
    await queue.bind(exchange, routing_key=ROUTING_KEY)
    receipts = await channel.declare_queue(receipts_queue(settings), durable=True)
    return exchange, queue, receipts

"""The SMS provider contract: outbound messages on an exchange, receipts back on a queue.

- notify publishes each SMS to the direct exchange `<prefix>.sms.outbound` (routing key
  "sms") as JSON {delivery_id, mobile, body}, persistent, with a priority: codes 9,
  notices 1. Provider adapters consume `<prefix>.sms.provider`, a priority queue, so codes
  overtake a backlog of notices.
- A provider reports each outcome to `<prefix>.sms.receipts` as JSON
  {delivery_id, status: "delivered" | "failed", error?}.
"""

import aio_pika
from aio_pika.abc import AbstractChannel

from shared.settings import Settings

CODE_PRIORITY = 9
NOTICE_PRIORITY = 1


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
    await queue.bind(exchange, routing_key="sms")
    receipts = await channel.declare_queue(receipts_queue(settings), durable=True)
    return exchange, queue, receipts

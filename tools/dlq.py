"""Inspect and replay dead-lettered events.

    python -m tools.dlq list <consumer>            what is there, and why
    python -m tools.dlq replay <consumer> [ID ...] send them back to that consumer

A replayed message goes to the consumer's own queue only (not to every subscriber) and keeps
its id, so the consumer's inbox still guards against handling it twice. A replay takes the
messages that were there when it began, each once: one that fails again comes back later
(after its retries) with its new reason, and waits for the next replay.
"""

import argparse
import asyncio
import json

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from shared.failed_events import FAILED_AT_HEADER, LAST_ERROR_HEADER, RETRIES_HEADER
from shared.settings import Settings, get_settings
from shared.topology import Names

# Headers of one stay in the dead-letter queue; a replay starts the message afresh.
FAILURE_HEADERS = (LAST_ERROR_HEADER, RETRIES_HEADER, FAILED_AT_HEADER, "x-death")


def describe(message: AbstractIncomingMessage) -> dict:
    headers = message.headers or {}
    deaths = headers.get("x-death") or []
    last = deaths[0] if deaths else {}
    # Failed handlers and unreadable messages carry their reason; a message whose consumer
    # died with it every time was dead-lettered by the broker (x-death: delivery_limit).
    reason = headers.get(LAST_ERROR_HEADER) or str(last.get("reason", ""))
    return {
        "id": message.message_id,
        "type": message.type,
        "reason": _text(reason),
        "failed_at": _text(headers.get(FAILED_AT_HEADER) or last.get("time") or ""),
        "tries": headers.get(RETRIES_HEADER, last.get("count")),
        "body": message.body.decode(errors="replace")[:200],
    }


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


async def list_dead_letters(settings: Settings, consumer: str) -> list[dict]:
    """Read every message without removing it (each is requeued when the channel closes)."""
    names = Names(settings)
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(names.dead_letter_queue(consumer))
        found = []
        while (message := await queue.get(fail=False)) is not None:
            found.append(describe(message))
        return found


async def replay(settings: Settings, consumer: str, ids: set[str] | None = None) -> int:
    names = Names(settings)
    replayed = 0
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(names.dead_letter_queue(consumer), passive=True)
        there = queue.declaration_result.message_count
        kept = []
        for _ in range(there):  # only what was there when the replay began
            message = await queue.get(fail=False)
            if message is None:
                break
            if ids and message.message_id not in ids:
                kept.append(message)
                continue
            headers = {k: v for k, v in (message.headers or {}).items() if k not in FAILURE_HEADERS}
            await channel.default_exchange.publish(
                aio_pika.Message(
                    message.body,
                    headers=headers,
                    content_type=message.content_type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=message.message_id,
                    correlation_id=message.correlation_id,
                    type=message.type,
                    app_id=message.app_id,
                ),
                routing_key=names.event_queue(consumer),
            )
            await message.ack()  # only after the broker confirmed the copy
            replayed += 1
        for message in kept:
            await message.nack(requeue=True)
    return replayed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("consumer", help="accounts, cases, documents or notify")
    parser.add_argument("ids", nargs="*", help="message ids to replay (default: all)")
    args = parser.parse_args()
    settings = get_settings()
    if args.command == "list":
        for item in asyncio.run(list_dead_letters(settings, args.consumer)):
            print(json.dumps(item, ensure_ascii=False, default=str))
    else:
        count = asyncio.run(replay(settings, args.consumer, set(args.ids) or None))
        print(f"replayed {count} message(s) to {Names(settings).event_queue(args.consumer)}")


if __name__ == "__main__":
    main()

"""Inspect and replay dead-lettered events.

    python -m tools.dlq list <consumer>            what is there, and why
    python -m tools.dlq replay <consumer> [ID ...] send them back to that consumer

A replayed message goes to the consumer's own queue only (not to every subscriber) and keeps
its id, so the consumer's inbox still guards against handling it twice.
"""

import argparse
import asyncio
import json

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from shared.settings import Settings, get_settings
from shared.topology import Names


def describe(message: AbstractIncomingMessage) -> dict:
    deaths = message.headers.get("x-death") or []
    last = deaths[0] if deaths else {}
    return {
        "id": message.message_id,
        "type": message.type,
        "reason": str(last.get("reason", "")),
        "count": last.get("count"),
        "from_queue": str(last.get("queue", "")),
        "body": message.body.decode(errors="replace")[:200],
    }


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
        queue = await channel.get_queue(names.dead_letter_queue(consumer))
        kept = []
        while (message := await queue.get(fail=False)) is not None:
            if ids and message.message_id not in ids:
                kept.append(message)
                continue
            await channel.default_exchange.publish(
                aio_pika.Message(
                    message.body,
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

"""The development SMS provider: writes each SMS to a file and reports it delivered.

    python -m services.notify.dev_provider

Each line of `<ZC_VAR_DIR>/sms.log` is one JSON object {at, mobile, body}, so a person
running the system locally can read the codes (`tail -f var/sms.log`). Mobiles starting
with ZC_DEV_SMS_FAIL_PREFIX are reported failed, to try the retry path by hand.
"""

import asyncio
import json
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from services.notify import provider
from services.notify.settings import NotifySettings
from shared.logs import setup_logging
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)


class DevSmsProvider:
    def __init__(self, settings: Settings, fail_prefix: str = "") -> None:
        self.settings = settings
        self.fail_prefix = fail_prefix
        self.log_path = Path(settings.var_dir) / "sms.log"
        self._connection = None

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = await aio_pika.connect_robust(self.settings.amqp_url, timeout=5)
        channel = await self._connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=32)
        _, queue, _ = await provider.declare(channel, self.settings)
        self._channel = channel
        await queue.consume(self._on_sms)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_sms(self, message: AbstractIncomingMessage) -> None:
        sms = json.loads(message.body)
        failed = bool(self.fail_prefix) and sms["mobile"].startswith(self.fail_prefix)
        if not failed:
            line = {
                "at": datetime.now(UTC).isoformat(),
                "mobile": sms["mobile"],
                "body": sms["body"],
            }
            with self.log_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        receipt = {
            "delivery_id": sms["delivery_id"],
            "attempt": sms["attempt"],
            "status": "failed" if failed else "delivered",
        }
        if failed:
            receipt["error"] = "development provider: number configured to fail"
        await self._channel.default_exchange.publish(
            aio_pika.Message(
                json.dumps(receipt).encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=provider.receipts_queue(self.settings),
        )
        await message.ack()  # after the receipt is confirmed: a crash means a resend


async def _run() -> None:
    settings = get_settings()
    sms_provider = DevSmsProvider(settings, NotifySettings().dev_sms_fail_prefix)
    await sms_provider.start()
    log.info("development SMS provider writing to %s", sms_provider.log_path)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    await sms_provider.close()


if __name__ == "__main__":
    setup_logging(get_settings().log_level, "sms-dev")
    asyncio.run(_run())

"""The development SMS provider: writes each SMS to a file and reports it delivered.

    python -m services.notify.dev_provider

Each line of `<ZC_VAR_DIR>/sms.log` is one JSON object {at, mobile, body, out_id} (with
`reconciliation: n` or `redelivered: true` when the copy that went out was one), so a person
running the system locally can read the codes (`tail -f var/sms.log`). Mobiles
starting with ZC_DEV_SMS_FAIL_PREFIX are reported failed, to try the retry path by hand.

The file is also this provider's record of what it sent: the out-ids in it are loaded at
start and kept in memory, and an SMS whose out-id is there already is answered with a
receipt only. Every copy is checked, not only the redelivered or reconciled ones: that costs
nothing here, and the first copy of an attempt may still be in flight when a reconciled one
arrives. The check and the write happen under an exclusive lock on the file with no await
between them, after taking in the lines other dev providers appended, so two copies of one
SMS are never both written, whether they reach one process or two.
"""

import asyncio
import fcntl
import json
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path

from services.notify.adapter import OutboundSms, Outcome, ProviderAdapter
from services.notify.settings import NotifySettings
from shared.logs import setup_logging
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)


class DevSmsProvider(ProviderAdapter):
    name = "sms-dev"

    def __init__(self, settings: Settings, fail_prefix: str = "", route: str = "primary") -> None:
        super().__init__(settings, route=route)
        self.fail_prefix = fail_prefix
        self.log_path = Path(settings.var_dir) / "sms.log"
        self.out_ids: set[str] = set()  # every out-id in the log: what this provider sent
        self._read_to = 0  # how far the log has been taken into out_ids

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked_log() as handle:
            self._take_in(handle)
        log.info("%s: %d SMS already in %s", self.name, len(self.out_ids), self.log_path)
        await super().start()

    async def deliver(self, sms: OutboundSms) -> Outcome:
        if self.fail_prefix and sms.mobile.startswith(self.fail_prefix):
            # Decided by the number alone, so a copy of a failed out-id fails again.
            return Outcome("failed", "development provider: number configured to fail")
        return self._send_once(sms)

    def _send_once(self, sms: OutboundSms) -> Outcome:
        """Check and write under the file lock, without an await in between."""
        with self._locked_log() as handle:
            self._take_in(handle)
            if sms.out_id in self.out_ids:
                return Outcome("delivered", duplicate=True)
            line = {
                "at": datetime.now(UTC).isoformat(),
                "mobile": sms.mobile,
                "body": sms.body,
                "out_id": sms.out_id,
            }
            if sms.reconciliation:  # the copy that went out was notify's n-th republish
                line["reconciliation"] = sms.reconciliation
            if sms.redelivered:
                line["redelivered"] = True
            handle.write((json.dumps(line, ensure_ascii=False) + "\n").encode())
            handle.flush()
            self._read_to = handle.tell()
            self.out_ids.add(sms.out_id)
        return Outcome("delivered")

    def _locked_log(self):
        return _Locked(self.log_path)

    def _take_in(self, handle) -> None:
        """Add the out-ids of lines appended since the last look (by any dev provider)."""
        handle.seek(0, 2)
        end = handle.tell()
        if end < self._read_to:  # the log was emptied or replaced: read it all again
            self._read_to = 0
        if end == self._read_to:
            return
        handle.seek(self._read_to)
        data = handle.read()
        if not data.endswith(b"\n"):
            # A provider died in the middle of a line: end it so the next line stays whole.
            handle.write(b"\n")
            handle.flush()
        for raw in data.splitlines():
            try:
                sent_id = json.loads(raw).get("out_id")
            except (ValueError, AttributeError):
                continue  # a torn line, or not ours
            if sent_id:
                self.out_ids.add(sent_id)
        self._read_to = handle.tell()


class _Locked:
    """The log opened for append and read, under an exclusive flock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self):
        self.handle = self.path.open("a+b")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self.handle

    def __exit__(self, *_exc) -> None:
        try:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
        finally:
            self.handle.close()


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

"""The current time, passed in rather than read, so tests can move it."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHENZHEN = ZoneInfo("Asia/Shanghai")


class Clock:
    """Wall-clock time, shifted by `offset` (tests move the offset; production keeps 0)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def today(self):
        """Today's date in Shenzhen: what 'daily' limits and 'working days' count in."""
        return self.now().astimezone(SHENZHEN).date()

    def start_of_today(self) -> datetime:
        local = self.now().astimezone(SHENZHEN)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

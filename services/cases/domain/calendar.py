"""The Chinese working-day calendar used to time publicity periods (公示期). Pure: no I/O.

Working days come from `chinese_calendar`, which knows the State Council's public holidays and
the 调休 make-up working days (weekend days that are working days). Version 1.11.0 covers
2004-2026 and raises NotImplementedError for any other year. For such a year we fall back to
Monday-Friday and log a warning (once per year per process): a publicity period may then end a
little early around holidays, until the package is upgraded with that year's schedule.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone

import chinese_calendar

log = logging.getLogger(__name__)

# China has had no daylight saving time since 1991, so a fixed offset is exact.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

_warned_years: set[int] = set()


def local_date(moment: datetime) -> date:
    """The calendar date in China at an aware `moment` (a UTC 17:00 is already tomorrow)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(CHINA_TZ).date()


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "chinese_calendar has no holiday data for %d; counting Monday-Friday as "
                "working days for that year",
                day.year,
            )
        return day.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The day `n` working days after `start`, not counting `start` itself (n=0 gives `start`)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def publicity_period(start: date, working_days: int) -> tuple[date, date]:
    """First and last day of a publicity lasting `working_days` working days from `start`.

    A period asked to start on a rest day starts on the next working day. Both ends are working
    days and both count: a 5-day period starting on a Monday of a plain week ends that Friday.
    """
    if working_days < 1:
        raise ValueError("a publicity period lasts at least one working day")
    first = start if is_working_day(start) else add_working_days(start, 1)
    return first, add_working_days(first, working_days - 1)

"""The Chinese working-day calendar: publicity periods (公示期) and step time limits. Pure.

A day is a working day or not by, in this order:

1. the official days the sysadmin entered (`HolidaySchedule`: each 放假 or 调休上班 day of a
   year's State Council notice, 国务院办公厅关于某年部分节假日安排的通知);
2. the `chinese_calendar` package, which knows the notices of 2004-2026 (version 1.11.0);
3. Monday to Friday, but only in a year whose notice the sysadmin entered (the notice lists
   every exception, so the rest of that year is plain weeks).

A year none of them knows is unknown: counting it Monday to Friday would end a publicity in the
middle of the Spring Festival holiday, so `WorkingCalendar` refuses it (`YearNotKnown`). Step
time limits are advice rather than law: they use `lenient()`, which counts an unknown year
Monday to Friday instead of failing a list (the sysadmin is warned to enter the year).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from functools import cache

import chinese_calendar
from chinese_calendar import constants as package_days

from services.cases.domain.errors import DomainError

# China has had no daylight saving time since 1991, so a fixed offset is exact.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """The calendar date in China at an aware `moment` (a UTC 17:00 is already tomorrow)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(CHINA_TZ).date()


def start_of_day(day: date) -> datetime:
    """Midnight in China at the start of `day`: a moment before it is on an earlier date."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)


class DayKind(StrEnum):
    HOLIDAY = "holiday"
    WORKDAY = "workday"

    @property
    def label(self) -> str:
        return {"holiday": "放假", "workday": "调休上班"}[self.value]


@dataclass(frozen=True)
class OfficialDay:
    """One day of a notice: a 放假 day, or a 调休上班 day (a weekend day worked)."""

    day: date
    kind: DayKind
    name: str  # 元旦, 春节, …
    notice_year: int  # the notice it comes from (元旦's days may fall in the year before)


@dataclass(frozen=True)
class HolidaySchedule:
    """What the sysadmin entered: the years whose notice is recorded, and their days."""

    years: frozenset[int] = frozenset()
    days: Mapping[date, OfficialDay] = field(default_factory=dict)

    @classmethod
    def of(cls, years: Iterable[int], days: Iterable[OfficialDay]) -> HolidaySchedule:
        return cls(frozenset(years), {d.day: d for d in days})


NO_ENTRIES = HolidaySchedule()


class YearNotKnown(DomainError):
    """A date in a year whose holidays neither the entries nor the package know."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"{year}年的法定节假日和调休安排尚未录入，无法按工作日计算日期。"
            f"请系统管理员在“节假日安排”中录入国务院办公厅关于{year}年部分节假日安排的通知后再办理"
        )


@cache
def package_knows(year: int) -> bool:
    """Whether the installed chinese_calendar has the State Council's notice of `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@cache
def package_is_workday(day: date) -> bool:
    """chinese_calendar.is_workday, remembered: the package checks every date against the
    range of all its years (a max() and a min() over its tables, some 10 µs a call), and a
    list's step limits ask about the same few hundred days thousands of times a request."""
    return chinese_calendar.is_workday(day)


# The package names its holidays in English; the page shows them as the notices do.
PACKAGE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def package_days_of(year: int) -> list[OfficialDay]:
    """The package's own 放假 and 调休上班 days of `year`, for the sysadmin to compare."""
    found = [
        OfficialDay(day, kind, PACKAGE_NAMES.get(name, name), year)
        for kind, table in (
            (DayKind.HOLIDAY, package_days.holidays),
            (DayKind.WORKDAY, package_days.workdays),
        )
        for day, name in table.items()
        if day.year == year
    ]
    return sorted(found, key=lambda d: d.day)


@dataclass(frozen=True)
class WorkingCalendar:
    entered: HolidaySchedule = NO_ENTRIES
    weekdays_when_unknown: bool = False  # lenient(): an unknown year counts Monday-Friday

    def source_of(self, year: int) -> str | None:
        """Who knows `year`: "entered", "package", or None."""
        if year in self.entered.years:
            return "entered"
        if package_knows(year):
            return "package"
        return None

    def knows(self, year: int) -> bool:
        return self.source_of(year) is not None

    def lenient(self) -> WorkingCalendar:
        return WorkingCalendar(self.entered, weekdays_when_unknown=True)

    def is_working_day(self, day: date) -> bool:
        entry = self.entered.days.get(day)
        if entry is not None:
            return entry.kind is DayKind.WORKDAY
        if package_knows(day.year):
            return package_is_workday(day)
        if day.year in self.entered.years or self.weekdays_when_unknown:
            return day.weekday() < 5
        raise YearNotKnown(day.year)

    def add_working_days(self, start: date, n: int) -> date:
        """The day `n` working days after `start`, not counting `start` (n=0 gives `start`)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        while n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def publicity_period(self, start: date, working_days: int) -> tuple[date, date]:
        """First and last day of a publicity lasting `working_days` working days from `start`.

        A period asked to start on a rest day starts on the next working day. Both ends are
        working days and both count: a 5-day period starting on a Monday of a plain week ends
        that Friday. Refused (YearNotKnown) when a day it needs is in an unknown year.
        """
        if working_days < 1:
            raise ValueError("a publicity period lasts at least one working day")
        first = start if self.is_working_day(start) else self.add_working_days(start, 1)
        return first, self.add_working_days(first, working_days - 1)


PACKAGE_CALENDAR = WorkingCalendar()


# The package's calendar alone, as the module offered before the entries existed.
def is_working_day(day: date) -> bool:
    return PACKAGE_CALENDAR.is_working_day(day)


def add_working_days(start: date, n: int) -> date:
    return PACKAGE_CALENDAR.add_working_days(start, n)


def publicity_period(start: date, working_days: int) -> tuple[date, date]:
    return PACKAGE_CALENDAR.publicity_period(start, working_days)


def schedule_warnings(today: date, calendar: WorkingCalendar, warn_from: tuple[int, int]) -> list:
    """What the sysadmin is warned of: this year unknown (publicity cannot start now), and
    from `warn_from` (month, day) on, next year unknown (its notice usually comes out in
    October to December; before that a warning could only be ignored)."""
    warnings = []
    if not calendar.knows(today.year):
        warnings.append(
            f"今年（{today.year}年）的法定节假日和调休安排尚未录入，评前、评后公示现在无法开始。"
            f"请尽快在“节假日安排”中录入国务院办公厅关于{today.year}年部分节假日安排的通知。"
        )
    following = today.year + 1
    if not calendar.knows(following) and (today.month, today.day) >= warn_from:
        warnings.append(
            f"{following}年的法定节假日和调休安排尚未录入，结束日期在{following}年的评前、"
            f"评后公示将无法开始。国务院办公厅的通知发布后，请在“节假日安排”中录入。"
        )
    return warnings


WEEKDAYS = "一二三四五六日"


def weekday_label(day: date) -> str:
    return f"星期{WEEKDAYS[day.weekday()]}"


class DayRefused(DomainError):
    """An official day that cannot be entered; `field` is the form's field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def check_official_day(entry: OfficialDay) -> None:
    """A day of year Y's notice lies in Y, or in December of Y-1 (元旦 may begin there); a
    调休上班 day is a weekend day, as every make-up working day is."""
    year = entry.notice_year
    if not (date(year - 1, 12, 1) <= entry.day <= date(year, 12, 31)):
        raise DayRefused(
            "day", f"日期应在{year}年内（元旦假期可从{year - 1}年12月开始），请检查年份"
        )
    if entry.kind is DayKind.WORKDAY and entry.day.weekday() < 5:
        raise DayRefused(
            "kind",
            f"{entry.day.isoformat()}是{weekday_label(entry.day)}，调休上班日应为星期六或星期日",
        )

"""The holiday schedule the sysadmin keeps (holiday_years, holiday_days) as the domain's
calendar: loaded whole (a year is some thirty rows) wherever working days are counted."""

from services.cases.domain.calendar import (
    DayKind,
    HolidaySchedule,
    OfficialDay,
    WorkingCalendar,
)

YEARS = "SELECT year FROM holiday_years"
DAYS = "SELECT day, kind, name, notice_year FROM holiday_days"


def official_day(row) -> OfficialDay:
    return OfficialDay(row["day"], DayKind(row["kind"]), row["name"], row["notice_year"])


async def load_schedule(conn) -> HolidaySchedule:
    years = [r["year"] for r in await conn.fetch(YEARS)]
    return HolidaySchedule.of(years, [official_day(r) for r in await conn.fetch(DAYS)])


async def load_calendar(conn) -> WorkingCalendar:
    """The working-day calendar: the entered days first, the package next (calendar.py)."""
    return WorkingCalendar(await load_schedule(conn))

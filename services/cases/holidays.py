"""The holiday schedule the sysadmin keeps (holiday_years, holiday_days) as the domain's
calendar: loaded whole (a year is some thirty rows) wherever working days are counted."""

from services.cases.domain.calendar import (
    DayKind,
    HolidaySchedule,
    OfficialDay,
    WorkingCalendar,
)

# One round trip for both tables: a year's row has no day, a day's row no year.
SCHEDULE = (
    "SELECT year, NULL::date AS day, NULL AS kind, NULL AS name, NULL::int AS notice_year"
    " FROM holiday_years"
    " UNION ALL SELECT NULL, day, kind, name, notice_year FROM holiday_days"
)


def official_day(row) -> OfficialDay:
    return OfficialDay(row["day"], DayKind(row["kind"]), row["name"], row["notice_year"])


async def load_schedule(conn) -> HolidaySchedule:
    rows = await conn.fetch(SCHEDULE)
    years = [r["year"] for r in rows if r["day"] is None]
    return HolidaySchedule.of(years, [official_day(r) for r in rows if r["day"] is not None])


async def load_calendar(conn) -> WorkingCalendar:
    """The working-day calendar: the entered days first, the package next (calendar.py)."""
    return WorkingCalendar(await load_schedule(conn))

"""The holiday calendar (节假日安排) the sysadmin keeps in the cases service, and the reminder
of a case about to pass its step time limit (docs/reports.md "Deadlines and reminders")."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from shared.contracts.base import Event, Method, Payload, Reply

SERVICE = "cases"
FIRST_YEAR, LAST_YEAR = 2000, 2100

DayKindName = Literal["holiday", "workday"]  # 放假, 调休上班


class YearRef(BaseModel):
    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)


class SaveHolidayYear(YearRef):
    """The State Council's notice of a year: what the year's days are taken from."""

    notice_title: str = Field(
        min_length=1, max_length=200
    )  # 国务院办公厅关于2026年部分节假日安排的通知
    notice_number: str = Field(min_length=1, max_length=50)  # 国办发明电〔2025〕7号
    notice_url: str = Field(min_length=1, max_length=200)


class AddHolidayDay(BaseModel):
    notice_year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    day: date
    kind: DayKindName
    name: str = Field(min_length=1, max_length=20)  # 元旦, 春节, …


class DayRef(BaseModel):
    day: date


class HolidayNotice(Reply):
    notice_title: str
    notice_number: str
    notice_url: str
    updated_at: str


class HolidayDayView(Reply):
    day: str
    weekday: str  # 星期一 … 星期日
    kind: DayKindName
    kind_label: str  # 放假, 调休上班
    name: str
    notice_year: int


class HolidayYearRow(Reply):
    year: int
    source: Literal["entered", "package"] | None  # who the calendar takes the year from
    notice: HolidayNotice | None
    days: int  # days entered


class HolidayStatus(Reply):
    today: str
    warnings: list[str]  # for the sysadmin's banner: years that are missing


class HolidayYears(HolidayStatus):
    years: list[HolidayYearRow]


class HolidayYear(Reply):
    year: int
    source: Literal["entered", "package"] | None
    notice: HolidayNotice | None
    days: list[HolidayDayView]  # entered
    package_days: list[HolidayDayView]  # what the chinese-calendar package has, to compare


class HolidaySaved(Reply):
    saved: str


def _method(name, params, result, summary) -> Method:
    return Method(SERVICE, name, params, result, summary)


HOLIDAY_STATUS = _method(
    "holiday.status", None, HolidayStatus, "Years of holidays missing, for the banner (sysadmin)"
)
HOLIDAY_YEARS = _method(
    "holiday.years", None, HolidayYears, "The years the calendar knows, and from where (sysadmin)"
)
HOLIDAY_YEAR = _method(
    "holiday.year", YearRef, HolidayYear, "One year's notice and days, with the package's"
)
HOLIDAY_SAVE_YEAR = _method(
    "holiday.save_year", SaveHolidayYear, HolidaySaved, "Save a year's notice (sysadmin)"
)
HOLIDAY_REMOVE_YEAR = _method(
    "holiday.remove_year", YearRef, HolidaySaved, "Remove a year's notice and days (sysadmin)"
)
HOLIDAY_ADD_DAY = _method(
    "holiday.add_day", AddHolidayDay, HolidaySaved, "Add a 放假 or 调休上班 day (sysadmin)"
)
HOLIDAY_REMOVE_DAY = _method(
    "holiday.remove_day", DayRef, HolidaySaved, "Remove an entered day (sysadmin)"
)

METHODS = (
    HOLIDAY_STATUS,
    HOLIDAY_YEARS,
    HOLIDAY_YEAR,
    HOLIDAY_SAVE_YEAR,
    HOLIDAY_REMOVE_YEAR,
    HOLIDAY_ADD_DAY,
    HOLIDAY_REMOVE_DAY,
)


# --- reminders: cases -> accounts (who) -> notify (the SMS) ---

PartyRole = Literal["unit", "department", "office", "committee"]


class DeadlineReminder(Payload):
    """Cases of one party about to pass their step time limit, reminded today (each case at
    most once a day): accounts finds the people to tell (the unit's admin, the reviewer
    organisation's accounts) and passes it on to notify as account.deadline_reminder."""

    party_role: PartyRole
    party_id: str  # the unit's id, or the organisation's code
    on_day: str  # ISO date in China the reminder is for
    due_on: str  # ISO date: the earliest last day among the cases
    cases: int = Field(ge=1)
    case_nos: list[str]  # the first few, for the records


DEADLINE_REMINDER = Event(
    "case.deadline_reminder",
    DeadlineReminder,
    "cases",
    ("accounts",),
    "Cases of one unit or organisation near their step time limit: remind whoever acts",
)
EVENTS = (DEADLINE_REMINDER,)

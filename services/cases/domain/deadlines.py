"""Declaration windows and step time limits (办理时限). Pure: no I/O; today is an argument.

- A round's **declaration window** (申报开始/截止日期): a case is opened and submitted
  (填报上报) only from its first to its last day, both included, in China's calendar.
- A **step time limit**: a case waiting in a limited state has so many working days after the
  day it entered it; from the day after its last day (`due_on`) it is 超期. Working days are the
  calendar's, counted leniently (calendar.py: a limit is advice, never a reason to fail a list).
- A case whose last day is near (`remind_within` working days or fewer left, the last day
  itself included) gets a reminder to whoever must act (`RESPONSIBLE`), once a day, on working
  days only.

The lists ask "which cases are 超期" of many cases at once, in SQL: a case is overdue exactly
when it entered its state before `first_entry_due_on_or_after(today)`, because a later entry
never has an earlier last day. `entered_range_due_soon` gives the reminders' range the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.cases.domain.calendar import WorkingCalendar
from services.cases.domain.errors import DomainError, cn_date
from shared.contracts.cases.vocabulary import CaseState

S = CaseState

# --- declaration windows ---


OPENING = "新建申报"  # what the applicant does when opening a case (no Action: no state yet)


class OutsideDeclarationWindow(DomainError):
    def __init__(self, window: DeclarationWindow, today: date, doing: str) -> None:
        self.window, self.today = window, today
        when = "尚未开始" if today < window.opens_on else "已截止"
        super().__init__(
            f"{window.round_name}的申报时间为{cn_date(window.opens_on)}至"
            f"{cn_date(window.closes_on)}，申报{when}，不能{doing}"
        )


@dataclass(frozen=True)
class DeclarationWindow:
    round_name: str
    opens_on: date
    closes_on: date

    def is_open(self, today: date) -> bool:
        return self.opens_on <= today <= self.closes_on

    def require_open(self, today: date, doing: str) -> None:
        """OutsideDeclarationWindow unless `today` is within the window; `doing` is what was
        asked, as the message says it (新建申报, 填报上报)."""
        if not self.is_open(today):
            raise OutsideDeclarationWindow(self, today, doing)


# --- step time limits ---

# Who must act on a case waiting in each state: whom its reminder goes to. A unit's states
# remind its admin (a draft too: the unit sees its applicants through); a reviewer's, the
# accounts of the organisation whose list the case waits in.
RESPONSIBLE: Mapping[CaseState, str] = {
    S.DRAFT: "unit",
    S.UNIT_REVIEW: "unit",
    S.PRE_PUBLICITY_READY: "unit",
    S.PRE_PUBLICITY: "unit",
    S.DEPT_SUBMIT_READY: "unit",
    S.FORM_PRINT_READY: "unit",
    S.POST_PUBLICITY_READY: "unit",
    S.POST_PUBLICITY: "unit",
    S.DEPT_ACCEPTANCE: "department",
    S.DEPT_REVIEW: "department",
    S.POST_PUBLICITY_LAUNCH: "department",
    S.DEPT_CONFIRM: "department",
    S.OFFICE_APPROVAL: "office",
    S.COMMITTEE_REVIEW: "committee",
}
LIMITABLE = frozenset(RESPONSIBLE)


@dataclass(frozen=True)
class StepLimits:
    """Working days a case may wait in each limited state; others have no limit."""

    days: Mapping[CaseState, int] = field(default_factory=dict)
    remind_within: int = 1  # working days left (besides the last day) that bring a reminder

    def __post_init__(self) -> None:
        for state, days in self.days.items():
            if state not in LIMITABLE:
                raise ValueError(f"{state.value} cannot have a time limit")
            if days < 1:
                raise ValueError(f"the time limit of {state.value} must be at least one day")
        if self.remind_within < 0:
            raise ValueError("remind_within must not be negative")

    def of(self, state: CaseState) -> int | None:
        return self.days.get(state)


@dataclass(frozen=True)
class Deadline:
    """A waiting case's limit: its last day, and where it stands today."""

    state: CaseState
    due_on: date  # the last working day of the limit
    overdue: bool  # today is past due_on: 超期
    days_left: int  # working days after today up to due_on (0 on the last day; 0 if overdue)


def due_on(entered_on: date, limit: int, calendar: WorkingCalendar) -> date:
    """The last day of a limit of `limit` working days for a case that entered on
    `entered_on` (that day itself does not count)."""
    return calendar.lenient().add_working_days(entered_on, limit)


def working_days_between(today: date, later: date, calendar: WorkingCalendar) -> int:
    """Working days after `today` up to and including `later` (0 when later <= today)."""
    lenient, count, day = calendar.lenient(), 0, today
    while day < later:
        day += timedelta(days=1)
        count += lenient.is_working_day(day)
    return count


def deadline_of(
    state: CaseState,
    entered_on: date,
    today: date,
    limits: StepLimits,
    calendar: WorkingCalendar,
) -> Deadline | None:
    """The deadline of a case waiting in `state` since `entered_on`, or None (no limit)."""
    limit = limits.of(state)
    if limit is None:
        return None
    last = due_on(entered_on, limit, calendar)
    overdue = today > last
    left = 0 if overdue else working_days_between(today, last, calendar)
    return Deadline(state, last, overdue, left)


def first_entry_due_on_or_after(day: date, limit: int, calendar: WorkingCalendar) -> date:
    """The earliest day a case may enter a state limited to `limit` working days and still
    have its last day on or after `day`. Entered before it: its last day is before `day`.

    A case's last day is on or after `day` while fewer than `limit` working days lie after
    its entry and before `day`; so the earliest entry is the limit-th working day counted
    back from the day before `day`. One walk of about `limit` days (trying each entry with
    due_on walked that many days for every day tried: the home page's counts spent a third
    of the cases service's CPU here)."""
    lenient, entry, found = calendar.lenient(), day, 0
    while found < limit:
        entry -= timedelta(days=1)
        found += lenient.is_working_day(entry)
    return entry


def overdue_cutoffs(today: date, limits: StepLimits, calendar: WorkingCalendar) -> dict:
    """{state: first entry day not overdue today}: a case of that state that entered on an
    earlier day is 超期."""
    return {
        state: first_entry_due_on_or_after(today, days, calendar)
        for state, days in limits.days.items()
    }


def entered_range_due_soon(
    today: date, state: CaseState, limits: StepLimits, calendar: WorkingCalendar
) -> tuple[date, date] | None:
    """[first, end) of the days a case may have entered `state` and be due for a reminder
    today: not overdue, at most `remind_within` working days left. None when `state` has no
    limit or today is a rest day (reminders go out on working days only)."""
    limit = limits.of(state)
    if limit is None or not calendar.lenient().is_working_day(today):
        return None
    horizon = calendar.lenient().add_working_days(today, limits.remind_within)
    first = first_entry_due_on_or_after(today, limit, calendar)
    end = first_entry_due_on_or_after(horizon + timedelta(days=1), limit, calendar)
    return first, end

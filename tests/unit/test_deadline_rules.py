"""Declaration windows and step time limits (services/cases/domain/deadlines.py)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.cases.domain.calendar import DayKind, HolidaySchedule, OfficialDay, WorkingCalendar
from services.cases.domain.deadlines import (
    LIMITABLE,
    RESPONSIBLE,
    DeclarationWindow,
    OutsideDeclarationWindow,
    StepLimits,
    deadline_of,
    due_on,
    entered_range_due_soon,
    first_entry_due_on_or_after,
    overdue_cutoffs,
    working_days_between,
)
from services.cases.domain.model import Case, CaseState, RoundRules
from shared.contracts.cases.vocabulary import TRANSITIONS

CAL = WorkingCalendar()
S = CaseState
LIMITS = StepLimits({S.UNIT_REVIEW: 10, S.DEPT_ACCEPTANCE: 5}, remind_within=1)
WINDOW = DeclarationWindow("2026年度", date(2026, 3, 1), date(2026, 9, 30))


# --- declaration windows ---


@pytest.mark.parametrize(
    ("today", "open_"),
    [
        (date(2026, 2, 28), False),
        (date(2026, 3, 1), True),  # the first day counts
        (date(2026, 9, 30), True),  # and the last
        (date(2026, 10, 1), False),
    ],
)
def test_the_window_includes_both_its_ends(today, open_):
    assert WINDOW.is_open(today) is open_


def test_before_the_window_the_message_says_it_has_not_begun():
    with pytest.raises(OutsideDeclarationWindow) as refused:
        WINDOW.require_open(date(2026, 2, 28), "新建申报")
    assert refused.value.message == (
        "2026年度的申报时间为2026年3月1日至2026年9月30日，申报尚未开始，不能新建申报"
    )


def test_after_the_window_the_message_says_it_has_closed():
    with pytest.raises(OutsideDeclarationWindow) as refused:
        WINDOW.require_open(date(2026, 10, 1), "填报上报")
    assert refused.value.message.endswith("申报已截止，不能填报上报")


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 in China


def test_submitting_outside_the_window_is_refused_and_changes_nothing():
    case = Case(id="c1")
    rules = RoundRules(window=WINDOW)
    with pytest.raises(OutsideDeclarationWindow):
        case.act("submit", "applicant", {}, _at(date(2026, 10, 1)), rules=rules)
    assert (case.state, case.version) == (S.DRAFT, 0)
    [event] = case.act("submit", "applicant", {}, _at(date(2026, 9, 30)), rules=rules)
    assert event.to_state is S.UNIT_REVIEW


def test_the_window_is_the_day_in_china():
    # 1 October 00:30 in China is still 30 September in UTC: the window has closed
    late = datetime(2026, 9, 30, 16, 30, tzinfo=UTC)
    with pytest.raises(OutsideDeclarationWindow):
        Case(id="c2").act("submit", "applicant", {}, late, rules=RoundRules(window=WINDOW))


# --- step time limits ---


def test_the_limit_counts_working_days_after_the_day_the_case_entered():
    # Monday 1 June 2026 + 10 working days: 2-5, 8-12, 15 (19 June, 端午, comes later)
    assert due_on(date(2026, 6, 1), 10, CAL) == date(2026, 6, 15)
    # Thursday 18 June + 5: 22-26 (19 June is 端午)
    assert due_on(date(2026, 6, 18), 5, CAL) == date(2026, 6, 26)


def test_a_case_is_overdue_from_the_day_after_its_last_day():
    entered = date(2026, 6, 1)
    on_last_day = deadline_of(S.UNIT_REVIEW, entered, date(2026, 6, 15), LIMITS, CAL)
    assert (on_last_day.overdue, on_last_day.days_left) == (False, 0)
    the_day_before = deadline_of(S.UNIT_REVIEW, entered, date(2026, 6, 12), LIMITS, CAL)
    assert (the_day_before.overdue, the_day_before.days_left) == (False, 1)
    after = deadline_of(S.UNIT_REVIEW, entered, date(2026, 6, 16), LIMITS, CAL)
    assert (after.overdue, after.due_on) == (True, date(2026, 6, 15))


def test_a_state_without_a_limit_has_no_deadline():
    assert deadline_of(S.DRAFT, date(2020, 1, 1), date(2026, 6, 1), LIMITS, CAL) is None


def test_working_days_between_skip_the_weekend():
    assert working_days_between(date(2026, 6, 12), date(2026, 6, 15), CAL) == 1  # Fri -> Mon
    assert working_days_between(date(2026, 6, 15), date(2026, 6, 15), CAL) == 0


DAYS = [date(2026, 4, 20) + timedelta(days=n) for n in range(90)]  # 劳动节 and 端午 within


@pytest.mark.parametrize("limit", [1, 5, 10])
def test_the_cutoff_marks_exactly_the_overdue_cases(limit):
    for today in DAYS[45::3]:
        cutoff = first_entry_due_on_or_after(today, limit, CAL)
        for entered in DAYS[: DAYS.index(today) + 1]:
            overdue = today > due_on(entered, limit, CAL)
            assert (entered < cutoff) is overdue, (today, entered)


def test_overdue_cutoffs_cover_every_limited_state():
    cutoffs = overdue_cutoffs(date(2026, 6, 16), LIMITS, CAL)
    assert set(cutoffs) == {S.UNIT_REVIEW, S.DEPT_ACCEPTANCE}
    assert cutoffs[S.UNIT_REVIEW] == date(2026, 6, 2)  # entered 1 June: overdue on 16 June


def test_the_reminder_range_holds_the_cases_near_their_last_day():
    for today in DAYS[45::3]:
        found = entered_range_due_soon(today, S.UNIT_REVIEW, LIMITS, CAL)
        if not CAL.is_working_day(today):
            assert found is None  # no reminders on rest days
            continue
        first, end = found
        for entered in DAYS[: DAYS.index(today) + 1]:
            left = deadline_of(S.UNIT_REVIEW, entered, today, LIMITS, CAL)
            due_soon = not left.overdue and left.days_left <= LIMITS.remind_within
            assert (first <= entered < end) is due_soon, (today, entered)


def test_a_state_without_a_limit_is_never_reminded():
    assert entered_range_due_soon(date(2026, 6, 15), S.DRAFT, LIMITS, CAL) is None


def test_limits_only_on_waiting_states_and_of_a_day_at_least():
    with pytest.raises(ValueError):
        StepLimits({S.CLOSED: 5})
    with pytest.raises(ValueError):
        StepLimits({S.UNIT_REVIEW: 0})


def test_every_waiting_state_has_someone_to_remind():
    waiting = {state for state in TRANSITIONS if TRANSITIONS[state]}
    assert waiting == set(LIMITABLE) == set(RESPONSIBLE)
    assert RESPONSIBLE[S.UNIT_REVIEW] == "unit"
    assert RESPONSIBLE[S.DEPT_ACCEPTANCE] == "department"
    assert RESPONSIBLE[S.OFFICE_APPROVAL] == "office"
    assert RESPONSIBLE[S.COMMITTEE_REVIEW] == "committee"


def test_limits_count_an_unknown_year_monday_to_friday_instead_of_failing():
    # 2027 is in no notice here: a list must still open; 31 Dec 2026 + 1 -> Friday 1 Jan 2027
    assert due_on(date(2026, 12, 31), 1, CAL) == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("today", "ends"),
    [
        (date(2026, 12, 6), date(2026, 12, 6)),  # a year the package knows: today
        (date(2027, 1, 15), date(2027, 1, 1)),  # one it does not: the history stops before it
        (date(2028, 5, 1), date(2027, 1, 1)),
    ],
)
def test_the_demo_history_ends_before_a_year_nobody_knows(today, ends):
    from tools.demo_cases import history_ends

    assert history_ends(today) == ends


def _first_entry_by_trying_each_day(day, limit, calendar):
    """The cutoff as its definition reads: the earliest entry whose last day is on or after
    `day`, found by trying every earlier day (what the code did before it walked once)."""
    entry = day
    while due_on(entry - timedelta(days=1), limit, calendar) >= day:
        entry -= timedelta(days=1)
    return entry


ENTERED_DAYS = st.lists(
    st.tuples(st.dates(date(2027, 1, 1), date(2027, 12, 31)), st.sampled_from(list(DayKind))),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    today=st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    limit=st.integers(0, 25),
    entered=ENTERED_DAYS,
    year_entered=st.booleans(),
)
def test_the_cutoff_is_the_earliest_entry_not_overdue(today, limit, entered, year_entered):
    # 2027 and 2028: years the package may not know, entered by hand or left to Monday-Friday
    days = [OfficialDay(d, kind, "节日", 2027) for d, kind in entered]
    calendar = WorkingCalendar(HolidaySchedule.of([2027] if year_entered else [], days))
    cutoff = first_entry_due_on_or_after(today, limit, calendar)
    assert cutoff == _first_entry_by_trying_each_day(today, limit, calendar)
    assert due_on(cutoff, limit, calendar) >= today
    assert due_on(cutoff - timedelta(days=1), limit, calendar) < today

from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone

import chinese_calendar
import pytest

from services.cases.domain import calendar
from services.cases.domain.calendar import (
    PACKAGE_CALENDAR,
    YearNotKnown,
    add_working_days,
    is_working_day,
    local_date,
    publicity_period,
)
from services.cases.domain.deadlines import StepLimits, overdue_cutoffs
from services.cases.domain.model import CaseState


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 6, 13), True),  # a plain Friday
        (date(2025, 6, 14), False),  # a plain Saturday
        (date(2025, 9, 28), True),  # Sunday, 调休 make-up day for 国庆
        (date(2025, 10, 1), False),  # 国庆
        (date(2025, 10, 8), False),  # last day of the 国庆/中秋 holiday
        (date(2025, 10, 9), True),  # Thursday after the holiday
        (date(2025, 10, 11), True),  # Saturday, 调休 make-up day
        (date(2025, 10, 12), False),  # ordinary Sunday
        (date(2026, 1, 1), False),  # 元旦 2026, the last year chinese-calendar 1.11.0 knows
    ],
)
def test_knows_holidays_and_make_up_days(day, working):
    assert is_working_day(day) is working


def test_a_plain_week_counts_monday_to_friday():
    monday = date(2025, 6, 9)
    assert add_working_days(monday, 4) == date(2025, 6, 13)
    assert add_working_days(date(2025, 6, 13), 1) == date(2025, 6, 16)


def test_zero_working_days_is_the_start_itself():
    assert add_working_days(date(2025, 6, 14), 0) == date(2025, 6, 14)


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2025, 6, 9), -1)


def test_skips_national_day_holidays():
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)


def test_counts_the_sunday_make_up_day_before_national_day():
    assert add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)


def test_plain_week_publicity_runs_monday_to_friday():
    assert publicity_period(date(2025, 6, 9), 5) == (date(2025, 6, 9), date(2025, 6, 13))


def test_publicity_over_national_day_2025():
    # 26 (Fri), 28 (Sun, make-up), 29, 30, then 1-8 Oct holidays, then 9 Oct
    assert publicity_period(date(2025, 9, 26), 5) == (date(2025, 9, 26), date(2025, 10, 9))


def test_publicity_counts_the_saturday_make_up_day_after_national_day():
    # 9 (Thu), 10 (Fri), 11 (Sat, make-up)
    assert publicity_period(date(2025, 10, 9), 3) == (date(2025, 10, 9), date(2025, 10, 11))


def test_publicity_asked_to_start_on_a_holiday_starts_on_the_next_working_day():
    # 9, 10, 11 (make-up), 13, 14
    assert publicity_period(date(2025, 10, 1), 5) == (date(2025, 10, 9), date(2025, 10, 14))


def test_one_day_publicity_ends_on_its_start():
    assert publicity_period(date(2025, 6, 9), 1) == (date(2025, 6, 9), date(2025, 6, 9))


def test_publicity_of_no_working_days_is_refused():
    with pytest.raises(ValueError):
        publicity_period(date(2025, 6, 9), 0)


def test_a_year_the_package_does_not_know_is_refused_not_counted_monday_to_friday():
    # 2030-01-01 is a Tuesday: a holiday in reality, a working day if counted Monday-Friday
    with pytest.raises(YearNotKnown) as refused:
        is_working_day(date(2030, 1, 1))
    assert refused.value.year == 2030
    assert "2030年的法定节假日和调休安排尚未录入" in refused.value.message


def test_a_period_crossing_into_an_unknown_year_is_refused():
    with pytest.raises(YearNotKnown) as refused:
        publicity_period(date(2026, 12, 28), 5)
    assert refused.value.year == 2027


def test_local_date_is_the_date_in_china():
    assert local_date(datetime(2025, 10, 9, 16, 0, tzinfo=UTC)) == date(2025, 10, 10)
    assert local_date(datetime(2025, 10, 9, 15, 59, tzinfo=UTC)) == date(2025, 10, 9)
    in_china = datetime(2025, 10, 9, 23, 59, tzinfo=timezone(timedelta(hours=8)))
    assert local_date(in_china) == date(2025, 10, 9)


def test_local_date_refuses_a_naive_moment():
    with pytest.raises(ValueError):
        local_date(datetime(2025, 10, 9, 12, 0))


def test_every_day_of_the_packages_years_is_as_the_package_says():
    day = date(2024, 1, 1)
    while day.year < 2027:
        assert is_working_day(day) is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_the_package_is_asked_once_for_a_day(monkeypatch):
    """Each of its answers costs about 30 us (it finds its first and last year anew), and a
    home page's step limits walk thousands of days: bench/load.py found a third of the cases
    process's CPU there. Its answers are kept."""
    asked = Counter()
    package = chinese_calendar.is_workday

    def counted(day: date) -> bool:
        asked[day] += 1
        return package(day)

    monkeypatch.setattr(chinese_calendar, "is_workday", counted)
    calendar.package_workday.cache_clear()
    try:
        limits = StepLimits({CaseState.UNIT_REVIEW: 10, CaseState.DEPT_ACCEPTANCE: 5})
        first = overdue_cutoffs(date(2025, 10, 9), limits, PACKAGE_CALENDAR)
        assert overdue_cutoffs(date(2025, 10, 9), limits, PACKAGE_CALENDAR) == first
        assert first[CaseState.UNIT_REVIEW] == date(2025, 9, 18)  # 国庆/中秋 do not count
        assert asked and set(asked.values()) == {1}
    finally:
        calendar.package_workday.cache_clear()  # the counting wrapper's answers go too

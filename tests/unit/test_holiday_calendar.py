"""The working-day calendar with the sysadmin's entries: entries first, the package next,
Monday to Friday only in a year whose notice was entered; any other year is refused."""

import re
from datetime import date, timedelta

import pytest

from services.cases.domain.calendar import (
    DayKind,
    DayRefused,
    HolidaySchedule,
    OfficialDay,
    WorkingCalendar,
    YearNotKnown,
    check_official_day,
    package_days_of,
    schedule_warnings,
)

H, W = DayKind.HOLIDAY, DayKind.WORKDAY


def _days(kind: DayKind, name: str, first: date, last: date, year: int = 2027) -> list:
    count = (last - first).days + 1
    return [OfficialDay(first + timedelta(days=n), kind, name, year) for n in range(count)]


# Test data only, made up for these tests: not the State Council's 2027 schedule (unknown when
# this was written). 1 January 2027 is a Friday; 6 February 2027 a Saturday.
TEST_2027 = HolidaySchedule.of(
    [2027],
    [
        *_days(H, "元旦", date(2027, 1, 1), date(2027, 1, 3)),
        *_days(H, "春节", date(2027, 2, 6), date(2027, 2, 14)),
        OfficialDay(date(2027, 2, 20), W, "春节", 2027),  # a Saturday worked
    ],
)
WITH_2027 = WorkingCalendar(TEST_2027)


def test_publicity_over_the_2026_2027_new_year_uses_the_entered_holidays():
    # 28-31 Dec 2026 (Mon-Thu, the package's), 1 Jan holiday, 2-3 weekend, then 4 Jan
    assert WITH_2027.publicity_period(date(2026, 12, 28), 5) == (
        date(2026, 12, 28),
        date(2027, 1, 4),
    )


def test_publicity_over_the_2027_spring_festival_skips_the_holiday_week():
    # 3, 4, 5 Feb (Wed-Fri), 6-14 holidays, 15 and 16 Feb
    assert WITH_2027.publicity_period(date(2027, 2, 3), 5) == (date(2027, 2, 3), date(2027, 2, 16))


def test_publicity_counts_the_entered_saturday_make_up_day():
    # 17, 18, 19 Feb (Wed-Fri), 20 Feb (Saturday worked)
    assert WITH_2027.publicity_period(date(2027, 2, 17), 4) == (
        date(2027, 2, 17),
        date(2027, 2, 20),
    )


def test_a_publicity_asked_to_start_in_the_holiday_starts_after_it():
    assert WITH_2027.publicity_period(date(2027, 2, 8), 1) == (date(2027, 2, 15), date(2027, 2, 15))


def test_without_the_entries_the_same_periods_are_refused():
    for start in (date(2026, 12, 28), date(2027, 2, 3)):
        with pytest.raises(YearNotKnown) as refused:
            WorkingCalendar().publicity_period(start, 5)
        assert refused.value.year == 2027


def test_the_rest_of_an_entered_year_is_plain_weeks():
    assert WITH_2027.is_working_day(date(2027, 6, 1)) is True  # a Tuesday
    assert WITH_2027.is_working_day(date(2027, 6, 5)) is False  # a Saturday


def test_a_year_neither_entered_nor_in_the_package_stays_refused():
    with pytest.raises(YearNotKnown):
        WITH_2027.is_working_day(date(2028, 3, 1))


def test_an_entry_comes_before_the_package():
    moved = HolidaySchedule.of([2026], [OfficialDay(date(2026, 6, 1), H, "调整", 2026)])
    assert WorkingCalendar().is_working_day(date(2026, 6, 1)) is True
    assert WorkingCalendar(moved).is_working_day(date(2026, 6, 1)) is False
    assert WorkingCalendar(moved).is_working_day(date(2026, 6, 2)) is True  # the package's


def test_a_day_of_the_year_before_in_a_notice_counts_on_its_own_date():
    # a notice of 2027 that names 31 December 2026 (元旦 may begin in the year before)
    early = HolidaySchedule.of([2027], [OfficialDay(date(2026, 12, 31), H, "元旦", 2027)])
    assert WorkingCalendar(early).is_working_day(date(2026, 12, 31)) is False


def test_lenient_counts_an_unknown_year_monday_to_friday():
    lenient = WorkingCalendar().lenient()
    assert lenient.is_working_day(date(2030, 1, 1)) is True
    assert lenient.is_working_day(date(2030, 1, 5)) is False


def test_where_each_year_comes_from():
    assert WITH_2027.source_of(2027) == "entered"
    assert WITH_2027.source_of(2026) == "package"
    assert WITH_2027.source_of(2028) is None


def test_the_package_days_of_a_year_are_named_in_chinese():
    days = package_days_of(2026)
    assert OfficialDay(date(2026, 2, 15), H, "春节", 2026) in days
    assert OfficialDay(date(2026, 2, 14), W, "春节", 2026) in days  # a Saturday worked
    assert package_days_of(2027) == []


@pytest.mark.parametrize(
    ("today", "missing"),
    [
        (date(2026, 10, 31), []),  # next year missing, but before 1 November
        (date(2026, 11, 1), [2027]),
        (date(2026, 12, 31), [2027]),
        (date(2027, 1, 4), [2027]),  # this year missing: always
        (date(2027, 11, 2), [2027, 2028]),
    ],
)
def test_the_sysadmin_is_warned_of_this_year_always_and_of_next_year_from_november(today, missing):
    warnings = schedule_warnings(today, WorkingCalendar(), (11, 1))
    assert [int(re.search(r"\d{4}", w)[0]) for w in warnings] == missing


def test_no_warning_once_next_year_is_entered():
    assert schedule_warnings(date(2026, 12, 1), WITH_2027, (11, 1)) == []


def test_a_make_up_working_day_must_be_a_weekend_day():
    with pytest.raises(DayRefused) as refused:
        check_official_day(OfficialDay(date(2027, 2, 17), W, "春节", 2027))  # a Wednesday
    assert refused.value.field == "kind"
    assert "调休上班日应为星期六或星期日" in refused.value.message
    check_official_day(OfficialDay(date(2027, 2, 20), W, "春节", 2027))  # a Saturday


@pytest.mark.parametrize(
    ("day", "taken"),
    [
        (date(2026, 12, 31), True),  # 元旦 may begin in December of the year before
        (date(2026, 11, 30), False),
        (date(2027, 12, 31), True),
        (date(2028, 1, 1), False),
    ],
)
def test_a_notices_days_lie_in_its_year(day, taken):
    entry = OfficialDay(day, H, "元旦", 2027)
    if taken:
        check_official_day(entry)
    else:
        with pytest.raises(DayRefused) as refused:
            check_official_day(entry)
        assert refused.value.field == "day"

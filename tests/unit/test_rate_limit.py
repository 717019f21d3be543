"""The arithmetic of the sliding-window rate limits (shared/rate_limit.py)."""

from datetime import UTC, datetime

import pytest

from shared.rate_limit import (
    LIMITS,
    estimate,
    one_more_fits,
    parse_limits,
    seconds_to_wait,
    too_many,
    window_start,
)


def test_windows_start_on_multiples_of_their_length():
    now = datetime(2026, 12, 4, 10, 7, 30, tzinfo=UTC)
    assert window_start(now, 600) == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert window_start(now, 60) == datetime(2026, 12, 4, 10, 7, tzinfo=UTC)


def test_the_previous_window_counts_by_how_much_of_it_still_overlaps():
    assert estimate(previous=10, current=2, elapsed=0, window=600) == 12
    assert estimate(previous=10, current=2, elapsed=300, window=600) == 7
    assert estimate(previous=10, current=2, elapsed=600, window=600) == 2


def test_the_wait_is_until_one_more_hit_fits():
    # 10 of 10 used in the current window, 100 s into it: the window must end (500 s) and
    # then the 10 must fade until one more fits: 9 >= 10 * (1 - f) -> f = 0.1 -> 60 s.
    assert seconds_to_wait(previous=0, current=10, elapsed=100, limit=10, window=600) == 560
    # The current window has room but the previous one still weighs: 3 now, 8 before, limit 10:
    # 8 * (1 - f) + 3 <= 9 -> f >= 0.25 -> at 150 s; 100 s in: 50 s more.
    assert seconds_to_wait(previous=8, current=3, elapsed=100, limit=10, window=600) == 50
    assert seconds_to_wait(previous=0, current=0, elapsed=0, limit=10, window=600) == 1


@pytest.mark.parametrize("elapsed", [0, 1, 59, 299, 599])
@pytest.mark.parametrize(("previous", "current"), [(0, 10), (10, 0), (7, 5), (30, 30)])
def test_after_the_wait_one_more_hit_fits_and_a_second_earlier_it_did_not(
    previous, current, elapsed
):
    limit, window = 10, 600
    wait = seconds_to_wait(previous, current, elapsed, limit, window)
    later = elapsed + wait

    def fits(at: float) -> bool:
        if at >= window:  # the current window has become the previous one
            return one_more_fits(current, 0, at - window, limit, window)
        return one_more_fits(previous, current, at, limit, window)

    assert fits(later)
    if wait > 1:
        assert not fits(later - 1.5)


def test_overrides_change_a_limit_and_bad_ones_stop_start_up():
    table = parse_limits({"captcha": "5/60"})
    assert (table["captcha"].limit, table["captcha"].window_seconds) == (5, 60)
    assert table["login"] == LIMITS["login"]
    for bad in ({"nothing": "5/60"}, {"captcha": "five"}, {"captcha": "0/60"}):
        with pytest.raises(ValueError, match="ZC_RATE_LIMITS"):
            parse_limits(bad)


def test_the_refusal_is_a_429_in_chinese_with_the_wait():
    error = too_many(LIMITS["captcha"], 42)
    assert (error.status, error.details) == (429, {"retry_after": 42})
    assert error.message == "获取图片验证码过于频繁，请 42 秒后再试"
    assert too_many(LIMITS["login"], 61).message == "登录尝试过于频繁，请 2 分钟后再试"

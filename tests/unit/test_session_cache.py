"""The gateway's session cache on its own: when an entry may be trusted, what drops it."""

import time
from datetime import UTC, datetime, timedelta

from gateway.sessions import SessionCache

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def session(user_id="u1", unit_id="n1", expires_in=timedelta(hours=12), idle_seconds=1800):
    return {
        "csrf_token": "c",
        "session_id": "s",
        "user": {"id": user_id, "unit_id": unit_id},
        "expires_at": (NOW + expires_in).isoformat(),
        "idle_seconds": idle_seconds,
    }


def listening_cache(seconds=30.0) -> SessionCache:
    cache = SessionCache(seconds)
    cache.listening = True
    return cache


def test_an_answer_is_reused_until_it_ages_out():
    cache = listening_cache(seconds=0.05)
    cache.put("t", session(), cache.generation, NOW)
    assert cache.get("t", NOW)["user"]["id"] == "u1"
    time.sleep(0.06)
    assert cache.get("t", NOW) is None


def test_nothing_is_cached_or_answered_while_not_subscribed():
    cache = SessionCache(30)
    cache.put("t", session(), cache.generation, NOW)
    assert len(cache) == 0
    cache.listening = True
    cache.put("t", session(), cache.generation, NOW)
    cache.listening = False
    assert cache.get("t", NOW) is None


def test_zero_seconds_turns_the_cache_off():
    cache = listening_cache(seconds=0)
    cache.put("t", session(), cache.generation, NOW)
    assert cache.get("t", NOW) is None


def test_the_absolute_end_and_the_idle_limit_are_checked_here():
    cache = listening_cache()
    cache.put("t", session(expires_in=timedelta(minutes=5)), cache.generation, NOW)
    assert cache.get("t", NOW + timedelta(minutes=4)) is not None
    assert cache.get("t", NOW + timedelta(minutes=5)) is None

    cache.put("idle", session(idle_seconds=60), cache.generation, NOW)
    assert cache.get("idle", NOW + timedelta(seconds=59)) is not None  # a use: activity
    assert cache.get("idle", NOW + timedelta(seconds=118)) is not None
    assert cache.last_active("idle") == NOW + timedelta(seconds=118)
    assert cache.get("idle", NOW + timedelta(seconds=178)) is None


def test_events_drop_the_users_and_units_they_name():
    cache = listening_cache()
    cache.put("a", session(user_id="u1", unit_id="n1"), cache.generation, NOW)
    cache.put("b", session(user_id="u1", unit_id="n1"), cache.generation, NOW)
    cache.put("c", session(user_id="u2", unit_id="n2"), cache.generation, NOW)
    cache.put("d", session(user_id="u3", unit_id=None), cache.generation, NOW)
    cache.forget(["u1"], [])
    assert [cache.get(t, NOW) is None for t in "abcd"] == [True, True, False, False]
    cache.forget([], ["n2"])
    assert cache.get("c", NOW) is None and cache.get("d", NOW) is not None
    cache.forget_token("d")
    assert len(cache) == 0


def test_an_answer_fetched_across_a_drop_is_not_kept():
    cache = listening_cache()
    generation = cache.generation  # the lookup starts
    cache.forget(["u1"], [])  # the user is disabled meanwhile
    cache.put("t", session(user_id="u1"), generation, NOW)
    assert len(cache) == 0


def test_the_oldest_entries_go_first_when_full():
    cache = SessionCache(30, max_entries=3)
    cache.listening = True
    for token in "abcd":
        cache.put(token, session(user_id=token), cache.generation, NOW)
    assert len(cache) == 3 and cache.get("a", NOW) is None and cache.get("d", NOW) is not None
    cache.forget(["a"], [])  # its index entry went with it
    assert len(cache) == 3

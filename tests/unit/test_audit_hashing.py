"""The audit chain's canonical serialisation and hashing (shared/audit.py), and how a walk
along the chain names what broke it (shared/audit_chain.py), without a database."""

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.audit import BODY, GENESIS, Entry, body, canonical, chain, new_row, row_hash
from shared.audit_chain import _Walk
from shared.rpc import Actor

AT = datetime(2026, 6, 1, 9, 30, 15, 123456, tzinfo=UTC)
ACTOR = Actor(
    user_id=uuid.UUID("00000000-0000-0000-0000-0000000000a1"),
    role="department",
    name="李审核",
    username="dept01",
    organisation="深圳市工程师联合会",
    client_address="10.2.3.4",
)
CASE = uuid.UUID("00000000-0000-0000-0000-0000000000c1")


def a_row(**changes) -> dict:
    entry = Entry("case.view", "case", CASE, "2026000001", [CASE], details={"b": 1, "a": "x"})
    row = new_row(ACTOR, entry, AT, "req-1")
    return {**row, "seq": 1, "prev_hash": GENESIS, **changes}


def test_the_hash_is_sha256_of_the_previous_hash_the_number_and_the_compact_sorted_body():
    row = a_row()
    text = canonical(row).decode()
    previous, seq, row_body = text.split(":", 2)
    assert (previous, seq, row_body) == (GENESIS, "1", body(row))
    assert row_body.startswith('{"action":"case.view","actor_id":"00000000-')
    assert ", " not in row_body and '": ' not in row_body
    values = json.loads(row_body)
    assert set(values) == {*BODY, "format"} and values["format"] == 1
    assert row_hash(row) == hashlib.sha256(text.encode()).hexdigest()


def test_the_same_row_read_back_hashes_the_same():
    """What PostgreSQL gives back: another time zone for the same instant, details as text
    (a connection without the jsonb codec) or with their keys in another order."""
    row = a_row()
    shanghai = timezone(timedelta(hours=8))
    read_back = {
        **row,
        "at": AT.astimezone(shanghai),
        "details": json.dumps({"a": "x", "b": 1}),
        "case_ids": [CASE],
    }
    assert row_hash(read_back) == row_hash(row)


@pytest.mark.parametrize(
    "column, value",
    [
        ("seq", 2),
        ("at", AT + timedelta(microseconds=1)),
        ("actor_name", "别人"),
        ("client_address", "10.2.3.5"),
        ("request_id", "req-2"),
        ("action", "file.read"),
        ("object_id", "another"),
        ("case_ids", []),
        ("outcome", "refused"),
        ("details", {"b": 2, "a": "x"}),
        ("prev_hash", "f" * 64),
    ],
)
def test_any_change_to_a_hashed_column_changes_the_hash(column, value):
    assert row_hash(a_row(**{column: value})) != row_hash(a_row())


def test_details_keep_no_floats_so_jsonb_gives_them_back_unchanged():
    row = a_row(details={"ratio": 0.1, "nested": {"n": 1e20}})
    assert json.loads(body(row))["details"] == {"ratio": "0.1", "nested": {"n": "1e+20"}}


def test_a_chain_numbers_the_rows_on_and_links_each_to_the_one_before():
    rows = [new_row(ACTOR, Entry("case.view"), AT, None) for _ in range(3)]
    chained = chain(41, "e" * 64, rows)
    assert [r["seq"] for r in chained] == [42, 43, 44]
    assert [r["prev_hash"] for r in chained] == ["e" * 64, chained[0]["hash"], chained[1]["hash"]]
    assert all(r["hash"] == row_hash(r) for r in chained)


# --- the walk: what verify reports ---


def walk_over(rows: list[dict], head_seq: int | None = None, anchor=(0, GENESIS)):
    head = {"last_seq": head_seq or rows[-1]["seq"], "anchor_seq": anchor[0]}
    head["anchor_hash"] = anchor[1]
    walk = _Walk(head)
    for row in rows:
        if (problem := walk.check(row)) is not None:
            return problem
    return walk.end(rows[-1]["hash"])


def five() -> list[dict]:
    return chain(0, GENESIS, [new_row(ACTOR, Entry("case.view"), AT, None) for _ in range(5)])


def test_an_untouched_chain_walks_through():
    assert walk_over(five()) is None


def test_a_changed_row_is_named():
    rows = five()
    rows[2] = {**rows[2], "client_address": "6.6.6.6"}
    problem = walk_over(rows)
    assert (problem.seq, problem.kind) == (3, "changed")


def test_a_missing_row_is_named_deleted():
    rows = five()
    del rows[2]
    problem = walk_over(rows)
    assert (problem.seq, problem.kind) == (3, "deleted")


def test_missing_newest_rows_are_named_deleted():
    rows = five()
    problem = walk_over(rows[:3], head_seq=5)
    assert (problem.seq, problem.kind) == (4, "deleted")


def test_a_row_the_next_one_skips_over_is_named_inserted():
    rows = five()
    [forged] = chain(2, rows[1]["hash"], [new_row(ACTOR, Entry("case.view"), AT, None)])
    renumbered = [{**r, "seq": r["seq"] + 1} for r in rows[2:]]
    problem = walk_over([*rows[:2], forged, *renumbered])
    assert (problem.seq, problem.kind) == (3, "inserted")


def test_a_row_beyond_the_head_is_named_inserted():
    rows = five()
    [forged] = chain(5, rows[-1]["hash"], [new_row(ACTOR, Entry("case.view"), AT, None)])
    problem = walk_over([*rows, forged], head_seq=5)
    assert (problem.seq, problem.kind) == (6, "inserted")


def test_after_a_purge_the_walk_starts_at_the_anchor():
    rows = five()
    assert walk_over(rows[3:], anchor=(3, rows[2]["hash"])) is None
    problem = walk_over(rows[3:], anchor=(3, "0" * 64))
    assert (problem.seq, problem.kind) == (4, "deleted")

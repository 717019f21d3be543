"""The bits of cases.done_lists (migration 022): every 已办 list has its own, and they fit the
column (a PostgreSQL integer)."""

import re
from pathlib import Path

from services.cases.repository import DONE_LIST_BITS, done_bit_sql, done_list_bit, done_lists_of
from shared.contracts.cases.work_lists import WORK_LISTS

MIGRATIONS = Path(__file__).parents[2] / "services" / "cases" / "migrations"


def test_every_work_list_has_a_bit_of_its_own_within_an_integer():
    assert set(DONE_LIST_BITS) == set(WORK_LISTS)
    assert len(set(DONE_LIST_BITS.values())) == len(DONE_LIST_BITS)
    assert all(0 <= bit < 31 for bit in DONE_LIST_BITS.values())


def test_a_case_has_the_bits_of_its_lists_and_no_other():
    bits = done_lists_of(["unit:3", "department:acceptance", "unit:3"])
    assert bits == done_list_bit("unit:3") | done_list_bit("department:acceptance")
    assert [key for key in WORK_LISTS if bits & done_list_bit(key)] == [
        "unit:3",
        "department:acceptance",
    ]
    assert done_lists_of([]) == 0


def test_the_sql_names_each_list_by_its_bit():
    sql = done_bit_sql("d.list")
    assert sql.startswith("CASE d.list ") and sql.endswith(" ELSE 0 END")
    for key in WORK_LISTS:
        assert f"WHEN '{key}' THEN {done_list_bit(key)} " in sql


def test_the_reviewers_order_indexes_hold_every_list_but_the_units():
    """Migration 021's indexes hold the lists whose party is not a unit (queries.py reads
    them for those only); a reviewer's list added later must be added there too."""
    sql = (MIGRATIONS / "021_done_orders.sql").read_text(encoding="utf-8")
    listed = set(re.findall(r"'([a-z_]+:[a-z_0-9]+)'", sql))
    assert listed == {key for key, w in WORK_LISTS.items() if w.party != "unit"}

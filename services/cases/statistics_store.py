"""The statistics' tables (migration 013): the sum of every case's contributions
(services/cases/domain/statistics.py) by day (case_statistics) and over all days
(case_statistics_totals), and the changes not yet added to them (case_statistics_changes).

A move changes what its case contributes: the cells of the case before and after the move
are computed from its history, and their difference is appended to the changes in the
move's transaction (`move_changes`: the history comes with the case's load, HISTORY_JSON,
and the changes go in with the move's own writes, `changes_insert`). An opened
case appends its own cell (`record_opened`). Appending locks no row another move needs, so
moves never wait for each other here. Every few seconds the service adds the changes to the
two tables and deletes them, in one transaction (`fold`): a reader sees either the changes
or their sums, and reads both (statistics_views.py), so the figures are exact at any time.
`rebuild` computes everything again from the histories: migration 014, the bench data and
`python -m tools.statistics rebuild`.
"""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from services.cases.domain.statistics import (
    Amount,
    CaseFacts,
    Cell,
    Contributions,
    HistoryRow,
    add,
    add_all,
    contributions,
    difference,
)
from shared.contracts.cases.vocabulary import CaseState, Outcome
from shared.db import array_args

DAILY, TOTALS, CHANGES = "case_statistics", "case_statistics_totals", "case_statistics_changes"
KEYS = {
    DAILY: Cell._fields,
    CHANGES: Cell._fields,
    TOTALS: tuple(name for name in Cell._fields if name != "on_day"),
}
FOLD_LOCK = 0x5354415453  # pg_try_advisory_xact_lock: one copy of the service folds at a time

# The types of a cell's key, then n and seconds: the arrays one statement takes.
TYPES = {
    "figure": "text", "on_day": "date", "round_id": "text", "department_id": "text",
    "committee_id": "text", "qualification_id": "text", "reached_department": "boolean",
    "reached_office": "boolean", "reached_committee": "boolean", "key": "text",
    "detail": "text", "n": "bigint", "seconds": "bigint",
}  # fmt: skip


def _arrays(names, first: int = 1) -> str:
    return ", ".join(f"${i}::{TYPES[name]}[]" for i, name in enumerate(names, start=first))


def _insert_sql(table: str, first: int = 1) -> str:
    names = [*KEYS[table], "n", "seconds"]
    return f"INSERT INTO {table} ({', '.join(names)}) SELECT * FROM unnest({_arrays(names, first)})"


def changes_insert(first: int) -> str:
    """The INSERT of what moves change (move_changes' arrays, numbered from $first), for a
    statement that writes them with the moves' other rows."""
    return _insert_sql(CHANGES, first)


CHANGE_COLUMNS = len(KEYS[CHANGES]) + 2  # the arrays of move_changes


def _add_sql(table: str) -> str:
    keys = ", ".join(KEYS[table])
    return (
        f"{_insert_sql(table)} ON CONFLICT ({keys}) DO UPDATE"
        f" SET n = {table}.n + EXCLUDED.n, seconds = {table}.seconds + EXCLUDED.seconds"
    )


def _drop_sql(table: str) -> str:
    keys = KEYS[table]
    return (
        f"DELETE FROM {table} t USING unnest({_arrays(keys)}) AS e({', '.join(keys)})"
        f" WHERE ({', '.join(f't.{k}' for k in keys)}) = ({', '.join(f'e.{k}' for k in keys)})"
        " AND t.n = 0"
    )


APPEND = _insert_sql(CHANGES)
ADD = {table: _add_sql(table) for table in (DAILY, TOTALS)}
DROP_EMPTY = {table: _drop_sql(table) for table in (DAILY, TOTALS)}
TAKE_CHANGES = f"DELETE FROM {CHANGES} RETURNING {', '.join(KEYS[CHANGES])}, n, seconds"

HISTORIES = (
    "SELECT c.id, c.round_id, c.department_id, c.committee_id, c.qualification_id, c.unit_id,"
    " c.created_at, h.action, h.from_state, h.to_state, h.outcome, h.at"
    " FROM cases c LEFT JOIN case_history h ON h.case_id = c.id"
    " WHERE c.id = ANY($1::uuid[]) ORDER BY c.id, h.id"
)


# A case's history in its load (repository.LOAD_FOR_UPDATE): the moves' statistics need it,
# and it comes with the case instead of in a query of its own
HISTORY_JSON = (
    "(SELECT json_agg(json_build_object('action', h.action, 'from_state', h.from_state,"
    " 'to_state', h.to_state, 'outcome', h.outcome, 'at', h.at) ORDER BY h.id)"
    " FROM case_history h WHERE h.case_id = c.id) AS history"
)


def loaded_history(row) -> tuple[CaseFacts, list[HistoryRow]]:
    """(facts, history) of a case loaded with HISTORY_JSON."""
    history = [
        history_row({**item, "at": datetime.fromisoformat(item["at"])})
        for item in row["history"] or ()
    ]
    return case_facts(row), history


def history_row(row) -> HistoryRow:
    outcome = row["outcome"]
    return HistoryRow(
        row["action"],
        CaseState(row["from_state"]),
        CaseState(row["to_state"]),
        Outcome(outcome) if outcome else None,
        row["at"],
    )


def case_facts(row) -> CaseFacts:
    return CaseFacts(
        row["round_id"],
        row["department_id"],
        row["committee_id"],
        row["qualification_id"],
        str(row["unit_id"]),
        row["created_at"],
    )


async def histories(conn, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple]:
    """(facts, history) of each of these cases, by id: one query."""
    found: dict[uuid.UUID, tuple[CaseFacts, list[HistoryRow]]] = {}
    for row in await conn.fetch(HISTORIES, list(case_ids)):
        _, history = found.setdefault(row["id"], (case_facts(row), []))
        if row["action"] is not None:
            history.append(history_row(row))
    return found


# --- in the transaction of a change ---


def move_changes(moves: Iterable[tuple[uuid.UUID, tuple, HistoryRow]]) -> list[list]:
    """What these moves change, each (case id, its (facts, history) as loaded, the move's
    history row): the arrays of changes_insert (empty when they change nothing)."""
    new_rows: dict[uuid.UUID, list[HistoryRow]] = {}
    loaded: dict[uuid.UUID, tuple] = {}
    for case_id, before, row in moves:
        new_rows.setdefault(case_id, []).append(row)
        loaded.setdefault(case_id, before)
    delta: Contributions = {}
    for case_id, (facts, history) in loaded.items():
        before = contributions(facts, history)
        after = contributions(facts, [*history, *new_rows[case_id]])
        add_all(delta, difference(before, after))
    return array_args([(*c, *a) for c, a in delta.items()], CHANGE_COLUMNS)


async def record_opened(conn, case_id: uuid.UUID) -> None:
    """Append a case just opened (a draft without history)."""
    for facts, history in (await histories(conn, [case_id])).values():
        await _append(conn, contributions(facts, history))


async def _append(conn, delta: Contributions) -> None:
    if delta:
        await conn.execute(APPEND, *_columns([(*c, *a) for c, a in delta.items()]))


def _columns(rows: list[tuple]) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)]


# --- every few seconds, in the service ---


async def fold(conn) -> int:
    """Add the changes to both tables and delete them, in the caller's transaction; the
    rows the sums empty go. Returns the changes folded (0 when another copy is folding)."""
    if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", FOLD_LOCK):
        return 0
    taken = await conn.fetch(TAKE_CHANGES)
    delta: Contributions = {}
    for row in taken:
        add(delta, Cell(*row[: len(Cell._fields)]), row["n"], row["seconds"])
    for table, amounts in ((DAILY, delta), (TOTALS, over_all_days(delta))):
        cells = sorted(cell for cell, amount in amounts.items() if amount.n or amount.seconds)
        if cells:
            await conn.execute(ADD[table], *_columns([(*c, *amounts[c]) for c in cells]))
            if emptied := [c for c in cells if amounts[c].n < 0]:
                await conn.execute(DROP_EMPTY[table], *_columns(emptied))
    return len(taken)


def over_all_days(amounts: Contributions) -> dict[tuple, Amount]:
    """The amounts by the totals' keys: every key of a cell but its day."""
    summed: dict = {}
    for cell, amount in amounts.items():
        add(summed, cell[:1] + cell[2:], amount.n, amount.seconds)
    return summed


# --- everything, from the histories ---

REBUILD_BATCH = 5000  # cases read at a time


async def computed(conn) -> Contributions:
    """The sum of every case's contributions, from the cases and their histories."""
    sums: Contributions = {}
    last = uuid.UUID(int=0)
    while True:
        ids = [
            row["id"]
            for row in await conn.fetch(
                "SELECT id FROM cases WHERE id > $1 ORDER BY id LIMIT $2", last, REBUILD_BATCH
            )
        ]
        if not ids:
            return sums
        for facts, history in (await histories(conn, ids)).values():
            add_all(sums, contributions(facts, history))
        last = ids[-1]


async def rebuild(conn) -> int:
    """Compute both tables again from the histories, with no changes left, in the caller's
    transaction; the cases are held still (SHARE lock: moves wait) until it commits.
    Returns the daily cells."""
    await conn.execute("LOCK TABLE cases IN SHARE MODE")
    sums = await computed(conn)
    await conn.execute(f"DELETE FROM {CHANGES}")
    for table, amounts in ((DAILY, sums), (TOTALS, over_all_days(sums))):
        await conn.execute(f"DELETE FROM {table}")
        await conn.copy_records_to_table(
            table,
            columns=[*KEYS[table], "n", "seconds"],
            records=[(*c, *a) for c, a in sorted(amounts.items()) if a.n or a.seconds],
        )
    return len(sums)


async def kept(conn) -> tuple[dict, dict]:
    """What each table says with the changes not yet folded into it: (daily, totals) by
    key, read in the caller's transaction (one snapshot, to compare with `computed`)."""
    changes = await stored(conn, CHANGES)
    found = []
    for table, pending in ((DAILY, changes), (TOTALS, over_all_days(changes))):
        sums = await stored(conn, table)
        for key, amount in pending.items():
            add(sums, key, amount.n, amount.seconds)
        found.append({key: amount for key, amount in sums.items() if amount.n or amount.seconds})
    return found[0], found[1]


async def stored(conn, table: str) -> dict[tuple, Amount]:
    """A table as it is, summed by its keys (the changes may hold a key more than once)."""
    keys = KEYS[table]
    sums: dict = {}
    for row in await conn.fetch(f"SELECT {', '.join(keys)}, n, seconds FROM {table}"):
        add(sums, tuple(row[k] for k in keys), row["n"], row["seconds"])
    return sums

"""The statistics' tables (migration 013): the sum of every case's contributions
(services/cases/domain/statistics.py) by day (case_statistics) and over all days
(case_statistics_totals), kept in the transaction of each change.

A move changes what its case contributes: the cells of the case before and after the move
are computed from its history (`changes`, before the move's history row is written) and
their difference is added (`add`, just before the audit rows, so that the rows it locks are
held from there to the commit only, like the audit chain's head). An opened case adds its
own cell (`record_opened`). The rows are written in one order (the daily table, then the
totals, each by key): two transactions touching the same cells wait for each other instead
of deadlocking. `rebuild` computes both tables again from the histories: migration 014,
the bench data and `python -m tools.statistics check`.
"""

import uuid
from collections.abc import Iterable, Sequence

from services.cases.domain.statistics import (
    Amount,
    CaseFacts,
    Cell,
    Contributions,
    HistoryRow,
    add_all,
    contributions,
    difference,
)
from services.cases.domain.statistics import add as add_to
from shared.contracts.cases.vocabulary import CaseState, Outcome

DAILY, TOTALS = "case_statistics", "case_statistics_totals"
KEYS = {
    DAILY: Cell._fields,
    TOTALS: tuple(name for name in Cell._fields if name != "on_day"),
}


def _add_sql(table: str) -> str:
    keys = ", ".join(KEYS[table])
    places = ", ".join(f"${i}" for i in range(1, len(KEYS[table]) + 3))
    return (
        f"INSERT INTO {table} ({keys}, n, seconds) VALUES ({places})"
        f" ON CONFLICT ({keys}) DO UPDATE SET n = {table}.n + EXCLUDED.n,"
        f" seconds = {table}.seconds + EXCLUDED.seconds"
    )


def _drop_sql(table: str) -> str:
    keys = KEYS[table]
    places = ", ".join(f"${i}" for i in range(1, len(keys) + 1))
    return f"DELETE FROM {table} WHERE ({', '.join(keys)}) = ({places}) AND n = 0"


ADD = {table: _add_sql(table) for table in KEYS}
DROP_EMPTY = {table: _drop_sql(table) for table in KEYS}

FACTS = (
    "SELECT id, round_id, department_id, committee_id, qualification_id, unit_id, created_at"
    " FROM cases WHERE id = ANY($1::uuid[])"
)
HISTORY = (
    "SELECT case_id, action, from_state, to_state, outcome, at FROM case_history"
    " WHERE case_id = ANY($1::uuid[]) ORDER BY case_id, id"
)


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
    """(facts, history) of each of these cases, by id."""
    facts = {row["id"]: case_facts(row) for row in await conn.fetch(FACTS, list(case_ids))}
    rows: dict[uuid.UUID, list[HistoryRow]] = {case_id: [] for case_id in facts}
    for row in await conn.fetch(HISTORY, list(case_ids)):
        rows[row["case_id"]].append(history_row(row))
    return {case_id: (facts[case_id], rows[case_id]) for case_id in facts}


async def changes(conn, moves: Iterable[tuple[uuid.UUID, HistoryRow]]) -> Contributions:
    """What these moves change in the sums, read before their history rows are written."""
    new_rows: dict[uuid.UUID, list[HistoryRow]] = {}
    for case_id, row in moves:
        new_rows.setdefault(uuid.UUID(str(case_id)), []).append(row)
    delta: Contributions = {}
    for case_id, (facts, history) in (await histories(conn, list(new_rows))).items():
        before = contributions(facts, history)
        after = contributions(facts, [*history, *new_rows[case_id]])
        add_all(delta, difference(before, after))
    return delta


async def record_opened(conn, case_id: uuid.UUID) -> None:
    """Add a case just opened (a draft without history)."""
    for facts, history in (await histories(conn, [case_id])).values():
        await add(conn, contributions(facts, history))


async def add(conn, delta: Contributions) -> None:
    """Add these amounts to both tables; the rows they empty go."""
    for table, amounts in ((DAILY, delta), (TOTALS, over_all_days(delta))):
        cells = sorted(cell for cell, amount in amounts.items() if amount.n or amount.seconds)
        if not cells:
            continue
        await conn.executemany(ADD[table], [(*c, *amounts[c]) for c in cells])
        emptied = [c for c in cells if amounts[c].n < 0]
        if emptied:  # rows this transaction holds already: deleting them waits for nobody
            await conn.executemany(DROP_EMPTY[table], emptied)


def over_all_days(amounts: Contributions) -> dict[tuple, Amount]:
    """The amounts by the totals' keys: every key of a cell but its day."""
    summed: dict = {}
    for cell, amount in amounts.items():
        add_to(summed, cell[:1] + cell[2:], amount.n, amount.seconds)
    return summed


# --- both tables, from the histories ---

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
    """Compute both tables again from the histories, in the caller's transaction; the cases
    are held still (SHARE lock: moves wait) until it commits. Returns the daily cells."""
    await conn.execute("LOCK TABLE cases IN SHARE MODE")
    sums = await computed(conn)
    for table, amounts in ((DAILY, sums), (TOTALS, over_all_days(sums))):
        await conn.execute(f"DELETE FROM {table}")
        await conn.copy_records_to_table(
            table,
            columns=[*KEYS[table], "n", "seconds"],
            records=[(*c, *a) for c, a in sorted(amounts.items()) if a.n or a.seconds],
        )
    return len(sums)


async def stored(conn, table: str) -> dict[tuple, Amount]:
    """A table as it is, by its keys."""
    keys = KEYS[table]
    rows = await conn.fetch(f"SELECT {', '.join(keys)}, n, seconds FROM {table}")
    return {tuple(row[k] for k in keys): Amount(row["n"], row["seconds"]) for row in rows}

"""Bench data for the statistics: bench._workflow_data's 100,000 cases, each with a whole
history instead of its last move only, loaded with COPY.

    python -m bench._statistics_data --cases 100000 --units 200 [--seed 1]

Every case gets the moves that could have brought it to its state (tests/support/
case_histories.py: returns by the department, rejections, second publicities, objection
notes); closed cases get an outcome each (评审通过 55%, 评委会评审未通过 18%, …) and the
moves that end in it, their row updated to match (outcome, last action, 业务状态, reached_*).
About 600,000 history rows. Then the statistics' summary is built from them, as the cases
migration 014 builds it on an existing database. Same database rules as bench._workflow_data
(its name must contain "bench").
"""

import argparse
import asyncio
import json
import os
import random
import time
from dataclasses import dataclass

import asyncpg

from bench._workflow_data import (
    DEFAULT_DATABASE,
    HISTORY_COLUMNS,
    Generated,
    check_bench_database,
    generate,
)
from services.cases.statistics_store import rebuild
from shared.contracts.cases.vocabulary import CaseState
from tests.support.case_histories import (
    History,
    actor_role,
    history_to,
    post_publicity_failed,
    status_after,
    times,
)


@dataclass
class StatisticsData:
    generated: Generated
    history_rows: int
    seconds: dict[str, float]


CASES = (
    "SELECT id, unit_id, state, needs_pre_approval, created_at, updated_at FROM cases"
    " ORDER BY case_no"
)


def history_rows(row, history: History, rng: random.Random, operator) -> list[tuple]:
    at = times(rng, len(history.moves), row["created_at"], row["updated_at"])
    rows = []
    for i, (move, when) in enumerate(zip(history.moves, at, strict=True)):
        role = actor_role(move.action)
        actor = operator if role.value in ("unit_admin", "unit_operator") else None
        status = status_after(history.moves[: i + 1])
        inputs = json.dumps(move.inputs or {}, ensure_ascii=False)
        outcome = move.outcome.value if move.outcome else None
        rows.append(
            (
                row["id"], move.action, actor, role.value, move.from_state.value,
                move.to_state.value, outcome, status, inputs, None, when,
            )
        )  # fmt: skip
    return rows


async def whole_histories(conn, generated: Generated, seed: int) -> int:
    rng = random.Random(seed)
    operators = {op.unit_id: op.user_id for op in generated.operators}
    rows, closed = [], []
    for case in await conn.fetch(CASES):
        state = CaseState(case["state"])
        history = post_publicity_failed(history_to(rng, state, case["needs_pre_approval"]))
        rows += history_rows(case, history, rng, operators.get(case["unit_id"]))
        if state is CaseState.CLOSED:
            closed.append(_closed_row(case["id"], history))
    await conn.execute("TRUNCATE case_history")
    await conn.copy_records_to_table("case_history", columns=HISTORY_COLUMNS, records=rows)
    await conn.execute(
        "CREATE TEMP TABLE closed_cases (id uuid, outcome text, last_action text,"
        " status_label text, dept boolean, office boolean, committee boolean)"
    )
    await conn.copy_records_to_table("closed_cases", records=closed)
    await conn.execute(
        "UPDATE cases c SET outcome = x.outcome, last_action = x.last_action,"
        " status_label = x.status_label, reached_department = x.dept,"
        " reached_office = x.office, reached_committee = x.committee"
        " FROM closed_cases x WHERE x.id = c.id"
    )
    return len(rows)


def _closed_row(case_id, history: History) -> tuple:
    return (
        case_id,
        history.outcome.value,
        history.last_action,
        history.status_label,
        history.reached(CaseState.DEPT_ACCEPTANCE),
        history.reached(CaseState.OFFICE_APPROVAL),
        history.reached(CaseState.COMMITTEE_REVIEW),
    )


async def load(
    database_url: str, cases: int = 100_000, units: int = 200, seed: int = 1, say=print
) -> StatisticsData:
    generated = await generate(database_url, cases, units, seed, say)
    seconds = {}
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    try:
        started = time.perf_counter()
        count = await whole_histories(conn, generated, seed)
        seconds["histories"] = time.perf_counter() - started
        started = time.perf_counter()
        async with conn.transaction():
            await rebuild(conn)
        seconds["summary"] = time.perf_counter() - started
        for table in ("cases", "case_history", "case_statistics", "case_statistics_totals"):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()
    took = ", ".join(f"{k} {v:.1f}" for k, v in seconds.items())
    say(f"  {count:,} history rows; seconds: {took}")
    return StatisticsData(generated, count, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default=os.environ.get("ZC_DATABASE_URL", DEFAULT_DATABASE))
    args = parser.parse_args()
    check_bench_database(args.database)
    print(f"database {args.database}")
    asyncio.run(load(args.database, args.cases, args.units, args.seed))


if __name__ == "__main__":
    main()

"""Each case says which 已办 lists it has a case_done row in (`cases.done_lists`, the bits of
repository.DONE_LIST_BITS), and the parties' indexes of cases carry it: a 已办 tab filtered
by 超期 is counted from the party's index alone, not by matching its 42,789 已办 rows (a
department's, at a million cases) with its overdue cases (docs/performance.md). The bits of
the rows already there are set from case_done; a move sets its own (SAVE_MOVES)."""

from services.cases.repository import done_bit_sql

INCLUDED = (
    "state_since, applicant_name, case_no, review_type_id, qualification_id, {others},"
    " round_id, done_lists"
)
INDEXES = {
    "cases_unit_list": ("unit_id, state", "department_id, committee_id", ""),
    "cases_department_list": ("department_id, state", "committee_id", " WHERE reached_department"),
    "cases_committee_list": ("committee_id, state", "department_id", " WHERE reached_committee"),
    "cases_office_list": ("state", "department_id, committee_id", " WHERE reached_office"),
}


async def apply(conn) -> None:
    await conn.execute("ALTER TABLE cases ADD COLUMN done_lists integer NOT NULL DEFAULT 0")
    await conn.execute(
        "UPDATE cases c SET done_lists = d.bits"
        f" FROM (SELECT case_id, bit_or({done_bit_sql('list')}) AS bits FROM case_done"
        "       GROUP BY case_id) d"
        " WHERE d.case_id = c.id"
    )
    for name, (keys, others, where) in INDEXES.items():
        await conn.execute(f"DROP INDEX {name}")
        await conn.execute(
            f"CREATE INDEX {name} ON cases ({keys}, updated_at DESC, id)"
            f" INCLUDE ({INCLUDED.format(others=others)}){where}"
        )
    await conn.execute("ANALYZE cases")

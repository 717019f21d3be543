"""Loading reference data into the cases service's tables: rounds, series and their
qualifications, departments, committees and what each reviews, review types.

The data is the caller's (the demo's and the tests' is in tools/demo_data.py). Safe to
load again (existing rows are kept as the sysadmin left them).
"""

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class ReferenceSeed:
    rounds: list[tuple[str, str, date, date]] = field(default_factory=list)  # id, name, dates
    # series id: (name, [(qualification id, name, level), ...])
    series: dict[str, tuple[str, list[tuple[str, str, str]]]] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)  # id: name
    committees: dict[str, tuple[str, str]] = field(default_factory=dict)  # id: (name, dept id)
    committee_qualifications: dict[str, list[str]] = field(default_factory=dict)
    review_types: list[tuple[str, str, bool]] = field(default_factory=list)  # needs pre-approval


async def seed_reference(conn, seed: ReferenceSeed) -> None:
    for round_id, name, opens, closes in seed.rounds:
        await conn.execute(
            "INSERT INTO rounds (id, name, opens_on, closes_on) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING",
            round_id,
            name,
            opens,
            closes,
        )
    for position, (series_id, (name, qualifications)) in enumerate(seed.series.items()):
        await conn.execute(
            "INSERT INTO series VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            series_id,
            name,
            position,
        )
        for rank, (qid, qname, level) in enumerate(qualifications):
            await conn.execute(
                "INSERT INTO qualifications VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                qid,
                series_id,
                qname,
                level,
                rank,
            )
    for dept_id, name in seed.departments.items():
        await conn.execute(
            "INSERT INTO departments VALUES ($1, $2) ON CONFLICT DO NOTHING", dept_id, name
        )
    for committee_id, (name, dept_id) in seed.committees.items():
        await conn.execute(
            "INSERT INTO committees (id, name, department_id) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            committee_id,
            name,
            dept_id,
        )
        for qid in seed.committee_qualifications.get(committee_id, []):
            await conn.execute(
                "INSERT INTO committee_qualifications VALUES ($1, $2) ON CONFLICT DO NOTHING",
                committee_id,
                qid,
            )
    for position, (type_id, name, needs) in enumerate(seed.review_types):
        await conn.execute(
            "INSERT INTO review_types VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            type_id,
            name,
            needs,
            position,
        )

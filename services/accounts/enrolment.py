"""The social-security enrolment registry (社保参保登记): is this person paying at this unit?

`EnrolmentRegistry` is the port registration checks. The default answers from the
si_enrolments table, which `python -m services.accounts.enrolment import FILE.csv` and
`si.enrolment.changed` events fill. A real connection to the social-security system would
be another implementation of the same port.
"""

import argparse
import asyncio
import csv
import sys
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from services.accounts.personal import index, seal
from shared.db import create_pool
from shared.settings import get_settings

CSV_COLUMNS = ("id_number", "si_unit_no", "si_no", "unit_name", "person_name", "active")


@dataclass(frozen=True)
class Enrolment:
    id_number: str
    si_unit_no: str
    si_no: str
    unit_name: str
    person_name: str
    active: bool


class EnrolmentRegistry(Protocol):
    async def find(
        self, conn: asyncpg.Connection, id_number: str, si_unit_no: str
    ) -> Enrolment | None: ...


class TableEnrolmentRegistry:
    async def find(self, conn, id_number: str, si_unit_no: str) -> Enrolment | None:
        row = await conn.fetchrow(
            "SELECT si_unit_no, si_no, unit_name, person_name, active"
            " FROM si_enrolments WHERE id_number_index = $1 AND si_unit_no = $2",
            index(id_number, "id_number"),
            si_unit_no,
        )
        return Enrolment(id_number=id_number, **row) if row else None


async def upsert_enrolment(conn, e: Enrolment, version: int = 0) -> bool:
    """Insert or update one record; an older version never overwrites a newer one."""
    result = await conn.execute(
        """
        INSERT INTO si_enrolments
            (id_number, id_number_index, si_unit_no, si_no, unit_name, person_name, active,
             version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (id_number_index, si_unit_no) DO UPDATE SET
            si_no = EXCLUDED.si_no, unit_name = EXCLUDED.unit_name,
            person_name = EXCLUDED.person_name, active = EXCLUDED.active,
            version = EXCLUDED.version, updated_at = now()
        WHERE si_enrolments.version <= EXCLUDED.version
        """,
        seal(e.id_number, "si_enrolments", "id_number"),
        index(e.id_number, "id_number"),
        e.si_unit_no,
        e.si_no,
        e.unit_name,
        e.person_name,
        e.active,
        version,
    )
    return result.endswith("1")


def parse_csv(lines) -> tuple[list[Enrolment], list[str]]:
    """Rows of a CSV with a header of CSV_COLUMNS; returns records and per-line problems."""
    reader = csv.DictReader(lines)
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [f"表头缺少列：{', '.join(missing)}"]
    records, problems = [], []
    for line_no, row in enumerate(reader, start=2):
        values = {c: (row.get(c) or "").strip() for c in CSV_COLUMNS}
        empty = [c for c in CSV_COLUMNS[:5] if not values[c]]
        if empty:
            problems.append(f"第 {line_no} 行：缺少 {', '.join(empty)}")
            continue
        active = values["active"].lower() not in ("0", "false", "no", "否", "停保")
        values["id_number"] = values["id_number"].upper()
        records.append(Enrolment(**{**values, "active": active}))
    return records, problems


async def import_records(pool: asyncpg.Pool, records: list[Enrolment]) -> int:
    async with pool.acquire() as conn, conn.transaction():
        for record in records:
            await upsert_enrolment(conn, record)
    return len(records)


async def _main(path: str) -> int:
    with open(path, encoding="utf-8-sig", newline="") as handle:  # noqa: ASYNC230 (CLI)
        records, problems = parse_csv(handle)
    settings = get_settings()
    pool = await create_pool(settings.database_url, "accounts")
    try:
        count = await import_records(pool, records)
    finally:
        await pool.close()
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"导入参保记录 {count} 条，跳过 {len(problems)} 行")
    return 1 if problems and not count else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Import social-security enrolments from CSV.")
    parser.add_argument("command", choices=["import"])
    parser.add_argument("path", help=f"UTF-8 CSV with header {','.join(CSV_COLUMNS)}")
    sys.exit(asyncio.run(_main(parser.parse_args().path)))

"""The cases of the two-copies test, written with COPY straight into the schemas of the
running services, as the benches load theirs (bench/_workflow_data.py,
bench/_printing_data.py), so no clock has to be moved in the service processes:

- cases waiting for their unit's approval (审核), which the unit approves in batches;
- cases waiting for the department's 预受理 (accept), each of which sends its applicant an SMS;
- one unit's cases whose 评审（申报）表 is ready to print, with their materials.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from bench._printing_data import BUILT_CASE_COLUMNS, UNIT_NAME, Builder
from bench._workflow_data import (
    CASE_COLUMNS,
    DONE_COLUMNS,
    HISTORY_COLUMNS,
    CaseFactory,
    approval_inputs,
)
from services.cases.domain.model import CaseState
from services.cases.reference_seed import seed_reference
from shared.rpc import Actor
from tools.demo_data import demo_reference
from tools.personal_data import seal_written


@dataclass
class CopiesData:
    unit_operator: Actor  # approves `to_approve`
    to_approve: list[uuid.UUID]
    department: Actor  # accepts `to_accept`
    to_accept: list[uuid.UUID]
    printer: Actor  # the operator of the unit whose forms are printed
    to_print: list[uuid.UUID]

    def approval(self) -> dict:
        return approval_inputs(datetime.now(UTC).date())


async def load(database_url: str, approve: int, accept: int, prints: int) -> CopiesData:
    rng, now = random.Random(), datetime.now(UTC)
    factory = CaseFactory(rng, now, str(now.year))
    factory.choices = factory.choices[:1]  # one department accepts them all
    department_id = factory.choices[0][2]
    approving_unit, accepting_unit, printing_unit = (uuid.uuid4() for _ in range(3))
    rows = [factory.case(approving_unit, CaseState.UNIT_REVIEW) for _ in range(approve)]
    rows += [factory.case(accepting_unit, CaseState.DEPT_ACCEPTANCE) for _ in range(accept)]
    printer = Actor(user_id=uuid.uuid4(), role="unit_operator", unit_id=printing_unit)
    builder = Builder(rng.getrandbits(32), now, printing_unit, printer.user_id)
    builder.serial = len(rows)  # case numbers after the factory's
    to_print = [builder.case(CaseState.FORM_PRINT_READY) for _ in range(prints)]
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    try:
        await seed_reference(conn, demo_reference())
        await _units(conn, [approving_unit, accepting_unit, printing_unit])
        await conn.copy_records_to_table("cases", columns=CASE_COLUMNS, records=rows)
        await _materials(conn, builder)
        await seal_written(conn, "cases")  # the builder's numbers, as the service keeps them
    finally:
        await conn.close()
    return CopiesData(
        Actor(user_id=uuid.uuid4(), role="unit_operator", unit_id=approving_unit),
        [r[0] for r in rows[:approve]],
        Actor(user_id=uuid.uuid4(), role="department", org_id=department_id),
        [r[0] for r in rows[approve:]],
        printer,
        to_print,
    )


async def _units(conn, unit_ids: list[uuid.UUID]) -> None:
    await conn.executemany(
        "INSERT INTO accounts.units (id, org_code, name, si_unit_no, source)"
        " VALUES ($1, $2, $3, $4, 'local')",
        [
            (unit_id, f"COPIES{n}", f"{UNIT_NAME}{n}", f"SI{uuid.uuid4().hex[:8]}")
            for n, unit_id in enumerate(unit_ids)
        ],
    )


async def _materials(conn, builder: Builder) -> None:
    """The printing unit's cases and everything a 评审（申报）表 prints from them."""
    await conn.copy_records_to_table("cases", columns=BUILT_CASE_COLUMNS, records=builder.cases)
    await conn.copy_records_to_table(
        "case_sections",
        columns=["case_id", "section", "data", "updated_at"],
        records=builder.sections,
    )
    await conn.copy_records_to_table(
        "case_attachments",
        columns=["id", "case_id", "category", "file_id", "filename", "content_type",
                 "size_bytes", "checksum", "uploaded_by", "uploaded_at"],
        records=builder.attachments,
    )  # fmt: skip
    await conn.copy_records_to_table(
        "case_history", columns=HISTORY_COLUMNS, records=builder.history
    )
    await conn.copy_records_to_table("case_done", columns=DONE_COLUMNS, records=builder.done)

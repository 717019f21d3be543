"""Certificates for tests that need many of them: a department and committee of a test's own,
and cases written straight into 待日常工作部门确认 with a passed post-publicity, which the
department's 确认办结 (the real workflow) then issues certificates for. The way there is
tested elsewhere, and a walk per certificate would take minutes."""

import uuid
from datetime import datetime

from services.cases.sealed import sealed_section
from tests.support.cases_driver import BASIC

PASSED_POST_PUBLICITY = {
    "start": "2026-06-01",
    "end": "2026-06-05",
    "passed": True,
    "feedback": "无异议",
}
INSERT_CASE = (
    "INSERT INTO cases (id, case_no, unit_id, applicant_id, applicant_name, round_id,"
    " review_type_id, qualification_id, committee_id, department_id, needs_pre_approval, state,"
    " version, last_action, status_label, pre_publicity, post_publicity, reached_department,"
    " reached_committee, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, '2026', 'ptsb',"
    " 'gc-fg', $6, $7, false, 'dept_confirm', 14, 'record_post_publicity_result',"
    " '已填写评后公示意见-->待日常工作部门确认', $8, $8, true, true, $9, $9)"
)


async def new_committee(pool) -> tuple[str, str, str]:
    """A department and a committee under it (of 工程 副高): (department, committee, the
    committee's name). Their certificate serials start at 1."""
    suffix = uuid.uuid4().hex[:8]
    department, committee = f"dept-{suffix}", f"cmte-{suffix}"
    name = f"评委会{suffix}"
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO departments (id, name) VALUES ($1, $2)", department, f"部门{suffix}"
        )
        await conn.execute(
            "INSERT INTO committees (id, name, department_id) VALUES ($1, $2, $3)",
            committee,
            name,
            department,
        )
        await conn.execute("INSERT INTO committee_qualifications VALUES ($1, 'gc-fg')", committee)
    return department, committee, name


async def awaiting_confirmation(
    pool,
    department: str,
    committee: str,
    holders: int | list[tuple[str, str]],
    now: datetime,
) -> list[uuid.UUID]:
    """Cases waiting for the department's 确认办结, one per holder (name, ID number as the
    基本信息 gives them), or `holders` of them named 申报人<n> with BASIC's ID number."""
    if isinstance(holders, int):
        holders = [(f"申报人{n}", BASIC["id_number"]) for n in range(holders)]
    case_ids = [uuid.uuid4() for _ in holders]
    async with pool.acquire() as conn, conn.transaction():
        for case_id, (name, id_number) in zip(case_ids, holders, strict=True):
            await conn.execute(
                INSERT_CASE,
                case_id,
                f"T{case_id.hex[:12]}",
                uuid.uuid4(),
                uuid.uuid4(),
                name,
                committee,
                department,
                PASSED_POST_PUBLICITY,
                now,
            )
            await conn.execute(
                "INSERT INTO case_sections (case_id, section, data, updated_at)"
                " VALUES ($1, 'basic', $2, $3)",
                case_id,
                sealed_section("basic", {"name": name, "id_number": id_number}),
                now,
            )
    return case_ids

"""导出Excel under a normal day's faults, each in the middle of a build of 60,000 rows: the
cases service that builds the file killed (SIGKILL) and started again, its database cut, the
broker cut. Nobody presses anything again: the documents job makes the file again with a new
attempt, and the file it ends with is whole, every row of the list once, and the earlier
attempt's parts are gone."""

import asyncio
import io
import re
import zipfile

import pytest

from tests.faults.conftest import Browser, System
from tests.support.probes import wait_until

ROWS = 60_000  # about two seconds of building here: long enough to cut in the middle
LIST = {"list": "unit:3"}  # 材料审核, where the copies wait
OUTAGE = 2.0

# ROWS copies of one of nsjingban's cases waiting at 材料审核, made by the database (one
# row of the table turned into JSON and back with a new id and number: every column copied).
CLONE = """
INSERT INTO cases.cases
SELECT r.* FROM cases.cases c
CROSS JOIN generate_series(1, $1) g
CROSS JOIN LATERAL jsonb_populate_record(NULL::cases.cases, to_jsonb(c)
    || jsonb_build_object('id', gen_random_uuid(), 'case_no', c.case_no || 'X' || g)) r
WHERE c.id = (SELECT c2.id FROM cases.cases c2 JOIN accounts.users u ON u.unit_id = c2.unit_id
              WHERE u.username = 'nsjingban' AND c2.state = 'unit_review' LIMIT 1)
"""
LISTED = """
SELECT c.case_no FROM cases.cases c JOIN accounts.users u ON u.unit_id = c.unit_id
WHERE u.username = 'nsjingban' AND c.state = 'unit_review'
"""
FIRST_CELL = re.compile(rb"<row><c t=\"inlineStr\"><is><t(?: xml:space=\"preserve\")?>([^<]*)</t>")


@pytest.fixture(scope="module")
def system_env() -> dict[str, str]:
    # A killed owner is given up on after 8 s of silence (it beats every 5 s), and a failed
    # attempt is tried again after 3 s: the outages here last 2 s.
    return {
        "ZC_EXPORT_SILENCE_SECONDS": "8",
        "ZC_EXPORT_RETRY_SECONDS": "3",
        "ZC_EXPORT_MAX_ATTEMPTS": "5",
    }


@pytest.fixture(scope="module")
async def listed(system: System) -> set[str]:
    """The case numbers of the list exported."""
    await system.db.execute(CLONE, ROWS)
    return {row["case_no"] for row in await system.db.fetch(LISTED)}


async def building(unit: Browser) -> str:
    """Start the export; return once its owner has written rows and is still writing."""
    status, job = await unit.api("POST", "/api/exports", {"list": "work", "filters": LIST})
    assert status == 202, job

    async def midway():
        _, state = await unit.api("GET", f"/api/exports/{job['job_id']}")
        assert state["status"] in ("queued", "running"), state  # not done before the cut
        return state["status"] == "running" and state["done"] > 0

    await wait_until(midway, timeout=30, interval=0.02)
    return job["job_id"]


async def made_whole_again(system: System, unit: Browser, job_id: str, listed: set[str]):
    async def ended():
        status, state = await unit.api("GET", f"/api/exports/{job_id}")
        return state if status == 200 and state["status"] not in ("queued", "running") else None

    job = await wait_until(ended, timeout=120, interval=0.5)
    assert job["status"] == "done", job
    attempts = await system.db.fetchval(
        "SELECT attempts FROM documents.export_jobs WHERE id = $1::uuid", job_id
    )
    assert attempts >= 2  # the cut broke the first attempt: the file is a later one's
    kept = await system.db.fetch(
        "SELECT DISTINCT attempt FROM documents.export_parts WHERE job_id = $1::uuid", job_id
    )
    assert [row["attempt"] for row in kept] == [attempts]
    async with unit.http.get(f"/api/exports/{job_id}/file") as response:
        assert response.status == 200
        content = await response.read()
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    numbers = [n.decode() for n in FIRST_CELL.findall(sheet)]  # 业务编号 (the header's
    assert len(numbers) == len(listed) and set(numbers) == listed  # cells are styled)
    audited = await system.db.fetchval(
        "SELECT count(*) FROM documents.audit_log WHERE action = 'export'"
        " AND object_type = 'export' AND object_id = $1",
        job_id,
    )
    assert audited == 1


async def test_an_export_whose_builder_is_killed_midway_is_made_again(system, listed):
    unit = await system.browser("nsjingban")
    try:
        job_id = await building(unit)
        await system.restart("cases")
        await made_whole_again(system, unit, job_id, listed)
    finally:
        await unit.close()


async def test_an_export_cut_off_from_its_database_midway_is_made_again(system, listed):
    unit = await system.browser("nsjingban")
    proxy = system.databases["cases"]
    try:
        job_id = await building(unit)
        await proxy.cut()
        await asyncio.sleep(OUTAGE)
        await proxy.start()
        await made_whole_again(system, unit, job_id, listed)
    finally:
        await proxy.start()
        await unit.close()


async def test_an_export_cut_off_from_the_broker_midway_is_made_again(system, listed):
    unit = await system.browser("nsjingban")
    try:
        job_id = await building(unit)
        await system.broker.cut()
        await asyncio.sleep(OUTAGE)
        await system.broker.start()
        await wait_until(system.ready, timeout=30, interval=0.2)
        await made_whole_again(system, unit, job_id, listed)
    finally:
        await system.broker.start()
        await unit.close()

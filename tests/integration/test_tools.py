"""Command-line tools: demo data, the first sysadmin, the enrolment import."""

import json
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from services.accounts.domain.credentials import verify_password
from services.accounts.personal import unseal
from shared.contracts.cases.materials import missing_parts
from shared.db import database_name, ensure_database
from shared.migrations import migrate_service
from tests.support.plain_numbers import plain_numbers
from tools.demo import UNITS, load_demo, load_reference
from tools.demo_cases import load_demo_cases


@pytest.fixture
async def fresh_settings(settings):
    """Settings pointing at a database of this test's own, dropped afterwards."""
    base = settings.database_url.rsplit("/", 1)[0]
    own = settings.model_copy(update={"database_url": f"{base}/zctool_{uuid.uuid4().hex[:8]}"})
    await ensure_database(own.database_url)
    await migrate_service(own.database_url, "accounts")
    yield own
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'DROP DATABASE "{database_name(own.database_url)}" WITH (FORCE)')
    finally:
        await conn.close()


async def test_setup_with_demo_loads_reference_data_for_the_demo(fresh_settings):
    result = run_tool(fresh_settings, "tools.setup", "--demo")
    assert result.returncode == 0, result.stderr
    assert "demo cases: 18 created" in result.stdout + result.stderr
    conn = await asyncpg.connect(fresh_settings.database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM cases.committees") >= 8
        assert await conn.fetchval("SELECT count(*) FROM cases.rounds WHERE active") >= 1
        # the demo people and their cases, over every step: no number left in the clear
        assert await plain_numbers(conn, ["accounts", "cases", "documents", "notify"]) == []
    finally:
        await conn.close()
    status = run_tool(fresh_settings, "tools.personal_data", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "plain" not in status.stdout and "accounts.users.mobile: dev1" in status.stdout


async def test_demo_accounts_are_created_once_with_working_passwords(fresh_settings):
    created = await load_demo(fresh_settings)
    roles = {role for role, _, _ in created}
    assert roles == {
        "sysadmin",
        "office",
        "department",
        "committee",
        "unit_admin",
        "unit_operator",
        "applicant",
    }
    assert await load_demo(fresh_settings) == []
    conn = await asyncpg.connect(fresh_settings.database_url)
    try:
        for _, username, password in created:
            stored = await conn.fetchval(
                "SELECT password_hash FROM accounts.users WHERE username = $1", username
            )
            assert verify_password(stored, password), username
        # Every account needs a mobile for the second factor: the demo's login codes land in
        # var/sms.log; an older demo database gets them on the next load.
        await conn.execute("UPDATE accounts.users SET mobile = NULL WHERE username = 'dept02'")
        await load_demo(fresh_settings)
        missing = await conn.fetch("SELECT username FROM accounts.users WHERE mobile IS NULL")
        assert [r["username"] for r in missing] == []
        sealed = await conn.fetchval("SELECT mobile FROM accounts.users WHERE username = 'dept02'")
        assert unseal(sealed, "users", "mobile") == "13700000102"
    finally:
        await conn.close()


NANSHAN, FUTIAN = UNITS[0]["name"], UNITS[1]["name"]
DEMO_SPREAD = {
    (NANSHAN, "draft"): 1,  # step 2
    (NANSHAN, "unit_review"): 2,  # step 3
    (NANSHAN, "pre_publicity_ready"): 2,  # step 4
    (NANSHAN, "pre_publicity"): 2,  # step 5, the publicity over
    (NANSHAN, "dept_submit_ready"): 1,  # step 6
    (NANSHAN, "dept_acceptance"): 1,
    (NANSHAN, "office_approval"): 1,
    (NANSHAN, "form_print_ready"): 2,  # step 7
    (NANSHAN, "dept_review"): 1,
    (NANSHAN, "committee_review"): 1,  # step 8
    (NANSHAN, "post_publicity_ready"): 1,  # step 9
    (NANSHAN, "post_publicity"): 1,  # step 10, the publicity over
    (NANSHAN, "closed"): 1,
    (FUTIAN, "draft"): 1,
}


async def test_demo_cases_are_spread_over_the_steps_once(fresh_settings):
    for service in ("cases", "documents", "notify"):
        await migrate_service(fresh_settings.database_url, service)
    await load_reference(fresh_settings)
    await load_demo(fresh_settings)

    assert await load_demo_cases(fresh_settings) == sum(DEMO_SPREAD.values())
    assert await load_demo_cases(fresh_settings) == 0

    conn = await asyncpg.connect(fresh_settings.database_url)
    try:
        rows = await conn.fetch(
            "SELECT u.name, c.state, count(*) AS n, count(DISTINCT c.applicant_id) AS people,"
            " array_agg(c.outcome) AS outcomes FROM cases.cases c"
            " JOIN accounts.units u ON u.id = c.unit_id GROUP BY u.name, c.state"
        )
        # a publicity left open is over: its result can be entered at once
        publicity_ends = await conn.fetch(
            "SELECT CASE state WHEN 'pre_publicity' THEN pre_publicity ->> 'end'"
            " ELSE post_publicity ->> 'end' END::date AS ends FROM cases.cases"
            " WHERE state IN ('pre_publicity', 'post_publicity')"
        )
        unsent = await conn.fetchval("SELECT count(*) FROM cases.outbox WHERE sent_at IS NULL")
        scans = await conn.fetchval(
            "SELECT count(DISTINCT case_id) FROM cases.case_attachments"
            " WHERE file_id IN (SELECT id FROM documents.files)"
        )
        today = await conn.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")
        drafts = {}
        for row in await conn.fetch(
            "SELECT c.applicant_name AS name, s.section, s.data FROM cases.cases c"
            " JOIN cases.case_sections s ON s.case_id = c.id WHERE c.state = 'draft'"
        ):
            drafts.setdefault(row["name"], ({}, set()))[0][row["section"]] = json.loads(row["data"])
        for row in await conn.fetch(
            "SELECT c.applicant_name AS name, a.category FROM cases.cases c"
            " JOIN cases.case_attachments a ON a.case_id = c.id WHERE c.state = 'draft'"
        ):
            drafts[row["name"]][1].add(row["category"])
    finally:
        await conn.close()
    assert {(r["name"], r["state"]): r["n"] for r in rows} == DEMO_SPREAD
    assert all(r["people"] == r["n"] for r in rows)  # each case its own applicant
    assert [r["outcomes"] for r in rows if r["state"] == "closed"] == [["passed"]]
    assert len(publicity_ends) == 3 and all(r["ends"] < today for r in publicity_ends)
    assert unsent == 0  # every event went out on the demo's own broker names
    assert scans == sum(DEMO_SPREAD.values()) - 1  # all but 杨帆's half-filled draft
    assert missing_parts(*drafts["叶菲"]) == []  # ready to submit
    assert len(missing_parts(*drafts["杨帆"])) == 2  # 继续教育 and the scans still to do


def run_tool(settings, *args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    # the test's own database and var folder: never the developer's demo passwords
    env = dict(
        os.environ,
        ZC_DATABASE_URL=settings.database_url,
        ZC_VAR_DIR=str(settings.var_dir),
        PYTHONPATH=".",
        **(extra_env or {}),
    )
    return subprocess.run(
        [sys.executable, "-m", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


async def test_the_first_sysadmin_is_created_from_the_command_line(fresh_settings):
    ok = run_tool(
        fresh_settings,
        "services.accounts.admin",
        "create-sysadmin",
        "rootadmin",
        extra_env={"ZC_SYSADMIN_PASSWORD": "Sys4dmin99"},
    )
    assert ok.returncode == 0, ok.stderr
    again = run_tool(
        fresh_settings,
        "services.accounts.admin",
        "create-sysadmin",
        "rootadmin",
        extra_env={"ZC_SYSADMIN_PASSWORD": "Sys4dmin99"},
    )
    assert again.returncode == 1 and "已存在" in again.stderr
    weak = run_tool(
        fresh_settings,
        "services.accounts.admin",
        "create-sysadmin",
        "rootadmin2",
        extra_env={"ZC_SYSADMIN_PASSWORD": "weak"},
    )
    assert weak.returncode == 2 and "密码长度" in weak.stderr


async def test_enrolments_are_imported_from_csv_with_bad_lines_reported(fresh_settings, tmp_path):
    csv_file = tmp_path / "enrolments.csv"
    csv_file.write_text(
        "id_number,si_unit_no,si_no,unit_name,person_name,active\n"
        "11010519491231002x,4403001,600001,深圳甲公司,张三,1\n"
        ",4403001,600002,深圳甲公司,李四,1\n",
        encoding="utf-8",
    )
    result = run_tool(fresh_settings, "services.accounts.enrolment", "import", str(csv_file))
    assert result.returncode == 0, result.stderr
    assert "导入参保记录 1 条" in result.stdout and "第 3 行" in result.stderr
    conn = await asyncpg.connect(fresh_settings.database_url)
    try:
        row = await conn.fetchrow("SELECT * FROM accounts.si_enrolments")
    finally:
        await conn.close()
    number = unseal(row["id_number"], "si_enrolments", "id_number")
    assert (number, row["person_name"], row["active"]) == (
        "11010519491231002X",
        "张三",
        True,
    )

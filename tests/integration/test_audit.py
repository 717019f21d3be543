"""The audit trail (issue 14, part 1) in the real services: each kind of event writes one
row naming who, from where and in which request, in the transaction of what it records;
concurrent writers keep one chain; tools.audit finds a changed, a deleted and an inserted
row, and its purge keeps what remains verifiable."""

import asyncio
import contextlib
import json
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from services.accounts.app import build_service as build_accounts
from services.accounts.domain.credentials import hash_password
from services.accounts.personal import seal
from services.cases.app import build_service as build_cases
from services.cases.deps import CasesDeps
from services.cases.handlers.workflow import Permit, move_as
from services.cases.reference_seed import seed_reference
from services.cases.repository import MovedCase
from services.documents.app import DocumentsDeps
from services.documents.app import build_service as build_documents
from services.documents.jobs import JobSettings
from services.documents.render.pool import RenderSettings
from shared import audit, correlation
from shared.audit import Entry, record
from shared.audit_chain import verify
from shared.db import create_pool
from shared.migrations import migrate, migration_files
from shared.rpc import Actor, RpcClient, RpcError
from shared.topology import Names
from tests.integration.conftest import WORKFLOW_TODAY
from tests.support.accounts_driver import PASSWORD, AccountsDriver, username
from tests.support.cases_driver import CasesDriver, Unit, approval
from tools.demo_data import demo_reference

ROOT = Path(__file__).resolve().parents[2]
PASSWORD_HASH = hash_password(PASSWORD)
JOB_WAIT = 60.0


@contextlib.contextmanager
def in_request(request_id: str | None = None):
    """Calls made inside carry this request id, as the gateway's would."""
    request_id = request_id or f"audit-{uuid.uuid4().hex[:12]}"
    token = correlation.request_id.set(request_id)
    try:
        yield request_id
    finally:
        correlation.request_id.reset(token)


@dataclass
class World:
    client: RpcClient
    accounts: object
    cases: object
    documents: object
    clock: object
    logins: AccountsDriver

    @property
    def driver(self) -> CasesDriver:
        return CasesDriver(self.client, self.cases, self.clock)

    async def rows(self, service: str, request_id: str) -> list:
        pool = getattr(self, service).pool
        return await pool.fetch(
            "SELECT * FROM audit_log WHERE request_id = $1 ORDER BY seq", request_id
        )

    async def unit(self, address: str = "10.1.2.3") -> Unit:
        """A unit accounts knows, its operator and applicant as the gateway sends them."""
        unit_id, name = uuid.uuid4(), f"深圳市审计{uuid.uuid4().hex[:6]}有限公司"
        await self.accounts.pool.execute(
            "INSERT INTO units (id, org_code, name, si_unit_no, source)"
            " VALUES ($1, $2, $3, '4403000000', 'local')",
            unit_id,
            uuid.uuid4().hex[:9].upper(),
            name,
        )
        people = {"operator": ("unit_operator", "陈经办"), "applicant": ("applicant", "张三")}
        actors = {
            key: Actor(
                user_id=uuid.uuid4(),
                role=role,
                unit_id=unit_id,
                name=person,
                username=username(role[:3]),
                organisation=name,
                client_address=address,
            )
            for key, (role, person) in people.items()
        }
        unit = Unit(unit_id, actors["operator"], actors["applicant"])
        unit.name = name
        return unit

    async def account(self, role: str, unit_id=None, org: tuple | None = None) -> dict:
        person = {"id": uuid.uuid4(), "username": username(role[:3]), "name": "王审计"}
        org_id, org_name = org or (None, None)
        await self.accounts.pool.execute(
            "INSERT INTO users (id, username, password_hash, role, unit_id, org_id, org_name,"
            " name, mobile) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            person["id"],
            person["username"],
            PASSWORD_HASH,
            role,
            unit_id,
            org_id,
            org_name,
            person["name"],
            seal("13800000000", "users", "mobile"),
        )
        return person


@pytest.fixture(scope="module")
async def world(own_settings, accounts_deps):
    accounts = build_accounts(own_settings, accounts_deps)
    cases_deps = CasesDeps()
    cases = build_cases(own_settings, cases_deps)
    documents = build_documents(
        own_settings,
        DocumentsDeps(
            render=RenderSettings(workers=1, time_limit=30, memory_limit_mb=2048),
            jobs=JobSettings(lease_seconds=3, poll_seconds=0.5, retry_seconds=0.5),
        ),
    )
    for part in (accounts, cases, documents):
        await part.start()
    async with cases.pool.acquire() as conn:
        await seed_reference(conn, demo_reference())
    client = RpcClient(own_settings.amqp_url, Names(own_settings).rpc_queue, 30)
    await client.start()
    logins = AccountsDriver(client, accounts, Path(own_settings.var_dir) / "sms.log")
    yield World(client, accounts, cases, documents, cases_deps.clock, logins)
    await client.close()
    for part in (documents, cases, accounts):
        await part.stop()


@pytest.fixture
async def here(world):
    world.clock.offset = WORKFLOW_TODAY - datetime.now(UTC)
    yield world


def actor_of(row) -> dict:
    keys = ("actor_id", "actor_username", "actor_name", "actor_role", "actor_unit_id")
    return {k: row[k] for k in (*keys, "actor_org_name", "client_address")}


def expected_actor(actor: Actor) -> dict:
    return {
        "actor_id": actor.user_id,
        "actor_username": actor.username,
        "actor_name": actor.name,
        "actor_role": actor.role,
        "actor_unit_id": actor.unit_id,
        "actor_org_name": actor.organisation,
        "client_address": actor.client_address,
    }


# --- the workflow -----------------------------------------------------------------------


async def test_a_workflow_action_writes_one_row_with_who_from_where_and_which_request(here):
    unit = await here.unit()
    case_id = await here.driver.submitted(unit)
    with in_request() as request_id:
        await here.driver.act(unit.operator, case_id, "approve", **approval(here.clock.today()))
    [row] = await here.rows("cases", request_id)
    assert (row["action"], row["outcome"], row["code"]) == ("case.approve", "ok", None)
    assert actor_of(row) == expected_actor(unit.operator)
    case = await here.cases.pool.fetchrow("SELECT case_no FROM cases WHERE id = $1", case_id)
    assert (row["object_type"], row["object_id"], row["object_label"]) == (
        "case",
        case_id,
        case["case_no"],
    )
    assert row["case_ids"] == [uuid.UUID(case_id)]
    assert row["details"] == {"from": "unit_review", "to": "pre_publicity_ready"}
    moved_at = await here.cases.pool.fetchval(
        "SELECT at FROM case_history WHERE case_id = $1 AND action = 'approve'", case_id
    )
    assert row["at"] == moved_at  # the same moment: the same transaction


async def test_a_batch_writes_one_row_per_case_moved(here):
    unit = await here.unit()
    case_ids = []
    for _ in range(3):
        case_id = await here.driver.submitted(unit)
        await here.driver.act(unit.operator, case_id, "approve", **approval(here.clock.today()))
        case_ids.append(case_id)
    with in_request() as request_id:
        answer = await here.driver.call(
            "case.batch",
            {"action": "start_pre_publicity", "case_ids": case_ids, "inputs": {}},
            unit.operator,
        )
    assert answer["done"] == 3
    rows = await here.rows("cases", request_id)
    assert sorted(r["object_id"] for r in rows) == sorted(case_ids)
    assert {r["action"] for r in rows} == {"case.start_pre_publicity"}
    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(seqs[0], seqs[0] + 3))  # one write: consecutive in the chain


async def test_a_move_rolled_back_takes_its_audit_row_with_it(here):
    unit = await here.unit()
    case_id = uuid.UUID(await here.driver.submitted(unit))
    permit = Permit.check(unit.operator, "approve")
    inputs = approval(here.clock.today())
    with in_request() as request_id:
        async with here.cases.pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            [outcome] = await move_as(conn, permit, here.clock.now(), [case_id], inputs)
            assert isinstance(outcome, MovedCase)
            seen = await conn.fetchval(
                "SELECT count(*) FROM audit_log WHERE request_id = $1", request_id
            )
            await transaction.rollback()
    assert seen == 1
    assert await here.rows("cases", request_id) == []
    state = await here.cases.pool.fetchval("SELECT state FROM cases WHERE id = $1", case_id)
    assert state == "unit_review"
    assert (await verify_pool(here.cases.pool)).intact  # the head went back too


async def verify_pool(pool):
    async with pool.acquire() as conn:
        return await verify(conn)


async def test_a_case_out_of_reach_is_a_refused_row_and_a_conflict_is_none(here):
    unit, stranger = await here.unit(), await here.unit("192.0.2.66")
    case_id = await here.driver.submitted(unit)
    inputs = approval(here.clock.today())
    with in_request() as request_id, pytest.raises(RpcError) as refused:
        await here.driver.act(stranger.operator, case_id, "approve", **inputs)
    assert refused.value.status == 404
    [row] = await here.rows("cases", request_id)
    assert (row["action"], row["outcome"], row["code"]) == ("case.approve", "refused", "not_found")
    assert actor_of(row) == expected_actor(stranger.operator)
    assert row["object_id"] == case_id and row["object_label"] == ""  # not theirs to see
    await here.driver.act(unit.operator, case_id, "approve", **inputs)
    with in_request() as request_id, pytest.raises(RpcError) as conflict:
        await here.driver.act(unit.operator, case_id, "approve", **inputs)
    assert conflict.value.status == 409
    assert await here.rows("cases", request_id) == []


# --- sign-ins and accounts ----------------------------------------------------------------


async def test_a_sign_in_writes_who_signed_in_from_where_with_the_new_session(here):
    unit = await here.unit()
    person = await here.account("unit_admin", unit.unit_id)
    with in_request() as request_id:
        session = await here.logins.login(person["username"], client_ip="203.0.113.7")
    row, new_address = await here.rows("accounts", request_id)
    assert (row["action"], row["outcome"]) == ("auth.login", "ok")
    assert new_address["action"] == "auth.new_address"  # its first sign-in from anywhere
    assert (row["actor_id"], row["actor_username"], row["actor_role"]) == (
        person["id"],
        person["username"],
        "unit_admin",
    )
    assert (row["actor_name"], row["actor_org_name"]) == (person["name"], unit.name)
    assert row["client_address"] == "203.0.113.7"
    assert str(row["session_id"]) == session["session_id"] == row["object_id"]


async def test_a_sign_in_from_an_address_not_used_lately_writes_auth_new_address(here):
    unit = await here.unit()
    person = await here.account("unit_admin", unit.unit_id)
    await here.logins.login(person["username"], client_ip="203.0.113.8")
    with in_request() as again:
        await here.logins.login(person["username"], client_ip="203.0.113.8")
    assert [r["action"] for r in await here.rows("accounts", again)] == ["auth.login"]
    with in_request() as elsewhere:
        session = await here.logins.login(person["username"], client_ip="198.51.100.23")
    login, new_address = await here.rows("accounts", elsewhere)
    assert (new_address["action"], new_address["outcome"]) == ("auth.new_address", "ok")
    assert new_address["client_address"] == "198.51.100.23"
    assert new_address["actor_id"] == person["id"]
    assert str(new_address["session_id"]) == session["session_id"] == str(login["session_id"])


async def test_a_failed_sign_in_names_the_account_tried_and_the_address_but_no_password(here):
    person = await here.account("department", org=("dept-gcslh", "深圳市工程师联合会"))
    with in_request() as request_id, pytest.raises(RpcError) as wrong:
        await here.logins.login(person["username"], "Wr0ngPassword", client_ip="198.51.100.9")
    assert wrong.value.status == 401
    [row] = await here.rows("accounts", request_id)
    assert (row["action"], row["outcome"], row["code"]) == (
        "auth.login_failed",
        "refused",
        "bad_credentials",
    )
    assert (row["object_type"], row["object_id"], row["object_label"]) == (
        "user",
        str(person["id"]),
        person["username"],
    )
    assert (row["actor_id"], row["actor_role"], row["client_address"]) == (
        None,
        "anonymous",
        "198.51.100.9",
    )
    assert "Wr0ngPassword" not in json.dumps(dict(row), default=str)


async def test_an_unknown_username_is_recorded_as_unknown_not_as_typed(here):
    typed = f"Secret{uuid.uuid4().hex[:6]}"  # a password typed into the username box
    with in_request() as request_id, pytest.raises(RpcError):
        await here.logins.login(typed, client_ip="198.51.100.10")
    [row] = await here.rows("accounts", request_id)
    assert (row["action"], row["code"], row["details"]) == (
        "auth.login_failed",
        "bad_credentials",
        {"known": False},
    )
    assert typed.lower() not in json.dumps(dict(row), default=str).lower()


async def test_account_changes_write_a_row_each_naming_the_account(here):
    unit = await here.unit()
    admin = await here.account("unit_admin", unit.unit_id)
    manager = Actor(
        user_id=admin["id"],
        role="unit_admin",
        unit_id=unit.unit_id,
        name=admin["name"],
        username=admin["username"],
        organisation=unit.name,
        client_address="10.9.8.7",
    )
    steps = []
    fields = {
        "name": "刘一",
        "mobile": "13700000001",
        "email": "",
        "username": username("op"),
        "password": PASSWORD,
    }
    with in_request() as request_id:
        created = await here.logins.call(
            "users.create", {"role": "unit_operator", "fields": fields}, manager
        )
    steps.append((request_id, "account.create", {"role": "unit_operator"}))
    operator = {"role": "unit_operator", "user_id": created["user_id"]}
    changed = {"name": "刘一", "mobile": "13700000002", "email": ""}
    for method, params, action, details in (
        ("users.update", {**operator, "fields": changed}, "account.update", {"fields": ["mobile"]}),
        ("users.set_active", {**operator, "active": False}, "account.disable", {}),
        ("users.set_active", {**operator, "active": True}, "account.enable", {}),
        (
            "users.set_password",
            {**operator, "new_password": "Newpassw0rd", "new_password_confirm": "Newpassw0rd"},
            "account.password_set",
            {},
        ),
    ):
        with in_request() as request_id:
            await here.logins.call(method, params, manager)
        steps.append((request_id, action, details))
    for request_id, action, details in steps:
        [row] = await here.rows("accounts", request_id)
        assert (row["action"], row["object_type"]) == (action, "user"), action
        assert (row["object_id"], row["object_label"]) == (created["user_id"], fields["username"])
        assert row["details"] == details, action
        assert actor_of(row) == expected_actor(manager), action


# --- reads and prints -------------------------------------------------------------------


async def test_staff_opening_a_case_or_a_scan_write_a_row_its_applicant_reading_none(here):
    unit, stranger = await here.unit(), await here.unit("192.0.2.77")
    case_id = await here.driver.submitted(unit)
    scan = (await here.driver.call("case.get", {"case_id": case_id}, unit.operator))["attachments"][
        0
    ]
    with in_request() as opened:
        await here.driver.call("case.get", {"case_id": case_id}, unit.operator)
    [row] = await here.rows("cases", opened)
    assert (row["action"], row["case_ids"]) == ("case.view", [uuid.UUID(case_id)])
    assert actor_of(row) == expected_actor(unit.operator)
    reads = {}
    for who, actor in (("operator", unit.operator), ("applicant", unit.applicant)):
        with in_request() as request_id:
            await here.driver.call("files.read", {"file_id": scan["file_id"]}, actor, "documents")
        reads[who] = await here.rows("documents", request_id)
    [row] = reads["operator"]
    assert (row["action"], row["outcome"], row["object_id"]) == ("file.read", "ok", scan["file_id"])
    assert (row["object_label"], row["case_ids"]) == (scan["filename"], [uuid.UUID(case_id)])
    assert actor_of(row) == expected_actor(unit.operator)
    assert reads["applicant"] == []
    with in_request() as request_id, pytest.raises(RpcError):
        await here.driver.call(
            "files.read", {"file_id": scan["file_id"]}, stranger.operator, "documents"
        )
    [row] = await here.rows("documents", request_id)
    assert (row["outcome"], row["code"], row["client_address"]) == (
        "refused",
        "not_found",
        "192.0.2.77",
    )


async def test_a_print_writes_its_request_and_once_done_the_cases_printed(here):
    unit = await here.unit()
    case_id = await here.driver.submitted(unit)
    await here.driver.act(unit.operator, case_id, "approve", **approval(here.clock.today()))
    with in_request() as request_id:
        job = await here.driver.call(
            "documents.print",
            {"kind": "registration_form", "case_ids": [case_id]},
            unit.operator,
            "documents",
        )
    [asked] = await here.rows("documents", request_id)
    assert (asked["action"], asked["object_id"]) == ("print.request", job["job_id"])
    assert asked["case_ids"] == [uuid.UUID(case_id)]
    assert actor_of(asked) == expected_actor(unit.operator)
    done = await wait_for_job(here, unit.operator, job["job_id"])
    assert done["status"] == "done", done
    [_, printed] = await here.rows("documents", request_id)  # the job carried the request id
    assert (printed["action"], printed["object_id"]) == ("print.done", job["job_id"])
    assert printed["case_ids"] == [uuid.UUID(case_id)]
    assert printed["details"]["document_id"] == done["document_id"]
    assert actor_of(printed) == expected_actor(unit.operator)


async def wait_for_job(world: World, actor: Actor, job_id: str) -> dict:
    for _ in range(int(JOB_WAIT * 10)):
        job = await world.driver.call("documents.job", {"job_id": job_id}, actor, "documents")
        if job["status"] in ("done", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"print job {job_id} not finished")


# --- the chain, on a schema of its own --------------------------------------------------


@dataclass
class Scratch:
    schema: str
    pool: asyncpg.Pool
    database_url: str

    async def write(self, count: int, at: datetime | None = None) -> None:
        actor = Actor(user_id=uuid.uuid4(), role="department", name="赵", client_address="10.0.0.1")
        async with self.pool.acquire() as conn:
            for n in range(count):
                entry = Entry("case.view", "case", uuid.uuid4(), f"2026{n:06d}")
                await record(conn, actor, entry, at=at)

    async def tamper(self, *statements: str) -> None:
        """As the schema's owner would: the append-only trigger off first."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            for statement in statements:
                await conn.execute(statement)
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")

    async def tool(self, *args: str, **env: str) -> tuple[int, str]:
        """python -m tools.audit, as an operator runs it, against this schema."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tools.audit",
            *args,
            self.schema,
            cwd=ROOT,
            env={**os.environ, "ZC_DATABASE_URL": self.database_url, **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode, output.decode()


@pytest.fixture
async def scratch(settings):
    schema = f"audit_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn, schema, migration_files(None))
    finally:
        await conn.close()
    pool = await create_pool(settings.database_url, schema)
    yield Scratch(schema, pool, settings.database_url)
    await pool.close()
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await conn.close()


async def test_writers_at_once_keep_one_chain_without_gaps(scratch):
    async def rolled_back() -> None:
        with contextlib.suppress(RuntimeError):
            async with scratch.pool.acquire() as conn, conn.transaction():
                await record(conn, Actor(), Entry("case.view"))
                raise RuntimeError("the change failed: its row goes too")

    await asyncio.gather(*(scratch.write(10) for _ in range(20)), rolled_back(), rolled_back())
    rows = await scratch.pool.fetch("SELECT * FROM audit_log ORDER BY seq")
    assert [r["seq"] for r in rows] == list(range(1, 201))
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
    assert (await verify_pool(scratch.pool)).intact
    code, output = await scratch.tool("verify")
    assert code == 0 and "intact, 200 rows" in output, output


async def test_the_trail_refuses_update_and_delete_from_our_own_code(scratch):
    await scratch.write(2)
    async with scratch.pool.acquire() as conn:
        for statement in (
            "UPDATE audit_log SET client_address = 'x'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute(statement)
    assert (await verify_pool(scratch.pool)).rows == 2


async def test_verify_names_a_changed_row(scratch):
    await scratch.write(5)
    await scratch.tamper("UPDATE audit_log SET client_address = '6.6.6.6' WHERE seq = 3")
    code, output = await scratch.tool("verify")
    assert code == 1 and "BROKEN at row 3 (changed)" in output, output


async def test_verify_names_a_deleted_row_and_deleted_newest_rows(scratch):
    await scratch.write(5)
    await scratch.tamper("DELETE FROM audit_log WHERE seq = 3")
    code, output = await scratch.tool("verify")
    assert code == 1 and "BROKEN at row 3 (deleted)" in output, output
    await scratch.tamper("DELETE FROM audit_log WHERE seq >= 4")
    code, output = await scratch.tool("verify")
    assert code == 1 and "BROKEN at row 3 (deleted)" in output and "最新" in output, output


async def test_verify_names_an_inserted_row_even_with_its_hash_made_right(scratch):
    await scratch.write(5)
    forged = await forge_row(scratch, after=2)
    await scratch.tamper(
        "UPDATE audit_log SET seq = -seq WHERE seq > 2",
        "UPDATE audit_log SET seq = -seq + 1 WHERE seq < 0",
        f"INSERT INTO audit_log SELECT * FROM jsonb_populate_record(NULL::audit_log, '{forged}')",
        "UPDATE audit_chain SET last_seq = last_seq + 1",
    )
    code, output = await scratch.tool("verify")
    assert code == 1 and "BROKEN at row 3 (inserted)" in output, output


async def test_verify_names_a_row_added_behind_the_chains_back(scratch):
    await scratch.write(3)
    forged = await forge_row(scratch, after=3)
    await scratch.tamper(
        f"INSERT INTO audit_log SELECT * FROM jsonb_populate_record(NULL::audit_log, '{forged}')"
    )
    code, output = await scratch.tool("verify")
    assert code == 1 and "BROKEN at row 4 (inserted)" in output, output


async def forge_row(scratch: Scratch, after: int) -> str:
    """A row linked to row `after` with a hash of its own made right: what someone who knew
    the algorithm could write."""
    previous = await scratch.pool.fetchval("SELECT hash FROM audit_log WHERE seq = $1", after)
    actor = Actor(user_id=uuid.uuid4(), role="department", name="冒名", client_address="6.6.6.6")
    row = audit.new_row(actor, Entry("case.view", "case", uuid.uuid4()), datetime.now(UTC), None)
    [chained] = audit.chain(after, previous, [row])
    return json.dumps(chained, ensure_ascii=False)


# --- keeping and purging ----------------------------------------------------------------


async def test_the_purge_deletes_what_is_past_keeping_and_the_rest_still_verifies(scratch):
    old = datetime.now(UTC) - timedelta(days=200)
    await scratch.write(5, at=old)
    await scratch.write(3)
    code, output = await scratch.tool("purge")
    assert code == 0 and "purged 5 rows" in output and "anchor now 5" in output, output
    rows = await scratch.pool.fetch("SELECT seq, action, details FROM audit_log ORDER BY seq")
    assert [r["seq"] for r in rows] == [6, 7, 8, 9]
    assert rows[-1]["action"] == "audit.purge" and rows[-1]["details"]["rows"] == 5
    await scratch.write(2)  # writing goes on after the anchor
    code, output = await scratch.tool("verify")
    assert code == 0 and "intact, 6 rows after anchor 5" in output, output
    code, output = await scratch.tool("purge")  # nothing more is old enough
    assert code == 0 and "purged 0 rows" in output, output


async def test_the_purge_keeps_at_least_180_days(scratch):
    await scratch.write(2, at=datetime.now(UTC) - timedelta(days=100))
    code, output = await scratch.tool("purge", "--keep-days", "90")
    assert code == 2 and "180" in output, output
    code, output = await scratch.tool("purge", ZC_AUDIT_KEEP_DAYS="30")
    assert code == 2 and "ZC_AUDIT_KEEP_DAYS" in output, output
    code, output = await scratch.tool("purge")
    assert code == 0 and "purged 0 rows" in output, output
    assert await scratch.pool.fetchval("SELECT count(*) FROM audit_log") == 2


async def test_the_purge_refuses_to_delete_rows_that_do_not_verify(scratch):
    await scratch.write(4, at=datetime.now(UTC) - timedelta(days=400))
    await scratch.tamper("UPDATE audit_log SET actor_name = '别人' WHERE seq = 2")
    code, output = await scratch.tool("purge")
    assert code == 1 and "not purged" in output and "row 2" in output, output
    assert await scratch.pool.fetchval("SELECT count(*) FROM audit_log") == 4

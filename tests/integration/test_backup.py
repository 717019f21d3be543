"""Backup and restore as docs/operations.md gives them: `tools/backup.sh dump` of a database
that the demo load filled through the services, `tools/backup.sh restore` into a fresh
database; the copy holds the same rows, its audit trails verify, and the services start on
it."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import asyncpg
import pytest

from shared.settings import Settings
from shared.topology import delete_prefix
from tests.conftest import drop_database

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "tools" / "backup.sh"
SCHEMAS = ("accounts", "cases", "documents", "notify")
READY_WITHIN = 90  # seconds for tools.runall to migrate (nothing to do) and start everything

pytestmark = pytest.mark.timeout(300)


def run(args: list[str], env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def python(module: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", module, *args], env)


def backup(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run(["bash", str(BACKUP), *args], env or {})


@pytest.fixture(scope="module")
def urls(settings) -> dict[str, str]:
    server = settings.database_url.rsplit("/", 1)[0]
    tag = uuid.uuid4().hex[:8]
    return {
        name: f"{server}/zcbackup_{tag}_{name}"
        for name in ("source", "restored", "cases_only", "taken")
    }


@pytest.fixture(scope="module")
async def restored(settings, urls, tmp_path_factory) -> Path:
    """The demo load into `source`, its dump, and the dump restored into `restored`."""
    folder = tmp_path_factory.mktemp("backup")
    loaded = python(
        "tools.setup",
        "--demo",
        env={"ZC_DATABASE_URL": urls["source"], "ZC_VAR_DIR": str(folder / "var")},
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "demo cases: 18 created" in loaded.stdout + loaded.stderr
    dump = folder / "zhicheng.dump"
    dumped = backup("dump", str(dump), env={"ZC_DATABASE_URL": urls["source"]})
    assert dumped.returncode == 0, dumped.stderr
    assert not await asyncio.to_thread(Path(f"{dump}.partial").exists)
    done = backup("restore", str(dump), urls["restored"])
    assert done.returncode == 0, done.stderr
    yield dump
    for url in urls.values():
        await drop_database(url)


async def contents(url: str) -> dict[str, tuple[int, str]]:
    """{schema.table: (rows, md5 of every row in order)} of the services' schemas."""
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY($1::text[])",
            list(SCHEMAS),
        )
        found = {}
        for row in tables:
            name = f'"{row["schemaname"]}"."{row["tablename"]}"'
            found[f"{row['schemaname']}.{row['tablename']}"] = tuple(
                await conn.fetchrow(
                    f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text),"
                    f" '')) FROM {name} t"
                )
            )
        return found
    finally:
        await conn.close()


async def first_rows(url: str, table: str, order: str, count: int = 3) -> list[dict]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(f"SELECT * FROM {table} ORDER BY {order} LIMIT {count}")
        return [dict(row) for row in rows]
    finally:
        await conn.close()


async def sequences(url: str) -> dict[str, int | None]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT schemaname || '.' || sequencename AS name, last_value FROM pg_sequences"
            " WHERE schemaname = ANY($1::text[])",
            list(SCHEMAS),
        )
        return {row["name"]: row["last_value"] for row in rows}
    finally:
        await conn.close()


async def test_the_restored_database_holds_every_row_of_every_schema(restored, urls):
    source, copy = await contents(urls["source"]), await contents(urls["restored"])
    assert copy == source
    for schema in SCHEMAS:
        assert any(name.startswith(f"{schema}.") for name in source), schema
    assert source["accounts.users"][0] >= 10
    assert source["cases.cases"][0] == 18
    assert source["cases.audit_log"][0] > 0
    assert await sequences(urls["restored"]) == await sequences(urls["source"])


@pytest.mark.parametrize(
    ("table", "order"),
    [
        ("accounts.users", "username"),
        ("accounts.units", "id"),
        ("cases.cases", "id"),
        ("cases.case_history", "id"),
        ("documents.schema_migrations", "name"),
        ("notify.deliveries", "id"),
    ],
)
async def test_a_few_rows_of_each_schema_are_the_same_field_by_field(restored, urls, table, order):
    rows = await first_rows(urls["source"], table, order)
    assert rows or table == "notify.deliveries"  # the demo's cases are dated back: no SMS
    assert await first_rows(urls["restored"], table, order) == rows


async def test_the_audit_trails_verify_on_the_restored_database(restored, urls):
    result = python("tools.audit", "verify", env={"ZC_DATABASE_URL": urls["restored"]})
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == list(SCHEMAS)
    assert result.stdout.count(": intact,") == len(SCHEMAS)


async def test_the_restored_database_needs_no_migration(restored, urls):
    result = python("tools.migrate", env={"ZC_DATABASE_URL": urls["restored"]})
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(": up to date") == len(SCHEMAS), result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


async def test_the_services_start_on_the_restored_database(restored, urls, settings, tmp_path):
    own = Settings(broker_prefix=f"{settings.broker_prefix}-restored-{uuid.uuid4().hex[:4]}")
    url = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ZC_DATABASE_URL": urls["restored"],
        "ZC_BROKER_PREFIX": own.broker_prefix,
        "ZC_GATEWAY_PORT": url.rsplit(":", 1)[1],
        "ZC_VAR_DIR": str(tmp_path),
        "ZC_METRICS_PORT": "0",  # no fixed port that a `make up` beside the tests holds
    }
    log = tmp_path / "runall.log"
    with log.open("w") as output:
        runall = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tools.runall",
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + READY_WITHIN
        while not await asyncio.to_thread(ready, url) and time.monotonic() < deadline:
            assert runall.returncode is None, log.read_text()[-3000:]
            await asyncio.sleep(0.5)
        assert await asyncio.to_thread(ready, url), log.read_text()[-3000:]
    finally:
        runall.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(runall.wait(), 30)
        except TimeoutError:
            runall.kill()
            await runall.wait()
        await delete_prefix(own)
    assert "applied migrations" not in log.read_text()


async def test_one_schema_alone_restores_into_a_fresh_database(restored, urls, tmp_path):
    dump = tmp_path / "cases.dump"
    dumped = backup("dump", str(dump), "cases", env={"ZC_DATABASE_URL": urls["source"]})
    assert dumped.returncode == 0, dumped.stderr
    done = backup("restore", str(dump), urls["cases_only"])
    assert done.returncode == 0, done.stderr
    source = {k: v for k, v in (await contents(urls["source"])).items() if k.startswith("cases.")}
    assert await contents(urls["cases_only"]) == source


async def test_a_restore_into_a_database_that_holds_tables_is_refused(restored, urls):
    before = await contents(urls["restored"])
    again = backup("restore", str(restored), urls["restored"])
    assert again.returncode == 1
    assert "already holds" in again.stderr and "restore into a fresh one" in again.stderr
    assert await contents(urls["restored"]) == before


async def test_a_file_that_is_not_a_backup_is_refused_before_anything_is_made(urls, tmp_path):
    junk = tmp_path / "junk.dump"
    junk.write_text("not a dump")
    refused = backup("restore", str(junk), urls["taken"])
    assert refused.returncode == 1
    assert "is not a pg_dump custom-format archive" in refused.stderr
    conn = await asyncpg.connect(urls["taken"].rsplit("/", 1)[0] + "/postgres")
    try:
        name = urls["taken"].rsplit("/", 1)[1]
        assert await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) is None
    finally:
        await conn.close()

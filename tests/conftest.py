"""Test settings: a database and broker names of their own, so tests run beside `make up`.

Each run gets a fresh database (zhicheng_test_<run>) and drops it at the end: lists and
counts in one run never meet cases left by another.
"""

import faulthandler
import os
import uuid

import asyncpg
import pytest

from shared.correlation import install_log_field
from shared.db import database_name, ensure_database
from shared.settings import Settings
from shared.topology import delete_prefix

EXIT_GRACE = 60  # seconds the run may take to exit once the tests are done
# An xdist worker done with its tests waits, before it exits, for the controller to end the
# run: until the other worker's last test is over (at most its 120 s timeout). With 60 s, a
# worker that finished first was killed by the dump below while the other ran a long fault test.
WORKER_EXIT_GRACE = 300

install_log_field()  # as the processes' setup_logging does: records carry their request id


def pytest_unconfigure(config):
    # A thread that never ends (an executor's thread stuck on a pipe, say) keeps the run
    # from exiting, and CI would wait for hours: show every thread's stack and fail instead.
    worker = hasattr(config, "workerinput")
    faulthandler.dump_traceback_later(WORKER_EXIT_GRACE if worker else EXIT_GRACE, exit=True)


def _test_settings() -> Settings:
    database_url = os.environ.get(
        "ZC_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/zhicheng_test"
    )
    if not database_url.rstrip("/").endswith("_test"):
        database_url = database_url.rsplit("/", 1)[0] + "/zhicheng_test"
    run = uuid.uuid4().hex[:6]
    prefix = os.environ.get("ZC_BROKER_PREFIX", "zctest")
    return Settings(
        database_url=f"{database_url}_{run}",
        broker_prefix=f"{prefix}-{run}",
        rpc_timeout=2.0,
        ready_timeout=1.0,
        max_deliveries=3,
        event_retry_delays=[0.05, 0.1, 0.2],
        outbox_poll_interval=0.5,
        rpc_check_results=True,  # every answer of every service against its contract
        var_dir=_var_dir(),
    )


def _var_dir() -> str:
    """Under pytest-xdist each worker writes its SMS log and rendered files apart."""
    var_dir = os.environ.get("ZC_VAR_DIR", "var/test")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{var_dir}/{worker}" if worker else var_dir


@pytest.fixture(scope="session")
async def settings():
    settings = _test_settings()
    await ensure_database(settings.database_url)
    yield settings
    await delete_prefix(settings)
    await drop_database(settings.database_url)


async def drop_database(database_url: str) -> None:
    conn = await asyncpg.connect(database_url.rsplit("/", 1)[0] + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database_name(database_url)}" WITH (FORCE)')
    finally:
        await conn.close()

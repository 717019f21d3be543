"""Test settings: a database and broker names of their own, so tests run beside `make up`."""

import os
import uuid

import pytest

from shared.db import ensure_database
from shared.settings import Settings
from shared.topology import delete_prefix


def _test_settings() -> Settings:
    database_url = os.environ.get(
        "ZC_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/zhicheng_test"
    )
    if not database_url.rstrip("/").endswith("_test"):
        database_url = database_url.rsplit("/", 1)[0] + "/zhicheng_test"
    prefix = os.environ.get("ZC_BROKER_PREFIX", "zctest")
    return Settings(
        database_url=database_url,
        broker_prefix=f"{prefix}-{uuid.uuid4().hex[:6]}",
        rpc_timeout=2.0,
        ready_timeout=1.0,
        max_deliveries=3,
        outbox_poll_interval=0.5,
        var_dir=os.environ.get("ZC_VAR_DIR", "var/test"),
    )


@pytest.fixture(scope="session")
async def settings():
    settings = _test_settings()
    await ensure_database(settings.database_url)
    yield settings
    await delete_prefix(settings)

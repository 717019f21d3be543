"""Integration fixtures: services in this event loop, on broker names of their own."""

import uuid

import pytest

from services.accounts.app import build_service as build_accounts
from services.accounts.deps import AccountsDeps
from services.notify.app import build_service as build_notify
from services.notify.dev_provider import DevSmsProvider
from shared.rpc import RpcClient
from shared.topology import Names
from tests.support.accounts_driver import CAPTCHA, AccountsDriver


@pytest.fixture(scope="module")
async def own_settings(settings, tmp_path_factory):
    """Settings whose broker names no other running test service shares."""
    return settings.model_copy(
        update={
            "broker_prefix": f"{settings.broker_prefix}-{uuid.uuid4().hex[:4]}",
            "var_dir": str(tmp_path_factory.mktemp("var")),
        }
    )


@pytest.fixture(scope="module")
async def accounts_deps():
    return AccountsDeps(captcha_text=lambda: CAPTCHA)


@pytest.fixture(scope="module")
async def identity(own_settings, accounts_deps):
    """accounts + notify + the development SMS provider, and a driver to call them."""
    accounts = build_accounts(own_settings, accounts_deps)
    notify = build_notify(own_settings)
    provider = DevSmsProvider(own_settings)
    for part in (notify, provider, accounts):
        await part.start()
    client = RpcClient(own_settings.amqp_url, Names(own_settings).rpc_queue, 10)
    await client.start()
    yield AccountsDriver(client, accounts, provider.log_path)
    await client.close()
    await accounts.stop()
    await provider.close()
    await notify.stop()


@pytest.fixture
async def accounts(identity, accounts_deps):
    accounts_deps.clock.offset = accounts_deps.clock.offset * 0
    yield identity
    accounts_deps.clock.offset = accounts_deps.clock.offset * 0

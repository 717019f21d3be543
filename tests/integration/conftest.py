"""Integration fixtures: services in this event loop, on broker names of their own."""

import contextlib
import uuid
from datetime import UTC, datetime

import pytest

from services.accounts.app import build_service as build_accounts
from services.accounts.deps import AccountsDeps
from services.accounts.settings import AccountsSettings
from services.cases.app import build_service as build_cases
from services.cases.deps import CasesDeps
from services.cases.reference_seed import seed_reference
from services.documents.app import build_service as build_documents
from services.documents.signing import ensure_development_keys
from services.notify.app import NotifyDeps
from services.notify.app import build_service as build_notify
from services.notify.dev_provider import DevSmsProvider
from shared.db import ensure_database
from shared.rpc import RpcClient
from shared.topology import Names, delete_prefix
from tests.conftest import drop_database
from tests.support.accounts_driver import CAPTCHA, AccountsDriver
from tests.support.cases_driver import CasesDriver
from tests.support.rate_limits import out_of_reach
from tests.support.tcp_proxy import proxy_for
from tools.demo_data import demo_reference


@pytest.fixture(scope="module")
async def own_settings(settings, tmp_path_factory):
    """Settings whose broker names no other running test service shares."""
    own = settings.model_copy(
        update={
            "broker_prefix": f"{settings.broker_prefix}-{uuid.uuid4().hex[:4]}",
            "var_dir": str(tmp_path_factory.mktemp("var")),
        }
    )
    yield own
    await delete_prefix(own)


@pytest.fixture(scope="module")
async def own_database(own_settings):
    """own_settings with a database of this module's own too: counts see only its rows."""
    url = f"{own_settings.database_url}_{uuid.uuid4().hex[:6]}"
    await ensure_database(url)
    yield own_settings.model_copy(update={"database_url": url})
    await drop_database(url)


@pytest.fixture(scope="module")
async def accounts_deps():
    # Reviewers sign in with their password alone unless a test asks for the second factor.
    return AccountsDeps(
        settings=AccountsSettings(second_factor=False),
        captcha_text=lambda: CAPTCHA,
        rate_limits=out_of_reach(),
    )


@pytest.fixture
def second_factor(accounts_deps):
    """Reviewers confirm their sign-in with an SMS code during the test."""
    accounts_deps.settings.second_factor = True
    yield accounts_deps.settings
    accounts_deps.settings.second_factor = False


@pytest.fixture(scope="module")
async def identity(own_settings, accounts_deps):
    """accounts + notify + the development SMS provider, and a driver to call them."""
    accounts = build_accounts(own_settings, accounts_deps)
    # One clock for the system: a test that moves accounts' time (to 08:00 of today, say)
    # moves notify's too, or notify would find every code already expired.
    notify = build_notify(own_settings, NotifyDeps(clock=accounts_deps.clock))
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


# --- the case workflow -------------------------------------------------------------------

WORKFLOW_TODAY = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # inside the seeded 2026 round


@pytest.fixture(scope="module")
async def workflow(own_settings):
    """cases + documents + notify + the SMS provider, a client, and a driver."""
    ensure_development_keys(own_settings.var_dir)  # a passed case's certificate gets signed
    cases_deps = CasesDeps()
    cases = build_cases(own_settings, cases_deps)
    documents = build_documents(own_settings)
    notify = build_notify(own_settings)
    provider = DevSmsProvider(own_settings)
    for part in (cases, documents, notify, provider):
        await part.start()
    async with cases.pool.acquire() as conn:
        await seed_reference(conn, demo_reference())
    client = RpcClient(own_settings.amqp_url, Names(own_settings).rpc_queue, 10)
    await client.start()
    yield CasesDriver(client, cases, cases_deps.clock)
    await client.close()
    for part in (provider, notify, documents, cases):
        await (part.close() if part is provider else part.stop())


@contextlib.asynccontextmanager
async def cases_alone(settings):
    """The cases service alone, with the demo's reference data: (service, client, deps)."""
    deps = CasesDeps()
    cases = build_cases(settings, deps)
    await cases.start()
    async with cases.pool.acquire() as conn:
        await seed_reference(conn, demo_reference())
    client = RpcClient(settings.amqp_url, Names(settings).rpc_queue, 10)
    await client.start()
    try:
        yield cases, client, deps
    finally:
        await client.close()
        await cases.stop()


@pytest.fixture
async def driver(workflow):
    workflow.clock.offset = WORKFLOW_TODAY - datetime.now(UTC)
    yield workflow


@pytest.fixture
async def broker_proxy(settings):
    """A TCP proxy to the broker that a test can cut, blackhole and restore."""
    proxy = proxy_for(settings.amqp_url, 5672)
    await proxy.start()
    yield proxy
    await proxy.close()

"""The whole system in the test's event loop: four services and the gateway on a free port."""

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from gateway.app import create_app
from services.accounts.app import build_service as accounts
from services.cases.app import build_service as cases
from services.documents.app import build_service as documents
from services.notify.app import build_service as notify


@pytest.fixture(scope="session")
async def services(settings):
    started = {}
    for build in (accounts, cases, documents, notify):
        service = build(settings)
        await service.start()
        started[service.name] = service
    yield started
    for service in started.values():
        await service.stop()


@pytest.fixture(scope="session")
async def gateway(settings, services):
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def http(gateway):
    async with aiohttp.ClientSession(base_url=str(gateway.make_url(""))) as session:
        yield session

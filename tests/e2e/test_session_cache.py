"""Sessions answered from each gateway copy's cache (gateway/sessions.py): accounts is asked
once, not on every request, and revocation is no weaker: a logout at one copy, a disabled
operator, a password change are refused by every copy within a second, and a copy that lost
its broker connection (so may have missed those events) trusts nothing it cached before."""

import asyncio
import time
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client import REGISTRY

from gateway.app import create_app
from gateway.keys import rpc_key, session_cache_key
from tests.e2e.identity_helpers import NEW_PASSWORD, PASSWORD, Client
from tests.e2e.people import new_unit, signed_in
from tests.support.tcp_proxy import TcpProxy

REVOKED_WITHIN = 1.0  # seconds: the bound for every copy


@asynccontextmanager
async def gateway_copy(settings):
    """Another gateway process's worth: its own app, cache and broker subscription."""
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        await until(lambda: app[session_cache_key].listening, "the copy subscribed")
        yield server
    finally:
        await server.close()


async def until(condition, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        await asyncio.sleep(0.01)


async def me_status(server: TestServer, token: str) -> int:
    async with aiohttp.ClientSession(headers={"Cookie": f"zc_session={token}"}) as http:
        async with http.get(server.make_url("/api/me")) as response:
            return response.status


async def refused_within(servers, token: str) -> float:
    """Seconds until every copy answers 401 for the token (polled every 10 ms)."""
    started = time.monotonic()
    waiting = list(servers)
    while waiting:
        assert time.monotonic() - started < REVOKED_WITHIN, f"still accepted at {waiting}"
        waiting = [s for s in waiting if await me_status(s, token) != 401]
        if waiting:
            await asyncio.sleep(0.01)
    return time.monotonic() - started


def checks(answer: str) -> float:
    return REGISTRY.get_sample_value("zc_gateway_session_checks_total", {"answer": answer}) or 0


@pytest.fixture
def session_lookups(services):
    """How many times accounts was asked who a session belongs to (its real handler, counted)."""
    methods = services["accounts"].rpc.methods
    model, resolve = methods["auth.session"]
    calls = []

    async def counted(params, ctx):
        calls.append(params.token)
        return await resolve(params, ctx)

    methods["auth.session"] = (model, counted)
    yield calls
    methods["auth.session"] = (model, resolve)


async def operator_of_new_unit(gateway, services):
    """A unit admin and one of the unit's operators, each signed in at the test's gateway."""
    unit_id = await new_unit(services)
    admin = await signed_in(gateway, services, "unit_admin", unit_id=unit_id, name="管理员")
    operator = await signed_in(gateway, services, "unit_operator", unit_id=unit_id, name="经办")
    return admin, operator


async def test_a_copy_asks_accounts_once_then_answers_from_its_cache(
    gateway, services, session_lookups
):
    admin, operator = await operator_of_new_unit(gateway, services)
    token = operator.session_cookie()
    try:
        gateway.app[session_cache_key].forget_token(token)  # the login's redirect cached it
        session_lookups.clear()
        before = {a: checks(a) for a in ("cache", "accounts")}
        for _ in range(20):
            assert await me_status(gateway, token) == 200
        assert session_lookups.count(token) == 1
        # what the gateway's /metrics says of it (zc_gateway_session_checks)
        assert checks("accounts") - before["accounts"] == 1
        assert checks("cache") - before["cache"] == 19
    finally:
        await admin.close()
        await operator.close()


async def test_a_logout_at_one_copy_is_refused_by_every_copy_within_a_second(
    settings, gateway, services
):
    admin, operator = await operator_of_new_unit(gateway, services)
    token = operator.session_cookie()
    async with gateway_copy(settings) as other:
        for server in (gateway, other):  # both cached it
            assert await me_status(server, token) == 200
        status, _ = await operator.api("DELETE", "/api/session")
        assert status == 200
        assert await refused_within([gateway, other], token) < REVOKED_WITHIN
    await admin.close()
    await operator.close()


async def test_a_disabled_operator_and_a_changed_password_are_refused_everywhere(
    settings, gateway, services
):
    admin, operator = await operator_of_new_unit(gateway, services)
    unit_id = await new_unit(services)
    second = await signed_in(gateway, services, "applicant", unit_id=unit_id)
    async with gateway_copy(settings) as other:
        token = operator.session_cookie()
        for server in (gateway, other):
            assert await me_status(server, token) == 200
        path = f"/api/operators/{operator.person['id']}/status"
        status, body = await admin.api("POST", path, {"active": False})
        assert status == 200, body
        assert await refused_within([gateway, other], token) < REVOKED_WITHIN

        # A password changed in one browser ends the person's sessions in the others.
        elsewhere = await signed_in_again(gateway, second)
        old_token = second.session_cookie()
        for server in (gateway, other):
            assert await me_status(server, old_token) == 200
        status, body = await elsewhere.api(
            "POST",
            "/api/me/password",
            {
                "old_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            },
        )
        assert status == 200, body
        assert await refused_within([gateway, other], old_token) < REVOKED_WITHIN
        assert await me_status(other, elsewhere.session_cookie()) == 200
        await elsewhere.close()
    for client in (admin, operator, second):
        await client.close()


async def signed_in_again(gateway, client):
    """The same person in a second browser."""
    again = Client(str(gateway.make_url("")))
    status, _, where = await again.login(client.person["username"])
    assert status == 200 and where != "/login"
    again.person = client.person
    return again


async def test_a_copy_cut_from_the_broker_trusts_nothing_it_cached(settings, gateway, services):
    """The copy behind the proxy misses the logout's event while cut: once back, it must not
    answer the ended session from what it cached before."""
    admin, operator = await operator_of_new_unit(gateway, services)
    token = operator.session_cookie()
    host, port = settings.amqp_url.rsplit("@", 1)[1].split("/")[0].split(":")
    proxy = TcpProxy(host, int(port))
    await proxy.start()
    amqp_url = settings.amqp_url.replace(f"{host}:{port}", f"127.0.0.1:{proxy.port}")
    try:
        async with gateway_copy(settings.model_copy(update={"amqp_url": amqp_url})) as cut_off:
            cache = cut_off.app[session_cache_key]
            assert await me_status(cut_off, token) == 200
            assert len(cache) == 1

            await proxy.cut()
            await until(lambda: not cache.listening, "the copy noticed the lost connection")
            assert len(cache) == 0
            status, _ = await operator.api("DELETE", "/api/session")  # at the other copy
            assert status == 200
            # accounts is out of reach too: the copy says so rather than answer from memory
            assert await me_status(cut_off, token) == 503

            await proxy.start()
            await until(lambda: cache.listening, "the copy subscribed again")
            await until(lambda: cut_off.app[rpc_key].connected, "its RPC client reconnected")
            assert await refused_within([cut_off], token) < REVOKED_WITHIN
    finally:
        await proxy.close()
        await admin.close()
        await operator.close()

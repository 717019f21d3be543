"""Rate limits and lockout through two copies of the gateway (issue 19).

Both copies trust 127.0.0.1 as their reverse proxy, so each test client names its own
address in X-Forwarded-For, as clients behind a real proxy would be seen.
"""

import itertools

import pytest
from aiohttp.test_utils import TestServer

from gateway.app import create_app
from shared.rate_limit import RateLimiter, RateLimitSettings
from tests.e2e.identity_helpers import PASSWORD, Client, register_admin, text_of
from tests.e2e.test_identity_api import api_login

ADDRESSES = (f"203.0.113.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
async def copies(settings, services):
    behind_proxy = settings.model_copy(update={"trusted_proxies": "127.0.0.1"})
    servers = [TestServer(create_app(behind_proxy), host="127.0.0.1") for _ in range(2)]
    for server in servers:
        await server.start_server()
    yield servers
    for server in servers:
        await server.close()


@pytest.fixture
async def clients(copies):
    made = []

    def at(copy: int, address: str) -> Client:
        url = str(copies[copy].make_url(""))
        made.append(Client(url, headers={"X-Forwarded-For": address}))
        return made[-1]

    yield at
    for client in made:
        await client.close()


@pytest.fixture
def accounts_limits(services):
    """The accounts service's limits, lowered for one test and put back after."""
    deps = services["accounts"].rpc.deps
    kept = deps.rate_limits

    def lower(**limits: str) -> None:
        deps.rate_limits = RateLimiter(RateLimitSettings(rate_limits=limits))

    yield lower
    deps.rate_limits = kept


async def test_the_captcha_limit_is_one_count_across_both_copies(clients, accounts_limits):
    accounts_limits(captcha="10/600")
    address = next(ADDRESSES)
    one, other = clients(0, address), clients(1, address)
    for n in range(10):
        status, body = await (one if n % 2 else other).api("POST", "/api/captcha")
        assert status == 200, body

    async with one.http.post("/api/captcha", headers={"X-CSRF-Token": await one.csrf()}) as r:
        body, retry_after = await r.json(), r.headers.get("Retry-After")
    assert r.status == 429 and body["error"]["code"] == "too_many_requests"
    assert body["error"]["message"].startswith("获取图片验证码过于频繁，请 ")
    # Refused hits count too, so the wait may run into the next window: at most two windows.
    assert retry_after is not None and 1 <= int(retry_after) <= 1200
    async with other.http.get("/login") as page:  # the login page needs a captcha too
        assert page.status == 429 and page.headers["Retry-After"]
        assert "获取图片验证码过于频繁" in text_of(await page.text())
    # Another address is not affected.
    status, _ = await clients(1, next(ADDRESSES)).api("POST", "/api/captcha")
    assert status == 200


async def test_login_attempts_per_address_are_counted_across_both_copies(clients, accounts_limits):
    accounts_limits(login="6/600")
    address = next(ADDRESSES)
    for n in range(6):  # six different usernames: the per-account pause is not what stops it
        status, _ = await api_login(clients(n % 2, address), f"nobody{n}", "Wrong0pass")
        assert status == 401
    status, body = await api_login(clients(0, address), "nobody9", "Wrong0pass")
    assert status == 429 and body["error"]["message"].startswith("登录尝试过于频繁")


async def test_password_reset_attempts_per_address_are_limited(clients, accounts_limits):
    accounts_limits(password_reset="3/3600")
    address = next(ADDRESSES)
    attempt = {"username": "someone", "mobile": "13800000000", "sms_code": "123456"}
    attempt |= {"new_password": "Passw0rd9", "new_password_confirm": "Passw0rd9"}
    for n in range(3):
        status, _ = await clients(n % 2, address).api("POST", "/api/password-reset", attempt)
        assert status == 422
    client = clients(1, address)
    async with client.http.post(
        "/api/password-reset", json=attempt, headers={"X-CSRF-Token": await client.csrf()}
    ) as r:
        body = await r.json()
    assert r.status == 429 and int(r.headers["Retry-After"]) > 60
    assert body["error"]["message"].startswith("找回密码尝试过于频繁，请 ")


async def test_a_strangers_fifty_wrong_passwords_do_not_keep_the_owner_out(
    clients, services, sms_outbox
):
    owner_at, stranger_at = next(ADDRESSES), next(ADDRESSES)
    owner = clients(0, owner_at)
    form = await register_admin(owner, services, sms_outbox)
    name = form["username"]
    statuses = []
    for n in range(50):
        status, _ = await api_login(clients(n % 2, stranger_at), name, "Wrong0pass")
        statuses.append(status)
    assert statuses[:4] == [401] * 4 and set(statuses[4:]) == {429}

    status, body = await api_login(owner, name)  # from the office, through the other copy
    assert status == 200 and body["user"]["username"] == name
    status, body = await api_login(clients(1, stranger_at), name, PASSWORD)
    assert status == 429 and body["error"]["code"] == "login_paused"


async def test_a_hundred_failures_in_an_hour_lock_new_addresses_and_tell_the_owner(
    clients, services, sms_outbox
):
    usual = next(ADDRESSES)
    owner = clients(0, usual)
    form = await register_admin(owner, services, sms_outbox)
    name = form["username"]
    assert (await api_login(owner, name))[0] == 200  # the office is a usual address

    statuses = []
    for _ in range(25):  # 25 addresses, 4 wrong each: none is paused
        stranger = next(ADDRESSES)
        for n in range(4):
            statuses.append((await api_login(clients(n % 2, stranger), name, "Wrong0pass"))[0])
    assert statuses[:99] == [401] * 99 and statuses[99] == 423

    newcomer = clients(1, next(ADDRESSES))
    status, body = await api_login(newcomer, name)  # the right password, a new address
    assert status == 423 and body["error"]["code"] == "account_locked"
    status, page, _ = await clients(0, next(ADDRESSES)).login(name, PASSWORD)
    assert status == 423 and "已暂停在新的网络上登录" in text_of(page)

    status, body = await api_login(clients(1, usual), name)  # the owner, at the office
    assert status == 200

    sms = await sms_from(sms_outbox, form["mobile"], "登录失败 100 次")
    assert name in sms and "您常用的网络仍可登录" in sms


async def sms_from(outbox, mobile: str, containing: str) -> str:
    import json

    from tests.support.probes import wait_until

    def find():
        for line in reversed(outbox.read_text(encoding="utf-8").splitlines()):
            sms = json.loads(line)
            if sms["mobile"] == mobile and containing in sms["body"]:
                return sms["body"]
        return None

    return await wait_until(find, timeout=15)

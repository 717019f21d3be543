"""One's own sessions and mobile through the JSON API, with every service running for real."""

import pytest

from tests.e2e.identity_helpers import PASSWORD, Client, mobile, sms_code
from tests.e2e.people import new_unit, signed_in
from tests.support.probes import wait_until

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def operator(gateway, services):
    client = await signed_in(gateway, services, "unit_operator", unit_id=await new_unit(services))
    yield client
    await client.close()


async def elsewhere(new_client, person: Client) -> Client:
    other = new_client()
    await other.login(person.person["username"])
    assert (await other.api("GET", "/api/me"))[0] == 200
    return other


def async_status_is(client: Client, path: str, status: int):
    async def check() -> bool:
        return (await client.api("GET", path))[0] == status

    return check


async def sessions(client: Client) -> list[dict]:
    status, body = await client.api("GET", "/api/me/sessions")
    assert status == 200, body
    return body["items"]


async def test_the_sessions_are_listed_and_another_one_is_ended_by_its_id(operator, new_client):
    other = await elsewhere(new_client, operator)
    items = await sessions(operator)
    assert [item["current"] for item in items] == [True, False]
    assert {"id", "created_at", "last_seen_at", "client_ip", "browser"} <= set(items[0])
    assert "token" not in str(items)
    other_id = items[1]["id"]

    assert await operator.api("DELETE", f"/api/me/sessions/{other_id}") == (200, {"ended": 1})

    # every gateway copy drops it from its cache within a second (gateway/sessions.py)
    await wait_until(async_status_is(other, "/api/me", 401), timeout=1.0, interval=0.01)
    status, body = await operator.api("DELETE", f"/api/me/sessions/{other_id}")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await operator.api("DELETE", f"/api/me/sessions/{items[0]['id']}")
    assert status == 409  # this one: DELETE /api/session logs out
    assert (await operator.api("GET", "/api/me"))[0] == 200


async def test_a_session_of_someone_else_answers_as_if_there_were_none(operator, gateway, services):
    stranger = await signed_in(gateway, services, "unit_operator", unit_id=await new_unit(services))
    try:
        theirs = (await sessions(stranger))[0]["id"]
        for target in (theirs, MISSING):
            status, body = await operator.api("DELETE", f"/api/me/sessions/{target}")
            assert (status, body["error"]["message"]) == (404, "该登录设备不存在或已退出")
        assert (await stranger.api("GET", "/api/me"))[0] == 200
    finally:
        await stranger.close()


async def test_ending_the_others_keeps_this_session(operator, new_client):
    others = [await elsewhere(new_client, operator) for _ in range(2)]
    answer = await operator.api("POST", "/api/me/sessions/end-others")
    assert answer == (200, {"ended": 2})
    assert [(await other.api("GET", "/api/me"))[0] for other in others] == [401, 401]
    assert [item["current"] for item in await sessions(operator)] == [True]


async def test_without_a_session_the_account_api_answers_401(new_client):
    anonymous = new_client()
    for method, path in (
        ("GET", "/api/me/sessions"),
        ("POST", "/api/me/sessions/end-others"),
        ("DELETE", f"/api/me/sessions/{MISSING}"),
        ("POST", "/api/me/mobile"),
    ):
        status, body = await anonymous.api(method, path, {} if method == "POST" else None)
        assert (status, body["error"]["code"]) == (401, "unauthenticated"), path


async def test_the_mobile_changes_with_the_password_and_the_code_sent_to_it(
    operator, new_client, sms_outbox
):
    other = await elsewhere(new_client, operator)
    new = mobile()
    ask = {"mobile": new, "purpose": "change_mobile"}
    assert (await new_client().api("POST", "/api/sms-codes", ask))[0] == 401  # not signed in
    assert (await operator.api("POST", "/api/sms-codes", ask))[0] == 200
    code = await sms_code(sms_outbox, new, "change_mobile")

    wrong = {"password": "Wrong0pass", "mobile": new, "sms_code": code}
    status, body = await operator.api("POST", "/api/me/mobile", wrong)
    assert (status, body["error"]["fields"]) == (422, {"password": "当前密码错误"})
    right = wrong | {"password": PASSWORD}
    assert await operator.api("POST", "/api/me/mobile", right) == (200, {"mobile": new})

    assert (await operator.api("GET", "/api/me"))[1]["mobile"] == new
    assert (await other.api("GET", "/api/me"))[0] == 401

"""Reviewers' second factor through the gateway: the JSON API's 202 and confirm, the login
pages' code step, and common passwords refused wherever a password is chosen."""

import re
from datetime import timedelta

import pytest

from tests.e2e.identity_helpers import (
    CAPTCHA,
    PASSWORD,
    Client,
    field_error,
    hidden_value,
    registration_form,
    sms_code,
    text_of,
)
from tests.e2e.people import new_unit, new_user

pytestmark = pytest.mark.usefixtures("second_factor")

DEPARTMENT = {"org_id": "dept-gcslh", "org_name": "深圳市工程师联合会"}


async def api_login(client: Client, name: str) -> tuple[int, dict]:
    body = {
        "username": name,
        "password": PASSWORD,
        "captcha_id": await client.captcha_id(),
        "captcha_answer": CAPTCHA,
    }
    return await client.api("POST", "/api/session", body)


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_the_api_answers_202_and_opens_the_session_only_for_the_code(
    services, new_client, sms_outbox
):
    person = await new_user(services, "department", **DEPARTMENT)
    client = new_client()

    status, body = await api_login(client, person["username"])

    assert status == 202
    step = body["second_factor"]
    assert step["mobile"] == person["mobile"][:3] + "****" + person["mobile"][-4:]
    assert client.session_cookie() is None
    assert (await client.api("GET", "/api/me"))[0] == 401
    code = await sms_code(sms_outbox, person["mobile"], "login")

    confirm = {"challenge_id": step["challenge_id"], "sms_code": other_code(code)}
    status, refused = await client.api("POST", "/api/session/confirm", confirm)
    assert status == 422 and "验证码错误" in refused["error"]["fields"]["sms_code"]
    assert client.session_cookie() is None

    status, body = await client.api("POST", "/api/session/confirm", confirm | {"sms_code": code})
    assert status == 200 and body["user"]["username"] == person["username"]
    assert client.session_cookie()
    assert (await client.api("GET", "/api/me"))[1]["username"] == person["username"]


async def test_the_login_page_asks_for_the_code_and_then_signs_in(services, new_client, sms_outbox):
    person = await new_user(services, "department", **DEPARTMENT)
    client = new_client()

    status, page, where = await client.login(person["username"])

    assert (status, where) == (200, "/login")
    assert "登录验证" in page and "重新获取" in page
    assert person["mobile"][:3] + "****" + person["mobile"][-4:] in text_of(page)
    assert client.session_cookie() is None
    assert (await client.page("/home"))[2] == "/login"
    challenge_id = hidden_value(page, "challenge_id")
    code = await sms_code(sms_outbox, person["mobile"], "login")

    form = {"challenge_id": challenge_id, "sms_code": other_code(code)}
    status, page, _ = await client.submit("/login/code", form)
    assert status == 422 and "验证码错误" in field_error(page, "sms_code")

    status, _, where = await client.submit("/login/code", form | {"sms_code": code})
    assert (status, where) == (200, "/home")
    assert client.session_cookie()


async def test_a_reviewer_without_a_mobile_is_told_on_the_login_form_to_ask_the_sysadmin(
    services, new_client
):
    person = await new_user(services, "office", org_id="office-zjc", org_name="专技处")
    await services["accounts"].pool.execute(
        "UPDATE users SET mobile = NULL WHERE id = $1", person["id"]
    )
    client = new_client()
    status, page, where = await client.login(person["username"])
    assert (status, where) == (403, "/login")
    assert "请联系系统管理员登记手机号码" in text_of(page)
    assert client.session_cookie() is None


async def test_an_expired_challenge_signs_nobody_in(services, new_client, sms_outbox):
    person = await new_user(services, "committee", org_id="cmte-qg-gj", org_name="轻工高评委")
    client = new_client()
    _, body = await api_login(client, person["username"])
    code = await sms_code(sms_outbox, person["mobile"], "login")
    clock = services["accounts"].rpc.deps.clock
    clock.offset += timedelta(minutes=11)
    try:
        confirm = {"challenge_id": body["second_factor"]["challenge_id"], "sms_code": code}
        status, refused = await client.api("POST", "/api/session/confirm", confirm)
    finally:
        clock.offset -= timedelta(minutes=11)
    assert status == 401 and refused["error"]["code"] == "login_challenge_over"
    assert client.session_cookie() is None


async def test_an_unknown_or_spent_challenge_signs_nobody_in(new_client):
    client = new_client()
    body = {"challenge_id": "00000000-0000-4000-8000-000000000000", "sms_code": "123456"}
    status, refused = await client.api("POST", "/api/session/confirm", body)
    assert status == 401 and refused["error"]["code"] == "login_challenge_over"
    assert client.session_cookie() is None


async def test_a_units_person_still_signs_in_with_the_password(services, new_client):
    person = await new_user(services, "unit_admin", unit_id=await new_unit(services))
    status, _ = await api_login(new_client(), person["username"])
    assert status == 200


async def test_a_common_password_is_refused_on_the_field(services, new_client):
    person = await new_user(services, "unit_admin", unit_id=await new_unit(services))
    client = new_client()
    await client.login(person["username"])
    change = {
        "old_password": PASSWORD,
        "new_password": "Woaini1314",
        "new_password_confirm": "Woaini1314",
    }
    status, body = await client.api("POST", "/api/me/password", change)
    assert status == 422
    assert "过于常见" in body["error"]["fields"]["new_password"]

    form = registration_form(password="Qq123456", password_confirm="Qq123456")
    status, body = await new_client().api("POST", "/api/units", form)
    assert status == 422 and "过于常见" in body["error"]["fields"]["password"]


async def test_the_openapi_document_describes_the_code_step(http):
    async with http.get("/api/openapi.json") as response:
        paths = (await response.json())["paths"]
    assert "202" in paths["/api/session"]["post"]["responses"]
    assert re.search("SMS code", paths["/api/session/confirm"]["post"]["summary"])
    assert "/api/session/code" in paths

"""The pages of one's own account over HTTP: 登录设备 and 修改手机号码."""

import re

import pytest

from shared.masks import mask_mobile
from tests.e2e.identity_helpers import (
    PASSWORD,
    Client,
    field_error,
    hidden_value,
    mobile,
    sms_code,
    text_of,
)
from tests.e2e.people import new_unit, signed_in
from tests.support.probes import wait_until


@pytest.fixture
async def person(gateway, services):
    """An applicant, signed in."""
    client = await signed_in(gateway, services, "applicant", unit_id=await new_unit(services))
    yield client
    await client.close()


async def same_person_elsewhere(new_client, person: Client) -> Client:
    other = new_client()
    _, _, where = await other.login(person.person["username"])
    assert where == "/home"
    return other


async def session_ids(client: Client) -> dict[bool, list[str]]:
    """The ids of the client's sessions: {True: [this one], False: [the others]}."""
    status, body = await client.api("GET", "/api/me/sessions")
    assert status == 200, body
    ids: dict[bool, list[str]] = {True: [], False: []}
    for item in body["items"]:
        ids[item["current"]].append(item["id"])
    return ids


def end_forms(page: str) -> list[str]:
    return re.findall(r'action="/account/sessions/([0-9a-f-]{36})/end"', page)


ROLES = {
    "applicant": "unit",
    "unit_admin": "unit",
    "unit_operator": "unit",
    "department": "org",
    "office": "org",
    "committee": "org",
    "sysadmin": None,
}


@pytest.mark.parametrize("role", ROLES)
async def test_every_signed_in_role_reaches_its_devices_from_the_header(gateway, services, role):
    kwargs = {}
    if ROLES[role] == "unit":
        kwargs["unit_id"] = await new_unit(services)
    elif ROLES[role] == "org":
        kwargs |= {"org_id": f"{role}-devices", "org_name": "某机构"}
    client = await signed_in(gateway, services, role, **kwargs)
    try:
        _, home, _ = await client.page("/home")
        assert 'href="/account/sessions">登录设备</a>' in home
        assert 'href="/account/mobile">修改手机号码</a>' in home
        status, page, _ = await client.page("/account/sessions")
        assert status == 200 and "当前设备" in page and end_forms(page) == []
    finally:
        await client.close()


async def test_the_devices_page_lists_the_other_session_and_ends_it(person, new_client):
    other = await same_person_elsewhere(new_client, person)
    ids = await session_ids(person)

    _, page, _ = await person.page("/account/sessions")

    text = text_of(page)
    assert "登录时间" in text and "最近活动" in text and "127.0.0.1" in text
    assert text.count("当前设备") == 1 and "退出其他设备" in text
    assert end_forms(page) == ids[False]
    status, page, where = await person.submit(f"/account/sessions/{ids[False][0]}/end", {})
    assert (status, where) == (200, "/account/sessions")
    assert "已退出该设备上的登录" in page and end_forms(page) == []
    assert (await other.page("/home"))[2] == "/login"
    assert (await person.page("/home"))[2] == "/home"


async def test_ending_the_other_devices_keeps_this_one(person, new_client):
    others = [await same_person_elsewhere(new_client, person) for _ in range(2)]

    _, page, where = await person.submit("/account/sessions/end-others", {})

    assert where == "/account/sessions" and "已退出其他 2 个设备上的登录" in page
    assert [(await other.page("/home"))[2] for other in others] == ["/login", "/login"]
    assert (await person.page("/home"))[2] == "/home"
    _, page, _ = await person.submit("/account/sessions/end-others", {})
    assert "没有其他设备在登录" in page


async def test_someone_elses_session_cannot_be_ended_from_the_page(
    person, gateway, services, new_client
):
    stranger = await signed_in(gateway, services, "applicant", unit_id=await new_unit(services))
    try:
        theirs = (await session_ids(stranger))[True][0]
        _, page, where = await person.submit(f"/account/sessions/{theirs}/end", {})
        assert where == "/account/sessions" and "该登录设备不存在或已退出" in page
        assert (await stranger.page("/home"))[2] == "/home"
    finally:
        await stranger.close()


async def test_the_account_pages_ask_for_a_login_first(new_client):
    anonymous = new_client()
    for path in ("/account/sessions", "/account/mobile"):
        assert (await anonymous.page(path))[2] == "/login"


# --- 修改手机号码 ---


async def test_the_mobile_changes_with_the_password_and_the_code_without_javascript(
    person, new_client, sms_outbox
):
    other = await same_person_elsewhere(new_client, person)
    new = mobile()
    _, page, _ = await person.page("/account/mobile")
    assert mask_mobile(person.person["mobile"]) in page

    _, page, _ = await person.submit("/account/mobile", {"mobile": new, "action": "send_code"})
    assert "验证码已发送" in page
    code = await sms_code(sms_outbox, new, "change_mobile")
    form = {"password": PASSWORD, "mobile": new, "sms_code": code}
    status, page, where = await person.submit("/account/mobile", form)

    assert (status, where) == (200, "/home")
    assert f"手机号码已修改为 {new}，您在其他设备上的登录均已退出" in page
    assert (await person.api("GET", "/api/me"))[1]["mobile"] == new
    assert (await other.page("/home"))[2] == "/login"


async def test_a_wrong_current_password_is_shown_beside_it(person):
    form = {"password": "Wrong0pass", "mobile": mobile(), "sms_code": "123456"}
    status, page, _ = await person.submit("/account/mobile", form)
    assert status == 422
    assert field_error(page, "password") == "当前密码错误"
    assert hidden_value(page, "_csrf")  # the form is there again, with what was typed
    assert form["mobile"] in page


async def test_an_account_without_a_mobile_is_told_whom_to_ask(person, services):
    await services["accounts"].pool.execute(
        "UPDATE users SET mobile = NULL WHERE id = $1", person.person["id"]
    )

    async def home_without_the_link() -> str | None:
        _, home, _ = await person.page("/home")
        return home if "修改手机号码</a>" not in home else None

    # the gateway learns of the change from accounts.sessions.changed (gateway/sessions.py)
    home = await wait_until(home_without_the_link, timeout=1.0, interval=0.01)
    _, page, _ = await person.page("/account/mobile")
    assert "修改手机号码</a>" not in home
    assert "您的账户未登记手机号码" in page and 'name="sms_code"' not in page

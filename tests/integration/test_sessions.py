"""Sessions a person controls (登录设备), the sessions a password or mobile change ends, the
re-authentication a mobile change asks for, and the absolute lifetime of a session."""

from datetime import timedelta

import pytest

from shared.contracts.accounts.events import SESSIONS_CHANGED, SessionsChanged
from shared.envelope import Envelope
from shared.rpc import Actor, RpcError
from tests.support.accounts_driver import PASSWORD, mobile

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.6099.130 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "N3wPassword"


async def alive(accounts, session: dict) -> bool:
    try:
        await accounts.call("auth.session", {"token": session["token"]})
    except RpcError as error:
        assert error.status == 401
        return False
    return True


async def listed(accounts, session: dict) -> list[dict]:
    answer = await accounts.call("sessions.list", actor=accounts.session_actor(session))
    return answer["items"]


# --- 登录设备 ---------------------------------------------------------------------------


async def test_the_list_shows_the_active_sessions_with_this_one_first_and_marked(accounts):
    form, _ = await accounts.register()
    here = await accounts.login(form["username"], user_agent=CHROME, client_ip="203.0.113.7")
    phone = await accounts.login(form["username"], user_agent=IPHONE, client_ip="198.51.100.2")
    gone = await accounts.login(form["username"])
    await accounts.call("auth.logout", {"token": gone["token"]})

    items = await listed(accounts, here)

    assert [item["id"] for item in items] == [here["session_id"], phone["session_id"]]
    assert [item["current"] for item in items] == [True, False]
    assert items[0]["browser"] == "Chrome 120 / Windows"
    assert items[0]["client_ip"] == "203.0.113.7"
    assert (items[1]["browser"], items[1]["user_agent"]) == ("Safari 17 / iOS 17", IPHONE)
    assert items[0]["created_at"] <= items[0]["last_seen_at"] < items[0]["expires_at"]


async def test_a_session_left_idle_is_no_longer_listed(accounts, accounts_deps):
    form, _ = await accounts.register()
    here, idle = await accounts.login(form["username"]), await accounts.login(form["username"])
    accounts_deps.clock.offset += timedelta(minutes=20)
    assert await alive(accounts, here)  # used: its last activity moves on
    accounts_deps.clock.offset += timedelta(minutes=15)

    assert [item["id"] for item in await listed(accounts, here)] == [here["session_id"]]
    assert not await alive(accounts, idle)


async def test_a_person_ends_another_session_of_theirs_and_only_that_one(accounts):
    form, _ = await accounts.register()
    here, other = await accounts.login(form["username"]), await accounts.login(form["username"])
    actor = accounts.session_actor(here)

    answer = await accounts.call("sessions.end", {"session_id": other["session_id"]}, actor)

    assert answer == {"ended": 1}
    assert not await alive(accounts, other)
    assert await alive(accounts, here)
    with pytest.raises(RpcError) as again:
        await accounts.call("sessions.end", {"session_id": other["session_id"]}, actor)
    assert again.value.status == 404


async def test_someone_elses_session_is_not_there_for_anyone_else(accounts):
    first, _ = await accounts.register()
    second, _ = await accounts.register()
    mine = await accounts.login(first["username"])
    theirs = await accounts.login(second["username"])

    with pytest.raises(RpcError) as refused:
        await accounts.call(
            "sessions.end", {"session_id": theirs["session_id"]}, accounts.session_actor(mine)
        )

    assert (refused.value.status, refused.value.message) == (404, "该登录设备不存在或已退出")
    assert await alive(accounts, theirs)
    assert theirs["session_id"] not in {item["id"] for item in await listed(accounts, mine)}


async def test_this_session_is_ended_by_logging_out_not_by_its_id(accounts):
    form, _ = await accounts.register()
    here = await accounts.login(form["username"])
    with pytest.raises(RpcError) as refused:
        await accounts.call(
            "sessions.end", {"session_id": here["session_id"]}, accounts.session_actor(here)
        )
    assert refused.value.status == 409
    assert await alive(accounts, here)


async def test_ending_the_others_keeps_this_one(accounts):
    form, _ = await accounts.register()
    here = await accounts.login(form["username"])
    others = [await accounts.login(form["username"]) for _ in range(2)]

    answer = await accounts.call("sessions.end_others", actor=accounts.session_actor(here))

    assert answer == {"ended": 2}
    assert [await alive(accounts, session) for session in others] == [False, False]
    assert await alive(accounts, here)
    assert [item["current"] for item in await listed(accounts, here)] == [True]


async def test_without_a_session_nothing_is_listed_or_ended(accounts):
    for method, params in (
        ("sessions.list", None),
        ("sessions.end_others", None),
        ("sessions.end", {"session_id": "00000000-0000-0000-0000-000000000000"}),
    ):
        with pytest.raises(RpcError) as refused:
            await accounts.call(method, params, actor=Actor())
        assert refused.value.status == 401, method


# --- what a password change ends --------------------------------------------------------


async def test_changing_the_password_ends_the_other_sessions_but_not_this_one(accounts):
    form, _ = await accounts.register()
    here, other = await accounts.login(form["username"]), await accounts.login(form["username"])
    change = {
        "old_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    }

    await accounts.call("auth.change_password", change, actor=accounts.session_actor(here))

    assert not await alive(accounts, other)
    assert await alive(accounts, here)
    assert await accounts.login(form["username"], NEW_PASSWORD)


async def test_a_managers_reset_ends_every_session_of_that_person(accounts):
    _, admin = await accounts.new_unit_admin()
    person = await accounts.new_person(admin)
    sessions = [await accounts.login(person["username"]) for _ in range(2)]
    reset = {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}

    await accounts.call(
        "users.set_password", {"role": "applicant", "user_id": person["id"], **reset}, admin
    )

    assert [await alive(accounts, session) for session in sessions] == [False, False]


# --- 修改手机号码: re-authentication ------------------------------------------------------


async def code_for(accounts, actor: Actor, to: str) -> str:
    await accounts.call("sms.request_code", {"mobile": to, "purpose": "change_mobile"}, actor)
    return await accounts._code_when_delivered(to)


def change(code: str, to: str, password: str = PASSWORD) -> dict:
    return {"password": password, "mobile": to, "sms_code": code}


async def test_a_mobile_changes_with_the_password_and_the_code_sent_to_the_new_one(accounts):
    form, _ = await accounts.register()
    here, other = await accounts.login(form["username"]), await accounts.login(form["username"])
    actor, new = accounts.session_actor(here), mobile()

    code = await code_for(accounts, actor, new)
    answer = await accounts.call("auth.change_mobile", change(code, new), actor)

    assert answer == {"mobile": new}
    assert (await accounts.call("users.me", actor=actor))["mobile"] == new
    assert not await alive(accounts, other)
    assert await alive(accounts, here)


async def test_a_wrong_password_is_refused_and_costs_the_code_no_try(accounts):
    form, _ = await accounts.register()
    actor, new = accounts.session_actor(await accounts.login(form["username"])), mobile()
    code = await code_for(accounts, actor, new)

    with pytest.raises(RpcError) as refused:
        await accounts.call("auth.change_mobile", change(code, new, "Wrong0pass"), actor)

    assert (refused.value.status, refused.value.fields) == (422, {"password": "当前密码错误"})
    assert (await accounts.call("users.me", actor=actor))["mobile"] == form["mobile"]
    assert await accounts.call("auth.change_mobile", change(code, new), actor) == {"mobile": new}


async def test_a_wrong_or_missing_code_is_refused(accounts):
    form, _ = await accounts.register()
    actor, new = accounts.session_actor(await accounts.login(form["username"])), mobile()
    with pytest.raises(RpcError) as unasked:
        await accounts.call("auth.change_mobile", change("123456", new), actor)
    assert unasked.value.fields == {"sms_code": "请先获取验证码，或重新获取"}
    code = await code_for(accounts, actor, new)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    with pytest.raises(RpcError) as missing:
        await accounts.call("auth.change_mobile", change("", new), actor)
    with pytest.raises(RpcError) as mistyped:
        await accounts.call("auth.change_mobile", change(wrong, new), actor)

    assert missing.value.fields == {"sms_code": "请填写短信验证码"}
    assert mistyped.value.fields == {"sms_code": "验证码错误，还可尝试 4 次"}
    assert (await accounts.call("users.me", actor=actor))["mobile"] == form["mobile"]


async def test_a_code_sent_to_another_mobile_does_not_change_to_this_one(accounts):
    form, _ = await accounts.register()
    actor = accounts.session_actor(await accounts.login(form["username"]))
    asked, typed = mobile(), mobile()
    code = await code_for(accounts, actor, asked)
    with pytest.raises(RpcError) as refused:
        await accounts.call("auth.change_mobile", change(code, typed), actor)
    assert refused.value.fields == {"sms_code": "请先获取验证码，或重新获取"}


async def test_a_change_mobile_code_goes_only_to_a_signed_in_person_and_a_new_number(accounts):
    form, _ = await accounts.register()
    actor = accounts.session_actor(await accounts.login(form["username"]))
    ask = {"mobile": mobile(), "purpose": "change_mobile"}
    with pytest.raises(RpcError) as anonymous:
        await accounts.call("sms.request_code", ask, actor=Actor())
    with pytest.raises(RpcError) as same:
        await accounts.call("sms.request_code", ask | {"mobile": form["mobile"]}, actor)
    assert anonymous.value.status == 401
    assert same.value.fields == {"mobile": "新手机号码与当前手机号码相同"}


async def test_an_account_without_a_mobile_or_whose_mobile_another_system_keeps_is_told_so(
    accounts,
):
    from services.accounts.handlers.reviewers import create_sysadmin

    user_id = await create_sysadmin(accounts.service.pool, f"s{mobile()}", PASSWORD, "系统管理员")
    sysadmin = Actor(user_id=user_id, role="sysadmin")
    form, registered = await accounts.register()
    await accounts.service.pool.execute(
        "UPDATE units SET source = 'talent' WHERE id = $1", registered["unit_id"]
    )
    talent_admin = accounts.session_actor(await accounts.login(form["username"]))

    for actor, message in (
        (sysadmin, "您的账户未登记手机号码，请联系管理员登记"),
        (talent_admin, "您的手机号码由人才引进系统管理，请在该系统中修改"),
    ):
        with pytest.raises(RpcError) as refused:
            await accounts.call("auth.change_mobile", change("123456", mobile()), actor)
        assert (refused.value.status, refused.value.message) == (409, message)


# --- the absolute lifetime ----------------------------------------------------------------


async def test_a_session_in_use_every_few_minutes_still_ends_at_twelve_hours(
    accounts, accounts_deps
):
    form, _ = await accounts.register()
    session = await accounts.login(form["username"])
    for _ in range(71):  # 11 h 50 min, used every ten minutes
        accounts_deps.clock.offset += timedelta(minutes=10)
        assert await alive(accounts, session)
    accounts_deps.clock.offset += timedelta(minutes=10)
    assert not await alive(accounts, session)


# --- accounts.sessions.changed: what the gateways' session caches drop (gateway/sessions.py)


async def changes_since(pool, seq: int) -> list[dict]:
    rows = await pool.fetch(
        "SELECT envelope FROM outbox WHERE seq > $1 AND routing_key = $2 ORDER BY seq",
        seq,
        SESSIONS_CHANGED.type,
    )
    envelopes = [Envelope.model_validate(r["envelope"]) for r in rows]
    return [SessionsChanged.model_validate(e.payload).model_dump() for e in envelopes]


async def test_what_ends_or_alters_a_session_is_told_and_what_does_not_is_not(
    accounts, accounts_deps
):
    pool = accounts.service.pool
    form, _ = await accounts.register()
    session = await accounts.login(form["username"])
    user_id = session["user"]["id"]
    seq = await pool.fetchval("SELECT coalesce(max(seq), 0) FROM outbox")

    # a session in use: last_seen moves, nothing is told
    accounts_deps.clock.offset += timedelta(minutes=5)
    await accounts.call("auth.session", {"token": session["token"]})
    assert await pool.fetchval("SELECT last_seen_at FROM sessions WHERE user_id = $1", user_id)
    assert await changes_since(pool, seq) == []

    await accounts.call("auth.logout", {"token": session["token"]})
    assert await changes_since(pool, seq) == [{"user_ids": [user_id], "unit_ids": []}]

    # by hand, as an operator might: a unit disabled in psql is told too
    seq = await pool.fetchval("SELECT max(seq) FROM outbox")
    unit_id = session["user"]["unit_id"]
    await pool.execute("UPDATE units SET active = false WHERE id = $1", unit_id)
    await pool.execute("UPDATE units SET active = false WHERE id = $1", unit_id)  # no change
    assert await changes_since(pool, seq) == [{"user_ids": [], "unit_ids": [unit_id]}]

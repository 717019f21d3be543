"""The accounts service over RPC, with notify and the development SMS provider for real."""

import io
from datetime import timedelta

import openpyxl
import pytest

from shared.envelope import new_event
from shared.rpc import Actor, RpcError
from tests.support.accounts_driver import (
    PASSWORD,
    id_number,
    mobile,
    org_code,
    uscc,
    username,
)
from tests.support.probes import publish_raw, wait_until

# --- registration ----------------------------------------------------------------------


async def test_an_enrolled_admin_registers_the_unit_with_the_code_sent_by_sms(accounts):
    form, result = await accounts.register()
    assert result["username"] == form["username"]
    assert result["unit_name"] == "深圳市测试科技有限公司"
    me = (await accounts.login(form["username"]))["user"]
    assert me["role"] == "unit_admin" and me["unit_id"] == result["unit_id"]


async def test_registration_accepts_a_unified_social_credit_code(accounts):
    form, result = await accounts.register(org_code=uscc())
    same_unit = accounts.registration_form(org_code=form["org_code"][8:17], sms_code="123456")
    with pytest.raises(RpcError) as refused:  # its embedded organisation code is the unit
        await accounts.call("unit.register", {"form": same_unit})
    assert "org_code" in refused.value.fields


async def test_a_second_admin_for_the_same_unit_is_refused(accounts):
    first, _ = await accounts.register()
    with pytest.raises(RpcError) as refused:
        await accounts.register(org_code=first["org_code"])
    assert refused.value.status == 422
    assert "一个单位仅能注册一名单位管理员" in refused.value.fields["org_code"]


async def test_an_admin_not_enrolled_under_that_unit_number_is_refused(accounts):
    form = accounts.registration_form()
    await accounts.enrol(
        form["admin_name"], form["admin_id_number"], "99999999", form["admin_si_no"]
    )
    await accounts.call("sms.request_code", {"mobile": form["mobile"], "purpose": "register"})
    form["sms_code"] = await accounts._code_when_delivered(form["mobile"])
    with pytest.raises(RpcError) as refused:
        await accounts.call("unit.register", {"form": form})
    assert "未在该单位社保号下缴纳社保" in refused.value.fields["si_unit_no"]
    with pytest.raises(RpcError):  # nothing was stored: the admin cannot log in
        await accounts.login(form["username"])


async def test_every_broken_field_is_reported_and_nothing_is_stored(accounts):
    form = accounts.registration_form(
        org_code="D2143569-Y",
        admin_id_number="110105194912310021",
        username="ab",
        password="password",
        password_confirm="other",
        mobile="12345",
        sms_code="12",
    )
    with pytest.raises(RpcError) as refused:
        await accounts.call("unit.register", {"form": form})
    fields = refused.value.fields
    assert {"org_code", "admin_id_number", "username", "password", "mobile", "sms_code"} <= set(
        fields
    )
    assert all(fields.values())


# --- SMS codes --------------------------------------------------------------------------


async def test_a_code_dies_after_five_wrong_tries(accounts):
    form = accounts.registration_form()
    await accounts.enrol(
        form["admin_name"], form["admin_id_number"], form["si_unit_no"], form["admin_si_no"]
    )
    await accounts.call("sms.request_code", {"mobile": form["mobile"], "purpose": "register"})
    right = await accounts._code_when_delivered(form["mobile"])
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    messages = []
    for _ in range(5):
        with pytest.raises(RpcError) as refused:
            await accounts.call("unit.register", {"form": {**form, "sms_code": wrong}})
        messages.append(refused.value.fields["sms_code"])
    assert messages[0] == "验证码错误，还可尝试 4 次"
    assert "已失效" in messages[-1]
    with pytest.raises(RpcError) as dead:
        await accounts.call("unit.register", {"form": {**form, "sms_code": right}})
    assert "请先获取验证码" in dead.value.fields["sms_code"]


async def test_a_second_send_to_one_phone_waits_for_the_cooldown(accounts, accounts_deps):
    phone = mobile()
    await accounts.call("sms.request_code", {"mobile": phone, "purpose": "register"})
    with pytest.raises(RpcError) as early:
        await accounts.call("sms.request_code", {"mobile": phone, "purpose": "register"})
    assert early.value.status == 429
    assert "秒后再获取" in early.value.fields["mobile"]
    accounts_deps.clock.offset += timedelta(seconds=61)
    assert (await accounts.call("sms.request_code", {"mobile": phone, "purpose": "register"}))[
        "sent"
    ]


async def test_a_phone_gets_at_most_the_daily_cap_of_codes(accounts, accounts_deps):
    phone = mobile()
    morning = accounts_deps.clock.start_of_today() + timedelta(hours=8)
    accounts_deps.clock.offset = morning - accounts_deps.clock.now()  # the day is long enough
    for _ in range(accounts_deps.settings.sms_daily_cap_per_mobile):
        await accounts.call("sms.request_code", {"mobile": phone, "purpose": "register"})
        accounts_deps.clock.offset += timedelta(minutes=13)  # under the hourly cap too
    with pytest.raises(RpcError) as capped:
        await accounts.call("sms.request_code", {"mobile": phone, "purpose": "register"})
    assert "今日获取验证码次数已达上限" in capped.value.fields["mobile"]


async def test_an_expired_code_is_refused(accounts, accounts_deps):
    form = accounts.registration_form()
    await accounts.enrol(
        form["admin_name"], form["admin_id_number"], form["si_unit_no"], form["admin_si_no"]
    )
    await accounts.call("sms.request_code", {"mobile": form["mobile"], "purpose": "register"})
    form["sms_code"] = await accounts._code_when_delivered(form["mobile"])
    accounts_deps.clock.offset += timedelta(minutes=5, seconds=1)
    with pytest.raises(RpcError) as refused:
        await accounts.call("unit.register", {"form": form})
    assert refused.value.fields["sms_code"] == "验证码已过期，请重新获取"


async def test_a_send_that_fails_is_reported_as_failed(accounts, identity):
    notify = identity.service.rpc.deps.notify
    identity.service.rpc.deps.notify = None  # as if the notify service were unreachable
    try:
        with pytest.raises(RpcError) as failed:
            await accounts.call("sms.request_code", {"mobile": mobile(), "purpose": "register"})
    finally:
        identity.service.rpc.deps.notify = notify
    assert failed.value.status == 503
    assert failed.value.fields["mobile"] == "验证码发送失败，请稍后重试"


# --- login, sessions, passwords ---------------------------------------------------------


async def test_five_wrong_passwords_pause_that_address_only_for_fifteen_minutes(
    accounts, accounts_deps
):
    form, _ = await accounts.register()
    stranger, owner = "203.0.113.7", "198.51.100.20"
    for _ in range(4):
        with pytest.raises(RpcError) as wrong:
            await accounts.login(form["username"], "Wrong0pass", stranger)
        assert wrong.value.status == 401
    with pytest.raises(RpcError) as paused:
        await accounts.login(form["username"], "Wrong0pass", stranger)
    assert (paused.value.status, paused.value.code) == (429, "login_paused")
    assert 890 <= paused.value.details["retry_after"] <= 901
    with pytest.raises(RpcError) as still_paused:
        await accounts.login(form["username"], client_ip=stranger)  # even the right password
    assert still_paused.value.status == 429
    # The owner, elsewhere, is not kept out.
    assert (await accounts.login(form["username"], client_ip=owner))["user"]["username"]
    accounts_deps.clock.offset += timedelta(minutes=15, seconds=1)
    assert (await accounts.login(form["username"], client_ip=stranger))["user"]["username"]


async def test_an_unknown_username_is_paused_like_a_known_one(accounts):
    """The pause must not tell which usernames exist."""
    for _ in range(4):
        with pytest.raises(RpcError) as wrong:
            await accounts.login(username("nobody"), "Wrong0pass", "203.0.113.8")
        assert wrong.value.status == 401
    ghost = username("ghost")
    for _ in range(4):
        with pytest.raises(RpcError):
            await accounts.login(ghost, "Wrong0pass", "203.0.113.8")
    with pytest.raises(RpcError) as paused:
        await accounts.login(ghost, "Wrong0pass", "203.0.113.8")
    assert (paused.value.status, paused.value.code) == (429, "login_paused")


async def test_a_hundred_failures_in_an_hour_from_many_addresses_lock_out_new_addresses_only(
    accounts, accounts_deps
):
    form, _ = await accounts.register()
    name, usual = form["username"], "198.51.100.30"
    await accounts.login(name, client_ip=usual)  # the owner's office: a usual address

    async def four_wrong_from(n: int) -> list[int]:
        statuses = []
        for _ in range(4):  # one short of each address's pause
            try:
                await accounts.login(name, "Wrong0pass", f"203.0.113.{100 + n}")
            except RpcError as refused:
                statuses.append(refused.status)
        return statuses

    statuses = [s for n in range(25) for s in await four_wrong_from(n)]
    assert statuses[:99] == [401] * 99 and statuses[99] == 423  # the 100th locks
    with pytest.raises(RpcError) as locked:
        await accounts.login(name, client_ip="192.0.2.55")  # a new address, right password
    assert (locked.value.status, locked.value.code) == (423, "account_locked")
    assert 3590 <= locked.value.details["retry_after"] <= 3601
    # The owner, at the usual address with a solved captcha, still gets in.
    assert (await accounts.login(name, client_ip=usual))["user"]["username"] == name
    sms = await accounts.wait_for_sms(form["mobile"], "登录失败 100 次")
    assert "已暂停在新的网络上登录" in sms["body"] and name in sms["body"]
    accounts_deps.clock.offset += timedelta(minutes=60, seconds=1)
    assert (await accounts.login(name, client_ip="192.0.2.55"))["user"]["username"] == name


async def test_a_wrong_captcha_is_refused_before_the_password_is_checked(accounts):
    form, _ = await accounts.register()
    captcha = await accounts.call("captcha.new")
    with pytest.raises(RpcError) as refused:
        await accounts.call(
            "auth.login",
            {
                "username": form["username"],
                "password": PASSWORD,
                "captcha_id": captcha["captcha_id"],
                "captcha_answer": "ZZZZ",
            },
        )
    assert refused.value.fields == {"captcha_answer": "图片验证码错误"}


async def test_a_session_expires_when_idle_and_at_logout(accounts, accounts_deps):
    form, _ = await accounts.register()
    first = await accounts.login(form["username"])
    second = await accounts.login(form["username"])
    assert (await accounts.call("auth.session", {"token": first["token"]}))["user"]
    accounts_deps.clock.offset += timedelta(minutes=31)
    with pytest.raises(RpcError) as idle:
        await accounts.call("auth.session", {"token": first["token"]})
    assert idle.value.status == 401
    third = await accounts.login(form["username"])
    await accounts.call("auth.logout", {"token": third["token"]})
    with pytest.raises(RpcError):
        await accounts.call("auth.session", {"token": third["token"]})
    del second


async def test_use_a_gateway_served_from_its_cache_counts_as_activity(accounts, accounts_deps):
    """A gateway answers a session from its cache and says, when it next asks, when it last
    used it (gateway/sessions.py): that use keeps the session from idling out."""
    form, _ = await accounts.register()
    token = (await accounts.login(form["username"]))["token"]
    answer = await accounts.call("auth.session", {"token": token})
    assert answer["idle_seconds"] == 30 * 60 and answer["expires_at"]
    used_at = accounts_deps.clock.now() + timedelta(minutes=20)
    accounts_deps.clock.offset += timedelta(minutes=31)
    lookup = {"token": token, "last_active": used_at.isoformat()}
    assert (await accounts.call("auth.session", lookup))["user"]
    # ... and is recorded: without it, the session is still alive 29 minutes on
    accounts_deps.clock.offset += timedelta(minutes=29)
    assert (await accounts.call("auth.session", {"token": token}))["user"]
    # a gateway cannot stretch a session into the future: a use is never later than now
    lookup = {"token": token, "last_active": (used_at + timedelta(days=1)).isoformat()}
    assert (await accounts.call("auth.session", lookup))["user"]
    accounts_deps.clock.offset += timedelta(minutes=31)
    with pytest.raises(RpcError) as idle:
        await accounts.call("auth.session", {"token": token})
    assert idle.value.status == 401


async def test_a_forgotten_password_is_reset_with_a_code_sent_to_the_registered_mobile(accounts):
    form, _ = await accounts.register()
    session = await accounts.login(form["username"])
    stranger = mobile()
    answer = await accounts.call(
        "sms.request_code",
        {"mobile": stranger, "purpose": "reset_password", "username": form["username"]},
    )
    assert answer["sent"] is True  # answered as if sent: the form says nothing about accounts
    with pytest.raises(RpcError) as again:  # and the cooldown holds as for a real send
        await accounts.call(
            "sms.request_code",
            {"mobile": stranger, "purpose": "reset_password", "username": form["username"]},
        )
    assert again.value.status == 429
    with pytest.raises(RpcError) as guessed:
        await accounts.call(
            "auth.reset_password",
            {
                "username": form["username"],
                "mobile": stranger,
                "sms_code": "123456",
                "new_password": "Reset1234",
                "new_password_confirm": "Reset1234",
            },
        )
    assert guessed.value.fields == {"sms_code": "请先获取验证码，或重新获取"}
    # The registration code was sent moments ago: wait out the cooldown on the clock.
    accounts.service.rpc.deps.clock.offset += timedelta(seconds=61)
    await accounts.call(
        "sms.request_code",
        {"mobile": form["mobile"], "purpose": "reset_password", "username": form["username"]},
    )
    code = await accounts._code_when_delivered(form["mobile"])
    await accounts.call(
        "auth.reset_password",
        {
            "username": form["username"],
            "mobile": form["mobile"],
            "sms_code": code,
            "new_password": "Reset1234",
            "new_password_confirm": "Reset1234",
        },
    )
    assert await accounts.login(form["username"], "Reset1234")
    with pytest.raises(RpcError):  # every session ended: none of them was the asker's
        await accounts.call("auth.session", {"token": session["token"]})
    with pytest.raises(AssertionError):  # sent after the stranger's: it would be there by now
        accounts.last_code(stranger)


# --- operators and applicants -------------------------------------------------------------


async def test_the_admin_creates_an_applicant_who_can_then_log_in(accounts):
    _, admin = await accounts.new_unit_admin()
    person = await accounts.new_person(admin)
    user = (await accounts.login(person["username"]))["user"]
    assert user["role"] == "applicant" and user["unit_id"] == str(admin.unit_id)


async def test_an_id_number_is_unique_across_the_whole_system(accounts):
    _, admin_a = await accounts.new_unit_admin()
    _, admin_b = await accounts.new_unit_admin()
    person = await accounts.new_person(admin_a)
    with pytest.raises(RpcError) as clash:
        await accounts.new_person(admin_b, id_number=person["id_number"])
    assert "身份证号" in clash.value.fields["id_number"]


async def test_a_disabled_operator_cannot_log_in_and_loses_their_sessions(accounts):
    _, admin = await accounts.new_unit_admin()
    operator = await accounts.new_person(admin, role="unit_operator")
    session = await accounts.login(operator["username"])
    await accounts.call(
        "users.set_active",
        {"role": "unit_operator", "user_id": operator["id"], "active": False},
        actor=admin,
    )
    with pytest.raises(RpcError):
        await accounts.call("auth.session", {"token": session["token"]})
    with pytest.raises(RpcError) as refused:
        await accounts.login(operator["username"])
    assert refused.value.status == 403
    await accounts.call(
        "users.set_active",
        {"role": "unit_operator", "user_id": operator["id"], "active": True},
        actor=admin,
    )
    assert await accounts.login(operator["username"])


def workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "性别", "手机号码", "电子邮箱", "用户名", "初始密码"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_excel_import_creates_good_rows_and_explains_each_refused_row(accounts):
    _, admin = await accounts.new_unit_admin()
    taken = await accounts.new_person(admin)
    good_id, dup_name = id_number("19880808"), username("imp")
    rows = [
        [
            "张三",
            good_id,
            "男" if int(good_id[16]) % 2 else "女",
            mobile(),
            "z@e.cn",
            dup_name,
            PASSWORD,
        ],
        ["李四", "110105194912310021", "男", mobile(), "l@e.cn", username("imp"), PASSWORD],
        [
            "王五",
            taken["id_number"],
            taken["gender"],
            mobile(),
            "w@e.cn",
            username("imp"),
            PASSWORD,
        ],
        ["赵六", id_number("19770101"), "女", mobile(), "x@e.cn", dup_name, "short"],
    ]
    report = await accounts.client.call(
        "accounts", "applicants.import", {}, actor=admin, timeout=60, attachment=workbook(rows)
    )
    assert [r["row"] for r in report["created"]] == [2]
    refused = {r["row"]: r["reasons"] for r in report["refused"]}
    assert set(refused) == {3, 4, 5}
    assert "id_number" in refused[3]
    assert "全系统唯一" in refused[4]["id_number"]
    assert "与第 2 行重复" in refused[5]["username"] and "password" in refused[5]
    assert await accounts.login(dup_name)


async def test_a_file_that_is_not_excel_gets_a_clear_error(accounts):
    _, admin = await accounts.new_unit_admin()
    with pytest.raises(RpcError) as refused:
        await accounts.call("applicants.import", {}, actor=admin, attachment=b"%PDF-1.4")
    assert "xlsx" in refused.value.message


# --- talent-introduction events ---------------------------------------------------------


def talent_unit(version: int, talent_id: str, code: str, admin_name: str, password: str):
    from services.accounts.domain.credentials import hash_password

    return {
        "talent_unit_id": talent_id,
        "unit_version": version,
        "org_code": code,
        "name": f"人才单位 v{version}",
        "si_unit_no": "500500",
        "admin": {
            "username": admin_name,
            "password_hash": hash_password(password),
            "name": "赵管理",
            "mobile": mobile(),
        },
    }


async def publish_talent(accounts, event_type: str, payload: dict):
    """As the talent system does: onto the events exchange (not through accounts' own outbox,
    which would keep its plain numbers where only sealed ones belong)."""
    event = new_event(event_type, payload, producer="talent")
    body = event.model_dump_json().encode()
    await publish_raw(accounts.service.settings, body, event_type)
    return event


async def unit_named(accounts, talent_id: str):
    return await accounts.service.pool.fetchrow(
        "SELECT name, talent_version, active FROM units WHERE talent_unit_id = $1", talent_id
    )


async def test_talent_events_out_of_order_leave_the_newest_version(accounts):
    talent_id, code, admin = f"T{org_code()}", org_code(), username("tal")
    await publish_talent(
        accounts, "talent.unit.updated", talent_unit(2, talent_id, code, admin, "Talent22x")
    )
    await wait_until(lambda: unit_named(accounts, talent_id))
    handled = accounts.service.events.handled  # before: the older event may be handled at once
    await publish_talent(
        accounts, "talent.unit.registered", talent_unit(1, talent_id, code, admin, "Talent11x")
    )
    await wait_until(lambda: accounts.service.events.handled > handled)
    unit = await unit_named(accounts, talent_id)
    assert (unit["name"], unit["talent_version"]) == ("人才单位 v2", 2)
    assert await accounts.login(admin, "Talent22x")  # the talent system's password works here


async def test_a_replayed_talent_event_changes_nothing_the_second_time(accounts):
    talent_id, code, admin = f"T{org_code()}", org_code(), username("tal")
    event = await publish_talent(
        accounts, "talent.unit.registered", talent_unit(1, talent_id, code, admin, "Talent11x")
    )
    await wait_until(lambda: unit_named(accounts, talent_id))
    duplicates = accounts.service.events.duplicates
    await publish_raw(accounts.service.settings, event.to_bytes(), event.type)  # sent again
    await wait_until(lambda: accounts.service.events.duplicates == duplicates + 1)
    assert (await unit_named(accounts, talent_id))["talent_version"] == 1


async def test_a_deactivated_talent_unit_can_no_longer_log_in(accounts):
    talent_id, code, admin = f"T{org_code()}", org_code(), username("tal")
    await publish_talent(
        accounts, "talent.unit.registered", talent_unit(1, talent_id, code, admin, "Talent11x")
    )
    await wait_until(lambda: unit_named(accounts, talent_id))
    await publish_talent(
        accounts, "talent.unit.deactivated", talent_unit(2, talent_id, code, admin, "Talent11x")
    )

    async def inactive():
        unit = await unit_named(accounts, talent_id)
        return unit and not unit["active"]

    await wait_until(inactive)
    with pytest.raises(RpcError) as refused:
        await accounts.login(admin, "Talent11x")
    assert refused.value.status == 403


# --- reviewer accounts: the sysadmin disables, enables and resets them ---------------------


async def new_sysadmin(accounts) -> Actor:
    from services.accounts.handlers.reviewers import create_sysadmin

    name = username("sys")
    user_id = await create_sysadmin(accounts.service.pool, name, PASSWORD, "系统管理员")
    return Actor(user_id=user_id, role="sysadmin")


async def new_reviewer(accounts, sysadmin: Actor, role: str = "department") -> dict:
    form = {
        "role": role,
        "org_id": f"{role}-{username('')}",
        "org_name": "深圳市工程师联合会",
        "name": "孙部门",
        "username": username(role[:3]),
        "password": PASSWORD,
        "mobile": mobile(),
    }
    created = await accounts.call("reviewers.create", form, actor=sysadmin)
    return {**form, "id": created["user_id"]}


async def test_a_reviewer_form_checked_only_is_answered_and_nothing_is_created(accounts):
    sysadmin = await new_sysadmin(accounts)
    taken = await new_reviewer(accounts, sysadmin)
    form = {"role": "office", "name": "孙部门", "username": username("chk")}
    form |= {"password": PASSWORD, "mobile": mobile(), "check_only": True}
    office = {"org_id": "o", "org_name": "专技处"}
    answer = await accounts.call("reviewers.create", form | office, actor=sysadmin)
    assert answer == {"valid": True}
    with pytest.raises(RpcError) as refused:
        await accounts.call(
            "reviewers.create", form | {"username": taken["username"], "mobile": "1"}, sysadmin
        )
    assert refused.value.fields["username"] == "该用户名已被使用，请换一个"
    assert {"mobile", "org_id", "org_name"} <= set(refused.value.fields)
    listed = await accounts.call("reviewers.list", {}, actor=sysadmin)
    assert form["username"] not in {item["username"] for item in listed["items"]}


async def test_a_disabled_reviewer_loses_their_sessions_and_is_told_whom_to_ask(accounts):
    sysadmin = await new_sysadmin(accounts)
    reviewer = await new_reviewer(accounts, sysadmin, "committee")
    session = await accounts.login(reviewer["username"])
    ref = {"role": "committee", "user_id": reviewer["id"]}

    assert await accounts.call("users.set_active", ref | {"active": False}, actor=sysadmin) == {
        "active": False
    }

    with pytest.raises(RpcError) as ended:
        await accounts.call("auth.session", {"token": session["token"]})
    assert ended.value.status == 401
    with pytest.raises(RpcError) as refused:
        await accounts.login(reviewer["username"])
    assert (refused.value.status, refused.value.code) == (403, "account_disabled")
    assert refused.value.message == "该账户已停用，请联系系统管理员"
    disabled = await accounts.call("reviewers.list", {"status": "disabled"}, actor=sysadmin)
    active = await accounts.call("reviewers.list", {"status": "active"}, actor=sysadmin)
    assert reviewer["id"] in {item["id"] for item in disabled["items"]}
    assert all(not item["active"] for item in disabled["items"])
    assert reviewer["id"] not in {item["id"] for item in active["items"]}

    await accounts.call("users.set_active", ref | {"active": True}, actor=sysadmin)
    with pytest.raises(RpcError):  # revoked, not merely hidden while disabled
        await accounts.call("auth.session", {"token": session["token"]})
    assert (await accounts.login(reviewer["username"]))["user"]["role"] == "committee"


async def test_a_disabled_unit_user_is_still_sent_to_their_unit_admin(accounts):
    _, admin = await accounts.new_unit_admin()
    person = await accounts.new_person(admin)
    ref = {"role": "applicant", "user_id": person["id"], "active": False}
    await accounts.call("users.set_active", ref, actor=admin)
    with pytest.raises(RpcError) as refused:
        await accounts.login(person["username"])
    assert refused.value.message == "该账户已停用，请联系单位管理员"


async def test_the_sysadmin_resets_a_reviewers_password_which_ends_sessions_and_unlocks(
    accounts,
):
    sysadmin = await new_sysadmin(accounts)
    reviewer = await new_reviewer(accounts, sysadmin, "office")
    session = await accounts.login(reviewer["username"])
    for _ in range(5):  # forgotten: they tried until the account locked
        with pytest.raises(RpcError):
            await accounts.login(reviewer["username"], "Wrong0pass")
    ref = {"role": "office", "user_id": reviewer["id"]}

    with pytest.raises(RpcError) as short:
        await accounts.call(
            "users.set_password",
            ref | {"new_password": "short", "new_password_confirm": "short"},
            actor=sysadmin,
        )
    assert short.value.status == 422
    assert short.value.fields == {"new_password": "密码长度须为8到12位"}
    with pytest.raises(RpcError) as mismatch:
        await accounts.call(
            "users.set_password",
            ref | {"new_password": "Reset1234", "new_password_confirm": "Reset12345"},
            actor=sysadmin,
        )
    assert mismatch.value.fields == {"new_password_confirm": "两次输入的密码不一致"}

    reset = ref | {"new_password": "Reset1234", "new_password_confirm": "Reset1234"}
    assert await accounts.call("users.set_password", reset, actor=sysadmin) == {"reset": True}
    with pytest.raises(RpcError):
        await accounts.call("auth.session", {"token": session["token"]})
    with pytest.raises(RpcError) as old:
        await accounts.login(reviewer["username"])
    assert old.value.status == 401
    assert (await accounts.login(reviewer["username"], "Reset1234"))["user"]["role"] == "office"


async def test_without_a_role_the_sysadmin_reaches_exactly_the_reviewer_accounts(accounts):
    sysadmin = await new_sysadmin(accounts)
    reviewer = await new_reviewer(accounts, sysadmin, "department")
    got = await accounts.call("users.get", {"user_id": reviewer["id"]}, actor=sysadmin)
    assert (got["role"], got["org_id"], got["active"]) == ("department", reviewer["org_id"], True)
    with pytest.raises(RpcError) as wrong_role:  # the role, when given, must be the account's
        await accounts.call(
            "users.set_active",
            {"role": "committee", "user_id": reviewer["id"], "active": False},
            actor=sysadmin,
        )
    assert wrong_role.value.status == 404
    await accounts.call(
        "users.set_active", {"user_id": reviewer["id"], "active": False}, actor=sysadmin
    )
    assert not (await accounts.call("users.get", {"user_id": reviewer["id"]}, actor=sysadmin))[
        "active"
    ]


async def test_nobody_disables_or_resets_their_own_account_here(accounts):
    sysadmin = await new_sysadmin(accounts)
    _, admin = await accounts.new_unit_admin()
    for actor in (sysadmin, admin):
        for method, change in (
            ("users.set_active", {"active": False}),
            ("users.set_password", {"new_password": "Reset1234", "new_password_confirm": "x"}),
        ):
            with pytest.raises(RpcError) as refused:
                await accounts.call(method, {"user_id": str(actor.user_id), **change}, actor=actor)
            assert refused.value.status == 403
            assert refused.value.message == "不能停用或重置自己的账户"
    with pytest.raises(RpcError) as not_a_role:  # nor as a reviewer role, nor as sysadmin
        await accounts.call(
            "users.set_active",
            {"role": "sysadmin", "user_id": str(sysadmin.user_id), "active": False},
            actor=sysadmin,
        )
    assert not_a_role.value.status == 422
    row = await accounts.service.pool.fetchrow(
        "SELECT active FROM users WHERE id = $1", sysadmin.user_id
    )
    assert row["active"]


async def test_an_organisation_rename_applies_unless_a_newer_name_is_there(accounts):
    from datetime import UTC, datetime, timedelta

    from services.accounts.handlers.organisations import (
        OrganisationRenamed,
        apply_organisation_renamed,
    )
    from shared.envelope import new_event

    sysadmin = await new_sysadmin(accounts)
    reviewer = await new_reviewer(accounts, sysadmin, "committee")
    org = {"role": "committee", "org_id": reviewer["org_id"]}

    async def rename(name: str, at: datetime) -> str:
        envelope = new_event("reference.organisation_renamed", org | {"name": name}, "cases")
        envelope = envelope.model_copy(update={"occurred_at": at})
        async with accounts.service.pool.acquire() as conn:
            await apply_organisation_renamed(conn, envelope, OrganisationRenamed(**org, name=name))
            return await conn.fetchval(
                "SELECT org_name FROM users WHERE username = $1", reviewer["username"]
            )

    now = datetime.now(UTC)
    assert await rename("新名称评委会", now + timedelta(seconds=1)) == "新名称评委会"
    assert await rename("更早的名称", now) == "新名称评委会"  # late, older: ignored
    assert await rename("创建前的名称", now - timedelta(days=1)) == "新名称评委会"
    assert await rename("再次改名评委会", now + timedelta(seconds=2)) == "再次改名评委会"

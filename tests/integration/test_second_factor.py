"""Reviewers' second factor against the real database: a correct password opens a login
challenge and sends a code to the registered mobile; only the code opens a session."""

import uuid
from datetime import timedelta

import pytest

from services.accounts.domain.credentials import hash_password
from services.accounts.personal import index, seal
from shared.rpc import RpcError
from tests.support.accounts_driver import PASSWORD, mobile, username

pytestmark = pytest.mark.usefixtures("second_factor")

PASSWORD_HASH = hash_password(PASSWORD)


def sealed_mobile(mobile: str | None) -> tuple:
    """As the accounts service keeps a mobile: sealed, with its blind index."""
    return seal(mobile, "users", "mobile"), index(mobile, "mobile")


async def reviewer(accounts, role: str = "department", with_mobile: bool = True) -> dict:
    person = {"id": uuid.uuid4(), "username": username("rv"), "mobile": mobile()}
    org = {"department": "dept-gcslh", "office": "office-zjc", "committee": "cmte-qg-gj"}
    await accounts.service.pool.execute(
        "INSERT INTO users (id, username, password_hash, role, org_id, org_name, name, mobile,"
        " mobile_index) VALUES ($1, $2, $3, $4, $5, '测试机构', '审核员', $6, $7)",
        person["id"],
        person["username"],
        PASSWORD_HASH,
        role,
        org.get(role),
        *sealed_mobile(person["mobile"] if with_mobile else None),
    )
    return person


async def sessions_of(accounts, person) -> int:
    return await accounts.service.pool.fetchval(
        "SELECT count(*) FROM sessions WHERE user_id = $1", person["id"]
    )


async def audit(accounts, person) -> list[tuple[str, str | None]]:
    rows = await accounts.service.pool.fetch(
        "SELECT action, code FROM audit_log WHERE object_id = $1 OR actor_id = $2 ORDER BY seq",
        str(person["id"]),
        person["id"],
    )
    return [(r["action"], r["code"]) for r in rows]


async def challenged(accounts, person, client_ip: str = "203.0.113.50") -> str:
    answer = await accounts.login(person["username"], client_ip=client_ip)
    return answer["second_factor"]["challenge_id"]


def confirm(accounts, challenge_id: str, code: str, client_ip: str = "203.0.113.50"):
    params = {"challenge_id": challenge_id, "sms_code": code, "client_ip": client_ip}
    return accounts.call("auth.confirm_login", params)


async def test_a_reviewer_gets_a_session_only_with_the_code_sent_to_the_mobile(accounts):
    person = await reviewer(accounts)
    answer = await accounts.login(person["username"], client_ip="203.0.113.50")

    step = answer["second_factor"]
    assert set(answer) == {"second_factor"}  # no token: no session yet
    assert step["mobile"] == person["mobile"][:3] + "****" + person["mobile"][-4:]
    assert await sessions_of(accounts, person) == 0
    code = await accounts._code_when_delivered(person["mobile"])
    assert "您正在登录" in accounts.sms_to(person["mobile"], code)["body"]

    session = await confirm(accounts, step["challenge_id"], code)

    assert session["user"]["username"] == person["username"]
    assert (await accounts.call("auth.session", {"token": session["token"]}))["user"]
    assert await audit(accounts, person) == [
        ("auth.code_sent", None),
        ("auth.login", None),
        ("auth.new_address", None),
    ]
    with pytest.raises(RpcError) as used:  # the challenge is spent
        await confirm(accounts, step["challenge_id"], code)
    assert used.value.status == 401


@pytest.mark.parametrize("role", ["office", "committee", "sysadmin"])
async def test_every_reviewer_role_is_asked_for_a_code(accounts, role):
    person = await reviewer(accounts, role)
    assert "second_factor" in await accounts.login(person["username"])


async def test_a_unit_admin_signs_in_with_the_password_alone(accounts):
    form, _ = await accounts.register()
    assert "token" in await accounts.login(form["username"])


async def test_a_wrong_code_is_refused_counted_and_audited(accounts):
    person = await reviewer(accounts)
    challenge_id = await challenged(accounts, person)
    code = await accounts._code_when_delivered(person["mobile"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    with pytest.raises(RpcError) as refused:
        await confirm(accounts, challenge_id, wrong)

    assert refused.value.status == 422
    assert refused.value.fields == {"sms_code": "验证码错误，还可尝试 4 次"}
    assert await sessions_of(accounts, person) == 0
    assert ("auth.login_failed", "wrong_sms_code") in await audit(accounts, person)
    failures = await accounts.service.pool.fetchval(
        "SELECT count(*) FROM login_failures WHERE username_key = $1", person["username"]
    )
    assert failures == 1  # counted by the lockout as a wrong password is
    assert (await confirm(accounts, challenge_id, code))["token"]  # the right one still works


async def test_five_wrong_codes_end_the_challenge_and_pause_the_address(accounts):
    person = await reviewer(accounts)
    challenge_id = await challenged(accounts, person)
    code = await accounts._code_when_delivered(person["mobile"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        with pytest.raises(RpcError):
            await confirm(accounts, challenge_id, wrong)
    with pytest.raises(RpcError) as fifth:
        await confirm(accounts, challenge_id, wrong)
    assert fifth.value.code == "login_paused"  # five failures from this address
    with pytest.raises(RpcError) as after:
        await confirm(accounts, challenge_id, code)
    assert after.value.status == 401
    assert await sessions_of(accounts, person) == 0


async def test_an_expired_challenge_takes_no_code(accounts, accounts_deps):
    person = await reviewer(accounts)
    challenge_id = await challenged(accounts, person)
    code = await accounts._code_when_delivered(person["mobile"])
    accounts_deps.clock.offset += timedelta(minutes=11)

    with pytest.raises(RpcError) as expired:
        await confirm(accounts, challenge_id, code)

    assert expired.value.status == 401
    assert expired.value.code == "login_challenge_over"
    assert await sessions_of(accounts, person) == 0


async def test_an_unknown_challenge_is_refused(accounts):
    for challenge_id in (str(uuid.uuid4()), "not-a-uuid"):
        with pytest.raises(RpcError) as refused:
            await confirm(accounts, challenge_id, "123456")
        assert refused.value.status == 401


async def test_a_reviewer_without_a_mobile_is_told_to_ask_the_sysadmin(accounts):
    person = await reviewer(accounts, with_mobile=False)
    with pytest.raises(RpcError) as refused:
        await accounts.login(person["username"])
    assert refused.value.status == 403
    assert "请联系系统管理员" in refused.value.message
    assert ("auth.login_failed", "no_mobile") in await audit(accounts, person)


async def test_resending_keeps_to_the_cooldown_and_replaces_the_code(accounts, accounts_deps):
    person = await reviewer(accounts)
    challenge_id = await challenged(accounts, person)
    first = await accounts._code_when_delivered(person["mobile"])
    params = {"challenge_id": challenge_id, "client_ip": "203.0.113.50"}

    with pytest.raises(RpcError) as early:
        await accounts.call("auth.resend_login_code", params)
    assert early.value.status == 429 and "sms_code" in early.value.fields

    accounts_deps.clock.offset += timedelta(seconds=61)
    sent = await accounts.call("auth.resend_login_code", params)
    assert sent["challenge_id"] == challenge_id

    def second_code():
        code = accounts.last_code(person["mobile"])
        return code if code != first else None

    from tests.support.probes import wait_until

    second = await wait_until(second_code)
    with pytest.raises(RpcError):
        await confirm(accounts, challenge_id, first)
    assert (await confirm(accounts, challenge_id, second))["token"]


async def test_signing_in_again_within_the_cooldown_reuses_the_code_just_sent(accounts):
    person = await reviewer(accounts)
    first_challenge = await challenged(accounts, person)
    code = await accounts._code_when_delivered(person["mobile"])
    # back to the login form and in again a few seconds later: no error, the same code
    answer = await accounts.login(person["username"], client_ip="203.0.113.50")
    step = answer["second_factor"]
    assert step["challenge_id"] != first_challenge and 0 < step["cooldown_seconds"] <= 60
    assert accounts.last_code(person["mobile"]) == code  # no second SMS
    assert (await confirm(accounts, step["challenge_id"], code))["token"]


async def test_nobody_asks_for_a_login_code_outside_a_sign_in(accounts):
    with pytest.raises(RpcError) as refused:
        await accounts.call("sms.request_code", {"mobile": mobile(), "purpose": "login"})
    assert refused.value.status == 422

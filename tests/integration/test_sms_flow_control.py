"""Codes per mobile, limited by the system before any provider would: 1 a minute, 5 an hour,
10 a day (settings), over every purpose, each refusal with a message in Chinese that says
when to try again. The providers' own limits (Alibaba Cloud's default is the same 1/5/10)
are then never met by a person asking for a code."""

from datetime import timedelta

import pytest

from shared.rpc import RpcError
from tests.support.accounts_driver import mobile


@pytest.fixture
async def morning(accounts, accounts_deps):
    """The clock at 08:00 in Shenzhen today, so an hour or two of codes stays in one day."""
    clock = accounts_deps.clock
    clock.offset = clock.start_of_today() + timedelta(hours=8) - (clock.now() - clock.offset)
    return clock


async def ask(accounts, phone: str, purpose: str = "register") -> dict:
    params = {"mobile": phone, "purpose": purpose}
    if purpose == "reset_password":
        params["username"] = "nobody123"  # no such account: answered (and limited) all the same
    return await accounts.call("sms.request_code", params)


async def refused(accounts, phone: str, purpose: str = "register") -> RpcError:
    with pytest.raises(RpcError) as error:
        await ask(accounts, phone, purpose)
    assert error.value.status == 429 and error.value.code == "too_many_requests"
    return error.value


async def test_one_code_a_minute_to_a_phone_whatever_its_purpose(accounts, morning):
    phone = mobile()
    await ask(accounts, phone)
    morning.offset += timedelta(seconds=20)
    # A password reset right after a registration code: the provider counts the number.
    error = await refused(accounts, phone, "reset_password")
    assert error.fields["mobile"] == "验证码已发送，请 40 秒后再获取"
    morning.offset += timedelta(seconds=40)
    assert (await ask(accounts, phone))["sent"]


async def test_five_codes_an_hour_to_a_phone_and_when_the_sixth_may_come(accounts, morning):
    phone = mobile()
    for _ in range(5):
        await ask(accounts, phone)
        morning.offset += timedelta(minutes=2)
    # Five codes at 08:00, 08:02, ... 08:08; now 08:10: the first is an hour old at 09:00.
    error = await refused(accounts, phone)
    assert error.fields["mobile"] == "该手机号获取验证码过于频繁，请 50 分钟后再试"
    morning.offset += timedelta(minutes=49)
    assert (await refused(accounts, phone)).fields["mobile"].endswith("请 1 分钟后再试")
    morning.offset += timedelta(minutes=1)
    assert (await ask(accounts, phone))["sent"]


async def test_ten_codes_a_day_to_a_phone(accounts, morning):
    phone = mobile()
    for _ in range(10):
        await ask(accounts, phone)
        morning.offset += timedelta(minutes=13)
    error = await refused(accounts, phone)
    assert error.fields["mobile"] == "该手机号今日获取验证码次数已达上限，请明天再试"

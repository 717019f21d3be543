"""A review meeting in Debian's chromium, as the issue asks: the secretary draws and opens a
meeting on a desktop; three experts vote on phone-sized screens (one of them first sets the
password of the account the SMS told them of, with 忘记密码); the secretary closes the vote;
the department sees the tallies and the unit the results. Screenshots in /tmp/shots/."""

import asyncio
import json
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD, sms_code
from tests.e2e.meeting_helpers import expert_accounts, setting
from tests.e2e.people import PASSWORD_HASH

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/meetings")
PHONE_WIDTH = 390
# each expert's votes on the three cases: the third gets 1 同意 of 3 and fails
VOTES = [("agree", "agree", "agree"), ("agree", "agree", "disagree"), ("agree", "agree", "abstain")]
LABELS = {"agree": "同意", "disagree": "不同意", "abstain": "弃权"}


@pytest.fixture(scope="module", autouse=True)
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
async def browser(chromium, gateway):
    contexts = []

    async def open_page(size: str = "desktop"):
        context = await new_browser_context(chromium, gateway, size)
        contexts.append(context)
        page = await context.new_page()
        page.on("dialog", _accept)  # 抽取 and 结束表决 ask before they act
        return page

    yield open_page
    for context in contexts:
        await context.close()


async def _accept(dialog) -> None:
    await dialog.accept()


async def sign_in(page, username: str) -> None:
    await page.goto("/login")
    await page.fill("#f-username", username)
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-captcha_answer", CAPTCHA)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/home$"))


def account_sms(outbox: Path, mobile: str) -> str | None:
    """The username in the SMS that told this mobile its expert account was opened."""
    lines = outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []
    for line in lines:
        sms = json.loads(line)
        if sms["mobile"] == mobile and "专家账号已开通" in sms["body"]:
            return re.search(r"用户名 (zj\d{8})", sms["body"]).group(1)
    return None


async def username_from_sms(outbox: Path, mobile: str) -> str:
    for _ in range(100):
        if username := account_sms(outbox, mobile):
            return username
        await asyncio.sleep(0.1)
    raise AssertionError(f"no account SMS to {mobile}")


async def set_password_by_sms(page, outbox: Path, username: str, mobile: str) -> None:
    """What the SMS tells a new expert to do: 忘记密码 with a code to their mobile."""
    await page.goto("/password/forgot")
    await page.fill("#f-username", username)
    await page.fill("#f-mobile", mobile)
    await page.get_by_role("button", name="获取验证码").click()
    # the answer moves the focus to the code box: typing before it lands loses keystrokes
    await expect(page.locator('[data-note-for="mobile"]')).to_contain_text("验证码已发送")
    code = await sms_code(outbox, mobile, "reset_password")
    await page.fill("#f-sms_code", code)
    await page.fill("#f-new_password", PASSWORD)
    await page.fill("#f-new_password_confirm", PASSWORD)
    await page.get_by_role("button", name="重设密码", exact=True).last.click()
    await expect(page.locator("body")).to_contain_text("密码已重设")


async def vote_on_a_phone(page, meeting_id: str, names: list[str], choices) -> None:
    await page.goto("/home")
    await page.locator(".meeting-card a").first.click()
    await expect(page).to_have_url(re.compile(f"/meetings/{meeting_id}/ballot$"))
    for name, choice in zip(names, choices, strict=True):
        card = page.locator(".ballot-case", has_text=name)
        await card.get_by_role("link", name="投票").click()
        await page.get_by_label(LABELS[choice], exact=True).check()
        await page.get_by_role("button", name="下一步：确认").click()
        await expect(page.locator("#chosen")).to_have_text(LABELS[choice])
        await page.get_by_role("button", name="确认投票").click()
        await expect(page.locator(".flash")).to_contain_text(f"已对 {name} 投票")
    await expect(page.locator("#remaining")).to_have_text("您已完成全部表决")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the ballot is {width} px wide on a {PHONE_WIDTH} px phone"


async def test_a_meeting_drawn_voted_on_phones_closed_and_read_by_department_and_unit(
    browser, gateway, services, clock, sms_outbox
):
    world = await setting(gateway, services, cases=3, experts=3)
    try:
        await _the_meeting(browser, services, world, sms_outbox)
    finally:
        await world.close()


async def _the_meeting(browser, services, world, outbox: Path) -> None:
    secretary = await browser("desktop")
    await sign_in(secretary, world.secretary.person["username"])
    await secretary.locator("#committee-tools").get_by_role("link", name="评审会议").click()
    await secretary.get_by_role("link", name="新建评审会议").click()
    await secretary.select_option("#f-round_id", "2026")
    await secretary.fill("#f-meets_on", "2026-06-10")
    await secretary.fill("#f-starts_at", "09:30")
    await secretary.fill("#f-place", "市人才大厦 5 楼")
    await secretary.fill("#f-size", "3")
    await secretary.get_by_role("button", name="新建").click()
    await expect(secretary.locator(".flash")).to_contain_text("已新建评审会议")
    meeting_id = re.search(r"/meetings/([0-9a-f-]{36})", secretary.url).group(1)
    await secretary.get_by_role("link", name="添加参评申报").click()
    await secretary.get_by_role("button", name="全部添加（3 件）").click()
    await expect(secretary.locator(".flash")).to_contain_text("已添加 3 件申报")
    await secretary.get_by_role("button", name="抽取评审专家").click()
    await expect(secretary.locator(".flash")).to_contain_text("已抽取评审专家")
    await expect(secretary.locator("#members tbody tr")).to_have_count(3)

    accounts = await expert_accounts(services, meeting_id)
    mobiles = {e["name"]: e["mobile"] for e in world.experts}
    phones = []
    for n, user in enumerate(accounts.values()):
        phone = await browser("phone")
        if n == 0:  # as the SMS says: its username, and a password set with a code
            username = await username_from_sms(outbox, mobiles[user["name"]])
            assert username == user["username"]
            await set_password_by_sms(phone, outbox, username, mobiles[user["name"]])
        else:
            await services["accounts"].pool.execute(
                "UPDATE users SET password_hash = $2 WHERE id = $1", user["id"], PASSWORD_HASH
            )
        await sign_in(phone, user["username"])
        phones.append(phone)

    await secretary.reload()
    await secretary.get_by_role("button", name="开始表决").click()
    await expect(secretary.locator("#meeting-phase")).to_have_text("表决中")
    await secretary.screenshot(path=SHOTS / "meeting-voting-desktop.png", full_page=True)

    await phones[0].goto(f"/meetings/{meeting_id}/ballot")
    await (
        phones[0]
        .locator(".ballot-case", has_text=world.names[0])
        .get_by_role("link", name="查看材料")
        .click()
    )
    await expect(phones[0].locator("h1")).to_contain_text(world.names[0])
    await phones[0].screenshot(path=SHOTS / "case-phone.png", full_page=True)
    for phone, choices in zip(phones, VOTES, strict=True):
        await vote_on_a_phone(phone, meeting_id, world.names, choices)
    await phones[2].screenshot(path=SHOTS / "ballot-phone.png", full_page=True)

    await secretary.reload()
    await expect(secretary.locator("#cases .progress").first).to_have_text("3 / 3")
    await secretary.get_by_role("button", name="结束表决").click()
    await expect(secretary.locator(".flash")).to_contain_text("表决已结束")
    rows = secretary.locator("#cases tbody tr")
    await expect(rows.filter(has_text=world.names[2]).locator(".result")).to_have_text("未通过")
    await expect(rows.filter(has_text=world.names[0]).locator(".result")).to_have_text("通过")
    await secretary.screenshot(path=SHOTS / "meeting-closed-desktop.png", full_page=True)

    department = await browser("desktop")
    await sign_in(department, world.department.person["username"])
    await department.goto(f"/cases/{world.cases[2]}")
    await expect(department.locator("#history")).to_contain_text(
        "评审会议表决：出席 3 人，可表决 3 人，同意 1，不同意 1，弃权 1（未通过）"
    )
    unit = await browser("desktop")
    await sign_in(unit, world.operator.person["username"])
    await unit.goto(f"/cases/{world.cases[2]}")
    history = unit.locator("#history")
    await expect(history).to_contain_text("评审会议表决结果")
    await expect(history).not_to_contain_text("同意 1")
    await expect(unit.locator("#case-status")).to_contain_text("评委会评审未通过")
    await unit.goto(f"/cases/{world.cases[0]}")
    await expect(unit.locator("#case-status")).to_contain_text("评委会评审通过")
    await unit.screenshot(path=SHOTS / "case-unit-desktop.png", full_page=True)

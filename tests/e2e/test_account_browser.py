"""登录设备 and 修改手机号码 in Debian's chromium, driven by Playwright.

Screenshots land in /tmp/shots/ beside the identity pages'.
"""

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD, Client, mobile, sms_code
from tests.e2e.people import new_unit, new_user

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="module", autouse=True)
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
async def open_page(chromium, gateway):
    contexts = []

    async def make(size: str = "desktop"):
        context = await new_browser_context(chromium, gateway, size)
        contexts.append(context)
        page = await context.new_page()
        page.on("dialog", _accept)  # the 退出 buttons ask before they act
        return page

    yield make
    for context in contexts:
        await context.close()


async def _accept(dialog) -> None:
    await dialog.accept()


@pytest.fixture
async def applicant(services):
    return await new_user(services, "applicant", unit_id=await new_unit(services), name="王设备")


async def log_in(page, name: str) -> None:
    await page.goto("/login")
    await page.fill("#f-username", name)
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-captcha_answer", CAPTCHA)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/home$"))


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_the_devices_page_shows_two_sessions_and_ends_the_other(
    open_page, gateway, applicant, size
):
    other = Client(str(gateway.make_url("")))
    try:
        await other.login(applicant["username"])
        page = await open_page(size)
        await log_in(page, applicant["username"])

        await page.get_by_role("link", name="登录设备").click()

        await expect(page.locator("h1")).to_have_text("登录设备")
        rows = page.locator("table.sessions tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.filter(has_text="当前设备")).to_contain_text("Chrome")
        await page.screenshot(path=SHOTS / f"sessions-{size}.png", full_page=True)
        await rows.filter(has_not_text="当前设备").get_by_role("button", name="退出").click()

        await expect(page.locator(".flash")).to_contain_text("已退出该设备上的登录")
        await expect(rows).to_have_count(1)
        await expect(page.get_by_role("button", name="退出其他设备")).to_have_count(0)
        assert (await other.page("/home"))[2] == "/login"
    finally:
        await other.close()


async def test_the_mobile_page_sends_the_code_to_the_new_mobile_and_changes_it(
    open_page, applicant, sms_outbox
):
    page = await open_page("phone")
    await log_in(page, applicant["username"])
    await page.get_by_role("link", name="修改手机号码").click()
    new = mobile()
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-mobile", new)

    await page.get_by_role("button", name="获取验证码").click()

    await expect(page.locator('[data-note-for="mobile"]')).to_contain_text("验证码已发送")
    await page.fill("#f-sms_code", await sms_code(sms_outbox, new, "change_mobile"))
    await page.screenshot(path=SHOTS / "mobile-phone.png", full_page=True)
    await page.locator(".actions").get_by_role("button", name="确认修改").click()
    await expect(page.locator(".flash")).to_contain_text(f"手机号码已修改为 {new}")

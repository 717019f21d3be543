"""The sysadmin's 节假日安排 in Debian's chromium: warned on the home page that next year's
holidays are missing, they enter the year's notice and a few days (test data, not the State
Council's schedule), a refused day says why beside its field, and the warning goes.

Screenshots land in /tmp/shots/holidays/.
"""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD
from tests.e2e.people import signed_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/holidays")
NOVEMBER = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # Monday 16 November 2026, 10:00 in China


@pytest.fixture
async def in_november(services, clock):
    """The cases service on a November day, with no 2027 entered (put back as it was)."""
    clock.offset = NOVEMBER - datetime.now(UTC)
    pool = services["cases"].pool
    await pool.execute("DELETE FROM holiday_years WHERE year = 2027")
    yield clock
    await pool.execute("DELETE FROM holiday_years WHERE year = 2027")


@pytest.fixture(scope="module", autouse=True)
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


async def _accept(dialog) -> None:
    await dialog.accept()


async def test_the_sysadmin_enters_next_years_holidays_and_the_warning_goes(
    chromium, gateway, services, in_november
):
    sysadmin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    await sysadmin.close()
    context = await new_browser_context(chromium, gateway)
    page = await context.new_page()
    page.on("dialog", _accept)
    try:
        await page.goto("/login")
        await page.fill("#f-username", sysadmin.person["username"])
        await page.fill("#f-password", PASSWORD)
        await page.fill("#f-captcha_answer", CAPTCHA)
        await page.get_by_role("button", name="登录", exact=True).click()
        await expect(page).to_have_url(re.compile(r"/home$"))

        warning = page.locator("#holiday-warning")
        await expect(warning).to_contain_text("2027年的法定节假日和调休安排尚未录入")
        await page.screenshot(path=str(SHOTS / "home-warning.png"), full_page=True)
        await warning.get_by_role("link", name="前往节假日安排").click()
        await expect(page.locator('tr[data-year="2027"]')).to_contain_text("未录入")
        await page.locator('tr[data-year="2027"]').get_by_role("link").click()
        await expect(page.locator("#notice-first")).to_be_visible()  # no days before the notice

        await page.fill("#f-notice_title", "测试用通知（非官方）")
        await page.fill("#f-notice_number", "测试〔2026〕1号")
        await page.fill("#f-notice_url", "example.invalid/2027")
        await page.get_by_role("button", name="保存通知").click()
        await expect(page.locator("#e-notice_url")).to_have_text(
            "通知网址应以 https:// 或 http:// 开头"
        )
        await page.fill("#f-notice_url", "https://example.invalid/2027")
        await page.get_by_role("button", name="保存通知").click()
        await expect(page.locator(".flash-success")).to_contain_text(
            "已保存2027年的国务院办公厅通知"
        )
        await expect(page.locator("#year-source")).to_have_text("已录入国务院办公厅通知")
        await expect(page.locator("#holiday-warning")).to_have_count(0)

        for day, kind, name in (
            ("2027-01-01", "holiday", "元旦"),
            ("2027-02-08", "holiday", "春节"),
            ("2027-02-20", "workday", "春节"),
        ):
            await page.fill("#f-day", day)
            await page.select_option("#f-kind", kind)
            await page.fill("#f-name", name)
            await page.get_by_role("button", name="录入", exact=True).click()
            await expect(page.locator(f'tr[data-day="{day}"]')).to_be_visible()
        await page.fill("#f-day", "2027-02-17")  # a Wednesday cannot be a 调休上班 day
        await page.select_option("#f-kind", "workday")
        await page.fill("#f-name", "春节")
        await page.get_by_role("button", name="录入", exact=True).click()
        await expect(page.locator("#e-kind")).to_contain_text("调休上班日应为星期六或星期日")
        await expect(page.locator("#f-day")).to_have_value("2027-02-17")  # kept as typed
        await expect(page.locator(".holiday-days tbody tr")).to_have_count(3)
        await page.screenshot(path=str(SHOTS / "year-2027.png"), full_page=True)

        await page.locator('tr[data-day="2027-02-08"]').get_by_role("button").click()
        await expect(page.locator('tr[data-day="2027-02-08"]')).to_have_count(0)

        await page.goto("/home")
        await expect(page.locator("h1")).to_have_text("系统管理")
        await expect(page.locator("#holiday-warning")).to_have_count(0)
        await page.goto("/admin/holidays")
        await expect(page.locator('tr[data-year="2027"]')).to_contain_text("已录入国务院办公厅通知")
        await page.screenshot(path=str(SHOTS / "years.png"), full_page=True)
    finally:
        await context.close()

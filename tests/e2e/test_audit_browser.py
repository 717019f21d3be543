"""审计日志 and 查阅记录 in Debian's chromium, under the pages' Content-Security-Policy (any
violation fails the test: conftest). Screenshots land in /tmp/shots/."""

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.case_steps import at_department, case_of, new_cast
from tests.e2e.conftest import CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD
from tests.e2e.people import new_user

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="module", autouse=True)
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


async def log_in(page, name: str) -> None:
    await page.goto("/login")
    await page.fill("#f-username", name)
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-captcha_answer", CAPTCHA)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/home$"))


async def test_the_sysadmin_searches_by_case_number_and_the_applicant_sees_its_readers(
    chromium, gateway, services, clock
):
    cast = await new_cast(gateway, services)
    sysadmin = await new_user(services, "sysadmin", name="系统管理员")
    context = await new_browser_context(chromium, gateway)
    try:
        case_id = await at_department(cast, clock)
        case = await case_of(cast.department, case_id)
        page = await context.new_page()
        await log_in(page, sysadmin["username"])
        await page.get_by_role("link", name=re.compile("审计日志")).click()
        await page.fill("input[name=object]", case["case_no"])
        await page.get_by_role("button", name="查询").click()
        rows = page.locator("table.audit-list tbody tr")
        await expect(rows.first).to_be_visible()
        await expect(page.locator("table.audit-list")).to_contain_text("查看申报材料")
        await expect(page.locator("table.audit-list")).to_contain_text("办理：审核同意")
        await page.screenshot(path=str(SHOTS / "audit-search.png"), full_page=True)
        await context.clear_cookies()
        await log_in(page, cast.applicant.person["username"])
        await page.goto(f"/my/cases/{case_id}")
        await page.get_by_role("link", name="查看查阅记录").click()
        await expect(page.locator("table")).to_contain_text(cast.department.person["name"])
        await expect(page.locator("table")).to_contain_text("日常工作部门")
        await page.screenshot(path=str(SHOTS / "audit-readers.png"), full_page=True)
    finally:
        await context.close()
        await cast.close()

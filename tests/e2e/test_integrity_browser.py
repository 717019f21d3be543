"""诚信 in Debian's chromium: someone on a phone, not signed in, raises an objection from the
评后公示 page with the SMS code the 获取验证码 button asks for (JavaScript, purpose
objection); the department finds it on its pages; the sysadmin's 诚信承诺书 page.

Screenshots land in /tmp/shots/integrity/.
"""

import random
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.case_steps import in_post_publicity, new_cast
from tests.e2e.conftest import CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD, sms_code
from tests.e2e.people import signed_in
from tests.support.meetings import results_outside

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/integrity")


@pytest.fixture(autouse=True)
async def committee_records_outside_results(services):
    """These tests take step 8 by the buttons: a committee that records outside results."""
    async with results_outside(services["cases"].pool):
        yield


@pytest.fixture(scope="module", autouse=True)
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


async def _accept(dialog) -> None:
    await dialog.accept()


async def signed_in_page(chromium, gateway, client):
    context = await new_browser_context(chromium, gateway)
    page = await context.new_page()
    page.on("dialog", _accept)
    await page.goto("/login")
    await page.fill("#f-username", client.person["username"])
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-captcha_answer", CAPTCHA)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/home$"))
    return context, page


async def test_a_person_on_a_phone_objects_and_the_department_finds_it(
    chromium, gateway, cast, clock, sms_outbox
):
    case_id = await in_post_publicity(cast, clock)
    mobile = "137" + "".join(random.choices("0123456789", k=8))
    phone = await new_browser_context(chromium, gateway, "phone")
    try:
        page = await phone.new_page()
        await page.goto("/")
        await page.get_by_role("link", name=re.compile("评后公示")).click()
        await page.fill("#f-name", "张")
        await page.get_by_role("button", name="查询").click()
        row = page.locator(
            "#publicity-list tr", has=page.locator(f'a[href$="{case_id}/objection"]')
        )
        await expect(row).to_contain_text("张*")
        await page.screenshot(path=SHOTS / "publicity-phone.png", full_page=True)
        await row.get_by_role("link", name="提出异议").click()
        await page.fill("#f-objector_name", "赵六")
        await page.fill("#f-mobile", mobile)
        await page.get_by_role("button", name="获取验证码").click()
        await expect(page.locator('[data-note-for="mobile"]')).to_contain_text("验证码已发送")
        await page.fill("#f-sms_code", await sms_code(sms_outbox, mobile, "objection"))
        await page.fill("#f-content", "其申报的获奖证书系伪造，可向颁奖单位核实。")
        await page.screenshot(path=SHOTS / "objection-form-phone.png", full_page=True)
        await page.get_by_role("button", name="提交异议", exact=True).last.click()
        await expect(page.locator("#objection-done")).to_contain_text("第 1 号")
    finally:
        await phone.close()

    context, page = await signed_in_page(chromium, gateway, cast.department)
    try:
        await page.goto("/home")
        await page.get_by_role("link", name=re.compile("公示期异议")).click()
        await page.get_by_role("link", name="异议登记与核实").first.click()
        await page.goto(f"/cases/{case_id}/objections")
        objection = page.locator("#objection-1")
        await expect(objection).to_contain_text("赵六")
        await expect(objection).to_contain_text("待核实")
        await objection.locator("summary").click()
        await objection.get_by_label("不成立").check()
        await objection.locator("textarea").fill("经向颁奖单位核实，证书真实。")
        await objection.get_by_role("button", name="提交核实结论").click()
        await expect(page.locator(".flash")).to_contain_text("已填写核实结论：不成立")
        await expect(page.locator("#objection-1")).to_contain_text("核实结论：不成立")
        await page.screenshot(path=SHOTS / "objections-desktop.png", full_page=True)
    finally:
        await context.close()


async def test_the_sysadmin_reads_the_pledge_versions_the_discredit_list_and_the_register(
    chromium, gateway, services
):
    sysadmin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    try:
        context, page = await signed_in_page(chromium, gateway, sysadmin)
        try:
            await page.get_by_role("link", name=re.compile("诚信承诺书")).click()
            await expect(page.locator("#versions")).to_contain_text("（现行）")
            await expect(page.locator("#f-pledge_text")).not_to_be_empty()
            await page.screenshot(path=SHOTS / "pledge-desktop.png", full_page=True)
            await page.goto("/home")
            await page.get_by_role("link", name=re.compile("失信记录")).click()
            await expect(page.locator("h1")).to_have_text("职称申报失信记录")
            await page.screenshot(path=SHOTS / "discredits-desktop.png", full_page=True)
            await page.goto("/home")
            await page.get_by_role("link", name=re.compile("证书登记簿")).click()
            await expect(page.locator("h1")).to_have_text("职称电子证书登记簿")
            await expect(page.get_by_role("button", name="导出Excel")).to_be_visible()
            await page.screenshot(path=SHOTS / "certificates-desktop.png", full_page=True)
        finally:
            await context.close()
    finally:
        await sysadmin.close()

"""The identity pages in Debian's chromium, driven by Playwright: what a person actually does.

Screenshots of the main pages at desktop and phone sizes land in /tmp/shots/.
"""

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import BROWSER_SIZES, CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import (
    PASSWORD,
    UNIT_NAME,
    Client,
    applicant_fields,
    enrol,
    operator_fields,
    register_admin,
    registration_form,
    sms_code,
    xlsx,
)

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SIZES = BROWSER_SIZES


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
        return await context.new_page()

    yield make
    for context in contexts:
        await context.close()


async def shot(page, name: str, size: str) -> None:
    await page.screenshot(path=SHOTS / f"{name}-{size}.png", full_page=True)


async def log_in(page, name: str, password: str = PASSWORD) -> None:
    await page.fill("#f-username", name)
    await page.fill("#f-password", password)
    await page.fill("#f-captcha_answer", CAPTCHA)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/home$"))


async def test_a_unit_admin_registers_adds_people_and_the_applicant_logs_in(
    open_page, services, sms_outbox
):
    page = await open_page("desktop")
    form = registration_form()
    await enrol(services, form)
    await page.goto("/register")
    await shot(page, "register", "desktop")
    for name in ("org_code", "si_unit_no", "admin_name", "admin_id_number", "admin_si_no"):
        await page.fill(f"#f-{name}", form[name])
    for name in ("email", "username", "password", "password_confirm", "phone", "mobile"):
        await page.fill(f"#f-{name}", form[name])

    send = page.get_by_role("button", name="获取验证码")
    await send.click()
    await expect(page.locator('[data-note-for="mobile"]')).to_contain_text("验证码已发送")
    await expect(page.locator("[data-sms-purpose]")).to_contain_text("秒后重新获取")
    await expect(page.locator("[data-sms-purpose]")).to_be_disabled()
    await page.fill("#f-sms_code", await sms_code(sms_outbox, form["mobile"]))
    await page.locator(".actions").get_by_role("button", name="保存").click()

    await expect(page.locator("h1")).to_have_text("单位管理员注册成功")
    await expect(page.locator(".facts")).to_contain_text(UNIT_NAME)
    await page.get_by_role("link", name="登录单位审核系统").click()
    await expect(page.locator("h1")).to_have_text("深圳市申报单位子系统")
    old_captcha = await page.locator("[data-captcha-id]").input_value()
    await page.get_by_role("link", name="换一张").click()
    await expect(page.locator("[data-captcha-id]")).not_to_have_value(old_captcha)
    await shot(page, "login", "desktop")
    await log_in(page, form["username"])
    await expect(page.locator(".topnav")).to_contain_text("单位管理员")
    await shot(page, "home-unit", "desktop")

    operator = operator_fields()
    await page.get_by_role("link", name="经办人管理").click()
    await page.get_by_role("link", name="新增经办员").click()
    for name in ("name", "mobile", "username", "password"):
        await page.fill(f"#f-{name}", operator[name])
    await page.get_by_role("button", name="保存").click()
    added = f"已新增经办人 赵经办（用户名 {operator['username']}）"
    await expect(page.locator(".flash")).to_contain_text(added)

    applicant = applicant_fields(name="张三")
    await page.goto("/unit/applicants/new")
    await page.fill("#f-name", applicant["name"])
    await page.fill("#f-id_number", applicant["id_number"])
    await expect(page.locator("#f-gender")).to_have_value(applicant["gender"])  # from the ID
    for name in ("mobile", "email", "username", "password"):
        await page.fill(f"#f-{name}", applicant[name])
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator(".flash")).to_contain_text(
        f"已新增申报人员 张三（用户名 {applicant['username']}）"
    )
    await expect(page.locator("table.list")).to_contain_text(applicant["username"])
    await shot(page, "applicants", "desktop")

    await page.get_by_role("button", name="退出").click()
    await expect(page.locator(".flash")).to_contain_text("您已安全退出")
    await log_in(page, applicant["username"])
    await expect(page.locator("h1")).to_contain_text("张三")
    await expect(page.locator("#my-cases")).to_contain_text("我的申报")
    await shot(page, "home-applicant", "desktop")

    phone = await open_page("phone")
    await phone.goto("/register")
    await shot(phone, "register", "phone")
    await phone.goto("/login")
    await shot(phone, "login", "phone")
    await log_in(phone, form["username"])
    await shot(phone, "home-unit", "phone")
    await phone.goto("/unit/applicants")
    await expect(phone.locator("table.list")).to_contain_text(applicant["username"])
    await shot(phone, "applicants", "phone")


async def test_the_register_form_shows_the_send_failure_beside_the_mobile(open_page):
    page = await open_page("phone")
    await page.goto("/register")
    await page.fill("#f-mobile", "12345")
    await page.get_by_role("button", name="获取验证码").click()

    error = page.locator('[data-error-for="mobile"]')
    await expect(error).to_contain_text("手机号码须为1开头的11位数字")
    await expect(page.get_by_role("button", name="获取验证码")).to_be_enabled()

    await page.locator(".actions").get_by_role("button", name="保存").click()
    await expect(page.locator('[data-error-for="org_code"]')).to_have_text("请填写机构代码")
    await expect(page.locator("#f-mobile")).to_have_value("12345")
    await shot(page, "register-errors", "phone")


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_an_import_shows_each_refused_row_with_its_reason(
    open_page, gateway, services, sms_outbox, size
):
    client = Client(str(gateway.make_url("")))
    try:
        form = await register_admin(client, services, sms_outbox)
    finally:
        await client.close()
    page = await open_page(size)
    await page.goto("/login")
    await log_in(page, form["username"])
    good, bad = applicant_fields(name="周一"), applicant_fields(name="郑三", mobile="123")
    await page.goto("/unit/applicants/import")
    await page.set_input_files(
        "#f-file",
        {"name": "申报人员.xlsx", "mimeType": XLSX, "buffer": xlsx([good, bad]).getvalue()},
    )
    await page.get_by_role("button", name="上传并导入").click()

    report = page.locator("#report")
    await expect(report).to_contain_text("成功导入 1 人，未导入 1 行")
    await expect(report.locator("tr.refused")).to_contain_text("手机号码：手机号码须为1开头")
    await expect(report.locator("tr.created")).to_contain_text(good["username"])
    await shot(page, "import-report", size)

    await page.goto("/unit/applicants/new")
    await page.fill("#f-name", "刘晓")
    await page.fill("#f-id_number", "440305199001011230")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator('[data-error-for="id_number"]')).to_have_text("身份证号校验位错误")
    await expect(page.locator("#f-name")).to_have_value("刘晓")
    await shot(page, "applicant-form-errors", size)

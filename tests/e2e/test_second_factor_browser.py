"""A department's reviewer signs in in Debian's chromium: password, then the code from the
development SMS provider's log, then the home page."""

import re

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD, sms_code
from tests.e2e.people import new_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("second_factor")]


async def test_a_department_user_signs_in_with_the_code_sent_to_the_mobile(
    chromium, gateway, services, sms_outbox
):
    person = await new_user(
        services, "department", org_id="dept-gcslh", org_name="深圳市工程师联合会"
    )
    context = await new_browser_context(chromium, gateway)
    try:
        page = await context.new_page()
        await page.goto("/login")
        await page.fill("#f-username", person["username"])
        await page.fill("#f-password", PASSWORD)
        await page.fill("#f-captcha_answer", CAPTCHA)
        await page.get_by_role("button", name="登录", exact=True).click()

        await expect(page.locator("h1")).to_have_text("登录验证")
        masked = person["mobile"][:3] + "****" + person["mobile"][-4:]
        await expect(page.locator("[data-masked-mobile]")).to_have_text(masked)
        assert not [c for c in await context.cookies() if c["name"].endswith("zc_session")]
        await expect(page.get_by_role("button", name="重新获取")).to_be_visible()

        await page.fill("#f-sms_code", await sms_code(sms_outbox, person["mobile"], "login"))
        await page.get_by_role("button", name="登录", exact=True).click()

        await expect(page).to_have_url(re.compile(r"/home$"))
        await expect(page.locator("body")).to_contain_text("深圳市工程师联合会")
    finally:
        await context.close()

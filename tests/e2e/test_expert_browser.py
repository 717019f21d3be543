"""评审专家库 in Debian's chromium: the committee's secretary adds an expert by the form and
imports a file, as a person would. Screenshots land in /tmp/shots/."""

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD
from tests.e2e.people import new_user
from tests.support.experts import COMMITTEE, expert_form, import_row, xlsx

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module", autouse=True)
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
async def page(chromium, gateway):
    context = await new_browser_context(chromium, gateway, "desktop")
    yield await context.new_page()
    await context.close()


async def test_the_secretary_adds_an_expert_and_imports_a_file(page, services, clock):
    secretary = await new_user(
        services, "committee", org_id=COMMITTEE, org_name="深圳市轻工专业高级专业技术资格评审委员会"
    )
    await page.goto("/login")
    await page.fill("#f-username", secretary["username"])
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-captcha_answer", CAPTCHA)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/home$"))

    await page.locator("#committee-tools").get_by_role("link", name="评审专家库").click()
    await expect(page.locator("h1")).to_have_text("评审专家库")
    await page.get_by_role("link", name="新增专家").click()
    expert = expert_form(name="林专家")
    for name in ("name", "id_number", "mobile", "unit_name", "speciality"):
        await page.fill(f"#f-{name}", expert[name])
    await page.select_option("#f-series_id", "gc")
    await page.select_option("#f-title_level", "正高")
    await page.fill("#f-joined_on", expert["joined_on"])
    await page.fill("#f-term_ends_on", "2030-06-01")  # four years: refused beside the field
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("#e-term_ends_on")).to_contain_text("任期最长3年")
    await expect(page.locator("#f-name")).to_have_value("林专家")
    await page.fill("#f-term_ends_on", expert["term_ends_on"])
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator(".flash")).to_contain_text("已将 林专家 加入评审专家库")
    masked = expert["id_number"][:6] + "********" + expert["id_number"][-4:]
    await expect(page.locator("table.list")).to_contain_text(masked)
    await page.screenshot(path=SHOTS / "experts-desktop.png", full_page=True)

    good, bad = expert_form(name="导入林"), expert_form(name="导入错", mobile="123")
    await page.get_by_role("link", name="批量导入").click()
    await page.set_input_files(
        "#f-file",
        {"name": "评审专家.xlsx", "mimeType": XLSX, "buffer": xlsx([import_row(good), bad])},
    )
    await page.get_by_role("button", name="上传并导入").click()
    report = page.locator("#report")
    await expect(report).to_contain_text("成功导入 1 人，未导入 1 行")
    await expect(report.locator("tr.refused")).to_contain_text("手机号码：手机号码须为1开头")
    await expect(report.locator("tr.created")).to_contain_text("导入林")
    await page.screenshot(path=SHOTS / "experts-import-desktop.png", full_page=True)
    await page.get_by_role("link", name="查看评审专家库").click()
    await expect(page.locator("table.list")).to_contain_text("导入林")

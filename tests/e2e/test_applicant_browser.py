"""The applicant's pages in Debian's chromium, driven by Playwright: a case from new to submitted,
autosave, and a session that ends in the middle of a form.

Screenshots at desktop and phone sizes land in /tmp/shots/applicant/.
"""

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.applicant_helpers import PDF, PNG, complete, open_case
from tests.e2e.conftest import BROWSER_SIZES, CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD
from tests.e2e.people import new_unit, new_user, signed_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/applicant")
SIZES = BROWSER_SIZES
SAVED = "已自动保存"


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
        page.on("dialog", _accept)
        return page

    yield make
    for context in contexts:
        await context.close()


async def _accept(dialog) -> None:
    await dialog.accept()


async def shot(page, name: str, size: str) -> None:
    # scrolled to the end, the sticky 保存 bar is drawn where the form ends, not mid-page
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    await page.screenshot(path=SHOTS / f"{name}-{size}.png", full_page=True)


async def log_in(page, username: str) -> None:
    await page.fill("#f-username", username)
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-captcha_answer", CAPTCHA)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.locator(".flash")).to_contain_text("欢迎您")


async def settled(page, key: str) -> None:
    """Autosave has caught up with everything typed: saved, and no draft kept aside."""
    await page.wait_for_function(
        "key => localStorage.getItem(key) === null && document.querySelector("
        "'[data-autosave-status]').textContent.includes('已自动保存')",
        arg=key,
    )


async def fill_row(page, index: int, values: dict) -> None:
    row = page.locator("tr[data-row]").nth(index)
    for column, value in values.items():
        cell = row.locator(f'[data-col="{column}"]')
        if await cell.evaluate("e => e.tagName") == "SELECT":
            await cell.select_option(value)
        else:
            await cell.fill(value)


async def test_an_applicant_opens_fills_and_submits_a_case_surviving_an_expired_session(
    open_page, services, clock
):
    person = await new_user(services, "applicant", unit_id=await new_unit(services), name="王申报")
    page = await open_page("desktop")
    await page.goto("/login")
    await log_in(page, person["username"])
    await page.locator("#my-cases").get_by_role("link", name="新建申报").click()

    await page.select_option("#f-round_id", "2026")
    await page.select_option("#f-review_type_id", "ptsb")
    await page.select_option("#f-committee_id", "cmte-da-zj")
    await expect(page.locator("[data-qualification-hint]")).to_have_text(
        "该评委会评审：馆员、助理馆员"
    )
    await expect(page.locator('#f-qualification_id option[value="gc-fg"]')).to_be_disabled()
    await page.select_option("#f-qualification_id", "da-zj")
    await page.get_by_role("button", name="新建申报").click()
    await expect(page.locator(".flash")).to_contain_text("已新建申报：馆员（2026年度）")
    case_path = re.sub(r"^https?://[^/]+", "", page.url)
    case_id = case_path.rsplit("/", 1)[1]

    # 基本信息: what the account knows is there already; autosave keeps up with the rest
    await page.get_by_role("link", name="填写 基本信息").click()
    await expect(page.locator("#f-id_number")).to_have_value(person["id_number"])
    await page.select_option("#f-education", "大学本科")
    await page.fill("#f-school", "深圳大学")
    await page.fill("#f-major", "档案学")
    await page.fill("#f-graduated_on", "2007-07-01")
    await page.fill("#f-position", "档案管理员")
    await page.fill("#f-work_started_on", "2007-08-01")
    await page.fill("#f-years_in_field", "12")
    await settled(page, f"zc-draft:{case_id}:basic")
    await expect(page.locator("[data-autosave-status]")).to_have_text(
        re.compile(r"已自动保存 \d\d:\d\d")
    )
    await shot(page, "flow-basic", "desktop")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator(".flash")).to_contain_text("已保存“基本信息”")

    # 工作经历: two rows, autosaved; then the session ends while a third is typed
    await page.get_by_role("link", name="填写 工作经历").click()
    key = f"zc-draft:{case_id}:work_history"
    await fill_row(page, 0, {"start": "2007-08", "end": "2015-06", "employer": "深圳市档案馆"})
    await fill_row(page, 1, {"start": "2015-07", "end": "2020-12", "employer": "深圳市测试科技"})
    await fill_row(page, 1, {"role": "档案管理员"})
    await fill_row(page, 0, {"start": "2007/08"})
    await expect(page.locator('[data-error-for="entries.0.start"]')).to_have_text(
        "起始年月格式应为YYYY-MM"
    )
    await fill_row(page, 0, {"start": "2007-08"})
    await settled(page, key)
    await expect(page.locator('[data-error-for="entries.0.start"]')).to_be_hidden()

    await page.context.clear_cookies(name="zc_session")
    await page.get_by_role("button", name="＋ 添加一行").click()
    await expect(page.locator("tr[data-row]")).to_have_count(4)
    await fill_row(page, 2, {"start": "2021-01", "end": "至今", "employer": "深圳市新单位"})
    expired = page.locator("[data-session-expired]")
    await expect(expired).to_be_visible()
    await expect(page.locator("[data-autosave-status]")).to_contain_text("登录已失效")
    await fill_row(page, 2, {"role": "高级档案员"})  # typing on is kept too
    draft = await page.evaluate("key => localStorage.getItem(key)", key)
    assert "深圳市新单位" in draft and "高级档案员" in draft
    await shot(page, "flow-work-history-expired", "desktop")

    await expired.get_by_role("link", name="重新登录").click()
    await expect(page.locator(".form-problem")).to_contain_text("登录已失效")
    await log_in(page, person["username"])
    await expect(page).to_have_url(re.compile(f"{case_path}/sections/work_history$"))
    await expect(page.locator('[name="entries.2.employer"]')).to_have_value("深圳市新单位")
    await expect(page.locator('[name="entries.2.role"]')).to_have_value("高级档案员")
    await settled(page, key)
    await expect(page.locator("[data-autosave-status]")).to_contain_text("已恢复您上次未保存的内容")
    await page.reload()
    await expect(page.locator('[name="entries.2.role"]')).to_have_value(
        "高级档案员"
    )  # on the server
    await shot(page, "flow-work-history", "desktop")

    await page.get_by_role("link", name="3. 业绩成果").click()
    await fill_row(page, 0, {"kind": "论文", "title": "企业档案数字化管理实践", "year": "2021"})
    await settled(page, f"zc-draft:{case_id}:achievements")
    await page.get_by_role("link", name="4. 继续教育").click()
    for year in range(2021, 2026):
        await page.fill(f'[name="hours_by_year.{year}"]', "72")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator(".flash")).to_contain_text("已保存“继续教育”")

    for category, title, name, content in (
        ("id_card", "身份证", "身份证.png", PNG),
        ("diploma", "学历证书", "毕业证书.pdf", PDF),
        ("achievement", "业绩证明", "论文.pdf", PDF),
    ):
        group = page.locator(f"#scan-{category}")
        await group.locator('input[type="file"]').set_input_files(
            {"name": name, "mimeType": "application/octet-stream", "buffer": content}
        )
        await group.get_by_role("button", name=f"上传 {title}").click()
        await expect(page.locator(".flash")).to_contain_text(f"已上传{title}：{name}")
    await expect(page.locator("#submit")).to_contain_text("申报材料已齐全")
    await shot(page, "flow-case", "desktop")

    await expect(page.locator("#pledge")).to_contain_text("诚信承诺书")
    await page.check("#f-pledge")  # 本人已阅读并承诺
    await page.get_by_role("button", name="提交", exact=True).click()
    await expect(page.locator(".flash")).to_contain_text("已提交单位审核")
    await expect(page.locator(".case-facts")).to_contain_text("已填报上报-->待单位审核")
    await expect(page.locator("#history")).to_contain_text("待填报上报 → 待单位审核")
    await shot(page, "flow-case-submitted", "desktop")
    await page.goto("/my/cases")
    await expect(page.locator("table.my-cases")).to_contain_text("已填报上报-->待单位审核")
    await shot(page, "flow-my-cases", "desktop")


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_the_pages_read_well_at_each_size(open_page, gateway, services, clock, size):
    client = await signed_in(gateway, services, "applicant", unit_id=await new_unit(services))
    try:
        case_id = await open_case(client)
        await complete(client, case_id)
        await open_case(client, committee_id="cmte-qg-gj", qualification_id="gc-fg")
    finally:
        await client.close()
    page = await open_page(size)
    await page.goto("/login")
    await log_in(page, client.person["username"])
    await page.goto("/my/cases")
    await expect(page.locator("table.my-cases tbody tr")).to_have_count(2)
    await shot(page, "my-cases", size)
    await page.goto(f"/my/cases/{case_id}/sections/basic")
    await expect(page.locator("#f-school")).to_have_value("深圳大学")
    await shot(page, "basic", size)
    await page.goto(f"/my/cases/{case_id}/sections/work_history")
    await expect(page.locator('[name="entries.1.employer"]')).to_have_value(
        "深圳市测试科技有限公司"
    )
    await shot(page, "work-history", size)
    await page.goto(f"/my/cases/{case_id}")
    await expect(page.locator("#submit")).to_contain_text("申报材料已齐全")
    await shot(page, "case", size)
    await page.goto("/my/cases/new")
    await shot(page, "new-case", size)

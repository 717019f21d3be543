"""One case through every step of the workflow in Debian's chromium, each role in its own
browser, watching the unit home's counts move. The applicant's own steps use the JSON API.

Screenshots of the unit home, a work list, the approval form and the case view, at desktop
and phone sizes, land in /tmp/shots/cases/.
"""

import re
import uuid
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.case_steps import PUBLICITY_OVER, Cast, member, new_cast, submitted
from tests.e2e.conftest import BROWSER_SIZES, CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD
from tests.support.meetings import results_outside

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/cases")
SIZES = BROWSER_SIZES


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
async def browser_of(chromium, gateway):
    """A signed-in browser page for a person (a Client with .person), at a size."""
    contexts = []

    async def make(client, size: str = "desktop"):
        context = await new_browser_context(chromium, gateway, size)
        contexts.append(context)
        page = await context.new_page()
        page.on("dialog", _accept)
        await page.goto("/login")
        await page.fill("#f-username", client.person["username"])
        await page.fill("#f-password", PASSWORD)
        await page.fill("#f-captcha_answer", CAPTCHA)
        await page.get_by_role("button", name="登录", exact=True).click()
        await expect(page).to_have_url(re.compile(r"/home$"))
        return page

    yield make
    for context in contexts:
        await context.close()


async def _accept(dialog) -> None:
    await dialog.accept()  # the 确定…吗？ confirmations


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


async def shot(page, name: str, size: str) -> None:
    await page.screenshot(path=SHOTS / f"{name}-{size}.png", full_page=True)


def step_count(page, step: int):
    return page.locator(f'[data-step="{step}"] .flow-count')


async def expect_counts(page, **steps) -> None:
    await page.goto("/home")
    for step, count in steps.items():
        await expect(step_count(page, int(step[1:]))).to_have_text(f"[{count}]")


def row_of(page, name: str):
    return page.locator("table.case-list tr", has_text=name)


async def tick_and_press(page, list_path: str, name: str, button: str) -> None:
    """On a work list: tick the person's row and press a 功能按钮."""
    await page.goto(list_path)
    await row_of(page, name).locator('input[name="case_id"]').check()
    await expect(page.locator("[data-selected-count]")).to_have_text("已选 1 件")
    await page.locator(".toolbar").get_by_role("button", name=button, exact=True).click()


async def row_button(page, list_path: str, name: str, button: str) -> None:
    await page.goto(f"{list_path}?name={name}")
    await row_of(page, name).get_by_role("button", name=button, exact=True).click()


async def expect_flash(page, text: str) -> None:
    await expect(page.locator(".flash")).to_contain_text(text)


async def expect_pdf_ready(page) -> None:
    """On a print job's page: it follows the job until the PDF is offered, then the PDF opens."""
    link = page.get_by_role("link", name="打开 PDF 打印")
    await expect(link).to_be_visible(timeout=60_000)
    response = await page.request.get(await link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert (await response.body()).startswith(b"%PDF-")


async def eventually_counts(page, **steps) -> None:
    """The home counts once an event has moved the case (printing moves it after the PDF)."""
    for _ in range(50):
        await page.goto("/home")
        shown = [await step_count(page, int(s[1:])).inner_text() for s in steps]
        if shown == [f"[{n}]" for n in steps.values()]:
            return
        await page.wait_for_timeout(200)
    await expect_counts(page, **steps)


async def test_one_case_through_every_step_in_the_browser(
    browser_of, gateway, services, cast: Cast, clock
):
    name = "浏览" + uuid.uuid4().hex[:4]
    applicant = await member(gateway, services, cast, "applicant", name)
    await submitted(applicant, review_type_id="cxxrc")  # 创新型人才: through the office too
    unit = await browser_of(cast.operator)

    # 3 材料审核: the approval form, its live counter, its errors
    await expect_counts(unit, s3=1, s4=0, s5=0)
    await shot(unit, "unit-home", "desktop")
    await unit.locator('[data-step="3"]').click()
    await expect(unit.locator("h1")).to_have_text("3 材料审核")
    await expect(row_of(unit, name)).to_contain_text("已填报上报-->待单位审核")
    await shot(unit, "work-list", "desktop")
    await row_of(unit, name).get_by_role("link", name="审核同意").click()
    await expect(unit.locator("h1")).to_have_text("审核同意")
    await expect(unit.locator("#f-negative_situation")).to_have_value("无负面情况")
    counter = unit.locator('[data-counter-for="evaluation"]')
    await unit.fill("#f-evaluation", "优" * 205)
    await expect(counter).to_contain_text("已输入 205 / 200 字，超出 5 字")
    await expect(counter).to_have_class(re.compile("over"))
    for year in range(2021, 2025):
        await unit.select_option(f"#f-year_{year}", "优秀")
    await unit.locator(".actions").get_by_role("button", name="审核同意").click()
    await expect(unit.locator("#e-evaluation")).to_have_text(
        "单位综合评价意见不能超过200字（现205字）"
    )
    await expect(unit.locator("#e-year_2025")).to_have_text("请选择2025年度考核结果")
    await expect(unit.locator("#f-year_2021")).to_have_value("优秀")
    await shot(unit, "approval-form-errors", "desktop")
    await unit.fill("#f-evaluation", "该同志工作认真负责，业绩突出。")
    await expect(counter).to_contain_text("已输入 15 / 200 字，还可输入 185 字")
    await unit.select_option("#f-year_2025", "合格")
    await unit.fill("#f-continuing_education_opinion", "已完成继续教育学时要求。")
    await shot(unit, "approval-form", "desktop")
    await unit.locator(".actions").get_by_role("button", name="审核同意").click()
    await expect_flash(unit, f"已办理“审核同意”：{name}")
    await expect(unit).to_have_url(re.compile(r"/work/unit-3$"))
    await expect_counts(unit, s3=0, s4=1)

    # 4 打印评前公示材料: 全选, the batch form for the publicity's details
    await unit.goto("/work/unit-4")
    await unit.get_by_role("link", name="全选", exact=True).click()
    await expect(row_of(unit, name).locator('input[name="case_id"]')).to_be_checked()
    await unit.get_by_role("link", name="全不选", exact=True).click()
    await expect(row_of(unit, name).locator('input[name="case_id"]')).not_to_be_checked()
    await tick_and_press(unit, "/work/unit-4", name, "开始打印评前公示材料")
    await shot(unit, "batch-form", "desktop")
    await unit.fill("#f-method", "单位公告栏及内部网站")
    await unit.fill("#f-contact", "人事科 0755-83000000")
    await unit.get_by_role("button", name="确定开始打印评前公示材料").click()
    await expect_flash(unit, "开始打印评前公示材料：已办理 1 件")
    await expect(unit.locator("h1")).to_have_text("打印评前公示名册")
    await expect_pdf_ready(unit)
    await shot(unit, "print-job-done", "desktop")
    await unit.goto("/work/unit-4?tab=done")
    await expect(row_of(unit, name)).to_contain_text("打印评前公示完成-->待填写评前公示意见")
    await row_of(unit, name).get_by_role("button", name="打印资格评审登记表").click()
    await expect(unit.locator("h1")).to_have_text("打印专业技术资格评审登记表")
    await expect_pdf_ready(unit)
    await unit.goto("/work/unit-4?tab=done")
    await shot(unit, "work-list-done", "desktop")
    await expect_counts(unit, s4=0, s5=1)

    # 5 填写评前公示意见, once the period is over
    clock.offset += PUBLICITY_OVER
    await tick_and_press(unit, "/work/unit-5", name, "填写评前公示意见")
    await unit.get_by_label("通过", exact=True).check()
    await unit.fill("#f-feedback", "公示期间无异议")
    await unit.get_by_role("button", name="确定填写评前公示意见").click()
    await expect_flash(unit, "填写评前公示意见：已办理 1 件")
    await expect_counts(unit, s5=0, s6=1)

    # 6 提交日常工作部门
    await tick_and_press(unit, "/work/unit-6", name, "提交日常工作部门")
    await expect_flash(unit, "提交日常工作部门：已办理 1 件")
    await expect_counts(unit, s6=0)

    department = await browser_of(cast.department)
    await expect(department.locator("#work-list")).to_contain_text("预受理")
    await shot(department, "department-home", "desktop")
    await row_button(department, "/work/department-acceptance", name, "预受理通过")
    await expect_flash(department, f"已办理“预受理通过”：{name}")

    office = await browser_of(cast.office)
    await row_button(office, "/work/office-approval", name, "前置审批同意")
    await expect_flash(office, f"已办理“前置审批同意”：{name}")

    # 7 打印评审(申报)表
    await expect_counts(unit, s7=1)
    await tick_and_press(unit, "/work/unit-7", name, "打印评审(申报)表")
    await expect(unit.locator("h1")).to_have_text("打印评审（申报）表")
    await expect_pdf_ready(unit)
    await eventually_counts(unit, s7=0)

    await row_button(department, "/work/department-review", name, "审核通过并提交评委会")
    await expect_flash(department, "已办理“审核通过并提交评委会”")

    committee = await browser_of(cast.committee)
    review = f"/work/committee-review?name={name}"
    await tick_and_press(committee, review, name, "评审通过（系统外评审结果）")
    await expect_flash(committee, "评审通过：已办理 1 件")

    await tick_and_press(
        department, f"/work/department-post_publicity?name={name}", name, "发起评后公示"
    )
    await expect_flash(department, "发起评后公示：已办理 1 件")

    # 9 打印评后公示材料, 10 填写评后公示意见
    await expect_counts(unit, s9=1)
    await tick_and_press(unit, "/work/unit-9", name, "开始打印评后公示材料")
    await unit.get_by_role("button", name="确定开始打印评后公示材料").click()
    await expect_flash(unit, "开始打印评后公示材料：已办理 1 件")
    await expect_pdf_ready(unit)
    await expect_counts(unit, s9=0, s10=1)
    clock.offset += PUBLICITY_OVER
    await tick_and_press(unit, "/work/unit-10", name, "填写评后公示意见")
    await unit.get_by_label("通过", exact=True).check()
    await unit.fill("#f-feedback", "评后公示期间无异议")
    await unit.get_by_role("button", name="确定填写评后公示意见").click()
    await expect_flash(unit, "填写评后公示意见：已办理 1 件")
    await expect_counts(unit, s10=0)

    await department.goto(f"/work/department-confirm?name={name}")
    await row_of(department, name).get_by_role("link", name="确认办结").click()
    await department.locator(".actions").get_by_role("button", name="确认办结").click()
    await expect_flash(department, f"已办理“确认办结”：{name}")

    # the case in full, as the unit sees it now
    await unit.goto("/work/unit-10?tab=done")
    await row_of(unit, name).get_by_role("link", name="查看申报材料").click()
    await expect(unit.locator("#case-status")).to_have_text(
        "日常工作部门已确认-->业务办结（评审通过）"
    )
    await expect(unit.locator("#history tbody tr")).to_have_count(14)
    await expect(unit.locator("#scans img").first).to_be_visible()
    # visible is not loaded: wait for the picture itself (slow on a busy machine)
    loaded = await unit.locator("#scans img").first.evaluate(
        "img => img.decode().then(() => img.naturalWidth, () => 0)"
    )
    assert loaded == 320  # the scan itself, read through /api/files
    await expect(unit.locator("#approval")).to_contain_text("该同志工作认真负责，业绩突出。")
    await expect(unit.locator("#publicity")).to_contain_text("单位公告栏及内部网站")
    await unit.locator("#scans img").last.scroll_into_view_if_needed()  # load the lazy ones
    await expect(unit.locator("#scans figcaption").first).to_contain_text("身份证.png")
    await shot(unit, "case-view", "desktop")


async def test_the_unit_pages_on_a_phone(browser_of, gateway, services, cast: Cast, clock):
    name = "手机" + uuid.uuid4().hex[:4]
    applicant = await member(gateway, services, cast, "applicant", name)
    case_id = await submitted(applicant)
    await submitted(cast.applicant)
    phone = await browser_of(cast.operator, "phone")
    await expect_counts(phone, s3=2)
    await shot(phone, "unit-home", "phone")
    await phone.locator('[data-step="3"]').click()
    await expect(phone.locator("table.case-list tbody tr")).to_have_count(2)
    await expect(row_of(phone, name).locator('td[data-label="业务状态"]')).to_be_visible()
    await shot(phone, "work-list", "phone")
    await row_of(phone, name).get_by_role("link", name="审核同意").click()
    await phone.fill("#f-evaluation", "业绩突出" * 10)
    await expect(phone.locator('[data-counter-for="evaluation"]')).to_contain_text(
        "已输入 40 / 200"
    )
    await shot(phone, "approval-form", "phone")
    await phone.goto(f"/cases/{case_id}")
    await expect(phone.locator("#basic")).to_contain_text("深圳大学")
    await phone.locator("#scans img").last.scroll_into_view_if_needed()
    await shot(phone, "case-view", "phone")
    await phone.goto("/work/unit-3?tab=done")
    await expect(phone.locator(".empty")).to_contain_text("本环节还没有已办业务")

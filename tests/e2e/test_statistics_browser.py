"""统计查询 in Debian's chromium: a department's reviewer signs in with the code sent to the
mobile, opens 统计查询 from the home page, sees the charts drawn (each SVG laid out at a
size, its Chinese names rendered in the page's font), downloads 导出Excel, and the workbook
openpyxl reads holds the figures of the page's tables, table by table.

Screenshots land in /tmp/shots/statistics/.
"""

import re
from pathlib import Path

import openpyxl
import pytest
from playwright.async_api import expect

from shared.contracts.cases.statistics import TABLES
from tests.e2e.case_steps import at_department, must, new_cast, passed
from tests.e2e.conftest import CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD, sms_code
from tests.e2e.people import new_user
from tests.support.meetings import results_outside

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/statistics")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    async with results_outside(services["cases"].pool):
        yield made
    await made.close()


async def signed_in_with_code(chromium, gateway, person, sms_outbox):
    context = await new_browser_context(chromium, gateway)
    page = await context.new_page()
    await page.goto("/login")
    await page.fill("#f-username", person["username"])
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-captcha_answer", CAPTCHA)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.locator("h1")).to_have_text("登录验证")
    await page.fill("#f-sms_code", await sms_code(sms_outbox, person["mobile"], "login"))
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/home$"))
    return context, page


def shown(value, kind: str) -> str:
    """A workbook cell as the page writes the figure."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "days":
        return f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


async def test_a_department_opens_the_statistics_and_downloads_the_same_figures(
    chromium, gateway, services, cast, second_factor, clock, sms_outbox, shots, tmp_path
):
    """`second_factor` comes after `cast`: the cast signs in before the code is asked."""
    returned = await at_department(cast, clock)
    await must(cast.department, returned, "return", reason="缺少业绩证明", target="draft")
    await passed(cast, clock)
    person = await new_user(
        services, "department", org_id="dept-gcslh", org_name="深圳市工程师联合会", name="统计员"
    )
    context, page = await signed_in_with_code(chromium, gateway, person, sms_outbox)
    try:
        await page.get_by_role("link", name=re.compile("统计查询")).click()
        await expect(page.locator("h1")).to_have_text("统计查询")
        await page.screenshot(path=shots / "department.png", full_page=True)

        charts = page.locator("svg.chart")
        assert await charts.count() >= 5
        for i in range(await charts.count()):
            chart = charts.nth(i)
            await chart.scroll_into_view_if_needed()
            box = await chart.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 20
            assert CJK.search(await chart.locator("title").first.text_content())
        label = page.locator("#chart-by_state .bar-label").first
        assert CJK.search(await label.text_content())
        drawn = await label.evaluate(
            "t => ({width: t.getBBox().width, font: getComputedStyle(t).fontFamily,"
            " glyphs: t.getNumberOfChars()})"
        )
        assert drawn["width"] > 8 * drawn["glyphs"]  # Chinese glyphs drawn, not empty boxes
        assert "Noto Sans CJK SC" in drawn["font"]

        tables = await page.locator("section.stat-section").evaluate_all(
            """sections => sections.map(s => ({
                title: s.querySelector('h2').textContent.trim(),
                rows: [...s.querySelectorAll('tbody tr')].map(
                    r => [...r.children].map(c => c.textContent.trim()))
            }))"""
        )
        total = await page.locator("#total-cases").text_content()

        async with page.expect_download() as info:
            await page.get_by_role("link", name="导出Excel").click()
        download = await info.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
    finally:
        await context.close()

    book = openpyxl.load_workbook(saved)
    about = dict(book["查询条件"].iter_rows(min_row=2, values_only=True))
    assert shown(about["申报总数"], "count") == total
    assert about["统计范围"] == "深圳市工程师联合会受理的申报"
    by_title = {t["title"]: t["rows"] for t in tables}
    assert list(by_title) == [t.title for t in TABLES]
    for table in TABLES:
        kinds = [c.kind for c in table.columns]
        sheet = list(book[table.title].iter_rows(min_row=2, values_only=True))
        assert [[shown(v, k) for v, k in zip(row, kinds, strict=True)] for row in sheet] == (
            by_title[table.title]
        ), table.title
    assert by_title["退回最多的单位"][0][0] == "深圳市测试科技有限公司"

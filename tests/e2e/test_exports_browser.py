"""导出Excel in Debian's chromium: a unit operator filters a work list, clicks 导出Excel, the
job page follows the export to its end and the 下载 Excel 文件 link gives a file that openpyxl
reads, holding the list's rows in the page's order."""

import re
from pathlib import Path

import openpyxl
import pytest
from playwright.async_api import expect

from tests.e2e.case_steps import member, new_cast, submitted
from tests.e2e.conftest import CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


async def signed_in_page(chromium, gateway, client):
    context = await new_browser_context(chromium, gateway)
    page = await context.new_page()
    await page.goto("/login")
    await page.fill("#f-username", client.person["username"])
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-captcha_answer", CAPTCHA)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/home$"))
    return context, page


async def test_the_operator_clicks_export_and_downloads_the_list(
    chromium, gateway, services, cast, tmp_path: Path
):
    await submitted(cast.applicant)
    for name in ("钱七", "孙八"):
        await submitted(await member(gateway, services, cast, "applicant", name))
    context, page = await signed_in_page(chromium, gateway, cast.operator)
    try:
        await page.goto("/work/unit-3?sort=name")
        shown = await page.locator("table.case-list td.name").all_inner_texts()
        assert len(shown) == 3
        await page.get_by_role("button", name="导出Excel").click()
        await expect(page).to_have_url(re.compile(r"/exports/[0-9a-f-]{36}\?back="))
        await expect(page.locator("h1")).to_have_text("导出Excel：材料审核（待办业务）")
        link = page.get_by_role("link", name="下载 Excel 文件")
        await expect(link).to_be_visible(timeout=30_000)
        async with page.expect_download() as download_info:
            await link.click()
        download = await download_info.value
        assert download.suggested_filename.startswith("材料审核（待办业务）-")
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        book = openpyxl.load_workbook(saved, read_only=True)
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        assert rows[0][:2] == ("业务编号", "人员姓名")
        assert [r[1] for r in rows[1:]] == shown
        await page.get_by_role("link", name="返回列表").click()
        await expect(page).to_have_url(re.compile(r"/work/unit-3\?sort=name$"))
    finally:
        await context.close()

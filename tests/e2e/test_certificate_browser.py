"""The 职称电子证书 in Debian's chromium: the applicant's case passes, they download the
signed certificate from their case page, and someone who is not signed in opens the link of
its QR code and sees 有效; the applicant then sees that query in their 查询记录.

Screenshots of the case page and the verification page land in /tmp/shots/certificates/.
"""

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from services.documents.signing import development_keys
from tests.e2e.case_steps import new_cast, passed
from tests.e2e.conftest import CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD
from tests.support.meetings import results_outside
from tests.support.pdf_tools import signature_of, text_of

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/certificates")


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


async def signed_in_page(chromium, gateway, client, size: str = "desktop"):
    context = await new_browser_context(chromium, gateway, size)
    page = await context.new_page()
    await page.goto("/login")
    await page.fill("#f-username", client.person["username"])
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-captcha_answer", CAPTCHA)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/home$"))
    return context, page


def qr_link(pdf_text: str) -> str:
    """The QR code's link, as the certificate prints its parts: the page, number and code
    (tests/unit/test_certificate_document.py shows the QR code holds exactly this link)."""
    flat = "".join(pdf_text.split())
    page = re.search(r"查验网址(https?://\S+?/verify)", flat).group(1)
    number = re.search(r"证书编号(SZZC-\d{4}-\d{3}-\d{5})", flat).group(1)
    code = re.search(r"验证码([2-9A-HJ-NP-Z]{8})", flat).group(1)
    return f"{page}?no={number}&code={code}"


async def test_the_applicant_downloads_the_certificate_and_a_stranger_verifies_it(
    chromium, gateway, settings, cast, clock
):
    case_id = await passed(cast, clock)
    context, page = await signed_in_page(chromium, gateway, cast.applicant)
    try:
        await page.goto(f"/my/cases/{case_id}")
        section = page.locator("#certificate")
        await expect(section.locator("h2")).to_have_text("职称电子证书")
        await expect(section.locator("#cert-status")).to_have_text("有效")
        await expect(page.locator("#cert-queries-none")).to_be_visible()
        await page.screenshot(path=SHOTS / "case-desktop.png", full_page=True)
        async with page.expect_download() as download_info:
            await page.click("#cert-download")
        download = await download_info.value
        assert download.suggested_filename.startswith("职称电子证书（张三，SZZC-")
        pdf = await asyncio.to_thread(Path(await download.path()).read_bytes)
    finally:
        await context.close()

    roots = list(development_keys(settings.var_dir).chain_files)
    signature = await signature_of(pdf, roots)
    assert (signature.intact, signature.valid, signature.trusted) == (True, True, True)
    link = qr_link(text_of(pdf))

    # Someone else, never signed in, on a phone, opens what the QR code links to.
    base = str(gateway.make_url("")).rstrip("/")
    stranger = await new_browser_context(chromium, gateway, "phone")
    try:
        page = await stranger.new_page()
        await page.goto(base + link[link.index("/verify") :])
        await expect(page.locator("#cert-status")).to_have_text("有效")
        result = page.locator("#result")
        await expect(result).to_contain_text("张*")
        await expect(result).not_to_contain_text("张三")
        await expect(page.locator("#f-no")).to_have_value(re.compile(r"^SZZC-"))
        await expect(page.locator(".topnav")).to_contain_text("登录")  # not signed in
        await page.screenshot(path=SHOTS / "verify-phone.png", full_page=True)
    finally:
        await stranger.close()

    context, page = await signed_in_page(chromium, gateway, cast.applicant)
    try:
        await page.goto(f"/my/cases/{case_id}")
        rows = page.locator("#cert-queries tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("未登录访客")
        await expect(rows.first).to_contain_text("网页查验")
    finally:
        await context.close()


async def test_a_wrong_code_typed_on_the_page_says_not_found(chromium, gateway):
    context = await new_browser_context(chromium, gateway)
    try:
        page = await context.new_page()
        await page.goto("/verify")
        await page.fill("#f-no", "SZZC-2026-001-00001")
        await page.fill("#f-code", "ABCD2345")
        await page.get_by_role("button", name="查验", exact=True).click()
        await expect(page.locator(".form-problem")).to_contain_text("未查询到该证书")
        await expect(page.locator("#result")).to_have_count(0)
        await expect(page.locator("#f-code")).to_have_value("ABCD2345")
    finally:
        await context.close()

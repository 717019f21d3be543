"""系统运行状况: the sysadmin's page of each service's key figures, asked over RPC; a message
that could not be read shows as a dead letter there, and a service that does not answer says
so, the others still shown. A screenshot in /tmp/shots/services/."""

import os
import re
from pathlib import Path

import aio_pika
import pytest
from playwright.async_api import expect

from shared.contracts.cases.events import ORGANISATION_RENAMED
from shared.topology import Names
from tests.e2e.conftest import CAPTCHA, new_browser_context
from tests.e2e.identity_helpers import PASSWORD
from tests.e2e.people import new_unit, signed_in
from tests.support.probes import publish_raw, wait_until

SERVICE_NAMES = ("账户服务", "申报业务服务", "文档服务", "通知服务")
SHOTS = Path("/tmp/shots/services")


@pytest.fixture
async def people(gateway, services):
    admin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    operator = await signed_in(gateway, services, "unit_operator", unit_id=await new_unit(services))
    yield admin, operator
    await admin.close()
    await operator.close()


async def stats(admin, service: str) -> dict:
    status, body = await admin.api("GET", f"/api/services/{service}/stats")
    assert status == 200, body
    return body


async def test_the_sysadmin_sees_every_service_and_no_one_else_does(people):
    admin, operator = people
    status, home, _ = await admin.page("/home")
    assert status == 200 and "/admin/services" in home and "系统运行状况" in home
    status, page, _ = await admin.page("/admin/services")
    assert status == 200
    for name in SERVICE_NAMES:
        assert name in page
    assert page.count(f'<td class="mono">{os.getpid()}</td>') == 4  # e2e: one process
    assert "无应答" not in page
    status, _, where = await operator.page("/admin/services")
    assert status == 403 or where == "/login"


async def test_an_unreadable_event_counts_as_failed_and_dead_lettered(people, settings):
    admin, _ = people
    before = await stats(admin, "accounts")
    message_id = await publish_raw(settings, b"not an event", ORGANISATION_RENAMED.type)
    try:

        async def dead_lettered():
            after = await stats(admin, "accounts")
            return after if after["events_dead_lettered"] > before["events_dead_lettered"] else None

        after = await wait_until(dead_lettered)
        assert after["events_dead_lettered"] - before["events_dead_lettered"] == 1
        assert after["events_failed"] - before["events_failed"] == 1
        assert after["events_handled"] == before["events_handled"]
        assert after["db_pool_size"] >= 1 and after["db_pool_max"] >= after["db_pool_size"]
        assert after["outbox_oldest_seconds"] >= 0
        status, page, _ = await admin.page("/admin/services")
        assert status == 200
        row = page[page.index('data-service="accounts"') :].split("</tr>")[0]
        assert f'<strong class="error-text">{after["events_dead_lettered"]}</strong>' in row
    finally:
        await take_dead_letter(settings, "accounts", message_id)


async def test_a_service_that_does_not_answer_is_named_and_the_others_shown(people, services):
    admin, _ = people
    await services["documents"].pause()
    try:
        status, page, _ = await admin.page("/admin/services")
    finally:
        await services["documents"].resume()
    assert status == 200
    row = page[page.index('data-service="documents"') :].split("</tr>")[0]
    assert "无应答" in row and "服务暂时不可用" in row
    assert page.count('<strong class="error-text">无应答</strong>') == 1 and "通知服务" in page


async def take_dead_letter(settings, consumer: str, message_id: str) -> None:
    """Remove this test's message from the dead-letter queue, leaving any other there."""
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(Names(settings).dead_letter_queue(consumer))
        for _ in range(100):
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                return
            if message.message_id == message_id:
                await message.ack()
                return
            await message.nack(requeue=True)


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.mark.browser
async def test_the_page_in_the_browser_shows_a_row_per_service(chromium, gateway, people, shots):
    admin, _ = people
    context = await new_browser_context(chromium, gateway)
    try:
        page = await context.new_page()
        await page.goto("/login")
        await page.fill("#f-username", admin.person["username"])
        await page.fill("#f-password", PASSWORD)
        await page.fill("#f-captcha_answer", CAPTCHA)
        await page.get_by_role("button", name="登录", exact=True).click()
        await page.get_by_role("link", name=re.compile("系统运行状况")).click()
        await expect(page.get_by_role("heading", name="系统运行状况")).to_be_visible()
        await expect(page.locator("tr[data-service]")).to_have_count(4)
        await page.screenshot(path=shots / "services-desktop.png", full_page=True)
    finally:
        await context.close()

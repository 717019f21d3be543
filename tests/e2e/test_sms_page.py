"""The sysadmin's view of SMS not settled yet (notify's sms.unsettled, as a page)."""

import uuid
from datetime import UTC, datetime, timedelta

from tests.e2e.people import new_unit, signed_in


async def test_the_sysadmin_sees_an_sms_left_sending_and_no_one_else_does(gateway, services):
    now = datetime.now(UTC)
    delivery_id = uuid.uuid4()
    await services["notify"].pool.execute(
        "INSERT INTO deliveries (id, kind, mobile, template, body, priority, status, attempts,"
        " reconciliations, sending_since, expires_at, created_at, updated_at)"
        " VALUES ($1, 'notice', '13912345678', 'case.notice', '【测试】', 1, 'sending', 1,"
        " 9, $4, $3, $2, $2)",
        delivery_id,
        now - timedelta(minutes=30),
        now + timedelta(hours=1),
        # Sending since now: notify's reconciler leaves it alone for its lease (30 s), so the
        # page is read before a reconciliation (and the development provider) settles it.
        now,
    )
    admin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    operator = await signed_in(gateway, services, "unit_operator", unit_id=await new_unit(services))
    try:
        status, home, _ = await admin.page("/home")
        assert status == 200 and "/admin/sms" in home
        status, page, _ = await admin.page("/admin/sms")
        assert status == 200
        assert "139****5678" in page and "13912345678" not in page  # masked
        assert "多次核对未完成" in page
        status, _, where = await operator.page("/admin/sms")
        assert status == 403 or where == "/login"
    finally:
        await admin.close()
        await operator.close()
        await services["notify"].pool.execute(
            "DELETE FROM delivery_events WHERE delivery_id = $1", delivery_id
        )
        await services["notify"].pool.execute("DELETE FROM deliveries WHERE id = $1", delivery_id)

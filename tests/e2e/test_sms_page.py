"""The sysadmin's view of SMS not settled yet (notify's sms.unsettled, as a page)."""

import uuid
from datetime import UTC, datetime, timedelta

from tests.e2e.people import new_unit, signed_in


async def test_the_sysadmin_sees_an_sms_left_sending_and_no_one_else_does(gateway, services):
    now = datetime.now(UTC)
    # One reconciled many times (its lease just renewed, so the running reconciler leaves
    # it alone during the test), one handed over half an hour ago with no receipt since.
    stuck, unconfirmed = uuid.uuid4(), uuid.uuid4()
    await services["notify"].pool.executemany(
        "INSERT INTO deliveries (id, kind, mobile, template, body, priority, status, attempts,"
        " reconciliations, sending_since, expires_at, created_at, updated_at)"
        " VALUES ($1, 'notice', $2, 'case.notice', '【测试】', 1, $3, 1, $4, $5, $6, $5, $5)",
        [
            (stuck, "13912345678", "sending", 9, now, now + timedelta(hours=1)),
            (unconfirmed, "13987654321", "sent", 0, now - timedelta(minutes=30), None),
        ],
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
        assert "139****4321" in page and "已交服务商" in page
        status, _, where = await operator.page("/admin/sms")
        assert status == 403 or where == "/login"
    finally:
        await admin.close()
        await operator.close()
        pool = services["notify"].pool
        await pool.execute(
            "DELETE FROM delivery_events WHERE delivery_id = ANY($1::uuid[])", [stuck, unconfirmed]
        )
        await pool.execute(
            "DELETE FROM deliveries WHERE id = ANY($1::uuid[])", [stuck, unconfirmed]
        )

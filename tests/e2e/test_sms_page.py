"""The sysadmin's view of SMS not settled yet (notify's sms.unsettled, as a page and as JSON):
mobiles masked, 显示完整号码 for the sysadmin only, audited either way."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.sealed import DELIVERY_MOBILE, sealed
from tests.e2e.people import new_unit, signed_in


@pytest.fixture
async def left(services):
    """One reconciled many times (its lease just renewed, so the running reconciler leaves it
    alone during the test), one handed over half an hour ago with no receipt since."""
    now = datetime.now(UTC)
    stuck, unconfirmed = uuid.uuid4(), uuid.uuid4()
    pool = services["notify"].pool
    await pool.executemany(
        "INSERT INTO deliveries (id, kind, mobile, template, body, priority, status, attempts,"
        " reconciliations, sending_since, expires_at, created_at, updated_at)"
        " VALUES ($1, 'notice', $2, 'case.notice', '【测试】', 1, $3, 1, $4, $5, $6, $5, $5)",
        [
            (
                stuck,
                sealed("13912345678", DELIVERY_MOBILE),
                "sending",
                9,
                now,
                now + timedelta(hours=1),
            ),
            (
                unconfirmed,
                sealed("13987654321", DELIVERY_MOBILE),
                "sent",
                0,
                now - timedelta(minutes=30),
                None,
            ),
        ],
    )
    yield stuck, unconfirmed
    ids = [stuck, unconfirmed]
    await pool.execute("DELETE FROM delivery_events WHERE delivery_id = ANY($1::uuid[])", ids)
    await pool.execute("DELETE FROM deliveries WHERE id = ANY($1::uuid[])", ids)


@pytest.fixture
async def people(gateway, services):
    admin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    operator = await signed_in(gateway, services, "unit_operator", unit_id=await new_unit(services))
    yield admin, operator
    await admin.close()
    await operator.close()


async def test_the_sysadmin_sees_an_sms_left_sending_and_no_one_else_does(left, people):
    admin, operator = people
    status, home, _ = await admin.page("/home")
    assert status == 200 and "/admin/sms" in home
    status, page, _ = await admin.page("/admin/sms")
    assert status == 200
    assert "139****5678" in page and "13912345678" not in page  # masked
    assert "显示完整号码" in page and str(left[0]) in page
    assert "多次核对未完成" in page
    assert "139****4321" in page and "已交服务商" in page
    status, _, where = await operator.page("/admin/sms")
    assert status == 403 or where == "/login"


async def test_the_json_list_is_masked_and_unmasking_is_the_sysadmins(left, people, services):
    admin, operator = people
    stuck, _ = left
    status, listed = await admin.api("GET", "/api/admin/sms")
    assert status == 200
    shown = {d["id"]: d["mobile"] for d in listed["deliveries"]}
    assert shown[str(stuck)] == "139****5678"
    assert "13912345678" not in str(listed)
    status, _ = await operator.api("GET", "/api/admin/sms")
    assert status == 403
    wanted = {"object_type": "delivery", "object_id": str(stuck), "field": "mobile"}
    status, answer = await admin.api("POST", "/api/personal/unmask", wanted)
    assert status == 200 and answer["value"] == "13912345678"
    status, _ = await operator.api("POST", "/api/personal/unmask", wanted)
    assert status == 403
    rows = await services["notify"].pool.fetch(
        "SELECT actor_role, outcome, code FROM audit_log WHERE action = 'personal.unmask'"
        " AND object_type = 'delivery' AND object_id = $1 ORDER BY seq",
        str(stuck),
    )
    assert [tuple(r) for r in rows] == [
        ("sysadmin", "ok", None),
        ("unit_operator", "refused", "forbidden"),
    ]

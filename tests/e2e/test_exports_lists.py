"""导出Excel of the cases service's other lists: the expert library, the review meetings, the
失信 records and the cases under publicity (公示与异议). Each file holds its list row for row,
in the list's order and with its filters, and the keepers' numbers in full."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.cases.sealed import DISCREDIT_ID_NUMBER, blind_id, seal
from services.notify.sealed import DELIVERY_MOBILE, sealed
from shared.masks import mask_mobile
from tests.e2e.case_steps import approved, case_of, must, new_cast
from tests.e2e.export_helpers import day, exported, exported_from_page
from tests.e2e.meeting_helpers import drawn_meeting, setting
from tests.e2e.people import signed_in
from tests.support.meetings import id_number


@pytest.fixture
async def committee(gateway, services, clock):
    made = await setting(gateway, services, cases=3, experts=5)
    yield made
    await made.close()


async def listed(client, path: str) -> dict:
    status, body = await client.api("GET", path)
    assert status == 200, body
    return body


async def test_the_secretary_exports_the_library_with_its_numbers(committee):
    body = await listed(committee.secretary, "/api/experts?page_size=200")
    _, header, rows = await exported(committee.secretary, "experts", {})
    assert header[:3] == ["姓名", "身份证号", "手机号码"]
    assert [r["姓名"] for r in rows] == [i["name"] for i in body["items"]]
    entries = {e["name"]: e for e in committee.experts}
    for row in rows:  # the secretary may see them (显示完整号码): in full
        assert row["身份证号"] == entries[row["姓名"]]["id_number"]
        assert row["手机号码"] == entries[row["姓名"]]["mobile"]
        assert isinstance(row["任期截止"], datetime) and row["状态"] == "在库"
    one = committee.experts[2]
    _, _, rows = await exported(committee.secretary, "experts", {"q": one["id_number"]})
    assert [r["姓名"] for r in rows] == [one["name"]]


async def test_the_meetings_export_as_listed(committee, clock):
    first = await drawn_meeting(committee.secretary, clock.today())
    body = await listed(committee.secretary, "/api/meetings")
    _, _, rows = await exported(committee.secretary, "meetings", {})
    assert len(rows) == body["total"] >= 1
    assert [(day(r["会议日期"]).isoformat(), r["状态"]) for r in rows] == [
        (m["meets_on"], m["phase_label"]) for m in body["items"]
    ]
    meeting = next(m for m in body["items"] if m["id"] == first)
    (row,) = [r for r in rows if day(r["会议日期"]).isoformat() == meeting["meets_on"]]
    assert (row["申报"], row["人数"], row["评委会"]) == (3, 3, committee.committee_name)
    _, _, none = await exported(committee.secretary, "meetings", {"phase": "closed"})
    assert none == []


async def test_the_sysadmin_exports_the_discredit_list_in_full(gateway, services):
    number = id_number()
    today = date.today()
    await services["cases"].pool.execute(
        "INSERT INTO discredits (id, id_number, id_number_index, name, reason, starts_on,"
        " years, last_day, department, recorded_at, recorded_by_name)"
        " VALUES ($1, $2, $3, '吴失信', '伪造业绩材料', $4, 3, $5, '深圳市工程师联合会', now(),"
        " '记录员')",
        uuid.uuid4(),
        seal(number, DISCREDIT_ID_NUMBER),
        blind_id(number),
        today,
        today + timedelta(days=3 * 365),
    )
    admin = await signed_in(gateway, services, "sysadmin")
    try:
        body = await listed(admin, f"/api/discredits?q={number}")
        rows = await exported_from_page(
            admin, "discredits", f"/admin/discredits?q={number}", {"q": number}
        )
        assert [r["姓名"] for r in rows] == [i["name"] for i in body["items"]] == ["吴失信"]
        assert rows[0]["身份证号"] == number and day(rows[0]["记录开始"]) == today
        assert rows[0]["状态"] == "执行中" and rows[0]["年限"] == 3
        status, page, _ = await admin.page("/admin/discredits")
        assert 'name="export" value="discredits"' in page
    finally:
        await admin.close()


async def test_the_cases_under_publicity_export_as_listed(gateway, services, clock):
    cast = await new_cast(gateway, services)
    try:
        case_id = await approved(cast, clock)
        await must(cast.operator, case_id, "start_pre_publicity")
        case = await case_of(cast.operator, case_id)
        body = await listed(cast.operator, "/api/objections?phase=pre")
        rows = await exported_from_page(
            cast.operator, "objections", "/objections", {"phase": "pre"}
        )
        assert [r["业务编号"] for r in rows] == [i["case_no"] for i in body["items"]]
        (row,) = [r for r in rows if r["业务编号"] == case["case_no"]]
        assert row["公示阶段"] == "评前公示" and row["异议"] == 0
        assert day(row["公示截止"]).isoformat() == case["pre_publicity"]["end"]
    finally:
        await cast.close()


async def test_each_list_is_its_keepers_to_export(committee, gateway, services):
    for key in ("experts", "meetings", "discredits"):
        status, body = await committee.operator.api(
            "POST", "/api/exports", {"list": key, "filters": {}}
        )
        assert status == 403, (key, body)
    status, body = await committee.secretary.api(
        "POST", "/api/exports", {"list": "discredits", "filters": {}}
    )
    assert status == 403, body
    status, body = await committee.secretary.api(
        "POST", "/api/exports", {"list": "experts", "filters": {"status": "old"}}
    )
    assert status == 422 and "status" in body["error"]["fields"], body


async def test_the_sysadmin_exports_the_unsettled_sms_with_the_full_mobiles(gateway, services):
    now = datetime.now(UTC)
    delivery = uuid.uuid4()
    pool = services["notify"].pool
    await pool.execute(
        "INSERT INTO deliveries (id, kind, mobile, template, body, priority, status, attempts,"
        " reconciliations, sending_since, expires_at, created_at, updated_at)"
        " VALUES ($1, 'notice', $2, 'case.notice', '【测试】', 1, 'sent', 1, 0, $3, NULL, $3, $3)",
        delivery,
        sealed("13911112222", DELIVERY_MOBILE),
        now - timedelta(minutes=40),
    )
    admin = await signed_in(gateway, services, "sysadmin")
    try:
        body = await listed(admin, "/api/admin/sms")
        rows = await exported_from_page(admin, "sms", "/admin/sms", {"unconfirmed_minutes": "10"})
        assert [mask_mobile(r["手机号码"]) for r in rows] == [
            d["mobile"] for d in body["deliveries"]
        ]
        assert "13911112222" in [r["手机号码"] for r in rows]
        status, page, _ = await admin.page("/admin/sms")
        assert 'name="export" value="sms"' in page
    finally:
        await admin.close()
        await pool.execute("DELETE FROM delivery_events WHERE delivery_id = $1", delivery)
        await pool.execute("DELETE FROM deliveries WHERE id = $1", delivery)


async def test_the_sysadmin_exports_the_audit_search_merged_as_the_page_merges_it(
    gateway, services, clock
):
    cast = await new_cast(gateway, services)
    admin = await signed_in(gateway, services, "sysadmin")
    try:
        case_id = await approved(cast, clock)
        await exported(cast.operator, "work", {"list": "unit:4"})
        person = cast.operator.person["username"]
        body = await listed(admin, f"/api/audit?person={person}&limit=200")
        assert {r["service"] for r in body["rows"]} >= {"accounts", "cases", "documents"}
        rows = await exported_from_page(
            admin, "audit", f"/admin/audit?person={person}", {"person": person}
        )
        assert [(r["对象编号"], r["操作"]) for r in rows] == [
            (r["object_id"], r["action_label"]) for r in body["rows"]
        ]
        assert isinstance(rows[0]["时间"], datetime) and rows[0]["用户名"] == person
        assert case_id in [r["对象编号"] for r in rows]
        status, page, _ = await admin.page(f"/admin/audit?person={person}")
        assert f'name="person" value="{person}"' in page
        status, body = await cast.operator.api(
            "POST", "/api/exports", {"list": "audit", "filters": {}}
        )
        assert status == 403, body
    finally:
        await admin.close()
        await cast.close()

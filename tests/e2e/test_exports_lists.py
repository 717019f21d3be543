"""导出Excel of the cases service's other lists: the expert library, the review meetings, the
失信 records (the sysadmin's, and a department's those it recorded), the certificate register
(证书登记簿) and the cases under publicity (公示与异议). Each file holds its list row for row,
in the list's order and with its filters, and the keepers' numbers in full."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import pytest

from services.cases.sealed import DISCREDIT_ID_NUMBER, blind_id, seal
from services.notify.sealed import DELIVERY_MOBILE, sealed
from shared.masks import mask_id_number, mask_mobile
from tests.e2e.case_steps import approved, case_of, must, new_cast
from tests.e2e.export_helpers import day, exported, exported_from_page
from tests.e2e.identity_helpers import Client, text_of
from tests.e2e.meeting_helpers import drawn_meeting, setting
from tests.e2e.people import signed_in
from tests.support import certificates as support
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


@dataclass
class Recorder:
    department: Client
    entries: list[str]  # in the order they were recorded
    id_numbers: list[str]


async def recorded(gateway, services, clock, names: list[str]) -> Recorder:
    """A department and committee of their own, a case of theirs for each name, and the
    department's 失信 entry against each holder (记录失信, over the API) a minute apart."""
    pool = services["cases"].pool
    department_id, committee, _ = await support.new_committee(pool)
    department = await signed_in(
        gateway, services, "department", org_id=department_id, org_name="测试部门"
    )
    id_numbers = [id_number() for _ in names]
    holders = list(zip(names, id_numbers, strict=True))
    case_ids = await support.awaiting_confirmation(
        pool, department_id, committee, holders, clock.now()
    )
    entries = []
    for case_id in case_ids:
        clock.offset += timedelta(minutes=1)
        status, entry = await department.api(
            "POST", f"/api/cases/{case_id}/discredits", {"reason": "伪造业绩材料", "years": 2}
        )
        assert status == 201, entry
        entries.append(entry["id"])
    return Recorder(department, entries, id_numbers)


async def test_a_department_exports_the_discredits_it_recorded_as_its_page_lists_them(
    gateway, services, clock
):
    mine = await recorded(gateway, services, clock, ["蒋一", "沈二"])
    other = await recorded(gateway, services, clock, ["韩三"])
    admin = await signed_in(gateway, services, "sysadmin")
    office = await signed_in(gateway, services, "office", org_id="office-zjc", org_name="专技处")
    try:
        # each department lists its own entries, newest first, and the file holds them row
        # for row, the numbers in full (the department may see them: 显示完整号码)
        body = await listed(mine.department, "/api/discredits")
        assert [i["id"] for i in body["items"]] == mine.entries[::-1]
        rows = await exported_from_page(mine.department, "discredits", "/discredits", {})
        assert [r["姓名"] for r in rows] == [i["name"] for i in body["items"]] == ["沈二", "蒋一"]
        assert [r["身份证号"] for r in rows] == mine.id_numbers[::-1]
        assert [i["id_number"] for i in body["items"]] == [
            mask_id_number(n) for n in mine.id_numbers[::-1]
        ]
        assert [(r["记录部门"], r["状态"], r["年限"]) for r in rows] == [
            (i["department"], "执行中", 2) for i in body["items"]
        ]
        assert day(rows[0]["记录开始"]) == clock.today()
        body = await listed(other.department, "/api/discredits")
        assert [i["id"] for i in body["items"]] == other.entries

        # its filters, on the page and in the file alike
        wanted = {"q": mine.id_numbers[0], "status": "running"}
        body = await listed(mine.department, "/api/discredits?" + urlencode(wanted))
        rows = await exported_from_page(
            mine.department, "discredits", "/discredits?" + urlencode(wanted), wanted
        )
        assert [r["姓名"] for r in rows] == [i["name"] for i in body["items"]] == ["蒋一"]
        _, _, rows = await exported(mine.department, "discredits", {"status": "ended"})
        assert rows == []

        # the page: masked numbers with 显示完整号码, the export button, no 提前终止
        status, page, _ = await mine.department.page("/discredits")
        shown = text_of(page)
        assert status == 200 and 'name="export" value="discredits"' in page
        assert "蒋一" in shown and "沈二" in shown and "韩三" not in shown
        assert mask_id_number(mine.id_numbers[0]) in shown and mine.id_numbers[0] not in page
        assert "显示完整号码" in shown and "终止记录" not in shown and "/end" not in page
        status, home, _ = await mine.department.page("/home")
        assert 'href="/discredits"' in home

        # ending one early stays the sysadmin's
        entry = mine.entries[0]
        ending = {"reason": "复核撤销"}
        status, body = await mine.department.api("POST", f"/api/discredits/{entry}/end", ending)
        assert status == 403, body
        status, _, _ = await mine.department.submit(f"/admin/discredits/{entry}/end", ending)
        assert status == 403
        status, _, _ = await mine.department.page("/admin/discredits")
        assert status == 403

        # the sysadmin keeps its page: /discredits takes it there with the query
        status, page, where = await admin.page("/discredits?status=running")
        assert (status, where) == (200, "/admin/discredits") and "终止记录" in page
        body = await listed(admin, "/api/discredits?page_size=200")
        assert set(mine.entries + other.entries) <= {i["id"] for i in body["items"]}

        # nobody else: the API, the page and the export
        status, _ = await office.api("GET", "/api/discredits")
        assert status == 403
        status, _, _ = await office.page("/discredits")
        assert status == 403
        status, body = await office.api(
            "POST", "/api/exports", {"list": "discredits", "filters": {}}
        )
        assert status == 403, body
    finally:
        for client in (mine.department, other.department, admin, office):
            await client.close()


@dataclass
class Certified:
    department: Client
    committee: str
    numbers: list[str]  # in the order they were issued
    id_numbers: list[str]


async def certified(gateway, services, clock, names: list[str]) -> Certified:
    """A department and committee of their own, and a certificate for each name, confirmed
    by the department's 确认办结 one a minute apart."""
    pool = services["cases"].pool
    department_id, committee, _ = await support.new_committee(pool)
    department = await signed_in(
        gateway, services, "department", org_id=department_id, org_name="测试部门"
    )
    id_numbers = [id_number() for _ in names]
    holders = list(zip(names, id_numbers, strict=True))
    case_ids = await support.awaiting_confirmation(
        pool, department_id, committee, holders, clock.now()
    )
    numbers = []
    for case_id in map(str, case_ids):
        clock.offset += timedelta(minutes=1)
        await must(department, case_id, "confirm")
        status, certificate = await department.api("GET", f"/api/cases/{case_id}/certificate")
        assert status == 200, certificate
        numbers.append(certificate["certificate_no"])
    return Certified(department, committee, numbers, id_numbers)


async def test_the_register_exports_row_for_row_as_each_keeper_lists_it(gateway, services, clock):
    mine = await certified(gateway, services, clock, ["冯一", "陈二", "褚三"])
    other = await certified(gateway, services, clock, ["卫四"])
    admin = await signed_in(gateway, services, "sysadmin")
    office = await signed_in(gateway, services, "office", org_id="office-zjc", org_name="专技处")
    try:
        # the department: its own certificates, newest first, the file row for row
        body = await listed(mine.department, "/api/certificates")
        rows = await exported_from_page(mine.department, "certificates", "/certificates", {})
        assert [r["证书编号"] for r in rows] == [i["certificate_no"] for i in body["items"]]
        assert [r["证书编号"] for r in rows] == mine.numbers[::-1]
        first = rows[-1]
        assert (first["持证人"], first["状态"], first["级别"]) == ("冯一", "有效", "副高")
        assert first["身份证号"] == mine.id_numbers[0]  # the department may see it in full
        assert body["items"][-1]["id_number"] == mask_id_number(mine.id_numbers[0])
        assert day(first["发证日期"]) == clock.today() and first["撤销日期"] is None
        assert isinstance(first["签发时间"], datetime) and isinstance(
            first["评审通过日期"], datetime
        )
        status, page, _ = await mine.department.page("/certificates")
        shown = text_of(page)
        assert status == 200 and 'name="export" value="certificates"' in page
        assert all(n in shown for n in mine.numbers) and other.numbers[0] not in shown
        assert mask_id_number(mine.id_numbers[0]) in shown and mine.id_numbers[0] not in shown
        status, home, _ = await mine.department.page("/home")
        assert 'href="/certificates"' in home

        # the sysadmin, filtered by committee and status after a revocation
        case_id = body["items"][-1]["case_id"]
        status, revoked = await mine.department.api(
            "POST", f"/api/cases/{case_id}/certificate/revoke", {"reason": "业绩材料造假"}
        )
        assert status == 200, revoked
        filters = {"committee_id": mine.committee, "status": "revoked"}
        body = await listed(admin, "/api/certificates?" + urlencode(filters))
        rows = await exported_from_page(
            admin, "certificates", "/certificates?" + urlencode(filters), filters
        )
        assert [r["证书编号"] for r in rows] == [i["certificate_no"] for i in body["items"]]
        assert [r["证书编号"] for r in rows] == [mine.numbers[0]]
        assert (rows[0]["状态"], rows[0]["撤销原因"]) == ("已撤销", "业绩材料造假")
        assert day(rows[0]["撤销日期"]) == clock.today()
        oldest = {"committee_id": mine.committee, "sort": "oldest"}
        _, header, rows = await exported(admin, "certificates", oldest)
        assert header[:4] == ["证书编号", "持证人", "身份证号", "资格名称"]
        assert [r["证书编号"] for r in rows] == mine.numbers
        status, page, _ = await admin.page("/home")
        assert 'href="/certificates"' in page

        # a bad filter: a 422 naming it, on the API, the page and the export alike
        year = "发证年度须为四位年份，如 2026"
        status, body = await admin.api("GET", "/api/certificates?year=20x6")
        assert (status, body["error"]["fields"]) == (422, {"year": year})
        status, page, _ = await admin.page("/certificates?year=20x6&status=valid")
        assert status == 422 and year in text_of(page) and 'value="20x6"' in page
        status, body = await admin.api(
            "POST", "/api/exports", {"list": "certificates", "filters": {"year": "20x6"}}
        )
        assert (status, body["error"]["fields"]) == (422, {"year": year})

        # nobody else keeps a register
        status, _ = await office.api("GET", "/api/certificates")
        assert status == 403
        status, body = await office.api(
            "POST", "/api/exports", {"list": "certificates", "filters": {}}
        )
        assert status == 403, body
    finally:
        for client in (mine.department, other.department, admin, office):
            await client.close()


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

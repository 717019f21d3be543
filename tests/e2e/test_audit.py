"""The audit trail through the gateway: every call carries the client's address, the
sysadmin searches every service's trail as one (by object, person, action; paged), and an
applicant sees who read or printed their materials, without their address."""

import uuid
from datetime import datetime
from urllib.parse import urlencode

import pytest

from tests.e2e.case_steps import at_department, case_of, new_cast
from tests.e2e.identity_helpers import Client
from tests.e2e.people import new_user, signed_in


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    made.sysadmin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    made.extra.append(made.sysadmin)
    yield made
    await made.close()


async def read_by_the_department(cast, clock) -> tuple[str, dict]:
    """A case at the department, which opens it and one of its scans."""
    case_id = await at_department(cast, clock)
    case = await case_of(cast.department, case_id)
    scan = case["attachments"][0]
    async with cast.department.http.get(f"/api/files/{scan['file_id']}") as response:
        assert response.status == 200
    return case_id, case


async def search(client: Client, **query) -> dict:
    status, body = await client.api("GET", "/api/audit?" + urlencode(query))
    assert status == 200, body
    return body


async def test_a_sign_in_through_the_gateway_records_the_address_and_the_request(gateway, services):
    person = await new_user(services, "office", org_id="office-zjc", org_name="专技处")
    request_id = f"signin-{uuid.uuid4().hex[:8]}"
    client = Client(str(gateway.make_url("")), headers={"X-Request-ID": request_id})
    try:
        status, _, where = await client.login(person["username"])
        assert status == 200 and where != "/login"
    finally:
        await client.close()
    row = await services["accounts"].pool.fetchrow(
        "SELECT * FROM audit_log WHERE request_id = $1 AND action = 'auth.login'", request_id
    )
    assert (row["actor_id"], row["client_address"]) == (person["id"], "127.0.0.1")
    assert (row["actor_role"], row["actor_org_name"]) == ("office", "专技处")


async def test_the_sysadmin_finds_a_cases_trail_in_every_service_by_its_number(cast, clock):
    case_id, case = await read_by_the_department(cast, clock)
    rows = (await search(cast.sysadmin, object=case["case_no"]))["rows"]
    seen = {(r["service"], r["action"]) for r in rows}
    assert {
        ("cases", "case.submit"),
        ("cases", "case.approve"),
        ("cases", "case.submit_to_department"),
        ("cases", "case.view"),
        ("documents", "file.read"),
    } <= seen
    assert all(case_id in r["case_ids"] for r in rows)
    times = [datetime.fromisoformat(r["at"]) for r in rows]
    assert times == sorted(times, reverse=True)
    [read] = [r for r in rows if r["action"] == "file.read"]
    department = cast.department.person
    assert (read["actor_username"], read["actor_name"], read["actor_role"]) == (
        department["username"],
        department["name"],
        "department",
    )
    assert (read["actor_org_name"], read["client_address"]) == ("深圳市工程师联合会", "127.0.0.1")
    assert read["request_id"]


async def test_the_search_pages_through_every_row_once_in_order(cast, clock):
    case_id, case = await read_by_the_department(cast, clock)
    whole = (await search(cast.sysadmin, object=case_id, limit="200"))["rows"]
    assert len(whole) >= 6
    paged, query = [], {"object": case_id, "limit": "2"}
    while True:
        page = await search(cast.sysadmin, **query)
        assert len(page["rows"]) <= 2
        paged += page["rows"]
        if page["next"] is None:
            break
        query["before"] = page["next"]
    key = [(r["service"], r["seq"]) for r in whole]
    assert [(r["service"], r["seq"]) for r in paged] == key


async def test_the_search_narrows_by_person_action_outcome_and_time(cast, clock):
    _, case = await read_by_the_department(cast, clock)
    department = cast.department.person["username"]
    by_person = (await search(cast.sysadmin, person=department))["rows"]
    assert by_person and all(
        r["actor_username"] == department or r["object_label"] == department for r in by_person
    )
    assert {"auth.login", "case.view", "file.read"} <= {r["action"] for r in by_person}
    cases_only = (await search(cast.sysadmin, object=case["case_no"], action="case."))["rows"]
    assert cases_only and all(r["action"].startswith("case.") for r in cases_only)
    later = (await search(cast.sysadmin, person=department, since="2999-01-01"))["rows"]
    assert later == []
    refused = (await search(cast.sysadmin, outcome="refused", limit="20"))["rows"]
    assert all(r["outcome"] == "refused" and r["code"] for r in refused)


async def test_only_the_sysadmin_searches_and_a_bad_query_is_a_422_naming_it(cast, gateway):
    for client in (cast.operator, cast.department, cast.applicant):
        status, _ = await client.api("GET", "/api/audit")
        assert status == 403
    anonymous = Client(str(gateway.make_url("")))
    try:
        status, _ = await anonymous.api("GET", "/api/audit")
        assert status == 401
    finally:
        await anonymous.close()
    for name, value in (("since", "yesterday"), ("before", "garbage"), ("limit", "0")):
        status, body = await cast.sysadmin.api("GET", "/api/audit?" + urlencode({name: value}))
        assert status == 422 and name in body["error"]["fields"], (name, body)


async def test_the_audit_page_shows_the_rows_and_keeps_a_wrong_date_beside_its_box(cast, clock):
    _, case = await read_by_the_department(cast, clock)
    status, page, _ = await cast.sysadmin.page(
        "/admin/audit?" + urlencode({"object": case["case_no"]})
    )
    assert status == 200
    assert "查看扫描件" in page and "查看申报材料" in page and "办理：审核同意" in page
    assert cast.department.person["name"] in page and "127.0.0.1" in page
    assert "<script>" not in page and "style=" not in page
    status, page, _ = await cast.sysadmin.page("/admin/audit?since=2026-13-40")
    assert status == 422 and "日期格式应为 YYYY-MM-DD" in page
    status, home, _ = await cast.sysadmin.page("/home")
    assert 'href="/admin/audit"' in home
    status, _, _ = await cast.operator.page("/admin/audit")
    assert status == 403


async def test_an_applicant_sees_who_read_their_materials_but_not_from_where(
    cast, gateway, services, clock
):
    case_id, _ = await read_by_the_department(cast, clock)
    status, body = await cast.applicant.api("GET", f"/api/cases/{case_id}/readers")
    assert status == 200, body
    readers = body["readers"]
    department = cast.department.person
    mine = [r for r in readers if r["name"] == department["name"] and r["role"] == "department"]
    assert {r["action"] for r in mine} == {"case.view", "file.read"}
    shown = {(r["role_label"], r["organisation"]) for r in mine}
    assert shown == {("日常工作部门", "深圳市工程师联合会")}
    assert not any("address" in key or "username" in key for r in readers for key in r)
    assert "127.0.0.1" not in str(body)
    status, page, _ = await cast.applicant.page(f"/my/cases/{case_id}/readers")
    assert status == 200 and department["name"] in page and "查看扫描件" in page
    assert "127.0.0.1" not in page
    status, overview, _ = await cast.applicant.page(f"/my/cases/{case_id}")
    assert f'href="/my/cases/{case_id}/readers"' in overview
    other = await signed_in(gateway, services, "applicant", unit_id=cast.unit_id, name="李四")
    cast.extra.append(other)
    status, _ = await other.api("GET", f"/api/cases/{case_id}/readers")
    assert status == 404
    status, _ = await cast.operator.api("GET", f"/api/cases/{case_id}/readers")
    assert status == 403

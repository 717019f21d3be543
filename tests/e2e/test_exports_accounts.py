"""导出Excel of the accounts service's lists: a unit's applicants and operators, the
sysadmin's reviewer accounts. Row for row as the lists show them; the numbers in full for the
unit's admin and the sysadmin, masked for an operator (who may not unmask them)."""

import pytest

from shared.masks import mask_id_number, mask_mobile
from tests.e2e.export_helpers import exported, exported_from_page
from tests.e2e.people import new_unit, signed_in


@pytest.fixture
async def unit(gateway, services):
    unit_id = await new_unit(services, "深圳市导出测试有限公司")
    people = {
        "admin": await signed_in(gateway, services, "unit_admin", unit_id=unit_id, name="王管理"),
        "operator": await signed_in(
            gateway, services, "unit_operator", unit_id=unit_id, name="陈经办"
        ),
        "applicants": [
            await signed_in(gateway, services, "applicant", unit_id=unit_id, name=name)
            for name in ("甲一", "乙二", "丙三")
        ],
    }
    yield people
    for client in (people["admin"], people["operator"], *people["applicants"]):
        await client.close()


async def listed(client, path: str) -> list[dict]:
    status, body = await client.api("GET", path)
    assert status == 200, body
    return body["items"]


@pytest.mark.parametrize("who", ["admin", "operator"])
async def test_the_applicants_export_as_listed_with_numbers_as_the_role_may_see(unit, who):
    client = unit[who]
    items = await listed(client, "/api/applicants?page_size=200")
    _, header, rows = await exported(client, "people", {"role": "applicant"})
    assert header == [
        "姓名",
        "用户名",
        "性别",
        "身份证号",
        "手机号码",
        "电子邮箱",
        "状态",
        "创建时间",
    ]
    assert [(r["姓名"], r["用户名"]) for r in rows] == [(i["name"], i["username"]) for i in items]
    people = {p.person["username"]: p.person for p in unit["applicants"]}
    for row in rows:
        person = people[row["用户名"]]
        if who == "admin":  # the unit's admin may see them in full (显示完整号码)
            assert row["身份证号"] == person["id_number"] and row["手机号码"] == person["mobile"]
        else:
            assert row["身份证号"] == mask_id_number(person["id_number"])
            assert row["手机号码"] == mask_mobile(person["mobile"])
            assert person["id_number"] not in str(rows) and person["mobile"] not in str(rows)


async def test_a_search_narrows_the_export_and_the_trail_keeps_no_number(gateway, services, unit):
    person = unit["applicants"][1].person
    for q in ("乙", person["id_number"]):
        items = await listed(unit["admin"], f"/api/applicants?q={q}")
        job, _, rows = await exported(unit["admin"], "people", {"role": "applicant", "q": q})
        assert [r["用户名"] for r in rows] == [i["username"] for i in items] == [person["username"]]
    admin = await signed_in(gateway, services, "sysadmin")
    try:
        status, found = await admin.api("GET", f"/api/audit?object={job['job_id']}")
        assert status == 200, found
        (row,) = found["rows"]
        assert row["details"]["filters"]["q"] == mask_id_number(person["id_number"])
        assert row["details"]["full_fields"] == ["id_number", "mobile"]
    finally:
        await admin.close()


async def test_the_operators_list_is_the_admins_to_export(unit):
    _, header, rows = await exported(unit["admin"], "people", {"role": "unit_operator"})
    assert "身份证号" not in header
    assert [r["姓名"] for r in rows] == ["陈经办"]
    status, body = await unit["operator"].api(
        "POST", "/api/exports", {"list": "people", "filters": {"role": "unit_operator"}}
    )
    assert status == 403, body


async def test_the_sysadmin_exports_the_reviewer_accounts_from_the_page(gateway, services):
    admin = await signed_in(gateway, services, "sysadmin")
    try:
        items = await listed(admin, "/api/reviewers?role=committee")
        rows = await exported_from_page(
            admin, "reviewers", "/admin/reviewers?role=committee", {"role": "committee"}
        )
        assert [(r["机构名称"], r["用户名"]) for r in rows] == [
            (i["org_name"], i["username"]) for i in items
        ]
        assert {r["机构类型"] for r in rows} <= {"评委会"}
        status, page, _ = await admin.page("/admin/reviewers?role=committee")
        assert status == 200 and 'name="export" value="reviewers"' in page
    finally:
        await admin.close()

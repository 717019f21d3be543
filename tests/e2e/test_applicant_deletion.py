"""Deleting an applicant account: only while it has no case; the page and the API."""

from tests.e2e.applicant_helpers import open_case
from tests.e2e.identity_helpers import Client, text_of
from tests.e2e.people import new_unit, new_user


async def test_an_applicant_without_cases_is_deleted_from_the_list_and_signed_out(unit, gateway):
    operator, applicant = unit["operator"], unit["applicant"]
    person = applicant.person
    assert (await applicant.api("GET", "/api/me"))[0] == 200
    _, listing, _ = await operator.page(f"/unit/applicants?q={person['username']}")
    assert f"/unit/applicants/{person['id']}/delete" in listing

    path = f"/unit/applicants/{person['id']}/delete"
    status, page, where = await operator.submit(path, {"back": "/unit/applicants"})
    assert (status, where) == (200, "/unit/applicants")
    assert f"已删除申报人员 张三（用户名 {person['username']}）" in text_of(page)
    assert f"/unit/applicants/{person['id']}/edit" not in page  # no longer listed
    assert (await applicant.api("GET", "/api/me"))[0] == 401  # its session went with it
    again = Client(str(gateway.make_url("")))
    try:
        status, _, where = await again.login(person["username"])
        assert where == "/login"  # the account is gone
    finally:
        await again.close()
    status, _ = await operator.api("GET", f"/api/applicants/{person['id']}")
    assert status == 404


async def test_an_applicant_with_a_case_is_not_deleted_and_stays_signed_in(unit):
    operator, applicant = unit["operator"], unit["applicant"]
    person = applicant.person
    await open_case(applicant)

    path = f"/unit/applicants/{person['id']}/delete"
    status, page, _ = await operator.submit(path, {"back": "/unit/applicants"})
    assert status == 200
    assert f"张三（用户名 {person['username']}）已有 1 件申报业务，不能删除" in text_of(page)
    status, body = await operator.api("DELETE", f"/api/applicants/{person['id']}")
    assert (status, body["error"]["code"]) == (409, "has_cases")
    assert (await applicant.api("GET", "/api/me"))[0] == 200  # nothing changed for them
    status, got = await operator.api("GET", f"/api/applicants/{person['id']}")
    assert status == 200 and got["active"] is True


async def test_only_the_units_own_applicants_are_deleted_and_never_its_staff(
    unit, gateway, services
):
    operator = unit["operator"]
    other_unit = await new_unit(services, "深圳市另一家测试公司")
    stranger = await new_user(services, "applicant", unit_id=other_unit)
    status, _ = await operator.api("DELETE", f"/api/applicants/{stranger['id']}")
    assert status == 404
    colleague = await new_user(services, "unit_operator", unit_id=unit["unit_id"])
    status, _ = await operator.api("DELETE", f"/api/operators/{colleague['id']}")
    assert status == 405  # operators are disabled, never deleted

    mine = await new_user(services, "applicant", unit_id=unit["unit_id"])
    status, body = await operator.api("DELETE", f"/api/applicants/{mine['id']}")
    assert (status, body) == (200, {"deleted": True})
    status, _ = await operator.api("DELETE", f"/api/applicants/{mine['id']}")
    assert status == 404

"""The identity JSON API over HTTP, with every service running for real."""

import pytest

from services.accounts.handlers.reviewers import create_sysadmin
from shared.masks import mask_id_number, mask_mobile
from shared.organisations import OFFICE_ID, OFFICE_NAME
from tests.e2e.conftest import CAPTCHA
from tests.e2e.identity_helpers import (
    NEW_PASSWORD,
    PASSWORD,
    UNIT_NAME,
    Client,
    applicant_fields,
    create_person,
    enrol,
    mobile,
    operator_fields,
    register_admin,
    registration_form,
    sms_code,
    username,
    xlsx,
)

IDENTITY_PATHS = {
    "/api/captcha": {"post"},
    "/api/sms-codes": {"post"},
    "/api/units": {"post"},
    "/api/session": {"get", "post", "delete"},
    "/api/me": {"get"},
    "/api/me/password": {"post"},
    "/api/me/sessions": {"get"},
    "/api/me/sessions/{id}": {"delete"},
    "/api/me/sessions/end-others": {"post"},
    "/api/me/mobile": {"post"},
    "/api/password-reset": {"post"},
    "/api/operators": {"get", "post"},
    "/api/operators/{id}": {"get", "patch"},
    "/api/operators/{id}/status": {"post"},
    "/api/operators/{id}/password": {"post"},
    "/api/applicants": {"get", "post"},
    "/api/applicants/{id}": {"get", "patch"},
    "/api/applicants/{id}/status": {"post"},
    "/api/applicants/{id}/password": {"post"},
    "/api/applicants/import": {"post"},
    "/api/reviewers": {"get", "post"},
    "/api/reviewers/{id}": {"get"},
    "/api/reviewers/{id}/status": {"post"},
    "/api/reviewers/{id}/password": {"post"},
}


async def api_login(client: Client, name: str, password: str = PASSWORD, answer: str = CAPTCHA):
    body = {
        "username": name,
        "password": password,
        "captcha_id": await client.captcha_id(),
        "captcha_answer": answer,
    }
    return await client.api("POST", "/api/session", body)


@pytest.fixture
async def admin(new_client, services, sms_outbox) -> Client:
    client = new_client()
    client.form = await register_admin(client, services, sms_outbox)
    status, body = await api_login(client, client.form["username"])
    assert status == 200, body
    return client


async def test_the_openapi_document_declares_every_identity_operation(http):
    async with http.get("/api/openapi.json") as response:
        document = await response.json()
    for path, methods in IDENTITY_PATHS.items():
        assert methods <= set(document["paths"].get(path, {})), path
    upload = document["paths"]["/api/applicants/import"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    listing = document["paths"]["/api/applicants"]["get"]["parameters"]
    assert {p["name"] for p in listing} == {"q", "status", "page", "page_size"}
    assert "ApplicantForm" in document["components"]["schemas"]
    reviewers = document["paths"]["/api/reviewers"]["get"]["parameters"]
    assert {p["name"] for p in reviewers} == {"role", "status"}
    status_body = document["paths"]["/api/reviewers/{id}/status"]["post"]["requestBody"]
    assert status_body == document["paths"]["/api/applicants/{id}/status"]["post"]["requestBody"]


async def test_a_unit_registers_logs_in_reads_itself_and_logs_out(new_client, services, sms_outbox):
    client = new_client()
    form = await register_admin(client, services, sms_outbox)

    status, body = await api_login(client, form["username"])
    assert status == 200
    assert body["user"]["role"] == "unit_admin" and body["user"]["unit_name"] == UNIT_NAME
    assert body["csrf_token"] == await client.csrf()
    status, me = await client.api("GET", "/api/me")
    assert status == 200 and me["username"] == form["username"]
    assert me["id_number"] == form["admin_id_number"]

    status, _ = await client.api("DELETE", "/api/session")
    assert status == 200
    status, body = await client.api("GET", "/api/me")
    assert status == 401 and body["error"]["code"] == "unauthenticated"


async def test_registration_errors_come_back_per_field(new_client):
    status, body = await new_client().api(
        "POST", "/api/units", registration_form(org_code="D2143569-1", mobile="1")
    )
    assert status == 422
    error = body["error"]
    assert error["code"] == "invalid_input" and error["status"] == 422
    assert error["fields"]["org_code"] == "机构代码校验位错误"
    assert "mobile" in error["fields"] and "sms_code" in error["fields"]


async def test_a_second_admin_for_a_unit_is_refused_on_the_org_code(
    new_client, services, sms_outbox
):
    first = await register_admin(new_client(), services, sms_outbox)
    client = new_client()
    second = registration_form(org_code=first["org_code"], admin_name="陈大文")
    await enrol(services, second)
    await client.api("POST", "/api/sms-codes", {"mobile": second["mobile"], "purpose": "register"})
    second["sms_code"] = await sms_code(sms_outbox, second["mobile"])

    status, body = await client.api("POST", "/api/units", second)

    assert status == 422
    assert "一个单位仅能注册一名单位管理员" in body["error"]["fields"]["org_code"]


async def test_sms_codes_have_a_cooldown_reported_on_the_mobile(new_client):
    client = new_client()
    body = {"mobile": mobile(), "purpose": "register"}
    first = await client.api("POST", "/api/sms-codes", body)
    assert first[0] == 200 and first[1]["cooldown_seconds"] == 60

    status, answer = await client.api("POST", "/api/sms-codes", body)

    assert status == 429
    assert "秒后再获取" in answer["error"]["fields"]["mobile"]


async def test_login_errors_name_the_field_and_five_failures_pause_this_address(admin, new_client):
    client, name = new_client(), admin.form["username"]
    status, body = await api_login(client, name, answer="XXXX")
    assert status == 422 and body["error"]["fields"]["captcha_answer"] == "图片验证码错误"
    for _ in range(4):
        status, body = await api_login(client, name, "Wrong0pass")
        assert status == 401 and body["error"]["code"] == "bad_credentials"

    status, body = await api_login(client, name, "Wrong0pass")
    assert status == 429 and body["error"]["code"] == "login_paused"
    status, body = await api_login(client, name)
    assert status == 429 and "登录失败次数过多，请 15 分钟后再试" in body["error"]["message"]


async def test_a_request_without_the_csrf_header_is_refused(admin):
    async with admin.http.post("/api/applicants", json=applicant_fields()) as response:
        body = await response.json()
    assert response.status == 403
    assert body["error"]["code"] == "csrf_failed"
    async with admin.http.post(
        "/api/applicants", json=applicant_fields(), headers={"X-CSRF-Token": "forged"}
    ) as response:
        assert response.status == 403


async def test_a_body_that_is_not_json_is_a_400(admin):
    status, body = await admin.api("POST", "/api/applicants", data="name=x")
    assert status == 400 and body["error"]["code"] == "bad_request"


async def test_the_unit_admin_manages_an_applicant_through_the_api(admin, new_client):
    fields = applicant_fields(name="张三")
    status, created = await create_person(admin, "applicants", fields)
    assert status == 201 and created["username"] == fields["username"]
    path = f"/api/applicants/{created['id']}"

    status, page = await admin.api("GET", f"/api/applicants?q={fields['mobile']}")
    assert status == 200 and page["total"] == 1
    assert page["items"][0]["id_number"] == mask_id_number(fields["id_number"])
    status, person = await admin.api("GET", path)
    assert person["id_number"] == mask_id_number(fields["id_number"])  # 显示完整号码 shows it

    new_mobile = mobile()
    status, _ = await admin.api("PATCH", path, {"mobile": new_mobile})
    assert status == 200
    person = (await admin.api("GET", path))[1]
    assert person["mobile"] == mask_mobile(new_mobile) and person["name"] == "张三"
    assert person["id_number"] == mask_id_number(fields["id_number"])  # kept, not the mask

    applicant = new_client()
    assert (await api_login(applicant, fields["username"]))[0] == 200
    status, _ = await admin.api("POST", f"{path}/status", {"active": False})
    assert status == 200
    assert (await applicant.api("GET", "/api/me"))[0] == 401  # disabling ends its sessions
    status, body = await api_login(new_client(), fields["username"])
    assert status == 403 and body["error"]["code"] == "account_disabled"

    await admin.api("POST", f"{path}/status", {"active": True})
    reset = {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    assert (await admin.api("POST", f"{path}/password", reset))[0] == 200
    assert (await api_login(new_client(), fields["username"], NEW_PASSWORD))[0] == 200


async def test_person_errors_come_back_per_field(admin):
    status, body = await create_person(
        admin, "applicants", applicant_fields(id_number="440305199001011230", gender="男")
    )
    assert status == 422
    assert body["error"]["fields"]["id_number"] == "身份证号校验位错误"
    status, body = await create_person(admin, "operators", operator_fields(username="ab"))
    assert status == 422 and "username" in body["error"]["fields"]


async def test_an_operator_cannot_manage_operators_and_another_unit_sees_nothing(
    admin, new_client, services, sms_outbox
):
    operator = operator_fields()
    status, created = await create_person(admin, "operators", operator)
    assert status == 201
    client = new_client()
    await api_login(client, operator["username"])
    assert (await client.api("GET", "/api/operators"))[0] == 403
    assert (await create_person(client, "applicants", applicant_fields()))[0] == 201

    stranger = new_client()
    form = await register_admin(stranger, services, sms_outbox)
    await api_login(stranger, form["username"])
    status, body = await stranger.api("GET", f"/api/operators/{created['id']}")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await stranger.api("GET", "/api/operators")
    assert body["total"] == 0


async def test_an_excel_upload_creates_good_rows_and_reports_bad_ones(admin):
    good = applicant_fields()
    bad = applicant_fields(mobile="123")
    status, report = await admin.api(
        "POST", "/api/applicants/import", data={"file": xlsx([good, bad])}
    )
    assert status == 200
    assert [row["username"] for row in report["created"]] == [good["username"]]
    assert report["refused"][0]["row"] == 3
    assert "手机号码须为1开头的11位数字" in report["refused"][0]["reasons"]["mobile"]


async def test_changing_the_password_ends_every_other_session_of_the_user(admin, new_client):
    other = new_client()
    await api_login(other, admin.form["username"])
    change = {
        "old_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    }
    status, _ = await admin.api("POST", "/api/me/password", change)
    assert status == 200
    assert (await admin.api("GET", "/api/me"))[0] == 200
    assert (await other.api("GET", "/api/me"))[0] == 401
    assert (await api_login(new_client(), admin.form["username"], NEW_PASSWORD))[0] == 200


async def test_a_forgotten_password_is_reset_with_the_code_sent_to_the_mobile(
    admin, new_client, sms_outbox
):
    person = applicant_fields()
    await create_person(admin, "applicants", person)
    client = new_client()
    ask = {"mobile": person["mobile"], "purpose": "reset_password", "username": person["username"]}
    status, _ = await client.api("POST", "/api/sms-codes", ask)
    assert status == 200
    code = await sms_code(sms_outbox, person["mobile"], "reset_password")
    reset = {
        "username": person["username"],
        "mobile": person["mobile"],
        "sms_code": "000000" if code != "000000" else "111111",
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    }
    status, body = await client.api("POST", "/api/password-reset", reset)
    assert status == 422 and "验证码错误" in body["error"]["fields"]["sms_code"]

    status, _ = await client.api("POST", "/api/password-reset", reset | {"sms_code": code})
    assert status == 200
    assert (await api_login(client, person["username"], NEW_PASSWORD))[0] == 200


async def test_the_sysadmin_creates_and_lists_reviewer_accounts(admin, new_client, services):
    name = username("sa")
    await create_sysadmin(services["accounts"].pool, name, PASSWORD, "系统管理员")
    sysadmin = new_client()
    await api_login(sysadmin, name)
    reviewer = {
        "role": "department",
        "org_id": "dept-gcslh",
        "name": "孙部门",
        "username": username("dp"),
        "password": PASSWORD,
        "mobile": mobile(),
    }
    status, created = await sysadmin.api("POST", "/api/reviewers", reviewer)
    assert status == 201
    status, listing = await sysadmin.api("GET", "/api/reviewers?role=department")
    listed = {item["id"]: item for item in listing["items"]}
    assert listed[created["id"]]["org_name"] == "深圳市工程师联合会"  # from the reference data
    assert {item["role"] for item in listing["items"]} == {"department"}

    assert (await admin.api("GET", "/api/reviewers"))[0] == 403
    assert (await admin.api("POST", "/api/reviewers", reviewer))[0] == 403


async def test_a_reviewer_account_belongs_to_an_organisation_of_the_reference_data(sysadmin):
    reviewer = {
        "role": "committee",
        "org_id": "dept-gcslh",  # a department's id, not a committee's
        "name": "孙部门",
        "username": username("dp"),
        "password": PASSWORD,
        "mobile": mobile(),
    }
    status, body = await sysadmin.api("POST", "/api/reviewers", reviewer)
    assert status == 422
    assert body["error"]["fields"] == {
        "org_id": "没有编号为 dept-gcslh 的评委会，请从基础数据中选择"
    }
    status, body = await sysadmin.api("POST", "/api/reviewers", reviewer | {"org_id": ""})
    assert (status, body["error"]["fields"]) == (422, {"org_id": "请选择所属机构"})
    listing = (await sysadmin.api("GET", "/api/reviewers"))[1]["items"]
    assert reviewer["username"] not in {item["username"] for item in listing}

    status, body = await sysadmin.api("POST", "/api/reviewers", reviewer | {"role": "office"})
    assert status == 422 and body["error"]["fields"]["org_id"].startswith(
        "没有编号为 dept-gcslh 的专技处"
    )
    office = reviewer | {"role": "office", "org_id": OFFICE_ID}
    status, created = await sysadmin.api("POST", "/api/reviewers", office)
    assert status == 201, created
    assert (await sysadmin.api("GET", f"/api/reviewers/{created['id']}"))[1]["org_name"] == (
        OFFICE_NAME
    )


ORGANISATIONS = {"department": "dept-gcslh", "office": OFFICE_ID, "committee": "cmte-qg-gj"}


@pytest.fixture
async def sysadmin(new_client, services) -> Client:
    name = username("sa")
    await create_sysadmin(services["accounts"].pool, name, PASSWORD, "系统管理员")
    client = new_client()
    status, body = await api_login(client, name)
    assert status == 200, body
    client.user_id = body["user"]["id"]
    return client


async def new_reviewer(sysadmin: Client, role: str = "department") -> dict:
    reviewer = {
        "role": role,
        "org_id": ORGANISATIONS[role],
        "name": "孙部门",
        "username": username("dp"),
        "password": PASSWORD,
        "mobile": mobile(),
    }
    status, created = await sysadmin.api("POST", "/api/reviewers", reviewer)
    assert status == 201, created
    return reviewer | {"id": created["id"]}


async def test_the_sysadmin_disables_enables_and_resets_a_reviewer_through_the_api(
    sysadmin, new_client
):
    reviewer = await new_reviewer(sysadmin, "committee")
    path, name = f"/api/reviewers/{reviewer['id']}", reviewer["username"]
    status, got = await sysadmin.api("GET", path)
    assert status == 200
    assert (got["username"], got["role"], got["active"]) == (name, "committee", True)
    signed_in = new_client()
    assert (await api_login(signed_in, name))[0] == 200

    status, body = await sysadmin.api("POST", f"{path}/status", {"active": False})
    assert (status, body) == (200, {"active": False})
    assert (await signed_in.api("GET", "/api/me"))[0] == 401  # its sessions ended at once
    status, body = await api_login(new_client(), name)
    assert status == 403 and body["error"]["code"] == "account_disabled"
    assert body["error"]["message"] == "该账户已停用，请联系系统管理员"
    listed = (await sysadmin.api("GET", "/api/reviewers?role=committee&status=disabled"))[1]
    assert reviewer["id"] in {item["id"] for item in listed["items"]}
    assert {(item["role"], item["active"]) for item in listed["items"]} == {("committee", False)}
    listed = (await sysadmin.api("GET", "/api/reviewers?status=active"))[1]
    assert reviewer["id"] not in {item["id"] for item in listed["items"]}
    status, body = await sysadmin.api("GET", "/api/reviewers?status=gone")
    assert status == 422 and "status" in body["error"]["fields"]

    assert (await sysadmin.api("POST", f"{path}/status", {"active": True}))[0] == 200
    status, body = await sysadmin.api("POST", f"{path}/status", {"active": "maybe"})
    assert status == 422
    weak = {"new_password": "password", "new_password_confirm": "password"}
    status, body = await sysadmin.api("POST", f"{path}/password", weak)
    assert status == 422 and "new_password" in body["error"]["fields"]
    reset = {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    assert await sysadmin.api("POST", f"{path}/password", reset) == (200, {"reset": True})
    assert (await api_login(new_client(), name))[0] == 401
    assert (await api_login(new_client(), name, NEW_PASSWORD))[0] == 200


async def test_reviewers_and_unit_people_stay_apart_through_the_api(sysadmin, admin, new_client):
    reviewer = await new_reviewer(sysadmin, "office")
    _, person = await create_person(admin, "applicants", applicant_fields(name="郑七"))
    reset = {"new_password": "Hacked123", "new_password_confirm": "Hacked123"}

    # A unit admin reaches no reviewer account...
    for method, suffix, body in (
        ("GET", "", None),
        ("POST", "/status", {"active": False}),
        ("POST", "/password", reset),
    ):
        status, answer = await admin.api(method, f"/api/reviewers/{reviewer['id']}{suffix}", body)
        assert status == 403 and answer["error"]["code"] == "forbidden"
        # ... not even through the unit's own endpoints.
        status, _ = await admin.api(method, f"/api/applicants/{reviewer['id']}{suffix}", body)
        assert status == 404
    # The sysadmin reaches no unit person, whichever endpoint they try.
    for method, suffix, body in (
        ("GET", "", None),
        ("POST", "/status", {"active": False}),
        ("POST", "/password", reset),
    ):
        status, answer = await sysadmin.api(method, f"/api/reviewers/{person['id']}{suffix}", body)
        assert status == 404 and "郑七" not in str(answer)
        status, _ = await sysadmin.api(method, f"/api/applicants/{person['id']}{suffix}", body)
        assert status == 403
    # And not their own account: a sysadmin who disabled themselves would lock the city out.
    status, body = await sysadmin.api(
        "POST", f"/api/reviewers/{sysadmin.user_id}/status", {"active": False}
    )
    assert status == 403 and body["error"]["message"] == "不能停用或重置自己的账户"
    assert (await sysadmin.api("GET", "/api/me"))[0] == 200

    for name in (reviewer["username"], person["username"]):  # still active, same password
        assert (await api_login(new_client(), name))[0] == 200

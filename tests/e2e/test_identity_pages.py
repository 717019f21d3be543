"""The identity web pages over HTTP, with every service running for real."""

import html
import io
import re

import openpyxl
import pytest

from gateway.keys import session_cache_key
from services.accounts.domain.validation import uscc_check_char
from services.accounts.handlers.applicant_import import COLUMNS
from services.accounts.handlers.reviewers import create_sysadmin
from shared.masks import mask_id_number, mask_mobile
from shared.organisations import OFFICE_ID
from tests.e2e.identity_helpers import (
    NEW_PASSWORD,
    PASSWORD,
    UNIT_NAME,
    Client,
    applicant_fields,
    create_person,
    enrol,
    field_error,
    hidden_value,
    input_value,
    last_code,
    mobile,
    operator_fields,
    org_code,
    register_admin,
    registration_form,
    sms_code,
    text_of,
    username,
    xlsx,
)


@pytest.fixture
async def admin(new_client, services, sms_outbox) -> Client:
    """A unit admin of a unit of their own, logged in."""
    client = new_client()
    client.form = await register_admin(client, services, sms_outbox)
    _, _, where = await client.login(client.form["username"])
    assert where == "/home"
    return client


def row_user_id(page: str, name: str) -> str:
    """The user id in the row's 修改 link."""
    row = page[page.index(name) :]
    return row.split("/unit/applicants/", 1)[1].split("/", 1)[0]


async def test_a_unit_admin_registers_with_the_code_from_the_sms_provider_and_logs_in(
    new_client, services, sms_outbox
):
    client = new_client()
    status, page, _ = await client.page("/register")
    assert status == 200
    assert "请填写单位组织机构代码证上9位组织机构代码，不包含“-”" in page
    assert "请输入社保卡上记载的社保电脑号(注意，非社保号)" in page
    assert "获取验证码" in page
    form = registration_form()
    await enrol(services, form)

    status, page, _ = await client.submit("/register", form | {"action": "send_code"})
    assert status == 200
    assert "验证码已发送，5 分钟内有效" in page
    assert input_value(page, "org_code") == form["org_code"]
    form["sms_code"] = await sms_code(sms_outbox, form["mobile"])
    status, page, _ = await client.submit("/register", form)

    assert status == 200, text_of(page)
    assert "单位管理员注册成功" in page and UNIT_NAME in page and form["username"] in page
    assert 'href="/login?as=unit"' in page
    _, home, where = await client.login(form["username"])
    assert where == "/home"
    assert UNIT_NAME in home and "单位管理员" in home and "王小明" in home
    assert "修改密码" in home and "退出" in home


async def test_a_second_admin_for_the_same_unit_is_refused_beside_the_org_code(
    new_client, services, sms_outbox
):
    first = await register_admin(new_client(), services, sms_outbox)
    second = registration_form(org_code=first["org_code"], admin_name="陈大文")

    status, page, _ = await submit_registration(new_client(), services, sms_outbox, second)

    assert status == 422
    assert "一个单位仅能注册一名单位管理员" in field_error(page, "org_code")
    assert input_value(page, "admin_name") == "陈大文"


@pytest.mark.parametrize(
    ("registry", "field", "message"),
    [
        ({"si_unit_no": "99999999"}, "si_unit_no", "管理员当前未在该单位社保号下缴纳社保"),
        ({"si_no": "1111111111"}, "admin_si_no", "社保电脑号与社保登记不一致"),
        ({"active": False}, "si_unit_no", "管理员当前未在该单位社保号下缴纳社保"),
    ],
)
async def test_an_admin_whose_enrolment_does_not_match_is_refused(
    new_client, services, sms_outbox, registry, field, message
):
    form = registration_form()

    status, page, _ = await submit_registration(
        new_client(), services, sms_outbox, form, **registry
    )

    assert status == 422
    assert message in field_error(page, field)


async def test_the_registration_form_shows_each_error_beside_its_field_with_what_was_typed(
    new_client,
):
    client = new_client()
    typed = {
        "org_code": "12345678-1",
        "si_unit_no": "",
        "admin_name": "王小明",
        "admin_id_number": "440305198506120000",
        "admin_si_no": "12",
        "email": "not-an-email",
        "username": "ab",
        "password": "short",
        "password_confirm": "other",
        "phone": "0755-83000000",
        "mobile": "12345",
        "sms_code": "",
    }

    status, page, _ = await client.submit("/register", typed)

    assert status == 422
    assert field_error(page, "org_code") == "机构代码校验位错误"
    assert field_error(page, "si_unit_no") == "请填写单位社保号"
    assert field_error(page, "admin_id_number") == "身份证号校验位错误"
    assert field_error(page, "email") == "电子邮箱格式不正确"
    assert field_error(page, "username") == "用户名须为6到14位数字或字母"
    assert field_error(page, "password") == "密码长度须为8到12位"
    assert field_error(page, "password_confirm") == "两次输入的密码不一致"
    assert "手机号码须为1开头的11位数字" in field_error(page, "mobile")
    assert field_error(page, "sms_code") == "请填写验证码"
    assert field_error(page, "admin_name") == "" and field_error(page, "phone") == ""
    for name in ("org_code", "admin_name", "admin_id_number", "email", "username", "mobile"):
        assert input_value(page, name) == typed[name]
    assert input_value(page, "password") is None  # secrets are never sent back


async def test_asking_for_a_second_code_too_soon_shows_the_wait_beside_the_mobile(new_client):
    client = new_client()
    form = registration_form()
    await client.submit("/register", form | {"action": "send_code"})

    status, page, _ = await client.submit("/register", form | {"action": "send_code"})

    assert status == 429
    assert "秒后再获取" in field_error(page, "mobile")
    assert input_value(page, "username") == form["username"]


async def test_the_login_form_keeps_the_username_and_shows_each_error(admin, new_client):
    client = new_client()
    name = admin.form["username"]

    status, page, _ = await client.login(name, captcha_answer="ZZZZ")
    assert status == 422
    assert field_error(page, "captcha_answer") == "图片验证码错误"
    assert input_value(page, "username") == name
    assert 'src="data:image/png;base64,' in page and "换一张" in page

    status, page, _ = await client.login(name, "Wrong0pass")
    assert status == 401
    assert field_error(page, "password") == "用户名或密码错误"

    status, page, _ = await client.login("", "")
    assert field_error(page, "username") == "请填写用户名"
    assert field_error(page, "password") == "请填写密码"


async def test_five_failed_logins_pause_this_address_and_say_so(admin, new_client):
    client = new_client()
    name = admin.form["username"]
    for _ in range(4):
        status, page, _ = await client.login(name, "Wrong0pass")
        assert status == 401

    status, page, _ = await client.login(name, "Wrong0pass")
    assert status == 429
    assert "该账户在您当前网络上登录失败次数过多，请 15 分钟后再试" in text_of(page)
    assert "登录失败次数过多" in field_error(page, "username")

    status, page, where = await client.login(name, PASSWORD)
    assert status == 429 and where == "/login"
    assert client.session_cookie() is None


async def test_a_disabled_account_is_told_so_at_login(admin, new_client):
    fields = applicant_fields()
    _, created = await create_person(admin, "applicants", fields)
    await admin.submit(f"/unit/applicants/{created['id']}/status", {"active": "false"})

    status, page, _ = await new_client().login(fields["username"])

    assert status == 403
    assert "该账户已停用，请联系单位管理员" in page


async def test_a_form_posted_without_the_csrf_token_is_refused(admin):
    async with admin.http.post("/login", data={"username": "x", "password": "y"}) as response:
        assert response.status == 403
        assert "页面已过期" in await response.text()
    fields = applicant_fields()
    async with admin.http.post("/unit/applicants/new", data=fields) as response:
        assert response.status == 403
    _, page, _ = await admin.page(f"/unit/applicants?q={fields['username']}")
    assert "没有符合条件的申报人员" in page


async def test_the_unit_admin_adds_an_operator_and_an_applicant_and_the_applicant_logs_in(
    admin, new_client
):
    status, page, _ = await admin.page("/unit/operators/new")
    assert status == 200 and "新增经办员" in page
    operator = operator_fields()
    status, page, where = await admin.submit("/unit/operators/new", operator)
    assert where == "/unit/operators"
    assert f"已新增经办人 赵经办（用户名 {operator['username']}）" in page
    assert operator["username"] in page

    applicant = applicant_fields(name="张三")
    status, page, where = await admin.submit("/unit/applicants/new", applicant)
    assert where == "/unit/applicants"
    assert f"已新增申报人员 张三（用户名 {applicant['username']}）" in page
    _, again, _ = await admin.page("/unit/applicants")
    assert "已新增申报人员" not in again  # a flash is shown once

    person = new_client()
    status, home, where = await person.login(applicant["username"])
    assert where == "/home"
    assert "张三" in home and "我的申报" in home and "申报个人" in home
    assert "/unit/applicants" not in home


async def test_an_operator_manages_applicants_but_not_operators(admin, new_client):
    operator = operator_fields()
    await create_person(admin, "operators", operator)
    client = new_client()
    _, home, _ = await client.login(operator["username"])
    assert "申报人员管理" in home and "经办人管理" not in home

    status, _, _ = await client.page("/unit/operators")
    assert status == 403
    applicant = applicant_fields()
    _, page, where = await client.submit("/unit/applicants/new", applicant)
    assert where == "/unit/applicants" and applicant["username"] in page


async def test_the_unit_admin_edits_an_operator_without_an_email(admin):
    operator = operator_fields(name="钱经办")
    _, created = await create_person(admin, "operators", operator)
    path = f"/unit/operators/{created['id']}/edit"

    _, page, _ = await admin.page(path)
    assert input_value(page, "name") == "钱经办" and input_value(page, "email") == ""
    assert input_value(page, "mobile") == mask_mobile(operator["mobile"])
    edited = {"name": "钱新名", "mobile": input_value(page, "mobile")}
    _, page, where = await admin.submit(path, edited)

    assert where == "/unit/operators"
    assert f"已保存经办人 钱新名（用户名 {operator['username']}）" in page


async def test_the_person_forms_show_each_error_beside_its_field_with_what_was_typed(admin):
    typed = applicant_fields(id_number="440305199001011230", email="bad@", name="刘晓")
    typed["gender"] = ""

    status, page, _ = await admin.submit("/unit/applicants/new", typed)

    assert status == 422
    assert field_error(page, "id_number") == "身份证号校验位错误"
    assert field_error(page, "email") == "电子邮箱格式不正确"
    assert field_error(page, "gender") == "请填写性别"
    assert input_value(page, "name") == "刘晓"
    assert input_value(page, "id_number") == "440305199001011230"

    status, page, _ = await admin.submit("/unit/operators/new", operator_fields(mobile="999"))
    assert status == 422
    assert "手机号码须为1开头的11位数字" in field_error(page, "mobile")
    assert input_value(page, "mobile") == "999"


async def test_applicants_are_searched_filtered_and_paged(admin):
    rows = [applicant_fields() for _ in range(21)]
    await admin.api("POST", "/api/applicants/import", data={"file": xlsx(rows)})

    _, first, _ = await admin.page("/unit/applicants")
    assert "共 21 条，第 1 / 2 页" in first and first.count("<tr") == 21  # header + 20
    _, second, _ = await admin.page("/unit/applicants?page=2")
    assert "第 2 / 2 页" in second and second.count("<tr") == 2

    _, found, _ = await admin.page(f"/unit/applicants?q={rows[7]['mobile']}")
    assert "共 1 条" in found and rows[7]["username"] in found
    _, by_id, _ = await admin.page(f"/unit/applicants?q={rows[3]['id_number']}")
    assert rows[3]["username"] in by_id and "共 1 条" in by_id

    _, page, _ = await admin.page(f"/unit/applicants?q={rows[5]['username']}")
    user_id = row_user_id(page, rows[5]["username"])
    await admin.submit(f"/unit/applicants/{user_id}/status", {"active": "false"})
    _, disabled, _ = await admin.page("/unit/applicants?status=disabled")
    assert "共 1 条" in disabled and rows[5]["username"] in disabled
    assert 'value="disabled" selected' in disabled


async def test_the_unit_admin_edits_disables_enables_and_resets_an_applicant(admin, new_client):
    fields = applicant_fields(name="孙六")
    _, created = await create_person(admin, "applicants", fields)
    person = f"/unit/applicants/{created['id']}"

    _, page, _ = await admin.page(f"{person}/edit")
    masked = mask_id_number(fields["id_number"])
    assert input_value(page, "id_number") == masked  # left masked, it stays as stored
    new_mobile = mobile()
    edited = {k: fields[k] for k in ("name", "gender", "email")} | {"id_number": masked}
    _, page, _ = await admin.submit(f"{person}/edit", edited | {"mobile": new_mobile})
    assert f"已保存申报人员 孙六（用户名 {fields['username']}）" in page
    assert mask_mobile(new_mobile) in page and new_mobile not in page

    _, page, _ = await admin.submit(f"{person}/status", {"active": "false"})
    assert f"已停用申报人员 孙六（用户名 {fields['username']}）" in page
    assert (await new_client().login(fields["username"]))[0] == 403
    _, page, _ = await admin.submit(f"{person}/status", {"active": "true"})
    assert "已启用申报人员 孙六" in page

    status, page, _ = await admin.submit(
        f"{person}/password", {"new_password": "short", "new_password_confirm": "short"}
    )
    assert status == 422 and field_error(page, "new_password") == "密码长度须为8到12位"
    reset = {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    _, page, _ = await admin.submit(f"{person}/password", reset)
    assert f"已重置申报人员 孙六（用户名 {fields['username']}）的密码" in page
    assert (await new_client().login(fields["username"], NEW_PASSWORD))[2] == "/home"


async def test_excel_import_creates_the_good_rows_and_reports_the_bad_ones_in_chinese(
    admin, new_client
):
    taken = applicant_fields()
    await create_person(admin, "applicants", taken)
    good = [applicant_fields(name="周一"), applicant_fields(name="吴二")]
    bad_id = applicant_fields(name="郑三", id_number="440305199001011230")
    repeated = applicant_fields(name="王四", username=good[0]["username"])
    clash = applicant_fields(name="冯五", username=taken["username"])
    upload = xlsx([good[0], bad_id, good[1], repeated, clash])

    async with admin.http.post(
        "/unit/applicants/import",
        data={"_csrf": await admin.csrf(), "file": upload},
    ) as response:
        page = await response.text()

    assert response.status == 200
    text = " ".join(text_of(page).split())
    assert "成功导入 2 人，未导入 3 行" in text
    assert "身份证号：身份证号校验位错误" in text
    assert "用户名：用户名与第 2 行重复" in text
    assert "用户名：该用户名已被使用" in text
    assert (await new_client().login(good[1]["username"]))[2] == "/home"


async def test_an_upload_that_is_not_a_workbook_is_refused_beside_the_file_field(admin):
    async with admin.http.post(
        "/unit/applicants/import",
        data={"_csrf": await admin.csrf(), "file": io.BytesIO(b"not a workbook")},
    ) as response:
        page = await response.text()
    assert response.status == 422
    assert "请上传 .xlsx 格式的 Excel 文件" in field_error(page, "file")


async def test_the_import_template_is_a_workbook_with_the_header_row(admin):
    async with admin.http.get("/unit/applicants/import/template.xlsx") as response:
        assert response.status == 200
        assert "attachment" in response.headers["Content-Disposition"]
        book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    header = [cell.value for cell in book.active[1]]
    assert header == list(COLUMNS)


async def test_logging_out_revokes_the_session_not_just_the_cookie(admin, new_client):
    stolen = admin.session_cookie()
    _, page, where = await admin.submit("/logout", {})
    assert where == "/login" and "您已安全退出" in page

    other = new_client()
    other.http.cookie_jar.update_cookies({"zc_session": stolen})
    status, _, where = await other.page("/home")
    assert where == "/login"


async def test_changing_the_password_logs_the_user_out_everywhere_else(admin, new_client):
    elsewhere = new_client()
    await elsewhere.login(admin.form["username"])
    assert (await elsewhere.page("/home"))[2] == "/home"

    change = {
        "old_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    }
    _, page, where = await admin.submit("/password/change", change)

    assert where == "/home" and "密码已修改，您在其他设备上的登录均已退出" in page
    assert (await admin.page("/home"))[2] == "/home"
    assert (await elsewhere.page("/home"))[2] == "/login"
    assert (await new_client().login(admin.form["username"]))[0] == 401
    assert (await new_client().login(admin.form["username"], NEW_PASSWORD))[2] == "/home"


async def test_the_change_password_form_shows_a_wrong_old_password_beside_it(admin):
    status, page, _ = await admin.submit(
        "/password/change",
        {"old_password": "Wrong0pass", "new_password": NEW_PASSWORD, "new_password_confirm": "x"},
    )
    assert status == 422
    assert field_error(page, "old_password") == "原密码错误"
    assert field_error(page, "new_password_confirm") == "两次输入的密码不一致"


async def test_a_forgotten_password_is_reset_with_the_sms_code(admin, new_client, sms_outbox):
    person = applicant_fields()
    await create_person(admin, "applicants", person)
    session = new_client()
    await session.login(person["username"])
    client = new_client()
    name, phone = person["username"], person["mobile"]
    stranger = mobile()
    wrong = await client.submit(
        "/password/forgot", {"username": name, "mobile": stranger, "action": "send_code"}
    )
    # The same answer as for the right phone, and nothing sent: no one learns who has an account.
    assert "如用户名与注册手机号码一致，验证码已发送至该手机" in wrong[1]
    assert input_value(wrong[1], "username") == name

    _, page, _ = await client.submit(
        "/password/forgot", {"username": name, "mobile": phone, "action": "send_code"}
    )
    assert "如用户名与注册手机号码一致，验证码已发送至该手机，5 分钟内有效" in page
    code = await sms_code(sms_outbox, phone, "reset_password")
    assert last_code(sms_outbox, stranger, "reset_password") is None  # asked first, never sent
    form = {
        "username": name,
        "mobile": phone,
        "sms_code": code,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    }
    _, page, where = await client.submit("/password/forgot", form)

    assert where == "/login" and "密码已重设" in page
    assert (await client.login(name, NEW_PASSWORD))[2] == "/home"
    assert (await session.page("/home"))[2] == "/login"  # the reset ended the old session


@pytest.mark.parametrize(
    ("target", "lands_on"),
    [
        ("/unit/applicants?status=active", "/unit/applicants"),
        ("https://evil.example/", "/home"),
        ("//evil.example/x", "/home"),
        ("/\\evil.example", "/home"),
    ],
)
async def test_login_returns_to_a_local_next_page_only(admin, new_client, target, lands_on):
    _, _, where = await new_client().login(admin.form["username"], next=target)
    assert where == lands_on


async def test_an_anonymous_visitor_is_sent_to_login_and_back(new_client):
    client = new_client()
    status, page, where = await client.page("/unit/applicants")
    assert where == "/login" and "用户登录" in page
    assert hidden_value(page, "next") == "/unit/applicants"


async def test_the_sysadmin_creates_a_committee_account_which_sees_its_own_home(
    services, new_client
):
    name = username("sa")
    await create_sysadmin(services["accounts"].pool, name, PASSWORD, "系统管理员")
    admin = new_client()
    _, home, _ = await admin.login(name)
    assert "评审机构账户" in home and "系统管理员" in home

    status, page, _ = await admin.page("/admin/reviewers/new")
    assert '<option value="department:dept-daj">深圳市档案局</option>' in page
    assert f'<option value="office:{OFFICE_ID}">' in page
    assert '<option value="committee:cmte-qg-gj">深圳市轻工专业高级' in page

    bad = {"org": "", "name": "", "username": "x"}
    status, page, _ = await admin.submit("/admin/reviewers/new", bad)
    assert status == 422
    assert field_error(page, "org") == "请选择所属机构"
    assert field_error(page, "name") and field_error(page, "username")  # all errors at once
    assert input_value(page, "username") == "x"
    taken = {
        "org": "",
        "name": "钱评审",
        "username": name,
        "password": PASSWORD,
        "mobile": mobile(),
    }
    status, page, _ = await admin.submit("/admin/reviewers/new", taken)
    assert field_error(page, "username") == "该用户名已被使用，请换一个"
    assert field_error(page, "name") == ""
    made_up = bad | {"org": "committee:SZGCS"}
    status, page, _ = await admin.submit("/admin/reviewers/new", made_up)
    assert field_error(page, "org") == "没有编号为 SZGCS 的评委会，请从基础数据中选择"

    reviewer = {
        "org": "committee:cmte-qg-gj",
        "name": "钱评审",
        "username": username("cm"),
        "password": PASSWORD,
        "mobile": mobile(),
    }
    _, page, where = await admin.submit("/admin/reviewers/new", reviewer)
    assert where == "/admin/reviewers"
    org_name = "深圳市轻工专业高级专业技术资格评审委员会"  # from the reference data
    assert f"已新增评委会账户 {org_name}（用户名 {reviewer['username']}）" in page

    committee = new_client()
    _, home, _ = await committee.login(reviewer["username"])
    assert org_name in home and "评委会" in home and "待办业务" in home
    assert (await committee.page("/admin/reviewers"))[0] == 403


async def test_the_unit_home_keeps_a_marked_block_for_the_case_workflow(admin):
    _, home, _ = await admin.page("/home")
    assert 'data-placeholder="case-workflow"' in home
    for step in ("材料审核", "打印评前公示材料", "填写评后公示意见"):
        assert step in home
    assert "/unit/operators" in home and "/unit/applicants" in home


async def test_an_18_char_credit_code_registers_the_unit_under_its_organisation_code(
    new_client, services, sms_outbox
):
    first17 = "91440300" + org_code()
    credit_code = first17 + uscc_check_char(first17)
    first = await register_admin(new_client(), services, sms_outbox, org_code=credit_code)
    assert first["org_code"] == credit_code

    second = registration_form(org_code=credit_code[8:17], admin_name="陈大文")
    status, page, _ = await submit_registration(new_client(), services, sms_outbox, second)

    assert status == 422
    assert "一个单位仅能注册一名单位管理员" in field_error(page, "org_code")


async def submit_registration(client: Client, services, outbox, form: dict, **registry):
    """The register page, filled in by a person enrolled as `registry` says, with a real code."""
    await enrol(services, form, **registry)
    await client.api("POST", "/api/sms-codes", {"mobile": form["mobile"], "purpose": "register"})
    form["sms_code"] = await sms_code(outbox, form["mobile"])
    return await client.submit("/register", form)


async def test_an_expired_session_sends_the_user_to_login_saying_why(gateway, services):
    from tests.e2e.people import signed_in

    client = await signed_in(gateway, services, "unit_operator", unit_id=await _unit(services))
    try:
        await services["accounts"].pool.execute(
            "UPDATE sessions SET last_seen_at = last_seen_at - interval '2 hours'"
            " WHERE user_id = $1",
            client.person["id"],
        )
        # as if this gateway copy's cached answer had aged out (ZC_SESSION_CACHE_SECONDS)
        gateway.app[session_cache_key].clear()
        status, page, where = await client.page("/unit/applicants?q=a&page=2")
        assert where == "/login"
        assert "登录已失效" in page
        assert "page=2" in page  # the next link keeps the whole address
    finally:
        await client.close()


async def _unit(services):
    from tests.e2e.people import new_unit

    return await new_unit(services)


ORGANISATIONS = {"department": "dept-gcslh", "office": OFFICE_ID, "committee": "cmte-qg-gj"}


async def new_reviewer_through_the_page(admin, role: str = "department") -> dict:
    reviewer = {
        "role": role,
        "org": f"{role}:{ORGANISATIONS[role]}",
        "name": "孙部门",
        "username": username("dp"),
        "password": PASSWORD,
        "mobile": mobile(),
    }
    _, page, where = await admin.submit("/admin/reviewers/new", reviewer)
    assert where == "/admin/reviewers", page
    return reviewer


def reviewer_row(page: str, name: str) -> str:
    """The table row that holds this username."""
    rows = [row for row in page.split("<tr")[1:] if f"<td>{name}</td>" in row]
    assert len(rows) == 1, f"no row for {name}"
    return "<tr" + rows[0].split("</tr>")[0]


@pytest.fixture
async def sysadmin(new_client, services) -> Client:
    name = username("sa")
    await create_sysadmin(services["accounts"].pool, name, PASSWORD, "系统管理员")
    client = new_client()
    _, _, where = await client.login(name)
    assert where == "/home"
    client.username = name
    return client


async def test_the_sysadmin_disables_enables_and_resets_a_reviewer_account(sysadmin, new_client):
    reviewer = await new_reviewer_through_the_page(sysadmin)
    name = reviewer["username"]
    signed_in = new_client()
    assert (await signed_in.login(name))[2] == "/home"

    _, page, _ = await sysadmin.page("/admin/reviewers?role=department")
    row = reviewer_row(page, name)
    user_id = re.search(r'action="/admin/reviewers/([0-9a-f-]{36})/status"', row).group(1)
    assert "正常" in row and f"确定要停用 深圳市工程师联合会（{name}）吗？" in html.unescape(row)
    assert hidden_value(row, "active") == "false" and 'name="_csrf"' in row
    assert f'href="/admin/reviewers/{user_id}/password">重置密码</a>' in row

    back = "/admin/reviewers?role=department"
    status, page, where = await sysadmin.submit(
        f"/admin/reviewers/{user_id}/status", {"active": "false", "back": back}
    )
    assert status == 200 and where == "/admin/reviewers"
    assert f"已停用日常工作部门账户 深圳市工程师联合会（用户名 {name}）" in page
    row = reviewer_row(page, name)
    assert "已停用" in row and 'class="inactive"' in row and ">启用</button>" in row
    assert (await signed_in.page("/home"))[2] == "/login"  # its session ended at once
    status, page, _ = await new_client().login(name)
    assert status == 403 and "该账户已停用，请联系系统管理员" in page

    _, disabled, _ = await sysadmin.page("/admin/reviewers?status=disabled")
    assert name in disabled and 'value="disabled" selected' in disabled
    _, active, _ = await sysadmin.page("/admin/reviewers?status=active")
    assert name not in active
    _, page, _ = await sysadmin.submit(f"/admin/reviewers/{user_id}/status", {"active": "true"})
    assert f"已启用日常工作部门账户 深圳市工程师联合会（用户名 {name}）" in page
    assert (await new_client().login(name))[2] == "/home"

    status, page, _ = await sysadmin.page(f"/admin/reviewers/{user_id}/password")
    assert status == 200 and "重置密码" in page and name in page and "孙部门" in page
    status, page, _ = await sysadmin.submit(
        f"/admin/reviewers/{user_id}/password",
        {"new_password": "short", "new_password_confirm": "short"},
    )
    assert status == 422 and field_error(page, "new_password") == "密码长度须为8到12位"
    status, page, _ = await sysadmin.submit(
        f"/admin/reviewers/{user_id}/password",
        {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD + "x"},
    )
    assert status == 422 and field_error(page, "new_password_confirm") == "两次输入的密码不一致"
    reset = {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    _, page, where = await sysadmin.submit(f"/admin/reviewers/{user_id}/password", reset)
    assert where == "/admin/reviewers"
    assert f"已重置日常工作部门账户 深圳市工程师联合会（用户名 {name}）的密码" in page
    assert (await new_client().login(name))[0] == 401
    assert (await new_client().login(name, NEW_PASSWORD))[2] == "/home"


async def test_a_reviewer_status_change_needs_the_csrf_token(sysadmin, services):
    reviewer = await new_reviewer_through_the_page(sysadmin, "office")
    user_id = await services["accounts"].pool.fetchval(
        "SELECT id FROM users WHERE username = $1", reviewer["username"]
    )
    async with sysadmin.http.post(
        f"/admin/reviewers/{user_id}/status", data={"active": "false"}
    ) as response:
        assert response.status == 403
    assert await services["accounts"].pool.fetchval(
        "SELECT active FROM users WHERE id = $1", user_id
    )


async def test_unit_staff_never_reach_reviewer_accounts_nor_the_sysadmin_a_units_people(
    sysadmin, admin, services
):
    reviewer = await new_reviewer_through_the_page(sysadmin, "committee")
    pool = services["accounts"].pool
    reviewer_id = await pool.fetchval(
        "SELECT id FROM users WHERE username = $1", reviewer["username"]
    )
    _, person = await create_person(admin, "applicants", applicant_fields(name="郑七"))

    assert (await admin.page(f"/admin/reviewers/{reviewer_id}/password"))[0] == 403
    status, _, _ = await admin.submit(f"/admin/reviewers/{reviewer_id}/status", {"active": "false"})
    assert status == 403
    reset = {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    assert (await admin.submit(f"/admin/reviewers/{reviewer_id}/password", reset))[0] == 403

    # The sysadmin's own pages find no unit person, and the unit's pages are not theirs.
    status, page, _ = await sysadmin.page(f"/admin/reviewers/{person['id']}/password")
    assert status == 404 and "郑七" not in page
    status, _, _ = await sysadmin.submit(
        f"/admin/reviewers/{person['id']}/status", {"active": "false"}
    )
    assert status == 404
    status, _, _ = await sysadmin.submit(
        f"/unit/applicants/{person['id']}/status", {"active": "false"}
    )
    assert status == 403

    for user_id in (reviewer_id, person["id"]):
        assert await pool.fetchval("SELECT active FROM users WHERE id = $1", user_id)

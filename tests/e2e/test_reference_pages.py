"""The sysadmin's reference data pages: who reaches them, and that an edit is what the cases
service then answers."""

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.applicant_helpers import error_for, value_of
from tests.e2e.identity_helpers import Client, text_of
from tests.e2e.people import signed_in, unit_people
from tests.support.probes import wait_until


@pytest.fixture
async def sysadmin(gateway, services):
    client = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    yield client
    await client.close()


def new_round(**changes) -> dict:
    """A round of its own (inactive, far in the future), so no other test sees it."""
    form = {
        "id": "t" + uuid.uuid4().hex[:8],
        "name": "2099年度（测试）",
        "opens_on": "2099-01-01",
        "closes_on": "2099-12-31",
        "pre_publicity_days": "5",
        "post_publicity_days": "7",
        "evaluation_max_length": "200",
    }
    return form | changes


async def rounds_of(client: Client) -> dict:
    status, body = await client.api("GET", "/api/reference")
    assert status == 200, body
    return {r["id"]: r for r in body["rounds"]}


async def test_only_the_sysadmin_reaches_the_reference_pages(gateway, services, sysadmin):
    status, page, _ = await sysadmin.page("/admin/reference")
    assert status == 200
    assert (
        "评审年度" in page and "评审类型" in page and "深圳市档案中级专业技术资格评审委员会" in page
    )
    _, page, _ = await sysadmin.page("/home")
    assert "/admin/reference" in page  # the sysadmin's home links to it

    people = await unit_people(gateway, services)
    try:
        for who in ("operator", "applicant"):
            for path in ("/admin/reference", "/admin/reference/rounds/2026/edit"):
                status, _, _ = await people[who].page(path)
                assert status == 403, (who, path)
            status, _, _ = await people[who].submit("/admin/reference/rounds/new", new_round())
            assert status == 403, who
            department = {"id": "t" + uuid.uuid4().hex[:8], "name": "越权部门"}
            status, _, _ = await people[who].submit("/admin/reference/departments/new", department)
            assert status == 403, who
    finally:
        for who in ("operator", "applicant"):
            await people[who].close()

    anonymous = Client(str(gateway.make_url("")))
    try:
        status, _, where = await anonymous.page("/admin/reference")
        assert (status, where) == (200, "/login")
        async with anonymous.http.get("/admin/reference", allow_redirects=False) as response:
            where = urlsplit(response.headers["Location"])
            assert (where.path, parse_qs(where.query)["next"]) == ("/login", ["/admin/reference"])
    finally:
        await anonymous.close()


async def test_editing_a_round_changes_the_evaluation_length_the_service_answers(sysadmin):
    form = new_round()
    status, page, where = await sysadmin.submit("/admin/reference/rounds/new", form)
    assert (status, where) == (200, "/admin/reference")
    assert f"已新增评审年度：2099年度（测试）（编号 {form['id']}）" in text_of(page)
    assert (await rounds_of(sysadmin))[form["id"]]["evaluation_max_length"] == 200

    edit = f"/admin/reference/rounds/{form['id']}/edit"
    status, page, _ = await sysadmin.page(edit)
    assert status == 200 and value_of(page, "evaluation_max_length") == "200"
    status, page, where = await sysadmin.submit(edit, form | {"evaluation_max_length": "150"})
    assert (status, where) == (200, "/admin/reference")
    assert f"已保存评审年度：2099年度（测试）（编号 {form['id']}）" in text_of(page)
    assert f'data-max-length="{form["id"]}">150 字' in page

    saved = (await rounds_of(sysadmin))[form["id"]]
    assert saved["evaluation_max_length"] == 150
    assert (saved["post_publicity_days"], saved["active"]) == (7, False)


async def test_a_round_with_bad_values_comes_back_with_a_message_beside_each(sysadmin):
    form = new_round(
        name="",
        closes_on="2098-12-31",
        evaluation_max_length="20",
        pre_publicity_days="五",
    )
    status, page, _ = await sysadmin.submit("/admin/reference/rounds/new", form)
    assert status == 422
    assert error_for(page, "name") == "请填写名称"
    assert value_of(page, "closes_on") == "2098-12-31"

    status, page, _ = await sysadmin.submit("/admin/reference/rounds/new", form | {"name": "测试"})
    assert status == 422
    assert error_for(page, "evaluation_max_length") == "单位综合评价意见字数上限不能小于50"
    assert error_for(page, "pre_publicity_days") == "评前公示工作日数须为整数"
    assert value_of(page, "pre_publicity_days") == "五"

    fixed = form | {"name": "测试", "evaluation_max_length": "300", "pre_publicity_days": "5"}
    status, page, _ = await sysadmin.submit("/admin/reference/rounds/new", fixed)
    assert status == 422 and error_for(page, "closes_on") == "截止日期不能早于开始日期"
    assert form["id"] not in await rounds_of(sysadmin)

    status, page, _ = await sysadmin.submit("/admin/reference/rounds/new", new_round(id="2026"))
    assert status == 422 and error_for(page, "id") == "编号 2026 已被使用，请换一个"


async def test_committees_and_review_types_are_edited_with_errors_beside_the_fields(sysadmin):
    status, page, _ = await sysadmin.page("/admin/reference/committees/cmte-da-zj/edit")
    assert status == 200 and 'value="da-zj" checked' in page and 'value="gc-fg" checked' not in page

    committee = {
        "id": "tc-" + uuid.uuid4().hex[:8],
        "name": "测试评委会",
        "department_id": "dept-daj",
    }
    status, page, _ = await sysadmin.submit("/admin/reference/committees/new", committee)
    assert status == 422
    assert error_for(page, "qualification_ids") == "请选择评审的专业技术资格"
    assert value_of(page, "department_id") == "dept-daj"
    chosen = committee | {"qualification_ids": "da-fg"}  # inactive: nobody may choose it
    status, page, where = await sysadmin.submit("/admin/reference/committees/new", chosen)
    assert (status, where) == (200, "/admin/reference")
    _, body = await sysadmin.api("GET", "/api/reference")
    saved = next(c for c in body["committees"] if c["id"] == committee["id"])
    assert saved["qualification_ids"] == ["da-fg"] and saved["active"] is False

    twin = chosen | {
        "id": "tc-" + uuid.uuid4().hex[:8],
        "name": "深圳市档案中级专业技术资格评审委员会",
    }
    status, page, _ = await sysadmin.submit("/admin/reference/committees/new", twin)
    assert status == 422 and error_for(page, "name").startswith("已有名称为“深圳市档案中级")

    status, page, _ = await sysadmin.submit("/admin/reference/review-types/khrd/edit", {"name": ""})
    assert status == 422 and error_for(page, "name") == "请填写名称"
    _, body = await sysadmin.api("GET", "/api/reference")
    assert {t["id"]: t["name"] for t in body["review_types"]}["khrd"] == "考核认定"


async def test_a_new_department_series_and_qualification_are_ready_for_committees_and_accounts(
    sysadmin,
):
    tag = uuid.uuid4().hex[:8]
    department = {"id": f"td-{tag}", "name": f"测试区人力资源局{tag}"}
    status, page, where = await sysadmin.submit("/admin/reference/departments/new", department)
    assert (status, where) == (200, "/admin/reference")
    assert f"已新增日常工作部门：{department['name']}（编号 {department['id']}）" in text_of(page)

    series = {"id": f"ts-{tag}", "name": f"测试系列{tag}", "position": ""}
    status, page, _ = await sysadmin.submit("/admin/reference/series/new", series)
    assert status == 200
    status, page, _ = await sysadmin.page(
        f"/admin/reference/qualifications/new?series_id={series['id']}"
    )
    assert value_of(page, "series_id") == series["id"]  # the series' 新增 link chooses it

    qualification = {"id": f"tq-{tag}", "series_id": series["id"], "name": "高级测试师"}
    status, page, _ = await sysadmin.submit("/admin/reference/qualifications/new", qualification)
    assert status == 422 and error_for(page, "level") == "请选择级别"
    assert value_of(page, "name") == "高级测试师"
    qualification["level"] = "副高"
    status, page, where = await sysadmin.submit(
        "/admin/reference/qualifications/new", qualification
    )
    assert (status, where) == (200, "/admin/reference")
    assert "无（申报个人不能选择）" in page  # no committee reviews it yet

    committee = {
        "id": f"tc-{tag}",
        "name": f"测试评委会{tag}",
        "department_id": department["id"],
        "qualification_ids": qualification["id"],
        "active": "on",
    }
    status, page, _ = await sysadmin.submit("/admin/reference/committees/new", committee)
    assert status == 200
    _, body = await sysadmin.api("GET", "/api/reference")
    assert {"id": series["id"], "name": series["name"], "position": 0} in body["series"]
    saved = next(q for q in body["qualifications"] if q["id"] == qualification["id"])
    assert (saved["series_id"], saved["level"]) == (series["id"], "副高")
    assert {"id": department["id"], "name": department["name"]} in body["departments"]

    # An account for the new department or committee is now one choice away.
    _, form, _ = await sysadmin.page("/admin/reviewers/new")
    assert f'value="department:{department["id"]}">{department["name"]}<' in form
    assert f'value="committee:{committee["id"]}">{committee["name"]}<' in form


async def test_names_stay_unique_and_edits_keep_the_id(sysadmin):
    status, page, _ = await sysadmin.submit(
        "/admin/reference/departments/new",
        {"id": "t" + uuid.uuid4().hex[:8], "name": "深圳市档案局"},
    )
    assert status == 422
    assert (
        error_for(page, "name")
        == "已有名称为“深圳市档案局”的日常工作部门（编号 dept-daj），请换一个名称"
    )

    tag = uuid.uuid4().hex[:8]
    series = {"id": f"ts-{tag}", "name": f"测试系列{tag}", "position": "一"}
    status, page, _ = await sysadmin.submit("/admin/reference/series/new", series)
    assert status == 422 and error_for(page, "position") == "排序须为整数"
    status, _, _ = await sysadmin.submit("/admin/reference/series/new", series | {"position": "9"})
    assert status == 200
    qualification = {"series_id": series["id"], "name": "讲师", "level": "中级"}
    for number in (1, 2):
        status, page, _ = await sysadmin.submit(
            "/admin/reference/qualifications/new", qualification | {"id": f"tq{number}-{tag}"}
        )
        assert status == (200 if number == 1 else 422)  # 讲师 of 高校教师 stands too
    assert error_for(page, "name").startswith("已有名称为“讲师”的专业技术资格")

    edit = f"/admin/reference/series/{series['id']}/edit"
    status, page, _ = await sysadmin.submit(
        edit, {"id": "renamed", "name": f"改名{tag}", "position": "3"}
    )
    assert status == 200
    _, body = await sysadmin.api("GET", "/api/reference")
    assert {"id": series["id"], "name": f"改名{tag}", "position": 3} in body["series"]
    assert "renamed" not in {s["id"] for s in body["series"]}


async def test_renaming_a_department_renames_it_on_its_accounts(sysadmin):
    tag = uuid.uuid4().hex[:8]
    department = {"id": f"td-{tag}", "name": f"测试区人力资源局{tag}"}
    await sysadmin.submit("/admin/reference/departments/new", department)
    account = {
        "role": "department",
        "org_id": department["id"],
        "name": "孙部门",
        "username": "tr" + tag,
        "password": "Zc7Shenpi1",
        "mobile": "139" + str(uuid.uuid4().int)[:8],
    }
    status, created = await sysadmin.api("POST", "/api/reviewers", account)
    assert status == 201, created

    renamed = department | {"name": f"测试区人力资源和社会保障局{tag}"}
    edit = f"/admin/reference/departments/{department['id']}/edit"
    status, _, _ = await sysadmin.submit(edit, renamed)
    assert status == 200

    async def shows_new_name() -> bool:
        _, reviewer = await sysadmin.api("GET", f"/api/reviewers/{created['id']}")
        return reviewer["org_name"] == renamed["name"]

    await wait_until(shows_new_name, timeout=10)  # the rename travels as an event

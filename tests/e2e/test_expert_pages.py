"""评审专家库 through the gateway: the committee's and the sysadmin's pages and JSON API, one
committee's library out of another's reach, 出库, and the Excel import's report."""

import io
import re

import openpyxl
import pytest

from shared.contracts.cases.experts import IMPORT_COLUMNS
from shared.masks import mask_id_number
from tests.e2e.applicant_helpers import error_for, value_of
from tests.e2e.identity_helpers import Client, text_of
from tests.e2e.people import new_unit, signed_in
from tests.support.experts import COMMITTEE, OTHER_COMMITTEE, expert_form, import_row, xlsx

COMMITTEE_NAME = "深圳市轻工专业高级专业技术资格评审委员会"


@pytest.fixture
async def secretary(gateway, services, clock):
    client = await signed_in(
        gateway, services, "committee", org_id=COMMITTEE, org_name=COMMITTEE_NAME, name="秘书"
    )
    yield client
    await client.close()


@pytest.fixture
async def stranger(gateway, services, clock):
    client = await signed_in(
        gateway,
        services,
        "committee",
        org_id=OTHER_COMMITTEE,
        org_name="深圳市水利水电专业中级专业技术资格评审委员会",
    )
    yield client
    await client.close()


@pytest.fixture
async def sysadmin(gateway, services, clock):
    client = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    yield client
    await client.close()


def plain(page: str) -> str:
    return " ".join(text_of(page).split())


def row_of(page: str, name: str) -> str:
    rows = re.findall(r"<tr[^>]*>.*?</tr>", page, re.S)
    found = [r for r in rows if name in r]
    assert found, f"no row for {name}: {plain(page)[-700:]}"
    return found[0]


def expert_link(page: str, name: str, action: str) -> str:
    return re.search(rf'href="(/experts/[0-9a-f-]{{36}}/{action})"', row_of(page, name)).group(1)


async def add(client: Client, **changes) -> dict:
    form = expert_form(**changes)
    status, page, where = await client.submit("/experts/new", form)
    assert (status, where) == (200, "/experts"), plain(page)[:400]
    return form


async def test_the_committee_reaches_its_library_from_home_and_adds_an_expert(secretary):
    _, home, _ = await secretary.page("/home")
    assert 'href="/experts"' in home and "评审专家库" in home
    form = expert_form(name="欧阳专家")
    status, page, where = await secretary.submit("/experts/new", form)
    assert (status, where) == (200, "/experts")
    assert "已将 欧阳专家 加入评审专家库" in plain(page)
    status, page, _ = await secretary.page("/experts?q=欧阳专家")
    row = text_of(row_of(page, "欧阳专家"))
    masked = form["id_number"][:6] + "********" + form["id_number"][-4:]
    assert masked in row and form["id_number"] not in page
    assert "正高" in row and "在库" in row and "工程" in row


async def test_the_form_shows_each_error_beside_its_field_and_keeps_what_was_typed(secretary):
    form = expert_form(name="错误专家", id_number="440305199001011234", term_ends_on="2030-01-01")
    status, page, _ = await secretary.submit("/experts/new", form)
    assert status == 422
    assert error_for(page, "id_number") == "身份证号校验位错误"
    assert "任期最长3年" in error_for(page, "term_ends_on")
    assert value_of(page, "name") == "错误专家" and value_of(page, "series_id") == "gc"


async def test_an_expert_is_edited_and_taken_out_with_a_reason(secretary):
    await add(secretary, name="修改专家")
    _, page, _ = await secretary.page("/experts?q=修改专家")
    edit = expert_link(page, "修改专家", "edit")
    _, form_page, _ = await secretary.page(edit)
    values = {name: value_of(form_page, name) or "" for name in expert_form()}
    values |= {"speciality": "食品机械", "version": "0"}
    status, page, where = await secretary.submit(edit, values)
    assert (status, where) == (200, "/experts") and "已保存专家 修改专家 的信息" in plain(page)

    remove = edit.replace("/edit", "/remove")
    status, page, _ = await secretary.submit(remove, {"reason": ""})
    assert status == 422 and error_for(page, "reason") == "请填写出库原因"
    status, page, where = await secretary.submit(remove, {"reason": "调离本专业"})
    assert where == "/experts" and "专家 修改专家 已出库" in plain(page)
    _, page, _ = await secretary.page("/experts?q=修改专家&status=removed")
    row = text_of(row_of(page, "修改专家"))
    assert "出库" in row and "调离本专业" in row and "食品机械" in row


async def test_another_committees_expert_is_not_found_and_other_roles_are_refused(
    secretary, stranger, gateway, services
):
    await add(secretary, name="隔离专家")
    _, page, _ = await secretary.page("/experts?q=隔离专家")
    edit = expert_link(page, "隔离专家", "edit")
    for path in (edit, edit.replace("/edit", "/remove")):
        status, _, _ = await stranger.page(path)
        assert status == 404, path
    status, _, _ = await stranger.submit(edit.replace("/edit", "/remove"), {"reason": "越权"})
    assert status == 404
    _, page, _ = await stranger.page("/experts?q=隔离专家")
    assert "没有符合条件的专家" in plain(page)
    status, body = await stranger.api("GET", "/api/experts/" + edit.split("/")[2])
    assert status == 404 and body["error"]["code"] == "not_found"

    unit_id = await new_unit(services)
    operator = await signed_in(gateway, services, "unit_operator", unit_id=unit_id)
    try:
        for path in ("/experts", "/experts/new", "/experts/import", edit):
            assert (await operator.page(path))[0] == 403, path
        assert (await operator.api("GET", "/api/experts"))[0] == 403
    finally:
        await operator.close()


async def test_a_registered_unit_gives_its_name_and_an_unknown_one_is_refused(secretary, services):
    unit_id = await new_unit(services, name="深圳市注册科技有限公司")
    form = expert_form(name="注册单位专家", unit_id=str(unit_id), unit_name="随便写的名字")
    status, body = await secretary.api("POST", "/api/experts", form)
    assert status == 201, body
    status, entry = await secretary.api("GET", f"/api/experts/{body['expert_id']}")
    assert (entry["unit_id"], entry["unit_name"]) == (str(unit_id), "深圳市注册科技有限公司")
    unknown = expert_form(unit_id="00000000-0000-4000-8000-000000000000")
    status, body = await secretary.api("POST", "/api/experts", unknown)
    assert status == 422 and body["error"]["fields"] == {"unit_id": "未找到该注册单位"}


async def test_the_json_api_adds_changes_lists_and_takes_out(secretary):
    form = expert_form(name="接口专家")
    status, saved = await secretary.api("POST", "/api/experts", form)
    assert status == 201
    path = f"/api/experts/{saved['expert_id']}"
    status, entry = await secretary.api("GET", path)
    assert entry["id_number"] == mask_id_number(form["id_number"]) and entry["version"] == 0
    # the edit form sends the masks back unchanged: the numbers stay
    kept = form | {"id_number": entry["id_number"], "mobile": entry["mobile"], "name": "接口专家"}
    status, body = await secretary.api("PUT", path, kept | {"expected_version": 0})
    assert status == 200, body
    wanted = {"object_type": "expert", "object_id": saved["expert_id"], "field": "id_number"}
    status, shown = await secretary.api("POST", "/api/personal/unmask", wanted)
    assert (status, shown["value"]) == (200, form["id_number"])
    status, body = await secretary.api("PUT", path, form | {"mobile": "13800000000"})
    assert status == 200, body
    status, body = await secretary.api("PUT", path, form | {"expected_version": 1})
    assert status == 409
    status, page = await secretary.api("GET", "/api/experts?q=接口专家&status=active")
    assert [i["mobile"] for i in page["items"]] == ["138****0000"]
    assert page["items"][0]["id_number"].count("*") == 8
    status, body = await secretary.api("POST", path + "/removal", {"reason": "任期内辞任"})
    assert status == 200
    assert (await secretary.api("GET", path))[1]["status"] == "removed"
    status, body = await secretary.api("GET", "/api/experts?status=nonsense")
    assert status == 422


async def test_the_openapi_document_declares_the_library(http):
    async with http.get("/api/openapi.json") as response:
        paths = (await response.json())["paths"]
    assert paths["/api/experts"]["get"]["x-roles"] == ["committee", "sysadmin"]
    for path in (
        "/api/experts/{expert_id}",
        "/api/experts/{expert_id}/removal",
        "/api/experts/import",
        "/api/experts/import/template.xlsx",
    ):
        assert path in paths


async def test_the_import_page_reports_every_row(secretary):
    async with secretary.http.get("/experts/import/template.xlsx") as response:
        assert response.status == 200
        book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    assert [c.value for c in book.active[1]] == list(IMPORT_COLUMNS)

    good = [expert_form(name="导入甲"), expert_form(name="导入乙")]
    rows = [
        import_row(good[0]),
        import_row(expert_form(name="导入丙", id_number="440305199001011234")),
        import_row(good[1]),
        import_row(good[0] | {"name": "导入丁"}),
        import_row(expert_form(name="导入戊")) | {"series_id": "航天"},
    ]
    data = {"_csrf": await secretary.csrf(), "file": io.BytesIO(xlsx(rows))}
    async with secretary.http.post("/experts/import", data=data) as response:
        page = await response.text()
    assert response.status == 200
    text = plain(page)
    assert "成功导入 2 人，未导入 3 行" in text
    assert "身份证号：身份证号校验位错误" in text
    assert "身份证号：身份证号与第 2 行重复" in text
    assert "系列：系列“航天”不存在" in text
    _, listed, _ = await secretary.page("/experts?q=导入乙")
    assert "导入乙" in listed


async def test_an_upload_that_is_not_a_workbook_is_refused_beside_the_file_field(secretary):
    data = {"_csrf": await secretary.csrf(), "file": io.BytesIO(b"not a workbook")}
    async with secretary.http.post("/experts/import", data=data) as response:
        page = await response.text()
    assert response.status == 422
    assert "请上传 .xlsx 格式的 Excel 文件" in page


async def test_the_sysadmin_keeps_every_library_choosing_the_committee(sysadmin, secretary):
    _, home, _ = await sysadmin.page("/home")
    assert 'href="/experts"' in home
    form = expert_form(name="管理员加的专家", title_level="中级")
    status, page, _ = await sysadmin.submit("/experts/new", form)
    assert status == 422 and error_for(page, "committee_id") == "请选择评委会"
    status, page, where = await sysadmin.submit(
        "/experts/new", form | {"committee_id": OTHER_COMMITTEE}
    )
    assert where == "/experts", plain(page)[:300]
    _, page, _ = await sysadmin.page(f"/experts?committee_id={OTHER_COMMITTEE}&q=管理员加的专家")
    assert "深圳市水利水电专业中级专业技术资格评审委员会" in text_of(row_of(page, "管理员加的专家"))
    _, page, _ = await secretary.page("/experts?q=管理员加的专家")
    assert "没有符合条件的专家" in plain(page)

    rows = [import_row(expert_form(name="管理员导入", title_level="中级"))]
    data = {
        "_csrf": await sysadmin.csrf(),
        "committee_id": OTHER_COMMITTEE,
        "file": io.BytesIO(xlsx(rows)),
    }
    async with sysadmin.http.post("/experts/import", data=data) as response:
        assert "成功导入 1 人，未导入 0 行" in plain(await response.text())

"""The expert library over RPC against the real cases service: entries checked field by
field, one committee's library hidden from another, 出库 with its reason, the three-year term,
and an Excel import's report per row."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.masks import mask_id_number
from shared.rpc import Actor, RpcClient, RpcError
from tests.integration.conftest import WORKFLOW_TODAY, cases_alone
from tests.support.experts import (
    COMMITTEE,
    OTHER_COMMITTEE,
    expert_form,
    import_row,
    xlsx,
)


def committee(org_id: str = COMMITTEE) -> Actor:
    return Actor(user_id=uuid.uuid4(), role="committee", org_id=org_id, name="秘书")


SYSADMIN = Actor(user_id=uuid.uuid4(), role="sysadmin", name="管理员")


class Library:
    def __init__(self, client: RpcClient, clock) -> None:
        self.client = client
        self.clock = clock

    async def call(self, method: str, params: dict, actor: Actor, attachment=None):
        return await self.client.call("cases", method, params, actor=actor, attachment=attachment)

    async def refused(self, method: str, params: dict, actor: Actor, attachment=None):
        with pytest.raises(RpcError) as caught:
            await self.call(method, params, actor, attachment)
        return caught.value

    async def add(self, actor: Actor, **changes) -> dict:
        form = expert_form(**changes)
        saved = await self.call("expert.create", form, actor)
        return form | {"id": saved["expert_id"]}


@pytest.fixture(scope="module")
async def service(own_database):
    async with cases_alone(own_database) as (_, client, deps):
        yield Library(client, deps.clock)


@pytest.fixture
async def library(service):
    service.clock.offset = WORKFLOW_TODAY - datetime.now(UTC)
    yield service
    service.clock.offset = timedelta()


async def test_a_committee_adds_an_expert_and_its_list_masks_the_id_number(library):
    secretary = committee()
    form = await library.add(secretary, name="李专家")
    entry = await library.call("expert.get", {"expert_id": form["id"]}, secretary)
    # its keeper too reads it masked, and in full by 显示完整号码
    assert entry["id_number"] == mask_id_number(form["id_number"])
    wanted = {"object_type": "expert", "object_id": form["id"], "field": "id_number"}
    shown = await library.call("personal.unmask", wanted, secretary)
    assert shown["value"] == form["id_number"]
    with pytest.raises(RpcError) as other:
        await library.call("personal.unmask", wanted, committee(OTHER_COMMITTEE))
    assert other.value.status == 403
    assert (entry["status"], entry["status_label"]) == ("active", "在库")
    assert entry["series_name"] == "工程" and entry["committee_id"] == COMMITTEE
    assert entry["other_committees"] == [] and entry["latest_term_end"] == "2029-06-01"

    page = await library.call("expert.list", {"q": "李专家"}, secretary)
    [row] = [r for r in page["items"] if r["id"] == form["id"]]
    masked = form["id_number"][:6] + "********" + form["id_number"][-4:]
    assert row["id_number"] == masked


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"id_number": "440305199001011234"}, "id_number", "身份证号校验位错误"),
        ({"id_number": "44030519900101123"}, "id_number", "身份证号须为18位"),
        ({"id_number": "440305199002301238"}, "id_number", "身份证号出生日期无效"),
        ({"mobile": "12345678901"}, "mobile", "手机号码须为1开头的11位数字"),
        ({"name": ""}, "name", "请填写姓名"),
        ({"series_id": "da"}, "series_id", "本评委会评审的系列为：工程"),
        ({"title_level": "中级"}, "title_level", "职称级别须不低于本评委会评审的最低级别（副高）"),
        ({"title_level": "高级"}, "title_level", "职称级别须为正高、副高、中级、初级"),
        ({"joined_on": "2026-06-01", "term_ends_on": "2029-06-02"}, "term_ends_on", "任期最长3年"),
        ({"term_ends_on": "2026-05-01"}, "term_ends_on", "任期届满日期须晚于入库日期"),
        ({"joined_on": "2026/6/1"}, "joined_on", "入库日期须为有效日期"),
        ({"unit_id": "not-a-uuid"}, "unit_id", "注册单位编号格式不正确"),
    ],
)
async def test_each_field_is_checked_with_its_own_message(library, changes, field, message):
    error = await library.refused("expert.create", expert_form(**changes), committee())
    assert error.status == 422
    assert message in error.fields[field], error.fields


async def test_a_term_of_exactly_three_years_is_allowed(library):
    form = await library.add(committee(), joined_on="2024-02-29", term_ends_on="2027-02-28")
    assert form["id"]
    error = await library.refused(
        "expert.create",
        expert_form(joined_on="2024-02-29", term_ends_on="2027-03-01"),
        committee(),
    )
    assert "不能晚于 2027-02-28" in error.fields["term_ends_on"]


async def test_one_live_entry_per_person_and_committee_but_one_in_each_committee(library):
    form = await library.add(committee())
    again = {k: v for k, v in form.items() if k != "id"}
    error = await library.refused("expert.create", again, committee())
    assert error.fields["id_number"] == "该专家已在本评委会专家库中"

    other = committee(OTHER_COMMITTEE)
    await library.call("expert.create", again | {"title_level": "中级"}, other)
    entry = await library.call("expert.get", {"expert_id": form["id"]}, SYSADMIN)
    assert entry["other_committees"] == ["深圳市水利水电专业中级专业技术资格评审委员会"]
    assert (await library.call("expert.get", {"expert_id": form["id"]}, committee()))[
        "other_committees"
    ] == []


async def test_another_committees_expert_is_not_there_for_a_committee(library):
    form = await library.add(committee())
    stranger = committee(OTHER_COMMITTEE)
    ref = {"expert_id": form["id"]}
    fields = {k: v for k, v in form.items() if k != "id"}
    for method, params in (
        ("expert.get", ref),
        ("expert.update", ref | fields),
        ("expert.remove", ref | {"reason": "越权"}),
    ):
        error = await library.refused(method, params, stranger)
        assert error.status == 404, method
    listed = await library.call("expert.list", {"q": form["id_number"]}, stranger)
    assert listed["total"] == 0
    listed = await library.call(
        "expert.list", {"q": form["id_number"], "committee_id": COMMITTEE}, stranger
    )
    assert listed["total"] == 0  # a committee's filter cannot reach past its own library
    error = await library.refused(
        "expert.create", expert_form(committee_id=COMMITTEE), committee(OTHER_COMMITTEE)
    )
    assert error.status == 403


@pytest.mark.parametrize(
    "actor",
    [
        Actor(user_id=uuid.uuid4(), role="department", org_id="dept-gcslh"),
        Actor(user_id=uuid.uuid4(), role="unit_admin", unit_id=uuid.uuid4()),
        Actor(user_id=uuid.uuid4(), role="applicant", unit_id=uuid.uuid4()),
        Actor(user_id=uuid.uuid4(), role="office", org_id="office-zjc"),
    ],
)
async def test_only_committees_and_the_sysadmin_reach_the_library(library, actor):
    form = await library.add(committee())
    for method, params in (
        ("expert.list", {}),
        ("expert.get", {"expert_id": form["id"]}),
        ("expert.create", expert_form(committee_id=COMMITTEE)),
        ("expert.import_template", {}),
    ):
        assert (await library.refused(method, params, actor)).status == 403, method
    assert (await library.refused("expert.list", {}, Actor())).status == 401


async def test_the_sysadmin_keeps_every_library_and_names_the_committee(library):
    error = await library.refused("expert.create", expert_form(), SYSADMIN)
    assert error.fields == {"committee_id": "请选择评委会"}
    error = await library.refused("expert.create", expert_form(committee_id="nope"), SYSADMIN)
    assert error.fields == {"committee_id": "评委会不存在"}
    form = await library.add(SYSADMIN, committee_id=OTHER_COMMITTEE, title_level="中级")
    page = await library.call("expert.list", {"committee_id": OTHER_COMMITTEE}, SYSADMIN)
    assert form["id"] in {r["id"] for r in page["items"]}
    await library.call(
        "expert.update",
        {"expert_id": form["id"], **expert_form(id_number=form["id_number"], name="改名")},
        SYSADMIN,
    )
    mine = await library.call("expert.get", {"expert_id": form["id"]}, committee(OTHER_COMMITTEE))
    assert mine["name"] == "改名" and mine["version"] == 1


async def test_removal_needs_a_reason_and_ends_the_entry(library):
    secretary = committee()
    form = await library.add(secretary)
    ref = {"expert_id": form["id"]}
    error = await library.refused("expert.remove", ref | {"reason": "  "}, secretary)
    assert error.fields == {"reason": "请填写出库原因"}
    error = await library.refused(
        "expert.remove", ref | {"reason": "x", "removed_on": "2026-07-01"}, secretary
    )
    assert "与今天之间" in error.fields["removed_on"]

    await library.call("expert.remove", ref | {"reason": "本人申请退出"}, secretary)
    entry = await library.call("expert.get", ref, secretary)
    assert (entry["status"], entry["status_label"]) == ("removed", "出库")
    assert (entry["removed_on"], entry["removed_reason"]) == ("2026-06-01", "本人申请退出")
    assert (await library.refused("expert.remove", ref | {"reason": "再次"}, secretary)).status == (
        409
    )
    fields = {k: v for k, v in form.items() if k != "id"}
    assert (await library.refused("expert.update", ref | fields, secretary)).status == 409
    again = await library.call("expert.create", fields, secretary)  # the same person, anew
    assert again["expert_id"] != form["id"]
    for status, expected in (("removed", [form["id"]]), ("active", [again["expert_id"]])):
        query = {"q": form["id_number"], "status": status}
        page = await library.call("expert.list", query, secretary)
        assert [r["id"] for r in page["items"]] == expected


async def test_an_entry_past_its_term_is_expired_and_renewed_by_new_dates(library):
    secretary = committee()
    form = await library.add(secretary, joined_on="2023-01-01", term_ends_on="2025-12-31")
    ref = {"expert_id": form["id"]}
    assert (await library.call("expert.get", ref, secretary))["status"] == "expired"
    page = await library.call("expert.list", {"status": "expired", "q": form["name"]}, secretary)
    assert form["id"] in {r["id"] for r in page["items"]}
    page = await library.call("expert.list", {"status": "active", "q": form["name"]}, secretary)
    assert form["id"] not in {r["id"] for r in page["items"]}

    fields = {k: v for k, v in form.items() if k != "id"}
    error = await library.refused("expert.create", fields, secretary)
    assert "任期已届满" in error.fields["id_number"]
    renewed = fields | {"joined_on": "2026-01-01", "term_ends_on": "2028-12-31"}
    await library.call("expert.update", ref | renewed | {"expected_version": 0}, secretary)
    assert (await library.call("expert.get", ref, secretary))["status"] == "active"
    stale = await library.refused(
        "expert.update", ref | renewed | {"expected_version": 0}, secretary
    )
    assert stale.status == 409


async def test_the_list_filters_and_pages(library):
    secretary = committee(OTHER_COMMITTEE)
    tag = uuid.uuid4().hex[:6]
    for n in range(5):
        level = "中级" if n % 2 else "副高"
        await library.add(secretary, name="筛选", speciality=tag, title_level=level)
    everyone = await library.call("expert.list", {"q": "筛选", "page_size": 200}, secretary)
    ours = [r for r in everyone["items"] if r["speciality"] == tag]
    assert len(ours) == 5
    page = await library.call(
        "expert.list", {"q": "筛选", "title_level": "中级", "page_size": 200}, secretary
    )
    assert len([r for r in page["items"] if r["speciality"] == tag]) == 2
    first = await library.call("expert.list", {"q": "筛选", "page_size": 2}, secretary)
    second = await library.call("expert.list", {"q": "筛选", "page_size": 2, "page": 2}, secretary)
    assert first["total"] == everyone["total"] and len(first["items"]) == 2
    assert not {r["id"] for r in first["items"]} & {r["id"] for r in second["items"]}


async def test_an_import_enters_the_good_rows_and_reports_each_bad_one(library):
    secretary = committee()
    already = await library.add(secretary)
    good = [expert_form(name="周一"), expert_form(name="吴二", title_level="正高级")]
    typed_date = expert_form(name="郑九", joined_on="2026-06-01")
    typed_date["joined_on"] = "2026/6/1"
    rows = [
        import_row(good[0]),
        import_row(expert_form(name="郑三", id_number="440305199001011234")),
        import_row(good[1]),
        import_row(good[0] | {"name": "王四"}),  # the same ID number again
        import_row({k: v for k, v in already.items() if k != "id"} | {"name": "冯五"}),
        import_row(expert_form(name="陈六")) | {"series_id": "不存在的系列"},
        import_row(expert_form(name="褚七", term_ends_on="2030-01-01")),
        import_row(expert_form(name="卫八", title_level="中级")),
        import_row(typed_date),
    ]
    data = xlsx(rows)
    report = await library.call("expert.import", {}, secretary, data)

    assert [r["name"] for r in report["created"]] == ["周一", "吴二", "郑九"]
    assert [r["row"] for r in report["created"]] == [2, 4, 10]
    assert report["created"][0]["id_number"].count("*") == 8
    reasons = {r["name"]: r["reasons"] for r in report["refused"]}
    assert reasons["郑三"] == {"id_number": "身份证号校验位错误"}
    assert reasons["王四"] == {"id_number": "身份证号与第 2 行重复"}
    assert reasons["冯五"] == {"id_number": "该专家已在本评委会专家库中"}
    assert reasons["陈六"] == {"series_id": "系列“不存在的系列”不存在"}
    assert "任期最长3年" in reasons["褚七"]["term_ends_on"]
    assert "不低于本评委会评审的最低级别" in reasons["卫八"]["title_level"]
    page = await library.call("expert.list", {"q": good[1]["id_number"]}, secretary)
    assert [r["title_level"] for r in page["items"]] == ["正高"]


async def test_an_import_is_one_transaction_for_its_valid_rows(library):
    """Either every valid row is in, or none: a file whose rows all fail enters nothing."""
    secretary = committee()
    bad = [import_row(expert_form(name="坏行", mobile="1")) for _ in range(3)]
    data = xlsx(bad)
    report = await library.call("expert.import", {}, secretary, data)
    assert report["created"] == [] and len(report["refused"]) == 3
    page = await library.call("expert.list", {"q": bad[0]["id_number"]}, secretary)
    assert page["total"] == 0


async def test_a_file_that_is_not_the_template_is_refused_as_a_whole(library):
    secretary = committee()
    not_xlsx = b"not a workbook"
    error = await library.refused("expert.import", {}, secretary, not_xlsx)
    assert error.fields["file"] == "文件无法读取，请上传 .xlsx 格式的 Excel 文件"
    wrong = xlsx([], headers=["姓名", "电话"])
    error = await library.refused("expert.import", {}, secretary, wrong)
    assert error.fields["file"].startswith("表头缺少列：身份证号")
    empty = xlsx([])
    error = await library.refused("expert.import", {}, secretary, empty)
    assert error.fields["file"] == "文件中没有数据行"
    template = await library.call("expert.import_template", {}, secretary)
    assert template.value["filename"] == "评审专家导入模板.xlsx"


# --- the audit trail (docs/audit.md) ---


async def trail(library: Library, **query) -> list[dict]:
    """The cases service's rows matching `query`, oldest first."""
    page = await library.call("audit.search", {"limit": 200, **query}, SYSADMIN)
    return list(reversed(page["rows"]))


async def test_each_change_to_the_library_is_in_the_trail_without_its_numbers(library):
    secretary = committee()
    form = await library.add(secretary, name="审计专家")
    ref = {"expert_id": form["id"]}
    fields = {k: v for k, v in form.items() if k != "id"}
    changed = fields | {"speciality": "造纸", "mobile": "13912345678"}
    await library.call("expert.update", ref | changed, secretary)
    await library.call("expert.remove", ref | {"reason": "本人申请退出"}, secretary)

    rows = await trail(library, object=form["id"], object_type="expert")
    assert [r["action"] for r in rows] == ["expert.create", "expert.update", "expert.retire"]
    assert [r["action_label"] for r in rows] == ["新增评审专家", "修改评审专家信息", "评审专家出库"]
    assert {r["object_label"] for r in rows} == {"审计专家"}
    assert {r["actor_id"] for r in rows} == {str(secretary.user_id)}
    assert rows[1]["details"] == {"committee_id": COMMITTEE, "fields": ["mobile", "speciality"]}
    assert rows[2]["details"] == {"committee_id": COMMITTEE, "removed_on": "2026-06-01"}
    text = str(rows)
    for secret in (form["id_number"], form["mobile"], "13912345678", "本人申请退出"):
        assert secret not in text

    good = [expert_form(name="导入甲"), expert_form(name="导入乙")]
    bad = expert_form(name="导入丙", mobile="1")
    data = xlsx([import_row(f) for f in (*good, bad)])
    await library.call("expert.import", {}, secretary, data)
    [row] = await trail(
        library, object=COMMITTEE, action="expert.import", person=str(secretary.user_id)
    )
    assert row["object_type"] == "expert_library"
    assert row["details"] == {"rows": 3, "created": 2, "refused": 1}

"""导出Excel of the work lists through the gateway: the file holds the list the page shows, row
for row in its order, for each role, filter and sort; personal numbers as the role may see
them; every export in the audit trail; bad filters refused before any job exists."""

import os
import signal
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from gateway.keys import rpc_key
from services.documents.exports import purge_expired
from shared import exports
from shared.contracts.documents.rpc import EXPORTS_PART, EXPORTS_PROGRESS
from shared.rpc import RpcError
from tests.e2e.case_steps import (
    approved,
    at_department,
    case_of,
    member,
    must,
    new_cast,
    submitted,
)
from tests.e2e.export_helpers import day, exported, exported_from_page, finished
from tests.e2e.people import signed_in

LIST_FIELDS = {  # column of the file: key of the list's JSON row
    "业务编号": "case_no",
    "人员姓名": "name",
    "评审类型": "review_type",
    "专业技术资格": "qualification",
    "业务状态": "status",
    "日常工作部门": "department",
    "评委会": "committee",
    "评审年度": "round",
}


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


async def listed(client, query: dict) -> list[dict]:
    status, body = await client.api("GET", "/api/cases?" + urlencode(query | {"page_size": 200}))
    assert status == 200, body
    assert body["total"] == len(body["items"]), body["total"]
    return body["items"]


def as_listed(rows: list[dict]) -> list[dict]:
    return [
        {key: row[column] or "" for column, key in LIST_FIELDS.items()}
        | {"reason": row["原因"] or ""}
        for row in rows
    ]


def json_rows(items: list[dict]) -> list[dict]:
    return [{key: item[key] for key in (*LIST_FIELDS.values(), "reason")} for item in items]


async def three_waiting(gateway, services, cast) -> list[str]:
    """Three applicants' cases waiting at the unit's 材料审核, named out of their order."""
    names = ["赵六", "钱七", "孙八"]
    cases = [await submitted(cast.applicant)]
    for name in names[1:]:
        applicant = await member(gateway, services, cast, "applicant", name)
        cases.append(await submitted(applicant, qualification_id="gc-zg"))
    return cases


@pytest.mark.parametrize("sort", ["updated", "name", "qualification", "status", "case_no"])
async def test_the_unit_list_exports_row_for_row_in_each_order(gateway, services, cast, sort):
    await three_waiting(gateway, services, cast)
    query = {"list": "unit:3", "sort": sort}
    items = await listed(cast.operator, query)
    job, header, rows = await exported(cast.operator, "work", query)
    assert header[:4] == ["业务编号", "人员姓名", "身份证号", "手机号码"]
    assert len(rows) == len(items) == 3 == job["done"] == job["total"]
    assert as_listed(rows) == json_rows(items)
    assert job["title"] == "材料审核（待办业务）" and job["filename"].endswith(".xlsx")


async def test_filters_narrow_the_export_as_they_narrow_the_list(gateway, services, cast):
    await three_waiting(gateway, services, cast)
    for query in (
        {"list": "unit:3", "name": "钱"},
        {"list": "unit:3", "qualification_id": "gc-zg", "sort": "name"},
        {"list": "unit:3", "round_id": "1999"},
    ):
        items = await listed(cast.operator, query)
        _, _, rows = await exported(cast.operator, "work", query)
        assert as_listed(rows) == json_rows(items), query
    _, _, rows = await exported(cast.operator, "work", {"list": "unit:3", "name": "钱"})
    assert [r["人员姓名"] for r in rows] == ["钱七"]


async def test_dates_are_dates_and_numbers_are_whole_for_those_who_may_see_them(cast, clock):
    case_id = await submitted(cast.applicant)
    case = await case_of(cast.operator, case_id)
    _, _, rows = await exported(cast.operator, "work", {"list": "unit:3"})
    row = next(r for r in rows if r["业务编号"] == case["case_no"])
    # the unit reads its cases' materials, so it may see the numbers (docs/personal-data.md)
    assert row["身份证号"] == cast.applicant.person["id_number"]
    assert row["手机号码"] == cast.applicant.person["mobile"]
    assert row["申报单位"] == "深圳市测试科技有限公司"
    assert isinstance(row["申报时间"], datetime) and isinstance(row["最近办理时间"], datetime)
    assert row["最近办理时间"].date() == clock.today()


async def test_the_department_exports_its_list_and_the_unit_its_done_tab(cast, clock):
    case_id = await at_department(cast, clock)
    query = {"list": "department:acceptance"}
    items = await listed(cast.department, query)
    _, _, rows = await exported(cast.department, "work", query)
    assert as_listed(rows) == json_rows(items) and case_id in {i["id"] for i in items}
    done = {"list": "unit:6", "tab": "done"}
    items = await listed(cast.operator, done)
    _, _, rows = await exported(cast.operator, "work", done)
    assert as_listed(rows) == json_rows(items) and len(rows) >= 1


async def test_the_publicity_end_is_a_date(cast, clock):
    case_id = await approved(cast, clock)
    await must(cast.operator, case_id, "start_pre_publicity")
    case = await case_of(cast.operator, case_id)
    _, _, rows = await exported(cast.operator, "work", {"list": "unit:5"})
    (row,) = [r for r in rows if r["业务编号"] == case["case_no"]]
    assert day(row["公示截止日期"]).isoformat() == case["pre_publicity"]["end"]


async def test_the_page_button_exports_the_page_query(gateway, services, cast):
    await three_waiting(gateway, services, cast)
    rows = await exported_from_page(
        cast.operator, "work", "/work/unit-3?sort=name", {"list": "unit:3", "sort": "name"}
    )
    items = await listed(cast.operator, {"list": "unit:3", "sort": "name"})
    assert as_listed(rows) == json_rows(items)
    status, page, _ = await cast.operator.page("/work/unit-3?sort=name&name=%E9%92%B1")
    assert status == 200 and "导出Excel" in page
    assert 'name="export" value="work"' in page and 'name="name" value="钱"' in page


async def test_every_export_is_in_the_audit_trail(gateway, services, cast):
    await submitted(cast.applicant)
    job, _, rows = await exported(
        cast.operator, "work", {"list": "unit:3", "name": "张", "sort": "name"}
    )
    admin = await signed_in(gateway, services, "sysadmin")
    try:
        status, found = await admin.api("GET", f"/api/audit?object={job['job_id']}")
        assert status == 200, found
        (row,) = found["rows"]
        assert row["action"] == "export" and row["service"] == "documents"
        assert row["actor_id"] == str(cast.operator.person["id"])
        assert row["object_type"] == "export" and row["object_label"] == "材料审核（待办业务）"
        assert row["details"] == {
            "list": "work",
            "filters": {"list": "unit:3", "name": "张", "sort": "name", "tab": "todo"},
            "rows": len(rows),
            "full_fields": ["id_number", "mobile"],
        }
    finally:
        await admin.close()


async def test_bad_filters_are_refused_before_any_job(cast):
    for body, status, field in (
        ({"list": "work", "filters": {"list": "unit:3", "sort": "最新"}}, 422, "sort"),
        ({"list": "work", "filters": {"list": "unit:3", "tab": "all"}}, 422, "tab"),
        ({"list": "work", "filters": {"list": "unit:3", "colour": "red"}}, 422, "colour"),
        ({"list": "work", "filters": {"list": "department:review"}}, 404, None),
        ({"list": "work", "filters": {}}, 422, "list"),
        ({"list": "recipes", "filters": {}}, 404, None),
        ({"filters": {}}, 422, "list"),
    ):
        answer_status, answer = await cast.operator.api("POST", "/api/exports", body)
        assert answer_status == status, (body, answer)
        if field:
            assert field in answer["error"]["fields"], answer


async def test_a_bad_filter_on_the_page_comes_back_as_a_message(cast):
    status, page, where = await cast.operator.submit(
        "/exports", {"export": "work", "back": "/work/unit-3", "list": "unit:3", "sort": "x"}
    )
    assert status == 200 and where == "/work/unit-3"
    assert "未能导出" in page


async def test_only_the_person_who_exported_sees_the_job_and_the_file(gateway, services, cast):
    await submitted(cast.applicant)
    job, _, _ = await exported(cast.operator, "work", {"list": "unit:3"})
    other = await member(gateway, services, cast, "unit_operator", "李经办")
    for path in (f"/api/exports/{job['job_id']}", f"/api/exports/{job['job_id']}/file"):
        status, body = await other.api("GET", path)
        assert status == 404, body
    assert (await finished(cast.operator, job["job_id"]))["status"] == "done"


async def test_the_office_and_the_committee_export_their_lists(cast, clock):
    at_office = await at_department(cast, clock, review_type_id="cxxrc")
    await must(cast.department, at_office, "accept")
    at_committee = await at_department(cast, clock)
    for client, action in (
        (cast.department, "accept"),
        (cast.applicant, "print_declaration_form"),
        (cast.department, "forward_to_committee"),
    ):
        await must(client, at_committee, action)
    for client, key, case_id in (
        (cast.office, "office:approval", at_office),
        (cast.committee, "committee:review", at_committee),
    ):
        query = {"list": key, "sort": "name"}
        items = await listed(client, query)
        _, _, rows = await exported(client, "work", query)
        assert as_listed(rows) == json_rows(items), key
        assert (await case_of(client, case_id))["case_no"] in [r["业务编号"] for r in rows]


async def test_a_part_from_an_attempt_that_lost_the_job_is_refused(gateway, cast):
    await submitted(cast.applicant)
    job, _, _ = await exported(cast.operator, "work", {"list": "unit:3"})
    client = gateway.app[rpc_key]
    for method, params, file in (
        (EXPORTS_PROGRESS, {"rows": 1}, None),
        (EXPORTS_PART, {"seq": 0}, b"PK\x03\x04"),
    ):
        with pytest.raises(RpcError) as refused:
            ref = {"job_id": job["job_id"], "attempt": 2, **params}
            await client.invoke(method, ref, attachment=file)
        assert refused.value.status == 409
    assert (await finished(cast.operator, job["job_id"]))["status"] == "done"


async def test_a_file_is_deleted_after_its_keeping_time(services, cast):
    await submitted(cast.applicant)
    job, _, _ = await exported(cast.operator, "work", {"list": "unit:3"})
    pool = services["documents"].pool
    await pool.execute(
        "UPDATE export_jobs SET finished_at = now() - interval '25 hours' WHERE id = $1",
        uuid.UUID(job["job_id"]),
    )
    assert await purge_expired(pool, 24) >= 1
    assert (await finished(cast.operator, job["job_id"]))["status"] == "expired"
    status, body = await cast.operator.api("GET", f"/api/exports/{job['job_id']}/file")
    assert status == 404 and "过期" in body["error"]["message"]
    parts = await pool.fetchval(
        "SELECT count(*) FROM export_parts WHERE job_id = $1", uuid.UUID(job["job_id"])
    )
    assert parts == 0
    status, page, _ = await cast.operator.page(f"/exports/{job['job_id']}")
    assert status == 200 and "导出文件已过期删除" in page


async def test_the_overdue_filter_and_marks_are_the_lists(cast, clock):
    case_id = await submitted(cast.applicant)
    clock.offset += timedelta(days=30)  # past the unit review's limit in working days
    items = await listed(cast.operator, {"list": "unit:3", "overdue": "true"})
    _, _, rows = await exported(cast.operator, "work", {"list": "unit:3", "overdue": True})
    assert as_listed(rows) == json_rows(items) and case_id in {i["id"] for i in items}
    (row,) = [
        r for r in rows if r["业务编号"] == (await case_of(cast.operator, case_id))["case_no"]
    ]
    item = next(i for i in items if i["id"] == case_id)
    assert row["超期"] == "超期" and item["overdue"]
    assert day(row["办理期限"]).isoformat() == item["due_on"]


async def test_a_killed_worker_fails_its_attempt_and_the_export_is_made_again(gateway, cast):
    """The worker that opens an export's sealed numbers, killed for real: the export it
    broke is tried again (after the retry wait) with a new worker, and its file is whole."""
    await submitted(cast.applicant)
    await exported(cast.operator, "work", {"list": "unit:3"})  # the worker is running
    workers = list(exports._Worker._pool._processes.values())
    assert len(workers) == 1 and workers[0].is_alive()
    os.kill(workers[0].pid, signal.SIGKILL)
    workers[0].join(5)
    job, _, rows = await exported(cast.operator, "work", {"list": "unit:3"})
    assert len(rows) == 1 and rows[0]["身份证号"] and "*" not in rows[0]["身份证号"]
    new = list(exports._Worker._pool._processes.values())
    assert [w.pid for w in new] != [workers[0].pid] and new[0].is_alive()

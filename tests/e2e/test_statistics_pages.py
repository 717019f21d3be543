"""统计查询 through the gateway: who reaches the page, its charts and tables, the messages for
filters that are wrong, the JSON API and the workbook, and the export in the audit trail."""

import io
from urllib.parse import urlencode

import openpyxl
import pytest

from shared.spreadsheet import XLSX
from tests.e2e.case_steps import at_department, must, new_cast, passed
from tests.e2e.people import signed_in
from tests.support.meetings import results_outside


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    made.sysadmin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    made.extra.append(made.sysadmin)
    async with results_outside(services["cases"].pool):
        yield made
    await made.close()


async def test_a_department_sees_its_figures_drawn_and_listed(cast, clock):
    returned = await at_department(cast, clock)
    await must(cast.department, returned, "return", reason="缺少业绩证明", target="draft")
    await passed(cast, clock)
    status, page, _ = await cast.department.page("/home")
    assert 'href="/statistics"' in page and "统计查询" in page
    status, page, _ = await cast.department.page("/statistics")
    assert status == 200
    assert "统计范围：深圳市工程师联合会受理的申报" in page
    assert page.count('<svg class="chart"') >= 5 and 'role="img"' in page
    for title in (
        "按业务状态",
        "按流程环节",
        "评审与公示通过率",
        "各环节办理用时",
        "退回最多的单位",
    ):
        assert f">{title}</h2>" in page
    assert "深圳市测试科技有限公司" in page  # the unit whose case was returned
    assert 'name="department_id"' not in page  # a department's own, not a choice


async def test_filters_that_are_wrong_come_back_with_their_message(cast):
    status, page, _ = await cast.department.page("/statistics?date_from=2026-02-30")
    assert status == 422 and "起始日期不是有效日期" in page
    assert 'value="2026-02-30"' in page  # what was typed, to correct
    status, page, _ = await cast.department.page("/statistics?committee_id=cmte-da-zj")
    assert status == 422 and "只能查询本单位范围内的评委会" in page
    query = urlencode({"date_from": "2026-05-01", "date_to": "2026-04-01"})
    status, page, _ = await cast.department.page(f"/statistics?{query}")
    assert status == 422 and "截止日期不能早于起始日期" in page


async def test_units_and_applicants_have_no_statistics(cast):
    for client in (cast.operator, cast.applicant):
        status, page, _ = await client.page("/statistics")
        assert status == 403
        status, body = await client.api("GET", "/api/statistics")
        assert status == 403


async def test_the_api_answers_the_figures_and_the_workbook(cast, clock):
    await at_department(cast, clock)
    status, figures = await cast.sysadmin.api("GET", "/api/statistics?department_id=dept-gcslh")
    assert status == 200 and figures["scope"] == "全部申报"
    assert figures["filters"]["department_id"] == "dept-gcslh"
    assert {c["id"] for c in figures["choices"]["departments"]} >= {"dept-gcslh", "dept-daj"}
    async with cast.sysadmin.http.get("/api/statistics/export?department_id=dept-gcslh") as r:
        assert r.status == 200 and r.content_type == XLSX
        assert "attachment" in r.headers["Content-Disposition"]
        book = openpyxl.load_workbook(io.BytesIO(await r.read()))
    about = dict(book["查询条件"].iter_rows(min_row=2, values_only=True))
    assert about["日常工作部门"] == "深圳市工程师联合会"
    assert about["申报总数"] == figures["total"]
    status, trail = await cast.sysadmin.api("GET", "/api/audit?action=export")
    mine = [r for r in trail["rows"] if r["actor_id"] == str(cast.sysadmin.person["id"])]
    assert mine and mine[0]["object_type"] == "statistics"
    assert mine[0]["details"]["filters"]["department_id"] == "dept-gcslh"

"""Printing through the gateway: the 打印 buttons start a job, its page follows it, the PDF is
served to those who may see every case in it, and printing the 评审(申报)表 moves the case on."""

import asyncio
import re

import pytest

from gateway.keys import rpc_key
from shared.rpc import ServiceUnavailable
from tests.e2e.case_steps import (
    PASSED,
    approved,
    at_department,
    case_of,
    flash_text,
    must,
    new_cast,
    publicised,
    submit_form,
)
from tests.support.pdf_tools import fonts_of, page_count, page_texts

JOB_WAIT = 60  # seconds


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


def job_id_of(path: str) -> str:
    match = re.fullmatch(r"/print/([0-9a-f-]{36})", path)
    assert match, path
    return match.group(1)


async def finished(client, job_id: str) -> dict:
    for _ in range(JOB_WAIT * 10):
        status, job = await client.api("GET", f"/api/print-jobs/{job_id}")
        assert status == 200, job
        if job["status"] in ("done", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"print job {job_id} did not finish")


async def pdf_of(client, document_id: str) -> bytes:
    async with client.http.get(f"/api/documents/{document_id}") as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "application/pdf"
        assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
        return await response.read()


async def print_from(client, back: str, kind: str, case_ids: list[str]) -> tuple[str, dict]:
    """Press a list's 打印 button on these rows; the job's page and the finished job."""
    data = {"kind": kind, "case_id": case_ids, "back": back}
    status, page, where = await submit_form(client, "/print", data)
    assert status == 200, page
    job = await finished(client, job_id_of(where))
    return page, job


async def test_the_done_tab_prints_the_ticked_people_as_one_pdf(cast, clock):
    first = await publicised(cast, clock)
    second = await approved(cast, clock)
    await must(cast.operator, second, "start_pre_publicity")
    page, job = await print_from(
        cast.operator, "/work/unit-4?tab=done", "registration_form", [second, first]
    )
    assert "打印专业技术资格评审登记表" in page and 'href="/work/unit-4?tab=done"' in page
    assert (job["status"], job["total"], job["done"]) == ("done", 2, 2)
    pdf = await pdf_of(cast.operator, job["document_id"])
    assert page_count(pdf) == job["pages"]
    assert all(f.embedded for f in fonts_of(pdf))
    text = "".join(page_texts(pdf))
    numbers = [(await case_of(cast.operator, c))["case_no"] for c in (second, first)]
    assert text.index(numbers[0]) < text.index(numbers[1])  # in the order ticked

    status, done_page, _ = await cast.operator.page(f"/print/{job['job_id']}")
    assert status == 200 and "打开 PDF 打印" in done_page
    assert f"/api/documents/{job['document_id']}" in done_page


async def test_starting_a_publicity_prints_its_roster(cast, clock):
    case_id = await approved(cast, clock)
    data = {
        "action": "start_pre_publicity",
        "case_id": [case_id],
        "back": "/work/unit-4",
        "step": "confirm",
        "method": "单位公告栏",
        "contact": "人事科 0755-83000000",
    }
    status, page, where = await submit_form(cast.operator, "/work/unit-4/batch", data)
    assert "开始打印评前公示材料：已办理 1 件" in flash_text(page)
    job = await finished(cast.operator, job_id_of(where))
    assert job["status"] == "done" and job["kind"] == "pre_publicity_roster"
    text = "".join(page_texts(await pdf_of(cast.operator, job["document_id"])))
    person = cast.applicant.person["name"]
    assert person in text and "人事科 0755-83000000" in text


async def test_step_seven_prints_the_declaration_form_and_moves_the_case_on(cast, clock):
    case_id = await at_department(cast, clock)
    await must(cast.department, case_id, "accept")
    data = {"action": "print_declaration_form", "case_id": [case_id], "back": "/work/unit-7"}
    status, page, where = await submit_form(cast.operator, "/work/unit-7/batch", data)
    job = await finished(cast.operator, job_id_of(where))
    assert job["status"] == "done" and job["kind"] == "declaration_form"
    for _ in range(100):
        case = await case_of(cast.operator, case_id)
        if case["state"] == "dept_review":
            break
        await asyncio.sleep(0.1)
    assert case["status"] == "已打印评审(申报)表-->待日常工作部门审核"
    text = "".join(page_texts(await pdf_of(cast.operator, job["document_id"])))
    assert case["case_no"] in text and "评审（申报）表" in text.replace(" ", "")

    _, done_tab, _ = await cast.operator.page("/work/unit-7?tab=done")
    assert 'name="kind" value="declaration_form"' in done_tab
    _, again = await print_from(
        cast.operator, "/work/unit-7?tab=done", "declaration_form", [case_id]
    )
    assert again["document_id"] == job["document_id"]  # a reprint is the stored PDF
    # the department sees it too, now that it has reached them
    assert await pdf_of(cast.department, job["document_id"])


async def test_the_applicant_prints_their_own_declaration_form(cast, clock):
    case_id = await at_department(cast, clock)
    await must(cast.department, case_id, "accept")
    status, page, _ = await cast.applicant.page(f"/my/cases/{case_id}")
    assert "打印评审（申报）表" in page
    data = {"kind": "declaration_form", "case_id": [case_id], "back": f"/my/cases/{case_id}"}
    status, page, where = await submit_form(cast.applicant, "/print", data)
    job = await finished(cast.applicant, job_id_of(where))
    assert job["status"] == "done"
    assert await pdf_of(cast.applicant, job["document_id"])
    for _ in range(100):
        if (await case_of(cast.operator, case_id))["state"] == "dept_review":
            break
        await asyncio.sleep(0.1)
    _, page, _ = await cast.applicant.page(f"/my/cases/{case_id}")
    assert "补打评审（申报）表" in page
    # it counts for the unit's step 7 exactly as the unit's own print does (its 已办 list)
    status, done = await cast.operator.api("GET", "/api/cases?list=unit:7&tab=done")
    assert status == 200 and [item["id"] for item in done["items"]] == [case_id], done
    _, done_tab, _ = await cast.operator.page("/work/unit-7?tab=done")
    assert case_id in done_tab and 'name="kind" value="declaration_form"' in done_tab


async def test_the_case_page_offers_the_documents_the_case_has(cast, clock):
    case_id = await publicised(cast, clock)
    await must(cast.operator, case_id, "record_pre_publicity_result", **PASSED)
    _, page, _ = await cast.operator.page(f"/cases/{case_id}")
    offered = re.findall(r'name="kind" value="(\w+)"', page)
    assert offered == ["pre_publicity_roster", "registration_form", "pre_publicity_report"]


async def test_a_stranger_gets_neither_the_job_nor_the_pdf(gateway, services, cast, clock):
    case_id = await approved(cast, clock)
    _, job = await print_from(
        cast.operator, "/work/unit-3?tab=done", "registration_form", [case_id]
    )
    other = await new_cast(gateway, services)
    try:
        status, page, _ = await other.operator.page(f"/print/{job['job_id']}")
        assert status == 404
        status, _ = await other.operator.api("GET", f"/api/print-jobs/{job['job_id']}")
        assert status == 404
        async with other.operator.http.get(f"/api/documents/{job['document_id']}") as response:
            assert response.status == 404
        async with other.applicant.http.get(f"/api/documents/{job['document_id']}") as response:
            assert response.status == 404
    finally:
        await other.close()


async def test_print_buttons_explain_what_is_missing(cast, clock):
    case_id = await approved(cast, clock)
    back = "/work/unit-4?tab=done"
    _, page, where = await submit_form(cast.operator, "/print", {"kind": "payslip", "back": back})
    assert where == "/work/unit-4" and "没有这种打印文档" in flash_text(page)
    _, page, where = await submit_form(
        cast.operator, "/print", {"kind": "pre_publicity_roster", "back": back}
    )
    assert "请先勾选要打印评前公示名册的人员" in flash_text(page)
    _, job = await print_from(cast.operator, back, "pre_publicity_roster", [case_id])
    assert job["status"] == "failed" and "尚未开始评前公示" in job["error"]
    status, page, _ = await cast.operator.page(f"/print/{job['job_id']}")
    assert "未能生成" in page and "尚未开始评前公示" in page


async def test_the_api_queues_a_job_and_reports_it(cast, clock):
    case_id = await approved(cast, clock)
    status, job = await cast.operator.api(
        "POST", "/api/print-jobs", {"kind": "registration_form", "case_ids": [case_id]}
    )
    assert status == 202 and job["status"] in ("queued", "running", "done")
    done = await finished(cast.operator, job["job_id"])
    assert done["status"] == "done" and done["pages"] >= 1
    status, body = await cast.operator.api(
        "POST", "/api/print-jobs", {"kind": "registration_form", "case_ids": []}
    )
    assert status == 422 and "case_ids" in body["error"]["fields"]


async def test_a_whole_list_prints_beyond_the_page_shown(cast, clock):
    case_ids = [await approved(cast, clock) for _ in range(3)]
    for case_id in case_ids:
        await must(cast.operator, case_id, "start_pre_publicity")
    name = cast.applicant.person["name"]
    _, page, _ = await cast.operator.page(f"/work/unit-4?tab=done&name={name}&page_size=2")
    assert 'name="all_pages"' in page and "全部 3 人" in page
    query = f"list=unit%3A4&tab=done&name={name}"
    data = {"kind": "pre_publicity_roster", "all_pages": "1", "list_query": query, "back": "/"}
    status, page, where = await submit_form(cast.operator, "/print", data)
    job = await finished(cast.operator, job_id_of(where))
    assert job["status"] == "done" and job["cases"] == 3 and job["total"] == 1
    text = "".join(page_texts(await pdf_of(cast.operator, job["document_id"])))
    assert text.count(name) == 3

    other_list = {**data, "list_query": "list=department%3Areview&tab=done"}
    _, page, _ = await submit_form(cast.operator, "/print", other_list)
    assert "未能取得列表：没有这个业务列表" in flash_text(page)


async def test_a_department_reads_the_forms_and_printing_does_not_move_the_case(cast, clock):
    case_id = await at_department(cast, clock)
    await must(cast.department, case_id, "accept")
    _, page, _ = await cast.department.page(f"/cases/{case_id}")
    assert re.findall(r'name="kind" value="(\w+)"', page) == [
        "registration_form",
        "declaration_form",
    ]
    back = f"/cases/{case_id}"
    _, job = await print_from(cast.department, back, "declaration_form", [case_id])
    assert job["status"] == "done"
    await asyncio.sleep(0.5)  # the printed event has reached the cases service by now
    case = await case_of(cast.operator, case_id)
    assert case["state"] == "form_print_ready"  # step 7 is the unit's or the applicant's


async def test_a_publicity_start_stands_when_printing_is_unavailable(
    gateway, cast, clock, monkeypatch
):
    rpc = gateway.app[rpc_key]
    real_call = rpc.call

    async def documents_away(service, method, *args, **kwargs):
        if method == "documents.print":
            raise ServiceUnavailable("documents", "没有应答")
        return await real_call(service, method, *args, **kwargs)

    monkeypatch.setattr(rpc, "call", documents_away)
    case_id = await approved(cast, clock)
    data = {
        "action": "start_pre_publicity",
        "case_id": [case_id],
        "back": "/work/unit-4",
        "step": "confirm",
        "contact": "人事科",
    }
    status, page, where = await submit_form(cast.operator, "/work/unit-4/batch", data)
    assert status == 200 and where == "/work/unit-4"  # the done tab, where it can be printed
    message = flash_text(page)
    assert message.startswith("开始打印评前公示材料：已办理 1 件。未能打印：服务暂时不可用")
    assert "可在“已办业务”中打印" in message
    assert (await case_of(cast.operator, case_id))["state"] == "pre_publicity"

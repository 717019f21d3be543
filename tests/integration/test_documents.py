"""Printing through the documents service over RPC: real cases, stored PDFs, broken workers."""

import asyncio
import os
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from services.cases.app import build_service as build_cases
from services.cases.deps import CasesDeps
from services.cases.reference_seed import seed_reference
from services.documents.app import DocumentsDeps
from services.documents.app import build_service as build_documents
from services.documents.render import from_cases
from services.documents.render.engine import DocumentRenderer
from services.documents.render.pool import RenderPool, RenderSettings
from shared.rpc import RpcClient, RpcError
from shared.topology import Names
from tests.integration import render_tasks
from tests.integration.conftest import WORKFLOW_TODAY
from tests.support import document_samples as samples
from tests.support.cases_driver import COMMITTEE, DEPARTMENT, CasesDriver, approval, new_unit
from tests.support.meetings import results_outside
from tests.support.pdf_tools import fonts_of, page_count, page_texts
from tests.support.probes import wait_until
from tools.demo_data import demo_reference

UNIT_NAME = "深圳市福田区测试科技有限公司"
RENDER_TIMEOUT = 60  # seconds a documents.render call may take here


class PrintingDriver(CasesDriver):
    """Cases over RPC, and the documents service's deps (its render pool) to look into."""

    def __init__(self, client, cases_service, clock, deps: DocumentsDeps) -> None:
        super().__init__(client, cases_service, clock)
        self.deps = deps


@pytest.fixture(scope="module")
async def printing(own_settings):
    """cases + documents (two render workers), a client, and the documents' deps."""
    cases_deps = CasesDeps()
    cases = build_cases(own_settings, cases_deps)
    deps = DocumentsDeps(render=RenderSettings(workers=2, time_limit=30, memory_limit_mb=2048))
    documents = build_documents(own_settings, deps)
    for part in (cases, documents):
        await part.start()
    async with cases.pool.acquire() as conn:
        await seed_reference(conn, demo_reference())
    client = RpcClient(own_settings.amqp_url, Names(own_settings).rpc_queue, RENDER_TIMEOUT)
    await client.start()
    yield PrintingDriver(client, cases, cases_deps.clock, deps)
    await client.close()
    for part in (documents, cases):
        await part.stop()


@pytest.fixture
async def driver(printing):
    printing.clock.offset = WORKFLOW_TODAY - datetime.now(UTC)
    async with results_outside(printing.service.pool):  # step 8 by the buttons
        yield printing


def units_named(cases: list[dict]) -> dict[str, str]:
    """What accounts would answer for the cases' unit: its name."""
    return {case["unit_id"]: UNIT_NAME for case in cases}


async def render(driver, actor, kind: str, snapshots: list) -> dict:
    return await driver.call(
        "documents.render",
        {"kind": kind, "snapshots": [s.model_dump(mode="json") for s in snapshots]},
        actor,
        service="documents",
    )


async def read(driver, actor, document_id: str) -> bytes:
    answer = await driver.call(
        "documents.read", {"document_id": document_id}, actor, service="documents"
    )
    answer, content = answer.value, answer.content
    assert answer["content_type"] == "application/pdf" and len(content) == answer["size_bytes"]
    return content


async def accepted_case(driver, unit) -> dict:
    """A case the department has accepted: its 评审（申报）表 can be printed."""
    case_id = await driver.at_department(unit)
    await driver.act(DEPARTMENT, case_id, "accept")
    return await driver.call("case.get", {"case_id": case_id}, unit.operator)


async def test_a_declaration_form_printed_from_a_real_case(driver):
    unit = new_unit()
    case = await accepted_case(driver, unit)
    snapshot = from_cases.declaration_form(case, UNIT_NAME)
    printed = await render(driver, unit.operator, "declaration_form", [snapshot])
    pdf = await read(driver, unit.applicant, printed["document_id"])
    text = "".join(page_texts(pdf)).replace("\n", "")
    for field in (
        "专业技术资格评审（申报）表",
        "张三",
        case["case_no"],
        UNIT_NAME,
        "深圳大学",
        "机械工程",
        "高级工程师",
        "深圳市轻工专业高级专业技术资格评审委员会",
        "深圳市工程师联合会",
        "工作认真负责，业绩突出。",
        "公示期间无异议",
        "日常工作部门（盖章）",
    ):
        assert field in text, field
    assert page_count(pdf) == printed["pages"] >= 2
    assert all(f.embedded for f in fonts_of(pdf))


async def test_a_reprint_of_an_unchanged_case_is_not_rendered_again(driver):
    unit = new_unit()
    case_id = await driver.submitted(unit)
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    snapshot = from_cases.registration_form(case, UNIT_NAME)
    first = await render(driver, unit.operator, "registration_form", [snapshot])
    started = time.monotonic()
    again = await render(driver, unit.operator, "registration_form", [snapshot])
    assert time.monotonic() - started < 0.5
    assert (first["rendered"], again["rendered"]) == (1, 0)
    assert again["document_id"] == first["document_id"] and again["sha256"] == first["sha256"]
    changed = snapshot.model_copy(
        update={"case": snapshot.case.model_copy(update={"unit_name": "另一单位"})}
    )
    third = await render(driver, unit.operator, "registration_form", [changed])
    assert third["rendered"] == 1 and third["document_id"] != first["document_id"]


async def test_a_selection_prints_as_one_pdf_in_order_and_reuses_what_was_printed(driver):
    unit = new_unit()
    forms = []
    for _ in range(3):
        case_id = await driver.submitted(unit)
        case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
        forms.append(from_cases.registration_form(case, UNIT_NAME))
    forms.reverse()  # the order asked for, not the order of creation
    one = await render(driver, unit.operator, "registration_form", forms[1:2])
    selection = await render(driver, unit.operator, "registration_form", forms)
    assert selection["rendered"] == 2 + 1  # two new forms and their combination
    assert [p["document_id"] for p in selection["parts"]][1] == one["document_id"]
    pdf = await read(driver, unit.operator, selection["document_id"])
    texts = [t.replace(" ", "") for t in page_texts(pdf)]
    assert len(texts) == selection["pages"] == sum(p["pages"] for p in selection["parts"])
    first_pages = [t for t in texts if "第1页共" in t]
    assert [f.case.case_no in t for f, t in zip(forms, first_pages, strict=True)] == [True] * 3
    again = await render(driver, unit.operator, "registration_form", forms)
    assert (again["rendered"], again["document_id"]) == (0, selection["document_id"])


async def test_a_roster_of_the_units_cases(driver):
    unit = new_unit()
    cases = []
    for _ in range(3):
        case_id = await driver.submitted(unit)
        await driver.act(unit.operator, case_id, "approve", **approval(driver.clock.today()))
        await driver.act(unit.operator, case_id, "start_pre_publicity", contact="人事处 0755-1234")
        cases.append(await driver.call("case.get", {"case_id": case_id}, unit.operator))
    [roster] = from_cases.select("pre_publicity_roster", cases, units_named(cases)).snapshots
    printed = await render(driver, unit.operator, "pre_publicity_roster", [roster])
    text = "".join(page_texts(await read(driver, unit.operator, printed["document_id"])))
    assert "评前公示名册" in text and "人事处 0755-1234" in text and UNIT_NAME in text
    assert text.count("高级工程师") >= 3


async def test_only_those_who_may_see_every_case_read_the_document(driver):
    unit, other = new_unit(), new_unit()
    case = await accepted_case(driver, unit)
    printed = await render(
        driver, unit.operator, "declaration_form", [from_cases.declaration_form(case, UNIT_NAME)]
    )
    for stranger in (other.operator, other.applicant):
        with pytest.raises(RpcError) as refused:
            await read(driver, stranger, printed["document_id"])
        assert refused.value.status == 404
    assert await read(driver, DEPARTMENT, printed["document_id"])  # it has reached them
    with pytest.raises(RpcError) as missing:
        await read(driver, unit.operator, "00000000-0000-0000-0000-000000000000")
    assert missing.value.status == 404


async def test_a_snapshot_with_a_missing_field_is_refused_with_its_path(driver):
    unit = new_unit()
    bad = samples.registration(1).model_dump(mode="json")
    del bad["case"]["case_no"]
    with pytest.raises(RpcError) as refused:
        await driver.call(
            "documents.render",
            {
                "kind": "registration_form",
                "snapshots": [samples.registration(2).model_dump(mode="json"), bad],
            },
            unit.operator,
            service="documents",
        )
    assert refused.value.status == 422
    assert "snapshots.1.case.case_no" in refused.value.fields


async def test_a_crashed_worker_is_reported_and_the_service_goes_on(driver):
    unit = new_unit()
    pool = driver.deps.renderer.pool
    big = samples.roster(1200).model_copy(update={"unit_name": f"崩溃测试单位{time.time_ns()}"})
    call = asyncio.create_task(render(driver, unit.operator, "pre_publicity_roster", [big]))
    await wait_until(lambda: pool.running == pool.workers, timeout=30)  # chunks rendering
    await asyncio.sleep(0.2)
    for pid in pool.worker_pids():
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(RpcError) as failed:
        await call
    assert (failed.value.status, failed.value.code) == (503, "render_worker_died")
    assert "文档生成进程意外退出" in failed.value.message
    printed = await render(driver, unit.operator, "registration_form", [samples.registration(7)])
    assert printed["pages"] == 2 and pool.replacements >= 1


async def test_workers_killed_while_handing_back_large_results_are_reported_every_time():
    # A worker killed in the middle of returning its result once left the pool waiting for
    # ever (and the service unable to exit): every call must end, fast, as a result or a crash.
    pool = RenderPool(RenderSettings(workers=2, time_limit=5, warm=False))
    await pool.start()
    try:
        for trial in range(12):
            calls = [pool.run(render_tasks.large_result, 30_000_000) for _ in range(4)]
            running = asyncio.gather(*calls, return_exceptions=True)
            await asyncio.sleep(0.05 + (trial % 6) * 0.03)
            for pid in pool.worker_pids():
                os.kill(pid, signal.SIGKILL)
            outcomes = await asyncio.wait_for(running, 4)  # well inside the 10 s hard limit
            for outcome in outcomes:
                if isinstance(outcome, Exception):
                    assert getattr(outcome, "code", outcome) == "render_worker_died"
                else:
                    assert len(outcome) == 30_000_000
        assert pool.replacements >= 6
    finally:
        await pool.close()


async def test_a_render_past_its_time_limit_is_reported(driver):
    unit = new_unit()
    settings = driver.deps.renderer.pool.settings
    settings.time_limit, limit = 0.2, settings.time_limit
    try:
        with pytest.raises(RpcError) as failed:
            await render(
                driver,
                unit.operator,
                "pre_publicity_roster",
                [samples.roster(400).model_copy(update={"round_name": "超时测试"})],
            )
    finally:
        settings.time_limit = limit
    assert (failed.value.status, failed.value.code) == (503, "render_timeout")
    assert "文档生成超时" in failed.value.message


async def test_a_render_past_its_memory_limit_is_reported():
    pool = RenderPool(RenderSettings(workers=1, memory_limit_mb=600, warm=True))
    await pool.start()
    try:
        renderer = DocumentRenderer(pool, chunk_pages=1000)  # one process, the whole roster
        with pytest.raises(RpcError) as failed:
            await renderer.render("pre_publicity_roster", samples.roster(3000))
        # MemoryError when Python's allocation fails; when GLib's does, it aborts the worker.
        assert failed.value.status == 503
        assert failed.value.code in ("render_out_of_memory", "render_worker_died")
        assert "请减少一次打印的份数" in failed.value.message
        form = await renderer.render("registration_form", samples.registration(1))
        assert form.pages == 2  # the worker is still there for the next one
    finally:
        await pool.close()


async def test_an_allocation_failure_lost_in_c_code_is_reported_as_out_of_memory():
    pool = RenderPool(RenderSettings(workers=1))
    await pool.start()
    try:
        with pytest.raises(RpcError) as failed:
            await pool.run(render_tasks.lost_allocation_failure)
        assert (failed.value.status, failed.value.code) == (503, "render_out_of_memory")
        assert await pool.run(render_tasks.large_result, 10) == b"%" * 10  # a new worker
    finally:
        await pool.close()


async def test_the_documents_service_stops_its_workers(own_settings):
    deps = DocumentsDeps(render=RenderSettings(workers=1))
    documents = build_documents(own_settings, deps)
    await documents.start()
    pids = deps.renderer.pool.worker_pids()
    await documents.stop()
    await asyncio.sleep(0.2)
    assert pids and not any(_alive(pid) for pid in pids)


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_the_post_publicity_documents_are_printed_after_the_committee(driver):
    unit = new_unit()
    case = await accepted_case(driver, unit)
    for action, actor in (
        ("print_declaration_form", unit.applicant),
        ("forward_to_committee", DEPARTMENT),
    ):
        await driver.act(actor, case["id"], action)
    await driver.act(COMMITTEE, case["id"], "pass_review")
    await driver.act(DEPARTMENT, case["id"], "launch_post_publicity")
    await driver.act(unit.operator, case["id"], "start_post_publicity", method="单位网站")
    driver.clock.offset += timedelta(days=12)
    await driver.act(
        unit.operator, case["id"], "record_post_publicity_result", passed=True, feedback="无异议"
    )
    case = await driver.call("case.get", {"case_id": case["id"]}, unit.operator)
    roster = await render(
        driver,
        unit.operator,
        "post_publicity_roster",
        from_cases.select("post_publicity_roster", [case], units_named([case])).snapshots,
    )
    report = await render(
        driver,
        unit.operator,
        "post_publicity_report",
        [from_cases.publicity_report(case, UNIT_NAME, "post")],
    )
    roster_text = "".join(page_texts(await read(driver, unit.operator, roster["document_id"])))
    report_text = "".join(page_texts(await read(driver, unit.operator, report["document_id"])))
    assert "评后公示名单" in roster_text and "单位网站" in roster_text
    assert "评后公示情况表" in report_text and "无异议" in report_text


async def test_a_worker_that_died_while_idle_is_replaced_before_the_next_render(driver):
    pool = driver.deps.renderer.pool
    os.kill(pool.worker_pids()[0], signal.SIGKILL)
    await asyncio.sleep(0.5)  # the executor notices, and is broken until replaced
    form = await driver.deps.renderer.render("registration_form", samples.registration(9))
    assert form.pages == 2

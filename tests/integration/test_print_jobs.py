"""Print jobs: a selection printed in the background by the documents service, from the cases
as the cases service shows them to the person printing and the unit name from accounts."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.accounts.app import build_service as build_accounts
from services.cases.app import build_service as build_cases
from services.cases.deps import CasesDeps
from services.cases.reference_seed import seed_reference
from services.documents.app import DocumentsDeps
from services.documents.app import build_service as build_documents
from services.documents.jobs import JobSettings
from services.documents.render.pool import RenderSettings, timed_out
from shared.rate_limit import RateLimiter, RateLimitSettings
from shared.rpc import RpcClient, RpcError, ServiceUnavailable
from shared.topology import Names
from tests.integration.conftest import WORKFLOW_TODAY
from tests.support.cases_driver import DEPARTMENT, CasesDriver, approval, new_unit
from tests.support.pdf_tools import fonts_of, page_count, page_texts
from tools.demo_data import demo_reference

JOB_WAIT = 60  # seconds a job may take here (two render workers, a busy machine)


class JobsDriver(CasesDriver):
    def __init__(self, client, cases_service, clock, accounts, deps: DocumentsDeps) -> None:
        super().__init__(client, cases_service, clock)
        self.accounts = accounts
        self.deps = deps

    async def unit(self, name: str | None = None):
        """A unit that accounts knows, with an operator and an applicant."""
        unit = new_unit()
        name = name or f"深圳市测试{uuid.uuid4().hex[:6]}科技有限公司"
        await self.accounts.pool.execute(
            "INSERT INTO units (id, org_code, name, si_unit_no, source)"
            " VALUES ($1, $2, $3, $4, 'local')",
            unit.unit_id,
            uuid.uuid4().hex[:9].upper(),
            name,
            uuid.uuid4().hex[:10],
        )
        unit.name = name
        unit.operator = unit.operator.model_copy(update={"name": "陈经办"})
        return unit

    async def print(self, actor, kind: str, case_ids: list[str]) -> dict:
        return await self.call(
            "documents.print", {"kind": kind, "case_ids": case_ids}, actor, service="documents"
        )

    async def job(self, actor, job_id: str) -> dict:
        return await self.call("documents.job", {"job_id": job_id}, actor, service="documents")

    async def finished(self, actor, job: dict) -> dict:
        for _ in range(JOB_WAIT * 10):
            job = await self.job(actor, job["job_id"])
            if job["status"] in ("done", "failed"):
                return job
            await asyncio.sleep(0.1)
        raise AssertionError(f"job not finished: {job}")

    async def pdf(self, actor, document_id: str) -> bytes:
        answer = await self.call(
            "documents.read", {"document_id": document_id}, actor, service="documents"
        )
        return answer.content


@pytest.fixture(scope="module")
async def jobs(own_settings, accounts_deps):
    accounts = build_accounts(own_settings, accounts_deps)
    cases_deps = CasesDeps()
    cases = build_cases(own_settings, cases_deps)
    deps = DocumentsDeps(
        render=RenderSettings(workers=2, time_limit=30, memory_limit_mb=2048),
        jobs=JobSettings(lease_seconds=3, poll_seconds=0.5, retry_seconds=0.5),
    )
    documents = build_documents(own_settings, deps)
    for part in (accounts, cases, documents):
        await part.start()
    async with cases.pool.acquire() as conn:
        await seed_reference(conn, demo_reference())
    client = RpcClient(own_settings.amqp_url, Names(own_settings).rpc_queue, 30)
    await client.start()
    yield JobsDriver(client, cases, cases_deps.clock, accounts, deps)
    await client.close()
    for part in (documents, cases, accounts):
        await part.stop()


@pytest.fixture
async def driver(jobs):
    jobs.clock.offset = WORKFLOW_TODAY - datetime.now(UTC)
    yield jobs


async def approved(driver, unit) -> str:
    case_id = await driver.submitted(unit)
    await driver.act(unit.operator, case_id, "approve", **approval(driver.clock.today()))
    return case_id


async def accepted(driver, unit) -> str:
    case_id = await driver.at_department(unit)
    await driver.act(DEPARTMENT, case_id, "accept")
    return case_id


async def eventually_state(driver, actor, case_id: str, state: str) -> dict:
    for _ in range(100):
        case = await driver.call("case.get", {"case_id": case_id}, actor)
        if case["state"] == state:
            return case
        await asyncio.sleep(0.1)
    raise AssertionError(f"case stayed {case['state']}, expected {state}")


async def test_a_selection_prints_in_the_background_as_one_pdf_in_the_order_asked(driver):
    unit = await driver.unit()
    case_ids = [await approved(driver, unit) for _ in range(3)]
    case_ids.reverse()
    job = await driver.print(unit.operator, "registration_form", case_ids)
    assert job["status"] in ("queued", "running") and job["cases"] == 3
    job = await driver.finished(unit.operator, job)
    assert (job["status"], job["total"], job["done"], job["skipped"]) == ("done", 3, 3, [])
    pdf = await driver.pdf(unit.operator, job["document_id"])
    assert page_count(pdf) == job["pages"]
    first_pages = [t.replace(" ", "") for t in page_texts(pdf) if "第1页共" in t.replace(" ", "")]
    numbers = [
        (await driver.call("case.get", {"case_id": c}, unit.operator))["case_no"] for c in case_ids
    ]
    assert [n in page for n, page in zip(numbers, first_pages, strict=True)] == [True] * 3
    assert unit.name in first_pages[0]  # the unit's name as accounts has it
    assert all(f.embedded for f in fonts_of(pdf))


async def test_printing_the_declaration_form_moves_the_case_on_once_the_pdf_exists(driver):
    unit = await driver.unit()
    case_id = await accepted(driver, unit)
    job = await driver.finished(
        unit.operator, await driver.print(unit.operator, "declaration_form", [case_id])
    )
    assert job["status"] == "done"
    case = await eventually_state(driver, unit.operator, case_id, "dept_review")
    printed = [h for h in case["history"] if h["action"] == "print_declaration_form"]
    assert [(h["actor_role"], h["actor_name"]) for h in printed] == [("unit_operator", "陈经办")]
    again = await driver.finished(
        unit.applicant, await driver.print(unit.applicant, "declaration_form", [case_id])
    )
    assert again["document_id"] == job["document_id"]  # a reprint: the same stored PDF
    await asyncio.sleep(0.5)
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    assert case["state"] == "dept_review"
    assert sum(h["action"] == "print_declaration_form" for h in case["history"]) == 1


async def test_the_applicant_prints_their_own_declaration_form(driver):
    unit = await driver.unit()
    case_id = await accepted(driver, unit)
    job = await driver.finished(
        unit.applicant, await driver.print(unit.applicant, "declaration_form", [case_id])
    )
    assert job["status"] == "done"
    case = await eventually_state(driver, unit.operator, case_id, "dept_review")
    assert case["history"][-1]["actor_role"] == "applicant"
    text = "".join(page_texts(await driver.pdf(unit.applicant, job["document_id"])))
    assert "评审（申报）表" in text.replace(" ", "") and case["case_no"] in text


async def test_cases_without_the_document_yet_are_left_out_with_the_reason(driver):
    unit = await driver.unit()
    ready = await approved(driver, unit)
    await driver.act(unit.operator, ready, "start_pre_publicity", contact="人事处 0755-1234")
    waiting = await driver.submitted(unit)
    job = await driver.finished(
        unit.operator, await driver.print(unit.operator, "pre_publicity_roster", [ready, waiting])
    )
    assert job["status"] == "done" and job["total"] == 1
    assert [(s["case_id"], s["reason"]) for s in job["skipped"]] == [(waiting, "尚未开始评前公示")]
    text = "".join(page_texts(await driver.pdf(unit.operator, job["document_id"])))
    assert "人事处 0755-1234" in text and unit.name in text

    none = await driver.finished(
        unit.operator, await driver.print(unit.operator, "pre_publicity_report", [ready, waiting])
    )
    assert none["status"] == "failed" and none["document_id"] is None
    assert none["error"].startswith("所选人员都还没有评前公示情况表")
    assert "尚未填写评前公示意见" in none["error"]


async def test_people_publicised_at_different_times_get_a_roster_each_in_one_pdf(driver):
    unit = await driver.unit()
    first = await approved(driver, unit)
    await driver.act(unit.operator, first, "start_pre_publicity", contact="人事处")
    driver.clock.offset += timedelta(days=7)
    second = await approved(driver, unit)
    await driver.act(unit.operator, second, "start_pre_publicity", contact="人事处")
    job = await driver.finished(
        unit.operator, await driver.print(unit.operator, "pre_publicity_roster", [first, second])
    )
    assert (job["status"], job["total"]) == ("done", 2)
    pages = page_texts(await driver.pdf(unit.operator, job["document_id"]))
    assert sum("评前公示名册" in p.replace(" ", "") for p in pages) == 2


async def test_another_units_cases_and_jobs_stay_theirs(driver):
    unit, other = await driver.unit(), await driver.unit()
    case_id = await approved(driver, unit)
    job = await driver.print(unit.operator, "registration_form", [case_id])
    with pytest.raises(RpcError) as refused:
        await driver.job(other.operator, job["job_id"])
    assert refused.value.status == 404
    theirs = await driver.finished(
        other.operator, await driver.print(other.operator, "registration_form", [case_id])
    )
    assert theirs["status"] == "failed" and theirs["document_id"] is None
    assert theirs["skipped"] == [
        {"case_id": case_id, "name": "", "reason": "申报业务不存在或无权查看"}
    ]
    done = await driver.finished(unit.operator, job)
    with pytest.raises(RpcError) as hidden:
        await driver.pdf(other.operator, done["document_id"])
    assert hidden.value.status == 404


async def test_bad_requests_are_refused_before_a_job_exists(driver):
    unit = await driver.unit()
    for params, field in (
        ({"kind": "payslip", "case_ids": [str(uuid.uuid4())]}, "kind"),
        ({"kind": "registration_form", "case_ids": []}, "case_ids"),
        ({"kind": "registration_form", "case_ids": ["x"]}, "case_ids.0"),
    ):
        with pytest.raises(RpcError) as refused:
            await driver.call("documents.print", params, unit.operator, service="documents")
        assert refused.value.status == 422 and field in refused.value.fields
    too_many = [str(uuid.uuid4()) for _ in range(501)]
    with pytest.raises(RpcError) as refused:
        await driver.print(unit.operator, "declaration_form", too_many)
    assert refused.value.status == 422 and "500" in json.dumps(
        refused.value.fields, ensure_ascii=False
    )
    anonymous = unit.operator.model_copy(update={"user_id": None, "role": "anonymous"})
    with pytest.raises(RpcError) as unauthenticated:
        await driver.print(anonymous, "registration_form", [str(uuid.uuid4())])
    assert unauthenticated.value.status == 401


async def test_print_jobs_are_rate_limited_per_user(driver):
    unit = await driver.unit()
    kept = driver.deps.rate_limits
    driver.deps.rate_limits = RateLimiter(RateLimitSettings(rate_limits={"print_job": "3/600"}))
    try:
        for _ in range(3):
            await driver.print(unit.operator, "registration_form", [str(uuid.uuid4())])
        with pytest.raises(RpcError) as refused:
            await driver.print(unit.operator, "registration_form", [str(uuid.uuid4())])
        assert (refused.value.status, refused.value.code) == (429, "too_many_requests")
        assert refused.value.message.startswith("提交打印任务过于频繁，请 ")
        assert refused.value.details["retry_after"] > 0
        # The limit is the user's: another person of the unit still prints.
        other = unit.operator.model_copy(update={"user_id": uuid.uuid4()})
        await driver.print(other, "registration_form", [str(uuid.uuid4())])
    finally:
        driver.deps.rate_limits = kept


async def test_a_job_left_by_a_dead_process_is_taken_over(driver):
    unit = await driver.unit()
    case_id = await approved(driver, unit)
    job_id = uuid.uuid4()
    documents = driver.deps.runner.pool
    await documents.execute(
        "INSERT INTO print_jobs (id, kind, case_ids, actor, created_by, total, status, attempts,"
        " lease_until) VALUES ($1, 'registration_form', $2, $3, $4, 1, 'running', 1,"
        " now() - interval '1 second')",
        job_id,
        [uuid.UUID(case_id)],
        json.loads(unit.operator.model_dump_json()),
        unit.operator.user_id,
    )
    job = await driver.finished(unit.operator, {"job_id": str(job_id)})
    assert job["status"] == "done"
    assert await documents.fetchval("SELECT attempts FROM print_jobs WHERE id = $1", job_id) == 2


async def test_a_job_tried_too_often_is_failed_with_a_message(driver):
    unit = await driver.unit()
    job_id = uuid.uuid4()
    await driver.deps.runner.pool.execute(
        "INSERT INTO print_jobs (id, kind, case_ids, actor, created_by, total, status, attempts,"
        " lease_until) VALUES ($1, 'registration_form', $2, $3, $4, 0, 'running', $5,"
        " now() - interval '1 second')",
        job_id,
        [uuid.uuid4()],
        json.loads(unit.operator.model_dump_json()),
        unit.operator.user_id,
        JobSettings().max_attempts,
    )
    job = await driver.finished(unit.operator, {"job_id": str(job_id)})
    assert job["status"] == "failed" and "多次尝试仍未能生成" in job["error"]


async def test_a_failed_render_is_reported_on_the_job(driver, monkeypatch):
    unit = await driver.unit()
    case_id = await approved(driver, unit)

    async def broken(kind, snapshot):
        raise timed_out(30)

    monkeypatch.setattr(driver.deps.renderer, "render", broken)
    job = await driver.finished(
        unit.operator, await driver.print(unit.operator, "registration_form", [case_id])
    )
    assert job["status"] == "failed" and job["error"].startswith("文档生成超时")


async def test_a_job_waits_out_a_service_that_is_away_and_then_prints(driver, monkeypatch):
    unit = await driver.unit()
    case_id = await approved(driver, unit)
    peers, real_call, refusals = driver.deps.peers, driver.deps.peers.call, []

    async def cases_away_once(service, method, *args, **kwargs):
        if method == "case.get_many" and not refusals:
            refusals.append(method)
            raise ServiceUnavailable("cases", "没有应答")
        return await real_call(service, method, *args, **kwargs)

    monkeypatch.setattr(peers, "call", cases_away_once)
    job = await driver.finished(
        unit.operator, await driver.print(unit.operator, "registration_form", [case_id])
    )
    assert job["status"] == "done" and refusals == ["case.get_many"]
    attempts = await driver.deps.runner.pool.fetchval(
        "SELECT attempts FROM print_jobs WHERE id = $1", uuid.UUID(job["job_id"])
    )
    assert attempts == 2  # tried again after a pause, by the same or another process

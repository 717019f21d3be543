"""What an operator sees of the running system: every process's /metrics moved by exactly what
one small workflow did, /healthz and /readyz of each process (503 with why while its database
or the broker is away), and the JSON log lines of one request read back from the processes.

The system is the faults' one (separate processes, demo data), here with ZC_LOG_FORMAT=json.
The workflow: ten cases of 南山科技 approved in one batch by its unit admin, their
publicity started in a second, and closed as failed in a third, which tells each applicant by
SMS (the only step of the three whose events a service consumes).
"""

import json
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.clock import Clock
from shared.rpc import Actor, RpcClient
from shared.topology import Names
from tests.faults.conftest import SERVICES, System
from tests.support.cases_driver import CasesDriver, Unit, approval
from tests.support.probes import wait_until

FAILED = {"passed": False, "feedback": "公示期间收到实名举报，经核实属实"}
Sample = tuple[str, frozenset]  # a series: its name and its labels


@pytest.fixture(scope="module")
def system_env() -> dict[str, str]:
    # The gateway asks accounts for the session on every request (no cache), so each request
    # makes exactly one session lookup whatever the time between them.
    return {"ZC_LOG_FORMAT": "json", "ZC_SESSION_CACHE_SECONDS": "0"}


# --- reading the endpoints ---


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"http://127.0.0.1:{port}{path}", timeout=aiohttp.ClientTimeout(5)
        ) as r:
            return r.status, await r.text()


async def scrape(port: int) -> dict[Sample, float]:
    status, text = await get(port, "/metrics")
    assert status == 200, text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape_all(system: System) -> dict[str, dict[Sample, float]]:
    return {name: await scrape(port) for name, port in system.metrics_ports.items()}


def value(samples: dict[Sample, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: dict[Sample, float], name: str) -> float:
    """The sum over every series of `name`."""
    return sum(v for (n, _), v in samples.items() if n == name)


class Moved:
    """What moved between two scrapes of every process."""

    def __init__(self, before: dict, after: dict) -> None:
        self.before, self.after = before, after

    def __call__(self, process: str, name: str, **labels: str) -> float:
        after, before = self.after[process], self.before[process]
        return value(after, name, **labels) - value(before, name, **labels)

    def total(self, process: str, name: str) -> float:
        return total(self.after[process], name) - total(self.before[process], name)


# --- the workflow ---


async def nanshan(system: System) -> tuple[uuid.UUID, str]:
    """南山科技's id and its unit admin's user id."""
    row = await system.db.fetchrow(
        "SELECT unit_id, id FROM accounts.users WHERE username = 'nsadmin'"
    )
    return row["unit_id"], str(row["id"])


async def submitted_cases(system: System, unit_id: uuid.UUID, count: int) -> list[str]:
    """`count` cases waiting for the unit's approval, each of an applicant of its own, made over
    RPC as the applicants' pages would (tests/support/cases_driver.py)."""
    client = RpcClient(system.settings.amqp_url, Names(system.settings).rpc_queue, 10)
    await client.start()
    try:
        driver = CasesDriver(client, None, Clock())
        cases = []
        for _ in range(count):
            applicant = Actor(user_id=uuid.uuid4(), role="applicant", unit_id=unit_id)
            cases.append(await driver.submitted(Unit(unit_id, applicant, applicant)))
        return cases
    finally:
        await client.close()


async def batch(browser, action: str, case_ids: list[str], inputs: dict, request_id: str) -> dict:
    headers = {"X-CSRF-Token": browser.csrf, "X-Request-ID": request_id}
    body = {"action": action, "case_ids": case_ids, "inputs": inputs}
    async with browser.http.post("/api/cases/batch", json=body, headers=headers) as response:
        answer = await response.json()
        assert response.status == 200, answer
        assert answer["done"] == len(case_ids), answer
        return answer


async def publicity_over(system: System, case_ids: list[str]) -> None:
    """The 评前公示 periods of these cases ended last week (a shortcut past the calendar)."""
    today = Clock().today()
    await system.db.execute(
        "UPDATE cases.cases SET pre_publicity = pre_publicity"
        " || jsonb_build_object('start', $2::text, 'end', $3::text) WHERE id = ANY($1::uuid[])",
        case_ids,
        (today - timedelta(days=20)).isoformat(),
        (today - timedelta(days=10)).isoformat(),
    )


async def approve_and_fail_publicity(system: System, browser, case_ids: list[str], tag: str):
    """Three batch requests over the cases: approve, start publicity, publicity failed."""
    await batch(browser, "approve", case_ids, approval(Clock().today()), f"{tag}-approve")
    await batch(browser, "start_pre_publicity", case_ids, {}, f"{tag}-publicity")
    await publicity_over(system, case_ids)
    await batch(browser, "record_pre_publicity_result", case_ids, FAILED, f"{tag}-result")


# --- the tests ---


async def test_one_small_workflow_moves_every_process_s_counters_by_exactly_its_work(
    system: System,
):
    unit_id, _ = await nanshan(system)
    case_ids = await submitted_cases(system, unit_id, 10)
    unit = await system.browser("nsadmin")
    try:
        before = await scrape_all(system)
        await approve_and_fail_publicity(system, unit, case_ids, f"metrics-{uuid.uuid4().hex}")

        async def settled() -> bool:  # every event out, every SMS delivered
            now = {name: await scrape(system.metrics_ports[name]) for name in ("cases", "notify")}
            delivered = Moved(before, now)("notify", "zc_sms_deliveries_total", status="delivered")
            return delivered >= 10 and value(now["cases"], "zc_outbox_unsent", service="cases") == 0

        await wait_until(settled, timeout=60, interval=0.3)
        moved = Moved(before, await scrape_all(system))
    finally:
        await unit.close()

    # cases: ten moves of each step, three batch requests, forty events out (three
    # transitions and one notice for each case), nothing left unsent
    for action in ("approve", "start_pre_publicity", "record_pre_publicity_result"):
        assert moved("cases", "zc_case_transitions_total", action=action) == 10, action
    assert moved.total("cases", "zc_case_transitions_total") == 30
    batch_call = {"service": "cases", "method": "case.batch"}
    assert moved("cases", "zc_rpc_server_calls_total", **batch_call, outcome="ok") == 3
    assert moved("cases", "zc_rpc_server_duration_seconds_count", **batch_call) == 3
    assert moved.total("cases", "zc_rpc_server_calls_total") == 3
    assert moved("cases", "zc_outbox_published_total", service="cases") == 40
    assert value(moved.after["cases"], "zc_outbox_unsent", service="cases") == 0
    assert value(moved.after["cases"], "zc_outbox_oldest_unsent_seconds", service="cases") == 0

    # the gateway: three answered requests, each one call to cases and one session lookup
    route = {"route": "/api/cases/batch", "method": "POST"}
    assert moved("gateway", "zc_http_requests_total", **route, status="200") == 3
    assert moved("gateway", "zc_http_request_duration_seconds_count", **route) == 3
    assert moved("gateway", "zc_rpc_client_calls_total", **batch_call, outcome="ok") == 3
    session = {"service": "accounts", "method": "auth.session"}
    assert moved("gateway", "zc_rpc_client_calls_total", **session, outcome="ok") == 3
    assert moved("gateway", "zc_rpc_client_duration_seconds_count", **session) == 3
    assert moved.total("gateway", "zc_rpc_client_calls_total") == 6
    assert moved("accounts", "zc_rpc_server_calls_total", **session, outcome="ok") == 3

    # notify: the ten notices handled once each, ten SMS queued and delivered
    notices = {"consumer": "notify", "event_type": "case.applicant_notice"}
    assert moved("notify", "zc_events_consumed_total", **notices, outcome="handled") == 10
    assert moved.total("notify", "zc_events_consumed_total") == 10
    assert moved("notify", "zc_event_handling_duration_seconds_count", **notices) == 10
    assert moved("notify", "zc_sms_deliveries_total", status="queued") == 10
    assert moved("notify", "zc_sms_deliveries_total", status="delivered") == 10

    # no other consumer took anything, nothing was a duplicate or dead-lettered, documents idle
    for service in SERVICES:
        assert moved.total(service, "zc_inbox_duplicates_total") == 0, service
        assert moved.total(service, "zc_events_dead_lettered_total") == 0, service
        assert moved.total(service, "zc_events_retried_total") == 0, service
        if service != "notify":
            assert moved.total(service, "zc_events_consumed_total") == 0, service
        pool = moved.after[service]
        assert value(pool, "zc_db_pool_connections", service=service) >= 1, service
        assert value(pool, "zc_db_pool_max_connections", service=service) >= 1, service
    assert moved.total("documents", "zc_rpc_server_calls_total") == 0
    assert value(moved.after["documents"], "zc_render_workers") >= 1
    assert value(moved.after["documents"], "zc_render_workers_busy") == 0
    assert value(moved.after["documents"], "zc_print_jobs", state="queued") == 0

    # every process, the gateway too, times its garbage collector's pauses
    gc_series = ("zc_gc_pause_seconds_count", frozenset({("generation", "0")}))
    for name, samples in moved.after.items():
        assert gc_series in samples, name


async def test_each_process_answers_healthz_and_readyz_and_readyz_says_what_is_away(
    system: System,
):
    for name, port in system.metrics_ports.items():
        assert await get(port, "/healthz") == (200, '{"status": "alive"}'), name
        assert await get(port, "/readyz") == (200, '{"status": "ready"}'), name

    cases_db = system.databases["cases"]
    await cases_db.cut()
    try:
        status, body = await get(system.metrics_ports["cases"], "/readyz")
        assert status == 503 and "database" in json.loads(body)["problems"], body
        assert await get(system.metrics_ports["cases"], "/healthz") == (200, '{"status": "alive"}')
        for name in ("accounts", "documents", "notify", "gateway"):  # their own are there
            assert (await get(system.metrics_ports[name], "/readyz"))[0] == 200, name
    finally:
        await cases_db.start()
    await wait_until(lambda: ready(system, "cases"), timeout=15, interval=0.2)

    await system.broker.cut()
    try:
        for name in system.metrics_ports:
            problems = await wait_until(lambda n=name: broker_missed(system, n), timeout=15)
            assert "broker" in problems, (name, problems)
    finally:
        await system.broker.start()
    for name in system.metrics_ports:
        await wait_until(lambda n=name: ready(system, n), timeout=30, interval=0.2)


async def ready(system: System, name: str) -> bool:
    return (await get(system.metrics_ports[name], "/readyz"))[0] == 200


async def broker_missed(system: System, name: str) -> dict | None:
    status, body = await get(system.metrics_ports[name], "/readyz")
    return json.loads(body)["problems"] if status == 503 else None


async def test_json_log_lines_carry_the_request_id_actor_and_case_of_one_request(
    system: System,
):
    unit_id, admin_id = await nanshan(system)
    case_ids = await submitted_cases(system, unit_id, 2)
    unit = await system.browser("nsadmin")
    tag = f"logs-{uuid.uuid4().hex}"
    try:
        await approve_and_fail_publicity(system, unit, case_ids, tag)
        one_case = f"{tag}-one"
        headers = {"X-Request-ID": one_case}
        async with unit.http.get(f"/api/cases/{case_ids[0]}", headers=headers) as response:
            assert response.status == 200
    finally:
        await unit.close()
    request_id = f"{tag}-result"

    def lines(process: str, request: str) -> list[dict]:
        path = system.var_dir / "logs" / f"{process}.log"
        every = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return [line for line in every if line["request_id"] == request]

    queued = await wait_until(
        lambda: len(lines("notify", request_id)) >= 2 and lines("notify", request_id),
        timeout=30,
        interval=0.2,
    )

    [access] = [line for line in lines("gateway", request_id) if line["logger"] == "gateway.access"]
    assert '"POST /api/cases/batch" 200' in access["message"]
    assert (access["process"], access["level"], access["actor"]) == ("gateway", "INFO", admin_id)
    assert access["case_id"] is None  # a batch is about several
    at = datetime.fromisoformat(access["time"])
    assert at.utcoffset() == timedelta(0) and abs(datetime.now(UTC) - at) < timedelta(minutes=5)

    [moved] = [line for line in lines("cases", request_id) if "batch" in line["message"]]
    assert moved["message"].startswith("batch record_pre_publicity_result by unit_admin")
    assert (moved["process"], moved["actor"]) == ("cases", admin_id)
    assert moved["logger"] == "services.cases.handlers.workflow"

    # notify acts on the events the request caused: their case, nobody's session
    assert {q["case_id"] for q in queued} == set(case_ids)
    assert all(q["process"] == "notify" and q["actor"] is None for q in queued)
    assert all(q["message"].startswith("SMS ") and "queued" in q["message"] for q in queued)

    [read] = lines("gateway", one_case)
    assert (read["case_id"], read["actor"]) == (case_ids[0], admin_id)
    assert "exception" not in read

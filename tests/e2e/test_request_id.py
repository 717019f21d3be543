"""One request id from the browser to the SMS: a batch approval followed by its id through
the gateway's log line, the cases service's log line, the events it wrote, and the SMS
deliveries they caused."""

import logging
import uuid

import pytest

from tests.e2e.case_steps import (
    PUBLICITY_OVER,
    approval,
    member,
    must,
    new_cast,
    submitted,
)
from tests.support.probes import wait_until


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


async def test_a_batch_approval_is_followed_by_its_request_id_end_to_end(
    gateway, services, cast, clock, sms_outbox, caplog
):
    case_ids = []
    for name in ("赵甲", "钱乙"):
        applicant = await member(gateway, services, cast, "applicant", name)
        case_id = await submitted(applicant)
        await must(cast.operator, case_id, "approve", **approval(clock.today()))
        await must(cast.operator, case_id, "start_pre_publicity")
        case_ids.append(case_id)
    clock.offset += PUBLICITY_OVER

    # The publicity found objections: both close, and each applicant gets an SMS.
    request_id = f"trace-{uuid.uuid4().hex}"
    selection = {
        "case_ids": case_ids,
        "action": "record_pre_publicity_result",
        "inputs": {"passed": False, "feedback": "公示期间收到实名举报，经核实属实"},
    }
    headers = {"X-CSRF-Token": await cast.operator.csrf(), "X-Request-ID": request_id}
    with caplog.at_level(logging.INFO):
        async with cast.operator.http.post(
            "/api/cases/batch", json=selection, headers=headers
        ) as response:
            assert response.status == 200, await response.text()
            assert response.headers["X-Request-ID"] == request_id
            assert (await response.json())["done"] == 2

    def lines_of(logger: str) -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.name.startswith(logger) and getattr(r, "request_id", None) == request_id
        ]

    assert any('"POST /api/cases/batch" 200' in line for line in lines_of("gateway.access"))
    assert any("batch record_pre_publicity_result" in line for line in lines_of("services.cases"))

    events = await services["cases"].pool.fetch(
        "SELECT routing_key FROM outbox WHERE envelope->>'correlation_id' = $1", request_id
    )
    kinds = sorted(e["routing_key"] for e in events)
    assert kinds == ["case.applicant_notice"] * 2 + ["case.transitioned"] * 2

    async def deliveries():
        rows = await services["notify"].pool.fetch(
            "SELECT reference FROM deliveries WHERE correlation_id = $1", request_id
        )
        return rows if len(rows) == 2 else None

    delivered = await wait_until(deliveries)
    assert sorted(r["reference"].split(":")[1] for r in delivered) == sorted(case_ids)


async def test_a_request_gets_an_id_of_its_own_when_it_brings_none_or_an_unusable_one(http):
    for sent in (None, "x" * 65, "bad id with spaces", "新"):
        headers = {"X-Request-ID": sent} if sent else {}
        async with http.get("/healthz", headers=headers) as response:
            answered = response.headers["X-Request-ID"]
            assert answered != sent and len(answered) == 32

"""The cases service's personal numbers through the gateway: sealed at rest, masked for all
but the applicant, 显示完整号码 for a role that may see the case (audited), refused (403,
audited) for anyone else."""

import pytest

from tests.e2e.case_steps import case_of, new_cast, submitted
from tests.support.plain_numbers import plain_numbers


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


@pytest.fixture
async def outsider(gateway, services):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


async def _trail(services, case_id: str) -> list:
    return await services["cases"].pool.fetch(
        "SELECT actor_id, outcome, code, details FROM audit_log"
        " WHERE action = 'personal.unmask' AND object_id = $1 ORDER BY seq",
        case_id,
    )


async def test_the_unit_sees_a_mask_and_unmasks_it_on_demand(cast, outsider, services):
    case_id = await submitted(cast.applicant)
    own = cast.applicant.person["id_number"]
    applicant_view = await case_of(cast.applicant, case_id)
    assert applicant_view["sections"]["basic"]["id_number"] == own

    shown = (await case_of(cast.operator, case_id))["sections"]["basic"]["id_number"]
    assert shown == own[:6] + "********" + own[-4:]

    wanted = {"object_type": "case", "object_id": case_id, "field": "id_number"}
    status, body = await cast.operator.api("POST", "/api/personal/unmask", wanted)
    assert (status, body["value"]) == (200, own)
    status, body = await cast.operator.api(
        "POST", "/api/personal/unmask", wanted | {"field": "mobile"}
    )
    assert (status, body["value"]) == (200, cast.applicant.person["mobile"])

    status, _ = await outsider.operator.api("POST", "/api/personal/unmask", wanted)
    assert status == 403
    rows = await _trail(services, case_id)
    assert [(r["outcome"], r["details"]["field"]) for r in rows] == [
        ("ok", "id_number"),
        ("ok", "mobile"),
        ("refused", "id_number"),
    ]


async def test_no_plain_number_is_left_in_the_cases_schema(cast, services):
    await submitted(cast.applicant)
    schema = await services["cases"].pool.fetchval("SELECT current_schema()")
    assert await plain_numbers(services["cases"].pool, [schema]) == []

"""Tenant isolation in cases and documents: every method, as every outsider."""

import uuid

import pytest

from shared.rpc import Actor, RpcError
from tests.support.cases_driver import PNG, new_unit, reviewer

OUTSIDERS = {
    "other unit's operator": lambda w: w["stranger"].operator,
    "other unit's applicant": lambda w: w["stranger"].applicant,
    "same unit, other applicant": lambda w: Actor(
        user_id=uuid.uuid4(), role="applicant", unit_id=w["unit"].unit_id
    ),
    "other department": lambda w: reviewer("department", "dept-daj"),
    "own department before submission": lambda w: reviewer("department", "dept-gcslh"),
    "office": lambda w: reviewer("office", "office-zjc"),
    "own committee before forwarding": lambda w: reviewer("committee", "cmte-qg-gj"),
    "sysadmin": lambda w: Actor(user_id=uuid.uuid4(), role="sysadmin"),
    "anonymous": lambda w: Actor(),
}


@pytest.fixture(scope="module")
async def world(workflow):
    from datetime import UTC, datetime

    from tests.integration.conftest import WORKFLOW_TODAY

    workflow.clock.offset = WORKFLOW_TODAY - datetime.now(UTC)
    unit, stranger = new_unit(), new_unit()
    draft = await workflow.open(unit)
    scan = await workflow.upload(unit.applicant, draft, "id_card", PNG)
    submitted = await workflow.submitted(unit)
    return {
        "driver": workflow,
        "unit": unit,
        "stranger": stranger,
        "draft": draft,
        "submitted": submitted,
        "scan": scan,
    }


def calls(w) -> dict:
    draft, submitted, scan = w["draft"], w["submitted"], w["scan"]
    return {
        "case.get": ("cases", {"case_id": submitted}),
        "case.act": ("cases", {"case_id": submitted, "action": "approve", "inputs": {}}),
        "case.batch": ("cases", {"case_ids": [submitted], "action": "start_pre_publicity"}),
        "case.save_section": (
            "cases",
            {"case_id": draft, "section": "education", "data": {"hours_by_year": {"2025": 1}}},
        ),
        "case.check_upload": ("cases", {"case_id": draft, "category": "id_card"}),
        "case.attach": (
            "cases",
            {
                "case_id": draft,
                "category": "id_card",
                "file_id": str(uuid.uuid4()),
                "filename": "x.png",
                "content_type": "image/png",
                "size_bytes": 1,
                "checksum": "x",
            },
        ),
        "case.remove_attachment": (
            "cases",
            {"case_id": draft, "attachment_id": scan["attachment_id"]},
        ),
        "files.read": ("documents", {"file_id": scan["file_id"]}),
        "files.upload": (
            "documents",
            {"case_id": draft, "category": "id_card", "filename": "x.png"},
        ),
    }


@pytest.mark.parametrize("outsider", sorted(OUTSIDERS))
@pytest.mark.parametrize(
    "method",
    sorted(
        [
            "case.get",
            "case.act",
            "case.batch",
            "case.save_section",
            "case.check_upload",
            "case.attach",
            "case.remove_attachment",
            "files.read",
            "files.upload",
        ]
    ),
)
async def test_an_outsider_gets_nothing_from_any_case_method(world, outsider, method):
    driver = world["driver"]
    service, params = calls(world)[method]
    actor = OUTSIDERS[outsider](world)
    try:
        scan = b"\x89PNG\r\n\x1a\n" if method == "files.upload" else None
        answer = await driver.client.call(service, method, params, actor=actor, attachment=scan)
    except RpcError as refused:
        assert refused.status in (403, 404), refused.message
        assert "张三" not in refused.message
        return
    # A batch answers per case: the case must be reported as not found, and unchanged.
    assert method == "case.batch"
    [result] = answer["results"]
    assert result["error"]["status"] == 404 and "name" not in result
    case = await driver.call("case.get", {"case_id": world["submitted"]}, world["unit"].operator)
    assert case["state"] == "unit_review"


@pytest.mark.parametrize("outsider", sorted(OUTSIDERS))
async def test_lists_and_counts_never_show_another_partys_cases(world, outsider):
    driver = world["driver"]
    actor = OUTSIDERS[outsider](world)
    ours = {world["draft"], world["submitted"]}
    for method, params in (
        ("case.home", {}),
        ("case.mine", {}),
        ("case.list", {"list": "unit:3"}),
        ("case.list", {"list": "department:acceptance"}),
        ("case.list", {"list": "committee:review"}),
    ):
        try:
            answer = await driver.client.call("cases", method, params, actor=actor)
        except RpcError as refused:
            assert refused.status in (401, 403, 404)
            continue
        shown = {item["id"] for item in answer.get("items", [])}
        assert not shown & ours
        if method == "case.home":
            assert all(item["count"] == 0 for item in answer["lists"]) or actor.role in (
                "department",
                "office",
                "committee",
            )


async def test_can_view_says_no_to_outsiders_and_yes_to_the_unit(world):
    driver = world["driver"]
    params = {"case_id": world["submitted"]}
    assert (await driver.call("case.can_view", params, world["unit"].operator))["allowed"]
    for make in OUTSIDERS.values():
        try:
            answer = await driver.client.call("cases", "case.can_view", params, actor=make(world))
        except RpcError as refused:
            assert refused.status == 403
            continue
        assert answer == {"allowed": False}


async def test_an_applicants_case_count_is_told_to_their_unit_only(world):
    driver = world["driver"]
    params = {"applicant_id": str(world["unit"].applicant.user_id)}
    mine = await driver.call("case.applicant_case_count", params, world["unit"].operator)
    assert mine["cases"] >= 2  # the draft and the submitted case of this world
    for make in OUTSIDERS.values():
        try:
            answer = await driver.client.call(
                "cases", "case.applicant_case_count", params, actor=make(world)
            )
        except RpcError as refused:
            assert refused.status == 403
            continue
        assert answer == {"cases": 0}

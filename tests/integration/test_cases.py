"""The case workflow over RPC against the real services: paths, batches, races, scoping."""

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest

from shared.personal_data import TRANSIT, keyring
from shared.rpc import RpcError
from tests.support.cases_driver import (
    BASIC,
    COMMITTEE,
    DEPARTMENT,
    OFFICE,
    PNG,
    approval,
    new_unit,
    reviewer,
)
from tests.support.meetings import results_outside
from tests.support.probes import wait_until

PASSED = {"passed": True, "feedback": "公示期间无异议"}


@pytest.fixture(autouse=True)
async def committee_records_outside_results(workflow):
    """These tests take step 8 by the buttons: a committee that records outside results."""
    async with results_outside(workflow.service.pool):
        yield


async def walk_from_department(driver, unit, case_id: str, needs_pre_approval: bool) -> None:
    """From 待日常工作部门预受理 to 业务办结 (passed)."""
    await driver.act(DEPARTMENT, case_id, "accept")
    if needs_pre_approval:
        assert await driver.state(unit.operator, case_id) == "office_approval"
        await driver.act(OFFICE, case_id, "grant_pre_approval")
    await driver.act(unit.applicant, case_id, "print_declaration_form")
    await driver.act(DEPARTMENT, case_id, "forward_to_committee")
    await driver.act(COMMITTEE, case_id, "pass_review")
    await driver.act(DEPARTMENT, case_id, "launch_post_publicity")
    await driver.act(unit.operator, case_id, "start_post_publicity")
    driver.clock.offset += timedelta(days=12)
    await driver.act(unit.operator, case_id, "record_post_publicity_result", **PASSED)
    await driver.act(DEPARTMENT, case_id, "confirm")


@pytest.mark.parametrize("review_type, needs_pre_approval", [("ptsb", False), ("cxxrc", True)])
async def test_a_case_walks_from_draft_to_passed(driver, review_type, needs_pre_approval):
    unit = new_unit()
    case_id = await driver.at_department(unit, review_type)
    await walk_from_department(driver, unit, case_id, needs_pre_approval)
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    assert (case["state"], case["outcome"]) == ("closed", "passed")
    assert case["status"] == "日常工作部门已确认-->业务办结"
    actions = [h["action"] for h in case["history"]]
    assert actions[:5] == [
        "submit",
        "approve",
        "start_pre_publicity",
        "record_pre_publicity_result",
        "submit_to_department",
    ]
    assert actions[-1] == "confirm"
    assert ("grant_pre_approval" in actions) is needs_pre_approval


async def test_the_applicant_cancels_a_draft(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    await driver.act(unit.applicant, case_id, "cancel")
    case = await driver.call("case.get", {"case_id": case_id}, unit.applicant)
    assert (case["state"], case["outcome"]) == ("closed", "cancelled")


async def test_a_failed_pre_publicity_closes_the_case(driver):
    unit = new_unit()
    case_id = await driver.submitted(unit)
    await driver.act(unit.operator, case_id, "approve", **approval(driver.clock.today()))
    await driver.act(unit.operator, case_id, "start_pre_publicity")
    driver.clock.offset += timedelta(days=12)
    await driver.act(
        unit.operator,
        case_id,
        "record_pre_publicity_result",
        passed=False,
        feedback="收到实名举报，经核实属实",
    )
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    assert (case["outcome"], case["reason"]) == ("pre_publicity_failed", "收到实名举报，经核实属实")


TO_COMMITTEE = ["accept", "grant_pre_approval", "print_declaration_form", "forward_to_committee"]
TO_POST_PUBLICITY = [*TO_COMMITTEE, "pass_review", "launch_post_publicity", "start_post_publicity"]
CLOSINGS = [
    ([], "refuse", {"reason": "不符合申报条件"}, "not_accepted"),
    (["accept"], "deny_pre_approval", {"reason": "不符合破格条件"}, "pre_approval_denied"),
    (TO_COMMITTEE, "fail_review", {}, "committee_failed"),
    (
        TO_POST_PUBLICITY,
        "record_post_publicity_result",
        {"passed": False, "feedback": "有异议"},
        "post_publicity_failed",
    ),
]


def actor_for(action: str, unit):
    """Who takes `action`: the reviewer whose role may, else the unit's operator."""
    from services.cases.domain.model import ACTION_ROLES, Action

    roles = {r.value for r in ACTION_ROLES[Action(action)]}
    reviewers = {"department": DEPARTMENT, "office": OFFICE, "committee": COMMITTEE}
    return next((reviewers[r] for r in reviewers if r in roles), unit.operator)


@pytest.mark.parametrize("path, closing, inputs, outcome", CLOSINGS)
async def test_each_other_closed_outcome(driver, path, closing, inputs, outcome):
    unit = new_unit()
    case_id = await driver.at_department(unit, "cxxrc")  # 创新型人才 needs pre-approval
    for action in path:
        await driver.act(actor_for(action, unit), case_id, action)
    if closing == "record_post_publicity_result":
        driver.clock.offset += timedelta(days=12)
    await driver.act(actor_for(closing, unit), case_id, closing, **inputs)
    if closing == "record_post_publicity_result":
        await driver.act(DEPARTMENT, case_id, "confirm")
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    assert (case["state"], case["outcome"]) == ("closed", outcome)


async def test_a_rejected_case_goes_back_to_the_applicant_with_the_reason(driver):
    unit = new_unit()
    case_id = await driver.submitted(unit)
    with pytest.raises(RpcError) as no_reason:
        await driver.act(unit.operator, case_id, "reject", reason=" ")
    assert no_reason.value.status == 422 and "reason" in no_reason.value.fields
    await driver.act(unit.operator, case_id, "reject", reason="学历证书扫描件不清晰")
    mine = await driver.call("case.mine", {}, unit.applicant)
    [row] = [r for r in mine["items"] if r["id"] == case_id]
    assert (row["state"], row["reason"]) == ("draft", "学历证书扫描件不清晰")
    assert row["status"] == "单位审核不同意-->待填报上报"


async def test_submitting_an_incomplete_case_names_what_is_missing(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    with pytest.raises(RpcError) as refused:
        await driver.act(unit.applicant, case_id, "submit")
    assert refused.value.status == 422
    for part in ("工作经历", "继续教育", "身份证", "学历证书", "业绩证明", "毕业院校"):
        assert part in refused.value.message


async def test_materials_are_saved_by_section_and_frozen_after_submission(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    with pytest.raises(RpcError) as bad:
        await driver.call(
            "case.save_section",
            {
                "case_id": case_id,
                "section": "basic",
                "data": {"gender": "未知", "years_in_field": -1},
            },
            unit.applicant,
        )
    assert set(bad.value.fields) == {"gender", "years_in_field"}
    await driver.complete(unit, case_id)
    case = await driver.call("case.get", {"case_id": case_id}, unit.applicant)
    assert case["sections"]["basic"]["school"] == "深圳大学"
    assert {a["category"] for a in case["attachments"]} == {"id_card", "diploma", "achievement"}
    await driver.act(unit.applicant, case_id, "submit")
    with pytest.raises(RpcError) as frozen:
        await driver.call(
            "case.save_section",
            {"case_id": case_id, "section": "education", "data": {"hours_by_year": {"2025": 1}}},
            unit.applicant,
        )
    assert frozen.value.status == 409


async def test_the_publicity_result_is_refused_until_the_period_has_ended(driver):
    unit = new_unit()
    case_id = await driver.submitted(unit)
    await driver.act(unit.operator, case_id, "approve", **approval(driver.clock.today()))
    started = await driver.act(unit.operator, case_id, "start_pre_publicity")
    assert started["state"] == "pre_publicity"
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    end = case["pre_publicity"]["end"]
    assert end == "2026-06-05"  # 5 working days from Mon 1 June 2026
    driver.clock.offset += timedelta(days=4)  # Friday 5 June, the last day
    with pytest.raises(RpcError) as early:
        await driver.act(unit.operator, case_id, "record_pre_publicity_result", **PASSED)
    assert early.value.status == 409 and "期满后" in early.value.message
    driver.clock.offset += timedelta(days=1)
    assert (await driver.act(unit.operator, case_id, "record_pre_publicity_result", **PASSED))[
        "state"
    ] == "dept_submit_ready"


async def test_a_batch_moves_what_it_can_and_reports_each_case(driver):
    unit = new_unit()
    ready = [await driver.submitted(unit) for _ in range(3)]
    for case_id in ready:
        await driver.act(unit.operator, case_id, "approve", **approval(driver.clock.today()))
    moved_meanwhile = ready[1]
    await driver.act(unit.operator, moved_meanwhile, "start_pre_publicity")
    other_unit = new_unit()
    foreign = await driver.submitted(other_unit)
    result = await driver.call(
        "case.batch",
        {"case_ids": [*ready, foreign], "action": "start_pre_publicity"},
        unit.operator,
    )
    by_case = {r["case_id"]: r for r in result["results"]}
    assert (result["done"], result["failed"]) == (2, 2)
    assert by_case[ready[0]]["ok"] and by_case[ready[2]]["ok"]
    assert by_case[moved_meanwhile]["error"]["status"] == 409
    assert by_case[foreign]["error"]["status"] == 404 and "name" not in by_case[foreign]


async def test_simultaneous_approvals_of_one_case_give_one_transition(driver):
    unit = new_unit()
    case_id = await driver.submitted(unit)
    operators = [
        new_unit().operator.model_copy(update={"unit_id": unit.unit_id}) for _ in range(12)
    ]
    outcomes = await asyncio.gather(
        *(driver.act(op, case_id, "approve", **approval(driver.clock.today())) for op in operators),
        return_exceptions=True,
    )
    wins = [o for o in outcomes if isinstance(o, dict)]
    conflicts = [o for o in outcomes if isinstance(o, RpcError) and o.status == 409]
    assert len(wins) == 1 and len(conflicts) == 11
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    assert [h["action"] for h in case["history"]].count("approve") == 1


async def test_an_action_on_a_stale_version_is_a_conflict(driver):
    unit = new_unit()
    case_id = await driver.submitted(unit)
    seen = (await driver.call("case.get", {"case_id": case_id}, unit.operator))["version"]
    await driver.act(unit.operator, case_id, "reject", reason="请补充材料")
    await driver.act(unit.applicant, case_id, "submit")
    with pytest.raises(RpcError) as stale:
        await driver.call(
            "case.act",
            {
                "case_id": case_id,
                "action": "approve",
                "inputs": approval(driver.clock.today()),
                "expected_version": seen,
            },
            unit.operator,
        )
    assert stale.value.status == 409


async def test_lists_home_counts_and_done_tabs_follow_the_case(driver):
    unit = new_unit()
    home = await driver.call("case.home", {}, unit.operator)
    assert all(item["count"] == 0 for item in home["lists"])
    case_id = await driver.submitted(unit)
    counts = {
        i["key"]: i["count"] for i in (await driver.call("case.home", {}, unit.operator))["lists"]
    }
    assert counts["unit:3"] == 1
    todo = await driver.call("case.list", {"list": "unit:3"}, unit.operator)
    assert [r["id"] for r in todo["items"]] == [case_id]
    assert todo["actions"] == ["approve", "reject"]
    await driver.act(unit.operator, case_id, "approve", **approval(driver.clock.today()))
    counts = {
        i["key"]: i["count"] for i in (await driver.call("case.home", {}, unit.operator))["lists"]
    }
    assert (counts["unit:3"], counts["unit:4"]) == (0, 1)
    done = await driver.call("case.list", {"list": "unit:3", "tab": "done"}, unit.operator)
    assert [r["status"] for r in done["items"]] == ["单位审核同意-->待打印评前公示"]
    filtered = await driver.call(
        "case.list", {"list": "unit:4", "name": "不存在的人"}, unit.operator
    )
    assert filtered["total"] == 0


async def test_a_done_tab_finds_a_returned_case_by_the_name_its_applicant_gave_since(driver):
    """A 已办 tab searched by name reads the party's case_done rows alone (migration 019),
    which carry the name: an applicant who corrects it on a returned case is found by the new
    one, under either order, and no longer by the old."""
    unit = new_unit()
    case_id = await driver.submitted(unit)
    await driver.act(unit.operator, case_id, "reject", reason="姓名有误")
    basic = {"case_id": case_id, "section": "basic", "data": {**BASIC, "name": "李四"}}
    await driver.call("case.save_section", basic, unit.applicant)
    for sort in ("updated", "name"):
        done = {"list": "unit:3", "tab": "done", "sort": sort}
        renamed = await driver.call("case.list", {**done, "name": "李四"}, unit.operator)
        assert renamed["total"] == 1
        assert [(r["id"], r["name"]) for r in renamed["items"]] == [(case_id, "李四")]
        before = await driver.call("case.list", {**done, "name": "张三"}, unit.operator)
        assert (before["total"], before["items"]) == (0, [])
    # a name with letters is found in any case, read from case_done alone or joined
    basic["data"]["name"] = "Anna 李"
    await driver.call("case.save_section", basic, unit.applicant)
    for asked in ({"name": "aNNA"}, {"name": "ANNA 李", "review_type_id": "ptsb"}):
        found = await driver.call(
            "case.list", {"list": "unit:3", "tab": "done", **asked}, unit.operator
        )
        assert [(r["id"], r["name"]) for r in found["items"]] == [(case_id, "Anna 李")]


async def test_the_applicant_gets_an_sms_when_the_case_is_returned(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    await driver.complete(unit, case_id)
    await driver.act(unit.applicant, case_id, "submit")
    await driver.act(unit.operator, case_id, "reject", reason="请补充业绩证明")

    case_no = await driver.service.pool.fetchval(
        "SELECT case_no FROM cases WHERE id = $1", uuid.UUID(str(case_id))
    )

    def sms_about_it():
        log = driver.service.settings.var_dir
        from pathlib import Path

        path = Path(log) / "sms.log"
        # The approved template, with the case number; the reason stays in the system.
        text = f"您的职称申报（申报编号 {case_no}）未通过单位审核，请登录系统查看原因"
        return path.exists() and text in path.read_text(encoding="utf-8")

    await wait_until(sms_about_it, timeout=15)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "文件是空的"),
        (b"MZ\x90\x00 not a scan", "仅支持 PDF、JPG、PNG"),
        (PNG + b"\x00" * (10 * 1024 * 1024), "不能超过 10 MB"),
    ],
)
async def test_uploads_of_the_wrong_kind_are_refused_clearly(driver, content, message):
    unit = new_unit()
    case_id = await driver.open(unit)
    with pytest.raises(RpcError) as refused:
        await driver.upload(unit.applicant, case_id, "id_card", content, "scan.pdf")
    assert refused.value.status == 422 and message in refused.value.fields["file"]


async def test_scans_are_read_only_by_those_who_may_see_the_case(driver):
    unit, stranger = new_unit(), new_unit()
    case_id = await driver.open(unit)
    stored = await driver.upload(unit.applicant, case_id, "id_card", PNG)
    own = await driver.call(
        "files.read", {"file_id": stored["file_id"]}, unit.operator, service="documents"
    )
    assert own.value["content_type"] == "image/png" and own.content == PNG
    for outsider in (
        stranger.operator,
        stranger.applicant,
        DEPARTMENT,
        reviewer("committee", "cmte-qg-gj"),
    ):
        with pytest.raises(RpcError) as hidden:
            await driver.call(
                "files.read", {"file_id": stored["file_id"]}, outsider, service="documents"
            )
        assert hidden.value.status == 404


async def test_an_action_that_must_be_done_case_by_case_is_refused_for_a_selection(driver):
    unit = new_unit()
    case_id = await driver.submitted(unit)
    with pytest.raises(RpcError) as refused:
        await driver.call(
            "case.batch",
            {"case_ids": [case_id], "action": "reject", "inputs": {"reason": "批量退回"}},
            unit.operator,
        )
    assert refused.value.status == 422 and "逐件办理" in refused.value.message
    assert await driver.state(unit.operator, case_id) == "unit_review"


async def test_a_moves_events_are_sent_by_the_cases_process_at_commit(driver):
    """Not by the relay's rounds, which leave such rows alone for DIRECT_GRACE (5 s): on the
    wire once committed, and stamped sent a moment later."""
    unit = new_unit()
    case_id = await driver.submitted(unit)
    await driver.act(unit.operator, case_id, "reject", reason="请补充业绩证明")

    async def stamped():
        rows = await driver.service.pool.fetch(
            "SELECT direct FROM outbox WHERE envelope->'payload'->>'case_id' = $1"
            " AND envelope->'payload'->>'action' = 'reject' AND sent_at IS NOT NULL",
            case_id,
        )
        return len(rows) == 2 and rows  # case.transitioned and case.applicant_notice

    assert [r["direct"] for r in await wait_until(stamped, timeout=3)] == [True, True]
    assert driver.service.relay.sent_at_commit >= 2


async def test_a_move_tells_the_other_services_exactly_these_fields(driver):
    """The payloads of case.transitioned and case.applicant_notice, which consumers read."""
    unit = new_unit()
    case_id = await driver.submitted(unit)
    await driver.act(unit.operator, case_id, "reject", reason="请补充业绩证明")
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    rows = await driver.service.pool.fetch(
        "SELECT routing_key, envelope FROM outbox WHERE envelope->'payload'->>'case_id' = $1"
        " AND envelope->'payload'->>'action' = 'reject' ORDER BY seq",
        case_id,
    )
    assert [r["routing_key"] for r in rows] == ["case.transitioned", "case.applicant_notice"]
    transitioned, notice = (r["envelope"] for r in rows)
    for envelope, kind in ((transitioned, "case.transitioned"), (notice, "case.applicant_notice")):
        assert (envelope["type"], envelope["producer"], envelope["version"]) == (kind, "cases", 1)
    moved_at = case["history"][-1]["at"]
    for payload in (transitioned["payload"], notice["payload"]):
        assert datetime.fromisoformat(payload.pop("at")) == datetime.fromisoformat(moved_at)
        # the mobile travels sealed: a message at rest in the broker shows nothing
        payload["applicant_mobile"] = keyring().open(payload["applicant_mobile"], TRANSIT)
    told = "您的职称申报未通过单位审核，请查看原因，修改后重新上报。"
    applicant = {
        "applicant_id": str(unit.applicant.user_id),
        "applicant_name": "张三",
        "applicant_mobile": "13900000000",
        "round_name": case["round"],
        "qualification_name": case["qualification"],
    }
    assert transitioned["payload"] == {
        "case_id": case_id,
        "case_no": case["case_no"],
        "name": "CaseRejected",
        "action": "reject",
        "from_state": "unit_review",
        "to_state": "draft",
        "outcome": None,
        "status_label": "单位审核不同意-->待填报上报",
        "reason": "请补充业绩证明",
        "version": case["version"],
        "actor_id": str(unit.operator.user_id),
        "actor_role": "unit_operator",
        "unit_id": str(unit.unit_id),
        **applicant,
        "applicant_notice": told,
    }
    assert notice["payload"] == {
        "case_id": case_id,
        "case_no": case["case_no"],
        "action": "reject",
        **applicant,
        "notice": told,
        "reason": "请补充业绩证明",
    }


async def test_an_unknown_action_or_a_role_that_may_not_take_it_is_refused_whole(driver):
    unit = new_unit()
    case_id = await driver.submitted(unit)
    nobody = unit.operator.model_copy(update={"user_id": None})
    stranger = unit.operator.model_copy(update={"role": "auditor"})
    for method, params in (
        ("case.act", {"case_id": case_id}),
        ("case.batch", {"case_ids": [case_id]}),
    ):
        with pytest.raises(RpcError) as unknown:
            await driver.call(method, {**params, "action": "approve_all"}, unit.operator)
        assert (unknown.value.status, unknown.value.code) == (422, "invalid_input")
        assert unknown.value.message == "未知的操作：approve_all"
        assert unknown.value.fields == {"action": "未知的操作"}
        for actor, message in (
            (unit.applicant, "您没有权限进行“开始打印评前公示材料”操作"),
            (nobody, "您没有权限进行“开始打印评前公示材料”操作"),
            (stranger, "您没有权限进行此操作"),
        ):
            with pytest.raises(RpcError) as refused:
                await driver.call(method, {**params, "action": "start_pre_publicity"}, actor)
            assert (refused.value.status, refused.value.code) == (403, "forbidden")
            assert refused.value.message == message
    # who asks comes before what they ask: a reviewer's refusal, not "case by case"
    with pytest.raises(RpcError) as refused:
        await driver.call("case.batch", {"case_ids": [case_id], "action": "approve"}, DEPARTMENT)
    assert refused.value.status == 403
    assert await driver.state(unit.operator, case_id) == "unit_review"


async def test_a_case_out_of_sight_is_not_found_for_a_single_action(driver):
    unit, stranger = new_unit(), new_unit()
    case_id = await driver.submitted(unit)
    for ghost in (case_id, str(uuid.uuid4())):
        with pytest.raises(RpcError) as missing:
            await driver.act(stranger.operator, ghost, "approve", **approval(driver.clock.today()))
        assert (missing.value.status, missing.value.code) == (404, "not_found")
        assert missing.value.message == "申报业务不存在或无权访问"
    assert await driver.state(unit.operator, case_id) == "unit_review"

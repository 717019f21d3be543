"""The case workflow's JSON API through the gateway, every role signed in for real: the paths to
each closed outcome, batches, a race, the publicity clock, scoping of every endpoint, uploads."""

import asyncio
import uuid

import aiohttp
import asyncpg
import pytest

from tests.e2e.case_steps import (
    PASSED,
    PNG,
    PUBLICITY_OVER,
    act,
    approval,
    approved,
    at_department,
    case_of,
    counts,
    member,
    must,
    new_cast,
    open_case,
    submitted,
    upload,
)
from tests.e2e.identity_helpers import Client
from tests.e2e.people import signed_in
from tests.support.meetings import results_outside
from tests.support.plain_numbers import plain_numbers


@pytest.fixture(autouse=True)
async def committee_records_outside_results(services):
    """These tests take step 8 by the buttons: a committee that records outside results."""
    async with results_outside(services["cases"].pool):
        yield


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


def unique_name(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:6]


async def listed(client: Client, list_key: str, name: str, tab: str = "todo") -> list[str]:
    status, body = await client.api("GET", f"/api/cases?list={list_key}&tab={tab}&name={name}")
    assert status == 200, body
    return [item["id"] for item in body["items"]]


# who acts, the action, its inputs, the list it is done from, the state it leads to
PATH = [
    ("operator", "approve", "approval", "unit:3", "pre_publicity_ready"),
    ("operator", "start_pre_publicity", {"method": "单位公告栏"}, "unit:4", "pre_publicity"),
    ("operator", "record_pre_publicity_result", PASSED, "unit:5", "dept_submit_ready"),
    ("operator", "submit_to_department", {}, "unit:6", "dept_acceptance"),
    ("department", "accept", {}, "department:acceptance", None),
    ("office", "grant_pre_approval", {}, "office:approval", "form_print_ready"),
    ("printer", "print_declaration_form", {}, "unit:7", "dept_review"),
    ("department", "forward_to_committee", {}, "department:review", "committee_review"),
    ("committee", "pass_review", {}, "committee:review", "post_publicity_launch"),
    ("department", "launch_post_publicity", {}, "department:post_publicity", None),
    ("operator", "start_post_publicity", {}, "unit:9", "post_publicity"),
    ("operator", "record_post_publicity_result", PASSED, "unit:10", "dept_confirm"),
    ("department", "confirm", {}, "department:confirm", "closed"),
]
WAITS_FOR_PUBLICITY = {"record_pre_publicity_result", "record_post_publicity_result"}


@pytest.mark.parametrize(
    "review_type, printer", [("ptsb", "operator"), ("cxxrc", "applicant")], ids=["普通", "创新型"]
)
async def test_one_case_walks_to_passed_through_every_role(
    gateway, services, cast, clock, review_type, printer
):
    name = unique_name("流程")
    applicant = await member(gateway, services, cast, "applicant", name)
    case_id = await submitted(applicant, review_type_id=review_type)
    assert (await counts(cast.operator))["unit:3"] == 1
    people = {
        "operator": cast.operator,
        "department": cast.department,
        "office": cast.office,
        "committee": cast.committee,
        "printer": applicant if printer == "applicant" else cast.operator,
    }
    for who, action, inputs, list_key, state in PATH:
        if action == "grant_pre_approval" and review_type == "ptsb":
            continue
        if action in WAITS_FOR_PUBLICITY:
            clock.offset += PUBLICITY_OVER
        lister = cast.operator if who == "printer" else people[who]
        assert case_id in await listed(lister, list_key, name), (action, "not in its 待办")
        inputs = approval(clock.today()) if inputs == "approval" else inputs
        moved = await must(people[who], case_id, action, **inputs)
        if state:
            assert moved["state"] == state, action
        if people[who] is not applicant:
            assert case_id in await listed(people[who], list_key, name, "done"), action
    case = await case_of(applicant, case_id)
    assert (case["state"], case["outcome"]) == ("closed", "passed")
    assert case["status"] == "日常工作部门已确认-->业务办结"
    history = [(h["action"], h["actor_role"]) for h in case["history"]]
    expected = [("submit", "applicant")] + [
        (action, "applicant" if who == "printer" and printer == "applicant" else who)
        for who, action, *_ in PATH
        if not (action == "grant_pre_approval" and review_type == "ptsb")
    ]
    expected = [(a, "unit_operator" if r in ("operator", "printer") else r) for a, r in expected]
    assert history == expected
    assert all(count == 0 for count in (await counts(cast.operator)).values())


async def test_no_id_number_or_mobile_is_stored_in_the_clear_after_the_walks(settings):
    # the walks above, and every e2e test before them, wrote through the whole system
    conn = await asyncpg.connect(settings.database_url)
    try:
        assert await plain_numbers(conn, ["accounts", "cases", "documents", "notify"]) == []
    finally:
        await conn.close()


async def test_the_applicant_cancels_a_draft(cast):
    case_id = await open_case(cast.applicant)
    await must(cast.applicant, case_id, "cancel", reason="今年不申报了")
    case = await case_of(cast.operator, case_id)
    assert (case["state"], case["outcome"], case["reason"]) == (
        "closed",
        "cancelled",
        "今年不申报了",
    )


# from 待日常工作部门预受理 (a 创新型人才 case: it needs pre-approval) to the closing move
TO_COMMITTEE = [
    ("department", "accept", {}),
    ("office", "grant_pre_approval", {}),
    ("operator", "print_declaration_form", {}),
    ("department", "forward_to_committee", {}),
]
TO_POST_PUBLICITY = [
    *TO_COMMITTEE,
    ("committee", "pass_review", {}),
    ("department", "launch_post_publicity", {}),
    ("operator", "start_post_publicity", {}),
]
CLOSINGS = {
    "not_accepted": ([], ("department", "refuse", {"reason": "不符合申报条件"})),
    "pre_approval_denied": (
        [("department", "accept", {})],
        ("office", "deny_pre_approval", {"reason": "不符合破格条件"}),
    ),
    "committee_failed": (TO_COMMITTEE, ("committee", "fail_review", {"reason": "业绩不足"})),
    "post_publicity_failed": (
        TO_POST_PUBLICITY,
        ("operator", "record_post_publicity_result", {"passed": False, "feedback": "有实名异议"}),
    ),
}


@pytest.mark.parametrize("outcome", list(CLOSINGS))
async def test_each_other_closed_outcome(cast, clock, outcome):
    path, (who, closing, inputs) = CLOSINGS[outcome]
    case_id = await at_department(cast, clock, review_type_id="cxxrc")
    for actor, action, action_inputs in path:
        await must(getattr(cast, actor), case_id, action, **action_inputs)
    if closing == "record_post_publicity_result":
        clock.offset += PUBLICITY_OVER
    await must(getattr(cast, who), case_id, closing, **inputs)
    if closing == "record_post_publicity_result":
        await must(cast.department, case_id, "confirm")
    case = await case_of(cast.operator, case_id)
    assert (case["state"], case["outcome"]) == ("closed", outcome)
    assert case["reason"] == (inputs.get("reason") or inputs.get("feedback"))


async def test_a_failed_pre_publicity_closes_the_case(cast, clock):
    case_id = await approved(cast, clock)
    await must(cast.operator, case_id, "start_pre_publicity")
    clock.offset += PUBLICITY_OVER
    failed = {"passed": False, "feedback": "收到实名举报，经核实属实"}
    await must(cast.operator, case_id, "record_pre_publicity_result", **failed)
    case = await case_of(cast.applicant, case_id)
    assert (case["state"], case["outcome"]) == ("closed", "pre_publicity_failed")
    assert case["status"] == "已填写评前公示意见-->业务办结"


# --- batches, races, the clock ---


async def test_a_batch_moves_the_cases_still_waiting_and_reports_the_others(
    gateway, services, cast, clock
):
    names = ["甲一", "乙二", "丙三"]
    case_ids = []
    for name in names:
        applicant = await member(gateway, services, cast, "applicant", name)
        case_id = await submitted(applicant)
        await must(cast.operator, case_id, "approve", **approval(clock.today()))
        case_ids.append(case_id)
    await must(cast.operator, case_ids[1], "start_pre_publicity")  # moved meanwhile
    stranger = await new_cast(gateway, services)
    try:
        foreign = await approved(stranger, clock)
    finally:
        await stranger.close()

    selection = {"case_ids": [*case_ids, foreign], "action": "start_pre_publicity"}
    status, result = await cast.operator.api("POST", "/api/cases/batch", selection)
    assert status == 200, result
    assert (result["done"], result["failed"]) == (2, 2)
    by_case = {r["case_id"]: r for r in result["results"]}
    assert by_case[case_ids[0]]["ok"] and by_case[case_ids[2]]["ok"]
    assert by_case[case_ids[0]]["status_label"] == "打印评前公示完成-->待填写评前公示意见"
    moved = by_case[case_ids[1]]
    assert (moved["ok"], moved["name"], moved["error"]["status"]) == (False, "乙二", 409)
    assert "不能进行“开始打印评前公示材料”操作" in moved["error"]["message"]
    assert by_case[foreign]["error"]["status"] == 404 and "name" not in by_case[foreign]
    history = [h["action"] for h in (await case_of(cast.operator, case_ids[1]))["history"]]
    assert history.count("start_pre_publicity") == 1


async def test_simultaneous_approvals_of_one_case_make_one_transition(
    gateway, services, cast, clock
):
    case_id = await submitted(cast.applicant)
    operators = [cast.operator] + [
        await member(gateway, services, cast, "unit_operator", f"经办{n}") for n in range(9)
    ]
    inputs = approval(clock.today())
    answers = await asyncio.gather(*(act(op, case_id, "approve", **inputs) for op in operators))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [409] * 9
    conflicts = [body["error"]["message"] for status, body in answers if status == 409]
    assert all("不能进行“审核同意”操作" in message for message in conflicts)
    case = await case_of(cast.operator, case_id)
    assert [h["action"] for h in case["history"]].count("approve") == 1
    assert case["state"] == "pre_publicity_ready"


async def test_an_action_on_a_stale_version_is_a_conflict(cast, clock):
    case_id = await submitted(cast.applicant)
    seen = (await case_of(cast.operator, case_id))["version"]
    await must(cast.operator, case_id, "reject", reason="请补充材料")
    await must(cast.applicant, case_id, "submit")
    status, body = await act(
        cast.operator, case_id, "approve", version=seen, **approval(clock.today())
    )
    assert status == 409 and body["error"]["message"] == "该业务已被他人办理，请刷新后查看"


async def test_a_publicity_result_is_refused_before_the_end_date(cast, clock):
    case_id = await approved(cast, clock)
    await must(cast.operator, case_id, "start_pre_publicity")
    period = (await case_of(cast.operator, case_id))["pre_publicity"]
    assert (period["start"], period["end"]) == ("2026-06-01", "2026-06-05")
    clock.offset += PUBLICITY_OVER / 3  # Friday 5 June: the period's last day
    status, body = await act(cast.operator, case_id, "record_pre_publicity_result", **PASSED)
    assert status == 409
    assert body["error"]["message"] == (
        "公示期至2026年6月5日止，期满后方可进行“填写评前公示意见”操作"
    )
    assert (await case_of(cast.operator, case_id))["state"] == "pre_publicity"
    clock.offset += PUBLICITY_OVER / 12  # Saturday 6 June
    moved = await must(cast.operator, case_id, "record_pre_publicity_result", **PASSED)
    assert moved["state"] == "dept_submit_ready"


async def test_invalid_approval_inputs_are_refused_field_by_field(cast, clock):
    case_id = await submitted(cast.applicant)
    inputs = approval(clock.today(), evaluation="评" * 201, annual_assessments={"2025": "优秀"})
    status, body = await act(cast.operator, case_id, "approve", **inputs)
    assert status == 422
    fields = body["error"]["fields"]
    assert fields["evaluation"] == "单位综合评价意见不能超过200字（现201字）"
    assert fields["annual_assessments"] == "请填写2021—2025年每年的年度考核结果"
    assert (await case_of(cast.operator, case_id))["version"] == 1


# --- tenant isolation: every endpoint, every outsider ---


async def raw(client: Client, method: str, path: str, body=None) -> tuple[int, str]:
    """Status and body text, whatever the type (a file answered by mistake must not crash)."""
    headers = {"X-CSRF-Token": await client.csrf()}
    async with client.http.request(method, path, json=body, headers=headers) as response:
        return response.status, (await response.read()).decode("utf-8", "replace")


@pytest.fixture
async def outsiders(gateway, services):
    other_unit = await new_cast(gateway, services)
    people = {
        "other unit's operator": other_unit.operator,
        "other unit's applicant": other_unit.applicant,
        "other department": await signed_in(
            gateway, services, "department", org_id="dept-daj", org_name="深圳市档案局"
        ),
        "other committee": await signed_in(
            gateway, services, "committee", org_id="cmte-da-zj", org_name="深圳市档案中级评委会"
        ),
        "sysadmin": await signed_in(gateway, services, "sysadmin", name="系统管理员"),
        "anonymous": Client(str(gateway.make_url(""))),
    }
    yield people
    await other_unit.close()
    for name in ("other department", "other committee", "sysadmin", "anonymous"):
        await people[name].close()


ACTION_OF = {
    "unit_operator": "withdraw",
    "applicant": "cancel",
    "department": "accept",
    "office": "grant_pre_approval",
    "committee": "pass_review",
    "sysadmin": "accept",
    None: "accept",
}
BATCH_OF = {
    "unit_operator": "submit_to_department",
    "applicant": "print_declaration_form",
    "department": "launch_post_publicity",
    "committee": "pass_review",
}
LISTS_OF = {
    "unit_operator": ["unit:2", "unit:3", "unit:6"],
    "department": ["department:acceptance"],
    "office": ["office:approval"],
    "committee": ["committee:review"],
}


async def test_no_case_endpoint_shows_or_moves_a_case_to_outsiders(
    gateway, services, cast, clock, outsiders
):
    name = unique_name("隔离")
    applicant = await member(gateway, services, cast, "applicant", name)
    case_id = await at_department(cast, clock, review_type_id="cxxrc")
    own = await open_case(applicant)  # a draft with a scan, for the applicant-only endpoints
    status, stored = await upload(applicant, own, "id_card", PNG)
    assert status == 201, stored
    scan = (await case_of(cast.operator, case_id))["attachments"][0]
    everyone = {
        **outsiders,
        "office before the case reached it": cast.office,
    }
    roles = {
        "other unit's operator": "unit_operator",
        "other unit's applicant": "applicant",
        "other department": "department",
        "other committee": "committee",
        "sysadmin": "sysadmin",
        "anonymous": None,
        "office before the case reached it": "office",
    }
    before = await case_of(cast.operator, case_id)
    for who, client in everyone.items():
        role = roles[who]
        denied = (401,) if role is None else (403, 404)
        for method, path, body in (
            ("GET", f"/api/cases/{case_id}", None),
            ("GET", f"/api/cases/{own}", None),
            ("GET", f"/api/files/{scan['file_id']}", None),
            ("GET", f"/api/files/{stored['file_id']}", None),
            ("POST", f"/api/cases/{case_id}/actions/{ACTION_OF[role]}", {"inputs": {}}),
            ("PUT", f"/api/cases/{own}/sections/education", {"hours_by_year": {"2025": 1}}),
            ("DELETE", f"/api/cases/{own}/attachments/{stored['attachment_id']}", None),
        ):
            status, answer = await raw(client, method, path, body)
            assert status in denied, (who, method, path, status, answer)
            assert name not in str(answer) and "张三" not in str(answer), (who, path)
        status, answer = await upload(client, own, "diploma", PNG)
        assert status in denied, (who, "upload", status)

        status, answer = await client.api("GET", "/api/cases/mine")
        if role == "applicant":
            assert status == 200 and all(i["id"] not in (case_id, own) for i in answer["items"])
        else:
            assert status in denied, (who, "mine")
        status, answer = await client.api("GET", "/api/cases/home")
        if role is None or role == "sysadmin":
            assert status in denied, (who, "home")
        elif role in ("unit_operator", "applicant"):
            assert status == 200 and all(i["count"] == 0 for i in answer["lists"]), who
        for list_key in LISTS_OF.get(role, ["unit:3"]):
            for tab in ("todo", "done"):
                status, answer = await client.api("GET", f"/api/cases?list={list_key}&tab={tab}")
                if role in LISTS_OF:
                    assert status == 200 and case_id not in str(answer), (who, list_key)
                else:
                    assert status in (*denied, 404) and "items" not in answer, (who, list_key)
        if role in BATCH_OF:
            selection = {"case_ids": [case_id, own], "action": BATCH_OF[role]}
            status, answer = await client.api("POST", "/api/cases/batch", selection)
            assert status == 200 and answer["done"] == 0, (who, answer)
            assert {r["error"]["status"] for r in answer["results"]} == {404}, who
            assert all("name" not in r for r in answer["results"]), who
        else:
            selection = {"case_ids": [case_id], "action": "accept"}
            status, answer = await client.api("POST", "/api/cases/batch", selection)
            assert status in denied, (who, "batch")

    after = await case_of(cast.operator, case_id)
    assert (after["state"], after["version"]) == (before["state"], before["version"])
    assert len(after["history"]) == len(before["history"])
    # the rightful parties do see it: the department now, the office once it reaches pre-approval
    assert (await cast.department.api("GET", f"/api/cases/{case_id}"))[0] == 200
    status, _ = await raw(cast.department, "GET", f"/api/files/{scan['file_id']}")
    assert status == 200
    await must(cast.department, case_id, "accept")
    assert (await cast.office.api("GET", f"/api/cases/{case_id}"))[0] == 200
    assert case_id in await listed(cast.office, "office:approval", "张三")


async def test_a_case_reached_by_a_committee_stays_hidden_from_other_committees(
    gateway, services, cast, clock, outsiders
):
    case_id = await at_department(cast, clock)
    for action, who in (
        ("accept", cast.department),
        ("print_declaration_form", cast.operator),
        ("forward_to_committee", cast.department),
    ):
        await must(who, case_id, action)
    assert (await cast.committee.api("GET", f"/api/cases/{case_id}"))[0] == 200
    other = outsiders["other committee"]
    assert (await other.api("GET", f"/api/cases/{case_id}"))[0] == 404
    assert (await act(other, case_id, "pass_review"))[0] == 404
    assert case_id not in await listed(other, "committee:review", "")
    assert (await case_of(cast.operator, case_id))["state"] == "committee_review"


# --- uploads ---


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (b"MZ\x90\x00 not a scan", "scan.pdf", "仅支持 PDF、JPG、PNG 格式的扫描件"),
        (PNG + b"\x00" * (10 * 1024 * 1024), "big.png", "单个文件不能超过 10 MB"),
        (b"", "empty.png", "文件是空的，请重新选择"),
    ],
    ids=["wrong type", "over 10 MB", "empty"],
)
async def test_a_bad_upload_is_refused_with_a_clear_message(cast, content, filename, message):
    case_id = await open_case(cast.applicant)
    status, body = await upload(cast.applicant, case_id, "id_card", content, filename)
    assert status == 422, body
    assert message in body["error"]["fields"]["file"]
    assert (await case_of(cast.applicant, case_id))["attachments"] == []


async def test_an_upload_without_a_file_asks_for_one(cast):
    case_id = await open_case(cast.applicant)
    form = aiohttp.FormData()
    form.add_field("category", "id_card")
    status, body = await cast.applicant.api("POST", f"/api/cases/{case_id}/attachments", data=form)
    assert status == 422 and body["error"]["fields"]["file"] == "请选择要上传的文件"

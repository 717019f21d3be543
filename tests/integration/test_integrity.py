"""诚信 against the real services over RPC (docs/integrity.md): the 诚信承诺 a submission needs,
objections that block each step that closes a publicity and fail it when upheld, 失信
records that refuse a declaration until the day after their last day, and revocation that
verification shows at once. Every test uses ID numbers of its own: a 失信 entry must not bar
another test's applicant."""

import random
import uuid
from datetime import date, timedelta

import pytest

from services.accounts.domain.validation import id_check_char
from shared.masks import mask_id_number
from shared.rpc import Actor, RpcError
from tests.support import certificates
from tests.support.cases_driver import (
    BASIC,
    COMMITTEE,
    DEPARTMENT,
    approval,
    new_unit,
    reviewer,
)
from tests.support.meetings import results_outside

PASSED = {"passed": True, "feedback": "公示期间无异议"}
FAILED = {"passed": False, "feedback": "异议经核实成立"}
SYSADMIN = Actor(user_id=uuid.uuid4(), role="sysadmin", name="系统管理员")
OTHER_DEPARTMENT = reviewer("department", "dept-szda")


@pytest.fixture(autouse=True)
async def committee_records_outside_results(workflow):
    """These tests take step 8 by the buttons: a committee that records outside results."""
    async with results_outside(workflow.service.pool):
        yield


def new_id_number() -> str:
    region, year, serial = (
        random.randint(110000, 659999),
        random.randint(60, 99),
        random.randint(0, 999),
    )
    first17 = f"{region}19{year}0101{serial:03d}"
    return first17 + id_check_char(first17)


async def opened(driver, unit, id_number: str, round_id: str = "2026") -> str:
    """A draft whose account and 基本信息 carry `id_number`, with complete materials."""
    params = {
        "round_id": round_id,
        "review_type_id": "ptsb",
        "qualification_id": "gc-fg",
        "committee_id": "cmte-qg-gj",
        "applicant_name": "李四华",
        "applicant_mobile": "13900000001",
        "id_number": id_number,
        "gender": "女",
    }
    case_id = (await driver.call("case.open", params, unit.applicant))["case_id"]
    await driver.complete(unit, case_id)
    basic = {**BASIC, "name": "李四华", "id_number": id_number}
    await driver.call(
        "case.save_section", {"case_id": case_id, "section": "basic", "data": basic}, unit.applicant
    )
    return case_id


async def in_pre_publicity(driver, unit) -> str:
    case_id = await driver.submitted(unit)
    await driver.act(unit.operator, case_id, "approve", **approval(driver.clock.today()))
    await driver.act(unit.operator, case_id, "start_pre_publicity")
    return case_id


async def in_post_publicity(driver, unit, case_id: str | None = None) -> str:
    case_id = case_id or await driver.at_department(unit)
    await driver.act(DEPARTMENT, case_id, "accept")
    await driver.act(unit.applicant, case_id, "print_declaration_form")
    await driver.act(DEPARTMENT, case_id, "forward_to_committee")
    await driver.act(COMMITTEE, case_id, "pass_review")
    await driver.act(DEPARTMENT, case_id, "launch_post_publicity")
    await driver.act(unit.operator, case_id, "start_post_publicity")
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    start = date.fromisoformat(case["post_publicity"]["start"])  # a rest day waits for Monday
    driver.clock.offset += max(timedelta(), start - driver.clock.today())
    return case_id


async def passed(driver, unit, case_id: str) -> str:
    await in_post_publicity(driver, unit, case_id)
    driver.clock.offset += timedelta(days=12)
    await driver.act(unit.operator, case_id, "record_post_publicity_result", **PASSED)
    await driver.act(DEPARTMENT, case_id, "confirm")
    return case_id


async def refused(call) -> RpcError:
    with pytest.raises(RpcError) as error:
        await call
    return error.value


async def object_to(driver, actor, case_id: str, **changes) -> dict:
    params = {
        "case_id": case_id,
        "objector_name": "王五",
        "objector_contact": "0755-8888 0000",
        "content": "反映其论文并非本人撰写",
        **changes,
    }
    return await driver.call("objection.record", params, actor)


async def find(driver, actor, objection_id: str, finding: str) -> dict:
    params = {"objection_id": objection_id, "finding": finding, "finding_text": "经核查"}
    return await driver.call("objection.find", params, actor)


# --- 诚信承诺 ---


async def test_submitting_needs_the_pledge_in_force_and_keeps_it_with_the_case(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    await driver.complete(unit, case_id)
    missing = await refused(driver.act(unit.applicant, case_id, "submit", pledge_version=None))
    assert (missing.status, missing.code) == (422, "invalid_input")
    assert "请阅读诚信承诺书" in missing.fields["pledge_version"]
    current = await driver.pledge_version(unit.applicant)
    stale = await refused(driver.act(unit.applicant, case_id, "submit", pledge_version=current - 1))
    assert f"第 {current} 版" in stale.fields["pledge_version"]
    assert await driver.state(unit.applicant, case_id) == "draft"

    params = {"case_id": case_id, "action": "submit", "client_ip": "203.0.113.9"}
    params["inputs"] = {"pledge_version": current}
    await driver.call("case.act", params, unit.applicant)
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    pledge = case["pledge"]
    assert (pledge["version"], pledge["client_ip"]) == (current, "203.0.113.9")
    assert pledge["text"] == (await driver.call("pledge.current", {}, unit.applicant))["text"]
    assert pledge["accepted_at"].startswith(driver.clock.today().isoformat())
    assert case["history"][0]["inputs"] == {"pledge_version": current}


async def test_the_sysadmin_publishes_a_new_pledge_version_that_submissions_must_accept(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    await driver.complete(unit, case_id)
    before = await driver.pledge_version(unit.applicant)
    text = f"本人承诺所填信息真实有效。（{uuid.uuid4().hex[:6]}）"
    published = await driver.call("pledge.publish", {"pledge_text": text}, SYSADMIN)
    assert (published["version"], published["text"]) == (before + 1, text)
    same = await refused(driver.call("pledge.publish", {"pledge_text": text}, SYSADMIN))
    assert same.fields == {"pledge_text": "与现行版本内容相同，无需发布新版本"}
    others = await refused(driver.call("pledge.publish", {"pledge_text": "x"}, unit.operator))
    assert others.status == 403
    versions = (await driver.call("pledge.versions", {}, SYSADMIN))["versions"]
    assert [v["version"] for v in versions[:2]] == [before + 1, before]
    stale = await refused(driver.act(unit.applicant, case_id, "submit", pledge_version=before))
    assert stale.code == "invalid_input"
    await driver.act(unit.applicant, case_id, "submit")  # the driver ticks the one in force
    case = await driver.call("case.get", {"case_id": case_id}, unit.applicant)
    assert (case["pledge"]["version"], case["pledge"]["text"]) == (before + 1, text)


# --- objections ---


async def test_an_open_objection_blocks_the_pre_publicity_opinion_until_it_is_found(driver):
    unit = new_unit()
    case_id = await in_pre_publicity(driver, unit)
    taken = await object_to(driver, unit.operator, case_id)
    assert taken["seq"] == 1
    driver.clock.offset += timedelta(days=12)
    blocked = await refused(
        driver.act(unit.operator, case_id, "record_pre_publicity_result", **PASSED)
    )
    assert (blocked.status, blocked.code) == (409, "conflict")
    assert blocked.message.startswith("第1号异议（")
    assert "尚未核实（由单位核实），核实后方可进行“填写评前公示意见”操作" in blocked.message
    batch = await driver.call(
        "case.batch",
        {"case_ids": [case_id], "action": "record_pre_publicity_result", "inputs": PASSED},
        unit.operator,
    )
    assert batch["failed"] == 1 and "第1号异议" in batch["results"][0]["error"]["message"]

    await find(driver, unit.operator, taken["objection_id"], "dismissed")
    await driver.act(unit.operator, case_id, "record_pre_publicity_result", **PASSED)
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    assert case["state"] == "dept_submit_ready"
    notes = [(h["action"], h["action_name"], h["reason"]) for h in case["history"]][-3:]
    assert notes[0][:2] == ("objection_recorded", "登记异议")
    assert notes[1] == ("objection_found", "异议核实", "第1号异议核实不成立")


async def test_an_upheld_pre_publicity_objection_fails_the_publicity(driver):
    unit = new_unit()
    case_id = await in_pre_publicity(driver, unit)
    taken = await object_to(driver, DEPARTMENT, case_id)  # the department sees it in 评前公示
    wrong = await refused(find(driver, unit.operator, taken["objection_id"], "upheld"))
    assert wrong.status == 403 and "由日常工作部门核实" in wrong.message
    await find(driver, DEPARTMENT, taken["objection_id"], "upheld")
    again = await refused(find(driver, DEPARTMENT, taken["objection_id"], "dismissed"))
    assert again.status == 409
    driver.clock.offset += timedelta(days=12)
    kept = await refused(
        driver.act(unit.operator, case_id, "record_pre_publicity_result", **PASSED)
    )
    assert kept.status == 422 and "公示结果只能为“不通过”" in kept.fields["passed"]
    await driver.act(unit.operator, case_id, "record_pre_publicity_result", **FAILED)
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    assert (case["state"], case["outcome"]) == ("closed", "pre_publicity_failed")


async def test_objections_are_taken_only_during_publicity_by_the_unit_and_its_department(driver):
    unit = new_unit()
    submitted = await driver.submitted(unit)
    early = await refused(object_to(driver, unit.operator, submitted))
    assert early.status == 409 and "不在公示期内" in early.message
    case_id = await in_pre_publicity(driver, unit)
    for outsider in (new_unit().operator, OTHER_DEPARTMENT):
        assert (await refused(object_to(driver, outsider, case_id))).status == 404
    for role_refused in (unit.applicant, COMMITTEE):
        assert (await refused(object_to(driver, role_refused, case_id))).status == 403
    blank = await refused(object_to(driver, unit.operator, case_id, objector_name="", content=""))
    assert set(blank.fields) == {"objector_name", "content"}


async def test_who_objected_is_shown_to_the_department_and_to_whoever_took_it_in(driver):
    unit = new_unit()
    case_id = await in_pre_publicity(driver, unit)
    await object_to(driver, unit.operator, case_id, objector_name="单位收")
    await object_to(driver, DEPARTMENT, case_id, objector_name="部门收")
    seen = await driver.call("objection.of_case", {"case_id": case_id}, unit.operator)
    names = [(o["seq"], o["objector_name"], o["identity_hidden"]) for o in seen["objections"]]
    assert names == [(1, "单位收", False), (2, "", True)]
    assert seen["may_record"] and seen["phase"] == "pre"
    by_department = await driver.call("objection.of_case", {"case_id": case_id}, DEPARTMENT)
    assert [o["objector_name"] for o in by_department["objections"]] == ["单位收", "部门收"]
    assert [o["may_find"] for o in by_department["objections"]] == [False, True]
    applicant_view = await driver.call("case.get", {"case_id": case_id}, unit.applicant)
    assert applicant_view["objections"] == []
    assert [h["action"] for h in applicant_view["history"]][-2:] == ["objection_recorded"] * 2
    assert all("部门收" not in str(h) for h in applicant_view["history"])
    # the module's other cases share the department's list, ordered by name: ask for all
    query = {"phase": "pre", "page_size": 100}
    listed = await driver.call("objection.publicity_cases", query, DEPARTMENT)
    assert listed["total"] <= 100
    row = next(r for r in listed["items"] if r["case_id"] == case_id)
    assert (row["objections"], row["open_objections"]) == (2, 2)


async def test_an_open_objection_blocks_the_post_publicity_opinion_and_the_confirmation(driver):
    unit = new_unit()
    case_id = await in_post_publicity(driver, unit)
    first = await object_to(driver, unit.operator, case_id)
    driver.clock.offset += timedelta(days=12)
    blocked = await refused(
        driver.act(unit.operator, case_id, "record_post_publicity_result", **PASSED)
    )
    assert blocked.status == 409 and "填写评后公示意见" in blocked.message
    await find(driver, unit.operator, first["objection_id"], "dismissed")
    await driver.act(unit.operator, case_id, "record_post_publicity_result", **PASSED)

    late = await object_to(driver, DEPARTMENT, case_id)  # 评后公示 runs until 确认办结
    assert late["seq"] == 2
    confirm = await refused(driver.act(DEPARTMENT, case_id, "confirm"))
    assert (
        confirm.status == 409 and "第2号异议" in confirm.message and "确认办结" in confirm.message
    )
    await find(driver, DEPARTMENT, late["objection_id"], "upheld")
    await driver.act(DEPARTMENT, case_id, "confirm")
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    assert (case["state"], case["outcome"]) == ("closed", "post_publicity_failed")
    assert "第2号异议" in case["reason"] and "经核实成立" in case["reason"]
    missing = await refused(driver.call("certificate.get", {"case_id": case_id}, unit.applicant))
    assert missing.status == 404  # a failed publicity issues no certificate


async def test_the_public_objects_during_the_post_publicity_period_only(driver):
    unit = new_unit()
    case_id = await in_post_publicity(driver, unit)
    people = await driver.call("publicity.list", {"case_id": case_id}, Actor())
    [person] = people["items"]
    assert person["name"] == "张*" and person["unit_id"] == str(unit.unit_id)
    params = {
        "case_id": case_id,
        "objector_name": "赵六",
        "mobile": "13800001234",
        "content": "其业绩材料中的获奖证书为伪造",
        "client_ip": f"198.51.100.{random.randint(1, 250)}",
    }
    taken = await driver.call("objection.submit_public", params, Actor())
    seen = await driver.call("objection.of_case", {"case_id": case_id}, DEPARTMENT)
    [public] = seen["objections"]
    assert (public["source"], public["handler"], public["objector_contact"]) == (
        "public",
        "department",
        "138****1234",  # masked: 显示完整号码 shows it (personal.unmask)
    )
    history = (await driver.call("case.get", {"case_id": case_id}, unit.operator))["history"]
    assert (history[-1]["actor_label"], history[-1]["action"]) == ("社会公众", "objection_recorded")
    await find(driver, DEPARTMENT, taken["objection_id"], "dismissed")

    driver.clock.offset += timedelta(days=12)  # the period is over
    assert (await driver.call("publicity.list", {"case_id": case_id}, Actor()))["items"] == []
    over = await refused(driver.call("objection.submit_public", params, Actor()))
    assert over.status == 409 and "现不在公示期内" in over.message


async def test_public_objections_are_rate_limited_per_client_address(driver):
    unit = new_unit()
    case_id = await in_post_publicity(driver, unit)
    address = f"192.0.2.{random.randint(1, 250)}"
    params = {
        "case_id": case_id,
        "objector_name": "",
        "mobile": "",
        "content": "",
        "client_ip": address,
    }
    for _ in range(10):
        assert (
            await refused(driver.call("objection.submit_public", params, Actor()))
        ).status == 422
    limited = await refused(driver.call("objection.submit_public", params, Actor()))
    assert limited.status == 429 and limited.details["retry_after"] > 0
    params["client_ip"] = "192.0.2.251"
    assert (await refused(driver.call("objection.submit_public", params, Actor()))).status == 422


# --- 失信 records ---


async def test_a_discredited_id_number_cannot_open_a_case_until_the_day_after_the_last_day(
    driver,
):
    unit, id_number = new_unit(), new_id_number()
    draft = await opened(driver, unit, id_number)
    terms = {"case_id": draft, "reason": "申报材料弄虚作假", "years": 1}
    not_theirs = await refused(driver.call("discredit.record", terms, DEPARTMENT))
    assert not_theirs.status == 404  # a draft is not the department's to see
    seen = await at_department_with(driver, unit, id_number)
    today = driver.clock.today()
    entry = await driver.call("discredit.record", {**terms, "case_id": seen}, DEPARTMENT)
    last_day = today.replace(year=today.year + 1) - timedelta(days=1)
    assert (entry["starts_on"], entry["last_day"], entry["status"], entry["id_number"]) == (
        today.isoformat(),
        last_day.isoformat(),
        "running",
        mask_id_number(id_number),
    )

    driver.clock.offset += last_day - today  # the last day: still refused
    barred = await refused(open_for(driver, unit, id_number))
    assert (barred.status, barred.code) == (422, "discredited")
    until = f"{last_day.year}年{last_day.month}月{last_day.day}日（含当日）前不能申报职称"
    assert until in barred.message
    driver.clock.offset += timedelta(days=1)  # the day after: taken
    assert await open_for(driver, unit, id_number)


async def test_a_draft_opened_before_the_entry_cannot_be_submitted_through_its_last_day(driver):
    unit, id_number = new_unit(), new_id_number()
    # the clock moves on two years: the draft's round must still take declarations then
    await driver.call("ref.save_round", LONG_ROUND, SYSADMIN)
    draft = await opened(driver, unit, id_number, LONG_ROUND["id"])
    seen = await at_department_with(driver, unit, id_number)
    entry = await driver.call(
        "discredit.record", {"case_id": seen, "reason": "弄虚作假", "years": 2}, DEPARTMENT
    )
    driver.clock.offset += date.fromisoformat(entry["last_day"]) - driver.clock.today()
    barred = await refused(driver.act(unit.applicant, draft, "submit"))
    assert barred.code == "discredited" and "不能申报职称" in barred.message
    driver.clock.offset += timedelta(days=1)
    await driver.act(unit.applicant, draft, "submit")
    assert await driver.state(unit.applicant, draft) == "unit_review"


async def test_changing_the_id_number_in_the_materials_does_not_escape_the_bar(driver):
    unit, id_number = new_unit(), new_id_number()
    draft = await opened(driver, unit, id_number)
    seen = await at_department_with(driver, unit, id_number)
    await driver.call("discredit.record", {"case_id": seen, "reason": "弄虚作假"}, DEPARTMENT)
    basic = {**BASIC, "id_number": new_id_number()}
    await driver.call(
        "case.save_section", {"case_id": draft, "section": "basic", "data": basic}, unit.applicant
    )
    barred = await refused(driver.act(unit.applicant, draft, "submit"))
    assert barred.code == "discredited"


async def test_the_sysadmin_lists_and_ends_an_entry_and_the_person_declares_again(driver):
    unit, id_number = new_unit(), new_id_number()
    seen = await at_department_with(driver, unit, id_number)
    entry = await driver.call(
        "discredit.record", {"case_id": seen, "reason": "冒用他人业绩"}, DEPARTMENT
    )
    assert entry["years"] == 3  # ZC_DISCREDIT_YEARS
    # found by the whole number only: it is kept sealed, with its blind index
    listed = await driver.call("discredit.list", {"q": id_number.lower()}, SYSADMIN)
    assert [i["id"] for i in listed["items"]] == [entry["id"]]
    assert (await refused(open_for(driver, unit, id_number))).code == "discredited"
    blank = await refused(driver.call("discredit.end", {"entry_id": entry["id"]}, SYSADMIN))
    assert blank.fields == {"reason": "请填写终止原因"}
    ended = await driver.call(
        "discredit.end", {"entry_id": entry["id"], "reason": "复核撤销处理决定"}, SYSADMIN
    )
    assert (ended["status"], ended["end_reason"]) == ("ended", "复核撤销处理决定")
    again = await refused(driver.call("discredit.end", {"entry_id": entry["id"]}, SYSADMIN))
    assert again.status == 409
    assert await open_for(driver, unit, id_number)
    running = await driver.call("discredit.list", {"q": id_number, "status": "running"}, SYSADMIN)
    assert running["items"] == []
    history = (await driver.call("case.get", {"case_id": seen}, DEPARTMENT))["history"]
    assert [h["action"] for h in history][-2:] == ["discredit_recorded", "discredit_ended"]


async def recorded_by_a_department_of_its_own(driver, name: str, reason: str):
    """A department and committee of their own, a case of theirs waiting for 确认办结 and the
    department's 失信 entry against its holder: (the department, the entry, the ID number)."""
    department_id, committee, _ = await certificates.new_committee(driver.service.pool)
    department = Actor(user_id=uuid.uuid4(), role="department", org_id=department_id)
    id_number = new_id_number()
    (case_id,) = await certificates.awaiting_confirmation(
        driver.service.pool, department_id, committee, [(name, id_number)], driver.clock.now()
    )
    terms = {"case_id": str(case_id), "reason": reason, "years": 2}
    entry = await driver.call("discredit.record", terms, department)
    return department, entry, id_number


async def test_a_department_lists_the_entries_it_recorded_and_cannot_end_them(driver):
    first, mine, my_number = await recorded_by_a_department_of_its_own(driver, "褚失信", "伪造论文")
    second, theirs, _ = await recorded_by_a_department_of_its_own(driver, "卫失信", "冒用业绩")

    # each department its own entry, whatever it searches for
    for department, entry in ((first, mine), (second, theirs)):
        listed = await driver.call("discredit.list", {}, department)
        assert (listed["total"], [i["id"] for i in listed["items"]]) == (1, [entry["id"]])
    row = (await driver.call("discredit.list", {"q": my_number}, first))["items"][0]
    assert (row["name"], row["id_number"], row["status"]) == (
        "褚失信",
        mask_id_number(my_number),
        "running",
    )
    wanted = {"object_type": "discredit", "object_id": mine["id"], "field": "id_number"}
    assert (await driver.call("personal.unmask", wanted, first)) == {"value": my_number}
    assert (await refused(driver.call("personal.unmask", wanted, second))).status == 403
    assert (await driver.call("discredit.list", {"q": "卫失信"}, first))["total"] == 0
    assert (await driver.call("discredit.list", {"status": "ended"}, first))["total"] == 0
    paged = await driver.call("discredit.list", {"page": 2, "page_size": 1}, first)
    assert (paged["total"], paged["items"]) == (1, [])
    everyone = await driver.call("discredit.list", {"page_size": 200}, SYSADMIN)
    assert {mine["id"], theirs["id"]} <= {i["id"] for i in everyone["items"]}

    # read only: ending one early stays the sysadmin's
    ending = {"entry_id": mine["id"], "reason": "复核撤销处理决定"}
    refusal = await refused(driver.call("discredit.end", ending, first))
    assert (refusal.status, refusal.code) == (403, "forbidden")
    assert (await driver.call("discredit.list", {"status": "running"}, first))["total"] == 1

    # nobody else lists them
    unit = new_unit()
    for actor in (unit.operator, unit.applicant, COMMITTEE, reviewer("office", "office-zjc")):
        refusal = await refused(driver.call("discredit.list", {}, actor))
        assert (refusal.status, refusal.code) == (403, "forbidden"), actor.role
    assert (await refused(driver.call("discredit.list", {}, Actor()))).status == 401


# --- revocation ---


async def test_a_revoked_certificate_verifies_as_revoked_at_once_with_its_day(driver):
    unit, id_number = new_unit(), new_id_number()
    case_id = await passed(driver, unit, await at_department_with(driver, unit, id_number))
    issued = await driver.call("certificate.get", {"case_id": case_id}, unit.applicant)
    number, code = issued["certificate_no"], issued["verification_code"]
    check = {"certificate_no": number, "verification_code": code, "client_ip": "203.0.113.20"}
    assert (await driver.call("certificate.verify", check, Actor()))["status"] == "valid"

    blank = await refused(driver.call("certificate.revoke", {"case_id": case_id}, DEPARTMENT))
    assert blank.fields == {"reason": "请填写撤销原因"}
    for outsider in (unit.operator, OTHER_DEPARTMENT):
        no = await refused(
            driver.call("certificate.revoke", {"case_id": case_id, "reason": "x"}, outsider)
        )
        assert no.status in (403, 404)
    revoked = await driver.call(
        "certificate.revoke", {"case_id": case_id, "reason": "业绩材料造假"}, DEPARTMENT
    )
    today = driver.clock.today().isoformat()
    assert (revoked["status"], revoked["revoked_on"], revoked["discredit"]) == (
        "revoked",
        today,
        None,
    )
    shown = await driver.call("certificate.verify", check, Actor())
    assert (shown["status"], shown["status_label"], shown["revoked_on"]) == (
        "revoked",
        "已撤销",
        today,
    )
    assert "revoked_reason" not in shown  # the reason stays with those who see the case
    holder = await driver.call("certificate.get", {"case_id": case_id}, unit.applicant)
    assert holder["revoked_reason"] == "业绩材料造假"
    twice = await refused(
        driver.call("certificate.revoke", {"case_id": case_id, "reason": "y"}, DEPARTMENT)
    )
    assert twice.status == 409 and "已于" in twice.message
    history = (await driver.call("case.get", {"case_id": case_id}, unit.applicant))["history"]
    assert (history[-1]["action_name"], history[-1]["reason"]) == ("撤销电子证书", "业绩材料造假")


async def test_revoking_with_a_discredit_entry_records_both_or_neither(driver):
    unit, id_number = new_unit(), new_id_number()
    case_id = await passed(driver, unit, await at_department_with(driver, unit, id_number))
    bad = {"case_id": case_id, "reason": "造假", "discredit": {"reason": "", "years": 3}}
    wrong = await refused(driver.call("certificate.revoke", bad, DEPARTMENT))
    assert wrong.fields == {"discredit.reason": "请填写失信原因"}
    still = await driver.call("certificate.get", {"case_id": case_id}, unit.applicant)
    assert still["status"] == "valid"  # nothing was revoked
    good = {**bad, "discredit": {"reason": "伪造获奖证书", "years": 5}}
    revoked = await driver.call("certificate.revoke", good, DEPARTMENT)
    entry = revoked["discredit"]
    assert (entry["id_number"], entry["years"], entry["case_id"]) == (
        mask_id_number(id_number),
        5,
        case_id,
    )
    assert (await refused(open_for(driver, unit, id_number))).code == "discredited"


# --- helpers that open cases with an ID number of the test's own ---


LONG_ROUND = {
    "id": "it-long",
    "name": "长期开放评审年度（测试）",
    "opens_on": "2026-01-01",
    "closes_on": "2035-12-31",
}


async def open_for(driver, unit, id_number: str) -> str:
    """case.open in a round open for years, so moving the clock past a bar stays inside it."""
    await driver.call("ref.save_round", LONG_ROUND, SYSADMIN)
    params = {
        "round_id": LONG_ROUND["id"],
        "review_type_id": "ptsb",
        "qualification_id": "gc-fg",
        "committee_id": "cmte-qg-gj",
        "applicant_name": "李四华",
        "id_number": id_number,
    }
    return (await driver.call("case.open", params, unit.applicant))["case_id"]


async def at_department_with(driver, unit, id_number: str) -> str:
    """A case of `id_number` submitted to the department (which then sees it)."""
    case_id = await opened(driver, unit, id_number)
    await driver.act(unit.applicant, case_id, "submit")
    await driver.act(unit.operator, case_id, "approve", **approval(driver.clock.today()))
    await driver.act(unit.operator, case_id, "start_pre_publicity")
    driver.clock.offset += timedelta(days=12)
    await driver.act(unit.operator, case_id, "record_pre_publicity_result", **PASSED)
    await driver.act(unit.operator, case_id, "submit_to_department")
    return case_id


# --- 显示完整号码 ---


def unmask(object_type: str, object_id: str, field: str = "id_number") -> dict:
    return {"object_type": object_type, "object_id": object_id, "field": field}


async def test_the_full_numbers_go_to_those_who_may_see_them_each_audited(driver):
    unit, id_number = new_unit(), new_id_number()
    case_id = await passed(driver, unit, await at_department_with(driver, unit, id_number))
    revoked = await driver.call(
        "certificate.revoke",
        {"case_id": case_id, "reason": "造假", "discredit": {"reason": "伪造证书", "years": 2}},
        DEPARTMENT,
    )
    entry_id = revoked["discredit"]["id"]
    certificate_id = (await driver.call("certificate.get", {"case_id": case_id}, DEPARTMENT))[
        "certificate_id"
    ]
    call = driver.call
    for actor in (SYSADMIN, DEPARTMENT):  # the department that recorded it lists it too
        wanted = unmask("discredit", entry_id)
        assert (await call("personal.unmask", wanted, actor)) == {"value": id_number}
    for actor in (OTHER_DEPARTMENT, unit.operator):
        assert (
            await refused(call("personal.unmask", unmask("discredit", entry_id), actor))
        ).status == 403
    assert (await call("personal.unmask", unmask("certificate", certificate_id), DEPARTMENT))[
        "value"
    ] == id_number
    assert (await call("personal.unmask", unmask("certificate", certificate_id), unit.applicant))[
        "value"
    ] == id_number
    for actor in (unit.operator, OTHER_DEPARTMENT):
        wanted = unmask("certificate", certificate_id)
        assert (await refused(call("personal.unmask", wanted, actor))).status == 403
    assert (await call("personal.unmask", unmask("case", case_id, "mobile"), DEPARTMENT))[
        "value"
    ] == "13900000001"
    rows = await driver.service.pool.fetch(
        "SELECT object_type, outcome, case_ids, details FROM audit_log"
        " WHERE action = 'personal.unmask' AND object_id = ANY($1::text[]) ORDER BY seq",
        [entry_id, certificate_id, case_id],
    )
    assert [(r["object_type"], r["outcome"]) for r in rows] == [
        ("discredit", "ok"),
        ("discredit", "ok"),
        ("discredit", "refused"),
        ("discredit", "refused"),
        ("certificate", "ok"),
        ("certificate", "ok"),
        ("certificate", "refused"),
        ("certificate", "refused"),
        ("case", "ok"),
    ]
    assert all(id_number not in str(dict(r)) for r in rows)

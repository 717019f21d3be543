"""The case workflow pages over HTTP: the unit's ten steps, work lists and their tabs, the
approval and other action forms with their errors, batch results, one case in full."""

import asyncio
import html
import json
import re

import pytest

from tests.e2e.case_steps import (
    PASSED,
    PUBLICITY_OVER,
    act,
    approval,
    approved,
    at_department,
    case_of,
    flash_text,
    flow_counts,
    member,
    must,
    new_cast,
    publicised,
    submit_form,
    submitted,
)
from tests.e2e.identity_helpers import hidden_value, text_of
from tests.support.probes import wait_until


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


def rows(page: str) -> list[str]:
    """The visible text of each row of the work list."""
    body = page[page.index('<table class="list case-list">') :]
    return [text_of(r) for r in re.findall(r"<tr data-case=.*?</tr>", body, re.S)]


def textarea(page: str, name: str) -> str:
    match = re.search(rf'<textarea id="f-{name}" name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, f"no textarea {name}"
    return html.unescape(match.group(1))


def selected(page: str, name: str) -> str:
    select = re.search(rf'<select id="f-{name}" name="{name}".*?</select>', page, re.S)
    assert select, f"no select {name}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


def error_of(page: str, name: str) -> str:
    match = re.search(rf'<p class="error" id="e-{name}"[^>]*>(.*?)</p>', page, re.S)
    assert match, f"no error slot for {name}"
    return text_of(match.group(1)).strip()


# --- the home pages ---


async def test_the_unit_home_counts_the_cases_waiting_at_each_step(cast, clock):
    _, home, _ = await cast.operator.page("/home")
    assert flow_counts(home) == {3: "0", 4: "0", 5: "0", 6: "0", 7: "0", 9: "0", 10: "0"}
    for step in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10"):
        assert f'data-step="{step}"' in home
    assert 'href="/unit/applicants" data-step="1"' in home
    assert 'href="/work/unit-3" data-step="3"' in home

    await submitted(cast.applicant)
    await approved(cast, clock)
    _, home, _ = await cast.operator.page("/home")
    shown = flow_counts(home)
    assert (shown[3], shown[4], shown[5]) == ("1", "1", "0")
    assert "材料审核[1]" in text_of(home).replace(" ", "")


async def test_reviewer_homes_list_their_work_with_counts(cast, clock):
    _, before, _ = await cast.department.page("/home")
    waiting = int(re.search(r"预受理\[(\d+)\]", text_of(before).replace(" ", "")).group(1))
    await at_department(cast, clock)
    _, after, _ = await cast.department.page("/home")
    assert f"预受理[{waiting + 1}]" in text_of(after).replace(" ", "")
    for title in ("审核", "发起评后公示", "评后确认"):
        assert title in after
    assert 'href="/work/department-acceptance"' in after
    _, office, _ = await cast.office.page("/home")
    assert "前置审批" in office and 'href="/work/office-approval"' in office
    _, committee, _ = await cast.committee.page("/home")
    assert 'href="/work/committee-review"' in committee


# --- work lists ---


async def test_a_work_list_shows_the_manuals_columns_and_both_tabs(cast, clock):
    case_id = await submitted(cast.applicant)
    status, page, _ = await cast.operator.page("/work/unit-3")
    assert status == 200
    for column in (
        "人员姓名",
        "评审类型",
        "专业技术资格",
        "业务状态",
        "原因",
        "日常工作部门",
        "评委会",
    ):
        assert f">{column}<" in page
    assert "待办业务" in page and "已办业务" in page and "全选" in page and "全不选" in page
    [row] = rows(page)
    for shown in (
        "张三",
        "普通申报",
        "高级工程师",
        "已填报上报-->待单位审核",
        "深圳市工程师联合会",
    ):
        assert shown in row
    assert f'value="{case_id}"' in page and "审核同意" in row and "审核不同意" in row
    assert "查看申报材料" in row

    _, done, _ = await cast.operator.page("/work/unit-3?tab=done")
    assert "本环节还没有已办业务" in done
    await must(cast.operator, case_id, "approve", **approval(clock.today()))
    _, done, _ = await cast.operator.page("/work/unit-3?tab=done")
    [row] = rows(done)
    assert "单位审核同意-->待打印评前公示" in row and "审核同意" not in row.replace(
        "单位审核同意", ""
    )
    _, todo, _ = await cast.operator.page("/work/unit-3")
    assert "本环节暂无待办业务" in todo


async def test_filters_sorting_and_paging_narrow_the_list(gateway, services, cast, clock):
    names = ["赵一", "钱二", "孙三"]
    for name in names:
        await submitted(await member(gateway, services, cast, "applicant", name))
    _, page, _ = await cast.operator.page("/work/unit-3?name=钱")
    assert [r.split()[0] for r in rows(page)] == ["钱二"]
    assert "已筛选" in page
    _, page, _ = await cast.operator.page("/work/unit-3?sort=name&page_size=20")
    assert sorted(r.split()[0] for r in rows(page)) == sorted(names)
    _, page, _ = await cast.operator.page("/work/unit-3?committee_id=cmte-da-zj")
    assert "没有符合条件的业务" in page
    _, page, _ = await cast.operator.page("/work/unit-3?page_size=2&sort=name")
    assert len(rows(page)) == 2 and "共 3 条，第 1 / 2 页" in text_of(page)
    assert "下一页" in page
    _, second, _ = await cast.operator.page("/work/unit-3?page_size=2&sort=name&page=2")
    assert len(rows(second)) == 1 and rows(second)[0] not in rows(page)
    _, page, _ = await cast.operator.page("/work/unit-3?page=abc&sort=bogus&tab=nope")
    assert len(rows(page)) == 3


async def test_select_all_works_without_javascript(cast, clock):
    await submitted(cast.applicant)
    await approved(cast, clock)
    _, page, _ = await cast.operator.page("/work/unit-4?select=all")
    assert re.search(r'name="case_id" value="[^"]+"[^>]*checked', page)
    _, page, _ = await cast.operator.page("/work/unit-4")
    assert not re.search(r'name="case_id" value="[^"]+"[^>]*checked', page)


async def test_lists_of_other_parties_are_not_shown(cast):
    assert (await cast.operator.page("/work/department-acceptance"))[0] == 404
    assert (await cast.operator.page("/work/no-such-list"))[0] == 404
    assert (await cast.department.page("/work/unit-3"))[0] == 404
    assert (await cast.committee.page("/work/office-approval"))[0] == 404
    assert (await cast.applicant.page("/work/unit-3"))[0] == 403


# --- the approval form ---


async def test_the_approval_form_shows_its_errors_with_what_was_typed(cast, clock):
    case_id = await submitted(cast.applicant)
    status, form, _ = await cast.operator.page(f"/cases/{case_id}/act/approve?back=/work/unit-3")
    assert status == 200
    years = [f"year_{y}" for y in range(2021, 2026)]
    for name in years:
        assert f'name="{name}"' in form
    for choice in ("优秀", "合格", "基本合格", "不合格", "未考核"):
        assert f">{choice}</option>" in form
    assert textarea(form, "negative_situation") == "无负面情况"
    assert 'data-counter-max="200"' in form and "/ 200 字" in text_of(form)
    version = hidden_value(form, "expected_version")

    too_long = "业" * 201
    typed = {
        "expected_version": version,
        "back": "/work/unit-3",
        "negative_situation": "无负面情况",
        "evaluation": too_long,
        "continuing_education_opinion": "已完成",
        **{name: "优秀" for name in years[:4]},
        years[4]: "",
    }
    status, page, _ = await cast.operator.submit(f"/cases/{case_id}/act/approve", typed)
    assert status == 422
    assert error_of(page, "evaluation") == "单位综合评价意见不能超过200字（现201字）"
    assert "请填写2021—2025年每年的年度考核结果" in page
    assert error_of(page, years[4]) == "请选择2025年度考核结果"
    assert textarea(page, "evaluation") == too_long
    assert textarea(page, "continuing_education_opinion") == "已完成"
    assert [selected(page, name) for name in years] == ["优秀"] * 4 + [""]
    assert "已输入 201 / 200 字" in text_of(page).replace("  ", " ")
    assert (await case_of(cast.operator, case_id))["state"] == "unit_review"

    status, page, where = await cast.operator.submit(
        f"/cases/{case_id}/act/approve", typed | {"evaluation": "业务能力强", years[4]: "合格"}
    )
    assert (status, where) == (200, "/work/unit-3")
    assert "已办理“审核同意”：张三，当前业务状态：单位审核同意-->待打印评前公示" in flash_text(page)
    case = await case_of(cast.operator, case_id)
    assert case["unit_approval"]["annual_assessments"]["2025"] == "合格"


async def test_a_stale_approval_form_gets_a_conflict_message(gateway, services, cast, clock):
    case_id = await submitted(cast.applicant)
    _, form, _ = await cast.operator.page(f"/cases/{case_id}/act/approve")
    version = hidden_value(form, "expected_version")
    colleague = await member(gateway, services, cast, "unit_operator", "李经办")
    await must(colleague, case_id, "reject", reason="请补充业绩证明")
    await must(cast.applicant, case_id, "submit")
    values = {f"year_{y}": "合格" for y in range(2021, 2026)}
    values |= {
        "expected_version": version,
        "evaluation": "好",
        "continuing_education_opinion": "好",
    }
    status, page, _ = await cast.operator.submit(f"/cases/{case_id}/act/approve", values)
    assert status == 409
    assert "该业务已被他人办理，请刷新后查看" in page
    assert textarea(page, "evaluation") == "好"
    history = [h["action"] for h in (await case_of(cast.operator, case_id))["history"]]
    assert "approve" not in history


async def test_a_rejection_needs_a_reason_which_the_reason_column_shows(cast, clock):
    case_id = await submitted(cast.applicant)
    _, form, _ = await cast.operator.page(f"/cases/{case_id}/act/reject")
    version = hidden_value(form, "expected_version")
    status, page, _ = await cast.operator.submit(
        f"/cases/{case_id}/act/reject", {"expected_version": version, "reason": "  "}
    )
    assert status == 422 and error_of(page, "reason") == "请填写原因"
    status, page, where = await cast.operator.submit(
        f"/cases/{case_id}/act/reject",
        {"expected_version": version, "reason": "学历证书扫描件不清晰", "back": "/work/unit-3"},
    )
    assert where == "/work/unit-3" and "已办理“审核不同意”" in flash_text(page)
    _, done, _ = await cast.operator.page("/work/unit-3?tab=done")
    [row] = rows(done)
    assert "单位审核不同意-->待填报上报" in row and "学历证书扫描件不清晰" in row
    _, drafts, _ = await cast.operator.page("/work/unit-2")
    assert "学历证书扫描件不清晰" in rows(drafts)[0]


async def test_an_action_the_case_no_longer_allows_sends_back_to_the_case(cast, clock):
    case_id = await approved(cast, clock)
    status, page, where = await cast.operator.page(f"/cases/{case_id}/act/approve")
    assert where == f"/cases/{case_id}"
    assert "不能进行“审核同意”操作" in flash_text(page)
    assert (await cast.operator.page(f"/cases/{case_id}/act/fly"))[0] == 404


# --- batches ---


async def test_a_batch_reports_what_it_did_for_each_case(gateway, services, cast, clock):
    people = [cast.applicant] + [
        await member(gateway, services, cast, "applicant", n) for n in ("王五", "赵六")
    ]
    case_ids = [await submitted(p) for p in people]
    for case_id in case_ids:
        await must(cast.operator, case_id, "approve", **approval(clock.today()))
    _, page, _ = await cast.operator.page("/work/unit-4")
    assert "开始打印评前公示材料" in page and len(rows(page)) == 3
    await must(cast.operator, case_ids[1], "start_pre_publicity")  # 王五, by someone else

    picked = {"action": "start_pre_publicity", "case_id": case_ids, "back": "/work/unit-4"}
    status, form, _ = await submit_form(cast.operator, "/work/unit-4/batch", picked)
    assert status == 200 and "公示开始日期" in form and "异议受理联系方式" in form
    for name in ("张三", "王五", "赵六"):
        assert name in form
    confirmed = picked | {"step": "confirm", "method": "单位公告栏", "contact": "人事科 83000000"}
    status, page, where = await submit_form(cast.operator, "/work/unit-4/batch", confirmed)
    assert where.startswith("/print/")  # the roster of the two who started is printed next
    assert "打印评前公示名册" in page
    message = flash_text(page)
    assert message.startswith("开始打印评前公示材料：已办理 2 件；1 件未办理：王五（")
    assert "不能进行“开始打印评前公示材料”操作" in message
    assert "flash-info" in page
    first = await case_of(cast.operator, case_ids[0])
    assert first["pre_publicity"]["method"] == "单位公告栏"

    _, done, _ = await cast.operator.page("/work/unit-4?tab=done")
    assert len(rows(done)) == 3
    assert 'name="kind" value="pre_publicity_roster"' in done
    assert 'name="kind" value="registration_form"' in done


async def test_a_batch_needs_ticked_rows_and_a_button_of_the_step(cast, clock):
    await approved(cast, clock)
    status, page, where = await cast.operator.submit(
        "/work/unit-4/batch", {"action": "start_pre_publicity"}
    )
    assert where == "/work/unit-4" and "请先勾选要“开始打印评前公示材料”的人员" in flash_text(page)
    status, page, where = await cast.operator.submit(
        "/work/unit-4/batch", {"action": "submit_to_department", "case_id": "x"}
    )
    assert "本环节没有这个功能按钮" in flash_text(page)


async def test_a_publicity_result_form_reshows_a_missing_choice(cast, clock):
    case_id = await publicised(cast, clock)
    picked = {"action": "record_pre_publicity_result", "case_id": case_id, "step": "confirm"}
    status, page, _ = await cast.operator.submit("/work/unit-5/batch", picked | {"feedback": "无"})
    assert status == 422 and error_of(page, "passed") == "请填写公示结果"
    assert textarea(page, "feedback") == "无"
    status, page, where = await cast.operator.submit(
        "/work/unit-5/batch", picked | {"passed": "1", "feedback": "公示期间无异议"}
    )
    assert where == "/work/unit-5"
    assert flash_text(page) == "填写评前公示意见：已办理 1 件"
    assert (await case_of(cast.operator, case_id))["state"] == "dept_submit_ready"


async def test_a_publicity_result_before_the_end_is_refused_in_the_results(cast, clock):
    case_id = await approved(cast, clock)
    await must(cast.operator, case_id, "start_pre_publicity")
    picked = {"action": "record_pre_publicity_result", "case_id": case_id, "step": "confirm"}
    _, page, _ = await cast.operator.submit("/work/unit-5/batch", picked | PASSED | {"passed": "1"})
    assert "已办理 0 件；1 件未办理：张三（公示期至2026年6月5日止，期满后方可" in flash_text(page)
    assert "flash-error" in page
    assert "公示至 2026-06-05" in rows(page)[0]  # the list says when the opinion can be entered


async def test_the_done_tab_of_submission_withdraws_before_acceptance(cast, clock):
    case_id = await at_department(cast, clock)
    _, done, _ = await cast.operator.page("/work/unit-6?tab=done")
    [row] = rows(done)
    assert "已上报日常工作部门-->待日常工作部门预受理" in row and "撤回" in row
    _, form, _ = await cast.operator.page(f"/cases/{case_id}/act/withdraw?back=/work/unit-6")
    status, page, where = await cast.operator.submit(
        f"/cases/{case_id}/act/withdraw",
        {"expected_version": hidden_value(form, "expected_version"), "back": "/work/unit-6"},
    )
    assert where == "/work/unit-6" and "已办理“撤回”" in flash_text(page)
    _, todo, _ = await cast.operator.page("/work/unit-6")
    assert "单位撤回上报-->待上报日常工作部门" in rows(todo)[0]


# --- reviewers' single actions ---


async def test_a_department_return_asks_for_a_target_and_a_reason(cast, clock):
    case_id = await at_department(cast, clock)
    status, form, _ = await cast.department.page(f"/cases/{case_id}/act/return")
    assert status == 200 and "退回单位（待上报日常工作部门）" in form and "退回申报人" in form
    version = hidden_value(form, "expected_version")
    status, page, _ = await cast.department.submit(
        f"/cases/{case_id}/act/return", {"expected_version": version, "reason": "材料不全"}
    )
    assert status == 422 and "请选择退回对象" in error_of(page, "target")
    assert textarea(page, "reason") == "材料不全"
    status, page, where = await cast.department.submit(
        f"/cases/{case_id}/act/return",
        {"expected_version": version, "reason": "材料不全", "target": "dept_submit_ready"},
    )
    assert where == f"/cases/{case_id}" and "已办理“退回”" in flash_text(page)
    case = await case_of(cast.operator, case_id)
    assert (case["state"], case["reason"]) == ("dept_submit_ready", "材料不全")


async def test_a_list_row_button_acts_with_the_version_it_showed(cast, clock):
    case_id = await at_department(cast, clock)
    _, page, _ = await cast.department.page("/work/department-acceptance?name=张三")
    version = re.search(
        rf'formaction="/cases/{case_id}/act/accept" name="expected_version" value="(\d+)"', page
    ).group(1)
    await must(cast.operator, case_id, "withdraw")
    status, page, where = await cast.department.submit(
        f"/cases/{case_id}/act/accept",
        {"expected_version": version, "back": "/work/department-acceptance"},
    )
    assert where == "/work/department-acceptance"
    assert "未能预受理通过：该业务已被他人办理，请刷新后查看" in flash_text(page)
    await must(cast.operator, case_id, "submit_to_department")
    version = str((await case_of(cast.department, case_id))["version"])
    status, page, where = await cast.department.submit(
        f"/cases/{case_id}/act/accept", {"expected_version": version}
    )
    assert where == f"/cases/{case_id}" and "已办理“预受理通过”" in flash_text(page)


# --- one case in full ---


async def test_the_case_view_shows_materials_scans_approval_and_history(cast, clock):
    case_id = await approved(cast, clock)
    await must(cast.operator, case_id, "start_pre_publicity", method="单位公告栏")
    clock.offset += PUBLICITY_OVER
    status, page, _ = await cast.operator.page(f"/cases/{case_id}?back=/work/unit-5")
    assert status == 200
    shown = text_of(page)
    for part in (
        "深圳大学",
        "机械工程",
        "深圳某科技公司",
        "精密机械设计方法研究",
        "170",
        "工作认真负责，业绩突出。",
        "2021年：合格",
        "2026-06-01 至 2026-06-05",
        "单位公告栏",
        "打印评前公示完成-->待填写评前公示意见",
    ):
        assert part in shown, part
    case = await case_of(cast.operator, case_id)
    image, pdf = (
        next(a for a in case["attachments"] if a["category"] == c) for c in ("id_card", "diploma")
    )
    assert f'<img src="/api/files/{image["file_id"]}"' in page
    assert f'<iframe src="/api/files/{pdf["file_id"]}" class="pdf"' in page
    history = page[page.index('id="history"') :]
    for action in ("填报上报", "审核同意", "开始打印评前公示材料"):
        assert action in history
    assert "待单位审核 → 待打印评前公示" in text_of(history)
    assert "单位经办人" in history and "申报个人" in history  # the roles' one label each
    operator, applicant = cast.operator.person["name"], cast.applicant.person["name"]
    assert f"单位经办人 {operator}" in text_of(history)  # by name, not only by role
    assert f"申报个人 {applicant}" in text_of(history)
    assert "填写评前公示意见" in page  # the button the unit may press now
    assert 'href="/work/unit-5"' in page


async def test_the_case_view_is_refused_to_other_units(gateway, services, cast, clock):
    case_id = await submitted(cast.applicant)
    other = await new_cast(gateway, services)
    try:
        assert (await other.operator.page(f"/cases/{case_id}"))[0] == 404
        assert (await other.operator.page(f"/cases/{case_id}/act/approve"))[0] == 404
        status, _ = await act(other.operator, case_id, "approve", **approval(clock.today()))
        assert status == 404
    finally:
        await other.close()


def sms_bodies(outbox, phone: str) -> list[str]:
    if not outbox.exists():
        return []
    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    return [sms["body"] for sms in lines if sms["mobile"] == phone]


async def test_the_applicant_is_told_by_sms_of_a_rejection_and_not_of_an_approval(
    cast, clock, sms_outbox
):
    phone = cast.applicant.person["mobile"]
    await must(cast.operator, await approved(cast, clock), "start_pre_publicity")
    rejected = await submitted(cast.applicant)
    await must(cast.operator, rejected, "reject", reason="学历证书扫描件不清晰")
    await wait_until(lambda: sms_bodies(sms_outbox, phone))
    await asyncio.sleep(0.5)  # an SMS for the approval or the publicity would be here by now
    [body] = sms_bodies(sms_outbox, phone)
    # An approved template: the reason is for the system's pages, not for the SMS.
    assert "未通过单位审核，请登录系统查看原因" in body and "学历证书扫描件不清晰" not in body

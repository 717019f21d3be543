"""诚信 through the gateway, as each role and the public use it (docs/integrity.md): the
诚信承诺 on the applicant's page and on the 评审（申报）表, objections on the pages of the unit
and the department and from the public page with an SMS code, printed on the 公示情况表,
revocation shown by /verify and /api/verify, 失信 refusing a new case until the sysadmin ends
it."""

import asyncio
import html
import json
import random
import re

import pytest

from shared.masks import mask_id_number, mask_mobile
from tests.e2e.case_steps import (
    PASSED,
    PUBLICITY_OVER,
    act,
    at_department,
    case_of,
    complete,
    in_post_publicity,
    must,
    new_cast,
    open_case,
    passed,
    publicised,
)
from tests.e2e.identity_helpers import Client, sms_code
from tests.support.meetings import results_outside
from tests.support.pdf_tools import page_texts

JOB_WAIT = 60


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


@pytest.fixture
async def anonymous(gateway):
    client = Client(str(gateway.make_url("")))
    yield client
    await client.close()


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


async def printed(client: Client, kind: str, case_id: str) -> str:
    """The text of the document of `kind` printed for the case (a print job, then its PDF)."""
    status, job = await client.api("POST", "/api/print-jobs", {"kind": kind, "case_ids": [case_id]})
    assert status == 202, job
    for _ in range(JOB_WAIT * 10):
        status, job = await client.api("GET", f"/api/print-jobs/{job['job_id']}")
        if job["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "done", job
    async with client.http.get(f"/api/documents/{job['document_id']}") as response:
        return flat("".join(page_texts(await response.read())))


# --- 诚信承诺 ---


async def test_the_applicant_accepts_the_pledge_on_the_case_page_and_the_form_prints_it(
    cast, clock
):
    case_id = await open_case(cast.applicant)
    await complete(cast.applicant, case_id)
    status, page, _ = await cast.applicant.page(f"/my/cases/{case_id}")
    version = re.search(r'name="pledge_version" value="(\d+)"', page).group(1)
    assert "诚信承诺书" in page and "本人已阅读并承诺遵守以上诚信承诺书" in page

    status, page, _ = await cast.applicant.submit(f"/my/cases/{case_id}/submit", {})
    problem = text_of(page.split('id="submit-problem"', 1)[1].split("</div>", 1)[0])
    assert status == 422 and "请阅读诚信承诺书，勾选“本人已阅读并承诺”后再提交" in problem
    assert (await case_of(cast.applicant, case_id))["state"] == "draft"
    status, page, _ = await cast.applicant.submit(
        f"/my/cases/{case_id}/submit", {"pledge_version": version}
    )
    assert status == 200 and "已提交单位审核" in text_of(page)
    assert f"诚信承诺书第 {version} 版" in text_of(page)
    case = await case_of(cast.operator, case_id)
    assert (case["pledge"]["version"], case["pledge"]["client_ip"]) == (int(version), "127.0.0.1")

    status, page, _ = await cast.operator.page(f"/cases/{case_id}")
    assert f"第 {version} 版" in text_of(page) and "IP 127.0.0.1" in text_of(page)


async def test_the_declaration_form_prints_the_accepted_pledge_with_its_time(cast, clock):
    case_id = await at_department(cast, clock)
    await must(cast.department, case_id, "accept")
    pledge = (await case_of(cast.applicant, case_id))["pledge"]
    text = await printed(cast.applicant, "declaration_form", case_id)
    assert f"诚信承诺书（第{pledge['version']}版）" in text
    assert flat(pledge["text"])[:30] in text
    assert "在线阅读并确认本承诺（IP地址：127.0.0.1）" in text


async def test_an_api_submission_without_the_pledge_is_refused_naming_the_field(cast, clock):
    case_id = await open_case(cast.applicant)
    await complete(cast.applicant, case_id)
    status, body = await act(cast.applicant, case_id, "submit", pledge_version=None)
    assert status == 422 and set(body["error"]["fields"]) == {"pledge_version"}


async def test_the_sysadmin_publishes_a_pledge_version_from_the_page(cast, gateway, services):
    from tests.e2e.people import signed_in

    sysadmin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    cast.extra.append(sysadmin)
    status, page, _ = await sysadmin.page("/admin/pledge")
    assert status == 200 and "历史版本" in page
    current = (await cast.applicant.api("GET", "/api/pledge"))[1]
    status, page, _ = await sysadmin.submit("/admin/pledge", {"pledge_text": current["text"]})
    assert status == 422 and "与现行版本内容相同" in text_of(page)
    new_text = current["text"] + "\n四、本人同意将诚信情况记入个人诚信档案。"
    status, page, _ = await sysadmin.submit("/admin/pledge", {"pledge_text": new_text})
    assert status == 200 and f"已发布诚信承诺书第 {current['version'] + 1} 版" in text_of(page)
    status, body = await cast.applicant.api("GET", "/api/pledge")
    assert body["version"] == current["version"] + 1 and "个人诚信档案" in body["text"]
    status, body = await cast.operator.api("POST", "/api/pledge", {"pledge_text": "x"})
    assert status == 403


# --- objections ---


async def listed_under_publicity(client, case_id: str, phase: str) -> None:
    for number in range(1, 100):
        status, page, _ = await client.page(f"/objections?phase={phase}&page={number}")
        assert status == 200
        if f"/cases/{case_id}/objections" in page:
            return
        if not re.search(r"/cases/[0-9a-f-]{36}/objections", page):
            break  # past the last page
    raise AssertionError(f"case {case_id} not on the {phase} publicity list")


async def test_objections_on_the_pages_block_step_five_until_found_and_print_on_the_report(
    cast, clock
):
    case_id = await publicised(cast, clock)
    # the department, before the case is submitted to it, finds the case under publicity (on
    # some page: the department's other tests leave cases there, sorted by name before it)
    await listed_under_publicity(cast.department, case_id, "pre")
    fields = {"objector_name": "王五", "objector_contact": "0755-88880000", "content": "论文造假"}
    status, page, _ = await cast.department.submit(f"/cases/{case_id}/objections", fields)
    assert status == 200 and "已登记第 1 号异议" in text_of(page)

    status, body = await act(cast.operator, case_id, "record_pre_publicity_result", **PASSED)
    assert status == 409 and "第1号异议" in body["error"]["message"]
    assert "由日常工作部门核实" in body["error"]["message"]
    status, page, _ = await cast.operator.page(f"/cases/{case_id}/objections")
    assert "异议人信息由日常工作部门掌握" in text_of(page) and "王五" not in page
    assert "填写核实结论" not in page  # the department's to find

    objection_id = re.search(
        r"/objections/([0-9a-f-]{36})/finding",
        (await cast.department.page(f"/cases/{case_id}/objections"))[1],
    ).group(1)
    finding = {"case_id": case_id, "finding": "dismissed", "finding_text": "经核查论文系本人撰写"}
    status, page, _ = await cast.department.submit(f"/objections/{objection_id}/finding", finding)
    assert status == 200 and "已填写核实结论：不成立" in text_of(page)
    await must(cast.operator, case_id, "record_pre_publicity_result", **PASSED)

    text = await printed(cast.operator, "pre_publicity_report", case_id)
    assert "第1号（" in text and "日常工作部门登记）：论文造假" in text
    assert "核实结论：不成立。经核查论文系本人撰写" in text
    assert "王五" not in text  # the objector is not printed
    history = text_of((await cast.applicant.page(f"/my/cases/{case_id}"))[1])
    assert "登记异议" in history and "异议核实" in history and "王五" not in history


async def test_a_finding_form_sent_blank_comes_back_with_its_fields_named(cast, clock):
    case_id = await publicised(cast, clock)
    fields = {"objector_name": "王五", "objector_contact": "13800000000", "content": "x"}
    status, body = await cast.operator.api("POST", f"/api/cases/{case_id}/objections", fields)
    assert status == 201, body
    data = {"case_id": case_id, "finding": "", "finding_text": ""}
    status, page, _ = await cast.operator.submit(
        f"/objections/{body['objection_id']}/finding", data
    )
    assert status == 422 and "请选择核实结论" in page and "请填写核实情况" in page


async def test_the_public_objects_with_an_sms_code_and_is_told_the_finding(
    cast, clock, anonymous, sms_outbox
):
    case_id = await in_post_publicity(cast, clock)
    status, page, _ = await anonymous.page("/publicity")
    assert status == 200 and f"/publicity/{case_id}/objection" in page
    row = text_of(page.split(f"/publicity/{case_id}/objection")[0].rsplit("<tr>", 1)[1])
    assert "张*" in row and "张三" not in row and "深圳市测试科技有限公司" in row

    form = f"/publicity/{case_id}/objection"
    mobile = "139" + "".join(random.choices("0123456789", k=8))
    status, page, _ = await anonymous.submit(form, {"mobile": mobile, "action": "send_code"})
    assert status == 200 and "验证码已发送" in text_of(page)
    code = await sms_code(sms_outbox, mobile, "objection")
    data = {
        "objector_name": "赵六",
        "mobile": mobile,
        "sms_code": "000000" if code != "000000" else "111111",
        "content": "获奖证书系伪造",
    }
    status, page, _ = await anonymous.submit(form, data)
    assert status == 422 and "验证码错误" in text_of(page) and "获奖证书系伪造" in page
    status, page, _ = await anonymous.submit(form, {**data, "sms_code": code})
    assert status == 200 and "异议已提交" in text_of(page), text_of(page)

    seen = (await cast.department.api("GET", f"/api/cases/{case_id}/objections"))[1]
    [objection] = seen["objections"]
    assert (objection["objector_name"], objection["objector_contact"]) == (
        "赵六",
        mask_mobile(mobile),
    )
    wanted = {"object_type": "objection", "object_id": objection["id"], "field": "mobile"}
    status, shown = await cast.department.api("POST", "/api/personal/unmask", wanted)
    assert (status, shown["value"]) == (200, mobile)
    assert (await cast.operator.api("POST", "/api/personal/unmask", wanted))[0] == 403
    clock.offset += PUBLICITY_OVER
    status, body = await act(cast.operator, case_id, "record_post_publicity_result", **PASSED)
    assert status == 409 and "社会公众提出" in body["error"]["message"]
    status, body = await cast.department.api(
        "POST",
        f"/api/objections/{objection['id']}/finding",
        {"finding": "upheld", "finding_text": "经核查获奖证书不实"},
    )
    assert status == 200 and body["status_label"] == "成立"
    status, body = await act(cast.operator, case_id, "record_post_publicity_result", **PASSED)
    assert status == 422 and "只能为“不通过”" in body["error"]["fields"]["passed"]
    await must(
        cast.operator,
        case_id,
        "record_post_publicity_result",
        passed=False,
        feedback="公众异议经核实成立",
    )
    await must(cast.department, case_id, "confirm")
    case = await case_of(cast.operator, case_id)
    assert (case["state"], case["outcome"]) == ("closed", "post_publicity_failed")
    told = await told_sms(sms_outbox, mobile, "经核实成立")
    assert told["body"] == "【深圳职称申报】您提交的职称评后公示异议经核实成立，感谢您的监督。"
    text = await printed(cast.operator, "post_publicity_report", case_id)
    assert "社会公众提出）：获奖证书系伪造" in text and "核实结论：成立" in text


async def told_sms(outbox, mobile: str, words: str, timeout: float = 10.0) -> dict:
    for _ in range(int(timeout * 20)):
        if outbox.exists():
            for line in reversed(outbox.read_text(encoding="utf-8").splitlines()):
                sms = json.loads(line)
                if sms["mobile"] == mobile and words in sms["body"]:
                    return sms
        await asyncio.sleep(0.05)
    raise AssertionError(f"no SMS with {words} to {mobile}")


async def test_the_public_page_refuses_a_person_no_longer_under_publicity(cast, clock, anonymous):
    case_id = await in_post_publicity(cast, clock)
    clock.offset += PUBLICITY_OVER
    status, page, _ = await anonymous.page(f"/publicity/{case_id}/objection")
    assert status == 404 and "不在评后公示期内" in text_of(page)
    status, body = await anonymous.api(
        "POST",
        f"/api/publicity/{case_id}/objections",
        {"objector_name": "赵六", "mobile": "13800000000", "sms_code": "", "content": "x"},
    )
    assert status == 422 and body["error"]["fields"] == {"sms_code": "请填写短信验证码"}


# --- revocation and 失信 ---


async def test_the_department_revokes_with_a_discredit_and_the_sysadmin_ends_it(
    cast, clock, gateway, services, anonymous
):
    from tests.e2e.people import signed_in

    case_id = await passed(cast, clock)
    certificate = (await cast.applicant.api("GET", f"/api/cases/{case_id}/certificate"))[1]
    query = f"no={certificate['certificate_no']}&code={certificate['verification_code']}"
    status, page, _ = await cast.department.page(f"/cases/{case_id}")
    assert f"/cases/{case_id}/revoke" in page
    status, page, _ = await cast.department.submit(
        f"/cases/{case_id}/revoke", {"reason": "", "record_discredit": "1"}
    )
    assert status == 422 and "请填写撤销原因" in page
    form = {
        "reason": "伪造业绩材料",
        "record_discredit": "1",
        "discredit_reason": "伪造业绩材料骗取职称",
        "discredit_starts_on": "",
        "discredit_years": "3",
    }
    status, page, _ = await cast.department.submit(f"/cases/{case_id}/revoke", form)
    assert status == 200 and "已撤销电子证书" in text_of(page) and "记录失信至" in text_of(page)

    status, body = await anonymous.api("GET", f"/api/verify?{query}")
    today = clock.today().isoformat()
    assert (body["status"], body["status_label"], body["revoked_on"]) == (
        "revoked",
        "已撤销",
        today,
    )
    status, page, _ = await anonymous.page(f"/verify?{query}")
    assert status == 200 and "已撤销" in page and f"{today} 撤销" in page

    status, page, _ = await cast.applicant.submit("/my/cases/new", dict(CHOICES))
    assert status == 422 and "不能申报职称" in text_of(page) and "起方可申报" in text_of(page)
    status, body = await cast.applicant.api("POST", "/api/cases", dict(CHOICES))
    assert status == 422 and body["error"]["code"] == "discredited"

    # the department reads the entry it recorded; ending it is the sysadmin's
    own = cast.applicant.person["id_number"]
    status, page, _ = await cast.department.page("/discredits?status=running")
    assert status == 200 and "伪造业绩材料骗取职称" in page and "执行中" in page
    assert "/end" not in page and own not in page and mask_id_number(own) in page

    sysadmin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    cast.extra.append(sysadmin)
    status, page, _ = await sysadmin.page(f"/admin/discredits?q={own}")
    entry_id = re.search(r"/admin/discredits/([0-9a-f-]{36})/end", page).group(1)
    assert "伪造业绩材料骗取职称" in page and "执行中" in page
    status, _, _ = await cast.department.submit(
        f"/admin/discredits/{entry_id}/end", {"reason": "复议撤销原处理决定"}
    )
    assert status == 403
    status, page, _ = await sysadmin.submit(f"/admin/discredits/{entry_id}/end", {"reason": ""})
    assert status == 422 and "请填写终止原因" in page
    status, page, _ = await sysadmin.submit(
        f"/admin/discredits/{entry_id}/end", {"reason": "复议撤销原处理决定"}
    )
    assert status == 200 and "已终止" in text_of(page)
    status, body = await cast.applicant.api("POST", "/api/cases", dict(CHOICES))
    assert status == 201, body
    history = [h["action_name"] for h in (await case_of(cast.applicant, case_id))["history"]]
    assert history[-3:] == ["撤销电子证书", "记录失信", "终止失信记录"]


async def test_a_department_records_a_discredit_on_a_case_it_reviews(cast, clock):
    case_id = await at_department(cast, clock)
    status, page, _ = await cast.department.submit(
        f"/cases/{case_id}/discredit", {"reason": "", "years": "x"}
    )
    assert status == 422 and "记录年限应为整数" in page
    status, page, _ = await cast.department.submit(
        f"/cases/{case_id}/discredit", {"reason": "冒用他人论文", "years": "1"}
    )
    assert status == 200 and "已记录失信" in text_of(page)
    status, body = await cast.operator.api(
        "POST", f"/api/cases/{case_id}/discredits", {"reason": "x"}
    )
    assert status == 403
    status, page, _ = await cast.applicant.submit("/my/cases/new", dict(CHOICES))
    assert status == 422 and "不能申报职称" in text_of(page)


CHOICES = {
    "round_id": "2026",
    "review_type_id": "ptsb",
    "qualification_id": "gc-fg",
    "committee_id": "cmte-qg-gj",
}

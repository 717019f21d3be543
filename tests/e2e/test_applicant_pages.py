"""The applicant's pages over HTTP, through the gateway, with every service running."""

import pytest

from tests.e2e.applicant_helpers import (
    ACHIEVEMENTS,
    BASIC,
    EDUCATION,
    EXE,
    PDF,
    PNG,
    TEN_MB,
    WORK,
    complete,
    error_for,
    open_case,
    save_section,
    upload,
    upload_error,
    value_of,
)
from tests.e2e.case_steps import pledge_version
from tests.e2e.case_steps import upload as api_upload
from tests.e2e.identity_helpers import text_of
from tests.e2e.people import new_unit, signed_in


@pytest.fixture
def applicant(unit):
    return unit["applicant"]


@pytest.fixture
async def case_id(applicant) -> str:
    return await open_case(applicant)


async def test_an_applicant_opens_a_case_through_the_pages(applicant):
    status, page, _ = await applicant.page("/my/cases")
    assert status == 200 and "您还没有申报业务" in page and "新建申报" in page
    status, page, _ = await applicant.page("/my/cases/new")
    assert status == 200
    assert "深圳市档案中级专业技术资格评审委员会（深圳市档案局）" in page
    assert (
        'data-qualifications="da-cj da-zj"' in page or 'data-qualifications="da-zj da-cj"' in page
    )
    assert 'value="da-zj"' in page  # 馆员: the 档案 committee reviews it
    assert 'value="zx-zg"' not in page  # 正高级教师: no committee reviews it, so not offered

    form = {"round_id": "2026", "review_type_id": "ptsb", "committee_id": "cmte-da-zj"}
    status, page, _ = await applicant.submit("/my/cases/new", form | {"qualification_id": "gc-fg"})
    assert status == 422
    assert error_for(page, "qualification_id") == (
        "深圳市档案中级专业技术资格评审委员会不评审所选的专业技术资格"
    )
    assert value_of(page, "committee_id") == "cmte-da-zj"  # the choices come back
    status, page, _ = await applicant.submit("/my/cases/new", {"round_id": "2026"})
    assert status == 422 and error_for(page, "review_type_id") == "请选择评审类型"

    status, page, where = await applicant.submit(
        "/my/cases/new", form | {"qualification_id": "da-zj"}
    )
    assert status == 200 and where.startswith("/my/cases/")
    text = text_of(page)
    assert "已新建申报：馆员（2026年度），请填写申报材料并上传扫描件" in text
    assert "待填报上报" in text and "深圳市档案局" in text
    assert "尚缺：" in text and "扫描件（身份证、学历证书、业绩证明）" in text

    _, page, _ = await applicant.page("/my/cases")
    assert "馆员" in page and "待填报上报" in page and where in page
    _, page, _ = await applicant.page("/home")
    assert where in page  # the home page lists it under 我的申报


async def test_a_section_with_bad_input_comes_back_with_messages_and_what_was_typed(
    applicant, case_id
):
    basic = BASIC | {
        "birth_date": "1985-02-30",
        "years_in_field": "十二",
        "education": "小学",
        "school": "深圳大学附属学校",
    }
    status, page, _ = await save_section(applicant, case_id, "basic", basic)
    assert status == 422
    assert error_for(page, "birth_date") == "出生日期格式不正确"
    assert error_for(page, "years_in_field") == "从事本专业年限格式不正确"
    assert error_for(page, "education").startswith("学历须为：博士研究生、")
    assert error_for(page, "name") == ""
    assert value_of(page, "school") == "深圳大学附属学校"
    assert value_of(page, "years_in_field") == "十二"
    assert value_of(page, "birth_date") == "1985-02-30"

    # an empty first row is dropped: the service's entries.0 is the row typed second
    work = {
        "entries.0.start": "",
        "entries.1.start": "2015/07",
        "entries.1.end": "至今",
        "entries.1.employer": "深圳市档案馆",
    }
    status, page, _ = await save_section(applicant, case_id, "work_history", work)
    assert status == 422
    assert error_for(page, "entries.0.start") == "起始年月格式应为YYYY-MM"
    assert value_of(page, "entries.0.employer") == "深圳市档案馆"
    assert value_of(page, "entries.0.start") == "2015/07"

    achievements = {"entries.0.title": "一篇论文", "entries.0.year": "1900"}
    status, page, _ = await save_section(applicant, case_id, "achievements", achievements)
    assert status == 422 and error_for(page, "entries.0.year") == "年份超出范围"

    status, page, _ = await save_section(
        applicant, case_id, "education", {"hours_by_year.2023": "七十二"}
    )
    assert status == 422
    assert error_for(page, "hours_by_year.2023") == "各年度继续教育学时格式不正确"
    assert value_of(page, "hours_by_year.2023") == "七十二"

    _, page, _ = await applicant.page(f"/my/cases/{case_id}/sections/basic")
    assert value_of(page, "school") == ""  # nothing of it was saved


async def test_each_section_is_saved_and_shown_again(applicant, case_id):
    basic = BASIC | {"id_number": applicant.person["id_number"], "exemptions": "computer"}
    for section, form, title in (
        ("basic", basic, "基本信息"),
        ("work_history", WORK, "工作经历"),
        ("achievements", ACHIEVEMENTS, "业绩成果"),
        ("education", EDUCATION, "继续教育"),
    ):
        status, page, where = await applicant.submit(
            f"/my/cases/{case_id}/sections/{section}", form
        )
        assert (status, where) == (200, f"/my/cases/{case_id}"), section
        assert f"已保存“{title}”" in text_of(page)

    _, page, _ = await applicant.page(f"/my/cases/{case_id}/sections/basic")
    assert value_of(page, "major") == "档案学"
    assert value_of(page, "graduated_on") == "2007-07-01"
    assert value_of(page, "gender") == "男"
    assert 'value="computer" checked' in page
    _, page, _ = await applicant.page(f"/my/cases/{case_id}/sections/work_history")
    assert value_of(page, "entries.1.employer") == "深圳市测试科技有限公司"
    assert value_of(page, "entries.1.end") == "至今"
    assert value_of(page, "entries.2.employer") == ""  # blank rows to add more without JS
    _, page, _ = await applicant.page(f"/my/cases/{case_id}/sections/achievements")
    assert value_of(page, "entries.0.kind") == "论文"
    assert value_of(page, "entries.0.year") == "2021"
    _, page, _ = await applicant.page(f"/my/cases/{case_id}/sections/education")
    assert value_of(page, "hours_by_year.2025") == "72"

    _, page, _ = await applicant.page(f"/my/cases/{case_id}")
    text = text_of(page)
    assert "必填项已填 11/11" in text and "2 条" in text and "5 个年度" in text
    assert "工作经历（至少一条）" not in text


async def test_scans_upload_and_wrong_files_are_refused_beside_their_upload(applicant, case_id):
    status, page, _ = await upload(applicant, case_id, "id_card", "身份证.png", PNG)
    assert status == 200 and "已上传身份证：身份证.png" in text_of(page)
    status, page, _ = await upload(applicant, case_id, "diploma", "毕业证.pdf", PDF)
    assert status == 200 and "已上传学历证书：毕业证.pdf" in text_of(page)
    assert "身份证.png" in page and "毕业证.pdf" in page

    refused = "仅支持 PDF、JPG、PNG 格式的扫描件（按文件内容判断，而非扩展名）"
    for category, name, content, message in (
        ("achievement", "setup.exe", EXE, refused),
        ("achievement", "论文.pdf", "这不是PDF".encode(), refused),
        ("other", "空白.pdf", b"", "文件是空的，请重新选择"),
        ("current_title", "大图.pdf", b"%PDF-" + bytes(TEN_MB), "单个文件不能超过 10 MB"),
        ("other", "", b"", "请选择要上传的文件"),
    ):
        status, page, _ = await upload(applicant, case_id, category, name, content)
        assert status == 422, name
        assert message in upload_error(page, category), name
        assert upload_error(page, "id_card") == ""  # only beside the upload it is about

    _, page, _ = await applicant.page(f"/my/cases/{case_id}")
    assert "setup.exe" not in page and "论文.pdf" not in page
    remove = page.split(f"/my/cases/{case_id}/scans/", 1)[1].split("/remove", 1)[0]
    status, page, _ = await applicant.submit(f"/my/cases/{case_id}/scans/{remove}/remove", {})
    assert status == 200 and "已删除身份证：身份证.png" in text_of(page)
    assert "身份证.png" not in page.split('id="scans"', 1)[1]


async def test_a_full_section_refuses_the_next_scan_beside_it_and_over_the_api(applicant, case_id):
    _, page, _ = await applicant.page(f"/my/cases/{case_id}")
    scans = text_of(page.split('id="scans"', 1)[1])
    assert "全部扫描件上限 100 个 / 200 MB。" in scans
    assert "尚未上传（选传）；本栏目上限 20 个 / 50 MB" in scans
    for n in range(20):  # the cases service's default: 20 files a section
        status, _, _ = await upload(applicant, case_id, "other", f"第{n}页.png", PNG, False)
        assert status == 303, n

    full = "本栏目最多上传 20 个文件，已上传 20 个"
    status, page, _ = await upload(applicant, case_id, "other", "第21页.png", PNG)
    assert status == 422 and upload_error(page, "other") == full
    assert upload_error(page, "id_card") == ""  # only beside the section it is about
    scans = text_of(page.split('id="scans"', 1)[1])
    assert "已上传 20 个文件，共 2 KB；本栏目上限 20 个 / 50 MB" in scans
    assert "全部扫描件上限 100 个 / 200 MB，已上传 20 个文件，共 2 KB。" in scans
    assert "第21页.png" not in scans

    status, body = await api_upload(applicant, case_id, "other", PNG)
    assert status == 422 and body["error"]["code"] == "scan_limit"
    assert body["error"]["fields"]["file"] == full
    status, _, _ = await upload(applicant, case_id, "id_card", "身份证.png", PNG, False)
    assert status == 303  # another section still has room


async def test_submit_is_refused_with_the_missing_parts_named_then_accepted(applicant, case_id):
    status, page, _ = await applicant.submit(f"/my/cases/{case_id}/submit", {})
    assert status == 422
    problem = text_of(page.split('id="submit-problem"', 1)[1].split("</div>", 1)[0])
    assert "申报材料不完整，缺少：基本信息（" in problem
    assert (
        "工作经历（至少一条）；继续教育（各年度学时）；扫描件（身份证、学历证书、业绩证明）"
        in problem
    )

    await complete(applicant, case_id)
    pledge = {"pledge_version": str(await pledge_version(applicant))}  # the box ticked
    status, page, _ = await applicant.submit(f"/my/cases/{case_id}/submit", pledge)
    text = text_of(page)
    assert status == 200
    assert "已提交单位审核，业务状态：已填报上报-->待单位审核" in text
    history = text_of(page.split('id="history"', 1)[1])
    assert "申报个人" in history and "填报上报" in history and "待填报上报 → 待单位审核" in history
    _, page, _ = await applicant.page("/my/cases")
    assert "已填报上报--&gt;待单位审核" in page


async def test_after_submission_the_materials_are_read_only(applicant, case_id):
    await complete(applicant, case_id)
    pledge = {"pledge_version": str(await pledge_version(applicant))}
    status, _, _ = await applicant.submit(f"/my/cases/{case_id}/submit", pledge)
    assert status == 200

    _, page, _ = await applicant.page(f"/my/cases/{case_id}")
    assert "申报材料已提交，当前不能修改" in page
    assert "/submit" not in page and 'type="file"' not in page and "删除" not in page
    _, page, _ = await applicant.page(f"/my/cases/{case_id}/sections/basic")
    assert "只能查看，不能修改" in page and '<fieldset class="plain" disabled>' in page
    assert ">保存</button>" not in page and "data-autosave" not in page

    changed = BASIC | {"id_number": applicant.person["id_number"], "school": "北京大学"}
    status, page, _ = await save_section(applicant, case_id, "basic", changed)
    assert status == 409
    assert "业务状态为“已填报上报-->待单位审核”，申报材料不能再修改" in text_of(page)
    assert value_of(page, "school") == "北京大学"  # what was typed is still on the page
    status, page, _ = await upload(applicant, case_id, "other", "补充.png", PNG)
    assert status == 409 and "申报材料不能再修改" in text_of(page)
    status, body = await applicant.api(
        "PUT", f"/api/cases/{case_id}/sections/basic", {"school": "北京大学"}
    )
    assert status == 409
    _, page, _ = await applicant.page(f"/my/cases/{case_id}/sections/basic")
    assert value_of(page, "school") == "深圳大学"


async def test_a_returned_case_shows_the_reason_and_can_be_changed_again(unit, applicant, case_id):
    await complete(applicant, case_id)
    pledge = {"pledge_version": str(await pledge_version(applicant))}
    await applicant.submit(f"/my/cases/{case_id}/submit", pledge)
    status, body = await unit["operator"].api(
        "POST", f"/api/cases/{case_id}/actions/reject", {"inputs": {"reason": "缺少继续教育证明"}}
    )
    assert status == 200, body

    _, page, _ = await applicant.page("/my/cases")
    assert "缺少继续教育证明" in page and "单位审核不同意--&gt;待填报上报" in page
    _, page, _ = await applicant.page(f"/my/cases/{case_id}")
    assert "您的申报已被退回：缺少继续教育证明" in text_of(page)
    status, _, _ = await save_section(applicant, case_id, "education", EDUCATION)
    assert status == 303


async def test_an_applicant_cancels_a_draft(applicant, case_id):
    status, page, where = await applicant.submit(
        f"/my/cases/{case_id}/cancel", {"reason": "今年不申报了"}
    )
    assert (status, where) == (200, "/my/cases")
    assert "已取消申报：馆员（2026年度）" in text_of(page) and "业务办结" in page
    _, page, _ = await applicant.page(f"/my/cases/{case_id}")
    assert "今年不申报了" in page and "/cancel" not in page


async def test_an_autosave_after_the_session_ended_is_told_401_not_a_csrf_failure(
    applicant, case_id
):
    token = await applicant.csrf()
    applicant.http.cookie_jar.clear(lambda cookie: cookie.key == "zc_session")
    async with applicant.http.put(
        f"/api/cases/{case_id}/sections/basic",
        json={"school": "深圳大学"},
        headers={"X-CSRF-Token": token},
    ) as response:
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthenticated"


async def test_another_applicant_gets_404_on_every_url_of_the_case(
    gateway, services, unit, applicant, case_id
):
    await upload(applicant, case_id, "id_card", "身份证.png", PNG)
    _, page, _ = await applicant.page(f"/my/cases/{case_id}")
    attachment = page.split(f"/my/cases/{case_id}/scans/", 1)[1].split("/remove", 1)[0]
    others = [
        await signed_in(gateway, services, "applicant", unit_id=unit["unit_id"], name="同事"),
        await signed_in(gateway, services, "applicant", unit_id=await new_unit(services)),
    ]
    base = f"/my/cases/{case_id}"
    try:
        for other in others:
            for path in (base, *(f"{base}/sections/{s}" for s in SECTIONS)):
                status, _, _ = await other.page(path)
                assert status == 404, path
            for path, form in (
                (f"{base}/sections/basic", BASIC),
                (f"{base}/sections/work_history", WORK),
                (f"{base}/scans/{attachment}/remove", {}),
                (f"{base}/submit", {}),
                (f"{base}/cancel", {}),
            ):
                status, _, _ = await other.submit(path, form)
                assert status == 404, path
            status, _, _ = await upload(other, case_id, "other", "x.png", PNG)
            assert status == 404
        status, _, _ = await unit["operator"].page(base)
        assert status == 403  # the unit sees the case on its own pages, not the applicant's
    finally:
        for other in others:
            await other.close()
    _, page, _ = await applicant.page(base)
    assert "身份证.png" in page and "待填报上报" in page  # and nothing changed


SECTIONS = ("basic", "work_history", "achievements", "education")

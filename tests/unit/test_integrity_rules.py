"""The integrity rules as the domain has them (docs/integrity.md): a 失信 bar runs through its
last day and not a day longer, the 诚信承诺 in force must be accepted, and an objection blocks
the step that closes its publicity until it is found, an upheld one failing the publicity."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.cases.domain.errors import InvalidInput
from services.cases.domain.integrity import (
    Bar,
    DeclarationBarred,
    DiscreditTerm,
    PledgeMissing,
    PledgeOutdated,
    add_years,
    barred_until,
    check_not_barred,
    check_pledge,
    check_pledge_text,
    discredit_term,
)
from services.cases.domain.model import (
    Case,
    CaseState,
    ObjectionPending,
    Outcome,
    Publicity,
)
from services.cases.domain.objections import (
    AlreadyFound,
    NotUnderPublicity,
    Objection,
    ObjectionRefused,
    check_details,
    check_finding,
    phase_for_public,
    phase_for_staff,
    source_of,
)
from shared.contracts.cases.integrity import Finding, ObjectionSource, PublicityPhase

S = CaseState
T0 = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shenzhen
PASSED = {"passed": True, "feedback": "公示期间无异议"}
FAILED = {"passed": False, "feedback": "异议经核实成立"}


# --- 失信: the term and the bar ---


def test_a_three_year_term_ends_the_day_before_the_same_day_three_years_on():
    term = DiscreditTerm(date(2026, 5, 10), 3)
    assert term.last_day == date(2029, 5, 9)
    assert term.free_from == date(2029, 5, 10)


def test_a_term_from_29_february_ends_on_the_last_day_of_february():
    assert add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)
    assert DiscreditTerm(date(2024, 2, 29), 3).last_day == date(2027, 2, 27)
    assert DiscreditTerm(date(2024, 2, 29), 4).last_day == date(2028, 2, 28)


def test_a_bar_refuses_through_its_last_day_and_lets_the_next_day_declare():
    term = DiscreditTerm(date(2026, 5, 10), 3)
    bars = [Bar(term.starts_on, term.last_day)]
    with pytest.raises(DeclarationBarred) as refused:
        check_not_barred(bars, date(2029, 5, 9))
    assert "2029年5月9日（含当日）前不能申报职称" in refused.value.message
    assert "2029年5月10日起方可申报" in refused.value.message
    check_not_barred(bars, date(2029, 5, 10))
    assert term.bars(date(2029, 5, 9)) and not term.bars(date(2029, 5, 10))


def test_a_bar_not_begun_yet_refuses_nothing_and_the_longest_running_one_names_the_day():
    bars = [Bar(date(2026, 7, 1), date(2027, 6, 30)), Bar(date(2025, 1, 1), date(2026, 12, 31))]
    assert barred_until(bars, date(2026, 6, 30)) == date(2026, 12, 31)
    assert barred_until(bars, date(2026, 7, 1)) == date(2027, 6, 30)
    assert barred_until([Bar(date(2026, 7, 1), date(2027, 6, 30))], date(2026, 6, 30)) is None


def test_a_term_takes_the_default_years_and_today_and_names_each_wrong_field():
    reason, term = discredit_term("论文造假", "", None, default_years=3, today=date(2026, 6, 1))
    assert (reason, term) == ("论文造假", DiscreditTerm(date(2026, 6, 1), 3))
    with pytest.raises(InvalidInput) as wrong:
        discredit_term(" ", "2026-13-01", 11, default_years=3, today=date(2026, 6, 1))
    assert set(wrong.value.errors) == {"reason", "starts_on", "years"}
    with pytest.raises(InvalidInput) as far:
        discredit_term("x", "2030-01-01", 2, default_years=3, today=date(2026, 6, 1))
    assert set(far.value.errors) == {"starts_on"}


# --- 诚信承诺 ---


def test_the_pledge_in_force_must_be_accepted():
    with pytest.raises(PledgeMissing) as missing:
        check_pledge(None, 2)
    assert set(missing.value.errors) == {"pledge_version"}
    with pytest.raises(PledgeOutdated) as outdated:
        check_pledge(1, 2)
    assert "第 2 版" in outdated.value.message
    check_pledge(2, 2)


def test_a_new_pledge_text_must_differ_from_the_one_in_force():
    assert check_pledge_text(" 新文本 ", "旧文本") == "新文本"
    for text in ("", "旧文本 "):
        with pytest.raises(InvalidInput):
            check_pledge_text(text, "旧文本")


# --- objections in the state machine ---


def objection(seq=1, phase=PublicityPhase.PRE, source=ObjectionSource.UNIT, finding=None):
    return Objection(f"o{seq}", seq, phase, source, T0 - timedelta(days=3), finding)


def in_pre_publicity(*objections) -> Case:
    period = Publicity(date(2026, 6, 1), date(2026, 6, 5))
    return Case("c1", state=S.PRE_PUBLICITY, pre_publicity=period, objections=objections)


def in_post(state=S.POST_PUBLICITY, passed=None, *objections) -> Case:
    period = Publicity(date(2026, 6, 1), date(2026, 6, 5), passed=passed, feedback="无")
    return Case("c2", state=state, post_publicity=period, objections=objections)


def test_an_open_objection_blocks_the_pre_publicity_opinion_naming_it():
    case = in_pre_publicity(objection(1, finding=Finding.DISMISSED), objection(2))
    with pytest.raises(ObjectionPending) as blocked:
        case.act("record_pre_publicity_result", "unit_operator", PASSED, T0)
    assert blocked.value.objection.seq == 2
    assert blocked.value.message.startswith(
        "第2号异议（2026年6月12日单位登记）尚未核实（由单位核实）"
    )
    assert "填写评前公示意见" in blocked.value.message
    assert case.state is S.PRE_PUBLICITY and case.version == 0


def test_an_upheld_objection_fails_the_pre_publicity():
    case = in_pre_publicity(objection(1, finding=Finding.UPHELD))
    with pytest.raises(InvalidInput) as refused:
        case.act("record_pre_publicity_result", "unit_operator", PASSED, T0)
    assert "经核实成立，公示结果只能为“不通过”" in refused.value.errors["passed"]
    case.act("record_pre_publicity_result", "unit_operator", FAILED, T0)
    assert (case.state, case.outcome) == (S.CLOSED, Outcome.PRE_PUBLICITY_FAILED)


def test_dismissed_objections_and_those_of_the_other_publicity_block_nothing():
    case = in_pre_publicity(
        objection(1, finding=Finding.DISMISSED), objection(2, PublicityPhase.POST)
    )
    case.act("record_pre_publicity_result", "unit_operator", PASSED, T0)
    assert case.state is S.DEPT_SUBMIT_READY


def test_an_open_objection_blocks_the_post_publicity_opinion_and_the_confirmation():
    pending = objection(1, PublicityPhase.POST, ObjectionSource.PUBLIC)
    with pytest.raises(ObjectionPending) as opinion:
        in_post(S.POST_PUBLICITY, None, pending).act(
            "record_post_publicity_result", "unit_operator", PASSED, T0
        )
    assert "社会公众提出" in opinion.value.message and "由日常工作部门核实" in opinion.value.message
    with pytest.raises(ObjectionPending) as confirm:
        in_post(S.DEPT_CONFIRM, True, pending).act("confirm", "department", {}, T0)
    assert "确认办结" in confirm.value.message


def test_an_objection_upheld_before_the_confirmation_fails_the_post_publicity():
    upheld = objection(1, PublicityPhase.POST, ObjectionSource.DEPARTMENT, Finding.UPHELD)
    case = in_post(S.DEPT_CONFIRM, True, upheld)
    [event] = case.act("confirm", "department", {}, T0)
    assert (case.state, case.outcome) == (S.CLOSED, Outcome.POST_PUBLICITY_FAILED)
    assert event.reason == "第1号异议（2026年6月12日日常工作部门登记）经核实成立"
    assert event.applicant_notice == "您的评后公示未通过，业务已办结。"


def test_a_post_publicity_passed_without_upheld_objections_is_confirmed_as_passed():
    dismissed = objection(1, PublicityPhase.POST, finding=Finding.DISMISSED)
    case = in_post(S.DEPT_CONFIRM, True, dismissed)
    case.act("confirm", "department", {}, T0)
    assert case.outcome is Outcome.PASSED


# --- taking one in and finding it ---


def test_only_the_unit_and_the_department_take_objections_in_and_only_during_publicity():
    assert source_of("unit_operator") is ObjectionSource.UNIT
    assert source_of("department") is ObjectionSource.DEPARTMENT
    for role in ("applicant", "committee", "office", "sysadmin"):
        with pytest.raises(ObjectionRefused):
            source_of(role)
    assert phase_for_staff(S.DEPT_CONFIRM, "") is PublicityPhase.POST
    with pytest.raises(NotUnderPublicity):
        phase_for_staff(S.DEPT_SUBMIT_READY, "已填写评前公示意见-->待上报日常工作部门")


def test_the_public_objects_only_while_the_post_publicity_period_runs():
    start, end = date(2026, 6, 1), date(2026, 6, 5)
    assert phase_for_public(S.POST_PUBLICITY, start, end, end) is PublicityPhase.POST
    for state, today in ((S.POST_PUBLICITY, date(2026, 6, 6)), (S.DEPT_CONFIRM, start)):
        with pytest.raises(NotUnderPublicity):
            phase_for_public(state, start, end, today)


def test_an_objection_needs_a_real_name_a_way_to_reach_them_and_its_content():
    with pytest.raises(InvalidInput) as missing:
        check_details("", "", " ", contact_field="objector_contact")
    assert set(missing.value.errors) == {"objector_name", "objector_contact", "content"}
    with pytest.raises(InvalidInput) as mobile:
        check_details("李四", "0755-1234", "论文造假", contact_field="mobile")
    assert mobile.value.errors == {"mobile": "手机号码格式不正确"}
    assert (
        check_details(" 李四 ", "13800000000", "x", contact_field="mobile").objector_name == "李四"
    )


def test_whoever_took_it_in_finds_it_once_and_the_public_ones_are_the_departments():
    theirs = objection(1, source=ObjectionSource.UNIT)
    with pytest.raises(ObjectionRefused):
        check_finding(theirs, "department", "upheld", "查实")
    assert check_finding(theirs, "unit_admin", "upheld", "查实") is Finding.UPHELD
    public = objection(2, source=ObjectionSource.PUBLIC)
    with pytest.raises(ObjectionRefused):
        check_finding(public, "unit_operator", "dismissed", "不属实")
    with pytest.raises(InvalidInput) as blank:
        check_finding(public, "department", "", " ")
    assert set(blank.value.errors) == {"finding", "finding_text"}
    with pytest.raises(AlreadyFound):
        check_finding(objection(3, finding=Finding.DISMISSED), "unit_admin", "upheld", "x")

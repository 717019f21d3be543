"""The case state machine, checked against tables written out here by hand from the spec
(docs/domain.md shows the same table as the code has it).

The expected tables below are deliberately independent of services.cases.domain.model: the
parametrized tests walk the model's full (state, action) and (action, role) products and
compare each result with these hand-written expectations.
"""

import copy
from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import product

import pytest

from services.cases.domain.model import (
    ACTION_ROLES,
    APPLICANT_NOTICES,
    BATCH_ACTIONS,
    TRANSITIONS,
    UNIT_HOME_STEPS,
    Action,
    ApproveInput,
    AssessmentResult,
    Case,
    CaseState,
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotAllowed,
    Outcome,
    PublicityNotOver,
    Role,
    RoundRules,
    validate_inputs,
)

S, A, R, O = CaseState, Action, Role, Outcome  # noqa: E741
CHINA = timezone(timedelta(hours=8))
T0 = datetime(2025, 6, 9, 9, 0, tzinfo=CHINA)  # a Monday in a plain week
UNIT = {R.UNIT_ADMIN, R.UNIT_OPERATOR}

# --- DOMAIN.md "States and actions", written out by hand ---

EXPECTED_NEXT = {  # with the inputs of inputs_for() on a case without pre-approval
    (S.DRAFT, A.SUBMIT): S.UNIT_REVIEW,
    (S.DRAFT, A.CANCEL): S.CLOSED,
    (S.UNIT_REVIEW, A.APPROVE): S.PRE_PUBLICITY_READY,
    (S.UNIT_REVIEW, A.REJECT): S.DRAFT,
    (S.PRE_PUBLICITY_READY, A.START_PRE_PUBLICITY): S.PRE_PUBLICITY,
    (S.PRE_PUBLICITY, A.RECORD_PRE_PUBLICITY_RESULT): S.DEPT_SUBMIT_READY,
    (S.DEPT_SUBMIT_READY, A.SUBMIT_TO_DEPARTMENT): S.DEPT_ACCEPTANCE,
    (S.DEPT_ACCEPTANCE, A.ACCEPT): S.FORM_PRINT_READY,
    (S.DEPT_ACCEPTANCE, A.RETURN): S.DEPT_SUBMIT_READY,
    (S.DEPT_ACCEPTANCE, A.REFUSE): S.CLOSED,
    (S.DEPT_ACCEPTANCE, A.WITHDRAW): S.DEPT_SUBMIT_READY,
    (S.OFFICE_APPROVAL, A.GRANT_PRE_APPROVAL): S.FORM_PRINT_READY,
    (S.OFFICE_APPROVAL, A.DENY_PRE_APPROVAL): S.CLOSED,
    (S.FORM_PRINT_READY, A.PRINT_DECLARATION_FORM): S.DEPT_REVIEW,
    (S.DEPT_REVIEW, A.FORWARD_TO_COMMITTEE): S.COMMITTEE_REVIEW,
    (S.DEPT_REVIEW, A.RETURN): S.FORM_PRINT_READY,
    (S.COMMITTEE_REVIEW, A.PASS_REVIEW): S.POST_PUBLICITY_LAUNCH,
    (S.COMMITTEE_REVIEW, A.FAIL_REVIEW): S.CLOSED,
    (S.POST_PUBLICITY_LAUNCH, A.LAUNCH_POST_PUBLICITY): S.POST_PUBLICITY_READY,
    (S.POST_PUBLICITY_READY, A.START_POST_PUBLICITY): S.POST_PUBLICITY,
    (S.POST_PUBLICITY, A.RECORD_POST_PUBLICITY_RESULT): S.DEPT_CONFIRM,
    (S.DEPT_CONFIRM, A.CONFIRM): S.CLOSED,
}

OTHER_TARGETS = {  # where the case or the inputs pick another branch
    (S.PRE_PUBLICITY, A.RECORD_PRE_PUBLICITY_RESULT): {S.CLOSED},
    (S.DEPT_ACCEPTANCE, A.ACCEPT): {S.OFFICE_APPROVAL},
    (S.DEPT_ACCEPTANCE, A.RETURN): {S.DRAFT},
}

EXPECTED_OUTCOME = {  # of the default moves into closed
    (S.DRAFT, A.CANCEL): O.CANCELLED,
    (S.DEPT_ACCEPTANCE, A.REFUSE): O.NOT_ACCEPTED,
    (S.OFFICE_APPROVAL, A.DENY_PRE_APPROVAL): O.PRE_APPROVAL_DENIED,
    (S.COMMITTEE_REVIEW, A.FAIL_REVIEW): O.COMMITTEE_FAILED,
    (S.DEPT_CONFIRM, A.CONFIRM): O.PASSED,
}

EXPECTED_ROLES = {
    A.SUBMIT: {R.APPLICANT},
    A.CANCEL: {R.APPLICANT},
    A.APPROVE: UNIT,
    A.REJECT: UNIT,
    A.START_PRE_PUBLICITY: UNIT,
    A.RECORD_PRE_PUBLICITY_RESULT: UNIT,
    A.SUBMIT_TO_DEPARTMENT: UNIT,
    A.WITHDRAW: UNIT,
    A.ACCEPT: {R.DEPARTMENT},
    A.RETURN: {R.DEPARTMENT},
    A.REFUSE: {R.DEPARTMENT},
    A.GRANT_PRE_APPROVAL: {R.OFFICE},
    A.DENY_PRE_APPROVAL: {R.OFFICE},
    A.PRINT_DECLARATION_FORM: UNIT | {R.APPLICANT},
    A.FORWARD_TO_COMMITTEE: {R.DEPARTMENT},
    A.PASS_REVIEW: {R.COMMITTEE},
    A.FAIL_REVIEW: {R.COMMITTEE},
    A.LAUNCH_POST_PUBLICITY: {R.DEPARTMENT},
    A.START_POST_PUBLICITY: UNIT,
    A.RECORD_POST_PUBLICITY_RESULT: UNIT,
    A.CONFIRM: {R.DEPARTMENT},
}

EXPECTED_BATCH = {
    A.START_PRE_PUBLICITY,
    A.RECORD_PRE_PUBLICITY_RESULT,
    A.SUBMIT_TO_DEPARTMENT,
    A.PASS_REVIEW,
    A.FAIL_REVIEW,
    A.LAUNCH_POST_PUBLICITY,
    A.START_POST_PUBLICITY,
    A.RECORD_POST_PUBLICITY_RESULT,
}

EXPECTED_STEPS = {
    2: S.DRAFT,
    3: S.UNIT_REVIEW,
    4: S.PRE_PUBLICITY_READY,
    5: S.PRE_PUBLICITY,
    6: S.DEPT_SUBMIT_READY,
    7: S.FORM_PRINT_READY,
    8: S.COMMITTEE_REVIEW,
    9: S.POST_PUBLICITY_READY,
    10: S.POST_PUBLICITY,
}

EXPECTED_LABELS = {
    S.DRAFT: "待填报上报",
    S.UNIT_REVIEW: "待单位审核",
    S.PRE_PUBLICITY_READY: "待打印评前公示",
    S.PRE_PUBLICITY: "待填写评前公示意见",
    S.DEPT_SUBMIT_READY: "待上报日常工作部门",
    S.DEPT_ACCEPTANCE: "待日常工作部门预受理",
    S.OFFICE_APPROVAL: "待专技处前置审批",
    S.FORM_PRINT_READY: "待打印评审(申报)表",
    S.DEPT_REVIEW: "待日常工作部门审核",
    S.COMMITTEE_REVIEW: "待评委会评审",
    S.POST_PUBLICITY_LAUNCH: "待日常工作部门发起评后公示",
    S.POST_PUBLICITY_READY: "待打印评后公示材料",
    S.POST_PUBLICITY: "待填写评后公示意见",
    S.DEPT_CONFIRM: "待日常工作部门确认",
    S.CLOSED: "业务办结",
}

EXPECTED_NOTICES = {  # (action, outcome) moves that send the applicant an SMS
    (A.REJECT, None),
    (A.RETURN, None),
    (A.ACCEPT, None),
    (A.REFUSE, O.NOT_ACCEPTED),
    (A.GRANT_PRE_APPROVAL, None),
    (A.DENY_PRE_APPROVAL, O.PRE_APPROVAL_DENIED),
    (A.RECORD_PRE_PUBLICITY_RESULT, O.PRE_PUBLICITY_FAILED),
    (A.PASS_REVIEW, None),
    (A.FAIL_REVIEW, O.COMMITTEE_FAILED),
    (A.CONFIRM, O.PASSED),
    (A.CONFIRM, O.POST_PUBLICITY_FAILED),
}

# the road every case takes when nothing goes wrong: state -> the action that leaves it
HAPPY_PATH = {
    S.DRAFT: A.SUBMIT,
    S.UNIT_REVIEW: A.APPROVE,
    S.PRE_PUBLICITY_READY: A.START_PRE_PUBLICITY,
    S.PRE_PUBLICITY: A.RECORD_PRE_PUBLICITY_RESULT,
    S.DEPT_SUBMIT_READY: A.SUBMIT_TO_DEPARTMENT,
    S.DEPT_ACCEPTANCE: A.ACCEPT,
    S.OFFICE_APPROVAL: A.GRANT_PRE_APPROVAL,
    S.FORM_PRINT_READY: A.PRINT_DECLARATION_FORM,
    S.DEPT_REVIEW: A.FORWARD_TO_COMMITTEE,
    S.COMMITTEE_REVIEW: A.PASS_REVIEW,
    S.POST_PUBLICITY_LAUNCH: A.LAUNCH_POST_PUBLICITY,
    S.POST_PUBLICITY_READY: A.START_POST_PUBLICITY,
    S.POST_PUBLICITY: A.RECORD_POST_PUBLICITY_RESULT,
    S.DEPT_CONFIRM: A.CONFIRM,
}


# --- helpers ---


def approve_form(**overrides):
    form = {
        "annual_assessments": {year: "合格" for year in range(2020, 2025)},
        "evaluation": "该同志工作认真负责，业绩突出。",
        "continuing_education_opinion": "继续教育学时已达要求",
    }
    return form | overrides


def inputs_for(state, action):
    if action is A.APPROVE:
        return approve_form()
    if action in (A.REJECT, A.REFUSE, A.DENY_PRE_APPROVAL):
        return {"reason": "材料不全"}
    if action is A.RETURN:
        target = {"target": "dept_submit_ready"} if state is S.DEPT_ACCEPTANCE else {}
        return {"reason": "材料不全"} | target
    if action in (A.RECORD_PRE_PUBLICITY_RESULT, A.RECORD_POST_PUBLICITY_RESULT):
        return {"passed": True, "feedback": "公示期间无异议"}
    return {}


def a_role(action):
    return (
        R.UNIT_OPERATOR
        if R.UNIT_OPERATOR in EXPECTED_ROLES[action]
        else min(EXPECTED_ROLES[action])
    )


def ready_at(case, clock):
    """The next moment after `clock` at which the case's next action is not too early."""
    period = {S.PRE_PUBLICITY: case.pre_publicity, S.POST_PUBLICITY: case.post_publicity}.get(
        case.state
    )
    if period is None:
        return clock + timedelta(hours=1)
    return max(clock, datetime.combine(period.end + timedelta(days=1), time(9), CHINA))


def drive_to(target, *, needs_pre_approval=None):
    """A fresh case brought to `target` along the happy path; returns it and the clock."""
    if needs_pre_approval is None:
        needs_pre_approval = target is S.OFFICE_APPROVAL
    case, clock = Case(id="c-1", needs_pre_approval=needs_pre_approval), T0
    if target is S.CLOSED:
        case.act(A.CANCEL, R.APPLICANT, {}, clock)
        return case, clock
    while case.state is not target:
        action = HAPPY_PATH[case.state]
        clock = ready_at(case, clock)
        case.act(action, a_role(action), inputs_for(case.state, action), clock)
    return case, clock


def act(case, clock, action, inputs=None, role=None, **kwargs):
    inputs = inputs_for(case.state, action) if inputs is None else inputs
    return case.act(action, role or a_role(action), inputs, ready_at(case, clock), **kwargs)


def refused(case, error_type, action, role, inputs, now):
    before = copy.deepcopy(case)
    with pytest.raises(error_type) as caught:
        case.act(action, role, inputs, now)
    assert case == before
    return caught.value


def invalid(state, action, inputs, **kwargs):
    case, clock = drive_to(state)
    before = copy.deepcopy(case)
    with pytest.raises(InvalidInput) as caught:
        act(case, clock, action, inputs, **kwargs)
    assert case == before
    return caught.value.errors


# --- the model's tables are DOMAIN.md's ---


def test_transition_table_matches_domain_md():
    model = {
        (s, a): targets for s, actions in TRANSITIONS.items() for a, targets in actions.items()
    }
    assert set(model) == set(EXPECTED_NEXT)
    for key, targets in model.items():
        assert targets == {EXPECTED_NEXT[key]} | OTHER_TARGETS.get(key, set()), key
    assert set(TRANSITIONS) == set(S)


def test_role_table_matches_domain_md():
    assert {a: set(roles) for a, roles in ACTION_ROLES.items()} == EXPECTED_ROLES


def test_sysadmin_has_no_case_action():
    assert all(R.SYSADMIN not in roles for roles in ACTION_ROLES.values())


def test_batch_actions_are_the_ones_domain_md_marks_batch():
    assert BATCH_ACTIONS == EXPECTED_BATCH


def test_unit_home_steps():
    assert dict(UNIT_HOME_STEPS) == EXPECTED_STEPS
    assert {s: s.step for s in S if s.step} == {s: n for n, s in EXPECTED_STEPS.items()}


def test_state_labels():
    assert {s: s.label for s in S} == EXPECTED_LABELS


def test_applicant_notices_cover_exactly_the_moves_that_concern_the_applicant():
    assert set(APPLICANT_NOTICES) == EXPECTED_NOTICES
    assert all(text.strip() for text in APPLICANT_NOTICES.values())


EXPECTED_EVENT_NAMES = {
    A.SUBMIT: "CaseSubmitted",
    A.CANCEL: "CaseCancelled",
    A.APPROVE: "CaseApproved",
    A.REJECT: "CaseRejected",
    A.START_PRE_PUBLICITY: "PrePublicityStarted",
    A.RECORD_PRE_PUBLICITY_RESULT: "PrePublicityResultRecorded",
    A.SUBMIT_TO_DEPARTMENT: "CaseSubmittedToDepartment",
    A.WITHDRAW: "CaseWithdrawn",
    A.ACCEPT: "CaseAccepted",
    A.RETURN: "CaseReturned",
    A.REFUSE: "CaseRefused",
    A.GRANT_PRE_APPROVAL: "PreApprovalGranted",
    A.DENY_PRE_APPROVAL: "PreApprovalDenied",
    A.PRINT_DECLARATION_FORM: "DeclarationFormPrinted",
    A.FORWARD_TO_COMMITTEE: "CaseForwardedToCommittee",
    A.PASS_REVIEW: "ReviewPassed",
    A.FAIL_REVIEW: "ReviewFailed",
    A.LAUNCH_POST_PUBLICITY: "PostPublicityLaunched",
    A.START_POST_PUBLICITY: "PostPublicityStarted",
    A.RECORD_POST_PUBLICITY_RESULT: "PostPublicityResultRecorded",
    A.CONFIRM: "CaseConfirmed",
}


def test_every_action_has_its_past_tense_event_name():
    assert {a: a.event for a in A} == EXPECTED_EVENT_NAMES


def test_every_action_has_a_button_and_a_past_tense_label():
    assert all(a.verb and a.done and a.verb != a.done for a in A)


# --- every (state, action) pair ---


@pytest.mark.parametrize(("state", "action"), list(product(S, A)), ids=lambda x: x.value)
def test_every_action_in_every_state(state, action):
    case, clock = drive_to(state)
    role = a_role(action)
    if (state, action) not in EXPECTED_NEXT:
        error = refused(
            case, IllegalTransition, action, role, inputs_for(state, action), ready_at(case, clock)
        )
        assert (error.state, error.action, error.role) == (state, action, role)
        assert state.label in error.message and action.verb in error.message
        return

    version = case.version
    [event] = act(case, clock, action)
    assert case.state is EXPECTED_NEXT[state, action]
    assert case.outcome is EXPECTED_OUTCOME.get((state, action))
    assert case.version == version + 1
    assert (event.from_state, event.to_state, event.action) == (state, case.state, action)
    assert event.version == case.version
    assert event.name == EXPECTED_EVENT_NAMES[action]
    assert event.notifies_applicant == ((action, case.outcome) in EXPECTED_NOTICES)


# --- every (action, role) pair, in a state where the action applies ---

SOURCE_STATE = {action: state for (state, action) in reversed(list(EXPECTED_NEXT))}


@pytest.mark.parametrize(("action", "role"), list(product(A, R)), ids=lambda x: x.value)
def test_only_the_listed_roles_may_act(action, role):
    case, clock = drive_to(SOURCE_STATE[action])
    if role in EXPECTED_ROLES[action]:
        act(case, clock, action, role=role)
        assert case.state is EXPECTED_NEXT[SOURCE_STATE[action], action]
        return
    error = refused(
        case, NotAllowed, action, role, inputs_for(case.state, action), ready_at(case, clock)
    )
    assert (error.action, error.role) == (action, role)
    assert role.label in error.message and action.verb in error.message


@pytest.mark.parametrize("action", list(A), ids=lambda x: x.value)
def test_a_wrong_role_is_refused_before_the_state_is_looked_at(action):
    wrong = next(r for r in R if r not in EXPECTED_ROLES[action])
    case, clock = drive_to(S.CLOSED)
    refused(case, NotAllowed, action, wrong, {}, clock)


def test_errors_share_one_base():
    assert issubclass(IllegalTransition, DomainError)
    assert issubclass(NotAllowed, DomainError)
    assert issubclass(InvalidInput, DomainError)
    assert issubclass(PublicityNotOver, IllegalTransition)


# --- branches ---


def test_accept_sends_a_case_needing_pre_approval_to_the_office():
    case, clock = drive_to(S.DEPT_ACCEPTANCE, needs_pre_approval=True)
    act(case, clock, A.ACCEPT)
    assert case.state is S.OFFICE_APPROVAL
    assert case.status_label == "日常工作部门预受理通过-->待专技处前置审批"


def test_accept_sends_a_case_without_pre_approval_to_form_printing():
    case, clock = drive_to(S.DEPT_ACCEPTANCE, needs_pre_approval=False)
    act(case, clock, A.ACCEPT)
    assert case.status_label == "日常工作部门预受理通过-->待打印评审(申报)表"


def test_failed_pre_publicity_closes_the_case_with_the_feedback_as_reason():
    case, clock = drive_to(S.PRE_PUBLICITY)
    [event] = act(
        case,
        clock,
        A.RECORD_PRE_PUBLICITY_RESULT,
        {"passed": False, "feedback": "收到实名举报，经核实属实"},
    )
    assert (case.state, case.outcome) == (S.CLOSED, O.PRE_PUBLICITY_FAILED)
    assert case.last_reason == "收到实名举报，经核实属实"
    assert case.pre_publicity.passed is False
    assert event.notifies_applicant


def test_confirm_closes_as_passed_after_a_passed_post_publicity():
    case, clock = drive_to(S.DEPT_CONFIRM)
    [event] = act(case, clock, A.CONFIRM)
    assert (case.state, case.outcome) == (S.CLOSED, O.PASSED)
    assert event.applicant_notice == APPLICANT_NOTICES[A.CONFIRM, O.PASSED]


def test_confirm_closes_as_failed_after_a_failed_post_publicity():
    case, clock = drive_to(S.POST_PUBLICITY)
    [event] = act(
        case, clock, A.RECORD_POST_PUBLICITY_RESULT, {"passed": False, "feedback": "有异议"}
    )
    assert case.state is S.DEPT_CONFIRM and case.last_reason == "有异议"
    assert not event.notifies_applicant
    act(case, event.at, A.CONFIRM)
    assert (case.state, case.outcome) == (S.CLOSED, O.POST_PUBLICITY_FAILED)
    assert case.last_reason == "有异议"


@pytest.mark.parametrize(
    ("state", "action", "outcome"),
    [
        (S.DRAFT, A.CANCEL, O.CANCELLED),
        (S.DEPT_ACCEPTANCE, A.REFUSE, O.NOT_ACCEPTED),
        (S.OFFICE_APPROVAL, A.DENY_PRE_APPROVAL, O.PRE_APPROVAL_DENIED),
        (S.COMMITTEE_REVIEW, A.FAIL_REVIEW, O.COMMITTEE_FAILED),
    ],
)
def test_closing_actions_record_their_outcome_and_reason(state, action, outcome):
    case, clock = drive_to(state)
    act(case, clock, action, {"reason": "不符合申报条件"})
    assert (case.state, case.outcome) == (S.CLOSED, outcome)
    assert case.last_reason == "不符合申报条件"
    assert case.status_label == f"{action.done}-->业务办结"


def test_department_may_return_a_case_to_the_applicant():
    case, clock = drive_to(S.DEPT_ACCEPTANCE)
    act(case, clock, A.RETURN, {"reason": "学历证书不清晰", "target": "draft"})
    assert case.state is S.DRAFT
    assert case.last_reason == "学历证书不清晰"
    # back to the applicant means approval and publicity start over
    assert case.unit_approval is None and case.pre_publicity is None


def test_department_may_return_a_case_to_the_unit():
    case, clock = drive_to(S.DEPT_ACCEPTANCE)
    act(case, clock, A.RETURN, {"reason": "请补盖公章", "target": "dept_submit_ready"})
    assert case.state is S.DEPT_SUBMIT_READY
    assert case.unit_approval is not None and case.pre_publicity is not None
    assert case.status_label == "日常工作部门退回-->待上报日常工作部门"


def test_return_in_review_goes_back_to_form_printing():
    case, clock = drive_to(S.DEPT_REVIEW)
    act(case, clock, A.RETURN, {"reason": "评审表缺单位意见", "target": "form_print_ready"})
    assert case.state is S.FORM_PRINT_READY


def test_unit_may_withdraw_before_acceptance():
    case, clock = drive_to(S.DEPT_ACCEPTANCE)
    act(case, clock, A.WITHDRAW, role=R.UNIT_ADMIN)
    assert case.status_label == "单位撤回上报-->待上报日常工作部门"
    assert case.last_reason is None


def test_unit_may_not_withdraw_once_accepted():
    case, clock = drive_to(S.DEPT_ACCEPTANCE)
    act(case, clock, A.ACCEPT)
    refused(case, IllegalTransition, A.WITHDRAW, R.UNIT_ADMIN, {}, ready_at(case, clock))


def test_rejected_case_can_be_resubmitted_and_approved_again():
    case, clock = drive_to(S.UNIT_REVIEW)
    act(case, clock, A.REJECT, {"reason": "请补充论文"})
    assert case.status_label == "单位审核不同意-->待填报上报"
    assert case.last_reason == "请补充论文"
    act(case, clock, A.SUBMIT)
    assert case.last_reason is None
    act(case, clock, A.APPROVE)
    assert case.state is S.PRE_PUBLICITY_READY


def test_printing_the_form_records_when():
    case, clock = drive_to(S.FORM_PRINT_READY)
    [event] = act(case, clock, A.PRINT_DECLARATION_FORM, role=R.APPLICANT)
    assert case.form_printed_at == event.at


# --- status labels as the manual shows them ---


@pytest.mark.parametrize(
    ("state", "label"),
    [
        (S.DRAFT, "待填报上报"),
        (S.UNIT_REVIEW, "已填报上报-->待单位审核"),
        (S.PRE_PUBLICITY_READY, "单位审核同意-->待打印评前公示"),
        (S.PRE_PUBLICITY, "打印评前公示完成-->待填写评前公示意见"),
        (S.DEPT_SUBMIT_READY, "已填写评前公示意见-->待上报日常工作部门"),
        (S.DEPT_ACCEPTANCE, "已上报日常工作部门-->待日常工作部门预受理"),
        (S.FORM_PRINT_READY, "前置审批通过-->待打印评审(申报)表"),
        (S.DEPT_REVIEW, "已打印评审(申报)表-->待日常工作部门审核"),
        (S.COMMITTEE_REVIEW, "日常工作部门审核通过-->待评委会评审"),
        (S.POST_PUBLICITY_LAUNCH, "评委会评审通过-->待日常工作部门发起评后公示"),
        (S.POST_PUBLICITY_READY, "已发起评后公示-->待打印评后公示材料"),
        (S.POST_PUBLICITY, "打印评后公示完成-->待填写评后公示意见"),
        (S.DEPT_CONFIRM, "已填写评后公示意见-->待日常工作部门确认"),
        (S.CLOSED, "已取消申报-->业务办结"),
    ],
)
def test_status_label_reads_like_the_manual(state, label):
    case, _ = drive_to(state, needs_pre_approval=True)
    assert case.status_label == label


# --- versions, events, history ---


def test_each_action_bumps_the_version_by_one():
    case, clock = drive_to(S.DEPT_CONFIRM)
    assert case.version == 12  # the happy path without office approval
    act(case, clock, A.CONFIRM)
    assert case.version == 13


def test_event_carries_what_the_history_needs():
    case, clock = drive_to(S.UNIT_REVIEW)
    now = datetime(2025, 6, 10, 10, 30, tzinfo=CHINA)
    [event] = case.act(A.REJECT, R.UNIT_ADMIN, {"reason": " 请补充论文 "}, now, actor_id="u-42")
    assert event.name == "CaseRejected"
    assert event.case_id == "c-1"
    assert (event.actor_role, event.actor_id) == (R.UNIT_ADMIN, "u-42")
    assert (event.from_state, event.to_state, event.outcome) == (S.UNIT_REVIEW, S.DRAFT, None)
    assert event.reason == "请补充论文"
    assert event.inputs == {"reason": "请补充论文"}
    assert event.at == now
    assert event.version == 2
    assert event.status_label == "单位审核不同意-->待填报上报"
    assert event.applicant_notice == APPLICANT_NOTICES[A.REJECT, None]


def test_approval_event_records_the_form():
    case, clock = drive_to(S.UNIT_REVIEW)
    [event] = act(case, clock, A.APPROVE)
    assert event.inputs["negative_situation"] == "无负面情况"
    assert event.inputs["annual_assessments"] == {str(y): "合格" for y in range(2020, 2025)}
    assert case.unit_approval.annual_assessments[2024] is AssessmentResult.COMPETENT


def test_start_publicity_event_records_the_computed_period():
    case, _ = drive_to(S.PRE_PUBLICITY_READY)
    now = datetime(2025, 9, 26, 9, 0, tzinfo=CHINA)
    [event] = case.act(A.START_PRE_PUBLICITY, R.UNIT_OPERATOR, {}, now)
    assert event.name == "PrePublicityStarted"
    assert event.inputs["period"] == {"start": "2025-09-26", "end": "2025-10-09", "working_days": 5}
    assert (case.pre_publicity.start, case.pre_publicity.end) == (
        date(2025, 9, 26),
        date(2025, 10, 9),
    )


def test_actions_and_roles_may_be_given_as_strings():
    case = Case(id="c-1")
    [event] = case.act("submit", "applicant", None, T0)
    assert event.action is A.SUBMIT and event.actor_role is R.APPLICANT


def test_a_naive_now_is_a_programming_error():
    case = Case(id="c-1")
    with pytest.raises(ValueError):
        case.act(A.SUBMIT, R.APPLICANT, {}, datetime(2025, 6, 2, 9, 0))
    assert case.version == 0


def test_available_actions_per_role():
    case, _ = drive_to(S.DEPT_ACCEPTANCE)
    assert set(case.available_actions(R.DEPARTMENT)) == {A.ACCEPT, A.RETURN, A.REFUSE}
    assert case.available_actions(R.UNIT_OPERATOR) == [A.WITHDRAW]
    assert case.available_actions(R.APPLICANT) == []
    assert drive_to(S.CLOSED)[0].available_actions(R.DEPARTMENT) == []


# --- publicity: the result only after the end date ---

PUBLICITIES = [
    (S.PRE_PUBLICITY, A.RECORD_PRE_PUBLICITY_RESULT, "pre_publicity"),
    (S.POST_PUBLICITY, A.RECORD_POST_PUBLICITY_RESULT, "post_publicity"),
]


def started(state, field):
    case, clock = drive_to(state)
    return case, getattr(case, field)


@pytest.mark.parametrize(("state", "action", "field"), PUBLICITIES)
@pytest.mark.parametrize(
    "moment",
    [
        lambda p: datetime.combine(p.start, time(9), CHINA),
        lambda p: datetime.combine(p.end - timedelta(days=1), time(9), CHINA),
        lambda p: datetime.combine(p.end, time(0), CHINA),
        lambda p: datetime.combine(p.end, time(23, 59, 59), CHINA),
        lambda p: datetime.combine(p.end, time(15, 59), UTC),  # 23:59 in China
    ],
    ids=["first day", "day before end", "end 00:00", "end 23:59:59", "end 23:59 CST as UTC"],
)
def test_publicity_result_is_refused_until_the_end_date_is_over(state, action, field, moment):
    case, period = started(state, field)
    error = refused(
        case, PublicityNotOver, action, R.UNIT_OPERATOR, inputs_for(state, action), moment(period)
    )
    assert error.end == period.end
    assert f"{period.end.month}月{period.end.day}日" in error.message
    assert isinstance(error, IllegalTransition) and error.state is state


@pytest.mark.parametrize(("state", "action", "field"), PUBLICITIES)
@pytest.mark.parametrize(
    "moment",
    [
        lambda p: datetime.combine(p.end + timedelta(days=1), time(0), CHINA),
        lambda p: datetime.combine(p.end, time(16, 0), UTC),  # 00:00 next day in China
        lambda p: datetime.combine(p.end + timedelta(days=30), time(9), CHINA),
    ],
    ids=["next day 00:00", "next day 00:00 CST as UTC", "a month later"],
)
def test_publicity_result_is_allowed_from_the_day_after_the_end_date(state, action, field, moment):
    case, period = started(state, field)
    case.act(action, R.UNIT_OPERATOR, inputs_for(state, action), moment(period))
    assert getattr(case, field).passed is True
    assert getattr(case, field).feedback == "公示期间无异议"


def test_publicity_length_comes_from_the_round_rules():
    case, _ = drive_to(S.PRE_PUBLICITY_READY)
    rules = RoundRules(pre_publicity_working_days=7)
    case.act(A.START_PRE_PUBLICITY, R.UNIT_OPERATOR, {}, T0, rules=rules)
    assert (case.pre_publicity.start, case.pre_publicity.end) == (
        date(2025, 6, 9),
        date(2025, 6, 17),
    )


def test_post_publicity_length_comes_from_the_round_rules():
    case, clock = drive_to(S.POST_PUBLICITY_READY)
    now = datetime(2025, 9, 29, 9, 0, tzinfo=CHINA)  # Monday before 国庆
    case.act(
        A.START_POST_PUBLICITY,
        R.UNIT_OPERATOR,
        {},
        now,
        rules=RoundRules(post_publicity_working_days=3),
    )
    assert (case.post_publicity.start, case.post_publicity.end) == (
        date(2025, 9, 29),
        date(2025, 10, 9),
    )


def test_publicity_may_be_set_to_start_later_and_a_holiday_start_moves_on():
    case, _ = drive_to(S.PRE_PUBLICITY_READY)
    now = datetime(2025, 9, 26, 9, 0, tzinfo=CHINA)
    case.act(
        A.START_PRE_PUBLICITY,
        R.UNIT_OPERATOR,
        {"start": "2025-10-01", "method": "单位公示栏张贴", "contact": "0755-12345678"},
        now,
    )
    assert case.pre_publicity.start == date(2025, 10, 9)
    assert case.pre_publicity.end == date(2025, 10, 14)
    assert (case.pre_publicity.method, case.pre_publicity.contact) == (
        "单位公示栏张贴",
        "0755-12345678",
    )


def test_publicity_may_not_start_in_the_past():
    errors = invalid(S.PRE_PUBLICITY_READY, A.START_PRE_PUBLICITY, {"start": "2025-01-02"})
    assert errors == {"start": "公示开始日期不能早于今天"}


def test_publicity_start_must_be_a_date():
    errors = invalid(S.POST_PUBLICITY_READY, A.START_POST_PUBLICITY, {"start": "下周一"})
    assert errors == {"start": "公示开始日期不是有效日期"}


# --- input rules ---


def test_approval_defaults_to_no_negative_situation():
    case, clock = drive_to(S.UNIT_REVIEW)
    act(case, clock, A.APPROVE, approve_form())
    assert case.unit_approval.negative_situation == "无负面情况"


def test_blank_negative_situation_means_none():
    case, clock = drive_to(S.UNIT_REVIEW)
    act(case, clock, A.APPROVE, approve_form(negative_situation="   "))
    assert case.unit_approval.negative_situation == "无负面情况"


def test_negative_situation_is_kept_when_given():
    case, clock = drive_to(S.UNIT_REVIEW)
    act(case, clock, A.APPROVE, approve_form(negative_situation="2023年受警告处分一次"))
    assert case.unit_approval.negative_situation == "2023年受警告处分一次"


@pytest.mark.parametrize("result", ["优秀", "合格", "基本合格", "不合格", "未考核"])
def test_each_annual_assessment_result_is_accepted(result):
    case, clock = drive_to(S.UNIT_REVIEW)
    form = approve_form(annual_assessments={str(y): result for y in range(2020, 2025)})
    act(case, clock, A.APPROVE, form)
    assert set(case.unit_approval.annual_assessments.values()) == {AssessmentResult(result)}


@pytest.mark.parametrize(
    "years",
    [range(2021, 2025), range(2020, 2026), range(2019, 2024), range(2021, 2026), []],
    ids=["four", "six", "too old", "includes this year", "none"],
)
def test_annual_assessments_must_be_the_last_five_years(years):
    form = approve_form(annual_assessments={y: "合格" for y in years})
    errors = invalid(S.UNIT_REVIEW, A.APPROVE, form)
    assert errors == {"annual_assessments": "请填写2020—2024年每年的年度考核结果"}


def test_annual_assessment_must_be_one_of_the_five_results():
    assessments = {y: "合格" for y in range(2020, 2024)} | {2024: "良好"}
    errors = invalid(S.UNIT_REVIEW, A.APPROVE, approve_form(annual_assessments=assessments))
    assert errors == {
        "annual_assessments.2024": "年度考核结果只能是：优秀、合格、基本合格、不合格、未考核"
    }


def test_annual_assessments_are_required():
    form = approve_form()
    del form["annual_assessments"]
    assert invalid(S.UNIT_REVIEW, A.APPROVE, form) == {"annual_assessments": "请填写年度考核结果"}


def test_evaluation_may_have_200_characters():
    case, clock = drive_to(S.UNIT_REVIEW)
    act(case, clock, A.APPROVE, approve_form(evaluation="好" * 200))
    assert len(case.unit_approval.evaluation) == 200


def test_evaluation_may_not_have_201_characters():
    errors = invalid(S.UNIT_REVIEW, A.APPROVE, approve_form(evaluation="好" * 201))
    assert errors == {"evaluation": "单位综合评价意见不能超过200字（现201字）"}


def test_evaluation_limit_comes_from_the_round_rules():
    rules = RoundRules(evaluation_max_length=150)
    errors = invalid(S.UNIT_REVIEW, A.APPROVE, approve_form(evaluation="好" * 151), rules=rules)
    assert errors == {"evaluation": "单位综合评价意见不能超过150字（现151字）"}
    case, clock = drive_to(S.UNIT_REVIEW)
    act(case, clock, A.APPROVE, approve_form(evaluation="好" * 150), rules=rules)


def test_evaluation_length_ignores_surrounding_spaces():
    case, clock = drive_to(S.UNIT_REVIEW)
    act(case, clock, A.APPROVE, approve_form(evaluation="  " + "好" * 200 + "\n"))
    assert case.unit_approval.evaluation == "好" * 200


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("evaluation", "请填写单位综合评价意见"),
        ("continuing_education_opinion", "请填写继续教育单位意见"),
    ],
)
@pytest.mark.parametrize("value", [None, "", "  "], ids=["missing", "empty", "blank"])
def test_approval_texts_are_required(field, message, value):
    form = approve_form()
    if value is None:
        del form[field]
    else:
        form[field] = value
    assert invalid(S.UNIT_REVIEW, A.APPROVE, form) == {field: message}


def test_all_approval_errors_are_reported_at_once():
    form = {"annual_assessments": {2024: "合格"}, "evaluation": ""}
    errors = invalid(S.UNIT_REVIEW, A.APPROVE, form)
    assert set(errors) == {"annual_assessments", "evaluation", "continuing_education_opinion"}


REASON_REQUIRED = [
    (S.UNIT_REVIEW, A.REJECT),
    (S.DEPT_ACCEPTANCE, A.RETURN),
    (S.DEPT_REVIEW, A.RETURN),
    (S.DEPT_ACCEPTANCE, A.REFUSE),
    (S.OFFICE_APPROVAL, A.DENY_PRE_APPROVAL),
]


@pytest.mark.parametrize(("state", "action"), REASON_REQUIRED)
@pytest.mark.parametrize("reason", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_a_reason_is_required(state, action, reason):
    inputs = inputs_for(state, action)
    if reason is None:
        del inputs["reason"]
    else:
        inputs["reason"] = reason
    assert invalid(state, action, inputs) == {"reason": "请填写原因"}


@pytest.mark.parametrize(
    ("state", "action"),
    [(S.DRAFT, A.CANCEL), (S.DEPT_ACCEPTANCE, A.WITHDRAW), (S.COMMITTEE_REVIEW, A.FAIL_REVIEW)],
)
def test_a_reason_is_optional_and_blank_means_none(state, action):
    case, clock = drive_to(state)
    act(case, clock, action, {"reason": "  "})
    assert case.last_reason is None


@pytest.mark.parametrize(
    ("state", "target"),
    [
        (S.DEPT_ACCEPTANCE, None),
        (S.DEPT_ACCEPTANCE, "form_print_ready"),
        (S.DEPT_REVIEW, "draft"),
        (S.DEPT_REVIEW, "dept_submit_ready"),
    ],
)
def test_return_target_must_be_one_the_state_allows(state, target):
    inputs = {"reason": "材料不全"} | ({"target": target} if target else {})
    errors = invalid(state, A.RETURN, inputs)
    assert set(errors) == {"target"} and errors["target"].startswith("请选择退回对象")


def test_return_target_must_be_a_state():
    errors = invalid(S.DEPT_ACCEPTANCE, A.RETURN, {"reason": "材料不全", "target": "nowhere"})
    assert set(errors) == {"target"}


@pytest.mark.parametrize(("state", "action", "field"), PUBLICITIES)
@pytest.mark.parametrize(
    ("inputs", "errors"),
    [
        ({"feedback": "无异议"}, {"passed": "请填写公示结果"}),
        ({"passed": "也许", "feedback": "无异议"}, {"passed": "请选择公示结果"}),
        ({"passed": True}, {"feedback": "请填写公示反馈情况"}),
        ({"passed": True, "feedback": " "}, {"feedback": "请填写公示反馈情况"}),
    ],
)
def test_publicity_result_needs_a_result_and_feedback(state, action, field, inputs, errors):
    assert invalid(state, action, inputs) == errors


def test_inputs_are_checked_after_the_state():
    case, clock = drive_to(S.DRAFT)
    refused(case, IllegalTransition, A.APPROVE, R.UNIT_ADMIN, {}, clock)


def test_validate_inputs_accepts_a_model_instance():
    form = ApproveInput.model_validate(approve_form())
    parsed = validate_inputs(A.APPROVE, form, today=date(2025, 6, 2), rules=RoundRules())
    assert parsed == form

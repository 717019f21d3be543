"""The case workflow's vocabulary: states, actions, outcomes, who may take which action, and
the "States and actions" table. Pure: no I/O.

The cases service's state machine (services/cases/domain/model.py) runs on these tables; its
callers use them to show labels, buttons and forms. What an action does to a case, and the
checks on its inputs beyond their shape, are the service's own.
"""

from collections.abc import Mapping
from enum import StrEnum

from shared.contracts.accounts.vocabulary import Role

ARROW = "-->"  # the manual's later screens: "单位审核同意-->待打印评前公示"


class CaseState(StrEnum):
    label: str  # what the case awaits, as the 业务状态 column shows it
    step: int | None  # its step on the unit home page's ten-step flow, if any

    def __new__(cls, value: str, label: str, step: int | None = None) -> "CaseState":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.step = step
        return member

    DRAFT = "draft", "待填报上报", 2
    UNIT_REVIEW = "unit_review", "待单位审核", 3
    PRE_PUBLICITY_READY = "pre_publicity_ready", "待打印评前公示", 4
    PRE_PUBLICITY = "pre_publicity", "待填写评前公示意见", 5
    DEPT_SUBMIT_READY = "dept_submit_ready", "待上报日常工作部门", 6
    DEPT_ACCEPTANCE = "dept_acceptance", "待日常工作部门预受理"
    OFFICE_APPROVAL = "office_approval", "待专技处前置审批"
    FORM_PRINT_READY = "form_print_ready", "待打印评审(申报)表", 7
    DEPT_REVIEW = "dept_review", "待日常工作部门审核"
    COMMITTEE_REVIEW = "committee_review", "待评委会评审", 8
    POST_PUBLICITY_LAUNCH = "post_publicity_launch", "待日常工作部门发起评后公示"
    POST_PUBLICITY_READY = "post_publicity_ready", "待打印评后公示材料", 9
    POST_PUBLICITY = "post_publicity", "待填写评后公示意见", 10
    DEPT_CONFIRM = "dept_confirm", "待日常工作部门确认"
    CLOSED = "closed", "业务办结"


class Outcome(StrEnum):
    label: str

    def __new__(cls, value: str, label: str) -> "Outcome":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    PASSED = "passed", "评审通过"
    CANCELLED = "cancelled", "申报人取消申报"
    PRE_PUBLICITY_FAILED = "pre_publicity_failed", "评前公示不通过"
    NOT_ACCEPTED = "not_accepted", "日常工作部门不予受理"
    PRE_APPROVAL_DENIED = "pre_approval_denied", "前置审批不通过"
    COMMITTEE_FAILED = "committee_failed", "评委会评审未通过"
    POST_PUBLICITY_FAILED = "post_publicity_failed", "评后公示不通过"


class Action(StrEnum):
    verb: str  # the button, imperative: "审核同意"
    done: str  # past tense, the first half of the 业务状态: "单位审核同意"
    event: str  # the event's name: "CaseApproved"

    def __new__(cls, value: str, verb: str, done: str, event: str) -> "Action":
        member = str.__new__(cls, value)
        member._value_ = value
        member.verb = verb
        member.done = done
        member.event = event
        return member

    SUBMIT = "submit", "填报上报", "已填报上报", "CaseSubmitted"
    CANCEL = "cancel", "取消申报", "已取消申报", "CaseCancelled"
    APPROVE = "approve", "审核同意", "单位审核同意", "CaseApproved"
    REJECT = "reject", "审核不同意", "单位审核不同意", "CaseRejected"
    START_PRE_PUBLICITY = (
        "start_pre_publicity",
        "开始打印评前公示材料",
        "打印评前公示完成",
        "PrePublicityStarted",
    )
    RECORD_PRE_PUBLICITY_RESULT = (
        "record_pre_publicity_result",
        "填写评前公示意见",
        "已填写评前公示意见",
        "PrePublicityResultRecorded",
    )
    SUBMIT_TO_DEPARTMENT = (
        "submit_to_department",
        "提交日常工作部门",
        "已上报日常工作部门",
        "CaseSubmittedToDepartment",
    )
    WITHDRAW = "withdraw", "撤回", "单位撤回上报", "CaseWithdrawn"
    ACCEPT = "accept", "预受理通过", "日常工作部门预受理通过", "CaseAccepted"
    RETURN = "return", "退回", "日常工作部门退回", "CaseReturned"
    REFUSE = "refuse", "不予受理", "日常工作部门不予受理", "CaseRefused"
    GRANT_PRE_APPROVAL = "grant_pre_approval", "前置审批同意", "前置审批通过", "PreApprovalGranted"
    DENY_PRE_APPROVAL = "deny_pre_approval", "前置审批不同意", "前置审批不通过", "PreApprovalDenied"
    PRINT_DECLARATION_FORM = (
        "print_declaration_form",
        "打印评审(申报)表",
        "已打印评审(申报)表",
        "DeclarationFormPrinted",
    )
    FORWARD_TO_COMMITTEE = (
        "forward_to_committee",
        "审核通过并提交评委会",
        "日常工作部门审核通过",
        "CaseForwardedToCommittee",
    )
    PASS_REVIEW = "pass_review", "评审通过", "评委会评审通过", "ReviewPassed"
    FAIL_REVIEW = "fail_review", "评审不通过", "评委会评审未通过", "ReviewFailed"
    LAUNCH_POST_PUBLICITY = (
        "launch_post_publicity",
        "发起评后公示",
        "已发起评后公示",
        "PostPublicityLaunched",
    )
    START_POST_PUBLICITY = (
        "start_post_publicity",
        "开始打印评后公示材料",
        "打印评后公示完成",
        "PostPublicityStarted",
    )
    RECORD_POST_PUBLICITY_RESULT = (
        "record_post_publicity_result",
        "填写评后公示意见",
        "已填写评后公示意见",
        "PostPublicityResultRecorded",
    )
    CONFIRM = "confirm", "确认办结", "日常工作部门已确认", "CaseConfirmed"


class AssessmentResult(StrEnum):
    EXCELLENT = "优秀"
    COMPETENT = "合格"
    BASICALLY_COMPETENT = "基本合格"
    INCOMPETENT = "不合格"
    NOT_ASSESSED = "未考核"


# --- the tables ---

S, A = CaseState, Action
_UNIT = frozenset({Role.UNIT_ADMIN, Role.UNIT_OPERATOR})
_APPLICANT = frozenset({Role.APPLICANT})
_DEPARTMENT = frozenset({Role.DEPARTMENT})

ACTION_ROLES: Mapping[Action, frozenset[Role]] = {
    A.SUBMIT: _APPLICANT,
    A.CANCEL: _APPLICANT,
    A.APPROVE: _UNIT,
    A.REJECT: _UNIT,
    A.START_PRE_PUBLICITY: _UNIT,
    A.RECORD_PRE_PUBLICITY_RESULT: _UNIT,
    A.SUBMIT_TO_DEPARTMENT: _UNIT,
    A.WITHDRAW: _UNIT,
    A.ACCEPT: _DEPARTMENT,
    A.RETURN: _DEPARTMENT,
    A.REFUSE: _DEPARTMENT,
    A.GRANT_PRE_APPROVAL: frozenset({Role.OFFICE}),
    A.DENY_PRE_APPROVAL: frozenset({Role.OFFICE}),
    A.PRINT_DECLARATION_FORM: _UNIT | _APPLICANT,
    A.FORWARD_TO_COMMITTEE: _DEPARTMENT,
    A.PASS_REVIEW: frozenset({Role.COMMITTEE}),
    A.FAIL_REVIEW: frozenset({Role.COMMITTEE}),
    A.LAUNCH_POST_PUBLICITY: _DEPARTMENT,
    A.START_POST_PUBLICITY: _UNIT,
    A.RECORD_POST_PUBLICITY_RESULT: _UNIT,
    A.CONFIRM: _DEPARTMENT,
}

# state -> action -> the states it may lead to (which one depends on the case and the inputs)
TRANSITIONS: Mapping[CaseState, Mapping[Action, frozenset[CaseState]]] = {
    S.DRAFT: {A.SUBMIT: frozenset({S.UNIT_REVIEW}), A.CANCEL: frozenset({S.CLOSED})},
    S.UNIT_REVIEW: {
        A.APPROVE: frozenset({S.PRE_PUBLICITY_READY}),
        A.REJECT: frozenset({S.DRAFT}),
    },
    S.PRE_PUBLICITY_READY: {A.START_PRE_PUBLICITY: frozenset({S.PRE_PUBLICITY})},
    S.PRE_PUBLICITY: {
        A.RECORD_PRE_PUBLICITY_RESULT: frozenset({S.DEPT_SUBMIT_READY, S.CLOSED}),
    },
    S.DEPT_SUBMIT_READY: {A.SUBMIT_TO_DEPARTMENT: frozenset({S.DEPT_ACCEPTANCE})},
    S.DEPT_ACCEPTANCE: {
        A.ACCEPT: frozenset({S.OFFICE_APPROVAL, S.FORM_PRINT_READY}),
        A.RETURN: frozenset({S.DEPT_SUBMIT_READY, S.DRAFT}),
        A.REFUSE: frozenset({S.CLOSED}),
        A.WITHDRAW: frozenset({S.DEPT_SUBMIT_READY}),
    },
    S.OFFICE_APPROVAL: {
        A.GRANT_PRE_APPROVAL: frozenset({S.FORM_PRINT_READY}),
        A.DENY_PRE_APPROVAL: frozenset({S.CLOSED}),
    },
    S.FORM_PRINT_READY: {A.PRINT_DECLARATION_FORM: frozenset({S.DEPT_REVIEW})},
    S.DEPT_REVIEW: {
        A.FORWARD_TO_COMMITTEE: frozenset({S.COMMITTEE_REVIEW}),
        A.RETURN: frozenset({S.FORM_PRINT_READY}),
    },
    S.COMMITTEE_REVIEW: {
        A.PASS_REVIEW: frozenset({S.POST_PUBLICITY_LAUNCH}),
        A.FAIL_REVIEW: frozenset({S.CLOSED}),
    },
    S.POST_PUBLICITY_LAUNCH: {A.LAUNCH_POST_PUBLICITY: frozenset({S.POST_PUBLICITY_READY})},
    S.POST_PUBLICITY_READY: {A.START_POST_PUBLICITY: frozenset({S.POST_PUBLICITY})},
    S.POST_PUBLICITY: {A.RECORD_POST_PUBLICITY_RESULT: frozenset({S.DEPT_CONFIRM})},
    S.DEPT_CONFIRM: {A.CONFIRM: frozenset({S.CLOSED})},
    S.CLOSED: {},
}

# The batch steps of the workflow: the lists offer them on a selection of cases, and each
# case gets its own result.
BATCH_ACTIONS = frozenset(
    {
        A.START_PRE_PUBLICITY,
        A.RECORD_PRE_PUBLICITY_RESULT,
        A.SUBMIT_TO_DEPARTMENT,
        A.PASS_REVIEW,
        A.FAIL_REVIEW,
        A.LAUNCH_POST_PUBLICITY,
        A.START_POST_PUBLICITY,
        A.RECORD_POST_PUBLICITY_RESULT,
    }
)

# What case.batch takes on a selection: the batch steps, plus approving several cases with
# one form (over the API) and printing the 评审(申报)表 of several people (manual §2.6).
SELECTION_ACTIONS = BATCH_ACTIONS | {A.APPROVE, A.PRINT_DECLARATION_FORM}

# step number on the unit home page -> the state whose cases that step counts
UNIT_HOME_STEPS: Mapping[int, CaseState] = {s.step: s for s in CaseState if s.step is not None}


def allowed_actions(state: CaseState) -> frozenset[Action]:
    return frozenset(TRANSITIONS[state])


def actions_for(state: CaseState, role: Role) -> list[Action]:
    """The buttons to show `role` on a case in `state`, in table order."""
    return [a for a in TRANSITIONS[state] if role in ACTION_ROLES[a]]


def return_targets_of(state: CaseState) -> frozenset[CaseState]:
    """Where 退回 may send a case in `state` (none where it does not apply)."""
    return TRANSITIONS[state].get(A.RETURN, frozenset())

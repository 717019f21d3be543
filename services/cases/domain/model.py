"""The case (申报业务) aggregate and its state machine. Pure: no I/O; time is an argument.

The tables below are docs/domain.md's "States and actions" in code. `Case.act` checks, in this
order, the actor's role (NotAllowed), the case's state (IllegalTransition), then the inputs
(InvalidInput); it changes the case only once all checks have passed. Which unit, department
or committee may see a given case is the service layer's business, not this module's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from services.cases.domain.calendar import local_date, publicity_period
from services.cases.domain.events import CaseTransitioned

ARROW = "-->"  # the manual's later screens: "单位审核同意-->待打印评前公示"


class Role(StrEnum):
    label: str

    def __new__(cls, value: str, label: str) -> Role:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    SYSADMIN = "sysadmin", "系统管理员"
    UNIT_ADMIN = "unit_admin", "单位管理员"
    UNIT_OPERATOR = "unit_operator", "单位经办人"
    APPLICANT = "applicant", "申报人"
    DEPARTMENT = "department", "日常工作部门"
    OFFICE = "office", "专技处"
    COMMITTEE = "committee", "评委会"


UNIT_ROLES = frozenset({Role.UNIT_ADMIN, Role.UNIT_OPERATOR})


class CaseState(StrEnum):
    label: str  # what the case awaits, as the 业务状态 column shows it
    step: int | None  # its step on the unit home page's ten-step flow, if any

    def __new__(cls, value: str, label: str, step: int | None = None) -> CaseState:
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

    def __new__(cls, value: str, label: str) -> Outcome:
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

    def __new__(cls, value: str, verb: str, done: str, event: str) -> Action:
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


# --- errors ---


class DomainError(Exception):
    """A refused action; `message` is the Chinese text shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IllegalTransition(DomainError):
    """The action does not apply to the case in its current state (a conflict)."""

    def __init__(
        self, state: CaseState, action: Action, role: Role, message: str | None = None
    ) -> None:
        self.state, self.action, self.role = state, action, role
        super().__init__(message or f"业务状态为“{state.label}”，不能进行“{action.verb}”操作")


class PublicityNotOver(IllegalTransition):
    """The publicity result may be entered only from the day after the period's last day."""

    def __init__(self, state: CaseState, action: Action, role: Role, end: date) -> None:
        self.end = end
        super().__init__(
            state, action, role, f"公示期至{_cn_date(end)}止，期满后方可进行“{action.verb}”操作"
        )


class NotAllowed(DomainError):
    def __init__(self, action: Action, role: Role) -> None:
        self.action, self.role = action, role
        super().__init__(f"{role.label}无权进行“{action.verb}”操作")


class InvalidInput(DomainError):
    """`errors` maps a field name (dotted for nested fields) to its Chinese message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("；".join(self.errors.values()))


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- round rules and value objects ---


@dataclass(frozen=True)
class RoundRules:
    """The per-round (评审年度) settings the state machine needs; see docs/domain.md."""

    evaluation_max_length: int = 200
    pre_publicity_working_days: int = 5
    post_publicity_working_days: int = 5

    def __post_init__(self) -> None:
        limits = (
            self.evaluation_max_length,
            self.pre_publicity_working_days,
            self.post_publicity_working_days,
        )
        if min(limits) < 1:
            raise ValueError("round rules must be positive")


DEFAULT_RULES = RoundRules()


def assessment_years(today: date) -> tuple[int, ...]:
    """The five years whose 年度考核结果 the unit gives: the five before the current one."""
    return tuple(range(today.year - 5, today.year))


@dataclass(frozen=True)
class Publicity:
    start: date
    end: date  # the last day of the period; the result can be entered from the next day
    method: str | None = None
    contact: str | None = None
    passed: bool | None = None
    feedback: str | None = None

    def has_ended(self, today: date) -> bool:
        return today > self.end


# --- inputs, one model per action ---

NO_NEGATIVE_SITUATION = "无负面情况"


def _required(value: str, info: ValidationInfo) -> str:
    if not value:
        raise ValueError(f"请填写{_title(info)}")
    return value


def _blank_to_none(value: str | None) -> str | None:
    return value or None


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)


class NoInput(_Input):
    pass


class OptionalReasonInput(_Input):
    reason: str | None = Field(default=None, title="原因")

    _blank = field_validator("reason")(_blank_to_none)


class ReasonInput(_Input):
    reason: str = Field(title="原因")

    _filled = field_validator("reason")(_required)


class ReturnInput(ReasonInput):
    """`target` may be left out where the state allows only one (dept_review)."""

    target: CaseState | None = Field(default=None, title="退回对象")


class ApproveInput(_Input):
    """审核同意 (manual §2.2). Validate with context evaluation_max_length and assessment_years."""

    negative_situation: str = Field(default=NO_NEGATIVE_SITUATION, title="工作负面情况说明")
    annual_assessments: dict[int, AssessmentResult] = Field(title="年度考核结果")
    evaluation: str = Field(title="单位综合评价意见")
    continuing_education_opinion: str = Field(title="继续教育单位意见")

    _filled = field_validator("evaluation", "continuing_education_opinion")(_required)

    @field_validator("negative_situation")
    @classmethod
    def _default_when_blank(cls, value: str) -> str:
        return value or NO_NEGATIVE_SITUATION

    @field_validator("annual_assessments")
    @classmethod
    def _five_years(
        cls, value: dict[int, AssessmentResult], info: ValidationInfo
    ) -> dict[int, AssessmentResult]:
        years = sorted(value)
        expected = (info.context or {}).get("assessment_years")
        if expected is None:
            ok = len(years) == 5 and years == list(range(years[0], years[0] + 5))
            span = "近五年"
        else:
            ok = years == sorted(expected)
            span = f"{min(expected)}—{max(expected)}年"
        if not ok:
            raise ValueError(f"请填写{span}每年的年度考核结果")
        return dict(sorted(value.items()))

    @field_validator("evaluation")
    @classmethod
    def _not_too_long(cls, value: str, info: ValidationInfo) -> str:
        context = info.context or {}
        limit = context.get("evaluation_max_length", DEFAULT_RULES.evaluation_max_length)
        if len(value) > limit:
            raise ValueError(f"单位综合评价意见不能超过{limit}字（现{len(value)}字）")
        return value


class StartPublicityInput(_Input):
    """`start` defaults to today; a rest day moves it to the next working day."""

    start: date | None = Field(default=None, title="公示开始日期")
    method: str | None = Field(default=None, title="公示方式")
    contact: str | None = Field(default=None, title="异议受理联系方式")

    _blank = field_validator("method", "contact")(_blank_to_none)


class PublicityResultInput(_Input):
    passed: bool = Field(title="公示结果")
    feedback: str = Field(title="公示反馈情况")

    _filled = field_validator("feedback")(_required)


def _title(info: ValidationInfo) -> str:
    return _FIELD_TITLES.get(info.field_name or "", info.field_name or "")


# --- the tables ---

S, A = CaseState, Action
_UNIT = UNIT_ROLES
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

ACTION_INPUTS: Mapping[Action, type[_Input]] = {
    A.SUBMIT: NoInput,
    A.CANCEL: OptionalReasonInput,
    A.APPROVE: ApproveInput,
    A.REJECT: ReasonInput,
    A.START_PRE_PUBLICITY: StartPublicityInput,
    A.RECORD_PRE_PUBLICITY_RESULT: PublicityResultInput,
    A.SUBMIT_TO_DEPARTMENT: NoInput,
    A.WITHDRAW: OptionalReasonInput,
    A.ACCEPT: NoInput,
    A.RETURN: ReturnInput,
    A.REFUSE: ReasonInput,
    A.GRANT_PRE_APPROVAL: NoInput,
    A.DENY_PRE_APPROVAL: ReasonInput,
    A.PRINT_DECLARATION_FORM: NoInput,
    A.FORWARD_TO_COMMITTEE: NoInput,
    A.PASS_REVIEW: NoInput,
    A.FAIL_REVIEW: OptionalReasonInput,
    A.LAUNCH_POST_PUBLICITY: NoInput,
    A.START_POST_PUBLICITY: StartPublicityInput,
    A.RECORD_POST_PUBLICITY_RESULT: PublicityResultInput,
    A.CONFIRM: OptionalReasonInput,
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

# The actions the lists offer on a selection of cases; each case gets its own result.
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

# step number on the unit home page -> the state whose cases that step counts
UNIT_HOME_STEPS: Mapping[int, CaseState] = {s.step: s for s in CaseState if s.step is not None}

# (action, outcome) -> the SMS sent to the applicant; moves not listed concern only the office side
APPLICANT_NOTICES: Mapping[tuple[Action, Outcome | None], str] = {
    (A.REJECT, None): "您的职称申报未通过单位审核，请查看原因，修改后重新上报。",
    (A.RETURN, None): "您的职称申报已被日常工作部门退回，请查看退回原因。",
    (A.ACCEPT, None): "您的职称申报已通过日常工作部门预受理。",
    (A.REFUSE, Outcome.NOT_ACCEPTED): "您的职称申报未获日常工作部门受理，业务已办结。",
    (A.GRANT_PRE_APPROVAL, None): "您的职称申报已通过专技处前置审批。",
    (A.DENY_PRE_APPROVAL, Outcome.PRE_APPROVAL_DENIED): (
        "您的职称申报未通过专技处前置审批，业务已办结。"
    ),
    (A.RECORD_PRE_PUBLICITY_RESULT, Outcome.PRE_PUBLICITY_FAILED): (
        "您的评前公示未通过，业务已办结。"
    ),
    (A.PASS_REVIEW, None): "您的职称申报已通过评委会评审，将进行评后公示。",
    (A.FAIL_REVIEW, Outcome.COMMITTEE_FAILED): "您的职称申报未通过评委会评审，业务已办结。",
    (A.CONFIRM, Outcome.PASSED): "您的职称评审结果已确认通过，业务已办结。",
    (A.CONFIRM, Outcome.POST_PUBLICITY_FAILED): "您的评后公示未通过，业务已办结。",
}

_FIELD_TITLES: dict[str, str] = {
    name: info.title or name
    for model in set(ACTION_INPUTS.values())
    for name, info in model.model_fields.items()
}


def allowed_actions(state: CaseState) -> frozenset[Action]:
    return frozenset(TRANSITIONS[state])


def actions_for(state: CaseState, role: Role) -> list[Action]:
    """The buttons to show `role` on a case in `state`, in table order."""
    return [a for a in TRANSITIONS[state] if role in ACTION_ROLES[a]]


# --- inputs: parsing with Chinese per-field messages ---

_PYDANTIC_MESSAGES = {
    "missing": "请填写{title}",
    "bool_parsing": "请选择{title}",
    "bool_type": "请选择{title}",
    "date_parsing": "{title}不是有效日期",
    "date_from_datetime_parsing": "{title}不是有效日期",
    "date_from_datetime_inexact": "{title}不是有效日期",
    "date_type": "{title}不是有效日期",
    "enum": "{title}只能是：{expected}",
    "int_parsing": "{title}的年份无效",
    "string_type": "{title}应为文字",
}


def validate_inputs(
    action: Action, raw: Mapping[str, Any] | BaseModel | None, *, today: date, rules: RoundRules
) -> _Input:
    """The action's input model, or InvalidInput with a Chinese message per field."""
    model = ACTION_INPUTS[action]
    data = raw.model_dump() if isinstance(raw, BaseModel) else dict(raw or {})
    context = {
        "evaluation_max_length": rules.evaluation_max_length,
        "assessment_years": assessment_years(today),
    }
    try:
        return model.model_validate(data, context=context)
    except ValidationError as e:
        raise InvalidInput(_field_errors(e)) from None


def _field_errors(error: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in error.errors():
        key = ".".join(str(part) for part in err["loc"])
        ctx = err.get("ctx") or {}
        if err["type"] == "value_error":
            message = str(ctx["error"])
        else:
            title = _FIELD_TITLES.get(str(err["loc"][0]), str(err["loc"][0]))
            expected = str(ctx.get("expected", "")).replace("'", "")
            expected = expected.replace(" or ", "、").replace(", ", "、")
            template = _PYDANTIC_MESSAGES.get(err["type"], "{title}格式不正确")
            message = template.format(title=title, expected=expected)
        errors.setdefault(key, message)
    return errors


# --- the aggregate ---


@dataclass(frozen=True)
class _Context:
    action: Action
    role: Role
    now: datetime
    today: date
    rules: RoundRules


@dataclass(frozen=True)
class _Move:
    to: CaseState
    outcome: Outcome | None = None
    reason: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)  # Case fields to set
    computed: dict[str, Any] = field(default_factory=dict)  # recorded in the event's inputs


@dataclass
class Case:
    id: str
    needs_pre_approval: bool = False  # fixed when the case is created (review type, exemptions)
    state: CaseState = CaseState.DRAFT
    outcome: Outcome | None = None
    version: int = 0
    last_action: Action | None = None
    last_reason: str | None = None  # the 原因 column
    unit_approval: ApproveInput | None = None
    pre_publicity: Publicity | None = None
    post_publicity: Publicity | None = None
    form_printed_at: datetime | None = None

    @property
    def status_label(self) -> str:
        """业务状态 as the manual shows it: "单位审核同意-->待打印评前公示"."""
        if self.last_action is None:
            return self.state.label
        return f"{self.last_action.done}{ARROW}{self.state.label}"

    def available_actions(self, role: Role) -> list[Action]:
        return actions_for(self.state, role)

    def act(
        self,
        action: Action | str,
        actor_role: Role | str,
        inputs: Mapping[str, Any] | BaseModel | None,
        now: datetime,
        *,
        actor_id: str | None = None,
        rules: RoundRules = DEFAULT_RULES,
    ) -> list[CaseTransitioned]:
        """Apply `action` at `now` (timezone-aware) and return what happened.

        Raises NotAllowed, IllegalTransition (PublicityNotOver) or InvalidInput and then leaves
        the case untouched.
        """
        action, role = Action(action), Role(actor_role)
        if role not in ACTION_ROLES[action]:
            raise NotAllowed(action, role)
        targets = TRANSITIONS[self.state].get(action)
        if targets is None:
            raise IllegalTransition(self.state, action, role)
        today = local_date(now)
        parsed = validate_inputs(action, inputs, today=today, rules=rules)
        move = _HANDLERS[action](self, parsed, _Context(action, role, now, today, rules))
        if move.to not in targets or (move.to is S.CLOSED) != (move.outcome is not None):
            raise RuntimeError(f"bad move {self.state} --{action}--> {move}")

        from_state = self.state
        for name, value in move.changes.items():
            setattr(self, name, value)
        self.state, self.outcome = move.to, move.outcome
        self.last_action, self.last_reason = action, move.reason
        self.version += 1
        return [
            CaseTransitioned(
                name=action.event,
                case_id=self.id,
                action=action,
                actor_role=role,
                actor_id=actor_id,
                from_state=from_state,
                to_state=move.to,
                outcome=move.outcome,
                status_label=self.status_label,
                reason=move.reason,
                at=now,
                version=self.version,
                inputs=parsed.model_dump(mode="json") | move.computed,
                applicant_notice=APPLICANT_NOTICES.get((action, move.outcome)),
            )
        ]


# --- what each action does; handlers only compute, Case.act applies ---

_Handler = Callable[[Case, Any, _Context], _Move]
_START_OVER = {"unit_approval": None, "pre_publicity": None}  # back to the applicant's draft


def _go(to: CaseState) -> _Handler:
    def handler(case: Case, inputs: Any, ctx: _Context) -> _Move:
        return _Move(to, reason=getattr(inputs, "reason", None))

    return handler


def _close(outcome: Outcome) -> _Handler:
    def handler(case: Case, inputs: Any, ctx: _Context) -> _Move:
        return _Move(S.CLOSED, outcome, reason=getattr(inputs, "reason", None))

    return handler


def _approve(case: Case, inputs: ApproveInput, ctx: _Context) -> _Move:
    return _Move(S.PRE_PUBLICITY_READY, changes={"unit_approval": inputs})


def _reject(case: Case, inputs: ReasonInput, ctx: _Context) -> _Move:
    return _Move(S.DRAFT, reason=inputs.reason, changes=_START_OVER)


def _start_publicity(
    inputs: StartPublicityInput, ctx: _Context, working_days: int, field_name: str, to: CaseState
) -> _Move:
    requested = inputs.start or ctx.today
    if requested < ctx.today:
        raise InvalidInput({"start": "公示开始日期不能早于今天"})
    start, end = publicity_period(requested, working_days)
    period = Publicity(start, end, method=inputs.method, contact=inputs.contact)
    computed = {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "working_days": working_days}
    }
    return _Move(to, changes={field_name: period}, computed=computed)


def _start_pre_publicity(case: Case, inputs: StartPublicityInput, ctx: _Context) -> _Move:
    days = ctx.rules.pre_publicity_working_days
    return _start_publicity(inputs, ctx, days, "pre_publicity", S.PRE_PUBLICITY)


def _start_post_publicity(case: Case, inputs: StartPublicityInput, ctx: _Context) -> _Move:
    days = ctx.rules.post_publicity_working_days
    return _start_publicity(inputs, ctx, days, "post_publicity", S.POST_PUBLICITY)


def _ended_publicity(case: Case, period: Publicity | None, ctx: _Context) -> Publicity:
    if period is None:
        raise RuntimeError(f"case {case.id} is in {case.state} without a publicity period")
    if not period.has_ended(ctx.today):
        raise PublicityNotOver(case.state, ctx.action, ctx.role, period.end)
    return period


def _record_result(
    case: Case, inputs: PublicityResultInput, ctx: _Context, field_name: str
) -> dict[str, Any]:
    period = _ended_publicity(case, getattr(case, field_name), ctx)
    recorded = Publicity(
        period.start, period.end, period.method, period.contact, inputs.passed, inputs.feedback
    )
    return {field_name: recorded}


def _record_pre_publicity_result(case: Case, inputs: PublicityResultInput, ctx: _Context) -> _Move:
    changes = _record_result(case, inputs, ctx, "pre_publicity")
    if inputs.passed:
        return _Move(S.DEPT_SUBMIT_READY, changes=changes)
    return _Move(S.CLOSED, Outcome.PRE_PUBLICITY_FAILED, reason=inputs.feedback, changes=changes)


def _record_post_publicity_result(case: Case, inputs: PublicityResultInput, ctx: _Context) -> _Move:
    changes = _record_result(case, inputs, ctx, "post_publicity")
    return _Move(S.DEPT_CONFIRM, reason=None if inputs.passed else inputs.feedback, changes=changes)


def _accept(case: Case, inputs: NoInput, ctx: _Context) -> _Move:
    return _Move(S.OFFICE_APPROVAL if case.needs_pre_approval else S.FORM_PRINT_READY)


def _return(case: Case, inputs: ReturnInput, ctx: _Context) -> _Move:
    targets = TRANSITIONS[case.state][A.RETURN]
    target = inputs.target
    if target is None and len(targets) == 1:
        (target,) = targets
    if target not in targets:
        choices = "、".join(sorted(t.label for t in targets))
        raise InvalidInput({"target": f"请选择退回对象：{choices}"})
    return _Move(target, reason=inputs.reason, changes=_START_OVER if target is S.DRAFT else {})


def _print_declaration_form(case: Case, inputs: NoInput, ctx: _Context) -> _Move:
    return _Move(S.DEPT_REVIEW, changes={"form_printed_at": ctx.now})


def _confirm(case: Case, inputs: OptionalReasonInput, ctx: _Context) -> _Move:
    result = case.post_publicity
    if result is None or result.passed is None:
        raise RuntimeError(f"case {case.id} is in {case.state} without a post-publicity result")
    if result.passed:
        return _Move(S.CLOSED, Outcome.PASSED, reason=inputs.reason)
    return _Move(S.CLOSED, Outcome.POST_PUBLICITY_FAILED, reason=inputs.reason or result.feedback)


_HANDLERS: Mapping[Action, _Handler] = {
    A.SUBMIT: _go(S.UNIT_REVIEW),
    A.CANCEL: _close(Outcome.CANCELLED),
    A.APPROVE: _approve,
    A.REJECT: _reject,
    A.START_PRE_PUBLICITY: _start_pre_publicity,
    A.RECORD_PRE_PUBLICITY_RESULT: _record_pre_publicity_result,
    A.SUBMIT_TO_DEPARTMENT: _go(S.DEPT_ACCEPTANCE),
    A.WITHDRAW: _go(S.DEPT_SUBMIT_READY),
    A.ACCEPT: _accept,
    A.RETURN: _return,
    A.REFUSE: _close(Outcome.NOT_ACCEPTED),
    A.GRANT_PRE_APPROVAL: _go(S.FORM_PRINT_READY),
    A.DENY_PRE_APPROVAL: _close(Outcome.PRE_APPROVAL_DENIED),
    A.PRINT_DECLARATION_FORM: _print_declaration_form,
    A.FORWARD_TO_COMMITTEE: _go(S.COMMITTEE_REVIEW),
    A.PASS_REVIEW: _go(S.POST_PUBLICITY_LAUNCH),
    A.FAIL_REVIEW: _close(Outcome.COMMITTEE_FAILED),
    A.LAUNCH_POST_PUBLICITY: _go(S.POST_PUBLICITY_READY),
    A.START_POST_PUBLICITY: _start_post_publicity,
    A.RECORD_POST_PUBLICITY_RESULT: _record_post_publicity_result,
    A.CONFIRM: _confirm,
}

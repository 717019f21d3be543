"""The case (申报业务) aggregate and its state machine. Pure: no I/O; time is an argument.

The vocabulary and the tables (states, actions, outcomes, roles, who may take which action,
"States and actions" of docs/domain.md, the inputs each action takes) are the contract's
(shared/contracts/cases/), shared with the service's callers; this module is what an action
does. `Case.act` checks, in this order, the actor's role (NotAllowed), the case's state
(IllegalTransition), then the inputs (InvalidInput); it changes the case only once all checks
have passed. Which unit, department or committee may see a given case is the service layer's
business, not this module's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from services.cases.domain.calendar import PACKAGE_CALENDAR, WorkingCalendar, local_date
from services.cases.domain.deadlines import DeclarationWindow
from services.cases.domain.errors import DomainError, InvalidInput, cn_date
from services.cases.domain.events import CaseTransitioned
from services.cases.domain.objections import HANDLER_LABELS, Objection, first_open, upheld
from shared.contracts.accounts.vocabulary import Role
from shared.contracts.cases.inputs import (
    ACTION_INPUTS,
    DEFAULT_EVALUATION_MAX_LENGTH,
    FIELD_TITLES,
    NO_NEGATIVE_SITUATION,
    ActionInput,
    ApproveInput,
    NoInput,
    OptionalReasonInput,
    PublicityResultInput,
    ReasonInput,
    ReturnInput,
    StartPublicityInput,
)
from shared.contracts.cases.integrity import PublicityPhase
from shared.contracts.cases.vocabulary import (
    ACTION_ROLES,
    ARROW,
    BATCH_ACTIONS,
    SELECTION_ACTIONS,
    TRANSITIONS,
    UNIT_HOME_STEPS,
    Action,
    AssessmentResult,
    CaseState,
    Outcome,
    actions_for,
    allowed_actions,
)

# The contract's vocabulary, as the domain's callers (the service's handlers) know it.
__all__ = [
    "ACTION_INPUTS",
    "ACTION_ROLES",
    "APPLICANT_NOTICES",
    "ARROW",
    "BATCH_ACTIONS",
    "DEFAULT_RULES",
    "NO_NEGATIVE_SITUATION",
    "SELECTION_ACTIONS",
    "TRANSITIONS",
    "UNIT_HOME_STEPS",
    "UNIT_ROLES",
    "Action",
    "ApproveInput",
    "AssessmentResult",
    "Case",
    "CaseState",
    "DomainError",
    "IllegalTransition",
    "InvalidInput",
    "NoInput",
    "NotAllowed",
    "ObjectionPending",
    "OptionalReasonInput",
    "Outcome",
    "Publicity",
    "PublicityNotOver",
    "PublicityResultInput",
    "ReasonInput",
    "ReturnInput",
    "Role",
    "RoundRules",
    "StartPublicityInput",
    "actions_for",
    "allowed_actions",
    "assessment_years",
    "validate_inputs",
]

UNIT_ROLES = frozenset({Role.UNIT_ADMIN, Role.UNIT_OPERATOR})
S, A = CaseState, Action


# --- errors ---


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
            state, action, role, f"公示期至{cn_date(end)}止，期满后方可进行“{action.verb}”操作"
        )


class ObjectionPending(IllegalTransition):
    """An open objection blocks the step that closes its publicity (docs/integrity.md)."""

    def __init__(self, state: CaseState, action: Action, role: Role, objection: Objection) -> None:
        self.objection = objection
        handler = HANDLER_LABELS[objection.handler]
        super().__init__(
            state,
            action,
            role,
            f"{objection.label}尚未核实（由{handler}核实），核实后方可进行“{action.verb}”操作",
        )


class NotAllowed(DomainError):
    def __init__(self, action: Action, role: Role) -> None:
        self.action, self.role = action, role
        super().__init__(f"{role.label}无权进行“{action.verb}”操作")


# --- round rules and value objects ---


@dataclass(frozen=True)
class RoundRules:
    """The per-round (评审年度) settings the state machine needs; see docs/domain.md."""

    evaluation_max_length: int = DEFAULT_EVALUATION_MAX_LENGTH
    pre_publicity_working_days: int = 5
    post_publicity_working_days: int = 5
    window: DeclarationWindow | None = None  # 申报开始/截止: 填报上报 only within it

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


# (action, outcome) -> the SMS sent to the applicant; moves not listed concern only the office side
APPLICANT_NOTICES: Mapping[tuple[Action, Outcome | None], str] = {
    (Action.REJECT, None): "您的职称申报未通过单位审核，请查看原因，修改后重新上报。",
    (Action.RETURN, None): "您的职称申报已被日常工作部门退回，请查看退回原因。",
    (Action.ACCEPT, None): "您的职称申报已通过日常工作部门预受理。",
    (Action.REFUSE, Outcome.NOT_ACCEPTED): "您的职称申报未获日常工作部门受理，业务已办结。",
    (Action.GRANT_PRE_APPROVAL, None): "您的职称申报已通过专技处前置审批。",
    (Action.DENY_PRE_APPROVAL, Outcome.PRE_APPROVAL_DENIED): (
        "您的职称申报未通过专技处前置审批，业务已办结。"
    ),
    (Action.RECORD_PRE_PUBLICITY_RESULT, Outcome.PRE_PUBLICITY_FAILED): (
        "您的评前公示未通过，业务已办结。"
    ),
    (Action.PASS_REVIEW, None): "您的职称申报已通过评委会评审，将进行评后公示。",
    (Action.FAIL_REVIEW, Outcome.COMMITTEE_FAILED): "您的职称申报未通过评委会评审，业务已办结。",
    (Action.CONFIRM, Outcome.PASSED): "您的职称评审结果已确认通过，业务已办结。",
    (Action.CONFIRM, Outcome.POST_PUBLICITY_FAILED): "您的评后公示未通过，业务已办结。",
}

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
) -> ActionInput:
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
            title = FIELD_TITLES.get(str(err["loc"][0]), str(err["loc"][0]))
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
    calendar: WorkingCalendar


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
    objections: tuple[Objection, ...] = ()  # 异议, each with its finding once recorded

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
        calendar: WorkingCalendar = PACKAGE_CALENDAR,
    ) -> list[CaseTransitioned]:
        """Apply `action` at `now` (timezone-aware) and return what happened.

        Raises NotAllowed, IllegalTransition (PublicityNotOver), InvalidInput or another
        DomainError (OutsideDeclarationWindow, YearNotKnown) and then leaves the case untouched.
        `calendar` counts the publicity periods' working days.
        """
        action, role = Action(action), Role(actor_role)
        if role not in ACTION_ROLES[action]:
            raise NotAllowed(action, role)
        targets = TRANSITIONS[self.state].get(action)
        if targets is None:
            raise IllegalTransition(self.state, action, role)
        today = local_date(now)
        parsed = validate_inputs(action, inputs, today=today, rules=rules)
        context = _Context(action, role, now, today, rules, calendar)
        move = _HANDLERS[action](self, parsed, context)
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

    def decide_by_vote(
        self,
        passed: bool,
        vote: Mapping[str, Any],
        now: datetime,
        *,
        actor_id: str | None = None,
        rules: RoundRules = DEFAULT_RULES,
    ) -> list[CaseTransitioned]:
        """A meeting's result (docs/committee.md): the committee's 评审通过 or 评审不通过,
        with the meeting and its tally in the history's inputs."""
        action = Action.PASS_REVIEW if passed else Action.FAIL_REVIEW
        [event] = self.act(action, Role.COMMITTEE, None, now, actor_id=actor_id, rules=rules)
        return [replace(event, inputs={**event.inputs, "vote": dict(vote)})]


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


def _submit(case: Case, inputs: Any, ctx: _Context) -> _Move:
    if ctx.rules.window is not None:
        ctx.rules.window.require_open(ctx.today, ctx.action.verb)
    return _Move(S.UNIT_REVIEW)


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
    start, end = ctx.calendar.publicity_period(requested, working_days)
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


def _no_open_objection(case: Case, phase: PublicityPhase, ctx: _Context) -> None:
    if (pending := first_open(case.objections, phase)) is not None:
        raise ObjectionPending(case.state, ctx.action, ctx.role, pending)


def _record_result(
    case: Case, inputs: PublicityResultInput, ctx: _Context, phase: PublicityPhase
) -> dict[str, Any]:
    field_name = f"{phase.value}_publicity"
    period = _ended_publicity(case, getattr(case, field_name), ctx)
    _no_open_objection(case, phase, ctx)
    if inputs.passed and (found := upheld(case.objections, phase)):
        raise InvalidInput({"passed": f"{found[0].label}经核实成立，公示结果只能为“不通过”"})
    recorded = Publicity(
        period.start, period.end, period.method, period.contact, inputs.passed, inputs.feedback
    )
    return {field_name: recorded}


def _record_pre_publicity_result(case: Case, inputs: PublicityResultInput, ctx: _Context) -> _Move:
    changes = _record_result(case, inputs, ctx, PublicityPhase.PRE)
    if inputs.passed:
        return _Move(S.DEPT_SUBMIT_READY, changes=changes)
    return _Move(S.CLOSED, Outcome.PRE_PUBLICITY_FAILED, reason=inputs.feedback, changes=changes)


def _record_post_publicity_result(case: Case, inputs: PublicityResultInput, ctx: _Context) -> _Move:
    changes = _record_result(case, inputs, ctx, PublicityPhase.POST)
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
    _no_open_objection(case, PublicityPhase.POST, ctx)
    found = upheld(case.objections, PublicityPhase.POST)
    if result.passed and not found:
        return _Move(S.CLOSED, Outcome.PASSED, reason=inputs.reason)
    why = f"{found[0].label}经核实成立" if found else result.feedback
    return _Move(S.CLOSED, Outcome.POST_PUBLICITY_FAILED, reason=inputs.reason or why)


_HANDLERS: Mapping[Action, _Handler] = {
    A.SUBMIT: _submit,
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

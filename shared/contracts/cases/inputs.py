"""What each action takes (`inputs` of case.act and case.batch): one model per kind of form.

The models check the inputs' shape and what can be checked without the case; with the
context `evaluation_max_length` (the round's) and `assessment_years` (the five years before
today) they check those too, as the cases service does. Pure: no I/O.
"""

from collections.abc import Mapping
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.contracts.cases.vocabulary import Action, AssessmentResult, CaseState

NO_NEGATIVE_SITUATION = "无负面情况"
DEFAULT_EVALUATION_MAX_LENGTH = 200  # a round's own limit is 50 to 2,000


def _required(value: str, info: ValidationInfo) -> str:
    if not value:
        raise ValueError(f"请填写{title_of(info.field_name or '')}")
    return value


def _blank_to_none(value: str | None) -> str | None:
    return value or None


class ActionInput(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)


class NoInput(ActionInput):
    pass


class SubmitInput(ActionInput):
    """填报上报: the version of the 诚信承诺 the applicant read and accepted (the cases service
    refuses a submission without the version in force)."""

    pledge_version: int | None = Field(default=None, title="诚信承诺")


class OptionalReasonInput(ActionInput):
    reason: str | None = Field(default=None, title="原因")

    _blank = field_validator("reason")(_blank_to_none)


class ReasonInput(ActionInput):
    reason: str = Field(title="原因")

    _filled = field_validator("reason")(_required)


class ReturnInput(ReasonInput):
    """`target` may be left out where the state allows only one (dept_review)."""

    target: CaseState | None = Field(default=None, title="退回对象")


class ApproveInput(ActionInput):
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
        limit = context.get("evaluation_max_length", DEFAULT_EVALUATION_MAX_LENGTH)
        if len(value) > limit:
            raise ValueError(f"单位综合评价意见不能超过{limit}字（现{len(value)}字）")
        return value


class StartPublicityInput(ActionInput):
    """`start` defaults to today; a rest day moves it to the next working day."""

    start: date | None = Field(default=None, title="公示开始日期")
    method: str | None = Field(default=None, title="公示方式")
    contact: str | None = Field(default=None, title="异议受理联系方式")

    _blank = field_validator("method", "contact")(_blank_to_none)


class PublicityResultInput(ActionInput):
    passed: bool = Field(title="公示结果")
    feedback: str = Field(title="公示反馈情况")

    _filled = field_validator("feedback")(_required)


A = Action
ACTION_INPUTS: Mapping[Action, type[ActionInput]] = {
    A.SUBMIT: SubmitInput,
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

# Any action's inputs: what the JSON API documents for an action's body.
AnyActionInput = (
    ApproveInput
    | ReturnInput
    | ReasonInput
    | OptionalReasonInput
    | StartPublicityInput
    | PublicityResultInput
    | SubmitInput
    | NoInput
)

# Each input field's title, for messages ("请填写原因").
FIELD_TITLES: dict[str, str] = {
    name: info.title or name
    for model in set(ACTION_INPUTS.values())
    for name, info in model.model_fields.items()
}


def title_of(field: str) -> str:
    return FIELD_TITLES.get(field, field)

"""The workflow's edge: each refusal of the state machine or the workflow as the RPC answers it."""

import uuid
from datetime import date

import pytest

from services.cases.domain import model
from services.cases.domain.calendar import YearNotKnown
from services.cases.domain.deadlines import DeclarationWindow, OutsideDeclarationWindow
from services.cases.domain.integrity import DeclarationBarred
from services.cases.domain.model import (
    Action,
    CaseState,
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotAllowed,
    PublicityNotOver,
    Role,
)
from services.cases.handlers import workflow
from services.cases.handlers.workflow import (
    ANSWERS,
    CaseNotFound,
    InOpenMeeting,
    MaterialsMissing,
    NotForSelection,
    ReviewedByMeeting,
    RoleRefused,
    StaleVersion,
    UnknownAction,
    rpc_error,
)

NOT_SELECTABLE = "“审核不同意”须逐件办理，不能批量办理"
INCOMPLETE = "申报材料不完整，缺少：身份证；学历证书"


class Unlisted(DomainError):
    pass


REFUSALS = [
    (
        UnknownAction("approve_all"),
        ("invalid_input", 422, "未知的操作：approve_all", {"action": "未知的操作"}),
    ),
    (
        RoleRefused(Action.APPROVE, Role.DEPARTMENT),
        ("forbidden", 403, "您没有权限进行“审核同意”操作", {}),
    ),
    (RoleRefused(Action.APPROVE, None), ("forbidden", 403, "您没有权限进行此操作", {})),
    (
        NotForSelection(Action.REJECT),
        ("invalid_input", 422, NOT_SELECTABLE, {"action": NOT_SELECTABLE}),
    ),
    (CaseNotFound(uuid.uuid4()), ("not_found", 404, "申报业务不存在或无权访问", {})),
    (StaleVersion(3, 4), ("conflict", 409, "该业务已被他人办理，请刷新后查看", {})),
    (
        MaterialsMissing(["身份证", "学历证书"]),
        ("incomplete", 422, INCOMPLETE, {"materials": INCOMPLETE}),
    ),
    (
        IllegalTransition(CaseState.DRAFT, Action.APPROVE, Role.UNIT_OPERATOR),
        ("conflict", 409, "业务状态为“待填报上报”，不能进行“审核同意”操作", {}),
    ),
    (
        PublicityNotOver(
            CaseState.PRE_PUBLICITY,
            Action.RECORD_PRE_PUBLICITY_RESULT,
            Role.UNIT_OPERATOR,
            date(2026, 6, 5),
        ),
        ("conflict", 409, "公示期至2026年6月5日止，期满后方可进行“填写评前公示意见”操作", {}),
    ),
    (
        NotAllowed(Action.ACCEPT, Role.UNIT_ADMIN),
        ("forbidden", 403, "单位管理员无权进行“预受理通过”操作", {}),
    ),
    (
        InvalidInput({"reason": "请填写原因", "target": "请选择退回对象"}),
        (
            "invalid_input",
            422,
            "请填写原因；请选择退回对象",
            {"reason": "请填写原因", "target": "请选择退回对象"},
        ),
    ),
    (
        ReviewedByMeeting(),
        (
            "forbidden",
            403,
            "本评委会的评审结果由评审会议表决产生，请在评审会议中组织表决",
            {},
        ),
    ),
    (InOpenMeeting(), ("conflict", 409, "该申报已提交评审会议，评审结果由会议表决产生", {})),
    (
        DeclarationBarred(date(2029, 6, 30)),
        (
            "discredited",
            422,
            "您有尚在记录期内的职称申报失信记录，2029年6月30日（含当日）前不能申报职称，"
            "2029年7月1日起方可申报",
            {},
        ),
    ),
    (
        OutsideDeclarationWindow(
            DeclarationWindow("2026年度", date(2026, 3, 1), date(2026, 9, 30)),
            date(2026, 10, 8),
            "填报上报",
        ),
        (
            "outside_window",
            422,
            "2026年度的申报时间为2026年3月1日至2026年9月30日，申报已截止，不能填报上报",
            {},
        ),
    ),
    (
        YearNotKnown(2027),
        (
            "calendar_unknown",
            422,
            "2027年的法定节假日和调休安排尚未录入，无法按工作日计算日期。请系统管理员在"
            "“节假日安排”中录入国务院办公厅关于2027年部分节假日安排的通知后再办理",
            {},
        ),
    ),
    (DomainError("规则不允许"), ("invalid", 422, "规则不允许", {})),
    (Unlisted("别的拒绝"), ("invalid", 422, "别的拒绝", {})),
]


@pytest.mark.parametrize(
    "error, answer", REFUSALS, ids=[type(error).__name__ for error, _ in REFUSALS]
)
def test_each_refusal_has_its_code_status_message_and_fields(error, answer):
    rpc = rpc_error(error)
    assert (rpc.code, rpc.status, rpc.message, rpc.fields) == answer
    assert rpc.to_dict() == {
        "code": answer[0],
        "message": answer[2],
        "status": answer[1],
        **({"fields": answer[3]} if answer[3] else {}),
    }


def _refusals_defined_in(module) -> list[type[DomainError]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, DomainError)
        and value is not DomainError
        and value.__module__ == module.__name__
    ]


@pytest.mark.parametrize(
    "kind",
    _refusals_defined_in(model) + _refusals_defined_in(workflow),
    ids=lambda kind: kind.__name__,
)
def test_every_refusal_the_workflow_knows_has_a_row_of_its_own_or_a_parents(kind):
    """Not the catch-all DomainError row: a new kind of refusal is given its code and status."""
    row = next(k for k in kind.__mro__ if k in ANSWERS)
    assert row is not DomainError


def test_every_row_of_the_table_is_tried_above():
    assert set(ANSWERS) <= {type(error) for error, _ in REFUSALS}

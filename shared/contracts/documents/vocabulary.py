"""The documents that are printed, and which cases have them yet. Pure: no I/O.

`not_printable` reads a case as the cases service answers case.get (its contract), so the
documents service (which prints) and the gateway (which offers the 打印 buttons) agree.
"""

from dataclasses import dataclass
from typing import Any, Literal, get_args

from shared.contracts.cases.vocabulary import CaseState, Outcome

KindKey = Literal[
    "pre_publicity_roster",
    "registration_form",
    "pre_publicity_report",
    "declaration_form",
    "post_publicity_roster",
    "post_publicity_report",
]


@dataclass(frozen=True)
class DocumentKind:
    key: KindKey
    title: str  # the document's own title
    label: str  # the 打印… button's
    roster: bool = False  # one document per unit and publicity (many people); else per case


KINDS: dict[str, DocumentKind] = {
    k.key: k
    for k in (
        DocumentKind("pre_publicity_roster", "评前公示名册", "评前公示名册", roster=True),
        DocumentKind("registration_form", "专业技术资格评审登记表", "资格评审登记表"),
        DocumentKind("pre_publicity_report", "评前公示情况表", "评前公示情况表"),
        DocumentKind("declaration_form", "评审（申报）表", "评审(申报)表"),
        DocumentKind("post_publicity_roster", "评后公示名单", "评后公示名单", roster=True),
        DocumentKind("post_publicity_report", "评后公示情况表", "评后公示情况表"),
    )
}

assert set(KINDS) == set(get_args(KindKey))

# The states (and closed outcomes) of cases that went through the department's acceptance:
# their 评审（申报）表 exists.
ACCEPTED_STATES = frozenset(
    {
        CaseState.FORM_PRINT_READY,
        CaseState.DEPT_REVIEW,
        CaseState.COMMITTEE_REVIEW,
        CaseState.POST_PUBLICITY_LAUNCH,
        CaseState.POST_PUBLICITY_READY,
        CaseState.POST_PUBLICITY,
        CaseState.DEPT_CONFIRM,
    }
)
ACCEPTED_OUTCOMES = frozenset(
    {Outcome.COMMITTEE_FAILED, Outcome.PASSED, Outcome.POST_PUBLICITY_FAILED}
)
BEFORE_UNIT_APPROVAL = frozenset({CaseState.DRAFT, CaseState.UNIT_REVIEW})

Case = dict[str, Any]  # as case.get answers (cases' rpc.CaseView)
Which = Literal["pre", "post"]


def not_printable(kind: str, case: Case) -> str | None:
    """Why this case has no such document yet; None when it has."""
    state, outcome = case["state"], case.get("outcome")
    if kind == "registration_form":
        if not case.get("unit_approval") or state in BEFORE_UNIT_APPROVAL:
            return "单位尚未审核同意，还没有登记表"
    elif kind in ("pre_publicity_roster", "pre_publicity_report"):
        return _publicity_missing(case, "pre", kind.endswith("report"), "评前")
    elif kind == "declaration_form":
        if state not in ACCEPTED_STATES and outcome not in ACCEPTED_OUTCOMES:
            return "日常工作部门预受理（及需要的前置审批）通过后才能打印评审（申报）表"
        if not case.get("pre_publicity"):
            return "没有评前公示记录，不能打印评审（申报）表"
    elif kind in ("post_publicity_roster", "post_publicity_report"):
        return _publicity_missing(case, "post", kind.endswith("report"), "评后")
    return None


def _publicity_missing(case: Case, which: Which, needs_result: bool, name: str) -> str | None:
    period = case.get(f"{which}_publicity")
    if not period:
        return f"尚未开始{name}公示"
    if needs_result and period.get("passed") is None:
        return f"尚未填写{name}公示意见"
    return None

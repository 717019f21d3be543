"""The work lists (业务列表) of each party: which cases wait there (待办) and which moves make
up its done list (已办). Pure: no I/O.

Which cases of a list a given person may see is the cases service's business (scope.py).
"""

from dataclasses import dataclass
from typing import Literal, get_args

from shared.contracts.cases.vocabulary import Action, CaseState

S, A = CaseState, Action


@dataclass(frozen=True)
class WorkList:
    key: str  # e.g. unit:3
    title: str
    states: tuple[CaseState, ...]  # 待办: cases in these states
    actions: tuple[Action, ...]  # the step's buttons; their moves make up its 已办 list

    @property
    def party(self) -> str:
        return self.key.split(":")[0]


WORK_LISTS = {
    w.key: w
    for w in (
        WorkList("unit:2", "个人填报材料", (S.DRAFT,), ()),
        WorkList("unit:3", "材料审核", (S.UNIT_REVIEW,), (A.APPROVE, A.REJECT)),
        WorkList("unit:4", "打印评前公示材料", (S.PRE_PUBLICITY_READY,), (A.START_PRE_PUBLICITY,)),
        WorkList(
            "unit:5", "填写评前公示意见", (S.PRE_PUBLICITY,), (A.RECORD_PRE_PUBLICITY_RESULT,)
        ),
        WorkList(
            "unit:6",
            "提交日常工作部门",
            (S.DEPT_SUBMIT_READY,),
            (A.SUBMIT_TO_DEPARTMENT, A.WITHDRAW),
        ),
        WorkList("unit:7", "打印评审(申报)表", (S.FORM_PRINT_READY,), (A.PRINT_DECLARATION_FORM,)),
        WorkList("unit:8", "评委会评审", (S.COMMITTEE_REVIEW,), ()),
        WorkList(
            "unit:9", "打印评后公示材料", (S.POST_PUBLICITY_READY,), (A.START_POST_PUBLICITY,)
        ),
        WorkList(
            "unit:10", "填写评后公示意见", (S.POST_PUBLICITY,), (A.RECORD_POST_PUBLICITY_RESULT,)
        ),
        WorkList(
            "department:acceptance", "预受理", (S.DEPT_ACCEPTANCE,), (A.ACCEPT, A.RETURN, A.REFUSE)
        ),
        WorkList("department:review", "审核", (S.DEPT_REVIEW,), (A.FORWARD_TO_COMMITTEE, A.RETURN)),
        WorkList(
            "department:post_publicity",
            "发起评后公示",
            (S.POST_PUBLICITY_LAUNCH,),
            (A.LAUNCH_POST_PUBLICITY,),
        ),
        WorkList("department:confirm", "评后确认", (S.DEPT_CONFIRM,), (A.CONFIRM,)),
        WorkList(
            "office:approval",
            "前置审批",
            (S.OFFICE_APPROVAL,),
            (A.GRANT_PRE_APPROVAL, A.DENY_PRE_APPROVAL),
        ),
        WorkList("committee:review", "评审", (S.COMMITTEE_REVIEW,), (A.PASS_REVIEW, A.FAIL_REVIEW)),
    )
}

# whose lists a role works on
PARTY_OF_ROLE = {
    "unit_admin": "unit",
    "unit_operator": "unit",
    "department": "department",
    "office": "office",
    "committee": "committee",
}


def lists_of_role(role: str) -> list[WorkList]:
    party = PARTY_OF_ROLE.get(role)
    return [w for w in WORK_LISTS.values() if w.party == party]


# A work list's filters (case.list's params) and its orders, with their labels.
LIST_FILTERS = (
    "name",
    "review_type_id",
    "qualification_id",
    "state",
    "department_id",
    "committee_id",
    "round_id",
    "overdue",  # "1": only the cases past their step time limit (超期)
)
ListSort = Literal["updated", "name", "qualification", "status", "case_no"]
LIST_SORTS: dict[ListSort, str] = {
    "updated": "最近办理",
    "name": "人员姓名",
    "qualification": "专业技术资格",
    "status": "业务状态",
    "case_no": "业务编号",
}
assert set(LIST_SORTS) == set(get_args(ListSort))

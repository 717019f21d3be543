"""Who sees which cases, and the work lists of each party. Enforced here, in the owner.

- applicant: their own cases; unit staff: their unit's; a department: the cases of its
  committees once submitted to it; the office: cases that reached pre-approval; a committee:
  its cases once forwarded to it. Nobody else sees any case.
"""

from dataclasses import dataclass

from services.cases.domain.model import Action, CaseState
from shared.rpc import Actor, RpcError

S, A = CaseState, Action
UNIT_ROLES = ("unit_admin", "unit_operator")


def visibility(actor: Actor, first_arg: int) -> tuple[str, list]:
    """A SQL condition on `c` (alias of cases) and its arguments, numbered from first_arg."""
    n = f"${first_arg}"
    if actor.role == "applicant" and actor.user_id:
        return f"c.applicant_id = {n}", [actor.user_id]
    if actor.role in UNIT_ROLES and actor.unit_id:
        return f"c.unit_id = {n}", [actor.unit_id]
    if actor.role == "department" and actor.org_id:
        return f"(c.department_id = {n} AND c.reached_department)", [actor.org_id]
    if actor.role == "office" and actor.org_id:
        return "c.reached_office", []
    if actor.role == "committee" and actor.org_id:
        return f"(c.committee_id = {n} AND c.reached_committee)", [actor.org_id]
    raise RpcError("forbidden", "您没有权限查看申报业务", 403)


def party_id(actor: Actor) -> str:
    """Whose 已办 list a move goes to: the unit, or the reviewer organisation."""
    if actor.role in UNIT_ROLES:
        return str(actor.unit_id)
    if actor.role in ("department", "office", "committee"):
        return str(actor.org_id)
    return str(actor.user_id)


@dataclass(frozen=True)
class WorkList:
    key: str  # e.g. unit:3
    title: str
    states: tuple[CaseState, ...]  # 待办: cases in these states
    actions: tuple[Action, ...]  # the step's buttons; their moves make up its 已办 list


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

PARTY_OF_ROLE = {
    "unit_admin": "unit",
    "unit_operator": "unit",
    "department": "department",
    "office": "office",
    "committee": "committee",
}


def lists_for(actor: Actor) -> list[WorkList]:
    party = PARTY_OF_ROLE.get(actor.role)
    return [w for w in WORK_LISTS.values() if w.key.split(":")[0] == party]


# The unit's steps an applicant may take in its place: printing their own 评审(申报)表 is the
# unit's step 7 done, exactly as the unit's print (manual §2.6), so the case goes to the unit's
# 打印评审(申报)表 已办 list, not to a list of the applicant's (they have none).
FOR_THE_UNIT = {"applicant": frozenset({Action.PRINT_DECLARATION_FORM})}


def done_entry(
    actor: Actor, action: Action, from_state: CaseState, unit_id
) -> tuple[str, str] | None:
    """(party, list) of the 已办 list a move on a case of `unit_id` goes to, if any."""
    if action in FOR_THE_UNIT.get(actor.role, ()):
        key = _done_list("unit", action, from_state)
        return (str(unit_id), key) if key else None
    key = done_list_of(actor, action, from_state)
    return (party_id(actor), key) if key else None


def done_list_of(actor: Actor, action: Action, from_state: CaseState) -> str | None:
    """The 已办 list a move belongs to, for the party that made it."""
    return _done_list(PARTY_OF_ROLE.get(actor.role), action, from_state)


def _done_list(party: str | None, action: Action, from_state: CaseState) -> str | None:
    for work_list in WORK_LISTS.values():
        if (
            work_list.key.split(":")[0] == party
            and action in work_list.actions
            and from_state in work_list.states
        ):
            return work_list.key
    return None

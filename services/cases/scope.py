"""Who sees which cases, and the work lists of each party. Enforced here, in the owner.

- applicant: their own cases; unit staff: their unit's; a department: the cases of its
  committees once submitted to it; the office: cases that reached pre-approval; a committee:
  its cases once forwarded to it; a review expert: the cases of the meetings they sit, once
  they sat (present when the vote opened), but for those they do not vote on (recused, or a
  title below the case's). Nobody else sees any case.
"""

from shared.contracts.accounts.vocabulary import UNIT_ROLES
from shared.contracts.cases.vocabulary import Action, CaseState
from shared.contracts.cases.work_lists import PARTY_OF_ROLE, WORK_LISTS, WorkList, lists_of_role
from shared.rpc import Actor, RpcError


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
    if actor.role == "expert" and actor.user_id:
        return EXPERT_SEES.format(n=n), [actor.user_id]
    raise RpcError("forbidden", "您没有权限查看申报业务", 403)


def statistics_visibility(actor: Actor, first_arg: int) -> tuple[str, list]:
    """The statistics' cells an actor adds up (case_statistics has the columns `visibility`
    reads): the cases a department, the office or a committee sees; every case for the
    sysadmin. Nobody else has statistics."""
    if actor.role == "sysadmin" and actor.user_id:
        return "true", []
    if actor.role in ("department", "office", "committee"):
        return visibility(actor, first_arg)
    raise RpcError("forbidden", "只有日常工作部门、专技处、评委会和系统管理员可以查看统计", 403)


EXPERT_SEES = (
    "c.id IN (SELECT mc.case_id FROM meeting_cases mc"
    " JOIN meetings m ON m.id = mc.meeting_id AND m.phase IN ('voting', 'closed')"
    " JOIN meeting_members mm ON mm.meeting_id = mc.meeting_id AND mm.present"
    " JOIN expert_accounts a ON a.id_number_index = mm.id_number_index AND a.user_id = {n}"
    " WHERE NOT EXISTS (SELECT 1 FROM meeting_exclusions x WHERE x.meeting_id = mc.meeting_id"
    " AND x.case_id = mc.case_id AND x.expert_id = mm.expert_id))"
)


def objection_visibility(actor: Actor, first_arg: int) -> tuple[str, list]:
    """Where an actor takes objections in and reads them (docs/integrity.md): a unit its own
    cases; a department its cases once submitted, and those of its committees in 评前公示
    too, since someone may bring an objection to it before the unit submits the case."""
    if actor.role == "department" and actor.org_id:
        n = f"${first_arg}"
        reach = f"(c.reached_department OR c.state = '{CaseState.PRE_PUBLICITY.value}')"
        return f"(c.department_id = {n} AND {reach})", [actor.org_id]
    if actor.role in UNIT_ROLES and actor.unit_id:
        return visibility(actor, first_arg)
    raise RpcError("forbidden", "只有申报人所在单位和日常工作部门可以办理异议", 403)


def party_id(actor: Actor) -> str:
    """Whose 已办 list a move goes to: the unit, or the reviewer organisation."""
    if actor.role in UNIT_ROLES:
        return str(actor.unit_id)
    if actor.role in ("department", "office", "committee"):
        return str(actor.org_id)
    return str(actor.user_id)


def lists_for(actor: Actor) -> list[WorkList]:
    return lists_of_role(actor.role)


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
            work_list.party == party
            and action in work_list.actions
            and from_state in work_list.states
        ):
            return work_list.key
    return None

"""Random but lawful case histories, for the statistics' tests and bench: the moves a case in
a given state could have made to get there (returns, failed publicities and reviews, notes
that move nothing), with times between its creation and its last change. Every move is one
of the state machine's transitions (shared/contracts/cases/vocabulary.py TRANSITIONS)."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.contracts.accounts.vocabulary import Role
from shared.contracts.cases.integrity import CaseNote
from shared.contracts.cases.vocabulary import (
    ACTION_ROLES,
    ARROW,
    TRANSITIONS,
    Action,
    CaseState,
    Outcome,
)

S, A = CaseState, Action

# The way forward from each state (accept depends on pre-approval: see _forward).
FORWARD = {
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
ORDER = [
    S.DRAFT, S.UNIT_REVIEW, S.PRE_PUBLICITY_READY, S.PRE_PUBLICITY, S.DEPT_SUBMIT_READY,
    S.DEPT_ACCEPTANCE, S.OFFICE_APPROVAL, S.FORM_PRINT_READY, S.DEPT_REVIEW,
    S.COMMITTEE_REVIEW, S.POST_PUBLICITY_LAUNCH, S.POST_PUBLICITY_READY, S.POST_PUBLICITY,
    S.DEPT_CONFIRM,
]  # fmt: skip
# Where a closed case with each outcome left the path, and by which action.
CLOSED_FROM = {
    Outcome.CANCELLED: (S.DRAFT, A.CANCEL),
    Outcome.PRE_PUBLICITY_FAILED: (S.PRE_PUBLICITY, A.RECORD_PRE_PUBLICITY_RESULT),
    Outcome.NOT_ACCEPTED: (S.DEPT_ACCEPTANCE, A.REFUSE),
    Outcome.PRE_APPROVAL_DENIED: (S.OFFICE_APPROVAL, A.DENY_PRE_APPROVAL),
    Outcome.COMMITTEE_FAILED: (S.COMMITTEE_REVIEW, A.FAIL_REVIEW),
    Outcome.POST_PUBLICITY_FAILED: (S.DEPT_CONFIRM, A.CONFIRM),
    Outcome.PASSED: (S.DEPT_CONFIRM, A.CONFIRM),
}
OUTCOME_WEIGHTS = {
    Outcome.PASSED: 55,
    Outcome.CANCELLED: 5,
    Outcome.PRE_PUBLICITY_FAILED: 6,
    Outcome.NOT_ACCEPTED: 5,
    Outcome.PRE_APPROVAL_DENIED: 4,
    Outcome.COMMITTEE_FAILED: 18,
    Outcome.POST_PUBLICITY_FAILED: 7,
}
NOTE_ACTIONS = (CaseNote.OBJECTION_RECORDED, CaseNote.OBJECTION_FOUND)


@dataclass(frozen=True)
class Move:
    action: str  # an Action, or a CaseNote (from_state == to_state)
    from_state: CaseState
    to_state: CaseState
    outcome: Outcome | None = None
    inputs: dict | None = None


@dataclass
class History:
    state: CaseState
    outcome: Outcome | None
    needs_pre_approval: bool
    moves: list[Move]

    @property
    def last_action(self) -> str | None:
        moved = [m.action for m in self.moves if m.action in ACTIONS]
        return moved[-1] if moved else None

    def reached(self, state: CaseState) -> bool:
        return any(m.to_state is state for m in self.moves)

    @property
    def status_label(self) -> str:
        return status_after(self.moves)


ACTIONS = frozenset(a.value for a in A)


def status_after(moves: list[Move]) -> str:
    """业务状态 after these moves (a note leaves it as it was)."""
    moved = [m for m in moves if m.action in ACTIONS]
    if not moved:
        return S.DRAFT.label
    last = moved[-1]
    return f"{A(last.action).done}{ARROW}{last.to_state.label}"


def random_outcome(rng: random.Random, needs_pre_approval: bool) -> Outcome:
    denied = Outcome.PRE_APPROVAL_DENIED
    outcomes = [o for o in OUTCOME_WEIGHTS if needs_pre_approval or o is not denied]
    return rng.choices(outcomes, [OUTCOME_WEIGHTS[o] for o in outcomes])[0]


def history_to(
    rng: random.Random, state: CaseState, needs_pre_approval: bool, outcome: Outcome | None = None
) -> History:
    """Moves from draft to `state` (to `outcome` when closed), with detours: returns by the
    department, a second publicity after a return to draft, objection notes."""
    if state is S.CLOSED:
        outcome = outcome or random_outcome(rng, needs_pre_approval)
        last, closing = CLOSED_FROM[outcome]
    else:
        last, closing, outcome = state, None, None
    moves: list[Move] = []
    current = S.DRAFT
    while current is not last:
        current = _step(rng, moves, current, needs_pre_approval, last)
    if closing is not None:
        moves.append(_move(closing, last, S.CLOSED, outcome))
    return History(state, outcome, needs_pre_approval, moves)


def _step(rng, moves: list[Move], current: CaseState, needs_pre: bool, goal: CaseState):
    """One move from `current` towards `goal`; sometimes a detour that comes back."""
    if current is S.DEPT_ACCEPTANCE and rng.random() < 0.12:
        target = rng.choice((S.DEPT_SUBMIT_READY, S.DRAFT))
        moves.append(_move(A.RETURN, current, target, inputs={"target": target.value}))
        return target
    if current is S.DEPT_REVIEW and rng.random() < 0.08:
        moves.append(_move(A.RETURN, current, S.FORM_PRINT_READY))
        return S.FORM_PRINT_READY
    if current is S.UNIT_REVIEW and rng.random() < 0.08:
        moves.append(_move(A.REJECT, current, S.DRAFT))
        return S.DRAFT
    if current in (S.PRE_PUBLICITY, S.POST_PUBLICITY) and rng.random() < 0.1:
        note = rng.choice(NOTE_ACTIONS)
        moves.append(Move(note.value, current, current))  # a note: the case stays
    target = _forward(current, needs_pre)
    if ORDER.index(target) > ORDER.index(goal):
        raise ValueError(f"no way to {goal} for a case with needs_pre_approval={needs_pre}")
    moves.append(_move(FORWARD[current], current, target))
    return target


def _forward(current: CaseState, needs_pre: bool) -> CaseState:
    if current is S.DEPT_ACCEPTANCE:
        return S.OFFICE_APPROVAL if needs_pre else S.FORM_PRINT_READY
    (target,) = [t for t in TRANSITIONS[current][FORWARD[current]] if t is not S.CLOSED]
    return target


PASSED_INPUT = {"passed": True, "feedback": "公示期间无异议"}
FAILED_INPUT = {"passed": False, "feedback": "公示期间有异议，经核实成立"}


def _move(action: Action, frm: CaseState, to: CaseState, outcome=None, inputs=None) -> Move:
    if action in (A.RECORD_PRE_PUBLICITY_RESULT, A.RECORD_POST_PUBLICITY_RESULT):
        inputs = FAILED_INPUT if outcome is Outcome.PRE_PUBLICITY_FAILED else PASSED_INPUT
    return Move(action.value, frm, to, outcome, inputs or {})


def post_publicity_failed(history: History) -> History:
    """The recorded post-publicity result of a case closed 评后公示不通过 says so."""
    if history.outcome is not Outcome.POST_PUBLICITY_FAILED:
        return history
    moves = [
        Move(m.action, m.from_state, m.to_state, m.outcome, FAILED_INPUT)
        if m.action == A.RECORD_POST_PUBLICITY_RESULT
        else m
        for m in history.moves
    ]
    return History(history.state, history.outcome, history.needs_pre_approval, moves)


def times(rng: random.Random, count: int, start: datetime, end: datetime) -> list[datetime]:
    """`count` sorted instants in (start, end], the last one `end`."""
    if count == 0:
        return []
    span = (end - start).total_seconds()
    inner = sorted(rng.uniform(0, span) for _ in range(count - 1))
    return [start + timedelta(seconds=s) for s in inner] + [end]


def actor_role(action: str) -> Role:
    try:
        return sorted(ACTION_ROLES[A(action)])[0]
    except ValueError:
        return Role.DEPARTMENT  # a note: the department took the objection in

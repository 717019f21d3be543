"""What a case adds to the statistics (统计查询), from its history. Pure: no I/O.

The statistics are sums over cells (`Cell`): a cell is one thing counted (`Figure`) on one day
for one combination of the dimensions the filters and the scopes need (round, department,
committee, qualification, and the reached_* marks that decide who may see a case). A case's
`contributions` are computed from the case and its whole history; the service keeps the sum
of every case's contributions in a table, adding the difference each move makes
(services/cases/statistics_store.py), and answers every figure from that table.
docs/reports.md "Statistics" defines each figure.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from services.cases.domain.calendar import local_date
from shared.contracts.cases.vocabulary import Action, CaseState, Outcome

S, A = CaseState, Action
SECONDS_PER_DAY = 86_400


class Figure(StrEnum):
    """What a cell counts, and the day it counts on."""

    CASE = "case"  # a case, in its current state: on the day it was opened
    STAY = "stay"  # a case's time in a state, ended by a move: on the day of that move
    COMMITTEE = "committee"  # 评审通过 / 评审不通过 (a meeting's close or the buttons)
    PRE_PUBLICITY = "pre_publicity"  # 填写评前公示意见: one publicity period's result
    POST_PUBLICITY = "post_publicity"  # 确认办结: the 评后公示's result, objections included
    RETURN = "return"  # 退回 by the department: on the day of the return


PASSED, FAILED = "passed", "failed"

# Where each state stands on the unit home's ten-step flow: the step itself, or, for the
# reviewers' states between two steps, the step the case last passed through (docs/reports.md).
STEP_OF_STATE: Mapping[CaseState, int | None] = {
    S.DRAFT: 2,
    S.UNIT_REVIEW: 3,
    S.PRE_PUBLICITY_READY: 4,
    S.PRE_PUBLICITY: 5,
    S.DEPT_SUBMIT_READY: 6,
    S.DEPT_ACCEPTANCE: 6,
    S.OFFICE_APPROVAL: 6,
    S.FORM_PRINT_READY: 7,
    S.DEPT_REVIEW: 7,
    S.COMMITTEE_REVIEW: 8,
    S.POST_PUBLICITY_LAUNCH: 8,
    S.POST_PUBLICITY_READY: 9,
    S.POST_PUBLICITY: 10,
    S.DEPT_CONFIRM: 10,
    S.CLOSED: None,
}
MOVES = frozenset(a.value for a in Action)  # the history's other rows are notes


@dataclass(frozen=True)
class CaseFacts:
    """What of a case the statistics keep besides its history: it never changes."""

    round_id: str
    department_id: str
    committee_id: str
    qualification_id: str
    unit_id: str
    created_at: datetime


@dataclass(frozen=True)
class HistoryRow:
    """A row of the case history, in order: a move, or a note (which moves nothing)."""

    action: str
    from_state: CaseState
    to_state: CaseState
    outcome: Outcome | None
    at: datetime

    @property
    def is_move(self) -> bool:
        return self.action in MOVES


class Cell(NamedTuple):
    figure: str
    on_day: date
    round_id: str
    department_id: str
    committee_id: str
    qualification_id: str  # a CASE cell's; '' for the others
    reached_department: bool
    reached_office: bool
    reached_committee: bool
    key: str  # CASE, STAY: the state; decisions: passed/failed; RETURN: the unit id
    detail: str  # CASE: the outcome ('' until closed); STAY: whole days; RETURN: from state


class Amount(NamedTuple):
    n: int
    seconds: int = 0  # STAY: the stays' total length


Contributions = dict[Cell, Amount]
CASE, STAY, RETURN = Figure.CASE.value, Figure.STAY.value, Figure.RETURN.value
# The reached_* marks of the cases table: set once the case has been in these states.
REACH = (S.DEPT_ACCEPTANCE, S.OFFICE_APPROVAL, S.COMMITTEE_REVIEW)


def contributions(case: CaseFacts, history: Sequence[HistoryRow]) -> Contributions:
    """Everything this case adds to the statistics, given its history so far."""
    moves = [row for row in history if row.is_move]
    reached = tuple(any(m.to_state is state for m in moves) for state in REACH)
    where = (case.round_id, case.department_id, case.committee_id)
    state = moves[-1].to_state if moves else S.DRAFT
    closed_as = moves[-1].outcome.value if state is S.CLOSED and moves[-1].outcome else ""
    found: Contributions = {}
    opened = Cell(
        CASE, local_date(case.created_at), *where, case.qualification_id, *reached,
        state.value, closed_as,
    )  # fmt: skip
    add(found, opened)
    entered = case.created_at
    for move in moves:
        day = local_date(move.at)
        # history order is the truth; a clock set back must not make a stay negative
        seconds = max(0, round((move.at - entered).total_seconds()))
        days = str(whole_days(seconds))
        add(found, Cell(STAY, day, *where, "", *reached, move.from_state.value, days), 1, seconds)
        if (decision := _decision(move)) is not None:
            add(found, Cell(decision[0], day, *where, "", *reached, decision[1], ""))
        if move.action == A.RETURN:
            from_state = move.from_state.value
            add(found, Cell(RETURN, day, *where, "", *reached, case.unit_id, from_state))
        entered = move.at
    return found


def _decision(move: HistoryRow) -> tuple[str, str] | None:
    if move.action in (A.PASS_REVIEW, A.FAIL_REVIEW):
        return Figure.COMMITTEE.value, PASSED if move.action == A.PASS_REVIEW else FAILED
    if move.action == A.RECORD_PRE_PUBLICITY_RESULT:
        return Figure.PRE_PUBLICITY.value, FAILED if move.to_state is S.CLOSED else PASSED
    if move.action == A.CONFIRM:
        return Figure.POST_PUBLICITY.value, PASSED if move.outcome is Outcome.PASSED else FAILED
    return None


def whole_days(seconds: int) -> int:
    """A stay's length rounded up to whole days (0 for none): the p90's unit."""
    return -(-seconds // SECONDS_PER_DAY)


def add(sums: Contributions, cell: Cell, n: int = 1, seconds: int = 0) -> None:
    held = sums.get(cell)
    sums[cell] = Amount(n, seconds) if held is None else Amount(held.n + n, held.seconds + seconds)


def add_all(sums: Contributions, amounts: Contributions, sign: int = 1) -> None:
    for cell, amount in amounts.items():
        add(sums, cell, sign * amount.n, sign * amount.seconds)


def difference(before: Contributions, after: Contributions) -> Contributions:
    """What to add to the sums to go from `before` to `after`: the cells that change."""
    changed = dict(after)
    add_all(changed, before, -1)
    return {cell: amount for cell, amount in changed.items() if amount.n or amount.seconds}


def percentile_days(histogram: Mapping[int, int], percent: int = 90) -> int | None:
    """The least whole number of days within which `percent` % of the stays ended (the
    nearest-rank percentile); None for no stays. `histogram`: stays by whole days."""
    count = sum(histogram.values())
    if count == 0:
        return None
    running = 0
    for days in sorted(histogram):
        running += histogram[days]
        if running * 100 >= percent * count:
            return days
    raise AssertionError("unreachable: the running total reaches the count")

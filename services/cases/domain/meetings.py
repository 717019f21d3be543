"""A review meeting's life (docs/committee.md): planned, drawn, voting, closed (or cancelled
before its vote). Pure: no I/O; today, seeds, attendance and counts are arguments. The
numbers (size, quorum, the pass rule) are committee.py's; this module says which act fits
which phase and what each act needs.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time

from services.cases.domain.committee import (
    Applicant,
    Expert,
    NotEligible,
    Recusal,
    RuleBroken,
    SizeBounds,
    Voting,
    VotingNotOpen,
    passes,
    recusal_of,
)
from services.cases.domain.experts import serves_on
from shared.contracts.cases.meetings import MeetingPhase

PLACE_LENGTH = 100
REASON_LENGTH = 200
TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


class WrongPhase(RuleBroken):
    code = "wrong_phase"


# --- planning ---


@dataclass(frozen=True)
class Plan:
    round_id: str
    meets_on: date
    starts_at: time
    place: str
    size: int


def check_plan(
    form: Mapping[str, str], bounds: SizeBounds, rounds: Iterable[str], today: date
) -> tuple[Plan | None, dict[str, str]]:
    """The plan, or None and a Chinese message per field."""
    values = {k: (form.get(k) or "").strip() for k in ("round_id", "meets_on", "starts_at")}
    values |= {k: (form.get(k) or "").strip() for k in ("place", "size")}
    errors: dict[str, str] = {}
    if values["round_id"] not in set(rounds):
        errors["round_id"] = "请选择评审年度"
    meets_on = _day(values["meets_on"], today, errors)
    starts_at = _time(values["starts_at"], errors)
    if not values["place"]:
        errors["place"] = "请填写会议地点"
    elif len(values["place"]) > PLACE_LENGTH:
        errors["place"] = f"会议地点不能超过{PLACE_LENGTH}个字"
    size = _size(values["size"], bounds, errors)
    if errors:
        return None, errors
    return Plan(values["round_id"], meets_on, starts_at, values["place"], size), {}


def _day(raw: str, today: date, errors: dict[str, str]) -> date | None:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors["meets_on"] = "会议日期须为有效日期，格式为 YYYY-MM-DD"
        return None
    if day < today:
        errors["meets_on"] = "会议日期不能早于今天"
    return day


def _time(raw: str, errors: dict[str, str]) -> time | None:
    found = TIME.fullmatch(raw)
    if not found:
        errors["starts_at"] = "开始时间须为 HH:MM，如 09:00"
        return None
    return time(int(found.group(1)), int(found.group(2)))


def _size(raw: str, bounds: SizeBounds, errors: dict[str, str]) -> int:
    if not raw.isdecimal():
        errors["size"] = "请填写评审会议人数（奇数）"
        return 0
    size = int(raw)
    if problem := bounds.problem(size):
        errors["size"] = problem
    return size


def require_phase(phase: MeetingPhase, *allowed: MeetingPhase, act: str) -> None:
    if phase not in allowed:
        raise WrongPhase(f"评审会议{phase.label}，不能{act}")


# --- the draw's pool ---


@dataclass(frozen=True)
class LibraryEntry:
    """An expert of the committee's library as the draw sees them."""

    expert: Expert
    joined_on: date
    term_ends_on: date
    removed_on: date | None


def pool_of(
    entries: Iterable[LibraryEntry],
    cases: Sequence[Applicant],
    declared: frozenset[tuple[str, str]],
    day: date,
) -> list[str]:
    """Who may be drawn: in their term on the meeting's day and able to vote on at least one
    of its cases (qualified for it and not recused on it). Sorted ids: the pool as stored."""
    if not cases:
        raise RuleBroken("评审会议还没有申报人，请先分配待评审的申报")
    return sorted(
        e.expert.expert_id
        for e in entries
        if serves_on(e.joined_on, e.term_ends_on, e.removed_on, day)
        and any(recusal_of(e.expert, case, declared) is None for case in cases)
    )


def exclusions(
    experts: Iterable[Expert], cases: Iterable[Applicant], declared: frozenset[tuple[str, str]]
) -> list[tuple[str, str, Recusal]]:
    """(case id, expert id, why) of every expert who does not vote on a case."""
    experts = tuple(experts)
    return [
        (case.case_id, expert.expert_id, reason)
        for case in cases
        for expert in experts
        if (reason := recusal_of(expert, case, declared)) is not None
    ]


# --- opening the vote ---


def check_opening(
    seated: Sequence[str], present: Iterable[str], cases: Sequence[str], excluded: Iterable
) -> Voting:
    """The vote as it opens, or NoQuorum / NotEligible with the numbers in Chinese.

    `excluded`: (case id, expert id) pairs; the members are those seated now."""
    by_case: dict[str, set[str]] = {}
    for case_id, expert_id in excluded:
        by_case.setdefault(case_id, set()).add(expert_id)
    voting = Voting(
        members=frozenset(seated),
        cases=tuple(cases),
        recused={c: frozenset(e) for c, e in by_case.items()},
    )
    voting.open(present)
    return voting


# --- one vote ---


def ballot_problem(
    phase: MeetingPhase,
    present: bool | None,
    in_meeting: bool,
    excluded: str | None,
) -> RuleBroken | None:
    """Why this vote may not be cast, or None. `present` is None for someone who does not sit
    the meeting; the one who votes is always the one signed in (no proxy can be named)."""
    if phase != MeetingPhase.VOTING:
        return VotingNotOpen("表决未开始或已结束，不能投票")
    if not in_meeting:
        return NotEligible("该申报人不在本次会议评审范围内")
    if not present:
        return NotEligible("您未出席本次会议，不能投票")
    if excluded is not None:
        return NotEligible("您对该申报人回避或不参与表决，不能投票")
    return None


# --- closing ---


@dataclass(frozen=True)
class CaseResult:
    case_id: str
    present: int
    eligible: int
    agree: int
    disagree: int
    abstain: int
    passed: bool

    def record(self) -> dict:
        """The tally as the case history keeps it (the unit and applicant never see it)."""
        return {
            "present": self.present,
            "eligible": self.eligible,
            "agree": self.agree,
            "disagree": self.disagree,
            "abstain": self.abstain,
            "passed": self.passed,
        }


def results(
    present: int, counts: Mapping[str, tuple[int, int, int]], eligible: Mapping[str, int]
) -> list[CaseResult]:
    """Each case's result by the pass rule; `counts`: (同意, 不同意, 弃权) by case id."""
    out = []
    for case_id, (agree, disagree, abstain) in counts.items():
        if agree + disagree + abstain != eligible[case_id]:
            raise RuleBroken("还有未投的票，不能结束表决")
        out.append(
            CaseResult(
                case_id,
                present,
                eligible[case_id],
                agree,
                disagree,
                abstain,
                passes(agree, eligible[case_id]),
            )
        )
    return out


def owed_message(owed: Mapping[str, int]) -> str:
    """Who still has to vote, for the secretary: 还有 3 票未投：张三 2 票、李四 1 票."""
    total = sum(owed.values())
    who = "、".join(f"{name} {n} 票" for name, n in sorted(owed.items(), key=lambda i: -i[1]))
    return f"还有 {total} 票未投，不能结束表决：{who}"

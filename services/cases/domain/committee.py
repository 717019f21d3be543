"""The committee's rules (COMMITTEE.md, docs/committee.md): how many sit a meeting, the draw,
recusal, quorum, the secret ballot and the two-thirds pass rule. Pure: no I/O; seeds,
attendance and votes are arguments.

Every fraction is integer arithmetic: quorum is 3 × present ≥ 2 × members, a pass is
3 × 同意 ≥ 2 × eligible, never a float compared with 0.667.
"""

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

# --- errors: each names the rule it guards ---


class RuleBroken(Exception):
    """An act the rules forbid; `message` is the Chinese text shown to the person."""

    code = "rule_broken"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoQuorum(RuleBroken):
    code = "no_quorum"


class NotEnoughExperts(RuleBroken):
    code = "not_enough_experts"


class NotEligible(RuleBroken):
    code = "not_eligible"


class AlreadyVoted(RuleBroken):
    code = "already_voted"


class VotingNotOpen(RuleBroken):
    code = "voting_not_open"


class ProxyVote(RuleBroken):
    code = "proxy_vote"


class VotesMissing(RuleBroken):
    code = "votes_missing"


# --- how many sit a meeting ---


class Basis(StrEnum):
    """What a committee is formed by: a whole series (按系列) or one speciality (按专业)."""

    SERIES = "series"
    SPECIALITY = "speciality"


SENIOR_LEVELS = frozenset({"正高", "副高"})


@dataclass(frozen=True)
class SizeRules:
    """Minimum members of a meeting; 高级 is the national rule, the rest local practice.
    The service takes them from its settings (services/cases/settings.py)."""

    senior_by_series: int = 25
    senior_by_speciality: int = 11
    intermediate_by_series: int = 15
    intermediate_by_speciality: int = 7
    junior: int = 7
    reserve_ratio: int = 2  # experts drawn per seat: the member and ratio - 1 reserves

    def minimum(self, level: str, basis: Basis) -> int:
        if level in SENIOR_LEVELS:
            return self.senior_by_series if basis == Basis.SERIES else self.senior_by_speciality
        if level == "中级":
            if basis == Basis.SERIES:
                return self.intermediate_by_series
            return self.intermediate_by_speciality
        return self.junior


@dataclass(frozen=True)
class SizeBounds:
    minimum: int
    maximum: int | None = None  # a committee's own cap, if it has one

    def problem(self, size: int) -> str | None:
        """Why a meeting of `size` members may not sit, or None."""
        if size % 2 == 0:
            return "评审会议人数须为奇数"
        if size < self.minimum:
            return f"评审会议人数不得少于 {self.minimum} 人"
        if self.maximum is not None and size > self.maximum:
            return f"评审会议人数不得多于 {self.maximum} 人"
        return None


def size_bounds(
    level: str,
    basis: Basis,
    rules: SizeRules = SizeRules(),  # noqa: B008 (frozen: one shared default is safe)
    minimum: int | None = None,
    maximum: int | None = None,
) -> SizeBounds:
    """The bounds of a committee's meetings; `minimum`/`maximum`: its own adjustment (a
    region may change the minimum with provincial approval)."""
    least = minimum if minimum is not None else rules.minimum(level, basis)
    if least % 2 == 0:
        least += 1  # an odd number: the least odd size that meets the minimum
    return SizeBounds(least, maximum)


# --- the draw ---


@dataclass(frozen=True)
class Draw:
    """What a draw stores to be checked later: the seed, the pool, the size, the result."""

    seed: str
    pool: tuple[str, ...]  # expert ids, sorted: the order does not change the result
    size: int
    members: tuple[str, ...]  # in drawn order
    reserves: tuple[str, ...]  # in drawn order: the first replaces the first who declines

    def seated(self, declined: Iterable[str] = ()) -> tuple[str, ...]:
        """The members after those who declined before the meeting were replaced, each by
        the next reserve in drawn order; fewer than `size` when the reserves ran out."""
        out = set(declined)
        drawn = [e for e in (*self.members, *self.reserves) if e not in out]
        return tuple(drawn[: self.size])


def draw_key(seed: str, expert_id: str) -> str:
    """An expert's place in the draw: SHA-256 of "seed:expert id", as hex (docs/committee.md
    shows how to recompute it with sha256sum)."""
    return hashlib.sha256(f"{seed}:{expert_id}".encode()).hexdigest()


def drawn_order(seed: str, pool: Iterable[str]) -> list[str]:
    return sorted(pool, key=lambda expert_id: (draw_key(seed, expert_id), expert_id))


def draw(seed: str, pool: Iterable[str], size: int, reserve_ratio: int = 2) -> Draw:
    """Draw `size` members and up to (reserve_ratio - 1) × size reserves from the pool.

    Each expert is ranked by draw_key(seed, id): the same seed and pool give the same draw
    whatever the pool's order, on any machine and any Python version."""
    experts = tuple(sorted(set(pool)))
    if size < 1:
        raise RuleBroken("评审会议人数须至少为 1 人")
    if size > len(experts):
        raise NotEnoughExperts(f"可抽取的专家只有 {len(experts)} 人，不足 {size} 人")
    order = drawn_order(seed, experts)
    reserves = order[size : size * max(reserve_ratio, 1)]
    return Draw(seed, experts, size, tuple(order[:size]), tuple(reserves))


# --- recusal (回避): per case ---


class Recusal(StrEnum):
    """Why an expert does not vote on a case: the two recusals (回避), and a title that does
    not reach the case's (not a 回避, but the same effect: not eligible on that case)."""

    label: str

    def __new__(cls, value: str, label: str) -> "Recusal":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    SAME_UNIT = "same_unit", "与申报人同一工作单位"
    DECLARED = "declared", "申报利害关系回避"
    NOT_QUALIFIED = "not_qualified", "职称系列或级别不符"


def unit_key(name: str) -> str:
    """A unit's name as compared: NFKC (full-width brackets and letters), no spaces."""
    return "".join(unicodedata.normalize("NFKC", name).split())


@dataclass(frozen=True)
class WorkUnit:
    """A registered unit (its id) or a name typed by hand."""

    unit_id: str | None = None
    name: str = ""

    def same_as(self, other: "WorkUnit") -> bool:
        if self.unit_id and other.unit_id:
            return self.unit_id == other.unit_id
        return bool(unit_key(self.name)) and unit_key(self.name) == unit_key(other.name)


LEVEL_RANK = {"初级": 1, "中级": 2, "副高": 3, "正高": 4}


@dataclass(frozen=True)
class Expert:
    expert_id: str
    unit: WorkUnit
    series_id: str = ""  # the series of their title; "" where it does not matter
    level: str = ""  # 正高/副高/中级/初级; "" where it does not matter


@dataclass(frozen=True)
class Applicant:
    """A case before the meeting, as recusal sees it: its applicant's work unit, and the
    series and level of the qualification applied for."""

    case_id: str
    unit: WorkUnit
    series_id: str = ""
    level: str = ""


def qualified_for(expert: Expert, case: Applicant) -> bool:
    """An expert reviews cases of their own series at their level or below: a 副高 case needs
    at least a 副高 expert, a 正高 case a 正高 one."""
    if expert.series_id and case.series_id and expert.series_id != case.series_id:
        return False
    if expert.level and case.level:
        return LEVEL_RANK[expert.level] >= LEVEL_RANK[case.level]
    return True


def recusal_of(
    expert: Expert, case: Applicant, declared: frozenset[tuple[str, str]] = frozenset()
) -> Recusal | None:
    """Why the expert does not vote on this case, or None. `declared`: (expert id, case id)
    pairs the expert declared or the secretary recorded (a relative, any other interest)."""
    if (expert.expert_id, case.case_id) in declared:
        return Recusal.DECLARED
    if expert.unit.same_as(case.unit):
        return Recusal.SAME_UNIT
    if not qualified_for(expert, case):
        return Recusal.NOT_QUALIFIED
    return None


def recusals(
    experts: Iterable[Expert],
    cases: Iterable[Applicant],
    declared: frozenset[tuple[str, str]] = frozenset(),
) -> dict[str, dict[str, Recusal]]:
    """case id -> {expert id: reason} for every case, empty when nobody withdraws."""
    experts = tuple(experts)
    table: dict[str, dict[str, Recusal]] = {}
    for case in cases:
        table[case.case_id] = {
            e.expert_id: reason for e in experts if (reason := recusal_of(e, case, declared))
        }
    return table


def may_vote_on_any(
    expert: Expert, cases: Sequence[Applicant], declared: frozenset[tuple[str, str]]
) -> bool:
    """An expert recused on every case of a meeting would fill a seat without a vote: the
    draw's pool leaves them out."""
    return any(recusal_of(expert, case, declared) is None for case in cases)


# --- quorum and the pass rule ---


def has_quorum(present: int, members: int) -> bool:
    """Voting may start when at least two thirds of the members are present."""
    return members > 0 and 3 * present >= 2 * members


def passes(agree: int, eligible: int) -> bool:
    """同意 ≥ 2/3 of the experts eligible on the case (present and not recused)."""
    if eligible < 1:
        raise NotEligible("该申报人没有可以表决的评审专家")
    return 3 * agree >= 2 * eligible


# --- the secret ballot ---


class Choice(StrEnum):
    label: str

    def __new__(cls, value: str, label: str) -> "Choice":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    AGREE = "agree", "同意"
    DISAGREE = "disagree", "不同意"
    ABSTAIN = "abstain", "弃权"


class Phase(StrEnum):
    ATTENDANCE = "attendance"  # members arriving; no vote yet
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class Tally:
    agree: int = 0
    disagree: int = 0
    abstain: int = 0

    def add(self, choice: Choice) -> None:
        setattr(self, str(choice), getattr(self, str(choice)) + 1)

    @property
    def cast(self) -> int:
        return self.agree + self.disagree + self.abstain


@dataclass(frozen=True)
class Result:
    case_id: str
    present: int
    eligible: int
    agree: int
    disagree: int
    abstain: int  # counts as not 同意
    passed: bool


@dataclass
class Voting:
    """One meeting's vote. It keeps who has voted on which case and a tally per case, never
    who voted what: the ballot is secret by what is stored, not by who may read it."""

    members: frozenset[str]
    cases: tuple[str, ...]
    recused: Mapping[str, frozenset[str]] = field(default_factory=dict)  # case -> experts
    phase: Phase = Phase.ATTENDANCE
    present: frozenset[str] = frozenset()
    voted: set[tuple[str, str]] = field(default_factory=set)  # (expert, case)
    tallies: dict[str, Tally] = field(default_factory=dict)

    def eligible(self, case_id: str) -> frozenset[str]:
        """Who votes on a case: present, and not recused on it."""
        return self.present - self.recused.get(case_id, frozenset())

    def open(self, present: Iterable[str]) -> None:
        """Attendance is taken once, here: an expert absent now never votes in this meeting."""
        if self.phase != Phase.ATTENDANCE:
            raise VotingNotOpen("表决已经开始，出席情况不能再更改")
        present = frozenset(present)
        if not present <= self.members:
            raise NotEligible("出席人员须为本次会议的评审专家")
        if not has_quorum(len(present), len(self.members)):
            need = -(-2 * len(self.members) // 3)
            raise NoQuorum(
                f"出席专家 {len(present)} 人，不足应到 {len(self.members)} 人的三分之二"
                f"（至少 {need} 人），不能开始表决"
            )
        self.present = present
        empty = [c for c in self.cases if not self.eligible(c)]
        if empty:
            self.present = frozenset()
            raise NotEligible(f"有 {len(empty)} 名申报人没有可以表决的评审专家（均已回避）")
        self.tallies = {c: Tally() for c in self.cases}
        self.phase = Phase.OPEN

    def cast(self, voter: str, expert_id: str, case_id: str, choice: Choice) -> None:
        """`voter` is who is signed in; `expert_id` whose vote it would be."""
        if voter != expert_id:
            raise ProxyVote("不得代为投票")
        if self.phase != Phase.OPEN:
            raise VotingNotOpen("表决未开始或已结束，不能投票")
        if case_id not in self.tallies:
            raise NotEligible("该申报人不在本次会议评审范围内")
        if expert_id not in self.eligible(case_id):
            raise NotEligible("您未出席本次会议或对该申报人回避，不能投票")
        if (expert_id, case_id) in self.voted:
            raise AlreadyVoted("您已对该申报人投过票，不能再次投票")
        self.voted.add((expert_id, case_id))
        self.tallies[case_id].add(choice)

    def missing(self) -> list[tuple[str, str]]:
        """(expert, case) of every vote still owed, in case order."""
        return [
            (e, c) for c in self.cases for e in sorted(self.eligible(c)) if (e, c) not in self.voted
        ]

    def close(self) -> list[Result]:
        if self.phase != Phase.OPEN:
            raise VotingNotOpen("表决未开始或已结束")
        owed = self.missing()
        if owed:
            raise VotesMissing(f"还有 {len(owed)} 票未投，不能结束表决")
        self.phase = Phase.CLOSED
        return [self.result(c) for c in self.cases]

    def result(self, case_id: str) -> Result:
        tally = self.tallies[case_id]
        eligible = len(self.eligible(case_id))
        return Result(
            case_id,
            len(self.present),
            eligible,
            tally.agree,
            tally.disagree,
            tally.abstain,
            passes(tally.agree, eligible),
        )

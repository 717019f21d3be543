"""The committee's rules over thousands of random meetings (hypothesis): the two-thirds pass
rule and its denominator, quorum, recusal, one vote per eligible expert and case, no vote
after close, and a draw reproducible from its seed.

Each property is checked against an independent statement of the rule (fractions, sets),
not against the code's own arithmetic.
"""

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.cases.domain.committee import (
    AlreadyVoted,
    Applicant,
    Basis,
    Choice,
    Expert,
    NoQuorum,
    NotEligible,
    NotEnoughExperts,
    Phase,
    ProxyVote,
    Recusal,
    RuleBroken,
    SizeRules,
    Voting,
    VotingNotOpen,
    WorkUnit,
    draw,
    draw_key,
    drawn_order,
    has_quorum,
    may_vote_on_any,
    passes,
    recusal_of,
    recusals,
    size_bounds,
)

TWO_THIRDS = Fraction(2, 3)
MEETINGS = settings(max_examples=2000, deadline=None)
# printf '%s' 'seed:e1' | sha256sum
SEED_E1 = "e07512147eca3493c8cbcaba0eb0809b0356ec97caefbc58f044fe01e96ff39c"
UNITS = ["深圳市甲公司", "深圳市乙研究院", "深圳大学", "（深圳）丙有限公司"]
SERIES = ["", "gc", "da"]  # "": a test that leaves the title out
LEVELS = ["", "中级", "副高", "正高"]
RANK = {"中级": 2, "副高": 3, "正高": 4}


def below_the_case(expert: Expert, case: Applicant) -> bool:
    """The title rule, stated apart: another series, or a lower level than the case's."""
    other_series = expert.series_id and case.series_id and expert.series_id != case.series_id
    lower = expert.level and case.level and RANK[expert.level] < RANK[case.level]
    return bool(other_series or lower)


# --- the pass rule and quorum, against fractions ---


def test_fifteen_eligible_ten_agree_passes_nine_fails():
    assert passes(10, 15)
    assert not passes(9, 15)


@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
@settings(max_examples=3000)
def test_a_case_passes_exactly_when_agree_is_at_least_two_thirds_of_eligible(vote):
    eligible, agree = vote
    assert passes(agree, eligible) == (Fraction(agree, eligible) >= TWO_THIRDS)


@given(st.integers(1, 400))
def test_the_least_agree_that_passes_is_the_ceiling_of_two_thirds(eligible):
    least = next(a for a in range(eligible + 1) if passes(a, eligible))
    assert least == -(-2 * eligible // 3)
    assert not passes(least - 1, eligible) if least else True


def test_a_case_nobody_may_vote_on_cannot_be_decided():
    with pytest.raises(NotEligible):
        passes(0, 0)


@given(st.integers(1, 400).flatmap(lambda m: st.tuples(st.integers(0, m), st.just(m))))
@settings(max_examples=3000)
def test_quorum_is_two_thirds_of_the_members_present(attendance):
    present, members = attendance
    assert has_quorum(present, members) == (Fraction(present, members) >= TWO_THIRDS)


def test_twenty_five_members_need_seventeen_present():
    assert has_quorum(17, 25) and not has_quorum(16, 25)
    assert not has_quorum(0, 0)


# --- meeting sizes ---


@pytest.mark.parametrize(
    ("level", "basis", "least"),
    [
        ("正高", Basis.SERIES, 25),
        ("副高", Basis.SPECIALITY, 11),
        ("中级", Basis.SERIES, 15),
        ("中级", Basis.SPECIALITY, 7),
        ("初级", Basis.SERIES, 7),
        ("初级", Basis.SPECIALITY, 7),
    ],
)
def test_the_default_minimums_are_committee_md_s(level, basis, least):
    assert size_bounds(level, basis).minimum == least


@given(
    st.integers(1, 60),
    st.one_of(st.none(), st.integers(1, 80)),
    st.integers(0, 100),
)
def test_a_meeting_size_is_odd_and_within_its_bounds(minimum, maximum, size):
    bounds = size_bounds("中级", Basis.SERIES, minimum=minimum, maximum=maximum)
    assert bounds.minimum % 2 == 1 and bounds.minimum >= minimum
    fits = size % 2 == 1 and size >= minimum and (maximum is None or size <= maximum)
    assert (bounds.problem(size) is None) == fits


def test_the_settings_change_the_minimums():
    rules = SizeRules(senior_by_series=31, junior=9)
    assert size_bounds("副高", Basis.SERIES, rules).minimum == 31
    assert size_bounds("初级", Basis.SPECIALITY, rules).minimum == 9


# --- the draw ---

pools = st.lists(st.uuids().map(str), min_size=1, max_size=80, unique=True)
seeds = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)


@given(pools, seeds, st.data())
@MEETINGS
def test_a_draw_is_the_same_from_its_seed_whatever_the_pools_order(pool, seed, data):
    size = data.draw(st.integers(1, len(pool)))
    ratio = data.draw(st.integers(1, 3))
    first = draw(seed, pool, size, ratio)
    shuffled = data.draw(st.permutations(pool))
    assert draw(seed, shuffled, size, ratio) == first
    assert first.pool == tuple(sorted(pool))
    assert len(first.members) == size
    assert len(first.reserves) == min(size * (ratio - 1), len(pool) - size)
    drawn = first.members + first.reserves
    assert len(set(drawn)) == len(drawn) and set(drawn) <= set(pool)
    assert list(drawn) == drawn_order(seed, pool)[: len(drawn)]


def test_the_drawn_order_is_sha256_of_seed_and_id():
    # the value docs/committee.md recomputes with: printf '%s' 'seed:e1' | sha256sum
    assert draw_key("seed", "e1") == SEED_E1
    keys = {e: draw_key("00ff", e) for e in ("a", "b", "c")}
    assert drawn_order("00ff", ["c", "a", "b"]) == sorted(keys, key=keys.get)


def test_a_draw_needs_as_many_experts_as_seats():
    with pytest.raises(NotEnoughExperts):
        draw("s", ["a", "b"], 3)


@given(pools, seeds, st.data())
@MEETINGS
def test_reserves_replace_those_who_decline_in_drawn_order(pool, seed, data):
    size = data.draw(st.integers(1, len(pool)))
    result = draw(seed, pool, size)
    declined = set(data.draw(st.lists(st.sampled_from(result.members + result.reserves))))
    seated = result.seated(declined)
    assert not declined & set(seated)
    still = [e for e in result.members + result.reserves if e not in declined]
    assert list(seated) == still[:size]


def test_different_seeds_draw_differently():
    pool = [f"e{i}" for i in range(60)]
    results = {draw(f"{n:032x}", pool, 25).members for n in range(20)}
    assert len(results) == 20


def test_every_expert_has_the_same_chance():
    pool = [f"e{i}" for i in range(30)]
    seen = dict.fromkeys(pool, 0)
    rounds = 3000
    for n in range(rounds):
        for expert in draw(f"{n:x}", pool, 10).members:
            seen[expert] += 1
    expected = rounds * 10 / 30  # 1,000; a binomial with sd ~26
    assert all(abs(count - expected) < 150 for count in seen.values()), seen


# --- recusal ---


def test_the_same_unit_matches_by_id_or_by_the_name_as_typed():
    by_id = WorkUnit("u1", "深圳市甲公司")
    assert by_id.same_as(WorkUnit("u1", "另一个名字"))
    assert not by_id.same_as(WorkUnit("u2", "深圳市甲公司"))
    assert WorkUnit(None, "（深圳）丙 有限公司").same_as(WorkUnit("u3", "(深圳)丙有限公司"))
    assert not WorkUnit(None, "").same_as(WorkUnit(None, ""))


def test_a_declared_conflict_recuses_on_that_case_only():
    expert = Expert("e1", WorkUnit(None, "深圳市甲公司"))
    one, two = Applicant("c1", WorkUnit(None, "深圳大学")), Applicant("c2", WorkUnit(None, "x"))
    declared = frozenset({("e1", "c1")})
    assert recusal_of(expert, one, declared) == Recusal.DECLARED
    assert recusal_of(expert, two, declared) is None
    assert recusal_of(expert, Applicant("c3", WorkUnit(None, "深圳市甲公司"))) == (
        Recusal.SAME_UNIT
    )


# --- random meetings ---


@st.composite
def meetings(draw_):
    members = [f"e{i}" for i in range(draw_(st.integers(1, 31)))]
    cases = [f"c{i}" for i in range(draw_(st.integers(1, 8)))]
    unit = st.sampled_from([*UNITS, ""])
    series, level = st.sampled_from(SERIES), st.sampled_from(LEVELS)
    experts = [Expert(e, WorkUnit(None, draw_(unit)), draw_(series), draw_(level)) for e in members]
    applicants = [
        Applicant(c, WorkUnit(None, draw_(unit)), draw_(series), draw_(level)) for c in cases
    ]
    pairs = [(e, c) for e in members for c in cases]
    declared = frozenset(draw_(st.lists(st.sampled_from(pairs), max_size=10)) if pairs else [])
    present = draw_(st.lists(st.sampled_from(members), unique=True))
    choices = st.sampled_from(list(Choice))
    attempt = st.tuples(
        st.sampled_from([*members, "outsider"]),  # the one signed in
        st.booleans(),  # a proxy: voting in another's name
        st.sampled_from([*cases, "elsewhere"]),
        choices,
    )
    attempts = draw_(st.lists(attempt, max_size=120))
    return experts, applicants, declared, present, attempts


def new_voting(experts, applicants, declared) -> Voting:
    table = recusals(experts, applicants, declared)
    return Voting(
        members=frozenset(e.expert_id for e in experts),
        cases=tuple(a.case_id for a in applicants),
        recused={c: frozenset(by) for c, by in table.items()},
    )


@given(meetings())
@MEETINGS
def test_a_random_meeting_keeps_every_rule(meeting):
    experts, applicants, declared, present, attempts = meeting
    voting = new_voting(experts, applicants, declared)
    units = {e.expert_id: e.unit for e in experts}
    recused = {
        a.case_id: {
            e.expert_id
            for e in experts
            if (e.expert_id, a.case_id) in declared
            or (e.unit.name and e.unit.name == a.unit.name)
            or below_the_case(e, a)
        }
        for a in applicants
    }
    quorate = 3 * len(present) >= 2 * len(experts)
    nobody = any(not set(present) - recused[a.case_id] for a in applicants)
    try:
        voting.open(present)
    except NoQuorum:
        assert not quorate
        return
    except NotEligible:
        assert quorate and nobody
        return
    assert quorate and not nobody

    counted = {a.case_id: dict.fromkeys(Choice, 0) for a in applicants}
    done: set[tuple[str, str]] = set()
    for voter, proxy, case, choice in attempts:
        expert = next((e for e in units if e != voter), voter) if proxy else voter
        allowed = (
            voter == expert
            and case in counted
            and expert in present
            and expert not in recused[case]
            and (expert, case) not in done
        )
        try:
            voting.cast(voter, expert, case, choice)
        except ProxyVote:
            assert voter != expert
        except AlreadyVoted:
            assert (expert, case) in done
        except NotEligible:
            assert case not in counted or expert not in present or expert in recused[case]
        else:
            assert allowed
            done.add((expert, case))
            counted[case][choice] += 1

    for a in applicants:
        eligible = voting.eligible(a.case_id)
        assert eligible == set(present) - recused[a.case_id]  # the recused are never counted
        tally = voting.tallies[a.case_id]
        assert (tally.agree, tally.disagree, tally.abstain) == tuple(counted[a.case_id].values())
        assert tally.cast <= len(eligible)

    owed = {(e, a.case_id) for a in applicants for e in voting.eligible(a.case_id)} - done
    assert set(voting.missing()) == owed
    if owed:
        with pytest.raises(RuleBroken):
            voting.close()
        for expert, case in sorted(owed):
            voting.cast(expert, expert, case, Choice.ABSTAIN)
    results = voting.close()
    assert voting.phase == Phase.CLOSED
    for result in results:
        assert result.eligible == len(set(present) - recused[result.case_id])
        assert result.agree + result.disagree + result.abstain == result.eligible
        assert result.passed == (Fraction(result.agree, result.eligible) >= TWO_THIRDS)
    for expert in present:
        for a in applicants:
            with pytest.raises(VotingNotOpen):
                voting.cast(expert, expert, a.case_id, Choice.AGREE)


@given(meetings())
@settings(max_examples=500, deadline=None)
def test_an_absent_expert_never_votes_and_attendance_is_taken_once(meeting):
    experts, applicants, declared, present, _ = meeting
    voting = new_voting(experts, applicants, declared)
    try:
        voting.open(present)
    except RuleBroken:
        return
    with pytest.raises(VotingNotOpen):
        voting.open([e.expert_id for e in experts])  # latecomers are not added
    for expert in {e.expert_id for e in experts} - set(present):
        for a in applicants:
            with pytest.raises(NotEligible):
                voting.cast(expert, expert, a.case_id, Choice.AGREE)


def test_no_vote_before_voting_opens():
    voting = Voting(frozenset({"e1"}), ("c1",))
    with pytest.raises(VotingNotOpen):
        voting.cast("e1", "e1", "c1", Choice.AGREE)


@given(meetings(), seeds, st.data())
@settings(max_examples=1000, deadline=None)
def test_a_draw_seats_nobody_recused_on_every_case_and_no_case_counts_a_recused_expert(
    meeting, seed, data
):
    experts, applicants, declared, _, _ = meeting
    pool = [e for e in experts if may_vote_on_any(e, applicants, declared)]
    if not pool:
        return
    size = data.draw(st.integers(1, len(pool)))
    result = draw(seed, [e.expert_id for e in pool], size)
    assert result == draw(seed, [e.expert_id for e in reversed(pool)], size)
    seated = [e for e in experts if e.expert_id in result.members]
    for expert in seated:
        assert any(recusal_of(expert, a, declared) is None for a in applicants)
    voting = new_voting(seated, applicants, declared)
    try:
        voting.open([e.expert_id for e in seated])
    except NotEligible:
        return  # some case has no eligible expert among those drawn: it cannot be voted on
    for a in applicants:
        for expert in seated:
            counted = expert.expert_id in voting.eligible(a.case_id)
            assert counted == (recusal_of(expert, a, declared) is None)


def test_a_seeded_meeting_of_twenty_five_decides_as_counted_by_hand():
    rng = random.Random(12)
    members = [f"e{i}" for i in range(25)]
    voting = Voting(frozenset(members), ("c1",), {"c1": frozenset({"e0", "e1"})})
    voting.open(members[:17])  # 17 of 25: exactly two thirds rounded up
    eligible = sorted(voting.eligible("c1"))
    assert len(eligible) == 15
    choices = [Choice.AGREE] * 10 + [Choice.DISAGREE] * 3 + [Choice.ABSTAIN] * 2
    rng.shuffle(choices)
    for expert, choice in zip(eligible, choices, strict=True):
        voting.cast(expert, expert, "c1", choice)
    [result] = voting.close()
    assert (result.present, result.eligible, result.agree, result.passed) == (17, 15, 10, True)


# --- the title rule: a 副高 case needs at least a 副高 expert, a 正高 case a 正高 one ---


@pytest.mark.parametrize(
    ("expert", "case", "votes"),
    [
        ("正高", "正高", True),
        ("正高", "副高", True),
        ("副高", "副高", True),
        ("副高", "正高", False),
        ("中级", "副高", False),
        ("中级", "中级", True),
    ],
)
def test_an_expert_votes_on_cases_at_or_below_their_level(expert, case, votes):
    one = Expert("e1", WorkUnit(None, "甲"), "gc", expert)
    applicant = Applicant("c1", WorkUnit(None, "乙"), "gc", case)
    assert (recusal_of(one, applicant) is None) == votes
    if not votes:
        assert recusal_of(one, applicant) == Recusal.NOT_QUALIFIED


def test_an_expert_of_another_series_does_not_vote_on_the_case():
    one = Expert("e1", WorkUnit(None, "甲"), "da", "正高")
    assert recusal_of(one, Applicant("c1", WorkUnit(None, "乙"), "gc", "中级")) == (
        Recusal.NOT_QUALIFIED
    )


@given(meetings())
@settings(max_examples=1000, deadline=None)
def test_nobody_below_a_cases_title_is_counted_on_it(meeting):
    experts, applicants, declared, present, _ = meeting
    voting = new_voting(experts, applicants, declared)
    try:
        voting.open(present)
    except RuleBroken:
        return
    for a in applicants:
        for e in experts:
            if below_the_case(e, a):
                assert e.expert_id not in voting.eligible(a.case_id)

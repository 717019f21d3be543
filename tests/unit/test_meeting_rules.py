"""A meeting's life without I/O (services/cases/domain/meetings.py): the plan's checks, the
pool a draw takes, which act fits which phase, one vote's refusals, the results by the pass
rule, and a case moved by a vote with its tally in the history."""

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.cases.domain.committee import (
    Applicant,
    Expert,
    NoQuorum,
    NotEligible,
    RuleBroken,
    SizeBounds,
    VotingNotOpen,
    WorkUnit,
    draw,
)
from services.cases.domain.experts import committee_scope
from services.cases.domain.meetings import (
    LibraryEntry,
    WrongPhase,
    ballot_problem,
    check_opening,
    check_plan,
    owed_message,
    pool_of,
    require_phase,
    results,
)
from services.cases.domain.model import Case, CaseState, Outcome
from shared.contracts.cases.meetings import MeetingPhase

TODAY = date(2026, 6, 1)
P = MeetingPhase
PLAN = {
    "round_id": "2026",
    "meets_on": "2026-06-10",
    "starts_at": "9:30",
    "place": "市人才大厦",
    "size": "11",
}


def test_a_plan_is_an_odd_size_within_the_bounds_on_a_day_to_come():
    plan, errors = check_plan(PLAN, SizeBounds(11), ["2026"], TODAY)
    assert errors == {} and plan.size == 11 and plan.starts_at == time(9, 30)
    _, errors = check_plan(
        PLAN | {"size": "12", "meets_on": "2026-05-31", "starts_at": "25:00", "place": ""},
        SizeBounds(11),
        ["2026"],
        TODAY,
    )
    assert errors == {
        "size": "评审会议人数须为奇数",
        "meets_on": "会议日期不能早于今天",
        "starts_at": "开始时间须为 HH:MM，如 09:00",
        "place": "请填写会议地点",
    }
    _, errors = check_plan(
        PLAN | {"size": "9", "round_id": "1999"}, SizeBounds(11), ["2026"], TODAY
    )
    assert errors == {"size": "评审会议人数不得少于 11 人", "round_id": "请选择评审年度"}


def entry(expert_id: str, unit: str = "甲", level: str = "正高", **dates) -> LibraryEntry:
    return LibraryEntry(
        Expert(expert_id, WorkUnit(None, unit), "gc", level),
        dates.get("joined_on", date(2025, 1, 1)),
        dates.get("term_ends_on", date(2027, 1, 1)),
        dates.get("removed_on"),
    )


def test_the_pool_takes_experts_in_their_term_who_can_vote_on_a_case():
    cases = [Applicant("c1", WorkUnit(None, "乙"), "gc", "副高")]
    entries = [
        entry("ok"),
        entry("same-unit", unit="乙"),
        entry("too-low", level="中级"),
        entry("ended", term_ends_on=date(2026, 6, 9)),
        entry("removed", removed_on=date(2026, 1, 1)),
        entry("declared"),
    ]
    declared = frozenset({("declared", "c1")})
    assert pool_of(entries, cases, declared, date(2026, 6, 10)) == ["ok"]
    with pytest.raises(RuleBroken):
        pool_of(entries, [], declared, date(2026, 6, 10))


@given(st.integers(0, 8), st.data())
@settings(max_examples=300, deadline=None)
def test_the_quorum_refusal_says_the_numbers(present, data):
    members = [f"e{n}" for n in range(8)]
    try:
        check_opening(members, members[:present], ["c1"], [])
    except NoQuorum as refusal:
        assert 3 * present < 2 * 8
        assert refusal.message == (
            f"出席专家 {present} 人，不足应到 8 人的三分之二（至少 6 人），不能开始表决"
        )
    except NotEligible:
        assert present == 0
    else:
        assert 3 * present >= 2 * 8


def test_every_act_has_its_phase():
    require_phase(P.PLANNED, P.PLANNED, act="抽取评审专家")
    with pytest.raises(WrongPhase, match="评审会议表决中，不能抽取评审专家"):
        require_phase(P.VOTING, P.PLANNED, act="抽取评审专家")


@pytest.mark.parametrize(
    ("phase", "present", "in_meeting", "excluded", "refused"),
    [
        (P.VOTING, True, True, None, None),
        (P.DRAWN, True, True, None, VotingNotOpen),
        (P.CLOSED, True, True, None, VotingNotOpen),
        (P.VOTING, False, True, None, NotEligible),  # absent when the vote opened
        (P.VOTING, None, True, None, NotEligible),  # does not sit this meeting
        (P.VOTING, True, False, None, NotEligible),
        (P.VOTING, True, True, "same_unit", NotEligible),
    ],
)
def test_one_vote_is_refused_for_what_it_breaks(phase, present, in_meeting, excluded, refused):
    problem = ballot_problem(phase, present, in_meeting, excluded)
    assert (problem is None) if refused is None else isinstance(problem, refused)


@given(st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
@settings(max_examples=500)
def test_results_follow_the_two_thirds_rule(vote):
    eligible, agree = vote
    [result] = results(eligible + 2, {"c1": (agree, eligible - agree, 0)}, {"c1": eligible})
    assert result.passed == (3 * agree >= 2 * eligible)
    assert result.record()["eligible"] == eligible and result.record()["present"] == eligible + 2


def test_results_refuse_counts_that_miss_a_vote():
    with pytest.raises(RuleBroken):
        results(3, {"c1": (1, 0, 0)}, {"c1": 3})


def test_the_secretary_is_told_who_still_owes_votes():
    assert (
        owed_message({"张三": 1, "李四": 2}) == "还有 3 票未投，不能结束表决：李四 2 票、张三 1 票"
    )


def test_a_draw_of_library_entries_is_the_same_from_its_seed():
    entries = [entry(f"e{n:02d}") for n in range(30)]
    cases = [Applicant("c1", WorkUnit(None, "乙"), "gc", "副高")]
    pool = pool_of(entries, cases, frozenset(), date(2026, 6, 10))
    assert draw("0f3c", pool, 11) == draw("0f3c", list(reversed(pool)), 11)


def test_the_library_takes_experts_from_the_lowest_level_the_committee_reviews():
    scope = committee_scope("c", [("gc", "工程", "正高"), ("gc", "工程", "副高")])
    assert scope.level == "副高"
    assert scope.problems("gc", "副高") == {}
    assert "title_level" in scope.problems("gc", "中级")


def test_a_vote_moves_the_case_with_its_tally_in_the_history():
    now = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    vote = {"meeting_id": "m1", "agree": 1, "disagree": 1, "abstain": 1, "eligible": 3}
    failed = Case(id="c1", state=CaseState.COMMITTEE_REVIEW)
    [event] = failed.decide_by_vote(False, vote | {"passed": False}, now)
    assert (failed.state, failed.outcome) == (CaseState.CLOSED, Outcome.COMMITTEE_FAILED)
    assert event.inputs["vote"]["agree"] == 1 and event.actor_role == "committee"
    assert event.applicant_notice == "您的职称申报未通过评委会评审，业务已办结。"
    passed = Case(id="c2", state=CaseState.COMMITTEE_REVIEW)
    passed.decide_by_vote(True, vote | {"passed": True}, now)
    assert passed.state == CaseState.POST_PUBLICITY_LAUNCH

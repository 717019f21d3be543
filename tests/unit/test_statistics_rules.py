"""The statistics' rules without I/O: what a case contributes, the difference a move makes,
the p90, the ten-step flow, the charts' geometry and the filters' messages."""

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.charts import BAR_SPACE, bar_chart, format_value
from gateway.pages.statistics_pages import read_query
from services.cases.domain.statistics import (
    STEP_OF_STATE,
    Amount,
    CaseFacts,
    HistoryRow,
    contributions,
    difference,
    percentile_days,
)
from services.cases.statistics_views import fewer_left_out
from shared.contracts.cases.statistics import TABLES, Statistics, StatisticsQuery
from shared.contracts.cases.vocabulary import TRANSITIONS, Action, CaseState, Outcome
from shared.rpc import RpcError

S, A = CaseState, Action
OPENED = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 00:30 on 2 March in Shenzhen
FACTS = CaseFacts("2026", "dept-gcslh", "cmte-qg-gj", "gc-fg", "unit-1", OPENED)


def move(action: Action, frm: CaseState, to: CaseState, days: float, outcome=None):
    return HistoryRow(action.value, frm, to, outcome, OPENED + timedelta(days=days))


def by_figure(found) -> dict:
    summed: dict = {}
    for cell, amount in found.items():
        key = (cell.figure, cell.key, cell.detail)
        held = summed.get(key, Amount(0))
        summed[key] = Amount(held.n + amount.n, held.seconds + amount.seconds)
    return summed


def test_a_draft_counts_once_on_the_day_it_was_opened_in_shenzhen():
    [(cell, amount)] = contributions(FACTS, []).items()
    assert (cell.figure, cell.key, cell.detail, cell.qualification_id) == (
        "case", "draft", "", "gc-fg",
    )  # fmt: skip
    assert cell.on_day == date(2026, 3, 2) and amount == Amount(1)
    assert not (cell.reached_department or cell.reached_office or cell.reached_committee)


def test_each_move_ends_a_stay_and_decisions_and_returns_count_on_their_day():
    history = [
        move(A.SUBMIT, S.DRAFT, S.UNIT_REVIEW, 1.5),
        move(A.APPROVE, S.UNIT_REVIEW, S.PRE_PUBLICITY_READY, 2),
        move(A.START_PRE_PUBLICITY, S.PRE_PUBLICITY_READY, S.PRE_PUBLICITY, 2),
        HistoryRow("objection_recorded", S.PRE_PUBLICITY, S.PRE_PUBLICITY, None, OPENED),
        move(A.RECORD_PRE_PUBLICITY_RESULT, S.PRE_PUBLICITY, S.DEPT_SUBMIT_READY, 10),
        move(A.SUBMIT_TO_DEPARTMENT, S.DEPT_SUBMIT_READY, S.DEPT_ACCEPTANCE, 11),
        move(A.RETURN, S.DEPT_ACCEPTANCE, S.DEPT_SUBMIT_READY, 13),
    ]
    found = by_figure(contributions(FACTS, history))
    assert found[("case", "dept_submit_ready", "")] == Amount(1)
    assert found[("stay", "draft", "2")] == Amount(1, int(1.5 * 86400))
    assert found[("stay", "unit_review", "1")] == Amount(1, 43200)
    assert found[("stay", "pre_publicity_ready", "0")] == Amount(1, 0)
    assert found[("stay", "pre_publicity", "8")] == Amount(1, 8 * 86400)  # the note moved nothing
    assert found[("pre_publicity", "passed", "")] == Amount(1)
    assert found[("return", "unit-1", "dept_acceptance")] == Amount(1)
    assert all(cell.reached_department for cell in contributions(FACTS, history))


def test_a_closed_case_counts_by_its_outcome_and_a_confirmation_decides_the_post_publicity():
    history = [move(A.CONFIRM, S.DEPT_CONFIRM, S.CLOSED, 3, Outcome.POST_PUBLICITY_FAILED)]
    found = by_figure(contributions(FACTS, history))
    assert found[("case", "closed", "post_publicity_failed")] == Amount(1)
    assert found[("post_publicity", "failed", "")] == Amount(1)


def test_reaching_the_department_moves_every_earlier_cell_into_its_sight():
    before = [move(A.SUBMIT, S.DRAFT, S.UNIT_REVIEW, 1)]
    after = [*before, move(A.APPROVE, S.UNIT_REVIEW, S.DEPT_ACCEPTANCE, 2)]  # as if submitted
    changed = difference(contributions(FACTS, before), contributions(FACTS, after))
    draft_stays = [c for c in changed if c.figure == "stay" and c.key == "draft"]
    assert sorted((c.reached_department, changed[c].n) for c in draft_stays) == [
        (False, -1),
        (True, 1),
    ]


def test_a_move_changes_only_the_cells_it_touches():
    before = [move(A.SUBMIT, S.DRAFT, S.UNIT_REVIEW, 1)]
    after = [*before, move(A.APPROVE, S.UNIT_REVIEW, S.PRE_PUBLICITY_READY, 4)]
    changed = by_figure(difference(contributions(FACTS, before), contributions(FACTS, after)))
    assert changed == {
        ("case", "unit_review", ""): Amount(-1),
        ("case", "pre_publicity_ready", ""): Amount(1),
        ("stay", "unit_review", "3"): Amount(1, 3 * 86400),
    }


@pytest.mark.parametrize(
    "histogram, p90",
    [
        ({}, None),
        ({5: 1}, 5),
        ({1: 9, 30: 1}, 1),  # the 9th of 10 is within 1 day
        ({1: 8, 30: 2}, 30),
        ({0: 62, 7: 1, 9: 7}, 7),  # 63 of 70 is 90 % exactly: the 63rd took 7 days
        ({0: 63, 9: 7}, 0),
    ],
)
def test_the_p90_is_the_nearest_rank(histogram, p90):
    assert percentile_days(histogram) == p90


def test_every_state_has_the_step_of_the_ten_step_flow_it_is_in():
    assert set(STEP_OF_STATE) == set(CaseState)
    for state, step in STEP_OF_STATE.items():
        if state.step is not None:
            assert step == state.step
    for state, actions in TRANSITIONS.items():  # a move never goes back a step but by 退回
        for action, targets in actions.items():
            for target in targets - {S.CLOSED}:
                if action not in (A.RETURN, A.REJECT):
                    assert STEP_OF_STATE[target] >= STEP_OF_STATE[state], (state, target)


def test_every_table_names_fields_of_the_answer():
    for table in TABLES:
        assert table.key in Statistics.model_fields
        assert len(table.title) <= 31  # an Excel sheet's name
        rows = Statistics.model_fields[table.key].annotation.__args__[0].model_fields
        assert {c.field for c in table.columns} <= set(rows)
        assert table.chart in {c.field for c in table.columns}


def test_bars_are_drawn_to_scale_and_rates_against_a_whole():
    rows = [{"label": "甲", "n": 10}, {"label": "乙" * 30, "n": 5}]
    chart = bar_chart("按评委会", rows, "label", "n", "count")
    assert [b.width for b in chart.bars] == [BAR_SPACE, BAR_SPACE / 2]
    assert chart.bars[1].label.endswith("…") and chart.bars[1].full_label == "乙" * 30
    rates = bar_chart("通过率", [{"label": "评前公示", "r": 0.5}], "label", "r", "rate")
    assert rates.bars[0].width == BAR_SPACE / 2 and rates.bars[0].value_text == "50.0%"
    assert bar_chart("空", [{"label": "甲", "n": 0}], "label", "n", "count") is None
    assert format_value("days", None) == "—" and format_value("count", 12345) == "12,345"


@pytest.mark.parametrize(
    "date_from, date_to, left_out",
    [
        (date(2026, 3, 1), date(2026, 3, 10), False),  # 10 days asked, 81 left out
        (date(2026, 3, 1), None, True),  # every day
        (date(2026, 1, 1), date(2026, 12, 31), True),
        (date(2026, 4, 15), date(2026, 5, 31), True),  # 46 asked, 45 left out
        (date(2026, 4, 17), None, False),  # 44 asked, 47 left out
    ],
)
def test_dates_read_the_days_asked_or_all_days_minus_the_days_left_out(
    date_from, date_to, left_out
):
    span = (date(2026, 3, 1), date(2026, 5, 30))  # 91 days
    asked = StatisticsQuery(date_from=date_from, date_to=date_to)
    assert fewer_left_out(asked, span) is left_out
    assert fewer_left_out(asked, None) is False


def test_a_date_that_is_not_one_is_refused_in_chinese():
    assert read_query({"date_from": "2026-03-01"})["date_from"] == "2026-03-01"
    with pytest.raises(RpcError) as error:
        read_query({"date_from": "2026-02-30", "date_to": "明天"})
    assert set(error.value.fields) == {"date_from", "date_to"}
    assert "起始日期不是有效日期" in error.value.fields["date_from"]

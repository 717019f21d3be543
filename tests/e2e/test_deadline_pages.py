"""Through the gateway: a round's window refuses a case opened or submitted outside it, with
its dates; a case past its step time limit is 超期 in the lists and on the home pages of
those who see it; the holiday pages are the sysadmin's."""

import uuid
from datetime import date, timedelta

import pytest

from tests.e2e.case_steps import complete, new_cast, open_case, submitted
from tests.e2e.people import signed_in

DAY = timedelta(days=1)


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


async def closed_round(services, opens: date, closes: date) -> str:
    round_id = f"w{uuid.uuid4().hex[:8]}"
    await services["cases"].pool.execute(
        "INSERT INTO rounds (id, name, opens_on, closes_on) VALUES ($1, $2, $3, $4)",
        round_id,
        f"测试{round_id}年度",
        opens,
        closes,
    )
    return round_id


async def test_opening_a_case_outside_the_window_says_when_it_is(cast, services, clock):
    # the clock is Monday 1 June 2026 (tests/e2e/conftest.py)
    round_id = await closed_round(services, date(2026, 3, 1), date(2026, 5, 31))
    status, body = await cast.applicant.api("POST", "/api/cases", _choices(round_id))
    assert status == 422
    assert body["error"]["fields"]["round_id"] == (
        f"测试{round_id}年度的申报时间为2026年3月1日至2026年5月31日，申报已截止，不能新建申报"
    )
    later = await closed_round(services, date(2026, 6, 2), date(2026, 6, 30))
    status, page, _ = await cast.applicant.submit("/my/cases/new", _choices(later))
    assert status == 422
    assert "申报时间为2026年6月2日至2026年6月30日，申报尚未开始，不能新建申报" in page


async def test_submitting_after_the_window_closed_is_refused_with_its_dates(cast, services, clock):
    round_id = await closed_round(services, date(2026, 5, 1), date(2026, 6, 1))
    case_id = await open_case(cast.applicant, round_id=round_id)
    await complete(cast.applicant, case_id)
    clock.offset += DAY
    status, page, _ = await cast.applicant.submit(
        f"/my/cases/{case_id}/submit", {"pledge": "1", "pledge_version": "1"}
    )
    assert "申报时间为2026年5月1日至2026年6月1日，申报已截止，不能填报上报" in page, status


def _choices(round_id: str) -> dict:
    return {
        "round_id": round_id,
        "review_type_id": "ptsb",
        "qualification_id": "gc-fg",
        "committee_id": "cmte-qg-gj",
    }


async def test_a_case_past_its_limit_is_marked_in_the_lists_and_counted_at_home(cast, clock):
    case_id = await submitted(cast.applicant)  # 1 June; unit review 10 working days: 15 June
    clock.offset += 14 * DAY  # 15 June: the last day
    status, page, _ = await cast.operator.page("/work/unit-3")
    assert status == 200 and case_id in page and "时限至 2026-06-15" in page
    assert 'class="badge overdue"' not in page

    clock.offset += DAY  # 16 June
    status, page, _ = await cast.operator.page("/work/unit-3")
    assert 'class="badge overdue"' in page and "超期" in page
    status, filtered, _ = await cast.operator.page("/work/unit-3?overdue=1")
    assert case_id in filtered and 'name="overdue" value="1" checked' in filtered
    status, home, _ = await cast.operator.page("/home")
    assert 'id="overdue-total"' in home and "<strong>1</strong> 件业务已超过本环节办理时限" in home
    assert 'data-overdue="1"' in home
    status, body = await cast.operator.api("GET", "/api/cases/home")
    [step3] = [item for item in body["lists"] if item["key"] == "unit:3"]
    assert (step3["count"], step3["overdue"]) == (1, 1)
    status, mine, _ = await cast.applicant.page("/home")
    assert "超期" in mine


async def test_only_the_sysadmin_keeps_the_holidays(gateway, services, cast):
    for client in (cast.operator, cast.department):
        status, _, _ = await client.page("/admin/holidays")
        assert status == 403
    sysadmin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    try:
        status, page, _ = await sysadmin.page("/admin/holidays")
        assert status == 200 and "节假日安排" in page and 'data-year="2026"' in page
        status, page, _ = await sysadmin.page("/admin/holidays/2026")
        assert "系统内置（chinese-calendar）" in page and "2026-02-15" in page  # 春节
        status, page, where = await sysadmin.page("/admin/holidays?year=abc")
        assert where == "/admin/holidays" and "请填写2000至2100之间的年份" in page
    finally:
        await sysadmin.close()

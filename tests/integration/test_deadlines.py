"""Declaration windows, step time limits (超期), their daily reminders and the holiday
calendar, against the real services: cases, accounts (who is reminded), notify and the
development SMS provider, on a database of this module's own (it enters holidays)."""

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.accounts.app import build_service as build_accounts
from services.accounts.personal import index, seal
from services.cases.app import build_service as build_cases
from services.cases.deps import CasesDeps
from services.cases.reference_seed import seed_reference
from services.cases.reminders import send_reminders
from services.cases.settings import CasesSettings
from services.documents.app import build_service as build_documents
from services.documents.signing import ensure_development_keys
from services.notify.app import build_service as build_notify
from services.notify.dev_provider import DevSmsProvider
from shared.clock import SHENZHEN
from shared.rpc import Actor, RpcClient, RpcError
from shared.topology import Names
from tests.support.cases_driver import CasesDriver, approval, new_unit, reviewer
from tests.support.probes import wait_until
from tools.demo_data import demo_reference

LIMITS = {"unit_review": 3, "dept_acceptance": 2}
SYSADMIN = Actor(user_id=uuid.uuid4(), role="sysadmin", name="管理员")
REMINDER_TEXT = "件职称申报业务即将超过办理时限"


def at(day: date, hour: int = 10) -> datetime:
    """`hour` o'clock in Shenzhen on `day`."""
    return datetime.combine(day, time(hour), SHENZHEN).astimezone(UTC)


@pytest.fixture(scope="module")
async def system(own_database):
    settings = own_database
    ensure_development_keys(settings.var_dir)
    deps = CasesDeps(
        settings=CasesSettings(step_limits=LIMITS, deadline_sweep_seconds=3600)  # swept by hand
    )
    parts = [
        build_cases(settings, deps),
        build_accounts(settings),
        build_documents(settings),
        build_notify(settings),
    ]
    provider = DevSmsProvider(settings)
    for part in parts:
        await part.start()
    await provider.start()
    async with parts[0].pool.acquire() as conn:
        await seed_reference(conn, demo_reference())
    client = RpcClient(settings.amqp_url, Names(settings).rpc_queue, 10)
    await client.start()
    driver = CasesDriver(client, parts[0], deps.clock)
    driver.deps, driver.accounts, driver.provider, driver.settings = (
        deps,
        parts[1],
        provider,
        settings,
    )
    yield driver
    await client.close()
    await provider.close()
    for part in reversed(parts):
        await part.stop()


@pytest.fixture
def driver(system):
    system.clock.offset = timedelta()
    yield system
    system.clock.offset = timedelta()


def set_clock(driver, moment: datetime) -> None:
    driver.clock.offset = moment - datetime.now(UTC)


async def save_round(driver, round_id: str, opens: date, closes: date) -> None:
    params = {"id": round_id, "name": f"{round_id}年度", "opens_on": opens, "closes_on": closes}
    await driver.call("ref.save_round", {k: str(v) for k, v in params.items()}, SYSADMIN)


def open_params(round_id: str) -> dict:
    return {
        "round_id": round_id,
        "review_type_id": "ptsb",
        "qualification_id": "gc-fg",
        "committee_id": "cmte-qg-gj",
        "applicant_name": "张三",
        "applicant_mobile": "13900000000",
        "id_number": "11010519491231002X",
        "gender": "女",
    }


# --- declaration windows ---


async def test_a_case_is_opened_only_within_its_rounds_window(driver):
    await save_round(driver, "w-open", date(2026, 3, 1), date(2026, 9, 30))
    unit = new_unit()
    for day, word in ((date(2026, 2, 28), "尚未开始"), (date(2026, 10, 1), "已截止")):
        set_clock(driver, at(day))
        with pytest.raises(RpcError) as refused:
            await driver.call("case.open", open_params("w-open"), unit.applicant)
        assert refused.value.status == 422
        assert refused.value.fields["round_id"] == (
            f"w-open年度的申报时间为2026年3月1日至2026年9月30日，申报{word}，不能新建申报"
        )
    set_clock(driver, at(date(2026, 9, 30), 23))  # the last day, to its end
    assert (await driver.call("case.open", open_params("w-open"), unit.applicant))["case_id"]


async def test_a_case_is_submitted_only_within_its_rounds_window(driver):
    await save_round(driver, "w-submit", date(2026, 3, 1), date(2026, 9, 30))
    unit = new_unit()
    set_clock(driver, at(date(2026, 9, 29)))
    case_id = (await driver.call("case.open", open_params("w-submit"), unit.applicant))["case_id"]
    await driver.complete(unit, case_id)
    set_clock(driver, at(date(2026, 10, 1), 0))  # midnight in Shenzhen: the window has closed
    with pytest.raises(RpcError) as refused:
        await driver.act(unit.applicant, case_id, "submit")
    assert (refused.value.code, refused.value.status) == ("outside_window", 422)
    assert refused.value.message == (
        "w-submit年度的申报时间为2026年3月1日至2026年9月30日，申报已截止，不能填报上报"
    )
    assert await driver.state(unit.applicant, case_id) == "draft"
    # the round's keeper extends the window: the same case goes through
    await save_round(driver, "w-submit", date(2026, 3, 1), date(2026, 10, 9))
    await driver.act(unit.applicant, case_id, "submit")
    assert await driver.state(unit.applicant, case_id) == "unit_review"


async def test_a_case_opened_before_its_window_opens_is_refused_and_so_is_its_submission(driver):
    await save_round(driver, "w-later", date(2026, 11, 2), date(2026, 11, 30))
    unit = new_unit()
    set_clock(driver, at(date(2026, 11, 1), 23))
    with pytest.raises(RpcError) as refused:
        await driver.call("case.open", open_params("w-later"), unit.applicant)
    assert "申报尚未开始" in refused.value.fields["round_id"]


# --- 超期 marks and counts ---


async def submitted_on(driver, unit, day: date) -> str:
    set_clock(driver, at(day))
    case_id = await driver.open(unit)
    await driver.complete(unit, case_id)
    await driver.act(unit.applicant, case_id, "submit")
    return case_id


async def row_of(driver, actor, list_key: str, case_id: str, **query) -> dict | None:
    page = await driver.call("case.list", {"list": list_key, "page_size": 200, **query}, actor)
    return next((row for row in page["items"] if row["id"] == case_id), None)


async def home(driver, actor) -> dict:
    return {i["key"]: i for i in (await driver.call("case.home", {}, actor))["lists"]}


async def test_a_case_past_its_limit_is_marked_and_counted_for_the_unit(driver):
    unit = new_unit()
    # Monday 1 June 2026; unit review 3 working days: due Thursday 4 June
    late = await submitted_on(driver, unit, date(2026, 6, 1))
    fresh = await submitted_on(driver, unit, date(2026, 6, 4))
    set_clock(driver, at(date(2026, 6, 4)))
    row = await row_of(driver, unit.operator, "unit:3", late)
    assert (row["overdue"], row["due_on"]) == (False, "2026-06-04")  # its last day
    assert (await home(driver, unit.operator))["unit:3"]["overdue"] == 0

    set_clock(driver, at(date(2026, 6, 5)))
    row = await row_of(driver, unit.operator, "unit:3", late)
    assert (row["overdue"], row["due_on"]) == (True, "2026-06-04")
    assert (await row_of(driver, unit.operator, "unit:3", fresh))["overdue"] is False
    counts = (await home(driver, unit.operator))["unit:3"]
    assert (counts["count"], counts["overdue"]) == (2, 1)
    only_late = await driver.call(
        "case.list", {"list": "unit:3", "overdue": True, "page_size": 200}, unit.operator
    )
    assert [r["id"] for r in only_late["items"]] == [late] and only_late["total"] == 1
    # the applicant sees it too, on their own list and case
    [mine] = [
        r for r in (await driver.call("case.mine", {}, unit.applicant))["items"] if r["id"] == late
    ]
    assert mine["overdue"] is True
    case = await driver.call("case.get", {"case_id": late}, unit.applicant)
    assert (case["overdue"], case["due_on"]) == (True, "2026-06-04")


async def test_a_case_past_the_departments_limit_is_marked_for_the_department_and_the_unit(driver):
    unit = new_unit()
    set_clock(driver, at(date(2026, 6, 1)))
    case_id = await driver.at_department(unit)  # the clock moves on 12 days: 13 June, Saturday
    entered = driver.clock.today()
    department = reviewer("department", "dept-gcslh")
    # department acceptance 2 working days from Saturday 13 June: 15 and 16 June
    set_clock(driver, at(date(2026, 6, 16)))
    assert (await row_of(driver, department, "department:acceptance", case_id))["overdue"] is False
    set_clock(driver, at(date(2026, 6, 17)))
    row = await row_of(driver, department, "department:acceptance", case_id)
    assert (row["overdue"], row["due_on"]) == (True, "2026-06-16"), entered
    assert (await home(driver, department))["department:acceptance"]["overdue"] >= 1
    # the unit's done list shows where the case waits, and that it is late there
    done = await row_of(driver, unit.operator, "unit:6", case_id, tab="done")
    assert done["overdue"] is True


async def test_a_state_without_a_limit_is_never_overdue(driver):
    unit = new_unit()
    set_clock(driver, at(date(2026, 6, 1)))
    case_id = await driver.open(unit)  # a draft: no limit in LIMITS
    set_clock(driver, at(date(2026, 9, 1)))
    row = await row_of(driver, unit.operator, "unit:2", case_id)
    assert (row["overdue"], row["due_on"]) == (False, None)


# --- reminders ---


async def unit_admin(driver, unit) -> str:
    """The unit (accounts' row) and its admin with a mobile; returns the mobile."""
    mobile = f"139{uuid.uuid4().int % 10**8:08d}"
    async with driver.accounts.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO units (id, org_code, name, si_unit_no, source)"
            " VALUES ($1, $2, '深圳市提醒测试有限公司', $3, 'local')",
            unit.unit_id,
            uuid.uuid4().hex[:9].upper(),
            uuid.uuid4().hex[:10],
        )
        await conn.execute(
            "INSERT INTO users (id, username, password_hash, role, unit_id, name, mobile,"
            " mobile_index) VALUES ($1, $2, 'x', 'unit_admin', $3, '王管理', $4, $5)",
            uuid.uuid4(),
            f"adm{uuid.uuid4().hex[:8]}",
            unit.unit_id,
            seal(mobile, "users", "mobile"),
            index(mobile, "mobile"),
        )
    return mobile


def sms_to(driver, mobile: str) -> list[dict]:
    path = driver.provider.log_path
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [
        s for s in map(json.loads, lines) if s["mobile"] == mobile and REMINDER_TEXT in s["body"]
    ]


async def reminder_rows(driver, case_ids) -> list:
    return await driver.service.pool.fetch(
        "SELECT case_id, on_day, due_on, party FROM deadline_reminders"
        " WHERE case_id = ANY($1::uuid[]) ORDER BY on_day",
        [uuid.UUID(c) for c in case_ids],
    )


async def test_a_case_about_to_pass_its_limit_is_reminded_once_a_day(driver):
    unit = new_unit()
    mobile = await unit_admin(driver, unit)
    # submitted Monday 7 September: due Thursday 10 September; reminded on 9 and 10 September
    # (one working day left, then the last day). Each test here keeps to days of its own.
    cases = [await submitted_on(driver, unit, date(2026, 9, 7)) for _ in range(2)]
    set_clock(driver, at(date(2026, 9, 8)))  # 2 working days left: not yet
    assert await send_reminders(driver.service.pool, driver.deps) == 0
    set_clock(driver, at(date(2026, 9, 9), 8))  # before the hour the reminders go out
    assert await send_reminders(driver.service.pool, driver.deps) == 0

    set_clock(driver, at(date(2026, 9, 9)))
    assert await send_reminders(driver.service.pool, driver.deps) == 2
    assert await send_reminders(driver.service.pool, driver.deps) == 0  # the same day: nothing
    [sms] = await wait_until(lambda: sms_to(driver, mobile), timeout=20)
    assert "您有 2 件职称申报业务即将超过办理时限，最早的于 9月10日 到期" in sms["body"]

    set_clock(driver, at(date(2026, 9, 10)))  # the last day: once more
    assert await send_reminders(driver.service.pool, driver.deps) == 2
    await wait_until(lambda: len(sms_to(driver, mobile)) == 2, timeout=20)
    set_clock(driver, at(date(2026, 9, 11)))  # overdue now: 超期 in the lists, no reminder
    assert await send_reminders(driver.service.pool, driver.deps) == 0

    rows = await reminder_rows(driver, cases)
    assert sorted((str(r["case_id"]), r["on_day"]) for r in rows) == sorted(
        (c, d) for c in cases for d in (date(2026, 9, 9), date(2026, 9, 10))
    )
    assert {r["party"] for r in rows} == {f"unit:{unit.unit_id}"}
    await asyncio.sleep(1)  # nothing more arrives late
    assert len(sms_to(driver, mobile)) == 2


async def test_no_reminders_on_a_rest_day(driver):
    unit = new_unit()
    await unit_admin(driver, unit)
    # Wednesday 17 June: due Monday 22 June (19 June is 端午); Saturday 20 June is a rest day
    await submitted_on(driver, unit, date(2026, 6, 17))
    set_clock(driver, at(date(2026, 6, 20)))
    assert await send_reminders(driver.service.pool, driver.deps) == 0


async def test_two_copies_of_the_service_sweeping_at_once_remind_each_case_once(driver):
    unit = new_unit()
    mobile = await unit_admin(driver, unit)
    cases = [await submitted_on(driver, unit, date(2026, 7, 6)) for _ in range(6)]  # due 9 July
    second_deps = CasesDeps(settings=driver.deps.settings)
    second = build_cases(driver.settings, second_deps)  # another copy, its own pool and clock
    await second.start()
    try:
        for day in (date(2026, 7, 8), date(2026, 7, 9)):
            moment = at(day)
            set_clock(driver, moment)
            second_deps.clock.offset = moment - datetime.now(UTC)
            done = await asyncio.gather(
                send_reminders(driver.service.pool, driver.deps),
                send_reminders(second.pool, second_deps),
                send_reminders(driver.service.pool, driver.deps),
            )
            assert sum(done) == 6, done
    finally:
        await second.stop()
    rows = await reminder_rows(driver, cases)
    assert len(rows) == 12  # six cases, two days, once each
    await wait_until(lambda: len(sms_to(driver, mobile)) >= 2, timeout=20)
    await asyncio.sleep(1)
    texts = sms_to(driver, mobile)
    assert sum(int(s["body"].split("您有 ")[1].split(" 件")[0]) for s in texts) == 12


async def test_one_run_reminds_a_bounded_number_of_cases(driver):
    unit = new_unit()
    await unit_admin(driver, unit)
    cases = [await submitted_on(driver, unit, date(2026, 8, 3)) for _ in range(3)]  # due 6 Aug
    set_clock(driver, at(date(2026, 8, 5)))
    bounded = replace(
        driver.deps, settings=driver.deps.settings.model_copy(update={"deadline_reminder_batch": 2})
    )
    assert await send_reminders(driver.service.pool, bounded) == 2
    assert await send_reminders(driver.service.pool, bounded) == 1
    assert await send_reminders(driver.service.pool, bounded) == 0
    assert len(await reminder_rows(driver, cases)) == 3


async def test_a_departments_cases_remind_its_accounts(driver):
    unit = new_unit()
    mobile = f"137{uuid.uuid4().int % 10**8:08d}"
    org = f"dept-{uuid.uuid4().hex[:6]}"
    async with driver.accounts.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO users (id, username, password_hash, role, org_id, org_name, name, mobile,"
            " mobile_index) VALUES ($1, $2, 'x', 'department', $3, '测试部门', '李审核', $4, $5)",
            uuid.uuid4(),
            f"rev{uuid.uuid4().hex[:8]}",
            org,
            seal(mobile, "users", "mobile"),
            index(mobile, "mobile"),
        )
    set_clock(driver, at(date(2026, 6, 1)))
    case_id = await driver.at_department(unit)  # accepted into dept_acceptance on 13 June
    # a department of its own for this test: its one account is the one reminded
    async with driver.service.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO departments (id, name) VALUES ($1, '测试部门') ON CONFLICT DO NOTHING", org
        )
        await conn.execute(
            "UPDATE cases SET department_id = $2 WHERE id = $1", uuid.UUID(case_id), org
        )
    set_clock(driver, at(date(2026, 6, 15)))  # due 16 June: one working day left
    assert await send_reminders(driver.service.pool, driver.deps) >= 1
    [sms] = await wait_until(lambda: sms_to(driver, mobile), timeout=20)
    assert "最早的于 6月16日 到期" in sms["body"]


# --- the holiday calendar ---


async def publicity_ready(driver, unit, day: date) -> str:
    case_id = await submitted_on(driver, unit, day)
    await driver.act(unit.operator, case_id, "approve", **approval(day))
    return case_id


async def enter_2027(driver) -> None:
    """Test data only, made up for this test: not the State Council's 2027 schedule."""
    await driver.call(
        "holiday.save_year",
        {
            "year": 2027,
            "notice_title": "测试用通知（非官方）",
            "notice_number": "测试〔2026〕1号",
            "notice_url": "https://example.invalid/2027",
        },
        SYSADMIN,
    )
    days = [("2027-01-01", "holiday", "元旦")]
    days += [(f"2027-02-{d:02d}", "holiday", "春节") for d in range(6, 15)]
    days += [("2027-02-20", "workday", "春节")]
    for day, kind, name in days:
        params = {"notice_year": 2027, "day": day, "kind": kind, "name": name}
        await driver.call("holiday.add_day", params, SYSADMIN)


async def test_publicity_end_dates_over_new_year_and_spring_festival_use_the_entered_days(driver):
    unit = new_unit()
    over_new_year = await publicity_ready(driver, unit, date(2026, 12, 21))
    spring = await publicity_ready(driver, unit, date(2026, 12, 22))
    set_clock(driver, at(date(2026, 12, 28)))
    with pytest.raises(RpcError) as refused:  # 2027 known to nobody yet
        await driver.act(unit.operator, over_new_year, "start_pre_publicity")
    assert refused.value.code == "calendar_unknown"
    assert refused.value.message.startswith("2027年的法定节假日和调休安排尚未录入")
    assert await driver.state(unit.operator, over_new_year) == "pre_publicity_ready"

    await enter_2027(driver)
    try:
        await driver.act(unit.operator, over_new_year, "start_pre_publicity")
        case = await driver.call("case.get", {"case_id": over_new_year}, unit.operator)
        assert case["pre_publicity"]["end"] == "2027-01-04"  # 28-31 Dec, 1 Jan off, 4 Jan
        set_clock(driver, at(date(2027, 2, 3)))
        await driver.act(unit.operator, spring, "start_pre_publicity")
        case = await driver.call("case.get", {"case_id": spring}, unit.operator)
        assert case["pre_publicity"]["end"] == "2027-02-16"  # 3-5 Feb, 6-14 off, 15-16 Feb
    finally:
        await driver.call("holiday.remove_year", {"year": 2027}, SYSADMIN)


async def test_a_2027_publicity_with_no_entries_is_refused_with_the_message(driver):
    unit = new_unit()
    case_id = await publicity_ready(driver, unit, date(2026, 12, 23))
    set_clock(driver, at(date(2027, 1, 6)))
    with pytest.raises(RpcError) as refused:
        await driver.act(unit.operator, case_id, "start_pre_publicity")
    assert (refused.value.code, refused.value.status) == ("calendar_unknown", 422)
    assert "请系统管理员在“节假日安排”中录入国务院办公厅关于2027年部分节假日安排的通知" in (
        refused.value.message
    )


async def test_the_holiday_entries_are_checked_and_only_the_sysadmin_keeps_them(driver):
    add = {"notice_year": 2029, "day": "2029-01-01", "kind": "holiday", "name": "元旦"}
    with pytest.raises(RpcError) as refused:
        await driver.call("holiday.add_day", add, SYSADMIN)
    assert refused.value.fields == {"notice_year": "请先填写2029年的国务院办公厅通知"}
    notice = {
        "year": 2029,
        "notice_title": "测试用通知",
        "notice_number": "测试〔2028〕1号",
        "notice_url": "ftp://example.invalid",
    }
    with pytest.raises(RpcError) as refused:
        await driver.call("holiday.save_year", notice, SYSADMIN)
    assert "notice_url" in refused.value.fields
    await driver.call(
        "holiday.save_year", {**notice, "notice_url": "https://example.invalid"}, SYSADMIN
    )
    try:
        await driver.call("holiday.add_day", add, SYSADMIN)
        with pytest.raises(RpcError) as refused:
            await driver.call("holiday.add_day", add, SYSADMIN)
        assert "2029-01-01已录入" in refused.value.fields["day"]
        wednesday = {**add, "day": "2029-01-03", "kind": "workday"}
        with pytest.raises(RpcError) as refused:
            await driver.call("holiday.add_day", wednesday, SYSADMIN)
        assert refused.value.fields["kind"].endswith("调休上班日应为星期六或星期日")
        department = reviewer("department", "dept-gcslh")
        with pytest.raises(RpcError) as refused:
            await driver.call("holiday.add_day", {**add, "day": "2029-01-02"}, department)
        assert refused.value.status == 403
        year = await driver.call("holiday.year", {"year": 2029}, SYSADMIN)
        assert year["source"] == "entered"
        assert [d["day"] for d in year["days"]] == ["2029-01-01"]
    finally:
        await driver.call("holiday.remove_year", {"year": 2029}, SYSADMIN)
    assert (await driver.call("holiday.year", {"year": 2029}, SYSADMIN))["source"] is None

"""统计查询 against the real services, in a database of this module's own: the figures equal
the same figures computed in Python from the rows of `cases` and `case_history`
(tests/support/statistics_expected.py) for every role and filter, over a random set of
cases in every state loaded straight into the tables (and summed by migration 014's
rebuild) and moved on through the real workflow; the tables the moves keep equal a rebuild
from the histories; the workbook holds the page's figures and its download is audited."""

import asyncio
import contextlib
import io
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from services.accounts.app import build_service as build_accounts
from services.accounts.deps import AccountsDeps
from services.accounts.settings import AccountsSettings
from services.cases import statistics_store
from services.cases.app import build_service as build_cases
from services.cases.deps import CasesDeps
from services.cases.reference_seed import seed_reference
from services.cases.sealed import CASE_MOBILE, seal
from services.documents.app import build_service as build_documents
from services.documents.signing import ensure_development_keys
from services.notify.app import build_service as build_notify
from services.notify.dev_provider import DevSmsProvider
from shared.contracts.cases.statistics import TABLES
from shared.contracts.cases.vocabulary import CaseState
from shared.rpc import Actor, RpcClient, RpcError
from shared.topology import Names
from tests.integration.conftest import WORKFLOW_TODAY
from tests.support.accounts_driver import CAPTCHA
from tests.support.case_histories import actor_role, history_to, post_publicity_failed, times
from tests.support.cases_driver import COMMITTEE, DEPARTMENT, OFFICE, CasesDriver, approval
from tests.support.cases_driver import new_unit as new_unit_actors
from tests.support.meetings import results_outside
from tests.support.rate_limits import out_of_reach
from tests.support.statistics_expected import Asker, Filters, expected, rows_of, steps
from tools.demo_data import COMMITTEE_QUALIFICATIONS, COMMITTEES, demo_reference

S = CaseState
OTHER_ROUND = "2025"
LOADED_CASES = 360
SYSADMIN = Actor(user_id=uuid.uuid4(), role="sysadmin", name="管理员")


@pytest.fixture(scope="module")
async def system(own_database):
    settings = own_database
    accounts_deps = AccountsDeps(
        settings=AccountsSettings(second_factor=False),
        captcha_text=lambda: CAPTCHA,
        rate_limits=out_of_reach(),
    )
    cases_deps = CasesDeps()
    services = {
        "accounts": build_accounts(settings, accounts_deps),
        "cases": build_cases(settings, cases_deps),
        "documents": build_documents(settings),
        "notify": build_notify(settings),
    }
    provider = DevSmsProvider(settings)
    ensure_development_keys(settings.var_dir)  # a passed case's certificate gets signed
    for part in (*services.values(), provider):
        await part.start()
    pool = services["cases"].pool
    async with pool.acquire() as conn:
        await seed_reference(conn, demo_reference())
        await conn.execute(
            "INSERT INTO rounds (id, name, opens_on, closes_on) VALUES ($1, '2025年度',"
            " '2025-01-01', '2025-12-31') ON CONFLICT DO NOTHING",
            OTHER_ROUND,
        )
    client = RpcClient(settings.amqp_url, Names(settings).rpc_queue, 30)
    await client.start()
    driver = CasesDriver(client, services["cases"], cases_deps.clock)
    driver.clock.offset = WORKFLOW_TODAY - datetime.now(UTC)
    loaded = await load_random_cases(pool, services["accounts"].pool, random.Random(16))
    async with pool.acquire() as conn, conn.transaction():
        await statistics_store.rebuild(conn)  # as migration 014 sums what is there
    driver.loaded = loaded
    yield driver
    await client.close()
    await provider.close()
    for part in services.values():
        await part.stop()


# --- a random set of cases, written as the workflow writes them ---

CHOICES = [
    (qualification, committee, COMMITTEES[committee][1])
    for committee, qualifications in COMMITTEE_QUALIFICATIONS.items()
    for qualification in qualifications
]
STATE_WEIGHTS = {state: 3 for state in S} | {S.CLOSED: 12, S.UNIT_REVIEW: 6}
CASE_COLUMNS = [
    "id", "case_no", "unit_id", "applicant_id", "applicant_name", "applicant_mobile",
    "round_id", "review_type_id", "qualification_id", "committee_id", "department_id",
    "needs_pre_approval", "state", "outcome", "version", "last_action", "status_label",
    "reached_department", "reached_office", "reached_committee", "created_at", "updated_at",
]  # fmt: skip
HISTORY_COLUMNS = [
    "case_id", "action", "actor_id", "actor_role", "actor_name", "from_state", "to_state",
    "outcome", "status_label", "inputs", "at",
]  # fmt: skip


async def load_random_cases(cases_pool, accounts_pool, rng: random.Random) -> dict:
    units = [uuid.uuid4() for _ in range(12)]
    for i, unit in enumerate(units):
        await accounts_pool.execute(
            "INSERT INTO units (id, org_code, name, si_unit_no, source)"
            " VALUES ($1, $2, $3, '4403000000', 'local')",
            unit,
            uuid.uuid4().hex[:9].upper(),
            f"深圳市统计测试第{i + 1}有限公司",
        )
    cases, history, by_state = [], [], {}
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(LOADED_CASES):
        state = rng.choices(list(STATE_WEIGHTS), list(STATE_WEIGHTS.values()))[0]
        needs_pre = state is S.OFFICE_APPROVAL or rng.random() < 0.3
        made = post_publicity_failed(history_to(rng, state, needs_pre))
        created = start + timedelta(seconds=rng.randrange(60 * 86400))
        updated = created + timedelta(seconds=rng.randrange(3600, 25 * 86400))
        qualification, committee, department = rng.choice(CHOICES)
        case_id = uuid.uuid4()
        applicant = uuid.uuid4()
        cases.append(
            (
                case_id, f"T{i:06d}", rng.choice(units), applicant, "统计测试",
                seal("13900000000", CASE_MOBILE), rng.choice(("2026", OTHER_ROUND)),
                "cxxrc" if needs_pre else "ptsb", qualification, committee, department,
                needs_pre, state.value, made.outcome.value if made.outcome else None,
                len(made.moves), made.last_action, made.status_label,
                made.reached(S.DEPT_ACCEPTANCE), made.reached(S.OFFICE_APPROVAL),
                made.reached(S.COMMITTEE_REVIEW), created, updated,
            )
        )  # fmt: skip
        at = times(rng, len(made.moves), created, updated)
        for move, when in zip(made.moves, at, strict=True):
            history.append(
                (
                    case_id, move.action, None, actor_role(move.action).value, "测试",
                    move.from_state.value, move.to_state.value,
                    move.outcome.value if move.outcome else None, made.status_label,
                    move.inputs or {}, when,
                )
            )  # fmt: skip
        by_state.setdefault(state, []).append((case_id, applicant, needs_pre, committee))
    await cases_pool.copy_records_to_table("cases", columns=CASE_COLUMNS, records=cases)
    places = ", ".join(f"${i}" for i in range(1, len(HISTORY_COLUMNS) + 1))
    await cases_pool.executemany(
        f"INSERT INTO case_history ({', '.join(HISTORY_COLUMNS)}) VALUES ({places})", history
    )
    return {"units": units, "by_state": by_state}


# --- what the service answers, beside what the rows say ---


async def figures(driver, actor: Actor, filters: Filters) -> dict:
    return await driver.call("statistics.get", filters.params(), actor)


def counts(rows: list[dict]) -> dict:
    return {row["key"]: row["count"] for row in rows if row["count"]}


def assert_equal_figures(answer: dict, want: dict) -> None:
    assert answer["total"] == want["total"]
    assert counts(answer["by_state"]) == dict(want["by_state"])
    assert sum(r["count"] for r in answer["by_state"]) == want["total"]
    assert counts(answer["by_outcome"]) == dict(want["by_outcome"])
    assert counts(answer["by_round"]) == dict(want["by_round"])
    assert counts(answer["by_qualification"]) == dict(want["by_qualification"])
    assert counts(answer["by_department"]) == dict(want["by_department"])
    assert counts(answer["by_committee"]) == dict(want["committee_cases"])
    by_step = {r["key"]: r["count"] for r in answer["by_step"] if r["count"]}
    assert by_step == {str(k or "closed"): n for k, n in want["by_step"].items()}
    decided = {r["key"]: (r["passed"], r["failed"]) for r in answer["pass_rates"] if r["total"]}
    assert decided == {
        figure: (found["passed"], found["failed"]) for figure, found in want["decided"].items()
    }
    for row in answer["pass_rates"]:
        if row["total"]:
            assert row["pass_rate"] == pytest.approx(row["passed"] / row["total"], abs=1e-4)
    committees = {
        r["key"]: (r["passed"], r["failed"])
        for r in answer["by_committee"]
        if r["passed"] + r["failed"]
    }
    assert committees == {
        c: (found["passed"], found["failed"]) for c, found in want["committee_decided"].items()
    }
    days = {r["key"]: r for r in answer["step_days"] if r["stays"]}
    assert set(days) == set(want["stays"])
    for state, (stays, average, p90) in want["stays"].items():
        assert days[state]["stays"] == stays
        assert days[state]["average_days"] == pytest.approx(average, abs=0.006)
        assert days[state]["p90_days"] == p90
    returned = sorted(
        ((sum(r.values()), u) for u, r in want["returns"].items()), key=lambda x: (-x[0], x[1])
    )[:10]
    assert [(r["returns"], r["unit_id"]) for r in answer["returns"]] == returned
    for row in answer["returns"]:
        by_state = want["returns"][row["unit_id"]]
        assert row["at_acceptance"] == by_state["dept_acceptance"]
        assert row["at_review"] == by_state["dept_review"]


ASKERS = [
    (SYSADMIN, Asker("sysadmin")),
    (Actor(user_id=uuid.uuid4(), role="office", org_id="office-zjc"), Asker("office")),
    (
        Actor(user_id=uuid.uuid4(), role="department", org_id="dept-gcslh"),
        Asker("department", "dept-gcslh"),
    ),
    (
        Actor(user_id=uuid.uuid4(), role="committee", org_id="cmte-sl-zj"),
        Asker("committee", "cmte-sl-zj"),
    ),
]
FILTERS = [
    Filters(),
    Filters(round_id=OTHER_ROUND),
    Filters(date_from=date(2026, 3, 20), date_to=date(2026, 4, 30)),
    Filters(round_id="2026", date_from=date(2026, 4, 10)),  # most days: all but the left out
    Filters(date_from=date(2026, 3, 2), date_to=date(2026, 6, 30)),
]


async def assert_every_asker_sees_the_rows(driver) -> None:
    cases, history = await rows_of(driver.service.pool)
    for actor, asker in ASKERS:
        for filters in FILTERS:
            answer = await figures(driver, actor, filters)
            assert_equal_figures(answer, expected(cases, history, asker, filters))
    for filters in (Filters(committee_id="cmte-qg-gj"), Filters(department_id="dept-daj")):
        answer = await figures(driver, SYSADMIN, filters)
        assert_equal_figures(answer, expected(cases, history, Asker("sysadmin"), filters))


async def fold_every_change(pool) -> None:
    """Fold until no change waits. The service's own fold (every 2 s) may hold the lock at
    that moment: ours then folds nothing, and the next try finds what it left."""
    for _ in range(200):
        async with pool.acquire() as conn, conn.transaction():
            await statistics_store.fold(conn)
        if not await pool.fetchval("SELECT count(*) FROM case_statistics_changes"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("changes still waiting after 10 s of folding")


async def assert_tables_equal_a_rebuild(pool) -> None:
    """The sums with the changes not yet folded, then folded, equal a sum from scratch."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        computed = await statistics_store.computed(conn)
        daily, totals = await statistics_store.kept(conn)
    assert daily == {tuple(c): a for c, a in computed.items()}
    assert totals == statistics_store.over_all_days(computed)
    await fold_every_change(pool)
    async with pool.acquire() as conn:
        assert await statistics_store.stored(conn, statistics_store.DAILY) == daily
        assert await statistics_store.stored(conn, statistics_store.TOTALS) == totals


# --- the tests ---


async def test_the_loaded_cases_give_the_figures_the_rows_give(system):
    cases, _ = await rows_of(system.service.pool)
    assert len(cases) == LOADED_CASES
    assert {c["state"] for c in cases} == {s.value for s in S}  # every state is there
    await assert_every_asker_sees_the_rows(system)
    await assert_tables_equal_a_rebuild(system.service.pool)


async def test_moves_through_the_workflow_keep_the_figures(system):
    """Loaded cases moved on by the real workflow (returns, decisions, acceptance with and
    without the office), new cases walked from their opening to the end (one failed by an
    upheld objection in 评后公示): the figures equal the rows' while the changes wait to be
    folded and once they are, and the kept sums a sum from scratch."""
    by_state = system.loaded["by_state"]
    pool = system.service.pool
    async with folding_held(pool), results_outside(pool, "cmte-qg-gj"):
        await move_loaded_cases(system, by_state)
        await walk_new_cases(system)
        assert await pool.fetchval("SELECT count(*) FROM case_statistics_changes")
        await assert_every_asker_sees_the_rows(system)
    await assert_tables_equal_a_rebuild(pool)
    await assert_every_asker_sees_the_rows(system)


@contextlib.asynccontextmanager
async def folding_held(pool):
    """The service's folding of the changes waits meanwhile (it skips a round when another
    holds its lock)."""
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", statistics_store.FOLD_LOCK)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", statistics_store.FOLD_LOCK)


async def move_loaded_cases(driver, by_state: dict) -> None:
    department = {
        d: Actor(user_id=uuid.uuid4(), role="department", org_id=d) for _, _, d in CHOICES
    }
    dept_of = {c: d for _, c, d in CHOICES}
    moves = (
        ("accept", {}),
        ("return", {"reason": "材料不全", "target": "draft"}),
        ("refuse", {"reason": "不符合申报条件"}),
    )
    for i, (case_id, _, _, committee) in enumerate(by_state[S.DEPT_ACCEPTANCE][:6]):
        action, inputs = moves[i % 3]
        await driver.act(department[dept_of[committee]], str(case_id), action, **inputs)
    for case_id, _, _, committee in by_state[S.DEPT_REVIEW][:4]:
        await driver.act(department[dept_of[committee]], str(case_id), "return", reason="重打")
    reviewed = [c for c in by_state[S.COMMITTEE_REVIEW] if c[3] == "cmte-qg-gj"][:4]
    for i, (case_id, _, _, committee) in enumerate(reviewed):
        committee_actor = Actor(user_id=uuid.uuid4(), role="committee", org_id=committee)
        await driver.act(committee_actor, str(case_id), ("pass_review", "fail_review")[i % 2])
    for case_id, applicant, _, _ in by_state[S.DRAFT][:2]:
        await driver.act(Actor(user_id=applicant, role="applicant"), str(case_id), "cancel")


async def walk_new_cases(driver) -> None:
    unit = new_unit_actors()
    passed = await driver.at_department(unit, "cxxrc")  # needs the office's pre-approval
    await driver.act(DEPARTMENT, passed, "accept")
    await driver.act(OFFICE, passed, "grant_pre_approval")
    await through_post_publicity(driver, unit, passed)
    await driver.act(DEPARTMENT, passed, "confirm")

    objected = await driver.at_department(unit)
    await driver.act(DEPARTMENT, objected, "accept")
    await through_post_publicity(driver, unit, objected)
    found = await driver.call(
        "objection.record",
        {"case_id": objected, "objector_name": "王五", "objector_contact": "0755-88880000",
         "content": "反映其业绩材料不实"},
        DEPARTMENT,
    )  # fmt: skip
    await driver.call(
        "objection.find",
        {"objection_id": found["objection_id"], "finding": "upheld", "finding_text": "经核查属实"},
        DEPARTMENT,
    )
    await driver.act(DEPARTMENT, objected, "confirm")
    case = await driver.call("case.get", {"case_id": objected}, unit.operator)
    assert case["outcome"] == "post_publicity_failed"

    failed = await driver.submitted(unit)
    await driver.act(unit.operator, failed, "approve", **approval(driver.clock.today()))
    await driver.act(unit.operator, failed, "start_pre_publicity")
    driver.clock.offset += timedelta(days=12)
    await driver.act(
        unit.operator, failed, "record_pre_publicity_result", passed=False, feedback="有异议"
    )
    await driver.open(unit)  # a draft, counted the day it was opened


async def through_post_publicity(driver, unit, case_id: str) -> None:
    await driver.act(unit.applicant, case_id, "print_declaration_form")
    await driver.act(DEPARTMENT, case_id, "forward_to_committee")
    await driver.act(COMMITTEE, case_id, "pass_review")
    await driver.act(DEPARTMENT, case_id, "launch_post_publicity")
    await driver.act(unit.operator, case_id, "start_post_publicity")
    driver.clock.offset += timedelta(days=14)
    passed = {"passed": True, "feedback": "公示期间无异议"}
    await driver.act(unit.operator, case_id, "record_post_publicity_result", **passed)


async def test_the_step_of_each_state_follows_the_ten_step_flow(system):
    answer = await figures(system, SYSADMIN, Filters())
    assert {r["key"]: r["step"] for r in answer["by_state"]} == steps()
    assert [r["key"] for r in answer["by_step"]] == [*map(str, range(2, 11)), "closed"]


async def test_the_units_with_the_most_returns_are_named(system):
    answer = await figures(system, SYSADMIN, Filters())
    assert answer["returns"], "the random histories have returns"
    for row in answer["returns"]:
        assert row["unit_name"].startswith("深圳市统计测试第")


# --- who may ask, and what ---


async def refused(call) -> RpcError:
    with pytest.raises(RpcError) as error:
        await call
    return error.value


@pytest.mark.parametrize("role", ["unit_admin", "unit_operator", "applicant", "expert"])
async def test_other_roles_have_no_statistics(system, role):
    actor = Actor(user_id=uuid.uuid4(), role=role, unit_id=uuid.uuid4())
    for filters in (Filters(), Filters(committee_id="cmte-qg-gj")):
        error = await refused(figures(system, actor, filters))
        assert error.status == 403 and "统计" in error.message


async def test_a_department_chooses_among_its_own_committees_only(system):
    department = Actor(user_id=uuid.uuid4(), role="department", org_id="dept-gcslh")
    answer = await figures(system, department, Filters(committee_id="cmte-qg-gj"))
    assert [c["id"] for c in answer["choices"]["committees"]] == ["cmte-qg-gj"]
    assert answer["choices"]["departments"] == []
    other = await refused(figures(system, department, Filters(committee_id="cmte-da-zj")))
    assert other.status == 422 and "committee_id" in other.fields
    foreign = await refused(figures(system, department, Filters(department_id="dept-daj")))
    assert foreign.status == 422 and "department_id" in foreign.fields
    committee = Actor(user_id=uuid.uuid4(), role="committee", org_id="cmte-qg-gj")
    chosen = await refused(figures(system, committee, Filters(committee_id="cmte-da-zj")))
    assert chosen.status == 422 and "committee_id" in chosen.fields


async def test_bad_filters_are_refused_with_their_field(system):
    backwards = Filters(date_from=date(2026, 5, 1), date_to=date(2026, 4, 1))
    error = await refused(figures(system, SYSADMIN, backwards))
    assert error.status == 422 and error.fields == {"date_to": "截止日期不能早于起始日期"}
    unknown = await refused(figures(system, SYSADMIN, Filters(round_id="1999")))
    assert unknown.fields == {"round_id": "没有这个评审年度"}


# --- the workbook ---


async def test_the_workbook_holds_the_figures_and_its_download_is_audited(system):
    department = Actor(
        user_id=uuid.uuid4(), role="department", org_id="dept-gcslh", username="dept_stats"
    )
    filters = Filters(round_id="2026", date_from=date(2026, 3, 15))
    answer = await figures(system, department, filters)
    book = await system.call("statistics.export", filters.params(), department)
    assert book.value["filename"].endswith(".xlsx")
    sheets = openpyxl.load_workbook(io.BytesIO(book.content))
    assert sheets.sheetnames == ["查询条件", *(t.title for t in TABLES)]
    about = dict(sheets["查询条件"].iter_rows(min_row=2, values_only=True))
    assert about["申报总数"] == answer["total"] and about["起始日期"] == "2026-03-15"
    for table in TABLES:
        rows = list(sheets[table.title].iter_rows(values_only=True))
        assert list(rows[0]) == [c.header for c in table.columns]
        for got, want in zip(rows[1:], answer[table.key], strict=True):
            numbers = [c.field for c in table.columns if c.kind in ("count", "rate", "days")]
            assert [got[[c.field for c in table.columns].index(f)] for f in numbers] == [
                want[f] for f in numbers
            ]
    audited = await system.service.pool.fetchrow(
        "SELECT * FROM audit_log WHERE action = 'export' AND actor_id = $1", department.user_id
    )
    assert audited["object_type"] == "statistics" and audited["actor_role"] == "department"
    assert audited["details"]["filters"] == filters.params()

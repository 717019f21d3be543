"""Every page of the work lists against the same lists computed in Python from the rows
(tests/support/work_lists_expected.py), on a database of this module's own: each party's
待办 and 已办 tabs (the 已办 with and without a filter), every order, two page sizes, every
page (and for one order the page past the last), and case.list_ids of each. A page past
the middle is read counting from the end (queries._ListQuery.rows_sql), so walking all pages
reads half of each list from each end. A 已办 tab without filters is counted and paged from
`case_done` alone and only its page is checked against the reader's sight
(docs/performance.md "A million cases", 3 and 4): the counts compared here are those of the
rows the reader sees, so they hold only while the workflow keeps the promise that allows
it (a case a party moved stays in its sight); a 已办 entry that broke it is never shown.
A 已办 tab with 只看超期 is counted from the cases' own index (cases.done_lists, the bits of
the lists they have 已办 rows in), its overdue cases compared here with the domain's rule for
one case, 12 days after the moves.

The cases are loaded with COPY as the benches load theirs (bench/_workflow_data.py: its
factory, its 已办 rows), with few distinct times and names so that orders tie and the
case's id decides; then moved on through the real workflow over RPC (batches, which give
many cases one time; returns, after which the department still sees what it returned;
resubmissions, which move an 已办 entry to a new time; refusals, pre-approvals, forwards,
reviews), and the lists are compared with what the tables then hold. Readers of other
units, departments and committees hold cases the reader must not see.
"""

import asyncio
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from bench._workflow_data import (
    DONE_COLUMNS,
    LOADED_CASE_COLUMNS,
    CaseFactory,
    done_lists,
    done_rows,
)
from services.cases.domain.calendar import local_date
from services.cases.domain.deadlines import deadline_of
from services.cases.holidays import load_calendar
from services.cases.repository import DONE_CASE_COLUMNS
from services.cases.scope import lists_for
from shared.contracts.cases.rpc import MAX_LISTED_IDS
from shared.contracts.cases.vocabulary import CaseState
from shared.contracts.cases.work_lists import LIST_SORTS
from shared.rpc import Actor
from tests.integration.conftest import WORKFLOW_TODAY, cases_alone
from tests.support.cases_driver import CasesDriver, approval, reviewer
from tests.support.meetings import results_outside
from tests.support.work_lists_expected import Rows, expected_list, party_of, rows_of, sees

S = CaseState
PAGE_SIZES = (5, 20)
IN_FLIGHT = 6  # page requests at a time
# Three departments, each with its committee (工程 qualifications: few, so orders tie).
COMMITTEES = ("cmte-qg-gj", "cmte-sl-zj", "cmte-shhg-zj")
NAMES = ("王伟", "王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "黄敏", "王丽", "周杰")
# The cases of each unit, by state: A and B read their lists; C's cases fill the reviewers'
# lists (and are no concern of A's or B's); D reads 已办 entries it should never have.
AT_REVIEWERS = list(S)[list(S).index(S.DEPT_SUBMIT_READY) :]
STATES_BY_UNIT = {
    "A": [*S] * 4 + [S.UNIT_REVIEW] * 8,
    "B": [*S] * 2 + [S.PRE_PUBLICITY] * 5,
    "C": AT_REVIEWERS * 10 + [S.DEPT_ACCEPTANCE] * 8 + [S.COMMITTEE_REVIEW] * 14,
    "D": [*S],
}
# 已办 filtered by what its rows carry reads case_done alone; by the state it joins the cases
FILTERS = {
    "todo": ({},),
    "done": (
        {},
        {"name": "王"},
        {"name": "王", "review_type_id": "ptsb"},
        {"qualification_id": "gc-fg"},
        {"state": "closed"},
        {"overdue": True},  # case_done filtered by the overdue cases (queries._done_overdue)
        {"overdue": True, "name": "王"},
    ),
}
CARRIED = ", ".join(DONE_CASE_COLUMNS)


def unit_actor(unit_id: uuid.UUID, role: str = "unit_operator") -> Actor:
    return Actor(user_id=uuid.uuid4(), role=role, unit_id=unit_id)


@dataclass
class World:
    driver: CasesDriver
    units: dict[str, uuid.UUID]
    rows: Rows | None = None
    strays: dict[str, set[str]] | None = None  # party: its 已办 entries out of its sight

    def readers(self) -> dict[str, Actor]:
        """Who reads the lists: each compared with what they alone may see."""
        return {
            "unit A operator": unit_actor(self.units["A"]),
            "unit B admin": unit_actor(self.units["B"], "unit_admin"),
            "department 工程师联合会": reviewer("department", "dept-gcslh"),
            "department 水务局": reviewer("department", "dept-swj"),
            "office": reviewer("office", "office-zjc"),
            "committee 轻工 高级": reviewer("committee", "cmte-qg-gj"),
            "committee 水利 中级": reviewer("committee", "cmte-sl-zj"),
        }

    def stray_readers(self) -> dict[str, Actor]:
        return {
            "unit D operator": unit_actor(self.units["D"]),
            "department 塑胶行业协会": reviewer("department", "dept-sjxh"),
        }


@pytest.fixture(scope="module")
async def world(own_database):
    async with cases_alone(own_database) as (cases, client, deps):
        driver = CasesDriver(client, cases, deps.clock)
        driver.clock.offset = WORKFLOW_TODAY - datetime.now(UTC)
        world = World(driver, {unit: uuid.uuid4() for unit in STATES_BY_UNIT})
        await load_cases(world, own_database.database_url, random.Random(18))
        await move_on(world)
        # the lists read 12 days on: the cases moved above (their 已办 bits set by the moves)
        # are past a 5-day limit then, those loaded on the 6-hour grid some of them
        driver.clock.offset += timedelta(days=12)
        world.strays = await out_of_sight_entries(world)
        rows = await rows_of(cases.pool)
        world.rows = replace(rows, overdue=await overdue_today(rows, cases.pool, deps))
        yield world


# --- the cases: loaded, then moved on through the workflow ---


async def load_cases(world: World, database_url: str, rng: random.Random) -> None:
    """Cases in every state in units A to D, their times on a 6-hour grid (so many tie)."""
    now = world.driver.clock.now()
    factory = CaseFactory(rng, now, "2026")
    factory.choices = [c for c in factory.choices if c[1] in COMMITTEES]
    aged = random.Random(40)  # apart: the other draws stay those the lists' checks rely on
    rows, done = [], []
    for unit, states in STATES_BY_UNIT.items():
        for state in states:
            row = list(factory.case(world.units[unit], state))
            updated = now - timedelta(hours=6 * rng.randrange(1, 24))
            row[4] = rng.choice(NAMES)  # applicant_name
            row[26], row[27] = updated - timedelta(days=3), updated  # created_at, updated_at
            entries = done_rows(tuple(row))
            # state_since: its last move; a third of them long ago, past any step's limit
            since = updated - timedelta(days=aged.choice((0, 0, 40)))
            rows.append((*row, since, done_lists(entries)))
            done += entries
    # a connection of its own, as tests/support/copies_data.py copies: the service's pool
    # reads and writes jsonb as text, which COPY's binary format cannot take
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    try:
        await conn.copy_records_to_table("cases", columns=LOADED_CASE_COLUMNS, records=rows)
        await conn.copy_records_to_table("case_done", columns=DONE_COLUMNS, records=done)
        await conn.execute("SELECT setval('case_numbers', $1)", len(rows))
    finally:
        await conn.close()


async def cases_in(world: World, state: S, **where) -> list[str]:
    """The ids of the cases in `state` (and the columns in `where`), in case number order."""
    conditions = "".join(f" AND {column} = ${i}" for i, column in enumerate(where, start=2))
    found = await world.driver.service.pool.fetch(
        f"SELECT id FROM cases WHERE state = $1{conditions} ORDER BY case_no",
        state.value,
        *where.values(),
    )
    return [str(r["id"]) for r in found]


async def move_on(world: World) -> None:
    driver, unit_a = world.driver, unit_actor(world.units["A"])
    today = driver.clock.today()
    gcslh, swj = reviewer("department", "dept-gcslh"), reviewer("department", "dept-swj")

    waiting = await cases_in(world, S.UNIT_REVIEW, unit_id=world.units["A"])
    assert await batch(driver, unit_a, waiting[:6], "approve", approval(today)) == 6
    for case_id in waiting[6:8]:
        await driver.act(unit_a, case_id, "reject", reason="请补充业绩证明")

    accepting = await cases_in(world, S.DEPT_ACCEPTANCE, department_id="dept-gcslh")
    returned = accepting[:3]
    for case_id in returned:
        await driver.act(gcslh, case_id, "return", reason="材料不全", target="dept_submit_ready")
    await driver.act(gcslh, accepting[3], "refuse", reason="不符合申报条件")
    for case_id in accepting[4:]:
        await driver.act(gcslh, case_id, "accept")
    for case_id in await cases_in(world, S.DEPT_ACCEPTANCE, department_id="dept-swj"):
        await driver.act(swj, case_id, "accept")
    # the returned cases submitted again: their unit's 已办 entries move to now
    resubmitted = [
        await batch(driver, unit_actor(unit), returned, "submit_to_department", {})
        for unit in world.units.values()
    ]
    assert sum(resubmitted) == len(returned) == 3
    await driver.act(gcslh, returned[0], "return", reason="仍缺材料", target="draft")

    office = reviewer("office", "office-zjc")
    deciding = await cases_in(world, S.OFFICE_APPROVAL)
    await driver.act(office, deciding[0], "deny_pre_approval", reason="不符合破格条件")
    for case_id in deciding[1:4]:
        await driver.act(office, case_id, "grant_pre_approval")

    for case_id in (await cases_in(world, S.DEPT_REVIEW, department_id="dept-gcslh"))[:3]:
        await driver.act(gcslh, case_id, "forward_to_committee")
    committee = reviewer("committee", "cmte-qg-gj")
    async with results_outside(driver.service.pool, "cmte-qg-gj"):
        reviewing = await cases_in(world, S.COMMITTEE_REVIEW, committee_id="cmte-qg-gj")
        assert await batch(driver, committee, reviewing[:2], "pass_review", {}) == 2
        assert await batch(driver, committee, reviewing[2:3], "fail_review", {}) == 1


async def batch(driver: CasesDriver, actor: Actor, case_ids: list[str], action: str, inputs):
    """case.batch of these cases (one time for them all): how many moved (those out of the
    actor's sight are refused)."""
    params = {"case_ids": case_ids, "action": action, "inputs": inputs}
    return (await driver.call("case.batch", params, actor))["done"]


async def out_of_sight_entries(world: World) -> dict[str, set[str]]:
    """已办 entries the workflow never writes: unit D's for cases of unit A, and dept-sjxh's
    for cases of dept-gcslh, each in a list where the party has entries of its own."""
    strays = {str(world.units["D"]): (str(world.units["A"]), ("unit:3", "unit:6"))}
    strays["dept-sjxh"] = ("dept-gcslh", ("department:acceptance",))
    for party, (other, lists) in strays.items():
        copied = await world.driver.service.pool.fetch(
            f"INSERT INTO case_done (case_id, party_id, list, at, {CARRIED})"
            f" SELECT case_id, $1, list, at, {CARRIED}"
            " FROM case_done WHERE party_id = $2 AND list = ANY($3::text[])"
            " AND case_id::text < '6' RETURNING case_id",  # some of them
            party,
            other,
            lists,
        )
        strays[party] = {str(r["case_id"]) for r in copied}
    return strays


async def overdue_today(rows: Rows, pool, deps) -> frozenset[uuid.UUID]:
    """The cases waiting past their limit today, by the domain's rule for one case (the
    lists' 超期 mark), not by the cutoffs the lists' SQL filters with."""
    today, limits = deps.clock.today(), deps.settings.limits()
    async with pool.acquire() as conn:
        calendar = await load_calendar(conn)
    return frozenset(
        case.id
        for case in rows.cases.values()
        if (
            found := deadline_of(
                S(case.state), local_date(case.state_since), today, limits, calendar
            )
        )
        and found.overdue
    )


# --- reading the lists ---


def every_list(actor: Actor) -> Iterator[dict]:
    """case.list's parameters for each list, tab, filter and order the actor has."""
    for work_list in lists_for(actor):
        for tab, filters in FILTERS.items():
            for filtered in filters:
                for sort in LIST_SORTS:
                    yield {"list": work_list.key, "tab": tab, "sort": sort, **filtered}


def page_requests(world: World, actor: Actor) -> Iterator[tuple[dict, list[str], int]]:
    """Each page to read of each list (with what it should show and the list's length):
    every page at each size, and for one order the page past the last too."""
    for params in every_list(actor):
        want = [str(i) for i in expected_list(world.rows, actor, params)]
        for size in PAGE_SIZES if len(params) == 3 else PAGE_SIZES[:1]:  # filtered: one size
            last = max(1, math.ceil(len(want) / size)) + (params["sort"] == "updated")
            for number in range(1, last + 1):
                shown = want[(number - 1) * size : number * size]
                yield {**params, "page": number, "page_size": size}, shown, len(want)


async def read_all(driver, actor: Actor, requests: list[tuple[str, dict]]) -> list[dict]:
    """case.list and case.list_ids answers to these (method, params), a few at a time."""
    limit = asyncio.Semaphore(IN_FLIGHT)

    async def read(method: str, params: dict) -> dict:
        async with limit:
            return await driver.call(method, params, actor)

    return await asyncio.gather(*(read(method, params) for method, params in requests))


def ids(answer: dict) -> list[str]:
    return [item["id"] for item in answer["items"]]


def from_the_end(params: dict, total: int) -> bool:
    """Whether the service reads this page counting from the end (past the list's middle)."""
    return (params["page"] - 1) * params["page_size"] > total // 2


@pytest.mark.parametrize(
    "reader",
    [
        "unit A operator",
        "unit B admin",
        "department 工程师联合会",
        "department 水务局",
        "office",
        "committee 轻工 高级",
        "committee 水利 中级",
    ],
)
async def test_every_page_is_its_slice_of_the_list_ordered_in_python(world, reader):
    actor = world.readers()[reader]
    pages = list(page_requests(world, actor))
    answers = await read_all(world.driver, actor, [("case.list", p) for p, _, _ in pages])
    read_backwards = set()
    for (params, want, total), answer in zip(pages, answers, strict=True):
        assert (answer["total"], ids(answer)) == (total, want), f"{reader} {params}"
        if want and from_the_end(params, total):
            read_backwards.add((params["tab"], params["page_size"]))
    # the data has lists long enough for pages read from the end at each size on both tabs
    assert read_backwards >= {("todo", PAGE_SIZES[0]), ("done", PAGE_SIZES[0])}, read_backwards
    lists = list(every_list(actor))
    answers = await read_all(world.driver, actor, [("case.list_ids", p) for p in lists])
    for params, listed in zip(lists, answers, strict=True):
        want = [str(i) for i in expected_list(world.rows, actor, params)]
        assert (listed["ids"], listed["total"]) == (want[:MAX_LISTED_IDS], len(want)), params


def test_the_overdue_filter_has_cases_to_find_and_cases_to_leave_out(world):
    """The 已办 tabs filtered by 超期 above are neither empty nor the whole tab: for the
    unit and the department, some 已办 list holds both."""
    for reader in ("unit A operator", "department 工程师联合会"):
        actor = world.readers()[reader]
        both = []
        for work_list in lists_for(actor):
            done = {"list": work_list.key, "tab": "done"}
            listed = expected_list(world.rows, actor, done)
            overdue = expected_list(world.rows, actor, {**done, "overdue": True})
            both.append(0 < len(overdue) < len(listed))
        assert any(both), reader


async def test_no_list_shows_a_case_another_party_alone_may_see(world):
    """Beside the pages' contents: each reader of a pair (two units, two departments, two
    committees) has cases in its lists, and none of them is a case the other sees."""
    readers = world.readers()
    pairs = [
        ("unit A operator", "unit B admin"),
        ("department 工程师联合会", "department 水务局"),
        ("committee 轻工 高级", "committee 水利 中级"),
    ]
    for pair in pairs:
        for mine, theirs in (pair, pair[::-1]):
            me, them = readers[mine], readers[theirs]
            listed = set()
            for work_list in lists_for(me):
                for tab in ("todo", "done"):
                    params = {"list": work_list.key, "tab": tab}
                    listed |= set((await world.driver.call("case.list_ids", params, me))["ids"])
            their_cases = {str(c.id) for c in world.rows.cases.values() if sees(them, c)}
            assert listed and their_cases and not listed & their_cases, mine


@pytest.mark.parametrize("reader", ["unit D operator", "department 塑胶行业协会"])
async def test_a_done_entry_out_of_the_readers_sight_is_never_shown(world, reader):
    """Entries the workflow never writes (another unit's or department's cases in this
    party's 已办 lists). The tab counts them (it reads case_done alone), so its pages are
    laid out for a longer list than the reader sees; they show none of those cases, from
    either end, and between them every case of the party's own, each page in the list's
    order."""
    actor = world.stray_readers()[reader]
    party = party_of(actor)
    for work_list in lists_for(actor):
        for sort in LIST_SORTS:
            params = {"list": work_list.key, "tab": "done", "sort": sort}
            want = [str(i) for i in expected_list(world.rows, actor, params)]
            place = {case_id: n for n, case_id in enumerate(want)}
            for size in PAGE_SIZES:
                first = await world.driver.call("case.list", {**params, "page_size": size}, actor)
                pages = range(1, first["total"] // size + 2)
                asked = [("case.list", {**params, "page": n, "page_size": size}) for n in pages]
                shown = [ids(answer) for answer in await read_all(world.driver, actor, asked)]
                where = f"{reader} {params} by {size}"
                assert not {c for page in shown for c in page} & world.strays[party], where
                assert {c for page in shown for c in page} == set(want), where
                assert all(page == sorted(page, key=place.__getitem__) for page in shown), where
            listed = await world.driver.call("case.list_ids", params, actor)
            assert listed["ids"] == want, params
    # the party's 已办 lists hold such entries, and cases of its own beside them
    entries = [world.rows.cases[c] for c, done_by, _, _ in world.rows.done if done_by == party]
    assert {sees(actor, case) for case in entries} == {True, False}

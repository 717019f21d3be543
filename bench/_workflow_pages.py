"""The pages bench.workflow measures at scale (`--phases pages` and `explain`): the home
counts and every work list a unit operator and each reviewer opens, on its 待办 and 已办
tabs, the first and the last page, each sort and filter the page offers; and for each, the
statements the cases service runs for it, built by the service's own query builders
(services/cases/handlers/queries.py), so the bare side and the plans are of the same SQL.
"""

import contextlib
import time
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlencode

from services.cases.deadline_views import Deadlines, deadlines_today
from services.cases.handlers.queries import (
    LIST_COLUMNS,
    home_query,
    planned_for_these_values,
    work_list_query,
)
from services.cases.settings import CasesSettings
from shared.clock import Clock
from shared.contracts.cases.rpc import ListCases
from shared.contracts.cases.work_lists import WORK_LISTS, lists_of_role
from shared.rpc import Actor

PAGE_SIZE = 20
SURNAME, FULL_NAME = "王", "王伟"  # q: a surname (one case in 35), a whole name (1 in 2,000)


@dataclass(frozen=True)
class Page:
    """One page as a user opens it: `who` (unit: the largest unit's operator; department,
    office, committee: bench/_workflow_data.REVIEWERS), the list (None: the home counts),
    the tab, the sort and filters, and whether it is the list's last page."""

    who: str
    list: str | None = None
    tab: str = "todo"
    options: tuple[tuple[str, str], ...] = ()
    last: bool = False

    @property
    def name(self) -> str:
        if self.list is None:
            return f"{self.who} home"
        shown = " ".join(f"{k}={v}" for k, v in self.options)
        return " ".join(
            filter(None, [self.who, self.list, self.tab, shown, "last page" if self.last else ""])
        )

    def first(self) -> "Page":
        return Page(self.who, self.list, self.tab, self.options)

    def params(self, page: int = 1) -> dict:
        return {"list": self.list, "tab": self.tab, **dict(self.options), "page": page}

    def path(self, page: int = 1) -> str:
        if self.list is None:
            return "/api/cases/home"
        return "/api/cases?" + urlencode(self.params(page))


def _filters(who: str, year: str) -> list[tuple[str, str]]:
    """Every filter the list page offers this party (a department is not offered the
    department filter, a committee not the committee one: gateway/pages/case_pages.py)."""
    found = [
        ("name", SURNAME),
        ("name", FULL_NAME),
        ("review_type_id", "cxxrc"),
        ("qualification_id", "gc-fg"),
        ("department_id", "dept-gcslh"),
        ("committee_id", "cmte-qg-gj"),
        ("round_id", year),
        ("overdue", "1"),
    ]
    hidden = {"department": "department_id", "committee": "committee_id"}.get(who)
    return [f for f in found if f[0] != hidden]


SORTS = ("name", "qualification", "status", "case_no")  # "updated" is every page's default


def pages(year: str) -> list[Page]:
    """Every page measured: per party its home counts, each list's 待办 and 已办 first page;
    for its busiest list (the one with the most cases waiting) every sort, every filter and
    the last page, of both tabs."""
    busiest = {"unit": "unit:3", "department": "department:acceptance"}
    found = []
    for who in ("unit", "department", "office", "committee"):
        found.append(Page(who))
        lists = lists_of_role("unit_operator" if who == "unit" else who)
        for w in lists:
            found.append(Page(who, w.key))
        for w in lists:
            if w.actions:  # a list without buttons has no 已办 tab of its own
                found.append(Page(who, w.key, "done"))
        key = busiest.get(who, lists[0].key)
        found += [Page(who, key, "todo", last=True), Page(who, key, "done", last=True)]
        for tab in ("todo", "done"):
            found += [Page(who, key, tab, (("sort", s),)) for s in SORTS]
            found += [Page(who, key, tab, (f,)) for f in _filters(who, year)]
    assert all(p.list is None or p.list in WORK_LISTS for p in found)
    return found


def service_deps() -> SimpleNamespace:
    """What deadlines_today reads of the cases service's deps: its clock and settings."""
    return SimpleNamespace(clock=Clock(), settings=CasesSettings())


@dataclass(frozen=True)
class Statement:
    what: str  # count, rows, home
    sql: str
    args: list


def statements(page: Page, actor: Actor, deadlines: Deadlines, number: int):
    """The statements case.list (case.home) runs for this page after reading the calendar:
    the count, then the rows, whose SQL depends on the count (a page past the middle is read
    from the end). Send the count's answer into the generator to get the rows."""
    if page.list is None:
        yield Statement("home", *home_query(actor, deadlines))
        return
    query = work_list_query(ListCases(**page.params(number)), actor, deadlines)
    counted = yield Statement("count", *query.total())
    offset = (number - 1) * PAGE_SIZE
    yield Statement("rows", query.rows_sql(LIST_COLUMNS, PAGE_SIZE, offset, counted), query.args)


async def run_statements(steps, run_one) -> list:
    """Each statement of `statements()` through `run_one(statement)`, which returns (rows,
    the count or None), the count sent back; returns the last statement's rows."""
    rows = []
    try:
        statement = next(steps)
        while True:
            rows, answer = await run_one(statement)
            statement = steps.send(answer)
    except StopIteration:
        return rows


class BarePages:
    """The bare side of each page: on a connection of the pool, the calendar read
    (deadlines_today), then the page's statements, as the service runs them."""

    def __init__(self, pool, actors: dict[str, Actor]) -> None:
        self.pool = pool
        self.actors = actors  # by Page.who
        self.deps = service_deps()
        self.totals: dict[Page, int] = {}  # each list's count, for a last page and the checks

    async def page_number(self, page: Page) -> int:
        """1, or for a last page the number of the list's last page (counted once)."""
        if not page.last:
            return 1
        if page.first() not in self.totals:
            await self.run(page.first())
        return max(1, -(-self.totals[page.first()] // PAGE_SIZE))

    async def run(self, page: Page, actor: Actor | None = None) -> int:
        """The page's statements as `actor` (default: the page's own, whose list's count is
        kept in `totals`); returns the rows of its last statement."""
        own = actor is None
        actor = actor or self.actors[page.who]
        number = await self.page_number(page) if own else 1
        async with self.pool.acquire() as conn, as_the_service(conn, page):
            deadlines = await deadlines_today(conn, self.deps)

            async def each(statement: Statement):
                rows = await conn.fetch(statement.sql, *statement.args)
                if statement.what != "count":
                    return rows, None
                if own:
                    self.totals[page.first()] = rows[0][0]
                return rows, rows[0][0]

            return len(await run_statements(statements(page, actor, deadlines, number), each))


def as_the_service(conn, page: Page):
    """What the service runs a page's statements in: a list's in one snapshot, each planned
    for its values (queries.planned_for_these_values); the home counts' as they come."""
    return contextlib.nullcontext() if page.list is None else planned_for_these_values(conn)


async def explain(bare: BarePages, page: Page) -> list[tuple[Statement, str, float]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each of the page's statements, with its arguments; and
    the statement's own time, run once more after the plan (warm)."""
    actor = bare.actors[page.who]
    number = await bare.page_number(page)
    found = []
    async with bare.pool.acquire() as conn, as_the_service(conn, page):
        deadlines = await deadlines_today(conn, bare.deps)

        async def each(statement: Statement):
            sql = f"EXPLAIN (ANALYZE, BUFFERS) {statement.sql}"
            plan = await conn.fetch(sql, *statement.args)
            started = time.perf_counter()
            rows = await conn.fetch(statement.sql, *statement.args)
            took = time.perf_counter() - started
            found.append((statement, "\n".join(r[0] for r in plan), took))
            return rows, rows[0][0] if statement.what == "count" else None

        await run_statements(statements(page, actor, deadlines, number), each)
    return found

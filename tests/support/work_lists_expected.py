"""The work lists computed another way: in Python, straight from the rows of `cases` and
`case_done`, without the service's query builder. Who sees a case is scope.py's rule written
again; the orders are those the lists offer (shared/contracts/cases/work_lists.py
LIST_SORTS), ties broken by the case's id as the pages break them. Text is ranked by the
database's own collation (the one thing taken from PostgreSQL: it decides how 王 and 李
compare, and the pages sort by it too)."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.contracts.cases.work_lists import WORK_LISTS
from shared.rpc import Actor

UNIT_ROLES = ("unit_admin", "unit_operator")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ListedCase:
    id: uuid.UUID
    case_no: str
    unit_id: uuid.UUID
    department_id: str
    committee_id: str
    reached_department: bool
    reached_office: bool
    reached_committee: bool
    state: str
    applicant_name: str
    review_type_id: str
    qualification_id: str
    round_id: str
    updated_at: datetime
    state_since: datetime


@dataclass(frozen=True)
class Rows:
    """Every case and every 已办 entry, and how the database ranks the text they sort by."""

    cases: dict[uuid.UUID, ListedCase]
    done: list[tuple[uuid.UUID, str, str, datetime]]  # case_id, party_id, list, at
    qualifications: dict[str, tuple[int, str]]  # id: (position, name)
    rank: dict[str, int]
    # the cases waiting past their step's limit today, as the caller worked them out (the
    # 只看超期 filter): empty unless it did
    overdue: frozenset[uuid.UUID] = frozenset()


async def rows_of(pool) -> Rows:
    fields = ", ".join(ListedCase.__dataclass_fields__)
    cases = {r["id"]: ListedCase(**r) for r in await pool.fetch(f"SELECT {fields} FROM cases")}
    done = [tuple(r) for r in await pool.fetch("SELECT case_id, party_id, list, at FROM case_done")]
    qualifications = {
        r["id"]: (r["position"], r["name"])
        for r in await pool.fetch("SELECT id, position, name FROM qualifications")
    }
    texts = {t for c in cases.values() for t in (c.applicant_name, c.case_no, c.state)}
    texts |= {name for _, name in qualifications.values()}
    ranked = await pool.fetch(
        "SELECT t, rank() OVER (ORDER BY t) AS n FROM unnest($1::text[]) t", sorted(texts)
    )
    return Rows(cases, done, qualifications, {r["t"]: r["n"] for r in ranked})


def sees(actor: Actor, case: ListedCase) -> bool:
    """scope.visibility, written again over a case."""
    if actor.role in UNIT_ROLES:
        return case.unit_id == actor.unit_id
    if actor.role == "department":
        return case.department_id == actor.org_id and case.reached_department
    if actor.role == "office":
        return case.reached_office
    if actor.role == "committee":
        return case.committee_id == actor.org_id and case.reached_committee
    return False


def party_of(actor: Actor) -> str:
    return str(actor.unit_id) if actor.role in UNIT_ROLES else actor.org_id


def matches(case: ListedCase, filters: dict) -> bool:
    """The filters a list offers (but 超期: `expected_list`), as the page describes them."""
    name = filters.get("name", "").strip()
    if name and name.lower() not in case.applicant_name.lower():
        return False
    return all(
        getattr(case, column) == value
        for column, value in filters.items()
        if column not in ("name", "overdue") and value
    )


def expected_list(rows: Rows, actor: Actor, params: dict) -> list[uuid.UUID]:
    """The ids of the whole list case.list pages through, in its order."""
    work_list = WORK_LISTS[params["list"]]
    filters = {k: v for k, v in params.items() if k not in ("list", "tab", "sort")}
    if params.get("tab", "todo") == "todo":
        states = {s.value for s in work_list.states}
        entries = [(c, c.updated_at) for c in rows.cases.values() if c.state in states]
    else:
        party = party_of(actor)
        entries = [
            (rows.cases[case_id], at)
            for case_id, done_by, key, at in rows.done
            if done_by == party and key == work_list.key
        ]
    listed = [(c, at) for c, at in entries if sees(actor, c) and matches(c, filters)]
    if filters.get("overdue"):
        listed = [(c, at) for c, at in listed if c.id in rows.overdue]
    sort = params.get("sort", "updated")
    return [c.id for c, _ in sorted(listed, key=lambda entry: _key(rows, sort, *entry))]


def _key(rows: Rows, sort: str, case: ListedCase, at: datetime) -> tuple:
    """A list's order as numbers: `at` is when the case came into the list as the tab
    orders it (its last change on 待办, the party's move on 已办)."""
    rank, tie = rows.rank, case.id.int
    if sort == "updated":
        return (_newest_first(at), tie)
    if sort == "name":
        return (rank[case.applicant_name], tie)
    if sort == "qualification":
        position, name = rows.qualifications[case.qualification_id]
        return (position, rank[name], tie)
    if sort == "status":
        return (rank[case.state], _newest_first(case.updated_at), tie)
    if sort == "case_no":
        return (rank[case.case_no],)
    raise ValueError(sort)


def _newest_first(at: datetime) -> int:
    return -((at - EPOCH) // timedelta(microseconds=1))

"""Reading cases: the unit home counts, work lists with 待办/已办 tabs, cases in full."""

import contextlib
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass

from services.cases import objection_views
from services.cases.deadline_views import (
    OVERDUE,
    Deadlines,
    deadlines_today,
    overdue_join,
    overdue_only_join,
)
from services.cases.domain.model import Action, CaseState, Role, actions_for, assessment_years
from services.cases.handlers.committee_rules import outside_results
from services.cases.handlers.workflow import RECORDED_OUTSIDE
from services.cases.repository import VIEW_COLUMNS, done_list_bit
from services.cases.scope import UNIT_ROLES, lists_for, party_id, visibility
from services.cases.sealed import opened_section
from shared.audit import Entry, record
from shared.contracts.cases.integrity import PUBLIC_ACTOR, PUBLIC_ACTOR_LABEL, CaseNote
from shared.contracts.cases.materials import SCAN_CATEGORIES, SECTIONS
from shared.contracts.cases.rpc import (
    MAX_LISTED_IDS,
    ApplicantRef,
    CanViewMany,
    CaseRef,
    GetMany,
    ListCases,
    ListedCases,
    MyCases,
)
from shared.contracts.cases.work_lists import WORK_LISTS, WorkList
from shared.masks import mask_id_number
from shared.rpc import Actor, CallContext, RpcError
from shared.text import like_pattern

LIST_COLUMNS = (
    f"{VIEW_COLUMNS}, t.name AS review_type_name, q.name AS qualification_name,"
    " d.name AS department_name, m.name AS committee_name, r.name AS round_name"
)
QUALIFICATION_JOIN = " JOIN qualifications q ON q.id = c.qualification_id"
JOINS = (
    " JOIN review_types t ON t.id = c.review_type_id"
    f"{QUALIFICATION_JOIN}"
    " JOIN departments d ON d.id = c.department_id"
    " JOIN committees m ON m.id = c.committee_id"
    " JOIN rounds r ON r.id = c.round_id"
)
SORTS = {
    "updated": "c.updated_at DESC, c.id",
    "name": "c.applicant_name, c.id",
    "qualification": "q.position, q.name, c.id",
    "status": "c.state, c.updated_at DESC, c.id",
    "case_no": "c.case_no",
}


def row_view(row, deadlines: Deadlines | None = None) -> dict:
    marks = deadlines.of(row) if deadlines else {"overdue": False, "due_on": None}
    return {
        "id": str(row["id"]),
        "case_no": row["case_no"],
        "name": row["applicant_name"],
        "review_type": row["review_type_name"],
        "qualification": row["qualification_name"],
        "status": row["status_label"],
        "state": row["state"],
        "outcome": row["outcome"],
        "reason": row["last_reason"] or "",
        "department": row["department_name"],
        "committee": row["committee_name"],
        "round": row["round_name"],
        "version": row["version"],
        "updated_at": row["updated_at"].isoformat(),
        "publicity_ends": _publicity_end(row),
        **marks,
    }


def _publicity_end(row) -> str | None:
    """The last day of the publicity the case is in: its opinion can be entered after it."""
    period = {"pre_publicity": row["pre_publicity"], "post_publicity": row["post_publicity"]}
    return (period.get(row["state"]) or {}).get("end")


FILTER_COLUMNS = (
    "review_type_id", "qualification_id", "state", "department_id", "committee_id", "round_id",
)  # fmt: skip


def _filters(params: ListedCases, args: list) -> list[str]:
    where, values = filter_conditions(params, "c.", len(args) + 1)
    args += values
    return where


def filter_conditions(params: ListedCases, prefix: str, first: int) -> tuple[list[str], list]:
    """The list's filters as conditions on the columns `prefix` names (a table's alias and
    its dot: the cases', or the 已办 rows' that carry them), and their values, numbered from
    $first."""
    where, values = [], []
    for column in FILTER_COLUMNS:
        if value := getattr(params, column):
            values.append(value)
            where.append(f"{prefix}{column} = ${first + len(values) - 1}")
    if name := params.name.strip():
        values.append(like_pattern(name))
        where.append(name_condition(f"{prefix}applicant_name", name, first + len(values) - 1))
    return where, values


def name_condition(column: str, name: str, at: int) -> str:
    """`column` holds `name` (its like_pattern the argument $at), in any case: ILIKE only for a
    name with letters that have a case. A Chinese name has none, and LIKE finds the same rows
    without lowering every one (a department's 42,789 已办 names: 9 ms against 24 ms)."""
    cased = name.lower() != name or name.upper() != name
    return f"{column} {'ILIKE' if cased else 'LIKE'} ${at}"


@dataclass(frozen=True)
class _ListQuery:
    """A work list's cases as SQL: what case.list pages through and case.list_ids takes whole."""

    work_list: WorkList
    source: str  # cases, and the 已办 join on the done tab
    clause: str
    args: list
    order: str
    # a 已办 tab read from the party's case_done rows alone (_done_alone): they are counted
    # by `done_count` (its SQL and arguments) and paged by `done_clause` (over `args`)
    done_count: tuple[str, list] | None = None
    done_clause: str = ""
    visible: str = ""  # the actor's sight alone (scope.visibility)

    def count_sql(self) -> str:
        # The reference joins never change the count (non-null foreign keys): leave them out.
        return f"SELECT count(*) FROM {self.source} WHERE {self.clause}"

    def total(self) -> tuple[str, list]:
        """The count a page shows, and its arguments. A 已办 tab without filters (or searched
        by name alone, which its rows carry) counts the party's case_done rows alone: they are
        the moves it made, and a case it moved stays in its sight (a case's unit, department
        and committee never change, its reached_* marks are never taken back: scope.py), so
        the join with the cases that checks it changes only the time (a department's 42,789
        rows at a million cases: 8 ms alone, 40-90 ms joined). The page's rows are still
        checked one by one."""
        return self.done_count or (self.count_sql(), self.args)

    def rows_sql(self, columns: str, limit: int, offset: int = 0, total: int | None = None) -> str:
        """The page's rows in two steps: which cases, from the columns the list filters and
        sorts on alone (its index holds them all: migration 017), then only those cases in
        full; one step would read every row it skips or sorts from the table. A page past the
        middle of a list of `total` rows is taken counting from the end, which skips fewer."""
        keys = [key.strip() for key in self.order.split(",")]
        page_id, source, clause, checked = "c.id", self.source, self.clause, ""
        joins = QUALIFICATION_JOIN if "q." in self.order else ""
        if self.done_count is not None and self.order in DONE_KEYS:
            # The party's 已办 rows in the list's order, then each row of the page checked
            # against its sight (total() says why none fails).
            keys, page_id = list(DONE_KEYS[self.order]), "cd.case_id"
            source, clause, checked = "case_done cd", self.done_clause, f" WHERE {self.visible}"
            joins = joins.replace("c.qualification_id", "cd.qualification_id")
        order = ", ".join(f"p.k{i}{_direction(key)}" for i, key in enumerate(keys))
        if total is not None and offset > total // 2:
            keys = [_reversed(key) for key in keys]
            limit, offset = max(0, min(limit, total - offset)), max(0, total - offset - limit)
        by_qualification = page_id == "cd.case_id" and self.order == SORTS["qualification"]
        reviewers = self.work_list.party != "unit"  # case_done_qualifications holds theirs
        if by_qualification and reviewers and offset + limit <= BY_QUALIFICATION_ROWS:
            source, joins, clause = _by_qualification(clause, keys[-1], offset + limit)
        picked = ", ".join(f"{_column(key)} AS k{i}" for i, key in enumerate(keys))
        page = (
            f"SELECT {page_id} AS page_id, {picked} FROM {source}{joins} WHERE {clause}"
            f" ORDER BY {', '.join(keys)} LIMIT {limit} OFFSET {offset}"
        )
        return (
            f"SELECT {columns} FROM ({page}) p JOIN cases c ON c.id = p.page_id{JOINS}"
            f"{checked} ORDER BY {order}"
        )


# A reviewer's 已办 page sorted by 资格 within this many rows of its end is taken a 资格 at a
# time (as many cases of each as the page ends at, by their index), not by sorting every row
# (a department's first page of 42,789 rows at a million cases: 0.5 ms against 28 ms);
# deeper, each 资格 would give as many, and one sort of them all costs less.
BY_QUALIFICATION_ROWS = 400


def _by_qualification(clause: str, case_key: str, rows: int) -> tuple[str, str, str]:
    """The source, joins and clause of a 已办 page sorted by 资格 from the party's rows
    that pass `clause`: each 资格's first `rows` (in the order of `case_key`, the tie-break:
    case_done_qualifications gives them), aliased `cd` as the rows themselves would be,
    beside their 资格."""
    each = (
        f"SELECT cd.case_id FROM case_done cd WHERE {clause} AND cd.qualification_id = q.id"
        f" ORDER BY {case_key} LIMIT {rows}"
    )
    return f"qualifications q CROSS JOIN LATERAL ({each}) cd", "", "true"


def _column(key: str) -> str:
    return key.removesuffix(" DESC")


def _direction(key: str) -> str:
    return " DESC" if key.endswith(" DESC") else ""


def _reversed(key: str) -> str:
    """A sort key the other way round (NULLs too: DESC puts them first, ASC last)."""
    return _column(key) if key.endswith(" DESC") else f"{key} DESC"


DONE_COUNT = "SELECT count(*) FROM case_done WHERE party_id = $1 AND list = $2"
DONE_ORDER = "cd.at DESC, c.id"  # a 已办 tab's 最近办理: the party's latest moves first
# the orders a 已办 tab read from case_done alone can have, as that table's columns give them
# (the state, which the status order reads, changes with every move: not carried)
DONE_KEYS = {
    DONE_ORDER: ("cd.at DESC", "cd.case_id"),
    SORTS["name"]: ("cd.applicant_name", "cd.case_id"),
    SORTS["qualification"]: ("q.position", "q.name", "cd.case_id"),
    SORTS["case_no"]: ("cd.case_no",),
}


def _done_alone(
    params: ListedCases, party: tuple[str, str], clause: str, first: int
) -> tuple[tuple[str, list], str] | None:
    """How a 已办 tab is counted from the party's case_done rows alone, and paged from them
    where its order is one of DONE_KEYS: when it filters only on what the rows carry (the
    case's name, type, 资格, department, committee and round: migrations 019 and 020), not on
    the state (业务状态, 超期). Its count (SQL, arguments) and its clause on `cd` over the
    list's arguments, whose filters' values start at $first."""
    if params.tab != "done" or params.overdue or params.state:
        return None
    on_rows, _ = filter_conditions(params, "cd.", first)
    counted, values = filter_conditions(params, "", 3)
    count = " AND ".join([DONE_COUNT, *counted])
    return (count, [*party, *values]), " AND ".join([clause, *on_rows])


def _done_overdue(
    actor: Actor, params: ListedCases, done_clause: str, on_cases: list[str], args: list
) -> tuple[tuple[str, list], str]:
    """A 已办 tab with 只看超期 (and any other filter: `on_cases`, over the list's `args`,
    which end with the cutoffs), read without matching the party's 已办 rows with its cases
    one by one: its count, and its clause on `cd`. The party's index of cases gives its
    overdue cases with the bit of the list they have a 已办 row in (cases.done_lists):
    counted from there alone (a list's party is the case's own, so a case in sight with the
    bit has the party's row: total() says why its sight holds). The page is the party's 已办
    rows, read in its order, each kept when its case is among those. The IN is inside
    coalesce() so that PostgreSQL keeps it a hashed subplan, a filter that stops once the
    page is full, rather than pull it up into a join that sorts every row
    (docs/performance.md)."""
    done = f"c.done_lists & {done_list_bit(params.list)} <> 0"
    cases = (
        f"SELECT c.id FROM cases c{overdue_only_join(len(args) - 1)}"
        f" WHERE {' AND '.join([done, *on_cases])}"
    )
    clause = f"{done_clause} AND coalesce(cd.case_id IN ({cases}), false)"
    # the same cases counted, their arguments numbered without the party's and the list's
    in_sight, count_args = visibility(actor, 1)
    filters, values = filter_conditions(params, "c.", len(count_args) + 1)
    count_args += [*values, *args[-2:]]
    count = (
        f"SELECT count(*) FROM cases c{overdue_only_join(len(count_args) - 1)}"
        f" WHERE {' AND '.join([done, in_sight, *filters])}"
    )
    return (count, count_args), clause


def _in_states(states, args: list) -> str:
    """c.state among `states`; one state (every list has one) as an equality, so that the
    list's index gives its cases in the page's order (with = ANY it would sort them all)."""
    if len(states) == 1:
        args.append(states[0].value)
        return f"c.state = ${len(args)}"
    args.append([s.value for s in states])
    return f"c.state = ANY(${len(args)}::text[])"


def work_list_query(params: ListedCases, actor: Actor, deadlines: Deadlines) -> _ListQuery:
    work_list = WORK_LISTS.get(params.list)
    if work_list is None or work_list not in lists_for(actor):
        raise RpcError("not_found", "没有这个业务列表", 404)
    condition, args = visibility(actor, 1)
    where = [condition]
    join_done = done_clause = ""
    if params.tab == "todo":
        where.append(_in_states(work_list.states, args))
    else:
        args += [party_id(actor), work_list.key]
        done_clause = f"cd.party_id = ${len(args) - 1} AND cd.list = ${len(args)}"
        join_done = f" JOIN case_done cd ON cd.case_id = c.id AND {done_clause}"
    done = _done_alone(params, (party_id(actor), work_list.key), done_clause, len(args) + 1)
    filters = _filters(params, args)
    if params.overdue:
        states, cutoffs = deadlines.cutoffs()
        args += [states, cutoffs]
        join_done += overdue_join(len(args) - 1)
        if params.tab == "done":
            done = _done_overdue(actor, params, done_clause, [condition, *filters], args)
        filters.append(OVERDUE)
    order = DONE_ORDER if params.tab == "done" and params.sort == "updated" else SORTS[params.sort]
    clause = " AND ".join(where + filters)
    done_count, done_clause = done or (None, "")
    return _ListQuery(
        work_list, f"cases c{join_done}", clause, args, order, done_count, done_clause, condition
    )


@contextlib.asynccontextmanager
async def planned_for_these_values(conn):
    """A list's count and page in one snapshot (the page past the middle, counted from the
    end, needs the count of the same rows), each planned for the values at hand. A list has
    from no rows to 40,000 by party and tab, and the generic plan a prepared statement turns
    to after five runs estimates every 已办 list as a unit's: a lookup per row where the
    office's 22,000 rows need one hash join (300-1,000 ms instead of 20-40 at a million)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield


async def list_cases(params: ListCases, ctx: CallContext) -> dict:
    async with ctx.pool.acquire() as conn, planned_for_these_values(conn):
        deadlines = await deadlines_today(conn, ctx.deps)
        query = work_list_query(params, ctx.actor, deadlines)
        count_sql, count_args = query.total()
        total = await conn.fetchval(count_sql, *count_args)
        offset = (params.page - 1) * params.page_size
        rows = await conn.fetch(
            query.rows_sql(LIST_COLUMNS, params.page_size, offset, total), *query.args
        )
    work_list = query.work_list
    actions = [a.value for a in work_list.actions] if params.tab == "todo" else []
    if RECORDED_OUTSIDE & set(work_list.actions) and not await _records_outside(ctx):
        actions = [a for a in actions if a not in RECORDED_OUTSIDE]
    return {
        "list": work_list.key,
        "title": work_list.title,
        "tab": params.tab,
        "total": total,
        "page": params.page,
        "page_size": params.page_size,
        "actions": actions,
        "items": [row_view(r, deadlines) for r in rows],
    }


async def list_ids(params: ListedCases, ctx: CallContext) -> dict:
    """Every case of a list as case.list orders it, up to MAX_LISTED_IDS: 全部打印's selection."""
    async with ctx.pool.acquire() as conn, planned_for_these_values(conn):
        deadlines = await deadlines_today(conn, ctx.deps)
        query = work_list_query(params, ctx.actor, deadlines)
        count_sql, count_args = query.total()
        total = await conn.fetchval(count_sql, *count_args)
        rows = await conn.fetch(query.rows_sql("c.id", MAX_LISTED_IDS), *query.args)
    return {"ids": [str(r["id"]) for r in rows], "total": total, "limit": MAX_LISTED_IDS}


def home_query(actor: Actor, deadlines: Deadlines) -> tuple[str, list]:
    """The home counts' statement and its arguments: the actor's cases in the states of
    their lists, by state, and how many of them are past their step time limit."""
    condition, args = visibility(actor, 1)
    # only the states of the actor's lists: a department's home reads a third of its cases
    args.append([s.value for w in lists_for(actor) for s in w.states])
    condition += f" AND c.state = ANY(${len(args)}::text[])"
    states, cutoffs = deadlines.cutoffs()
    sql = (
        f"SELECT c.state, count(*) AS n, count(*) FILTER (WHERE {OVERDUE}) AS overdue"
        f" FROM cases c{overdue_join(len(args) + 1)} WHERE {condition} GROUP BY c.state"
    )
    return sql, [*args, states, cutoffs]


async def home_counts(_params, ctx: CallContext) -> dict:
    """Cases waiting at each of the actor's lists (the unit home's ten-step diagram), and how
    many of them are past their step time limit (超期)."""
    async with ctx.pool.acquire() as conn:
        sql, args = home_query(ctx.actor, await deadlines_today(conn, ctx.deps))
        rows = await conn.fetch(sql, *args)
    by_state = {r["state"]: r for r in rows}

    def total(w: WorkList, column: str) -> int:
        return sum(by_state[s.value][column] for s in w.states if s.value in by_state)

    return {
        "lists": [
            {"key": w.key, "title": w.title, "count": total(w, "n"), "overdue": total(w, "overdue")}
            for w in lists_for(ctx.actor)
        ]
    }


async def my_cases(params: MyCases, ctx: CallContext) -> dict:
    if ctx.actor.role != "applicant":
        raise RpcError("forbidden", "只有申报个人可以查看“我的申报”", 403)
    async with ctx.pool.acquire() as conn:
        deadlines = await deadlines_today(conn, ctx.deps)
        rows = await conn.fetch(
            f"SELECT {LIST_COLUMNS} FROM cases c{JOINS} WHERE c.applicant_id = $1"
            " ORDER BY c.created_at DESC LIMIT 50 OFFSET $2",
            ctx.actor.user_id,
            (params.page - 1) * 50,
        )
    return {"items": [row_view(r, deadlines) for r in rows]}


async def get_case(params: CaseRef, ctx: CallContext) -> dict:
    """Everything about one case that the actor may see, with the buttons they may press.
    Anyone but its applicant opening it is a read of personal data: audited."""
    views = await case_views(ctx, [params.case_id])
    if not views:
        raise RpcError("not_found", "申报业务不存在或无权访问", 404)
    case = views[0]
    if ctx.actor.role != "applicant":
        entry = Entry("case.view", "case", case["id"], case["case_no"], [case["id"]])
        async with ctx.pool.acquire() as conn:
            await record(conn, ctx.actor, entry, at=ctx.deps.clock.now())
    return case


async def get_many(params: GetMany, ctx: CallContext) -> dict:
    """case.get of each case, in the order asked and each once; the rest are `missing`."""
    wanted = list(dict.fromkeys(params.case_ids))
    views = await case_views(ctx, wanted, full_numbers=params.for_print)
    found = {view["id"] for view in views}
    return {"cases": views, "missing": [str(i) for i in wanted if str(i) not in found]}


async def case_views(
    ctx: CallContext, case_ids: list[uuid.UUID], full_numbers: bool = False
) -> list[dict]:
    """The full view of each of these cases the actor may see, in the order given. The ID
    number in the materials is masked but for the applicant (they edit it) and for a print
    (`full_numbers`: the 评审（申报）表 shows it in full, as the official form does).

    Five queries however many cases: the cases (with the text of their 诚信承诺), then all
    their sections, scans, history and (for those who see them) objections.
    """
    condition, args = visibility(ctx.actor, 2)
    # One snapshot, so a case's state and its history always agree (a printed form shows both).
    async with (
        ctx.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        rows = await conn.fetch(
            f"SELECT {LIST_COLUMNS}, c.applicant_id, c.pledge, pv.text AS pledge_text"
            f" FROM cases c{JOINS}{PLEDGE_JOIN} WHERE c.id = ANY($1::uuid[]) AND {condition}",
            case_ids,
            *args,
        )
        if not rows:
            return []
        seen = [r["id"] for r in rows]
        sections = await conn.fetch(
            "SELECT case_id, section, data FROM case_sections WHERE case_id = ANY($1::uuid[])",
            seen,
        )
        attachments = await conn.fetch(
            "SELECT case_id, id, category, file_id, filename, content_type, size_bytes,"
            " uploaded_at FROM case_attachments"
            " WHERE case_id = ANY($1::uuid[]) AND removed_at IS NULL ORDER BY uploaded_at, id",
            seen,
        )
        history = await conn.fetch(
            "SELECT case_id, action, actor_role, actor_name, from_state, to_state, outcome,"
            " status_label, inputs, reason, at"
            " FROM case_history WHERE case_id = ANY($1::uuid[]) ORDER BY id",
            seen,
        )
        outside = await _outside_decisions(conn, ctx.actor, seen)
        objections = await _objections(conn, ctx.actor, seen)
        deadlines = await deadlines_today(conn, ctx.deps)
    parts = _CaseParts(
        _by_case(sections),
        _by_case(attachments),
        _by_case(history),
        outside,
        objections,
        deadlines,
    )
    # the years the unit's 审核同意 form asks about, by the service's own clock
    years = list(assessment_years(ctx.deps.clock.today()))
    by_id = {r["id"]: r for r in rows}
    full = full_numbers or ctx.actor.role == "applicant"
    return [_case_view(ctx, by_id[i], parts, years, full) for i in case_ids if i in by_id]


async def _records_outside(ctx: CallContext) -> bool:
    return ctx.actor.role == "committee" and await outside_results(ctx.pool, ctx.actor.org_id)


async def _outside_decisions(conn, actor: Actor, case_ids: list) -> frozenset:
    """The cases a committee may decide by its buttons: it records results reached outside
    the system, and the case is before none of its meetings."""
    if actor.role != "committee" or not await outside_results(conn, actor.org_id):
        return frozenset()
    before = await conn.fetch(
        "SELECT case_id FROM meeting_cases WHERE open AND case_id = ANY($1::uuid[])", case_ids
    )
    return frozenset(case_ids) - {r["case_id"] for r in before}


@dataclass(frozen=True)
class _CaseParts:
    """Sections, scans and history rows of many cases, each list by case id."""

    sections: dict[uuid.UUID, list]
    attachments: dict[uuid.UUID, list]
    history: dict[uuid.UUID, list]
    outside: frozenset  # the cases a committee may decide by its buttons
    objections: dict[uuid.UUID, list]  # for those who see them (objection_views)
    deadlines: Deadlines


# the text of the 诚信承诺 version the case accepted
PLEDGE_JOIN = " LEFT JOIN pledge_versions pv ON pv.version = (c.pledge->>'version')::int"


async def _objections(conn, actor: Actor, case_ids: list) -> dict[uuid.UUID, list]:
    if not objection_views.sees_objections(actor):
        return {}
    return await objection_views.objection_rows(conn, case_ids)


def history_action_name(action: str) -> str:
    """A move's verb, or what a note records (登记异议, 撤销电子证书, …)."""
    try:
        return Action(action).verb
    except ValueError:
        return CaseNote(action).label


def history_actor_label(role: str) -> str:
    return PUBLIC_ACTOR_LABEL if role == PUBLIC_ACTOR else Role(role).label


def _pledge(row) -> dict | None:
    pledge = row["pledge"]
    return {**pledge, "text": row["pledge_text"] or ""} if pledge else None


def _by_case(rows) -> dict[uuid.UUID, list]:
    grouped = defaultdict(list)
    for row in rows:  # keeps the query's order within each case
        grouped[row["case_id"]].append(row)
    return grouped


def _own_fields(row) -> dict:
    return {k: v for k, v in row.items() if k != "case_id"}


def _section(section: str, data: dict, full: bool) -> dict:
    data = opened_section(section, data)
    if full or not data.get("id_number"):
        return data
    return {**data, "id_number": mask_id_number(data["id_number"])}


def _case_view(ctx: CallContext, row, parts: _CaseParts, years: list[int], full: bool) -> dict:
    case_id = row["id"]
    return {
        **row_view(row, parts.deadlines),
        "applicant_id": str(row["applicant_id"]),
        "unit_id": str(row["unit_id"]),
        "round_id": row["round_id"],
        "assessment_years": years,
        "needs_pre_approval": row["needs_pre_approval"],
        "unit_approval": row["unit_approval"],
        "pre_publicity": row["pre_publicity"],
        "post_publicity": row["post_publicity"],
        "sections": {
            s["section"]: _section(s["section"], s["data"], full)
            for s in parts.sections.get(case_id, [])
        },
        "section_titles": SECTIONS,
        "attachments": [
            {
                **_own_fields(a),
                "id": str(a["id"]),
                "file_id": str(a["file_id"]),
                "category_name": SCAN_CATEGORIES.get(a["category"], a["category"]),
                "uploaded_at": a["uploaded_at"].isoformat(),
            }
            for a in parts.attachments.get(case_id, [])
        ],
        "scan_limits": asdict(ctx.deps.settings.scan_limits()),
        "history": [
            {
                **_own_fields(h),
                "inputs": _inputs_seen(ctx.actor, h["inputs"]),
                "action_name": history_action_name(h["action"]),
                "from_label": CaseState(h["from_state"]).label,
                "to_label": CaseState(h["to_state"]).label,
                "actor_label": history_actor_label(h["actor_role"]),
                "at": h["at"].isoformat(),
            }
            for h in parts.history.get(case_id, [])
        ],
        "actions": [a.value for a in _actions(ctx, row, parts.outside)],
        "pledge": _pledge(row),
        "objections": [
            objection_views.view(o, ctx.actor) for o in parts.objections.get(case_id, [])
        ],
    }


# A meeting's tally is for the reviewers (department, office, committee, its experts); the
# unit and the applicant see the result only (docs/committee.md).
SEES_RESULT_ONLY = frozenset({*UNIT_ROLES, "applicant"})
RESULT_ONLY = ("meeting_id", "meeting", "passed")


def _inputs_seen(actor: Actor, inputs: dict) -> dict:
    vote = inputs.get("vote")
    if vote is None or actor.role not in SEES_RESULT_ONLY:
        return inputs
    return {**inputs, "vote": {k: vote[k] for k in RESULT_ONLY if k in vote}}


def _actions(ctx: CallContext, row, outside: frozenset) -> list[Action]:
    try:
        role = Role(ctx.actor.role)
    except ValueError:
        return []
    actions = actions_for(CaseState(row["state"]), role)
    if row["id"] in outside:
        return actions
    return [a for a in actions if a not in RECORDED_OUTSIDE]


async def applicant_case_count(params: ApplicantRef, ctx: CallContext) -> dict:
    """For deleting an applicant's account: how many cases they have, in the asker's sight
    (their unit's staff see all of them)."""
    if ctx.actor.role not in UNIT_ROLES:
        raise RpcError("forbidden", "只有单位用户可以查询", 403)
    condition, args = visibility(ctx.actor, 2)
    count = await ctx.pool.fetchval(
        f"SELECT count(*) FROM cases c WHERE c.applicant_id = $1 AND {condition}",
        params.applicant_id,
        *args,
    )
    return {"cases": count}


async def can_view(params: CaseRef, ctx: CallContext) -> dict:
    """For the documents service: may this actor see this case (and so its files)?"""
    condition, args = visibility(ctx.actor, 2)
    row = await ctx.pool.fetchrow(
        f"SELECT c.unit_id FROM cases c WHERE c.id = $1 AND {condition}", params.case_id, *args
    )
    return {"allowed": row is not None}


async def can_view_many(params: CanViewMany, ctx: CallContext) -> dict:
    """For the documents service: may this actor see every one of these cases? One query."""
    wanted = list(dict.fromkeys(params.case_ids))
    condition, args = visibility(ctx.actor, 2)
    rows = await ctx.pool.fetch(
        f"SELECT c.id FROM cases c WHERE c.id = ANY($1::uuid[]) AND {condition}", wanted, *args
    )
    visible = {r["id"] for r in rows}
    denied = [str(i) for i in wanted if i not in visible]
    return {"allowed": not denied, "denied": denied}

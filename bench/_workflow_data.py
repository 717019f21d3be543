"""Bench data for bench.workflow: 100,000 cases across 200 units (or a million across 1,000),
loaded with COPY.

    python -m bench._workflow_data --cases 100000 --units 200 [--seed 1] [--sessions FILE]

Into the bench's own database (`ZC_DATABASE_URL`, default .../zhicheng_bench; the name
must contain "bench"): drops the service schemas (cases, accounts, documents, notify),
applies every migration, seeds the reference data (tools.demo_data), then
loads with COPY

- units: sizes skewed like real ones (weight 1/sqrt(rank)): the largest unit has about
  3,700 cases, the smallest about 260 (16,181 and 512 of a million in 1,000 units);
- cases: every unit gets the same mix of states (STATE_MIX, the season when units review:
  35% wait for the unit's review), each row filled as that state needs it (approval,
  publicity periods, reached_* flags, status_label as the workflow writes it, state_since
  the time of its last move); written in random order, so a unit's cases lie spread over
  the table as cases arriving over a season do;
- case_done: every list a case has gone through, for its unit, department, the office and
  its committee, so every 已办 tab has rows; case_history: the last move of each case;
- accounts: a unit and a unit_operator per unit, and a department's, the office's and a
  committee's user (REVIEWERS), each with a session (the sha256 of a generated token, and a
  CSRF token), so the bench calls the gateway with their cookies.

50,000 cases at a time: a thread builds the next chunk while PostgreSQL takes this one; the
loaded tables' indexes (and their keys no foreign key needs) are built after the COPY, and
foreign keys are not checked row by row (for a superuser: the rows are made consistent).

Running it again starts from empty schemas. `generate()` returns the sessions.
"""

import argparse
import asyncio
import functools
import hashlib
import json
import os
import random
import secrets
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg

from services.cases.domain.model import ACTION_ROLES, Action, CaseState, Outcome
from services.cases.reference_seed import seed_reference
from services.cases.repository import DONE_CASE_COLUMNS, done_lists_of
from services.cases.scope import WORK_LISTS
from services.cases.sealed import CASE_MOBILE, seal
from shared.db import ensure_database
from shared.migrations import migrate_service
from shared.rpc import Actor
from tools.demo_data import (
    COMMITTEE_QUALIFICATIONS,
    COMMITTEES,
    DEPARTMENTS,
    OFFICE,
    REVIEW_TYPES,
    demo_reference,
)

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/zhicheng_bench"
SERVICES = ("accounts", "cases", "documents", "notify")
S, A = CaseState, Action

# The happy path; a case in one of these states has passed through those before it.
PATH = [
    S.DRAFT, S.UNIT_REVIEW, S.PRE_PUBLICITY_READY, S.PRE_PUBLICITY, S.DEPT_SUBMIT_READY,
    S.DEPT_ACCEPTANCE, S.OFFICE_APPROVAL, S.FORM_PRINT_READY, S.DEPT_REVIEW,
    S.COMMITTEE_REVIEW, S.POST_PUBLICITY_LAUNCH, S.POST_PUBLICITY_READY, S.POST_PUBLICITY,
    S.DEPT_CONFIRM, S.CLOSED,
]  # fmt: skip
ORDER = {state: i for i, state in enumerate(PATH)}

# Share of the cases in each state, in percent (the weeks when units review).
STATE_MIX = {
    S.DRAFT: 10, S.UNIT_REVIEW: 35, S.PRE_PUBLICITY_READY: 7, S.PRE_PUBLICITY: 6,
    S.DEPT_SUBMIT_READY: 5, S.DEPT_ACCEPTANCE: 5, S.OFFICE_APPROVAL: 2, S.FORM_PRINT_READY: 4,
    S.DEPT_REVIEW: 4, S.COMMITTEE_REVIEW: 5, S.POST_PUBLICITY_LAUNCH: 3,
    S.POST_PUBLICITY_READY: 3, S.POST_PUBLICITY: 3, S.DEPT_CONFIRM: 2, S.CLOSED: 6,
}  # fmt: skip
assert sum(STATE_MIX.values()) == 100 and set(STATE_MIX) == set(PATH)

# The move that brought a case into each state (for the form_print_ready of a case that
# needed pre-approval it is grant_pre_approval instead of accept).
LAST_ACTION = {
    S.DRAFT: None, S.UNIT_REVIEW: A.SUBMIT, S.PRE_PUBLICITY_READY: A.APPROVE,
    S.PRE_PUBLICITY: A.START_PRE_PUBLICITY, S.DEPT_SUBMIT_READY: A.RECORD_PRE_PUBLICITY_RESULT,
    S.DEPT_ACCEPTANCE: A.SUBMIT_TO_DEPARTMENT, S.OFFICE_APPROVAL: A.ACCEPT,
    S.FORM_PRINT_READY: A.ACCEPT, S.DEPT_REVIEW: A.PRINT_DECLARATION_FORM,
    S.COMMITTEE_REVIEW: A.FORWARD_TO_COMMITTEE, S.POST_PUBLICITY_LAUNCH: A.PASS_REVIEW,
    S.POST_PUBLICITY_READY: A.LAUNCH_POST_PUBLICITY, S.POST_PUBLICITY: A.START_POST_PUBLICITY,
    S.DEPT_CONFIRM: A.RECORD_POST_PUBLICITY_RESULT, S.CLOSED: A.CONFIRM,
}  # fmt: skip

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红文斌宇浩凯"
CASE_COLUMNS = [
    "id", "case_no", "unit_id", "applicant_id", "applicant_name", "applicant_mobile",
    "round_id", "review_type_id", "qualification_id", "committee_id", "department_id",
    "needs_pre_approval", "exemptions", "state", "outcome", "version", "last_action",
    "last_reason", "status_label", "unit_approval", "pre_publicity", "post_publicity",
    "form_printed_at", "reached_department", "reached_office", "reached_committee",
    "created_at", "updated_at",
]  # fmt: skip
LOADED_CASE_COLUMNS = [*CASE_COLUMNS, "state_since", "done_lists"]
DONE_COLUMNS = ["case_id", "party_id", "list", "at", *DONE_CASE_COLUMNS]
_DONE_FROM_CASE = [CASE_COLUMNS.index(column) for column in DONE_CASE_COLUMNS]


def done_lists(done: list[tuple]) -> int:
    """cases.done_lists of a case with these case_done rows (DONE_COLUMNS)."""
    return done_lists_of(row[2] for row in done)


def done_row(case: tuple, party: str, key: str, at) -> tuple:
    """A case_done row (DONE_COLUMNS) of a case's row (CASE_COLUMNS), as a move writes it."""
    return (case[0], party, key, at, *(case[i] for i in _DONE_FROM_CASE))


HISTORY_COLUMNS = [
    "case_id", "action", "actor_id", "actor_role", "from_state", "to_state", "outcome",
    "status_label", "inputs", "reason", "at",
]  # fmt: skip


def approval_inputs(today: date) -> dict:
    """What a unit operator sends to approve a case (tests/support/cases_driver.approval)."""
    return {
        "negative_situation": "",
        "annual_assessments": {str(y): "合格" for y in range(today.year - 5, today.year)},
        "evaluation": "工作认真负责，业绩突出，同意推荐。",
        "continuing_education_opinion": "已完成继续教育学时要求。",
    }


@dataclass
class Operator:
    unit_id: uuid.UUID
    user_id: uuid.UUID
    token: str  # the zc_session cookie
    csrf: str  # the X-CSRF-Token header

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, role="unit_operator", unit_id=self.unit_id)


@dataclass
class Reviewer:
    """A department's, the office's or a committee's user, signed in like the operators."""

    role: str
    org_id: str
    user_id: uuid.UUID
    token: str
    csrf: str

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, role=self.role, org_id=self.org_id)


# The reviewers the bench reads lists as: the department and the committee with the most cases.
REVIEWERS = (
    ("department", "dept-gcslh", DEPARTMENTS["dept-gcslh"]),
    ("office", OFFICE[0], OFFICE[1]),
    ("committee", "cmte-qg-gj", COMMITTEES["cmte-qg-gj"][0]),
)


@dataclass
class Generated:
    database_url: str
    cases: int
    units: int
    operators: list[Operator]
    by_state: dict[str, int]
    done_rows: int
    history_rows: int
    unit_sizes: list[int]
    seconds: dict[str, float] = field(default_factory=dict)
    reviewers: list[Reviewer] = field(default_factory=list)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def check_bench_database(url: str) -> None:
    if "bench" not in database_name(url):
        sys.exit(
            f"refusing to drop the schemas of {database_name(url)!r}: the bench data goes into"
            " a database of its own whose name contains 'bench' (ZC_DATABASE_URL)"
        )


def unit_sizes(cases: int, units: int) -> list[int]:
    """Cases per unit, weight 1/sqrt(rank), adding up to `cases` exactly."""
    weights = [1 / (rank**0.5) for rank in range(1, units + 1)]
    return split(cases, weights)


def split(total: int, weights: list[float]) -> list[int]:
    """Largest-remainder rounding of total x weights / sum(weights)."""
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _status_label(action: Action | None, state: CaseState) -> str:
    return state.label if action is None else f"{action.done}-->{state.label}"


@functools.cache
def _publicity(start: date, passed: bool | None) -> str:
    return json.dumps(
        {
            "start": start.isoformat(),
            "end": (start + timedelta(days=6)).isoformat(),
            "method": "单位公示栏",
            "contact": "0755-88888888",
            "passed": passed,
            "feedback": "无异议" if passed is not None else None,
        },
        ensure_ascii=False,
    )


class CaseFactory:
    def __init__(self, rng: random.Random, now: datetime, round_id: str) -> None:
        self.rng = rng
        self.now = now
        self.round_id = round_id
        self.approval = json.dumps(approval_inputs(now.date()), ensure_ascii=False)
        self.choices = [
            (qid, committee_id, COMMITTEES[committee_id][1])
            for committee_id, qids in COMMITTEE_QUALIFICATIONS.items()
            for qid in qids
        ]
        self.needs_pre = {type_id for type_id, _, needs in REVIEW_TYPES if needs}
        self.plain_types = [type_id for type_id, _, needs in REVIEW_TYPES if not needs]
        self.serial = 0

    def case(self, unit_id: uuid.UUID, state: CaseState) -> tuple:
        rng, now = self.rng, self.now
        self.serial += 1
        qid, committee_id, department_id = rng.choice(self.choices)
        if state is S.OFFICE_APPROVAL:
            review_type = rng.choice(sorted(self.needs_pre))
        elif rng.random() < 0.15:
            review_type = rng.choice([t for t, _, _ in REVIEW_TYPES])
        else:
            review_type = rng.choice(self.plain_types)
        needs_pre = review_type in self.needs_pre
        at = ORDER[state]
        action = LAST_ACTION[state]
        if state is S.FORM_PRINT_READY and needs_pre:
            action = A.GRANT_PRE_APPROVAL
        updated = now - timedelta(seconds=rng.randrange(60, 60 * 86400))
        created = updated - timedelta(seconds=rng.randrange(3600, 30 * 86400))
        passed = at > ORDER[S.PRE_PUBLICITY]
        pre_start = updated.date() - timedelta(days=20)
        post_start = updated.date() - timedelta(days=10)
        return (
            uuid.uuid4(),
            f"{self.round_id}{self.serial:06d}",
            unit_id,
            uuid.uuid4(),
            rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
            seal(f"139{rng.randrange(10**8):08d}", CASE_MOBILE),  # as the cases service keeps it
            self.round_id,
            review_type,
            qid,
            committee_id,
            department_id,
            needs_pre,
            [],
            state.value,
            Outcome.PASSED.value if state is S.CLOSED else None,
            at,  # one move per step of the path
            action.value if action else None,
            None,
            _status_label(action, state),
            self.approval if at > ORDER[S.UNIT_REVIEW] else None,
            _publicity(pre_start, True if passed else None)
            if at >= ORDER[S.PRE_PUBLICITY]
            else None,
            _publicity(post_start, True if at > ORDER[S.POST_PUBLICITY] else None)
            if at >= ORDER[S.POST_PUBLICITY]
            else None,
            updated - timedelta(days=3) if at > ORDER[S.FORM_PRINT_READY] else None,
            at >= ORDER[S.DEPT_ACCEPTANCE],
            needs_pre and at >= ORDER[S.OFFICE_APPROVAL],
            at >= ORDER[S.COMMITTEE_REVIEW],
            created,
            updated,
        )


# Who does the moves of each list: the party id of a case for that side.
def _party(side: str, row: tuple) -> str:
    unit_id, committee_id, department_id = row[2], row[9], row[10]
    return {
        "unit": str(unit_id),
        "department": department_id,
        "office": OFFICE[0],
        "committee": committee_id,
    }[side]


DONE_LISTS = [
    (w.key, w.key.split(":")[0], w.states[0])
    for w in WORK_LISTS.values()
    if w.actions and len(w.states) == 1
]


def done_rows(row: tuple) -> list[tuple]:
    """A case_done row for every list whose step the case has gone through."""
    state, needs_pre, updated = CaseState(row[13]), row[11], row[27]
    rows = []
    for key, side, list_state in DONE_LISTS:
        if ORDER[state] <= ORDER[list_state]:
            continue
        if list_state is S.OFFICE_APPROVAL and not needs_pre:
            continue
        steps_after = ORDER[state] - ORDER[list_state]
        rows.append(done_row(row, _party(side, row), key, updated - timedelta(days=steps_after)))
    return rows


def history_row(row: tuple, actors: dict) -> tuple | None:
    """The case's last move as case_history has it."""
    if row[16] is None:
        return None
    action, state = Action(row[16]), CaseState(row[13])
    role = sorted(ACTION_ROLES[action])[0]
    before = PATH[ORDER[state] - 1]
    if state is S.FORM_PRINT_READY and action is A.ACCEPT:
        before = S.DEPT_ACCEPTANCE
    inputs = row[19] if action is A.APPROVE else "{}"
    actor = actors.get(row[2]) if role.value in ("unit_admin", "unit_operator") else None
    return (
        row[0], action.value, actor, role.value, before.value, state.value, row[14], row[18],
        inputs, None, row[27],
    )  # fmt: skip


async def reset_schemas(database_url: str) -> list[str]:
    check_bench_database(database_url)
    await ensure_database(database_url)
    conn = await asyncpg.connect(database_url)
    try:
        for schema in SERVICES:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
    applied = []
    for service in SERVICES:
        applied += await migrate_service(database_url, service)
    return applied


async def load_accounts(conn, unit_ids: list[uuid.UUID], now: datetime) -> list[Operator]:
    operators = [
        Operator(unit_id, uuid.uuid4(), secrets.token_urlsafe(32), secrets.token_urlsafe(24))
        for unit_id in unit_ids
    ]
    await conn.copy_records_to_table(
        "units",
        schema_name="accounts",
        columns=["id", "org_code", "name", "si_unit_no", "source"],
        records=[
            (op.unit_id, f"B{i:08d}", f"深圳市基准测试单位{i:03d}", f"SI{i:08d}", "local")
            for i, op in enumerate(operators)
        ],
    )
    await conn.copy_records_to_table(
        "users",
        schema_name="accounts",
        columns=["id", "username", "password_hash", "role", "unit_id", "name"],
        records=[
            (op.user_id, f"bench_op_{i:03d}", "!", "unit_operator", op.unit_id, f"经办人{i:03d}")
            for i, op in enumerate(operators)
        ],
    )
    await _sessions(conn, operators, now)
    return operators


async def _sessions(conn, users: list, now: datetime) -> None:
    """A session of each (the sha256 of its token, and a CSRF token): the bench's cookies."""
    await conn.copy_records_to_table(
        "sessions",
        schema_name="accounts",
        columns=[
            "token_hash",
            "user_id",
            "csrf_token",
            "created_at",
            "last_seen_at",
            "expires_at",
            "client_ip",
            "user_agent",
        ],  # fmt: skip
        records=[
            (
                hashlib.sha256(user.token.encode()).digest(),
                user.user_id,
                user.csrf,
                now,
                now,
                now + timedelta(hours=12),
                "127.0.0.1",
                "bench.workflow",
            )  # fmt: skip
            for user in users
        ],
    )


async def load_reviewers(conn, now: datetime) -> list[Reviewer]:
    reviewers = [
        Reviewer(role, org_id, uuid.uuid4(), secrets.token_urlsafe(32), secrets.token_urlsafe(24))
        for role, org_id, _ in REVIEWERS
    ]
    names = {org_id: name for _, org_id, name in REVIEWERS}
    await conn.copy_records_to_table(
        "users",
        schema_name="accounts",
        columns=["id", "username", "password_hash", "role", "org_id", "org_name", "name"],
        records=[
            (r.user_id, f"bench_wf_{r.role}", "!", r.role, r.org_id, names[r.org_id], "审核人")
            for r in reviewers
        ],
    )
    await _sessions(conn, reviewers, now)
    return reviewers


CHUNK = 50_000  # cases built and copied at a time: memory stays flat at a million


def assignments(rng: random.Random, sizes: list[int]) -> list[tuple[int, CaseState]]:
    """(unit index, state) of every case, in the order the cases are written: shuffled, so
    that each unit's cases lie spread over the table as cases arriving over a season do,
    not side by side (which would make every unit's query read a few pages only)."""
    states = list(STATE_MIX)
    order = []
    for unit, size in enumerate(sizes):
        counts = split(size, [STATE_MIX[s] for s in states])
        for state, n in zip(states, counts, strict=True):
            order.extend([(unit, state)] * n)
    rng.shuffle(order)
    return order


def build_chunk(factory: CaseFactory, unit_ids, actors: dict, order) -> tuple[list, list, list]:
    """The rows of these (unit index, state) cases: cases (each with its state_since, the
    time of its last move: each step takes one move), case_done, case_history."""
    rows = [factory.case(unit_ids[u], state) for u, state in order]
    done = [done_rows(row) for row in rows]
    history = [h for row in rows if (h := history_row(row, actors)) is not None]
    cases = [(*row, row[27], done_lists(entries)) for row, entries in zip(rows, done, strict=True)]
    return cases, [d for entries in done for d in entries], history


async def copy_cases(conn, factory: CaseFactory, unit_ids, order, actors: dict, say) -> dict:
    """Build and COPY the cases, their case_done and case_history rows, CHUNK cases at a
    time: a thread builds the next chunk while PostgreSQL takes in this one. Returns the
    row counts."""
    build = functools.partial(build_chunk, factory, unit_ids, actors)
    loop = asyncio.get_running_loop()
    chunks = [order[i : i + CHUNK] for i in range(0, len(order), CHUNK)]
    counts = {"cases": 0, "done": 0, "history": 0}
    pending = loop.run_in_executor(None, build, chunks[0]) if chunks else None
    for i in range(len(chunks)):
        rows, done, history = await pending
        if i + 1 < len(chunks):  # the factory's random numbers stay in order: one at a time
            pending = loop.run_in_executor(None, build, chunks[i + 1])
        await conn.copy_records_to_table("cases", columns=LOADED_CASE_COLUMNS, records=rows)
        await conn.copy_records_to_table("case_done", columns=DONE_COLUMNS, records=done)
        await conn.copy_records_to_table("case_history", columns=HISTORY_COLUMNS, records=history)
        counts["cases"] += len(rows)
        counts["done"] += len(done)
        counts["history"] += len(history)
        if len(chunks) > 2:
            say(f"    {counts['cases']:,} of {len(order):,} cases")
    return counts


# The indexes of the tables loaded, and their keys that no foreign key needs, are built once
# after the COPY: several times faster than keeping them up to date row by row (a million
# random uuids into an index larger than shared_buffers).
LOADED_TABLES = ("cases", "case_done", "case_history")
PLAIN_INDEXES = (
    "SELECT i.indexname, i.indexdef FROM pg_indexes i"
    " WHERE i.schemaname = 'cases' AND i.tablename = ANY($1::text[])"
    " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname"
    " AND k.connamespace = 'cases'::regnamespace)"
)
FREE_KEYS = (
    "SELECT t.relname AS tab, k.conname, pg_get_constraintdef(k.oid) AS def"
    " FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid"
    " WHERE k.connamespace = 'cases'::regnamespace"
    " AND k.contype IN ('p', 'u') AND t.relname = ANY($1::text[])"
    " AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f'"
    " AND f.conindid = k.conindid)"
)


async def skip_foreign_key_checks(conn) -> None:
    """The rows are made consistent: no foreign key check a row at a time while loading (it
    halves the COPY). Only a superuser may; another user loads with the checks."""
    try:
        await conn.execute("SET session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        pass


async def drop_indexes(conn) -> tuple[list, list]:
    indexes = await conn.fetch(PLAIN_INDEXES, list(LOADED_TABLES))
    keys = await conn.fetch(FREE_KEYS, list(LOADED_TABLES))
    for index in indexes:
        await conn.execute(f'DROP INDEX "{index["indexname"]}"')
    for key in keys:
        await conn.execute(f'ALTER TABLE cases."{key["tab"]}" DROP CONSTRAINT "{key["conname"]}"')
    return indexes, keys


async def build_indexes(conn, indexes: list, keys: list) -> None:
    await conn.execute("SET maintenance_work_mem = '256MB'")
    for key in keys:
        await conn.execute(
            f'ALTER TABLE cases."{key["tab"]}" ADD CONSTRAINT "{key["conname"]}" {key["def"]}'
        )
    for index in indexes:
        await conn.execute(index["indexdef"])
    await conn.execute("RESET maintenance_work_mem")


async def generate(
    database_url: str, cases: int = 100_000, units: int = 200, seed: int = 1, say=print
) -> Generated:
    seconds = {}
    started = time.perf_counter()
    applied = await reset_schemas(database_url)
    seconds["migrate"] = time.perf_counter() - started
    say(f"  schemas {', '.join(SERVICES)} dropped; {len(applied)} migrations applied")

    rng = random.Random(seed)
    now = datetime.now(UTC)
    round_id = str(date.today().year)
    sizes = unit_sizes(cases, units)
    unit_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(units)]

    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    try:
        await seed_reference(conn, demo_reference())
        operators = await load_accounts(conn, unit_ids, now)
        reviewers = await load_reviewers(conn, now)
        actors = {op.unit_id: op.user_id for op in operators}
        factory = CaseFactory(rng, now, round_id)
        order = assignments(rng, sizes)

        started = time.perf_counter()
        await skip_foreign_key_checks(conn)
        indexes, keys = await drop_indexes(conn)
        counts = await copy_cases(conn, factory, unit_ids, order, actors, say)
        await conn.execute("SELECT setval('case_numbers', $1)", counts["cases"])
        await conn.execute("RESET session_replication_role")
        seconds["build_and_copy"] = time.perf_counter() - started

        started = time.perf_counter()
        await build_indexes(conn, indexes, keys)
        seconds["indexes"] = time.perf_counter() - started

        started = time.perf_counter()
        for table in ("cases.cases", "cases.case_done", "cases.case_history", "accounts.users",
                      "accounts.sessions", "accounts.units"):  # fmt: skip
            await conn.execute(f"VACUUM ANALYZE {table}")
        seconds["vacuum_analyze"] = time.perf_counter() - started
        by_state = dict(
            await conn.fetch("SELECT state, count(*) FROM cases GROUP BY state ORDER BY 2 DESC")
        )
    finally:
        await conn.close()
    say(
        f"  loaded {counts['cases']:,} cases in {units} units (largest {max(sizes):,}, smallest"
        f" {min(sizes):,}), {counts['done']:,} case_done rows, {counts['history']:,} history"
        f" rows, {len(operators)} unit operators and {len(reviewers)} reviewers with a session"
    )
    say("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    return Generated(
        database_url, counts["cases"], units, operators, by_state, counts["done"],
        counts["history"], sizes, {k: round(v, 2) for k, v in seconds.items()}, reviewers,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default=os.environ.get("ZC_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument(
        "--sessions", metavar="FILE", help="write the operators' cookies and CSRF tokens here"
    )
    args = parser.parse_args()
    check_bench_database(args.database)
    print(f"database {args.database}")
    generated = asyncio.run(generate(args.database, args.cases, args.units, args.seed))
    for state, n in generated.by_state.items():
        print(f"  {state:<22} {n:>7,}")
    if args.sessions:
        with open(args.sessions, "w") as out:
            json.dump(
                [
                    {
                        "unit_id": str(op.unit_id),
                        "user_id": str(op.user_id),
                        "cookie": op.token,
                        "csrf": op.csrf,
                    }  # fmt: skip
                    for op in generated.operators
                ],
                out,
                indent=1,
            )
        print(f"  sessions written to {args.sessions}")


if __name__ == "__main__":
    main()

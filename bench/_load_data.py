"""Bench data for bench.load: a season of cases, and the people of a crowd to work on them.

    python -m bench._load_data --cases 20000 --units 100 [--crowd 500]   # data only

Into a database of its own (`database_url()`: `ZC_BENCH_LOAD_DATABASE_URL`, else the database
of `ZC_DATABASE_URL` with `_load` added, default .../zhicheng_bench_load; the name must
contain "bench"): the service schemas are dropped and made again, then loaded with COPY:

- bench._workflow_data's cases (20,000 in 100 units by default, sized 1/sqrt(rank), every
  unit with the same mix of states: 35 % waiting for the unit's review, 10 % drafts, 5 %
  waiting for a department's acceptance, 4 % for their 评审（申报）表 ...), its case_done and
  case_history rows, a unit operator per unit;
- every case past its draft gets the materials an applicant fills in (four sections) and its
  scans' rows, as bench._printing_data builds them, so case pages and printed forms show
  what real ones do; every draft gets the basic section `case.open` writes (name, ID number,
  gender, birth date) and is left for its applicant to fill;
- people: each draft's applicant (accounts.users, with a password, so the crowd can log in
  for real), more unit operators (one per unit plus, for the crowd's size, more in the
  larger units) and department reviewers (their login needs an SMS code, so they only ever
  use sessions made here).

Sessions are made by `insert_sessions` when a simulated person arrives, as bench.workflow's
operators have theirs: the sha256 of a generated token and a CSRF token in accounts.sessions.
"""

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench._printing_data import Builder
from bench._workflow_data import check_bench_database, generate, unit_sizes
from services.accounts.domain.credentials import hash_password
from services.accounts.domain.validation import id_check_char
from services.accounts.personal import sealed_user
from services.cases.sealed import SECTION_ID_NUMBER, seal
from tools.demo_data import DEPARTMENTS
from tools.personal_data import seal_written

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/zhicheng_bench_load"
PASSWORD = "Zc7Shenpi"  # every bench person's; one argon2 hash, as costly to verify as any
# The crowd's make-up (bench.load): who of every 20 simulated people is what.
ROLE_SHARES = {"applicant": 14, "unit_operator": 5, "department": 1}


@dataclass
class Person:
    user_id: uuid.UUID
    role: str
    username: str
    unit_id: uuid.UUID | None = None
    org_id: str | None = None
    case_id: uuid.UUID | None = None  # an applicant's draft
    id_number: str | None = None


@dataclass
class LoadData:
    database_url: str
    cases: int
    units: int
    unit_sizes: list[int]
    by_state: dict[str, int]
    people: dict[str, list[Person]]  # by role
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def database_url() -> str:
    explicit = os.environ.get("ZC_BENCH_LOAD_DATABASE_URL")
    if explicit:
        return explicit
    parts = urlsplit(os.environ.get("ZC_DATABASE_URL", DEFAULT_DATABASE))
    name = parts.path.lstrip("/").removesuffix("_load") + "_load"
    return urlunsplit(parts._replace(path="/" + name))


def crowd_needs(crowd: int) -> dict[str, int]:
    """People of each role a crowd of this size has (ROLE_SHARES, rounded up)."""
    total = sum(ROLE_SHARES.values())
    return {role: math.ceil(crowd * share / total) for role, share in ROLE_SHARES.items()}


def id_number(rng: random.Random) -> str:
    birth = f"{rng.randrange(1965, 1998)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    first17 = f"440{rng.randrange(300, 310)}" + birth + f"{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


async def load_materials(conn, rng_seed: int, now: datetime) -> dict[str, int]:
    """Sections and scans' rows for every case past its draft (bench._printing_data's
    Builder fills them in); the drafts get what case.open writes."""
    builder = Builder(rng_seed, now, uuid.uuid4(), uuid.uuid4())
    cases = await conn.fetch(
        "SELECT id, applicant_name, qualification_id, created_at FROM cases WHERE state <> 'draft'"
    )
    for case in cases:
        builder._materials(case["id"], case["applicant_name"], case["qualification_id"],
                           case["created_at"])  # fmt: skip
    await conn.copy_records_to_table(
        "case_sections", columns=["case_id", "section", "data", "updated_at"],
        records=builder.sections,
    )  # fmt: skip
    await conn.copy_records_to_table(
        "case_attachments",
        columns=["id", "case_id", "category", "file_id", "filename", "content_type",
                 "size_bytes", "checksum", "uploaded_by", "uploaded_at"],
        records=builder.attachments,
    )  # fmt: skip
    return {"sections": len(builder.sections), "attachments": len(builder.attachments)}


async def load_applicants(conn, rng: random.Random, password_hash: str) -> list[Person]:
    """Every draft's applicant as a person who can log in, and the draft's basic section."""
    drafts = await conn.fetch(
        "SELECT id, unit_id, applicant_id, applicant_name, created_at FROM cases"
        " WHERE state = 'draft' ORDER BY case_no"
    )
    people, users, sections = [], [], []
    for i, draft in enumerate(drafts):
        number = id_number(rng)
        gender = "男" if int(number[16]) % 2 else "女"
        person = Person(draft["applicant_id"], "applicant", f"bench_ap_{i:05d}", draft["unit_id"],
                        case_id=draft["id"], id_number=number)  # fmt: skip
        people.append(person)
        sealed = sealed_user({"id_number": number, "mobile": f"139{rng.randrange(10**8):08d}"})
        users.append((
            person.user_id, person.username, password_hash, "applicant", person.unit_id,
            draft["applicant_name"], sealed["id_number"], sealed["id_number_index"], gender,
            sealed["mobile"], sealed["mobile_index"],
        ))  # fmt: skip
        basic = {
            "name": draft["applicant_name"],
            "id_number": seal(number, SECTION_ID_NUMBER),
            "gender": gender,
            "birth_date": f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
        }
        sections.append((draft["id"], "basic", json.dumps(basic, ensure_ascii=False),
                         draft["created_at"]))  # fmt: skip
    await conn.copy_records_to_table(
        "users", schema_name="accounts",
        columns=["id", "username", "password_hash", "role", "unit_id", "name", "id_number",
                 "id_number_index", "gender", "mobile", "mobile_index"],
        records=users,
    )  # fmt: skip
    await conn.executemany(
        "INSERT INTO case_sections (case_id, section, data, updated_at) VALUES ($1, $2, $3, $4)",
        sections,
    )
    return people


async def load_reviewers(
    conn, rng: random.Random, units: list[tuple[uuid.UUID, int]], needs: dict, password_hash: str
) -> dict[str, list[Person]]:
    """Unit operators (bench._workflow_data's one per unit, then more in the larger units as
    the crowd needs) and department reviewers, a few per department."""
    operators = [
        Person(r["id"], "unit_operator", r["username"], r["unit_id"])
        for r in await conn.fetch(
            "SELECT id, username, unit_id FROM accounts.users WHERE role = 'unit_operator'"
            " ORDER BY username"
        )
    ]
    unit_ids = [u for u, _ in units]
    weights = [n for _, n in units]
    extra = max(0, needs["unit_operator"] - len(operators))
    for i in range(extra):
        unit_id = rng.choices(unit_ids, weights)[0]
        operators.append(Person(uuid.uuid4(), "unit_operator", f"bench_op_x{i:04d}", unit_id))
    departments = list(DEPARTMENTS)
    reviewers = [
        Person(uuid.uuid4(), "department", f"bench_dept_{i:03d}",
               org_id=departments[i % len(departments)])
        for i in range(max(needs["department"], len(departments)))
    ]  # fmt: skip
    await conn.copy_records_to_table(
        "users", schema_name="accounts",
        columns=["id", "username", "password_hash", "role", "unit_id", "org_id", "org_name",
                 "name"],
        records=[(p.user_id, p.username, password_hash, p.role, p.unit_id, None, None, "经办人")
                 for p in operators[len(operators) - extra:]]
        + [(p.user_id, p.username, password_hash, p.role, None, p.org_id,
            DEPARTMENTS[p.org_id], "审核人") for p in reviewers],
    )  # fmt: skip
    return {"unit_operator": operators, "department": reviewers}


async def generate_load_data(
    database_url: str, cases: int = 20_000, units: int = 100, crowd: int = 500, seed: int = 1,
    say=print,
) -> LoadData:  # fmt: skip
    check_bench_database(database_url)
    generated = await generate(database_url, cases, units, seed, say=say)
    seconds = dict(generated.seconds)
    rng = random.Random(seed + 1)
    started = time.perf_counter()
    password_hash = hash_password(PASSWORD)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    try:
        # bench._workflow_data's operators come with a session each; the crowd makes its own.
        await conn.execute("DELETE FROM accounts.sessions")
        await conn.execute("UPDATE accounts.users SET password_hash = $1", password_hash)
        rows = await load_materials(conn, seed, datetime.now(UTC))
        applicants = await load_applicants(conn, rng, password_hash)
        sizes = await conn.fetch("SELECT unit_id, count(*) AS n FROM cases GROUP BY unit_id")
        reviewers = await load_reviewers(
            conn, rng, [(r["unit_id"], r["n"]) for r in sizes], crowd_needs(crowd), password_hash
        )
        sealed = await seal_written(conn, "cases")
        for table in ("cases.case_sections", "cases.case_attachments", "accounts.users"):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()
    seconds["people_and_materials"] = round(time.perf_counter() - started, 2)
    people = {"applicant": applicants, **reviewers}
    rows |= {role: len(p) for role, p in people.items()} | {"sealed_values": sealed}
    say("  " + ", ".join(f"{n:,} {what}" for what, n in rows.items())
        + f" ({seconds['people_and_materials']:.1f} s)")  # fmt: skip
    return LoadData(
        database_url, generated.cases, units, generated.unit_sizes, generated.by_state, people,
        rows, seconds,
    )  # fmt: skip


@dataclass
class Session:
    token: str  # the zc_session cookie
    csrf: str


async def insert_sessions(conn, people: list[Person], user_agent: str) -> list[Session]:
    """A signed-in session for each, as accounts keeps it (bench._workflow_data's way)."""
    now = datetime.now(UTC)
    sessions = [Session(secrets.token_urlsafe(32), secrets.token_urlsafe(24)) for _ in people]
    await conn.copy_records_to_table(
        "sessions", schema_name="accounts",
        columns=["token_hash", "user_id", "csrf_token", "created_at", "last_seen_at",
                 "expires_at", "client_ip", "user_agent"],
        records=[
            (hashlib.sha256(s.token.encode()).digest(), p.user_id, s.csrf, now, now,
             now + timedelta(hours=12), "127.0.0.1", user_agent)
            for p, s in zip(people, sessions, strict=True)
        ],
    )  # fmt: skip
    return sessions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--crowd", type=int, default=500, help="the largest crowd to serve")
    parser.add_argument("--database", default=database_url())
    args = parser.parse_args()
    check_bench_database(args.database)
    print(f"database {args.database}")
    data = asyncio.run(generate_load_data(args.database, args.cases, args.units, args.crowd))
    for state, n in data.by_state.items():
        print(f"  {state:<22} {n:>7,}")
    print(f"  unit sizes: largest {max(unit_sizes(args.cases, args.units)):,}")


if __name__ == "__main__":
    main()

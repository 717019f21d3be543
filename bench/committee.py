"""A review meeting through the real processes: 25 experts voting on 500 cases.

    python -m bench.committee

Resets the bench database's service schemas, seeds the reference data, and puts 500 cases
in committee_review for one committee with 40 experts in its library, a secretary and a
session of theirs. Starts the four services and the gateway as the processes they are in
production; as the secretary, through HTTP, plans a meeting of 25, gives it every case and
draws the experts (accounts opens their accounts from meeting.drawn; the bench then gives
each a session) and opens the vote with all 25 present. Then 12,500 votes, 25 in flight
(each expert voting on their 500 cases in turn, all 25 at once) through
POST /api/meetings/{id}/votes: votes/s and latency per vote. Beside it, asyncpg in this
process runs the same vote statement (meeting_vote.VOTE) 12,500 times, 25 in
flight, on a copy of the meeting. Last, the secretary closes the vote: the time until all
500 cases have moved. The last line printed is one JSON object with every figure.
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import secrets
import signal
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import uvloop

from bench._http import KeptAlive
from bench._workflow_data import check_bench_database, reset_schemas
from bench.workflow import (
    CpuMeter,
    Errors,
    System,
    bench_settings,
    broker_pids,
    delete_broker_objects,
    free_port,
    in_ms,
    machine_busy_pct,
    now,
    percentile,
    say,
)
from services.accounts.domain.validation import id_check_char
from services.cases.handlers.meeting_vote import VOTE
from services.cases.reference_seed import seed_reference
from shared.db import create_pool
from shared.settings import Settings
from tools.demo_data import demo_reference
from tools.personal_data import seal_written

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GATEWAY_PORT = 18082
COMMITTEE = "cmte-qg-gj"
DEPARTMENT = "dept-gcslh"
EXPERTS, SEATS, CASES, IN_FLIGHT = 40, 25, 500, 25
SOLO_CASES = 40  # a second meeting's, voted one vote at a time: the latency without a queue
WARMUP_VOTES = 500  # the first votes (two per expert): left out of the steady-state figures
CHOICES = ("agree", "agree", "agree", "disagree", "abstain")
P99_TARGET_MS = 50.0
CLOSE_TARGET_S = 2.0


# --- the data: cases, experts, the secretary, written straight into the tables -----------


class People:
    """Sessions (cookie and CSRF token) of the secretary and, once drawn, the experts."""

    def __init__(self) -> None:
        self.secretary: tuple[str, str] | None = None
        self.experts: dict[uuid.UUID, tuple[str, str]] = {}  # library entry id -> session


async def session_for(conn, user_id: uuid.UUID) -> tuple[str, str]:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    at = datetime.now(UTC)
    await conn.execute(
        "INSERT INTO accounts.sessions (token_hash, user_id, csrf_token, created_at,"
        " last_seen_at, expires_at, client_ip, user_agent)"
        " VALUES ($1, $2, $3, $4, $4, $5, '127.0.0.1', 'bench.committee')",
        hashlib.sha256(token.encode()).digest(),
        user_id,
        csrf,
        at,
        at + timedelta(hours=12),
    )
    return token, csrf


def id_number(rng: random.Random) -> str:
    first17 = f"{rng.randint(110000, 659999)}{rng.randint(1950, 1985)}0101{rng.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


async def load(database_url: str, people: People) -> dict:
    started = now()
    applied = await reset_schemas(database_url)
    rng = random.Random(12)
    today = date.today()
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    try:
        await seed_reference(conn, demo_reference())
        await conn.execute(
            "INSERT INTO committee_meeting_rules (committee_id, basis) VALUES ($1, 'speciality')",
            COMMITTEE,
        )
        unit_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO accounts.units (id, org_code, name, si_unit_no, source)"
            " VALUES ($1, 'BENCH0001', '深圳市基准测试单位', 'SI0001', 'local')",
            unit_id,
        )
        await conn.copy_records_to_table(
            "cases",
            columns=CASE_COLUMNS,
            records=[_case(n, unit_id, today) for n in range(CASES + SOLO_CASES)],
        )
        joined = today - timedelta(days=30)
        await conn.copy_records_to_table(
            "experts",
            columns=EXPERT_COLUMNS,
            records=[
                (uuid.uuid4(), COMMITTEE, f"专家{n:02d}", id_number(rng), f"139{n:08d}", None,
                 f"深圳市第{n}研究院", "gc", "轻工机械", "正高", joined,
                 joined + timedelta(days=700), datetime.now(UTC), datetime.now(UTC))
                for n in range(EXPERTS)
            ],
        )  # fmt: skip
        secretary = uuid.uuid4()
        await conn.execute(
            "INSERT INTO accounts.users (id, username, password_hash, role, org_id, org_name,"
            " name) VALUES ($1, 'bench_cmte', '!', 'committee', $2, '轻工高级评委会', '秘书')",
            secretary,
            COMMITTEE,
        )
        people.secretary = await session_for(conn, secretary)
        await seal_written(conn, "cases")  # as the cases service keeps them
        for table in ("cases.cases", "cases.experts", "accounts.users", "accounts.sessions"):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()
    say(
        f"  {len(applied)} migrations; {CASES} + {SOLO_CASES} cases, {EXPERTS} experts, a secretary"
    )
    return {"seconds": round(now() - started, 1)}


CASE_COLUMNS = [
    "id", "case_no", "unit_id", "applicant_id", "applicant_name", "applicant_mobile", "round_id",
    "review_type_id", "qualification_id", "committee_id", "department_id", "needs_pre_approval",
    "state", "version", "last_action", "status_label", "reached_department", "reached_committee",
    "created_at", "updated_at",
]  # fmt: skip
EXPERT_COLUMNS = [
    "id", "committee_id", "name", "id_number", "mobile", "unit_id", "unit_name", "series_id",
    "speciality", "title_level", "joined_on", "term_ends_on", "created_at", "updated_at",
]  # fmt: skip


def _case(n: int, unit_id: uuid.UUID, today: date) -> tuple:
    at = datetime.now(UTC)
    return (
        uuid.uuid4(), f"B{today.year}{n:06d}", unit_id, uuid.uuid4(), f"申报人{n:03d}",
        f"138{n:08d}", str(today.year), "ptsb", "gc-fg", COMMITTEE, DEPARTMENT, False,
        "committee_review", 9, "forward_to_committee", "日常工作部门审核通过-->待评委会评审",
        True, True, at, at,
    )  # fmt: skip


# --- through the gateway ------------------------------------------------------------------


class Http:
    def __init__(self, url: str) -> None:
        self.url = url
        self.errors = Errors()

    async def start(self) -> None:
        self.http = aiohttp.ClientSession(
            self.url,
            cookie_jar=aiohttp.DummyCookieJar(),
            connector=aiohttp.TCPConnector(limit=64),
            timeout=aiohttp.ClientTimeout(total=120),
        )

    async def close(self) -> None:
        await self.http.close()

    async def call(self, session: tuple[str, str], method: str, path: str, body=None):
        token, csrf = session
        headers = {"Cookie": f"zc_session={token}", "X-CSRF-Token": csrf}
        async with self.http.request(method, path, json=body, headers=headers) as r:
            answer = await r.json()
            if r.status not in (200, 201):
                self.errors.add(f"{method} {path}: {r.status} {json.dumps(answer)[:200]}")
                return None
            return answer


async def prepare_meeting(http: Http, people: People, conn, cases: list[uuid.UUID]) -> str:
    secretary = people.secretary
    form = {"round_id": str(date.today().year), "meets_on": date.today().isoformat(),
            "starts_at": "09:00", "place": "基准测试会议室", "size": str(SEATS)}  # fmt: skip
    meeting_id = (await http.call(secretary, "POST", "/api/meetings", form))["meeting_id"]
    one = f"/api/meetings/{meeting_id}"
    chosen = {"case_ids": [str(c) for c in cases]}
    assigned = await http.call(secretary, "POST", f"{one}/cases", chosen)
    drawn = await http.call(secretary, "POST", f"{one}/draw")
    say(f"  meeting {meeting_id}: {assigned['cases']} cases, {drawn['members']} members drawn")
    seated = await _accounts_opened(conn, meeting_id)
    for expert_id, user_id in seated.items():
        if expert_id not in people.experts:
            people.experts[expert_id] = await session_for(conn, user_id)
    present = [str(e) for e in seated]
    opened = await http.call(secretary, "POST", f"{one}/opening", {"present": present})
    say(f"  vote opened: {opened['present']} of {opened['members']} present")
    return meeting_id


async def _accounts_opened(conn, meeting_id: str, timeout: float = 60) -> dict:
    """Library entry id -> user id of each seated expert, once accounts opened the account."""
    started = now()
    while True:
        rows = await conn.fetch(
            "SELECT mm.expert_id, a.user_id, u.id IS NOT NULL AS opened"
            " FROM cases.meeting_members mm JOIN cases.expert_accounts a USING (id_number_index)"
            " LEFT JOIN accounts.users u ON u.id = a.user_id"
            " WHERE mm.meeting_id = $1 AND mm.seated",
            uuid.UUID(meeting_id),
        )
        if rows and all(r["opened"] for r in rows):
            return {r["expert_id"]: r["user_id"] for r in rows}
        if now() - started > timeout:
            raise RuntimeError("the experts' accounts were not opened in time")
        await asyncio.sleep(0.2)


def ballots(experts: list[uuid.UUID], cases: list[uuid.UUID]) -> dict[uuid.UUID, list]:
    """Each expert's 500 votes, in an order of their own."""
    rng = random.Random(25)
    out = {}
    for expert in experts:
        mine = [(case, rng.choice(CHOICES)) for case in cases]
        rng.shuffle(mine)
        out[expert] = mine
    return out


async def vote_all(ballot: dict, cast) -> tuple[list[tuple[float, float]], float]:
    """Every expert votes their ballot in turn, all of them at once: (start, latency) of each
    vote and the elapsed seconds."""
    timings: list[tuple[float, float]] = []

    async def expert(expert_id, votes) -> None:
        for case_id, choice in votes:
            started = now()
            await cast(expert_id, case_id, choice)
            timings.append((started, now() - started))

    started = now()
    await asyncio.gather(*(expert(e, v) for e, v in ballot.items()))
    return timings, now() - started


async def vote_one_at_a_time(ballot: dict, cast) -> tuple[list[tuple[float, float]], float]:
    timings: list[tuple[float, float]] = []
    started = now()
    for expert_id, votes in ballot.items():
        for case_id, choice in votes:
            began = now()
            await cast(expert_id, case_id, choice)
            timings.append((began, now() - began))
    return timings, now() - started


async def _seated(conn, meeting_id: str) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "SELECT expert_id FROM cases.meeting_members WHERE meeting_id = $1 AND seated",
        uuid.UUID(meeting_id),
    )
    return [r["expert_id"] for r in rows]


def vote_figures(
    timings: list[tuple[float, float]], elapsed: float, warmup: int = WARMUP_VOTES
) -> dict:
    ordered = [t for _, t in sorted(timings)]  # by when each vote was sent
    steady = ordered[warmup:]
    return {
        "votes": len(ordered),
        "seconds": round(elapsed, 2),
        "votes_per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": in_ms(percentile(ordered, 0.50)),
        "p99_ms": in_ms(percentile(ordered, 0.99)),
        "max_ms": in_ms(max(ordered)),
        "steady_p99_ms": in_ms(percentile(steady, 0.99)),  # the first votes left out
    }


# --- the bare SQL: the same mark and count, on a copy of the meeting ------------------------


async def copy_meeting(conn, meeting_id: str) -> uuid.UUID:
    """A second meeting with the same cases and members, closed to nobody: its rows take the
    bare statements (its cases are not `open`, so the first meeting keeps them)."""
    copy = uuid.uuid4()
    source = uuid.UUID(meeting_id)
    await conn.execute(
        "INSERT INTO cases.meetings (id, committee_id, round_id, meets_on, starts_at, place,"
        " size, phase, seed, pool, created_by, created_at) SELECT $2, committee_id, round_id,"
        " meets_on, starts_at, place, size, 'voting', seed, pool, 'bench', now()"
        " FROM cases.meetings WHERE id = $1",
        source,
        copy,
    )
    await conn.execute(
        "INSERT INTO cases.meeting_cases (meeting_id, case_id, position, unit_name, open)"
        " SELECT $2, case_id, position, unit_name, false FROM cases.meeting_cases"
        " WHERE meeting_id = $1",
        source,
        copy,
    )
    columns = ", ".join(MEMBER_COLUMNS)
    await conn.execute(
        f"INSERT INTO cases.meeting_members (meeting_id, {columns}, voted)"
        f" SELECT $2, {columns}, 0 FROM cases.meeting_members WHERE meeting_id = $1",
        source,
        copy,
    )
    return copy


MEMBER_COLUMNS = (
    "expert_id", "drawn_rank", "drawn_as", "seated", "declined_at", "decline_reason", "replaces",
    "present", "to_vote", "name", "id_number", "mobile", "unit_id", "unit_name", "series_id",
    "speciality", "title_level", "id_number_index",
)  # fmt: skip


# --- the run ---------------------------------------------------------------------------------


async def run(settings: Settings, port: int) -> dict:
    figures: dict = {}
    people = People()
    say("loading the data ...")
    figures["data"] = await load(settings.database_url, people)
    monitor = await asyncpg.connect(settings.database_url)
    bare_pool = None
    system = System(settings, port, ROOT / os.environ.get("ZC_VAR_DIR", "var/bench") / "committee")
    http = Http(system.url)
    connections: dict[uuid.UUID, KeptAlive] = {}
    broker = {"broker": broker_pids(settings.amqp_url)}
    bench_pid = {"bench": [os.getpid()]}
    try:
        say(f"starting accounts, cases, documents, notify, gateway (port {port}) ...")
        await system.start()
        await http.start()
        every = [
            r["id"] for r in await monitor.fetch("SELECT id FROM cases.cases ORDER BY case_no")
        ]
        cases, solo_cases = every[:CASES], every[CASES:]
        meeting_id = await prepare_meeting(http, people, monitor, cases)
        solo_id = await prepare_meeting(http, people, monitor, solo_cases)

        def ours_in(meeting: str):
            path = f"/api/meetings/{meeting}/votes"

            async def ours(expert_id, case_id, choice) -> None:
                if expert_id not in connections:
                    token, csrf = people.experts[expert_id]
                    headers = {"Cookie": f"zc_session={token}", "X-CSRF-Token": csrf}
                    connections[expert_id] = KeptAlive(system.url, headers)
                body = {"case_id": str(case_id), "choice": choice}
                status, answer = await connections[expert_id].request("POST", path, body)
                if status not in (200, 201):
                    http.errors.add(f"POST {path}: {status} {json.dumps(answer)[:200]}")

            return ours

        say(f"through the gateway: {len(solo_cases)} cases of a second meeting, one vote at a time")
        solo = await _seated(monitor, solo_id)
        timings, elapsed = await vote_one_at_a_time(ballots(solo, solo_cases), ours_in(solo_id))
        figures["one_at_a_time"] = vote_figures(timings, elapsed, warmup=50)
        ballot = ballots(await _seated(monitor, meeting_id), cases)
        ours = ours_in(meeting_id)

        say(f"through the gateway: {SEATS} experts x {len(cases)} cases, {IN_FLIGHT} in flight ...")
        meter = await CpuMeter({**bench_pid, **system.pids(), **broker}, monitor).start()
        timings, elapsed = await vote_all(ballot, ours)
        figures["votes"] = {"ours": vote_figures(timings, elapsed) | {"in_flight": IN_FLIGHT}}
        figures["votes"]["ours"] |= await meter.figures(len(timings), "vote")

        say("bare SQL: the same vote statement, on a copy of the meeting ...")
        copy = await copy_meeting(monitor, meeting_id)
        users = await _accounts_opened(monitor, meeting_id)
        bare_pool = await create_pool(settings.database_url, "cases", max_size=IN_FLIGHT)

        async def bare(expert_id, case_id, choice) -> None:
            await bare_pool.fetchrow(VOTE, copy, users[expert_id], case_id, choice)

        meter = await CpuMeter({**bench_pid, **broker}, monitor).start()
        timings, elapsed = await vote_all(ballot, bare)
        figures["votes"]["bare"] = vote_figures(timings, elapsed) | {"in_flight": IN_FLIGHT}
        figures["votes"]["bare"] |= await meter.figures(len(timings), "vote")
        figures["votes"]["ours_share_of_bare"] = round(
            figures["votes"]["ours"]["votes_per_s"] / figures["votes"]["bare"]["votes_per_s"], 3
        )
        figures["tallies_match"] = await _tallies_match(monitor, meeting_id, copy)

        say("closing the vote through the gateway ...")
        started = now()
        closed = await http.call(people.secretary, "POST", f"/api/meetings/{meeting_id}/closing")
        figures["close"] = {"seconds": round(now() - started, 3), **(closed or {})}
        figures["close"]["cases_moved"] = await monitor.fetchval(
            "SELECT count(*) FROM cases.cases WHERE id = ANY($1::uuid[])"
            " AND state <> 'committee_review'",
            cases,
        )
    finally:
        with contextlib.suppress(Exception):
            await http.close()
            for connection in connections.values():
                await connection.close()
        await system.stop()
        if bare_pool is not None:
            await bare_pool.close()
        await monitor.close()
        await delete_broker_objects(settings)
    figures["errors"] = {"count": http.errors.count, "first": http.errors.first}
    return figures


async def _tallies_match(conn, meeting_id: str, copy: uuid.UUID) -> bool:
    """Both stacks counted the same ballots: the same tally for every case."""
    rows = await conn.fetch(
        "SELECT case_id, meeting_id = $1 AS ours, agree, disagree, abstain"
        " FROM cases.meeting_cases WHERE meeting_id IN ($1, $2)",
        uuid.UUID(meeting_id),
        copy,
    )
    ours = {r["case_id"]: tuple(r)[2:] for r in rows if r["ours"]}
    bare = {r["case_id"]: tuple(r)[2:] for r in rows if not r["ours"]}
    return ours == bare and sum(sum(t) for t in ours.values()) == SEATS * CASES


def judge(f: dict) -> dict:
    clean = f["errors"]["count"] == 0 and f["tallies_match"]
    return {
        "vote_p99_under_50ms": clean and f["votes"]["ours"]["p99_ms"] < P99_TARGET_MS,
        "close_under_2s": clean
        and f["close"]["seconds"] < CLOSE_TARGET_S
        and f["close"]["cases_moved"] == CASES,
    }


def print_readable(f: dict, targets: dict) -> None:
    say("")
    say(f"votes, {SEATS} experts x {CASES} cases, {IN_FLIGHT} in flight:"
        f" ours {f['votes']['ours_share_of_bare']:.0%} of bare")  # fmt: skip
    for stack in ("ours", "bare"):
        x = f["votes"][stack]
        cpu = ", ".join(f"{k} {v}" for k, v in x["cpu_us_per_vote"].items() if v)
        say(f"  {stack}: {x['votes_per_s']:8.1f} votes/s  p50 {x['p50_ms']:6.2f} ms"
            f"  p99 {x['p99_ms']:6.2f} ms (after the first {WARMUP_VOTES}:"
            f" {x['steady_p99_ms']:.2f} ms)  max {x['max_ms']:.1f} ms")  # fmt: skip
        say(f"        cpu us per vote: {cpu}; machine {x['machine_cpu_pct']}%")
    x = f["one_at_a_time"]
    say(f"one vote at a time ({x['votes']} votes of a second meeting): p50 {x['p50_ms']:.2f} ms"
        f"  p99 {x['p99_ms']:.2f} ms  ({x['votes_per_s']:.0f} votes/s)")  # fmt: skip
    c = f["close"]
    say(
        f"close: {c['seconds']:.2f} s for {c.get('cases', 0)} cases"
        f" ({c.get('passed', 0)} passed, {c.get('failed', 0)} failed; {c['cases_moved']} moved)"
    )
    say(f"tallies of both stacks equal: {f['tallies_match']}; errors: {f['errors']['count']}"
        + (f", first: {f['errors']['first']}" if f["errors"]["count"] else ""))  # fmt: skip
    say(f"{'PASS' if targets['vote_p99_under_50ms'] else 'FAIL'}: vote p99 < {P99_TARGET_MS:g} ms"
        f" ({f['votes']['ours']['p99_ms']:.1f} ms)")  # fmt: skip
    say(f"{'PASS' if targets['close_under_2s'] else 'FAIL'}: closing < {CLOSE_TARGET_S:g} s"
        f" ({c['seconds']:.2f} s)")  # fmt: skip


async def main(_args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    settings = bench_settings()
    check_bench_database(settings.database_url)
    port = free_port(int(os.environ.get("ZC_GATEWAY_PORT", DEFAULT_GATEWAY_PORT)))
    load_avg = os.getloadavg()[0]
    busy = await machine_busy_pct(1.0)
    say(f"broker prefix {settings.broker_prefix}, database {settings.database_url}")
    say(f"before the run: load average {load_avg:.2f}, machine {busy}% busy on"
        f" {os.cpu_count()} cores")  # fmt: skip
    if busy > 25:
        say("  something else is running: latencies and votes/s will be low; CPU per vote holds")
    started = now()
    figures = await run(settings, port)
    targets = judge(figures)
    print_readable(figures, targets)
    figures["seconds_total"] = round(now() - started, 1)
    say(f"whole run {figures['seconds_total']:.0f} s")
    head = {
        "prefix": settings.broker_prefix, "database": settings.database_url,
        "cores": os.cpu_count(), "load_before": load_avg, "machine_cpu_pct_before": busy,
        "gateway_port": port,
    }  # fmt: skip
    print(json.dumps({**head, **figures, "targets": targets}, ensure_ascii=False, default=str))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    try:
        uvloop.run(main(parser.parse_args()))  # the load costs the shared cores less
    except asyncio.CancelledError:
        sys.exit("stopped by SIGTERM; the processes were stopped and the broker objects removed")

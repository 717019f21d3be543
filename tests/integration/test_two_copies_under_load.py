"""Two copies each of cases, documents and notify, as processes, under a mixed load; one copy
of each killed with SIGKILL in the middle of it.

accounts, the development SMS provider and two copies of each of the three services run as
`python -m ...` processes on this module's database and broker names, the copies started at
once on the empty database (so their migrations race too). The load, over RPC as the gateway
sends it: a unit approves cases in batches (case.batch), a department accepts cases one by
one (case.act; each sends its applicant an SMS: case.applicant_notice → notify → provider),
and a unit prints 评审（申报）表 in print jobs (documents.print; each job done emits
declaration_form.printed, on which cases moves the printed cases on).

Once both copies of each service are seen taking work (cases: RPC calls answered, from
their `stats`; notify: events in its inbox by process; documents: jobs claimed by process),
one copy of each is killed while the load runs: the documents copy while it holds a print
job. Afterwards every expected effect is there exactly once: each case approved or accepted
once, one SMS per accept, each print job done once with one event, each printed case moved
on once, nothing dead-lettered, and the job the killed copy held finished by the other.
"""

import asyncio
import contextlib
import json
import os
import signal
import uuid
from collections import Counter

import aio_pika
import asyncpg
import pytest

from bench._processes import Processes, service_env
from shared.processes import identity
from shared.rpc import RpcClient, RpcError, ServiceUnavailable
from shared.topology import Names
from tests.support import copies_data
from tests.support.probes import wait_until

TWICE = ("cases", "documents", "notify")
MODULES = {
    "accounts": "services.accounts",
    **{f"{name}{copy}": f"services.{name}" for name in TWICE for copy in ("", "-2")},
    "sms-dev": "services.notify.dev_provider",
}
ENV = {
    "ZC_RENDER_WORKERS": "1",  # two documents processes on a machine of few cores
    "ZC_PRINT_LEASE_SECONDS": "3",  # a job of a killed copy is taken over 3 s later
    "ZC_PRINT_POLL_SECONDS": "0.5",
    "ZC_PRINT_RETRY_SECONDS": "0.5",
    "ZC_SMS_RECONCILE_LEASE_SECONDS": "2",
    "ZC_SMS_DISPATCH_INTERVAL": "0.2",
    # A consumer killed counts as a delivery of every event it held (up to its prefetch).
    "ZC_MAX_DELIVERIES": "50",
}
APPROVE_BATCHES, BATCH = 12, 10
ACCEPTS = 120
PRINT_JOBS, FORMS_PER_JOB = 8, 3
PACE = 0.2  # seconds between one worker's calls: the load lasts past the kill
CALL_TIMEOUT = 15.0


class System:
    def __init__(self, settings, processes: Processes, db, client, var_dir) -> None:
        self.settings = settings
        self.processes = processes
        self.db = db
        self.client = client
        self.var_dir = var_dir
        self.retried = Counter()  # calls lost with a killed copy, sent again

    def pid(self, label: str) -> int:
        return self.processes.running[label].pid

    def identity(self, label: str) -> str:
        return identity().rsplit(":", 1)[0] + f":{self.pid(label)}"

    async def answering(self, service: str, labels: list[str]) -> None:
        """Until every copy of the service answers a ping (each answers with its pid)."""
        pids = {self.pid(label) for label in labels}
        seen = set()

        async def all_answered() -> bool:
            self.processes.check_alive(*labels)
            pings = await asyncio.gather(
                *(self.client.call(service, "ping", timeout=2) for _ in range(4)),
                return_exceptions=True,
            )
            seen.update(p["pid"] for p in pings if isinstance(p, dict))
            return pids <= seen

        await wait_until(all_answered, timeout=120, interval=0.3)

    async def call(self, service: str, method: str, params: dict, actor) -> dict | None:
        """A call as a caller that sends it again when a killed copy took it with it; an
        error answered to the second try (say, the accept already done) is left to the end
        checks, which look at the database."""
        for attempt in range(10):
            try:
                return await self.client.call(
                    service, method, params, actor=actor, timeout=CALL_TIMEOUT
                )
            except ServiceUnavailable:
                self.retried[method] += 1
                await asyncio.sleep(0.5)
            except RpcError:
                if attempt == 0:
                    raise
                return None
        raise AssertionError(f"{service} {method} unanswered ten times")

    async def stats(self, service: str, pids: set[int]) -> dict[int, tuple[int, int]]:
        """pid -> (calls it had handled at its last answer, stats calls it answered), one
        call at a time until each of `pids` has answered."""
        seen: dict[int, tuple[int, int]] = {}
        for _ in range(40):
            answer = await self.client.call(service, "stats", timeout=5)
            answered = seen.get(answer["pid"], (0, 0))[1]
            seen[answer["pid"]] = (answer["handled"], answered + 1)
            if pids <= set(seen):
                return seen
        raise AssertionError(f"not every copy of {service} answered: {seen}")

    async def kill(self, label: str) -> None:
        os.kill(self.pid(label), signal.SIGKILL)
        await self.processes.running[label].wait()

    def sms_lines(self) -> list[dict]:
        path = self.var_dir / "sms.log"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture
async def system(own_database, tmp_path):
    var_dir = tmp_path / "var"
    processes = Processes(MODULES, service_env(own_database, var_dir, **ENV), tmp_path / "logs")
    client = RpcClient(own_database.amqp_url, Names(own_database).rpc_queue, CALL_TIMEOUT)
    await client.start()
    db = await asyncpg.connect(own_database.database_url)
    try:
        await processes.spawn()  # every copy at once, on a database with no schema yet
        yield System(own_database, processes, db, client, var_dir)
    finally:
        pids = processes.pids()
        await processes.stop()
        for pid in pids.values():  # and the render workers of a killed documents copy
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        await client.close()
        await db.close()


async def dead_lettered(settings, consumer: str) -> int:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = Names(settings).dead_letter_queue(consumer)
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count


async def paced(items: list, call, workers: int = 2) -> None:
    queue = list(items)

    async def worker() -> None:
        while queue:
            await call(queue.pop(0))
            await asyncio.sleep(PACE)

    await asyncio.gather(*(worker() for _ in range(workers)))


@pytest.mark.timeout(420)
async def test_two_copies_share_the_load_and_a_copy_killed_mid_batch_loses_nothing(
    system, own_database
):
    db = system.db
    for service in TWICE:
        await system.answering(service, [service, f"{service}-2"])
    await system.answering("accounts", ["accounts"])
    data = await copies_data.load(
        own_database.database_url,
        approve=APPROVE_BATCHES * BATCH,
        accept=ACCEPTS,
        prints=PRINT_JOBS * FORMS_PER_JOB,
    )
    cases_pids = {system.pid("cases"), system.pid("cases-2")}
    before = await system.stats("cases", cases_pids)

    # --- the load ---
    jobs = []
    for n in range(PRINT_JOBS):
        selection = data.to_print[n * FORMS_PER_JOB : (n + 1) * FORMS_PER_JOB]
        params = {"kind": "declaration_form", "case_ids": [str(c) for c in selection]}
        jobs.append(await system.call("documents", "documents.print", params, data.printer))
    job_ids = [uuid.UUID(j["job_id"]) for j in jobs]
    batches = [data.to_approve[i : i + BATCH] for i in range(0, len(data.to_approve), BATCH)]

    async def approve(batch) -> None:
        params = {"case_ids": [str(c) for c in batch], "action": "approve"}
        params["inputs"] = data.approval()
        await system.call("cases", "case.batch", params, data.unit_operator)

    async def accept(case_id) -> None:
        params = {"case_id": str(case_id), "action": "accept", "inputs": {}}
        await system.call("cases", "case.act", params, data.department)

    load = asyncio.gather(paced(batches, approve, workers=1), paced(data.to_accept, accept))

    # --- both copies of each take work ---
    claimers: set[str] = set()

    async def every_copy_took_work() -> bool:
        claimers.update(
            r["claimed_by"]
            for r in await db.fetch("SELECT claimed_by FROM documents.print_jobs")
            if r["claimed_by"]
        )
        handlers = await db.fetchval(
            "SELECT count(DISTINCT handled_by) FROM notify.inbox WHERE consumer = 'notify'"
        )
        return len(claimers) == 2 and handlers == 2

    await wait_until(every_copy_took_work, timeout=120, interval=0.1)
    after = await system.stats("cases", cases_pids)
    # calls answered between the two readings, less the stats calls themselves
    cases_work = {pid: after[pid][0] - before[pid][0] - after[pid][1] for pid in cases_pids}

    # --- one copy of each killed mid-batch ---
    async def a_copy_holds_a_job() -> str | None:
        return await db.fetchval(
            "SELECT claimed_by FROM documents.print_jobs WHERE status = 'running'"
            " ORDER BY created_at LIMIT 1"
        )

    holder = await wait_until(a_copy_holds_a_job, timeout=60, interval=0.05)
    victim = next(
        label for label in ("documents", "documents-2") if system.identity(label) == holder
    )
    survivor = "documents-2" if victim == "documents" else "documents"
    held = await db.fetchval(
        "SELECT id FROM documents.print_jobs WHERE status = 'running' AND claimed_by = $1"
        " ORDER BY created_at LIMIT 1",
        holder,
    )
    at_kill = await db.fetchrow(
        "SELECT (SELECT count(*) FROM cases.case_history WHERE action = 'accept') AS accepted,"
        " (SELECT count(*) FROM cases.case_history WHERE action = 'approve') AS approved,"
        " (SELECT count(*) FROM notify.inbox WHERE consumer = 'notify') AS notices"
    )
    await asyncio.gather(*(system.kill(label) for label in (victim, "cases-2", "notify-2")))

    # --- the survivors finish it all ---
    await asyncio.wait_for(load, 240)

    async def jobs_finished() -> bool:
        statuses = await db.fetch(
            "SELECT status FROM documents.print_jobs WHERE id = ANY($1::uuid[])", job_ids
        )
        return all(r["status"] in ("done", "failed") for r in statuses)

    await wait_until(jobs_finished, timeout=180, interval=0.5)

    async def moved_and_delivered() -> bool:
        printed = await db.fetchval(
            "SELECT count(*) FROM cases.cases WHERE id = ANY($1::uuid[]) AND state = 'dept_review'",
            data.to_print,
        )
        delivered = await db.fetchval(
            "SELECT count(*) FROM notify.deliveries WHERE status = 'delivered'"
        )
        return printed == len(data.to_print) and delivered == ACCEPTS

    await wait_until(moved_and_delivered, timeout=120, interval=0.5)
    await asyncio.sleep(2.0)  # anything handled twice would show by now

    # --- both copies took work; the kill came mid-batch ---
    assert all(work > 0 for work in cases_work.values()), cases_work
    assert len(claimers) == 2
    assert 0 < at_kill["accepted"] < ACCEPTS and at_kill["notices"] < ACCEPTS, dict(at_kill)
    assert at_kill["approved"] < APPROVE_BATCHES * BATCH, dict(at_kill)

    # --- each approval and accept done once ---
    history = Counter(
        (r["case_id"], r["action"])
        for r in await db.fetch(
            "SELECT case_id, action FROM cases.case_history WHERE action IN"
            " ('approve', 'accept', 'print_declaration_form')"
        )
    )
    assert {(c, "approve") for c in data.to_approve} <= set(history)
    assert {(c, "accept") for c in data.to_accept} <= set(history)
    assert [k for k, n in history.items() if n > 1] == []

    # --- one SMS per accept: each notice handled once in effect, sent once ---
    notices = await db.fetch("SELECT handled_by FROM notify.inbox WHERE consumer = 'notify'")
    assert len(notices) == ACCEPTS
    deliveries = await db.fetch("SELECT id, reference, status FROM notify.deliveries")
    noticed = Counter(r["reference"].split(":")[1] for r in deliveries)
    assert noticed == Counter(str(c) for c in data.to_accept)
    lines = system.sms_lines()
    sent = Counter(line["out_id"].split(":")[0] for line in lines)
    assert sent == Counter(str(r["id"]) for r in deliveries)  # each delivery one SMS
    assert len({(line["mobile"], line["body"]) for line in lines}) == ACCEPTS

    # --- each print job done once; each printed case moved on once ---
    rows = await db.fetch(
        "SELECT id, status, attempts, claimed_by FROM documents.print_jobs"
        " WHERE id = ANY($1::uuid[])",
        job_ids,
    )
    assert {r["status"] for r in rows} == {"done"}
    done_entries = Counter(
        r["object_id"]
        for r in await db.fetch(
            "SELECT object_id FROM documents.audit_log WHERE action = 'print.done'"
        )
    )
    assert done_entries == Counter(str(j) for j in job_ids)
    printed_events = await db.fetchval(
        "SELECT count(*) FROM documents.outbox WHERE routing_key = 'declaration_form.printed'"
    )
    assert printed_events == PRINT_JOBS
    assert (
        await db.fetchval("SELECT count(*) FROM cases.inbox WHERE consumer = 'cases'") == PRINT_JOBS
    )
    assert {(c, "print_declaration_form") for c in data.to_print} <= set(history)
    taken_over = next(r for r in rows if r["id"] == held)
    assert taken_over["attempts"] >= 2 and taken_over["claimed_by"] == system.identity(survivor)

    # --- nothing dead-lettered, nothing left unsent ---
    for consumer in ("cases", "notify"):
        assert await dead_lettered(own_database, consumer) == 0
    for schema in ("cases", "documents"):
        # Events the killed copy sent at commit and had not stamped yet: the survivor's relay
        # sends them again once their grace is over (shared/outbox.DIRECT_GRACE).
        everything_sent = f"SELECT count(*) = 0 FROM {schema}.outbox WHERE sent_at IS NULL"
        await wait_until(lambda sql=everything_sent: db.fetchval(sql), timeout=20)
    print(
        f"\ncases work per copy before the kill {cases_work}; at the kill {dict(at_kill)};"
        f" calls sent again after the kill {dict(system.retried)}; job {held} held by the"
        f" killed {victim}, finished by {survivor} at attempt {taken_over['attempts']}"
    )

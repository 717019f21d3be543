"""notify and the development SMS provider killed with SIGKILL while 500 notices go out.

Both run as real processes (`python -m services.notify`, `python -m
services.notify.dev_provider`) on this module's database, broker prefix and var folder. The
notices arrive as `case.applicant_notice` events on the events exchange, as the cases
service's outbox relay publishes them. notify is killed twenty times at random moments
while it sends, and restarted each time; the provider is killed and restarted in a few of
those rounds too. Afterwards no phone has had one notice twice (sms.log, by out-id and by
mobile + text) and every notice was delivered once.
"""

import asyncio
import json
import random
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
import asyncpg
import pytest

from bench._processes import Processes, service_env
from services.notify.templates import notice_template, render
from shared.contracts.cases.events import CaseApplicantNotice
from shared.envelope import new_event
from shared.outbox import to_message
from shared.personal_data import TRANSIT, keyring
from shared.rpc import RpcClient, RpcError
from shared.topology import Names, declare_events_exchange
from tests.support.accounts_driver import mobile
from tests.support.probes import wait_until

NOTICES = 500
PHONES = 100  # five notices to each phone: "the same notice twice" means something
KILLS = 20
PROVIDER_KILL_ROUNDS = {1, 5, 9, 13, 17}  # it stays down until notify has reconciled
LEASE_SECONDS = 1.0
ENV = {  # small batches, 40 a second: the sending lasts through twenty kills
    "ZC_SMS_DISPATCH_INTERVAL": "0.1",
    "ZC_SMS_DISPATCH_BATCH": "4",
    "ZC_SMS_DISPATCH_MAX_RATE": "40",
    "ZC_SMS_RECONCILE_LEASE_SECONDS": str(LEASE_SECONDS),
    # RabbitMQ counts a consumer killed before its ack as a delivery of each event it held
    # (up to the prefetch), so twenty kills in half a minute would dead-letter events by the
    # default limit, handled or not: that is the event consumer's affair, not the SMS's.
    "ZC_MAX_DELIVERIES": "50",
}


def notices() -> list[CaseApplicantNotice]:
    phones = [mobile() for _ in range(PHONES)]
    return [
        CaseApplicantNotice(
            case_id=f"crash-{n}",
            case_no=f"2026{n:06d}",  # each notice's text differs by its case number
            applicant_name="申报人",
            applicant_mobile=keyring().seal(phones[n % PHONES], TRANSIT),
            round_name="2026年度",
            qualification_name="工程师",
            notice=f"第{n}号通知：您的申报已进入下一环节。",
        )
        for n in range(NOTICES)
    ]


def sms_text(notice: CaseApplicantNotice) -> str:
    template, params = notice_template(notice.notice, notice.case_no, notice.case_id)
    return render(template, **params)


async def publish_events(settings, events: list[CaseApplicantNotice]) -> None:
    """What the cases service's outbox relay does: persistent, confirmed, routed by type."""
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_events_exchange(channel, Names(settings))
        envelopes = [new_event("case.applicant_notice", e, "cases") for e in events]
        await asyncio.gather(
            *(
                exchange.publish(to_message(e.model_dump(mode="json")), routing_key=e.type)
                for e in envelopes
            )
        )


async def wait_for_notify(settings) -> None:
    client = RpcClient(settings.amqp_url, Names(settings).rpc_queue, 2)
    await client.start()
    try:

        async def answers() -> bool:
            try:
                return await client.call("notify", "ping") is not None
            except RpcError:
                return False

        await wait_until(answers, timeout=60, interval=0.2)
    finally:
        await client.close()


async def dead_lettered(settings) -> int:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(
            Names(settings).dead_letter_queue("notify"), passive=True
        )
        return queue.declaration_result.message_count


def grown(path: Path, size: int):
    return lambda: path.stat().st_size > size


async def until_mid_batch(db, since: datetime, patience: float = 1.0) -> bool:
    """Wait (a while at most) until notify has a batch committed 'sending' and unrecorded."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if await db.fetchval(
            "SELECT exists(SELECT 1 FROM notify.deliveries WHERE status = 'sending'"
            " AND reconciliations = 0 AND sending_since > $1)",
            since,
        ):
            return True
        await asyncio.sleep(0.002)
    return False


@pytest.fixture
async def crash_system(own_database, tmp_path):
    var_dir = tmp_path / "var"
    env = service_env(own_database, var_dir, **ENV)
    modules = {"notify": "services.notify", "sms-dev": "services.notify.dev_provider"}
    processes = Processes(modules, env, tmp_path / "logs")
    db = await asyncpg.connect(own_database.database_url)
    try:
        await processes.spawn()
        yield processes, db, var_dir
    finally:
        await processes.stop()
        await db.close()


@pytest.mark.timeout(180)
async def test_no_notice_is_sent_twice_or_lost_when_notify_and_the_provider_are_killed(
    crash_system, own_database
):
    processes, db, var_dir = crash_system
    started = time.monotonic()
    rng = random.Random()
    events = notices()
    await wait_for_notify(own_database)
    await publish_events(own_database, events)

    async def claimed() -> int:  # deliveries sent once at least (sending, sent, delivered)
        return await db.fetchval(
            "SELECT count(*) FROM notify.deliveries WHERE status <> 'queued' OR attempts > 0"
        )

    async def delivered() -> int:
        return await db.fetchval(
            "SELECT count(*) FROM notify.deliveries WHERE status = 'delivered'"
        )

    unsent_at_kill = []
    mid_batch_kills = 0
    left_sending = {}
    provider_kills = 0
    for round_ in range(KILLS):
        round_began = datetime.now(UTC)
        before = await claimed()

        async def sending_again(before=before) -> bool:
            return await claimed() > before

        await wait_until(sending_again, timeout=30, interval=0.02)
        await asyncio.sleep(rng.uniform(0, 0.3))
        provider_down = round_ in PROVIDER_KILL_ROUNDS
        if provider_down:  # it dies holding what it had not acked yet: that comes again
            await processes.kill("sms-dev")
            provider_kills += 1
        if provider_down or round_ % 2:
            # Then the moment is while a batch is committed 'sending' and not yet recorded.
            mid_batch_kills += await until_mid_batch(db, round_began)
        unsent_at_kill.append(
            await db.fetchval(
                "SELECT count(*) FROM notify.deliveries WHERE status IN ('queued', 'sending')"
            )
            + NOTICES
            - await db.fetchval("SELECT count(*) FROM notify.deliveries")
        )
        await processes.kill("notify")
        left_now = [
            r["id"]
            for r in await db.fetch("SELECT id FROM notify.deliveries WHERE status = 'sending'")
        ]
        for delivery_id in left_now:  # what the dead process left half-done
            left_sending.setdefault(delivery_id, round_)
        await processes.start("notify")
        if provider_down:
            # No receipt can settle what the kill left: it waits out its lease and is
            # reconciled while the provider is away, then the provider comes back.
            async def reconciled(left_now=left_now) -> bool:
                return not await db.fetchval(
                    "SELECT count(*) FROM notify.deliveries WHERE id = ANY($1::uuid[])"
                    " AND status = 'sending' AND reconciliations = 0",
                    left_now,
                )

            await wait_until(reconciled, timeout=30, interval=0.05)
            # Back to a backlog, it is killed again as soon as it writes, in the middle of it.
            sms_log = var_dir / "sms.log"
            written = sms_log.stat().st_size
            await processes.start("sms-dev")
            await wait_until(grown(sms_log, written), timeout=30, interval=0.002)
            await processes.kill("sms-dev")
            provider_kills += 1
            await processes.start("sms-dev")

    async def all_delivered() -> bool:
        return await delivered() == NOTICES

    await wait_until(all_delivered, timeout=60, interval=0.2)
    elapsed = time.monotonic() - started

    lines = [
        json.loads(line)
        for line in (var_dir / "sms.log").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    by_out_id = Counter(line["out_id"] for line in lines)
    by_phone_text = Counter((line["mobile"], line["body"]) for line in lines)
    expected = Counter((keyring().open(e.applicant_mobile, TRANSIT), sms_text(e)) for e in events)
    doubled_out_ids = [k for k, n in by_out_id.items() if n > 1]
    doubled_texts = [k for k, n in by_phone_text.items() if n > 1]
    lost = [k for k in expected if k not in by_phone_text]

    rows = await db.fetch("SELECT id, status, attempts, reconciliations FROM notify.deliveries")
    events_of = await db.fetch(
        "SELECT delivery_id, status, detail FROM notify.delivery_events ORDER BY at"
    )
    line_of = {line["out_id"]: line for line in lines}
    row_of = {r["id"]: r for r in rows}
    receipt_first = {
        e["delivery_id"]
        for e in events_of
        if e["status"] == "delivered" and "not yet recorded" in e["detail"]
    }
    crash_left = [row_of[i] for i in left_sending]
    reconciled = [r for r in rows if r["reconciliations"]]
    republished_went_out = [
        r for r in reconciled if line_of.get(f"{r['id']}:{r['attempts']}", {}).get("reconciliation")
    ]
    settled_by_receipt = [
        r for r in crash_left if r["id"] in receipt_first and not r["reconciliations"]
    ]
    provider_log = (Path(processes.log_dir) / "sms-dev.log").read_text(encoding="utf-8")
    report = "\n".join(
        [
            f"{NOTICES} notices to {PHONES} phones in {elapsed:.1f}s; notify killed {KILLS} times"
            f" ({mid_batch_kills} of them while a batch was committed 'sending' and unrecorded;"
            f" undelivered at each kill: {unsent_at_kill}), the provider {provider_kills}",
            f"left 'sending' by a killed notify: {len(crash_left)} deliveries; of these",
            f"  {len(settled_by_receipt)} were settled by the provider's receipt when notify"
            " came back (it had died after the publish, before recording it): nothing resent;",
            f"  {len(reconciled)} were reconciled (no receipt within the {LEASE_SECONDS:g}s"
            " lease; republished as the same out-id), of which",
            f"    {len(republished_went_out)} had never reached the provider (notify died"
            " between the commit of 'sending' and the broker taking the publish): the"
            " republished copy went out,",
            f"    {len(reconciled) - len(republished_went_out)} had gone out before the kill:"
            " the provider answered the republished copy with a receipt only;",
            f"  {len(crash_left) - len(settled_by_receipt) - len(reconciled)} otherwise",
            "copies the provider answered with a receipt only: "
            f"{provider_log.count('already sent (redelivery)')} redelivered after a provider"
            f" kill, {provider_log.count('already sent (reconciliation)')} reconciled",
            f"SMS lines {len(lines)}; doubled by out-id {len(doubled_out_ids)}, by phone and"
            f" text {len(doubled_texts)}; lost {len(lost)};"
            f" events dead-lettered {await dead_lettered(own_database)}",
        ]
    )
    print("\n" + report)
    assert len(unsent_at_kill) == KILLS and all(n > 0 for n in unsent_at_kill), report
    assert doubled_out_ids == [] and doubled_texts == [], report
    assert lost == [] and len(lines) == NOTICES, report
    assert Counter(r["status"] for r in rows) == {"delivered": NOTICES}, report
    assert all(r["id"] in left_sending for r in reconciled), report  # only what a kill left
    assert len(crash_left) == len(settled_by_receipt) + len(reconciled), report

"""notify: the two-transaction send, receipts that settle `sending`, the reconciler's lease,
and the provider adapter that sends one out-id once.

The notify service here has its dispatcher idle (one round at start, then an hour's sleep),
so each test drives `dispatch_due` and `reconcile_due` itself with the times it chooses; its
receipts consumer runs as usual. The module has a database of its own, so the provider
queue holds only what these tests put there.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika
import pytest

from services.notify.app import NotifyDeps
from services.notify.app import build_service as build_notify
from services.notify.deliveries import claim, create_delivery, dispatch_due, reconcile_due
from services.notify.dev_provider import DevSmsProvider
from services.notify.provider import CODE_PRIORITY, NOTICE_PRIORITY, out_id, provider_queue
from services.notify.settings import NotifySettings
from services.notify.sms_gateway import SmsGateway
from shared.rpc import Actor, RpcClient, RpcError
from shared.topology import Names
from tests.support.accounts_driver import mobile
from tests.support.probes import wait_until

LEASE = 30.0


@pytest.fixture(scope="module")
async def notify(own_database):
    deps = NotifyDeps(
        settings=NotifySettings(
            sms_dispatch_interval=3600,
            sms_dispatch_on_commit=False,  # the tests dispatch, nothing else
            sms_reconcile_lease_seconds=LEASE,
        )
    )
    service = build_notify(own_database, deps)
    await service.start()
    yield service, deps
    await service.stop()


@pytest.fixture(autouse=True)
async def empty_provider_queue(notify, own_database):
    """A test that failed halfway leaves nothing for the next one to count."""
    connection = await aio_pika.connect(own_database.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(provider_queue(own_database), passive=True)
        await queue.purge()


class ProcessDied(Exception):
    """Stands for the process dying: nothing after it runs."""


class DiesAfterPublish(SmsGateway):
    """The real publish, confirmed by the broker; then the process 'dies' before recording it."""

    async def publish(self, *args, **kwargs) -> None:
        await super().publish(*args, **kwargs)
        raise ProcessDied()


class DiesBeforeReport(DevSmsProvider):
    """The real development provider, 'dying' right after the SMS went out: no receipt, no ack."""

    async def _finish(self, message, sms, outcome) -> None:
        self.died_with = sms.out_id


async def new_notice(service, at: datetime, expires_at: datetime | None = None) -> uuid.UUID:
    async with service.pool.acquire() as conn:
        return await create_delivery(
            conn,
            kind="notice",
            mobile=mobile(),
            template="case.notice",
            body=f"通知 {uuid.uuid4().hex[:8]}",
            priority=NOTICE_PRIORITY,
            expires_at=expires_at or at + timedelta(hours=72),
            reference=None,
            now=at,
        )


async def left_sending(service, delivery_id: uuid.UUID, at: datetime) -> None:
    """What a notify that died between the commit of `sending` and the publish leaves."""
    async with service.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM deliveries WHERE id = $1 FOR UPDATE", delivery_id)
        assert await claim(conn, row, at) is not None


async def row_of(service, delivery_id):
    return await service.pool.fetchrow("SELECT * FROM deliveries WHERE id = $1", delivery_id)


async def history(service, delivery_id) -> list[tuple[str, str]]:
    rows = await service.pool.fetch(
        "SELECT status, coalesce(detail, '') AS detail FROM delivery_events"
        " WHERE delivery_id = $1 ORDER BY at",
        delivery_id,
    )
    return [(r["status"], r["detail"]) for r in rows]


async def queued_for_provider(settings) -> int:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(provider_queue(settings), passive=True)
        return queue.declaration_result.message_count


def sms_lines(provider: DevSmsProvider, **match) -> list[dict]:
    if not provider.log_path.exists():
        return []
    lines = [json.loads(x) for x in provider.log_path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if all(line.get(k) == v for k, v in match.items())]


async def is_status(service, delivery_id, status: str) -> bool:
    return (await row_of(service, delivery_id))["status"] == status


async def started(provider: DevSmsProvider) -> DevSmsProvider:
    await provider.start()
    return provider


async def test_a_crash_between_publish_and_record_leaves_sending_and_its_receipt_settles_it(
    notify, own_database
):
    service, deps = notify
    now = datetime.now(UTC)
    delivery_id = await new_notice(service, now)
    dying = DiesAfterPublish(own_database)
    await dying.start()
    try:
        with pytest.raises(ProcessDied):
            await dispatch_due(service.pool, dying, now, deps.settings)
    finally:
        await dying.close()

    row = await row_of(service, delivery_id)
    assert (row["status"], row["attempts"]) == ("sending", 1)  # never back to 'queued'
    assert await queued_for_provider(own_database) == 1  # it did go out, once

    provider = await started(DevSmsProvider(own_database))
    try:
        await wait_until(lambda: is_status(service, delivery_id, "delivered"))
        assert len(sms_lines(provider, out_id=out_id(delivery_id, 1))) == 1
    finally:
        await provider.close()
    steps = await history(service, delivery_id)
    assert [s for s, _ in steps] == ["queued", "sending", "delivered"]
    assert steps[-1][1] == "provider delivered (its send was not yet recorded)"


async def test_the_reconciler_republishes_only_after_the_lease_and_the_provider_sends_it(
    notify, own_database
):
    """notify died after committing `sending` and before the publish: nothing went out."""
    service, deps = notify
    began = datetime.now(UTC) - timedelta(seconds=LEASE + 5)
    delivery_id = await new_notice(service, began)
    await left_sending(service, delivery_id, began)

    within = began + timedelta(seconds=LEASE - 1)
    await reconcile_due(service.pool, deps.gateway, within, deps.settings)
    row = await row_of(service, delivery_id)
    assert (row["status"], row["reconciliations"]) == ("sending", 0)
    assert await queued_for_provider(own_database) == 0

    await reconcile_due(service.pool, deps.gateway, datetime.now(UTC), deps.settings)
    row = await row_of(service, delivery_id)
    assert (row["status"], row["attempts"], row["reconciliations"]) == ("sent", 1, 1)
    provider = await started(DevSmsProvider(own_database))
    try:
        await wait_until(lambda: is_status(service, delivery_id, "delivered"))
        # The same attempt, the same out-id: the provider had not had it, so it went out.
        [line] = sms_lines(provider, out_id=out_id(delivery_id, 1))
        assert line["reconciliation"] == 1
    finally:
        await provider.close()
    assert [s for s, _ in await history(service, delivery_id)] == [
        "queued",
        "sending",
        "sending",  # reconciliation 1
        "sent",
        "delivered",
    ]


async def test_a_reconciled_copy_of_an_sms_that_went_out_is_answered_by_a_receipt_only(
    notify, own_database
):
    """notify died after the publish; the provider was down, so no receipt came in time."""
    service, deps = notify
    began = datetime.now(UTC) - timedelta(seconds=LEASE + 5)
    delivery_id = await new_notice(service, began)
    dying = DiesAfterPublish(own_database)
    await dying.start()
    try:
        with pytest.raises(ProcessDied):
            await dispatch_due(service.pool, dying, began, deps.settings)
    finally:
        await dying.close()
    await reconcile_due(service.pool, deps.gateway, datetime.now(UTC), deps.settings)
    assert await queued_for_provider(own_database) == 2  # the first copy and the reconciled one

    provider = await started(DevSmsProvider(own_database))
    try:
        await wait_until(lambda: provider.duplicates == 1)
        await wait_until(lambda: is_status(service, delivery_id, "delivered"))
        assert len(sms_lines(provider, out_id=out_id(delivery_id, 1))) == 1
        assert provider.sent == 1
    finally:
        await provider.close()


async def test_a_redelivered_sms_that_went_out_before_the_adapter_died_is_not_sent_again(
    notify, own_database
):
    service, deps = notify
    delivery_id = await new_notice(service, datetime.now(UTC))
    dying = await started(DiesBeforeReport(own_database))
    try:
        await dispatch_due(service.pool, deps.gateway, datetime.now(UTC), deps.settings)
        await wait_until(lambda: getattr(dying, "died_with", None))
    finally:
        await dying.close()  # its unacked message goes back to the queue, marked redelivered
    assert (await row_of(service, delivery_id))["status"] == "sent"  # no receipt yet

    provider = await started(DevSmsProvider(own_database))  # reads the log: the out-id is there
    try:
        await wait_until(lambda: is_status(service, delivery_id, "delivered"))
        assert provider.duplicates == 1 and provider.sent == 0
        [line] = sms_lines(provider, out_id=out_id(delivery_id, 1))
        assert "redelivered" not in line  # the one line is the first copy's
    finally:
        await provider.close()
    steps = await history(service, delivery_id)
    assert steps[-1] == (
        "delivered",
        f"provider already had {out_id(delivery_id, 1)}: not sent again",
    )


async def test_a_code_left_sending_past_its_expiry_is_settled_expired_not_sent(
    notify, own_database
):
    service, deps = notify
    began = datetime.now(UTC) - timedelta(seconds=LEASE + 5)
    async with service.pool.acquire() as conn:
        delivery_id = await create_delivery(
            conn,
            kind="code",
            mobile=mobile(),
            template="code.register",
            body="验证码 424242，5 分钟内有效",
            priority=CODE_PRIORITY,
            expires_at=began + timedelta(seconds=10),
            reference=None,
            now=began,
        )
    await left_sending(service, delivery_id, began)
    await reconcile_due(service.pool, deps.gateway, datetime.now(UTC), deps.settings)
    row = await row_of(service, delivery_id)
    assert row["status"] == "expired" and "424242" not in row["body"]
    assert await queued_for_provider(own_database) == 0


async def test_the_sysadmin_sees_deliveries_left_sending_and_how_often_they_were_reconciled(
    notify, own_database
):
    service, deps = notify
    began = datetime.now(UTC) - timedelta(seconds=LEASE + 5)
    delivery_id = await new_notice(service, began)
    await left_sending(service, delivery_id, began)
    client = RpcClient(own_database.amqp_url, Names(own_database).rpc_queue, 5)
    await client.start()
    try:
        with pytest.raises(RpcError) as refused:
            await client.call("notify", "sms.unsettled", {})
        assert refused.value.status == 403
        sysadmin = Actor(user_id=uuid.uuid4(), role="sysadmin")
        seen = await client.call("notify", "sms.unsettled", {}, actor=sysadmin)
        [listed] = [d for d in seen["deliveries"] if d["id"] == str(delivery_id)]
        assert (listed["status"], listed["reconciliations"], listed["stuck"]) == (
            "sending",
            0,
            False,
        )
        assert listed["mobile"][3:7] == "****"
    finally:
        await client.close()


async def test_two_development_providers_on_one_log_never_both_send_an_out_id(notify, own_database):
    """The one that did not send it learns so from the log, as another process would."""
    service, deps = notify
    providers = [DevSmsProvider(own_database), DevSmsProvider(own_database)]
    for provider in providers:
        await provider.start()  # both have read the log; neither knows what comes next
    try:
        delivery_id = await new_notice(service, datetime.now(UTC))
        await dispatch_due(service.pool, deps.gateway, datetime.now(UTC), deps.settings)
        await wait_until(lambda: is_status(service, delivery_id, "delivered"))
        [sender] = [p for p in providers if p.sent == 1]
        [other] = [p for p in providers if p is not sender]
        await sender.close()
        row = await row_of(service, delivery_id)
        await deps.gateway.publish(
            delivery_id, row["mobile"], "通知", NOTICE_PRIORITY, 1, None, datetime.now(UTC), 1
        )
        await wait_until(lambda: other.duplicates == 1)
        assert other.sent == 0
        assert len(sms_lines(other, out_id=out_id(delivery_id, 1))) == 1
    finally:
        for provider in providers:
            await provider.close()


async def test_a_line_torn_by_a_killed_provider_does_not_spoil_the_next(notify, own_database):
    service, deps = notify
    provider = DevSmsProvider(own_database)
    with provider.log_path.open("a", encoding="utf-8") as log:
        log.write('{"at": "2026-12-01T00:00:00+00:00", "mobile": "138')  # no end of line
    await provider.start()
    try:
        delivery_id = await new_notice(service, datetime.now(UTC))
        await dispatch_due(service.pool, deps.gateway, datetime.now(UTC), deps.settings)
        await wait_until(lambda: is_status(service, delivery_id, "delivered"))
        *_, torn, last = provider.log_path.read_text(encoding="utf-8").splitlines()
        assert torn.endswith('"mobile": "138')
        assert json.loads(last)["out_id"] == out_id(delivery_id, 1)
    finally:
        await provider.close()

"""notify: code sends, delivery records, retries with backoff, priorities, expiry."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.app import NotifyDeps
from services.notify.app import build_service as build_notify
from services.notify.deliveries import create_delivery, dispatch_due
from services.notify.dev_provider import DevSmsProvider
from services.notify.provider import CODE_PRIORITY, NOTICE_PRIORITY
from services.notify.settings import NotifySettings
from shared.rpc import RpcClient, RpcError
from shared.topology import Names
from tests.support.accounts_driver import mobile
from tests.support.probes import wait_until

FAILING_PREFIX = "1990"


@pytest.fixture(scope="module")
async def notify(own_settings):
    deps = NotifyDeps(
        settings=NotifySettings(
            sms_retry_base_seconds=0.05, sms_dispatch_interval=0.05, sms_max_attempts=3
        )
    )
    service = build_notify(own_settings, deps)
    await service.start()
    client = RpcClient(own_settings.amqp_url, Names(own_settings).rpc_queue, 5)
    await client.start()
    yield service, deps, client
    await client.close()
    await service.stop()


@pytest.fixture
async def provider(own_settings):
    sms_provider = DevSmsProvider(own_settings, fail_prefix=FAILING_PREFIX)
    await sms_provider.start()
    yield sms_provider
    await sms_provider.close()


def in_minutes(n: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=n)).isoformat()


def sms_lines(provider, to: str) -> list[dict]:
    if not provider.log_path.exists():
        return []
    lines = [json.loads(x) for x in provider.log_path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line["mobile"] == to]


async def history(service, delivery_id) -> list[str]:
    rows = await service.pool.fetch(
        "SELECT status FROM delivery_events WHERE delivery_id = $1 ORDER BY at", delivery_id
    )
    return [r["status"] for r in rows]


async def status_of(service, delivery_id) -> str:
    return await service.pool.fetchval("SELECT status FROM deliveries WHERE id = $1", delivery_id)


async def test_a_code_is_delivered_and_its_record_keeps_no_code(notify, provider):
    service, _, client = notify
    to = mobile()
    sent = await client.call(
        "notify",
        "sms.send_code",
        {"mobile": to, "code": "246810", "purpose": "register", "expires_at": in_minutes(5)},
    )
    await wait_until(lambda: sms_lines(provider, to))
    assert "246810" in sms_lines(provider, to)[0]["body"]
    delivery_id = uuid.UUID(sent["delivery_id"])
    await wait_until(lambda: is_status(service, delivery_id, "delivered"))
    # Its receipt may come back before the send is recorded: then there is no "sent" step.
    assert await history(service, delivery_id) in (
        ["queued", "sending", "sent", "delivered"],
        ["queued", "sending", "delivered"],
    )
    body = await service.pool.fetchval("SELECT body FROM deliveries WHERE id = $1", delivery_id)
    assert "246810" not in body and "******" in body


async def is_status(service, delivery_id: uuid.UUID, status: str) -> bool:
    return await status_of(service, delivery_id) == status


async def all_sent(service, ids: list[uuid.UUID]) -> bool:
    sent = await service.pool.fetchval(
        "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[]) AND status = 'sent'", ids
    )
    return sent == len(ids)


async def test_an_expired_code_is_never_sent(notify, provider):
    _, _, client = notify
    to = mobile()
    with pytest.raises(RpcError) as refused:
        await client.call(
            "notify",
            "sms.send_code",
            {"mobile": to, "code": "135790", "purpose": "register", "expires_at": in_minutes(-1)},
        )
    assert refused.value.status == 410
    assert sms_lines(provider, to) == []


async def test_a_failing_send_is_retried_with_backoff_then_marked_failed(notify, provider):
    service, _, client = notify
    to = FAILING_PREFIX + "0000000"
    sent = await client.call(
        "notify",
        "sms.send_code",
        {"mobile": to, "code": "112233", "purpose": "register", "expires_at": in_minutes(5)},
    )
    delivery_id = uuid.UUID(sent["delivery_id"])
    await wait_until(lambda: is_status(service, delivery_id, "failed"))
    steps = await history(service, delivery_id)
    assert steps.count("sending") == 3  # sms_max_attempts
    assert steps[-1] == "failed"
    attempts = await service.pool.fetchval(
        "SELECT attempts FROM deliveries WHERE id = $1", delivery_id
    )
    assert attempts == 3


async def test_codes_overtake_waiting_notices(notify, own_settings):
    service, deps, _ = notify
    now = datetime.now(UTC)
    notice_to, code_to = mobile(), mobile()
    waiting = [("notice", notice_to, f"通知 {n}", NOTICE_PRIORITY, None) for n in range(20)]
    waiting.append(("code", code_to, "验证码 999000", CODE_PRIORITY, now + timedelta(minutes=5)))
    async with service.pool.acquire() as conn:
        ids = [
            await create_delivery(
                conn,
                kind=kind,
                mobile=to,
                template="case.notice" if kind == "notice" else "code.register",
                body=body,
                priority=priority,
                expires_at=expires_at,
                reference=None,
                now=now,
            )
            for kind, to, body, priority, expires_at in waiting
        ]
    await dispatch_due(service.pool, deps.gateway, now, deps.settings)
    # The service's own dispatcher may have taken some of them and still be publishing:
    # wait until all 21 are confirmed in the provider queue (status `sent`).
    await wait_until(lambda: all_sent(service, ids))
    # Everything waits in the provider queue; a provider that starts now takes the code first.
    sms_provider = DevSmsProvider(own_settings)
    await sms_provider.start()
    try:
        await wait_until(lambda: len(sms_lines(sms_provider, notice_to)) == 20)
        lines = [json.loads(x) for x in sms_provider.log_path.read_text().splitlines()]
        ours = [line["mobile"] for line in lines if line["mobile"] in (notice_to, code_to)]
        assert ours[0] == code_to
    finally:
        await sms_provider.close()

"""notify keeps no plain mobile at rest: deliveries sealed, older rows sealed by 006, events'
sealed mobiles opened, personal.unmask audited."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika
import asyncpg
import pytest

from services.notify.app import NotifyDeps
from services.notify.app import build_service as build_notify
from services.notify.dev_provider import DevSmsProvider
from services.notify.sealed import DELIVERY_MOBILE, SEND_MOBILE, opened
from services.notify.settings import NotifySettings
from shared.envelope import Envelope
from shared.migrations import migrate, migration_files
from shared.outbox import to_message
from shared.personal_data import TRANSIT, keyring
from shared.rpc import Actor, RpcClient, RpcError
from shared.topology import Names, declare_events_exchange
from tests.support.accounts_driver import mobile
from tests.support.plain_numbers import plain_numbers
from tests.support.probes import wait_until


@pytest.fixture(scope="module")
async def notify(own_database):
    deps = NotifyDeps(settings=NotifySettings(sms_dispatch_interval=0.05))
    service = build_notify(own_database, deps)
    await service.start()
    provider = DevSmsProvider(own_database)
    await provider.start()
    client = RpcClient(own_database.amqp_url, Names(own_database).rpc_queue, 5)
    await client.start()
    yield service, provider, client
    await client.close()
    await provider.close()
    await service.stop()


def texted(provider, to: str) -> list[dict]:
    if not provider.log_path.exists():
        return []
    lines = provider.log_path.read_text(encoding="utf-8").splitlines()
    return [sms for sms in map(json.loads, lines) if sms["mobile"] == to]


async def publish_notice(settings, applicant_mobile: str) -> None:
    """A case.applicant_notice as the cases relay publishes it (no contract check here: the
    message may be one written before its producer sealed mobiles)."""
    payload = {
        "case_id": str(uuid.uuid4()),
        "case_no": "2026000001",
        "applicant_name": "张三",
        "applicant_mobile": applicant_mobile,
        "round_name": "2026年度",
        "qualification_name": "工程师",
        "notice": "您的申报已受理。",
    }
    envelope = Envelope(type="case.applicant_notice", payload=payload, producer="cases")
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_events_exchange(channel, Names(settings))
        await exchange.publish(to_message(envelope.model_dump(mode="json")), envelope.type)


async def test_codes_and_notices_reach_the_number_and_no_plain_mobile_stays(notify, own_database):
    service, provider, client = notify
    code_to, sealed_to = mobile(), mobile()
    expires = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    await client.call(
        "notify",
        "sms.send_code",
        {"mobile": code_to, "code": "135246", "purpose": "register", "expires_at": expires},
    )
    await publish_notice(own_database, keyring().seal(sealed_to, TRANSIT))
    # a plain mobile, from before the upgrade, the contract refuses: docs/personal-data.md
    for to in (code_to, sealed_to):
        await wait_until(lambda to=to: texted(provider, to))
    async with service.pool.acquire() as conn:
        assert await plain_numbers(conn, ["notify"]) == []
    tokens = await service.pool.fetch("SELECT mobile FROM deliveries")
    numbers = {opened(r["mobile"], DELIVERY_MOBILE) for r in tokens}
    assert {code_to, sealed_to} <= numbers


async def test_the_unsettled_list_shows_masks(notify):
    service, _, client = notify
    to = mobile()
    delivery_id = await left_sending(service.pool, to)
    sysadmin = Actor(user_id=uuid.uuid4(), role="sysadmin", username="admin")
    listed = await client.call("notify", "sms.unsettled", {}, actor=sysadmin)
    [ours] = [d for d in listed["deliveries"] if d["id"] == str(delivery_id)]
    assert ours["mobile"] == to[:3] + "****" + to[-4:]


async def test_unmask_is_the_sysadmins_and_audited_either_way(notify):
    service, _, client = notify
    to = mobile()
    delivery_id = await left_sending(service.pool, to)
    wanted = {"object_type": "delivery", "object_id": str(delivery_id), "field": "mobile"}
    sysadmin = Actor(user_id=uuid.uuid4(), role="sysadmin", username="admin")
    shown = await client.call("notify", "personal.unmask", wanted, actor=sysadmin)
    assert shown["value"] == to
    operator = Actor(user_id=uuid.uuid4(), role="unit_operator", username="op")
    with pytest.raises(RpcError) as refused:
        await client.call("notify", "personal.unmask", wanted, actor=operator)
    assert refused.value.status == 403
    rows = await service.pool.fetch(
        "SELECT actor_username, outcome, code, details FROM audit_log"
        " WHERE action = 'personal.unmask' AND object_type = 'delivery' AND object_id = $1"
        " ORDER BY seq",
        str(delivery_id),
    )
    assert [(r["actor_username"], r["outcome"], r["code"]) for r in rows] == [
        ("admin", "ok", None),
        ("op", "refused", "forbidden"),
    ]
    assert dict(rows[0]["details"]) == {"field": "mobile"}
    assert to not in "".join(str(dict(r)) for r in rows)
    missing = {**wanted, "object_id": str(uuid.uuid4())}
    with pytest.raises(RpcError) as unknown:
        await client.call("notify", "personal.unmask", missing, actor=sysadmin)
    assert unknown.value.status == 404


async def left_sending(pool, to: str) -> uuid.UUID:
    """A notice left `sending` with its lease just renewed: the reconciler leaves it be."""
    delivery_id, now = uuid.uuid4(), datetime.now(UTC)
    await pool.execute(
        "INSERT INTO deliveries (id, kind, mobile, template, body, priority, status, attempts,"
        " sending_since, expires_at, created_at, updated_at) VALUES ($1, 'notice', $2,"
        " 'case.notice', '【测试】', 1, 'sending', 1, $3, $4, $3, $3)",
        delivery_id,
        keyring().seal(to, DELIVERY_MOBILE.label),
        now + timedelta(minutes=10),
        now + timedelta(hours=1),
    )
    return delivery_id


async def test_006_seals_the_rows_written_before_it(own_database):
    schema = f"notify_seal_{uuid.uuid4().hex[:6]}"
    files = migration_files("notify")
    before = [f for f in files if not f[0].startswith(("notify/005", "notify/006"))]
    delivery_id, to, now = uuid.uuid4(), mobile(), datetime.now(UTC)
    conn = await asyncpg.connect(own_database.database_url)
    try:
        await migrate(conn, schema, before)
        await conn.execute(f'SET search_path TO "{schema}"')
        await conn.execute(
            "INSERT INTO deliveries (id, kind, mobile, template, body, priority, status,"
            " created_at, updated_at) VALUES ($1, 'notice', $2, 't', 'b', 1, 'sent', $3, $3)",
            delivery_id,
            to,
            now,
        )
        await conn.execute(
            "INSERT INTO provider_sends (out_id, provider, delivery_id, attempt, mobile, state,"
            " claimed_at, claimed_by) VALUES ('x:1', 'aliyun', $1, 1, $2, 'claimed', $3, 'a')",
            delivery_id,
            to,
            now,
        )
        await conn.execute("RESET search_path")
        assert await migrate(conn, schema, files) == [
            "notify/005_personal_data.sql",
            "notify/006_seal_personal_data.py",
        ]
        await conn.execute(f'SET search_path TO "{schema}"')
        kept = await conn.fetchval("SELECT mobile FROM deliveries")
        sent = await conn.fetchval("SELECT mobile FROM provider_sends")
        assert opened(kept, DELIVERY_MOBILE) == to and opened(sent, SEND_MOBILE) == to
        with pytest.raises(asyncpg.CheckViolationError):  # and no plain one from now on
            await conn.execute("UPDATE deliveries SET mobile = $1", to)
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()

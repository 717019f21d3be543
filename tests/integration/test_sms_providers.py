"""The Alibaba Cloud and Tencent Cloud adapters against local fakes of the providers' HTTP APIs.

The official SDKs talk to the fakes (tests/support/fake_aliyun.py, fake_tencent.py), which
check every request's signature as the real services do and answer with the documented
shapes and codes. notify runs in this process with its dispatcher; each provider is primary
in turn, with the other as the fallback. What is shown: templates and parameters instead of
text, accepted then reported, a permanent refusal never retried, a throttled one retried once
its window is over, a provider that is down replaced by the other (a code at once), a crash
between the send and its record settled by the provider's query without a second SMS, a
timeout settled by the query, a claim the provider never got sent again (Alibaba Cloud) or
left to an operator (Tencent Cloud), and the credentials in no log line and no history.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aio_pika
import pytest

from services.notify.aliyun_sms import AliyunSms
from services.notify.app import NotifyDeps
from services.notify.app import build_service as build_notify
from services.notify.deliveries import claim, create_delivery
from services.notify.provider import NOTICE_PRIORITY, out_id, provider_queue
from services.notify.provider_adapter import SmsProviderAdapter
from services.notify.sealed import SEND_MOBILE, sealed
from services.notify.settings import NotifySettings
from services.notify.templates import notice_template, render
from services.notify.tencent_sms import TencentSms
from shared.rpc import RpcClient
from shared.topology import Names
from tests.support.accounts_driver import mobile
from tests.support.probes import wait_until
from tests.support.sms_providers import (
    ALIYUN_TEMPLATES,
    SECRETS,
    TENCENT_TEMPLATES,
    adapter_settings,
    fake_aliyun,
    fake_tencent,
)

ACCEPTED = "您的职称申报已通过日常工作部门预受理。"
ADAPTER = {  # the same rules as in production, on a test's time scale
    "sms_provider_timeout": 1.0,
    "sms_lookup_after_seconds": 1.5,
    "sms_aliyun_not_found_after_seconds": 2.0,
    "sms_report_poll_interval": 0.1,
    "sms_report_check_after_seconds": 0.2,
    "sms_report_check_max_interval": 1.0,
    "sms_throttle_windows": {"request": 0.5, "thirty_seconds": 1.0, "minute": 1.0, "hour": 1.0},
}
OTHER = {"aliyun": "tencent", "tencent": "aliyun"}
TEMPLATE_IDS = {"aliyun": ALIYUN_TEMPLATES, "tencent": TENCENT_TEMPLATES}


class ProcessDied(Exception):
    """Stands for the process dying: nothing after it runs."""


class DiesAfterSend(SmsProviderAdapter):
    """The real adapter, 'dying' once the provider accepted the SMS, before recording it."""

    retry_pause = 3600  # a dead process hands nothing back: its connection closing does

    async def _record_send(self, out_id, result, claimed_at):
        self.died_with = (out_id, result)
        raise ProcessDied()


@dataclass
class Providers:
    database: object
    settings: object
    fakes: dict
    primary: str
    adapters: dict = field(default_factory=dict)

    @property
    def fallback(self) -> str:
        return OTHER[self.primary]

    def api(self, name: str):
        return (AliyunSms if name == "aliyun" else TencentSms)(self.settings, "深圳职称申报")

    def adapter(self, name: str, cls=SmsProviderAdapter, **overrides) -> SmsProviderAdapter:
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        route = "primary" if name == self.primary else "fallback"
        api = (AliyunSms if name == "aliyun" else TencentSms)(settings, "深圳职称申报")
        return cls(self.database, api, settings, route=route)

    async def start(self, name: str) -> None:
        self.adapters[name] = self.adapter(name)
        await self.adapters[name].start()

    async def stop(self, name: str) -> None:
        await self.adapters.pop(name).close()


@pytest.fixture(scope="module")
async def fakes():
    providers = {
        "aliyun": fake_aliyun(report_delay=0.05),
        "tencent": fake_tencent(report_delay=0.05),
    }
    for fake in providers.values():
        await fake.start()
        fake.knobs.stall_seconds = 2.5
    yield providers
    for fake in providers.values():
        await fake.close()


@pytest.fixture(scope="module")
async def notify(own_database):
    deps = NotifyDeps(
        settings=NotifySettings(
            sms_dispatch_interval=0.05,
            sms_retry_base_seconds=0.2,
            sms_max_attempts=5,
            sms_fallback_provider="tencent",  # which one is set per provider below
            sms_fallback_after=2,
        )
    )
    service = build_notify(own_database, deps)
    await service.start()
    client = RpcClient(own_database.amqp_url, Names(own_database).rpc_queue, 5)
    await client.start()
    yield service, deps, client
    await client.close()
    await service.stop()
    connection = await aio_pika.connect(own_database.amqp_url)
    async with connection:  # the fallback queue is not among the names a cleanup knows
        channel = await connection.channel()
        await channel.queue_delete(provider_queue(own_database, "fallback"))


@pytest.fixture(scope="module", params=["aliyun", "tencent"])
async def providers(request, own_database, fakes, notify):
    _, deps, _ = notify
    settings = adapter_settings(fakes["aliyun"].port, fakes["tencent"].port, **ADAPTER)
    providers = Providers(own_database, settings, fakes, request.param)
    deps.settings = deps.settings.model_copy(
        update={"sms_provider": providers.primary, "sms_fallback_provider": providers.fallback}
    )
    for name in (providers.primary, providers.fallback):
        await providers.start(name)
    yield providers
    for name in list(providers.adapters):
        await providers.stop(name)


@pytest.fixture(autouse=True)
async def providers_up(fakes):
    """A test that stopped a fake or turned a knob leaves nothing for the next one."""
    yield
    for fake in fakes.values():
        if fake._runner is None:
            await fake.start()
        fake.knobs.fail_next = fake.knobs.stall_next = 0
        fake.report_delay = 0.05


async def new_notice(service, to: str, text: str = ACCEPTED, case_no: str | None = None):
    case_no = case_no or f"2026{uuid.uuid4().int % 10**6:06d}"
    template, params = notice_template(text, case_no, str(uuid.uuid4()))
    async with service.pool.acquire() as conn:
        return await create_delivery(
            conn,
            kind="notice",
            mobile=to,
            template=template,
            body=render(template, **params),
            priority=NOTICE_PRIORITY,
            expires_at=datetime.now(UTC) + timedelta(hours=72),
            reference=None,
            now=datetime.now(UTC),
            params=params,
        )


async def row_of(service, delivery_id):
    return await service.pool.fetchrow("SELECT * FROM deliveries WHERE id = $1", delivery_id)


async def history(service, delivery_id) -> list[tuple[str, str]]:
    rows = await service.pool.fetch(
        "SELECT status, coalesce(detail, '') AS detail FROM delivery_events"
        " WHERE delivery_id = $1 ORDER BY at",
        delivery_id,
    )
    return [(r["status"], r["detail"]) for r in rows]


def settled(service, delivery_id, status: str):
    async def check() -> bool:
        return (await row_of(service, delivery_id))["status"] == status

    return check


async def test_a_notice_goes_out_as_its_template_and_its_report_settles_it(notify, providers):
    service, _, _ = notify
    fake = providers.fakes[providers.primary]
    to = mobile()
    delivery_id = await new_notice(service, to, case_no="2026000417")
    await wait_until(settled(service, delivery_id, "delivered"))

    [sent] = fake.sent_to(to)
    assert sent.template == TEMPLATE_IDS[providers.primary]["case.accepted"]
    assert sent.params == {"case_no": "2026000417"}
    assert sent.sign_name == "深圳职称申报"
    assert sent.out_id == out_id(delivery_id, 1)  # OutId / SessionContext
    row = await row_of(service, delivery_id)
    assert (
        row["body"]
        == "【深圳职称申报】您的职称申报（申报编号 2026000417）已通过日常工作部门预受理。"
    )
    assert (row["provider"], row["provider_ref"]) == (providers.primary, sent.ref)
    steps = await history(service, delivery_id)
    assert [s for s, _ in steps][:2] == ["queued", "sending"]
    assert ("sent", f"accepted by {providers.primary} ({sent.ref})") in steps
    assert steps[-1][0] == "delivered" and steps[-1][1].startswith(
        f"{providers.primary} report: delivered ("
    )
    assert providers.fakes[providers.fallback].sent_to(to) == []


async def test_a_code_goes_out_as_the_code_template_and_keeps_no_code(notify, providers):
    service, _, client = notify
    fake = providers.fakes[providers.primary]
    to = mobile()
    expires = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    sent = await client.call(
        "notify",
        "sms.send_code",
        {"mobile": to, "code": "864209", "purpose": "register", "expires_at": expires},
    )
    delivery_id = uuid.UUID(sent["delivery_id"])
    await wait_until(settled(service, delivery_id, "delivered"))
    [at_provider] = fake.sent_to(to)
    assert at_provider.template == TEMPLATE_IDS[providers.primary]["code.register"]
    assert at_provider.params == {"code": "864209", "minutes": "5"}
    row = await row_of(service, delivery_id)
    assert "864209" not in row["body"] and row["params"]["code"] == "******"


async def test_an_invalid_number_fails_at_once_and_is_never_retried(notify, providers):
    service, _, _ = notify
    fake = providers.fakes[providers.primary]
    to = mobile()
    fake.knobs.invalid_numbers.add(to)
    delivery_id = await new_notice(service, to)
    await wait_until(settled(service, delivery_id, "failed"))
    await asyncio.sleep(0.5)  # several dispatcher rounds: nothing is tried again
    sends = [p for p in fake.calls("SendSms") if to in str(p)]
    assert len(sends) == 1
    assert fake.sent_to(to) == [] and providers.fakes[providers.fallback].sent_to(to) == []
    row = await row_of(service, delivery_id)
    assert row["attempts"] == 1
    code = {
        "aliyun": "isv.MOBILE_NUMBER_ILLEGAL",
        "tencent": "InvalidParameterValue.IncorrectPhoneNumber",
    }[providers.primary]
    assert row["provider_code"] == code
    assert (await history(service, delivery_id))[-1][1].startswith(
        f"{providers.primary} refused: {code}"
    )


async def test_a_blacklisted_number_fails_with_the_providers_code_and_is_not_retried(
    notify, providers
):
    """Tencent Cloud refuses it at the send; Alibaba Cloud accepts it and its report fails."""
    service, _, _ = notify
    fake = providers.fakes[providers.primary]
    to = mobile()
    fake.knobs.blacklisted.add(to)
    delivery_id = await new_notice(service, to)
    await wait_until(settled(service, delivery_id, "failed"))
    row = await row_of(service, delivery_id)
    assert row["attempts"] == 1
    if providers.primary == "tencent":
        assert row["provider_code"] == "FailedOperation.PhoneNumberInBlacklist"
        assert fake.sent_to(to) == []
    else:
        assert row["provider_code"] == "MOBILE_IN_BLACK"
        assert len(fake.sent_to(to)) == 1
        assert (await history(service, delivery_id))[-1][1].startswith(
            "aliyun report: MOBILE_IN_BLACK"
        )


async def test_a_throttled_notice_is_sent_again_once_the_window_is_over(notify, providers):
    service, _, _ = notify
    fake = providers.fakes[providers.primary]
    to = mobile()
    fake.knobs.throttle_next[to] = 1
    delivery_id = await new_notice(service, to)
    await wait_until(settled(service, delivery_id, "delivered"))

    [sent] = fake.sent_to(to)
    assert sent.out_id == out_id(delivery_id, 2)  # the second attempt, same provider
    steps = await history(service, delivery_id)
    [(_, retry)] = [(s, d) for s, d in steps if s == "queued" and "retry" in d]
    assert retry.startswith(f"retry after 1s: {providers.primary} throttled:")
    first, second = [at for action, params, at in fake.timed_calls("SendSms") if to in str(params)]
    assert second - first >= 1.0  # not before the window was over
    assert providers.fakes[providers.fallback].sent_to(to) == []


async def test_a_provider_down_hands_notices_to_the_fallback_after_retries(notify, providers):
    service, _, _ = notify
    down, other = providers.fakes[providers.primary], providers.fakes[providers.fallback]
    await down.stop()
    to = mobile()
    delivery_id = await new_notice(service, to)
    await wait_until(settled(service, delivery_id, "delivered"))

    [sent] = other.sent_to(to)
    assert sent.out_id == out_id(delivery_id, 3)  # two tries on the primary, then the fallback
    assert sent.template == TEMPLATE_IDS[providers.fallback]["case.accepted"]
    steps = [d for s, d in await history(service, delivery_id) if s == "queued"]
    assert steps[1].startswith("retry after 0.2s:") and "ConnectionError" in steps[1]
    assert steps[2].startswith("retry after 0s on the fallback provider:")
    assert (await row_of(service, delivery_id))["provider"] == providers.fallback


async def test_a_code_goes_to_the_fallback_at_once_when_its_provider_is_down(notify, providers):
    service, _, client = notify
    down, other = providers.fakes[providers.primary], providers.fakes[providers.fallback]
    await down.stop()
    to = mobile()
    expires = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    sent = await client.call(
        "notify",
        "sms.send_code",
        {"mobile": to, "code": "135024", "purpose": "register", "expires_at": expires},
    )
    delivery_id = uuid.UUID(sent["delivery_id"])
    await wait_until(settled(service, delivery_id, "delivered"))
    [at_fallback] = other.sent_to(to)
    assert at_fallback.out_id == out_id(delivery_id, 2)
    retries = [d for s, d in await history(service, delivery_id) if s == "queued" and "retry" in d]
    assert len(retries) == 1
    assert retries[0].startswith("retry after 0s on the fallback provider:")


async def test_a_crash_between_the_send_and_its_record_is_settled_by_the_query_once(
    notify, providers
):
    """The adapter dies after the provider accepted the SMS and before it recorded that: the
    copy redelivered to the next adapter is settled by asking the provider by its out-id."""
    service, _, _ = notify
    fake = providers.fakes[providers.primary]
    await providers.stop(providers.primary)
    dying = providers.adapter(providers.primary, cls=DiesAfterSend)
    await dying.start()
    to = mobile()
    try:
        delivery_id = await new_notice(service, to)
        await wait_until(lambda: hasattr(dying, "died_with"))
    finally:
        await dying.close()  # its unacked message goes back to the queue, redelivered
    assert dying.died_with[0] == out_id(delivery_id, 1) and dying.died_with[1].accepted
    assert len(fake.sent_to(to)) == 1

    await providers.start(providers.primary)
    await wait_until(settled(service, delivery_id, "delivered"))
    assert len(fake.sent_to(to)) == 1  # no second SMS
    assert providers.adapters[providers.primary].requests == 0
    looked_up = fake.calls(
        "QuerySendDetails" if providers.primary == "aliyun" else "PullSmsSendStatusByPhoneNumber"
    )
    assert any(to in str(params) for params in looked_up) or providers.primary == "tencent"
    record = await service.pool.fetchrow(
        "SELECT state, provider_ref, report FROM provider_sends WHERE out_id = $1",
        out_id(delivery_id, 1),
    )
    assert (record["state"], record["report"]) == ("accepted", "delivered")
    # Tencent's reports carry the SerialNo; Alibaba's QuerySendDetails lists no BizId.
    ref = fake.sent_to(to)[0].ref if providers.primary == "tencent" else None
    assert record["provider_ref"] == ref


async def test_a_reconciled_copy_of_an_accepted_sms_is_answered_from_the_record(notify, providers):
    """notify died between its publish and its record; the reconciler republishes the same
    out-id, which the adapter knows it sent: a receipt only."""
    service, deps, _ = notify
    fake = providers.fakes[providers.primary]
    to = mobile()
    delivery_id = await new_notice(service, to)
    await wait_until(settled(service, delivery_id, "delivered"))
    row = await row_of(service, delivery_id)
    await deps.gateway.publish(
        delivery_id,
        to,
        row["body"],
        NOTICE_PRIORITY,
        1,
        None,
        datetime.now(UTC),
        1,
        template=row["template"],
        params=dict(row["params"]),
        route="primary",
    )
    adapter = providers.adapters[providers.primary]
    await wait_until(lambda: adapter.duplicates >= 1)
    assert len(fake.sent_to(to)) == 1


async def test_a_timeout_is_settled_by_the_query_without_a_second_sms(notify, providers):
    """The provider accepts the SMS but answers after the adapter gave up: in doubt, never
    sent again; the query finds it and its report settles it."""
    service, _, _ = notify
    fake = providers.fakes[providers.primary]
    fake.knobs.stall_next = 1
    fake.report_delay = 3.0  # the report comes after the adapter gave up on the answer
    to = mobile()
    delivery_id = await new_notice(service, to)
    await wait_until(settled(service, delivery_id, "delivered"), timeout=20)
    assert len(fake.sent_to(to)) == 1
    assert providers.fakes[providers.fallback].sent_to(to) == []
    details = [d for _, d in await history(service, delivery_id)]
    assert any(f"{providers.primary} cannot tell yet whether" in d for d in details)
    assert (await row_of(service, delivery_id))["attempts"] == 1


async def left_claimed(service, provider: str, to: str, poller: bool) -> uuid.UUID:
    """A notice committed `sending` whose out-id an adapter claimed ten seconds ago and died
    before calling the provider: no SMS went out."""
    long_ago = datetime.now(UTC) - timedelta(seconds=10)
    async with service.pool.acquire() as conn, conn.transaction():
        delivery_id = await new_notice_in(conn, to, long_ago)
        row = await conn.fetchrow("SELECT * FROM deliveries WHERE id = $1", delivery_id)
        await claim(conn, row, long_ago)  # committed `sending`, as the dispatcher does
        await conn.execute(
            "INSERT INTO provider_sends (out_id, provider, delivery_id, attempt, mobile, state,"
            " claimed_at, claimed_by, next_check_at) VALUES ($1, $2, $3, 1, $4, 'claimed', $5,"
            " 'a-dead-adapter', $6)",
            out_id(delivery_id, 1),
            provider,
            delivery_id,
            sealed(to, SEND_MOBILE),
            long_ago,
            datetime.now(UTC) if poller else None,  # None: only a copy settles it
        )
    return delivery_id


async def new_notice_in(conn, to: str, at: datetime) -> uuid.UUID:
    template, params = notice_template(ACCEPTED, "2026000001", "")
    return await create_delivery(
        conn,
        kind="notice",
        mobile=to,
        template=template,
        body=render(template, **params),
        priority=NOTICE_PRIORITY,
        expires_at=at + timedelta(hours=72),
        reference=None,
        now=at,
        params=params,
    )


async def test_a_reconciled_copy_of_a_claim_the_provider_never_got(notify, providers):
    """Alibaba Cloud's QuerySendDetails lists every SMS it accepted: the out-id not there, it
    is sent now, once. Tencent Cloud can be asked only for status reports, and no report does
    not prove it never went out: it is not sent, and left to the report query and an
    operator."""
    service, deps, _ = notify
    fake = providers.fakes[providers.primary]
    to = mobile()
    delivery_id = await left_claimed(service, providers.primary, to, poller=False)
    row = await row_of(service, delivery_id)
    await deps.gateway.publish(  # what the reconciler publishes once the lease is over
        delivery_id,
        to,
        row["body"],
        NOTICE_PRIORITY,
        1,
        row["expires_at"],
        datetime.now(UTC),
        1,
        template=row["template"],
        params=dict(row["params"]),
        route="primary",
    )
    if providers.primary == "aliyun":
        await wait_until(settled(service, delivery_id, "delivered"))
        [sent] = fake.sent_to(to)
        assert sent.out_id == out_id(delivery_id, 1)
        record = await service.pool.fetchrow(
            "SELECT detail FROM provider_sends WHERE out_id = $1", out_id(delivery_id, 1)
        )
        assert "had no record of it" in record["detail"]
    else:
        await wait_until(lambda: history_has(service, delivery_id, "cannot tell yet"))
        await asyncio.sleep(0.5)
        assert fake.sent_to(to) == []
        row = await row_of(service, delivery_id)
        assert row["status"] == "sending"  # the reconciler and sms.unsettled show it
        assert "does not prove it never went out" in row["last_error"]


async def test_a_claim_left_by_a_dead_adapter_is_settled_by_the_report_query(notify, providers):
    """No copy comes (notify had recorded the send): the adapters' report query asks the
    provider. Alibaba Cloud: not there, so notify is told it failed in passing and sends a
    new attempt. Tencent Cloud: it stays in doubt."""
    service, _, _ = notify
    fake = providers.fakes[providers.primary]
    to = mobile()
    delivery_id = await left_claimed(service, providers.primary, to, poller=True)
    if providers.primary == "aliyun":
        await wait_until(settled(service, delivery_id, "delivered"))
        [sent] = fake.sent_to(to)
        assert sent.out_id == out_id(delivery_id, 2)  # a new attempt, a new out-id
        steps = [d for s, d in await history(service, delivery_id) if s == "queued"]
        assert "never got it" in steps[-1]
    else:
        await wait_until(
            lambda: service.pool.fetchval(
                "SELECT checks >= 2 FROM provider_sends WHERE out_id = $1",
                out_id(delivery_id, 1),
            )
        )
        assert fake.sent_to(to) == []
        assert (await row_of(service, delivery_id))["status"] == "sending"


async def test_credentials_are_in_no_log_line_and_no_history(notify, providers, caplog):
    service, _, _ = notify
    caplog.set_level(logging.DEBUG)
    fake = providers.fakes[providers.primary]
    ok, stalled = mobile(), mobile()
    delivery_ok = await new_notice(service, ok)
    await wait_until(settled(service, delivery_ok, "delivered"))
    fake.knobs.stall_next = 1  # a timeout: the SDK's exception is logged
    delivery_stalled = await new_notice(service, stalled)
    await wait_until(settled(service, delivery_stalled, "delivered"), timeout=20)
    # An adapter with a wrong secret: the provider refuses its signature.
    await providers.stop(providers.primary)
    wrong = providers.adapter(
        providers.primary,
        **{
            "sms_aliyun_access_key_secret": "wrong-secret-aliyun-0000",
            "sms_tencent_secret_key": "wrong-secret-tencent-0000",
        },
    )
    await wrong.start()
    try:
        refused = await new_notice(service, mobile())
        await wait_until(lambda: fake.refused_signatures)
        await wait_until(
            lambda: history_has(service, refused, "SignatureDoesNotMatch", "SignatureFailure")
        )
    finally:
        await wrong.close()
        await providers.start(providers.primary)

    assert fake.seen_authorizations  # the key id was on the wire: this test can fail
    lines = [record.getMessage() + (record.exc_text or "") for record in caplog.records]
    if providers.primary == "tencent":  # its SDK logs each request, Authorization included
        assert any(r.name == "tencentcloud_sdk_common" for r in caplog.records)
    leaked = [line for line in lines for secret in SECRETS if secret in line]
    assert leaked == []
    texts = await service.pool.fetch(
        "SELECT detail AS text FROM delivery_events UNION ALL"
        " SELECT last_error FROM deliveries UNION ALL SELECT detail FROM provider_sends"
    )
    assert [t["text"] for t in texts if t["text"] and any(s in t["text"] for s in SECRETS)] == []


async def history_has(service, delivery_id, *words: str) -> bool:
    details = " ".join(d for _, d in await history(service, delivery_id))
    return any(word in details for word in words)

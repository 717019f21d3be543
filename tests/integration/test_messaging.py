"""The messaging layer against the real PostgreSQL and RabbitMQ."""

import asyncio
import logging
from datetime import timedelta
from urllib.parse import urlsplit

import aio_pika
import pytest

from shared.consumer import EventConsumer, Subscription
from shared.envelope import new_event
from shared.outbox import SendAtCommit, add_to_outbox
from shared.topology import Names
from tests.support.probes import drop_probe, start_probe, unique, wait_until
from tests.support.probes import publish_raw as publish_bytes
from tests.support.tcp_proxy import TcpProxy


class Effects:
    """A consumer whose effect is one row per handled event, in its own schema."""

    def __init__(self, fail_after_commit: int = 0, always_fail: bool = False) -> None:
        self.consumer = FlakyConsumer(unique("c"), fail_after_commit)
        self.attempts = 0
        self.always_fail = always_fail
        self.consumer.on("probe.happened")(self.record)

    async def record(self, conn, envelope, payload) -> None:
        self.attempts += 1
        await conn.execute("CREATE TABLE IF NOT EXISTS effects (event_id uuid, n int)")
        n = payload["n"] if isinstance(payload, dict) else payload.n
        await conn.execute("INSERT INTO effects VALUES ($1, $2)", envelope.id, n)
        if self.always_fail:
            raise RuntimeError("handler always fails")


class FlakyConsumer(EventConsumer):
    """Fails between commit and ack the first `times` deliveries: a crash before the ack."""

    def __init__(self, name: str, times: int) -> None:
        super().__init__(name)
        self.failures_left = times

    async def after_commit(self, envelope) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("lost the broker before the ack")


async def produce(service, count: int, start: int = 0) -> list:
    """Commit `count` state changes, each with its event, in one transaction apiece."""
    events = []
    async with service.pool.acquire() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS things (n int)")
        for n in range(start, start + count):
            async with conn.transaction():
                await conn.execute("INSERT INTO things VALUES ($1)", n)
                event = new_event("probe.happened", {"n": n}, producer=service.name)
                await add_to_outbox(conn, event)
            events.append(event)
    return events


async def effect_rows(consumer_service) -> list:
    async with consumer_service.pool.acquire() as conn:
        exists = await conn.fetchval("SELECT to_regclass('effects') IS NOT NULL")
        return await conn.fetch("SELECT event_id, n FROM effects ORDER BY n") if exists else []


@pytest.fixture
async def producer(settings):
    service = await start_probe(settings)
    yield service
    await drop_probe(service, settings)


async def consumer_for(settings, effects: Effects):
    return await start_probe(settings, events=effects.consumer)


async def test_an_event_committed_with_its_change_reaches_the_consumer_exactly_once(
    settings, producer
):
    effects = Effects()
    consumer = await consumer_for(settings, effects)
    try:
        sent = await produce(producer, 50)
        await wait_until(lambda: effects.consumer.handled == 50)
        await asyncio.sleep(0.5)  # room for any stray redelivery to show itself
        rows = await effect_rows(consumer)
        assert sorted(r["event_id"] for r in rows) == sorted(e.id for e in sent)
        assert effects.consumer.duplicates == 0
    finally:
        await drop_probe(consumer, settings)


async def test_events_that_keep_coming_share_a_round_and_one_after_a_lull_goes_at_once(
    settings, producer
):
    """The relay's round gap (shared/outbox.py): events committed within it of the last
    round's start go together in the next round; an event after a quiet spell is not held."""
    relay = producer.relay
    relay.round_gap, relay.poll_interval = 2.0, 30.0  # long enough to tell from a busy machine
    await produce(producer, 1)  # a first round, and then a lull longer than the gap
    await wait_until(lambda: relay.published == 1)
    await asyncio.sleep(2.2)
    rounds, started = relay.rounds, asyncio.get_running_loop().time()
    await produce(producer, 1, start=1)
    await wait_until(lambda: relay.published == 2)
    assert asyncio.get_running_loop().time() - started < 1.5  # neither the gap nor a poll
    assert relay.rounds == rounds + 1
    relay.round_gap = 0.05
    await produce(producer, 60, start=2)  # committed one after another, ~1 ms apart
    await wait_until(lambda: relay.published == 62)
    assert relay.rounds - rounds - 1 <= 20, relay.rounds - rounds - 1  # not one an event


async def commit_to_send(service, count: int, start: int = 0) -> SendAtCommit:
    """Commit `count` state changes with their events in one transaction, the events to be
    sent by the committing process itself (SendAtCommit); not sent yet."""
    batch = SendAtCommit()
    async with service.pool.acquire() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS things (n int)")
        async with conn.transaction():
            for n in range(start, start + count):
                await conn.execute("INSERT INTO things VALUES ($1)", n)
                event = new_event("probe.happened", {"n": n}, producer=service.name)
                await add_to_outbox(conn, event, at_commit=batch)
    return batch


async def unsent(service) -> int:
    return await service.pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")


async def each_arrived_once(consumer, effects: Effects, count: int) -> None:
    """Events 0 .. count-1 had their effect once each, and no later duplicate came."""
    await asyncio.sleep(0.5)
    assert sorted(r["n"] for r in await effect_rows(consumer)) == list(range(count))
    assert effects.consumer.duplicates == 0


async def all_stamped(service) -> bool:
    return await unsent(service) == 0


async def test_events_sent_at_commit_go_at_once_without_a_relay_round_and_are_stamped(
    settings, producer
):
    effects = Effects()
    consumer = await consumer_for(settings, effects)
    relay = producer.relay
    relay.poll_interval = 30.0  # no round but one woken by a NOTIFY, which these do not send
    await wait_until(lambda: relay._exchange is not None)
    try:
        rounds = relay.rounds
        batch = await commit_to_send(producer, 20)
        relay.send_committed(batch)
        # within 10 s: a round could take them only after the grace (5 s) and a poll (30 s)
        await wait_until(lambda: effects.consumer.handled == 20)
        await wait_until(lambda: relay.sent_at_commit == 20)
        await wait_until(lambda: all_stamped(producer))  # in one statement or a few
        assert relay.rounds == rounds  # no round of the relay's took them
        await each_arrived_once(consumer, effects, 20)
    finally:
        await drop_probe(consumer, settings)


async def test_events_committed_to_send_but_never_sent_go_with_the_relay_after_the_grace(
    settings, producer
):
    """The process that committed them died before it published (or the broker was away at
    that moment): the relay's rounds leave them for the grace, then send them, once."""
    effects = Effects()
    consumer = await consumer_for(settings, effects)
    relay = producer.relay
    relay.poll_interval, relay.direct_grace = 0.2, timedelta(seconds=1.5)
    try:
        await commit_to_send(producer, 5)  # and never handed to send_committed
        await asyncio.sleep(0.8)  # rounds run meanwhile: within the grace they leave them
        assert effects.consumer.handled == 0 and await unsent(producer) == 5
        await wait_until(lambda: effects.consumer.handled == 5, timeout=10)
        await wait_until(lambda: all_stamped(producer))
        await each_arrived_once(consumer, effects, 5)
        assert relay.sent_at_commit == 0
    finally:
        await drop_probe(consumer, settings)


async def test_events_sent_at_commit_while_the_broker_is_cut_all_arrive_once_it_is_back(
    settings, producer
):
    """The publish at commit fails with the broker away; the rows stay unsent, and the relay's
    rounds send them once the broker is back and their grace is over."""
    effects = Effects()
    consumer = await consumer_for(settings, effects)
    broker = urlsplit(settings.amqp_url)
    proxy = TcpProxy(broker.hostname, broker.port or 5672)
    await proxy.start()
    relay = producer.relay
    await relay.stop()
    relay.amqp_url = settings.amqp_url.replace(f":{broker.port or 5672}", f":{proxy.port}")
    relay.poll_interval, relay.direct_grace = 0.2, timedelta(seconds=1)
    await relay.start()
    try:
        await wait_until(lambda: relay._exchange is not None)
        relay.send_committed(await commit_to_send(producer, 5))
        await wait_until(lambda: effects.consumer.handled == 5)

        await proxy.cut()
        relay.send_committed(await commit_to_send(producer, 10, start=5))
        await asyncio.sleep(2.0)  # the publish failed; the rounds try and back off meanwhile
        assert await unsent(producer) == 10 and effects.consumer.handled == 5

        await proxy.start()
        await wait_until(lambda: effects.consumer.handled == 15, timeout=20)
        await wait_until(lambda: all_stamped(producer))
        await each_arrived_once(consumer, effects, 15)
        assert relay.sent_at_commit == 5
    finally:
        await proxy.cut()
        await drop_probe(consumer, settings)


async def test_an_event_of_a_rolled_back_change_is_never_sent(settings, producer):
    effects = Effects()
    consumer = await consumer_for(settings, effects)
    try:
        async with producer.pool.acquire() as conn:
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    await add_to_outbox(conn, new_event("probe.happened", {"n": -1}, "p"))
                    raise RuntimeError("the change fails")
        await produce(producer, 1, start=1)
        await wait_until(lambda: effects.consumer.handled == 1)
        assert [r["n"] for r in await effect_rows(consumer)] == [1]
    finally:
        await drop_probe(consumer, settings)


async def test_events_produced_while_the_broker_is_unreachable_all_arrive_once_it_is_back(
    settings, producer
):
    effects = Effects()
    consumer = await consumer_for(settings, effects)
    broker = urlsplit(settings.amqp_url)
    proxy = TcpProxy(broker.hostname, broker.port or 5672)
    await proxy.start()
    await producer.relay.stop()
    relay_url = settings.amqp_url.replace(f":{broker.port or 5672}", f":{proxy.port}")
    producer.relay.amqp_url = relay_url
    await producer.relay.start()
    try:
        await produce(producer, 10)
        await wait_until(lambda: effects.consumer.handled == 10)

        await proxy.cut()
        sent_during_outage = await produce(producer, 40, start=10)
        await asyncio.sleep(1.5)  # the relay tries, fails, and backs off meanwhile
        unsent = await producer.pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        assert unsent == 40
        assert effects.consumer.handled == 10

        await proxy.start()
        await wait_until(lambda: effects.consumer.handled == 50, timeout=20)
        await asyncio.sleep(0.5)
        rows = await effect_rows(consumer)
        assert [r["n"] for r in rows] == list(range(50))
        assert {e.id for e in sent_during_outage} <= {r["event_id"] for r in rows}
        assert effects.consumer.duplicates == 0
    finally:
        await proxy.cut()
        await drop_probe(consumer, settings)


async def test_a_consumer_failing_after_commit_is_redelivered_and_changes_nothing_again(
    settings, producer
):
    effects = Effects(fail_after_commit=1)
    consumer = await consumer_for(settings, effects)
    try:
        await produce(producer, 1)
        await wait_until(lambda: effects.consumer.duplicates == 1)
        assert effects.attempts == 1
        assert len(await effect_rows(consumer)) == 1
    finally:
        await drop_probe(consumer, settings)


async def dead_letters(settings, consumer_name: str, expected: int) -> list:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(Names(settings).dead_letter_queue(consumer_name))
        found = []

        async def collect():
            while (message := await queue.get(fail=False)) is not None:
                await message.ack()
                found.append(message)
            return len(found) >= expected

        await wait_until(collect)
        return found


async def test_a_message_that_always_fails_ends_in_the_dead_letter_queue(settings, producer):
    effects = Effects(always_fail=True)
    consumer = await consumer_for(settings, effects)
    try:
        [event] = await produce(producer, 1)
        [dead] = await dead_letters(settings, effects.consumer.name, 1)
        assert dead.message_id == str(event.id)
        # The retry delays bound the tries: the first delivery plus one after each delay.
        assert effects.attempts == len(settings.event_retry_delays) + 1
        assert "handler always fails" in dead.headers["x-last-error"]
        assert await effect_rows(consumer) == []  # every failed try was rolled back
    finally:
        await drop_probe(consumer, settings)


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"not json at all", "not an event envelope"),
        (b'{"id": "x", "type": "probe.happened"}', "not an event envelope"),
        (
            new_event("probe.happened", {"n": "not a number"}, "p").to_bytes(),
            "payload of probe.happened",
        ),
        (b'{"payload": ' + b"[" * 5000 + b"]" * 5000 + b"}", "not an event envelope"),
        (b"{" + b" " * (2 * 1024 * 1024) + b"}", "over the"),
        (b"\xff\xfe not utf-8", "not an event envelope"),
    ],
    ids=["not-json", "not-envelope", "payload", "too-deep", "too-large", "not-utf8"],
)
async def test_a_message_of_the_wrong_shape_is_dead_lettered_with_its_reason(
    settings, caplog, body, reason
):
    from pydantic import BaseModel

    class Happened(BaseModel):
        n: int

    effects = Effects()
    effects.consumer.subscriptions.clear()
    effects.consumer.on("probe.happened", Happened)(effects.record)
    consumer = await consumer_for(settings, effects)
    try:
        with caplog.at_level(logging.ERROR, logger="shared.consumer"):
            message_id = await publish_raw(settings, body)
            [dead] = await dead_letters(settings, effects.consumer.name, 1)
        # Dead-lettered at once (no retries), its reason on the message and in the log,
        # logged with the id from the message's properties when the body has none.
        assert reason in dead.headers["x-last-error"]
        assert "x-retries" not in dead.headers
        assert f"rejected message {message_id}: " in caplog.text
        assert effects.attempts == 0

        good = new_event("probe.happened", {"n": 7}, "p")
        await publish_raw(settings, good.to_bytes())
        await wait_until(lambda: effects.consumer.handled == 1)  # still consuming
    finally:
        await drop_probe(consumer, settings)


async def publish_raw(settings, body: bytes) -> str:
    return await publish_bytes(settings, body, "probe.happened")


async def test_a_dead_lettered_event_can_be_listed_and_replayed_once_fixed(settings, producer):
    from tools.dlq import list_dead_letters, replay

    effects = Effects(always_fail=True)
    consumer = await consumer_for(settings, effects)
    try:
        [event] = await produce(producer, 1)
        listed = await wait_until(lambda: list_dead_letters(settings, effects.consumer.name))
        assert [item["id"] for item in listed] == [str(event.id)]
        assert "RuntimeError: handler always fails" in listed[0]["reason"]

        effects.always_fail = False  # the operator deployed a fix
        assert await replay(settings, effects.consumer.name) == 1
        await wait_until(lambda: effects.consumer.handled == 1)
        assert [r["event_id"] for r in await effect_rows(consumer)] == [event.id]
        assert await list_dead_letters(settings, effects.consumer.name) == []
    finally:
        await drop_probe(consumer, settings)


async def test_a_replayed_message_that_fails_again_is_replayed_once_and_back_with_its_reason(
    settings, producer
):
    from tools.dlq import list_dead_letters, replay

    effects = Effects(always_fail=True)
    consumer = await consumer_for(settings, effects)
    try:
        [event] = await produce(producer, 1)
        await wait_until(lambda: list_dead_letters(settings, effects.consumer.name))
        tries = effects.attempts

        effects.consumer.subscriptions["probe.happened"] = Subscription(None, fails_otherwise)
        assert await replay(settings, effects.consumer.name) == 1  # once, then the replay stops
        [listed] = await wait_until(lambda: list_dead_letters(settings, effects.consumer.name))
        assert listed["id"] == str(event.id)
        assert "a new reason" in listed["reason"]
        assert effects.attempts == tries  # the old handler never saw it again
        assert await effect_rows(consumer) == []
    finally:
        await drop_probe(consumer, settings)


async def fails_otherwise(_conn, _envelope, _payload) -> None:
    raise LookupError("a new reason")


async def test_a_finished_runs_queues_and_exchanges_are_removed(settings):
    from services.notify.app import build_service
    from shared.topology import delete_prefix

    own = settings.model_copy(update={"broker_prefix": unique("cleanup")})
    service = build_service(own)
    await service.start()
    await service.stop()
    await delete_prefix(own)
    connection = await aio_pika.connect(own.amqp_url)
    async with connection:
        for queue in (
            Names(own).event_queue("notify"),
            Names(own).rpc_queue("notify"),
            own.name("sms", "provider"),
        ):
            channel = await connection.channel()
            with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
                await channel.get_queue(queue, ensure=True)


async def test_a_retired_event_type_is_unbound_and_what_was_still_queued_is_acked(settings):
    name = unique("c")

    async def ignore(conn, envelope, payload) -> None:
        pass

    before = EventConsumer(name)
    before.on("probe.happened")(ignore)
    before.on("probe.retired")(ignore)
    first = await start_probe(settings, events=before)
    await first.stop()  # as at a deployment: the queue and its bindings stay
    await publish_bytes(settings, new_event("probe.retired", {}, "p").to_bytes(), "probe.retired")

    handled = []

    async def record(conn, envelope, payload) -> None:
        handled.append(envelope.type)

    after = EventConsumer(name)
    after.on("probe.happened")(record)
    after.retire("probe.retired")
    second = await start_probe(settings, events=after)
    try:
        await wait_until(lambda: after.retired_acked == 1)  # queued before: acked, no effect
        await publish_bytes(
            settings, new_event("probe.retired", {}, "p").to_bytes(), "probe.retired"
        )
        await publish_bytes(
            settings, new_event("probe.happened", {}, "p").to_bytes(), "probe.happened"
        )
        await wait_until(lambda: handled == ["probe.happened"])
        await asyncio.sleep(0.2)
        assert after.retired_acked == 1  # the new one was not routed here at all
        assert await dead_letters_now(settings, name) == 0
    finally:
        await drop_probe(second, settings)
        await drop_schema(settings, first.schema)


async def dead_letters_now(settings, consumer_name: str) -> int:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(
            Names(settings).dead_letter_queue(consumer_name), passive=True
        )
        return queue.declaration_result.message_count


async def drop_schema(settings, schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def test_a_queue_made_with_another_delivery_limit_is_kept_and_the_operator_told(
    settings, caplog
):
    from shared.topology import declare_consumer_queues

    effects = Effects()
    older = settings.model_copy(update={"max_deliveries": 5})
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        await declare_consumer_queues(
            connection, Names(older), effects.consumer.name, ["probe.happened"]
        )
    with caplog.at_level(logging.WARNING, logger="shared.topology"):
        consumer = await consumer_for(settings.model_copy(update={"max_deliveries": 20}), effects)
    try:
        assert "exists with other arguments" in caplog.text
        await publish_raw(settings, new_event("probe.happened", {"n": 1}, "p").to_bytes())
        await wait_until(lambda: effects.consumer.handled == 1)
    finally:
        await drop_probe(consumer, settings)

"""Request/reply between the gateway's client and a service, over the real broker."""

import asyncio
import json
import logging
import random
import time

import aio_pika
import pytest
from pydantic import BaseModel

from shared.contracts.base import Method
from shared.rpc import (
    ATTACHED,
    DIRECT_REPLY_TO,
    Attached,
    RpcClient,
    RpcError,
    RpcRouter,
    ServiceUnavailable,
)
from shared.topology import Names
from tests.support.probes import drop_probe, start_probe, unique, wait_until
from tests.support.tcp_proxy import proxy_for, through


class Slow(BaseModel):
    seconds: float


def slow_router() -> RpcRouter:
    router = RpcRouter(unique("probe"))
    router.calls = 0

    @router.method("slow", Slow)
    async def slow(params: Slow, _context) -> dict:
        router.calls += 1
        await asyncio.sleep(params.seconds)
        return {"slept": params.seconds}

    @router.method("boom")
    async def boom(_params, _context) -> None:
        raise ValueError("a bug")

    @router.method("echo")
    async def echo(params: dict, _context) -> dict:
        router.calls += 1
        return params

    async def reverse(params: dict, context) -> Attached:
        router.calls += 1
        return Attached({"size": len(context.attachment), **params}, context.attachment[::-1])

    router.serve(reversing(router.service), reverse)

    @router.method("leak")
    async def leak(_params, _context) -> Attached:  # a file its contract does not name
        return Attached({}, b"secret")

    return router


def reversing(service: str) -> Method:
    """A method that takes a file and answers with another: the file's bytes reversed."""
    return Method(service, "reverse", None, None, "", takes_file=True, returns_file=True)


@pytest.fixture
async def client(settings):
    client = RpcClient(settings.amqp_url, Names(settings).rpc_queue, timeout=settings.rpc_timeout)
    await client.start()
    yield client
    await client.close()


@pytest.fixture
async def probe(settings):
    service = await start_probe(settings, rpc=slow_router())
    yield service
    await drop_probe(service, settings)


async def test_one_client_has_many_requests_in_flight_at_once(client, probe):
    calls = [client.call(probe.name, "slow", {"seconds": 0.5}, timeout=10) for _ in range(64)]
    answers = await asyncio.gather(*calls)
    assert answers == [{"slept": 0.5}] * 64
    # Seen from the service: the requests were handled side by side, not one after another.
    assert probe.rpc.peak_in_flight >= 32


async def test_an_unknown_method_and_bad_params_get_clear_errors(client, probe):
    with pytest.raises(RpcError) as unknown:
        await client.call(probe.name, "nope")
    assert unknown.value.status == 404
    with pytest.raises(RpcError) as invalid:
        await client.call(probe.name, "slow", {"seconds": "soon"})
    assert invalid.value.status == 422
    assert "seconds" in invalid.value.fields


async def test_every_string_of_every_request_goes_through_the_input_rule(client, probe):
    with pytest.raises(RpcError) as refused:
        await client.call(
            probe.name,
            "echo",
            {
                "case_id": "c\x00",
                "inputs": {"reason": "原" * 2001, "note": "ok"},
                "fields": {"name": "张\x1b三"},
                "entries": [{"title": "t"}, {"title": "\x85"}],
            },
        )
    assert refused.value.status == 422
    assert refused.value.fields == {
        "case_id": "不能包含控制字符",
        "reason": "不能超过 2000 个字",  # inputs.reason: named as the form names it
        "name": "不能包含控制字符",
        "entries.1.title": "不能包含控制字符",
    }
    assert probe.rpc.calls == 0  # the method never saw it

    sent = {
        "inputs": {"reason": "第一行\r\n第二行"},
        "school": "E\u0301cole",
        "password": "Pa\u0301ssw0rd",
        "count": 3,
    }
    seen = await client.call(probe.name, "echo", sent)
    assert seen["inputs"] == {"reason": "第一行\n第二行"}
    assert seen["school"] == "\u00c9cole"
    assert seen["password"] == sent["password"]  # a password is never changed
    assert seen["count"] == 3


async def test_a_failing_handler_answers_500_and_the_service_goes_on(client, probe):
    with pytest.raises(RpcError) as failed:
        await client.call(probe.name, "boom")
    assert failed.value.status == 500
    assert await client.call(probe.name, "slow", {"seconds": 0}) == {"slept": 0}


async def test_a_service_that_never_started_is_unavailable_at_once(client):
    with pytest.raises(ServiceUnavailable) as error:
        await client.call(unique("absent"), "ping", timeout=30)
    assert error.value.status == 503


async def test_a_stopped_service_is_unavailable_within_the_timeout_and_the_request_expires(
    settings, client
):
    router = slow_router()
    service = await start_probe(settings, rpc=router)
    try:
        assert (await client.call(service.name, "ping"))["service"] == service.name
        await service.pause()

        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            await client.call(service.name, "slow", {"seconds": 0}, timeout=0.5)
        assert time.monotonic() - started < 0.5 + 1.0

        await asyncio.sleep(0.2)
        await service.resume()
        assert (await client.call(service.name, "ping"))["service"] == service.name
        assert router.calls == 0  # the request its caller gave up on was never run
    finally:
        await drop_probe(service, settings)


async def test_a_busy_service_drops_the_requests_whose_callers_gave_up_unrun(settings, client):
    """Requests are consumed with automatic acknowledgement, to which RabbitMQ applies no
    prefetch: a busy process is handed every request at once and they wait inside it, not in
    the queue where they would expire. It takes up ZC_RPC_PREFETCH at a time; one that waited
    its caller's whole timeout for its turn is dropped, neither run nor answered. (Before,
    bench/load.py's crowd of 500 found the cases service working through requests whose pages
    had long answered 503, and none of its pages answered in time.)"""
    router = slow_router()
    router.one_at_a_time = asyncio.Lock()  # as a service whose database pool is all busy

    @router.method("busy", Slow)
    async def busy(params: Slow, _context) -> dict:
        async with router.one_at_a_time:
            router.calls += 1
            await asyncio.sleep(params.seconds)
        return {"slept": params.seconds}

    service = await start_probe(settings.model_copy(update={"rpc_prefetch": 2}), rpc=router)
    try:
        calls = [
            client.call(service.name, "busy", {"seconds": 0.2}, timeout=1.0) for _ in range(20)
        ]
        results = await asyncio.gather(*calls, return_exceptions=True)
        answered = [r for r in results if not isinstance(r, Exception)]
        assert all(isinstance(r, ServiceUnavailable) for r in results if r not in answered)
        assert 3 <= len(answered) <= 6  # one every 0.2 s within the second

        await wait_until(lambda: router.calls + service.rpc.expired == 20, timeout=8)
        assert service.rpc.peak_in_flight == 2
        # Only those whose turn came in time ran; a few finished for nobody: the two in hand
        # when the callers' second was up, and one or two more, as a request's time is counted
        # from its arrival, which the broker's delivery delays past its caller's start.
        assert len(answered) <= router.calls <= len(answered) + 4
        assert service.rpc.expired >= 10
    finally:
        await drop_probe(service, settings)


async def raw_request(settings, service: str, body: bytes, content_type=None) -> dict:
    """Send bytes as a request, as a broken or hostile client could, and read the reply."""
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        replies: asyncio.Queue = asyncio.Queue()
        reply_queue = await channel.get_queue(DIRECT_REPLY_TO, ensure=False)

        async def take(message) -> None:
            replies.put_nowait(message)

        await reply_queue.consume(take, no_ack=True)
        await channel.default_exchange.publish(
            aio_pika.Message(
                body, content_type=content_type, reply_to=DIRECT_REPLY_TO, message_id="raw-1"
            ),
            routing_key=Names(settings).rpc_queue(service),
        )
        reply = await asyncio.wait_for(replies.get(), 10)
        return json.loads(reply.body)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"method": "slow", "params": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"method": "slow", "params": {"x": "' + b"a" * (33 * 1024 * 1024) + b'"}}',
        b"\xff\xfe",
    ],
    ids=["not-json", "too-deep", "too-large", "not-utf8"],
)
async def test_an_unreadable_request_gets_an_error_reply_and_the_service_goes_on(
    settings, client, probe, caplog, body
):
    with caplog.at_level(logging.ERROR, logger="shared.rpc"):
        reply = await raw_request(settings, probe.name, body)
    assert reply["ok"] is False
    assert reply["error"]["status"] == 400
    assert "raw-1" in caplog.text  # logged with the id of the message's properties
    assert await client.call(probe.name, "slow", {"seconds": 0}) == {"slept": 0}


async def test_a_file_crosses_both_ways_as_its_bytes(client, probe):
    every_byte = bytes(range(256)) * 4 + b"\n{}\n"  # newlines and braces after the JSON too
    big = random.randbytes(5 * 1024 * 1024)
    method = reversing(probe.name)
    for content in (every_byte, big, b""):
        answer = await client.invoke(method, {"name": "张三"}, attachment=content)
        assert isinstance(answer, Attached)
        assert answer.value == {"size": len(content), "name": "张三"}
        assert answer.content == content[::-1]
    with pytest.raises(ValueError, match="takes a file"):  # the caller's own mistake
        await client.invoke(method, {})


async def test_a_file_where_none_belongs_or_none_where_one_does_is_refused(client, probe):
    with pytest.raises(RpcError) as refused:
        await client.call(probe.name, "echo", {"a": 1}, attachment=b"PK")
    assert refused.value.status == 400 and "不接收文件" in refused.value.message
    with pytest.raises(RpcError) as refused:
        await client.call(probe.name, "reverse", {})
    assert refused.value.status == 422 and refused.value.fields == {"file": "缺少文件内容"}
    with pytest.raises(RpcError) as broken:  # a handler answering a file off its contract
        await client.call(probe.name, "leak")
    assert broken.value.status == 500 and broken.value.code == "contract_broken"
    assert probe.rpc.calls == 0


async def test_an_attached_body_without_the_end_of_its_json_is_refused(settings, client, probe):
    body = b'{"method": "reverse", "params": {}}'  # no newline: where would the file start?
    reply = await raw_request(settings, probe.name, body, content_type=ATTACHED)
    assert reply["ok"] is False and reply["error"]["code"] == "bad_request"
    assert probe.rpc.calls == 0
    assert await client.call(probe.name, "slow", {"seconds": 0}) == {"slept": 0}


async def test_a_client_cut_from_the_broker_fails_fast_and_heals_by_itself(
    settings, probe, broker_proxy
):
    client = RpcClient(through(settings.amqp_url, broker_proxy, 5672), Names(settings).rpc_queue, 5)
    await client.start()
    try:
        waiting = asyncio.create_task(client.call(probe.name, "slow", {"seconds": 3}))
        await asyncio.sleep(0.3)
        await broker_proxy.cut()
        # The call waiting for its reply fails at once, not after its 5 s timeout ...
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            await waiting
        # ... and so does every call while the broker is away.
        for _ in range(5):
            with pytest.raises(ServiceUnavailable):
                await client.call(probe.name, "slow", {"seconds": 0})
        assert time.monotonic() - started < 2.5  # six calls in less than half of one timeout

        await broker_proxy.start()
        answer = await wait_until(lambda: _answers(client, probe.name), timeout=10)
        assert answer == {"slept": 0}
        assert client.reconnects == 1
    finally:
        await client.close()


async def test_a_slow_answer_past_the_silence_timeout_still_arrives(settings, probe):
    """Past silence_timeout the client only asks the broker whether it answers: a broker that
    does keeps the call waiting for its slow service, on the same connection."""
    client = RpcClient(settings.amqp_url, Names(settings).rpc_queue, 5, silence_timeout=0.2)
    await client.start()
    try:
        answers = await asyncio.gather(
            *(client.call(probe.name, "slow", {"seconds": 0.8}) for _ in range(3))
        )
        assert answers == [{"slept": 0.8}] * 3
        assert client.reconnects == 0 and client.connected
    finally:
        await client.close()


async def test_replies_still_coming_keep_a_busy_connection_whatever_the_probe_says(settings, probe):
    """A process too busy to read the probe's answer in time (a crowd on the gateway) is not a
    silent broker: while other calls' replies come on the connection, no call is failed and
    the connection is kept. (The probe is made to fail as it would then.)"""
    client = RpcClient(settings.amqp_url, Names(settings).rpc_queue, 5, silence_timeout=0.2)
    probed = []

    async def answered_too_late(_channel) -> bool:
        probed.append(time.monotonic())
        return False

    client._broker_answers = answered_too_late
    await client.start()
    try:
        slow = asyncio.create_task(client.call(probe.name, "slow", {"seconds": 0.8}))
        while not slow.done():  # others' quick calls: their replies keep coming
            assert await client.call(probe.name, "slow", {"seconds": 0}) == {"slept": 0}
            await asyncio.sleep(0.05)
        assert await slow == {"slept": 0.8}
        assert client.reconnects == 0 and client.connected and probed == []
    finally:
        await client.close()


async def test_a_client_whose_broker_went_silent_gives_up_on_it_and_heals(
    settings, probe, broker_proxy
):
    client = RpcClient(
        through(settings.amqp_url, broker_proxy, 5672),
        Names(settings).rpc_queue,
        5,
        silence_timeout=1,
    )
    await client.start()
    try:
        broker_proxy.blackhole()
        started = time.monotonic()
        for _ in range(5):
            with pytest.raises(ServiceUnavailable):
                await client.call(probe.name, "slow", {"seconds": 0})
        # The first call waits 1 s and its probe 1 s more, the rest fail at once: all
        # five in less than the one 5 s timeout a call would otherwise wait.
        assert time.monotonic() - started < 4.0
        broker_proxy.restore()
        answer = await wait_until(lambda: _answers(client, probe.name), timeout=10)
        assert answer == {"slept": 0}
    finally:
        await client.close()


async def _answers(client: RpcClient, service: str):
    try:
        return await client.call(service, "slow", {"seconds": 0}, timeout=1)
    except ServiceUnavailable:
        return None


async def test_a_service_whose_database_is_away_answers_503_and_recovers(settings, client):
    proxy = proxy_for(settings.database_url, 5432)
    await proxy.start()
    own = settings.model_copy(update={"database_url": through(settings.database_url, proxy, 5432)})
    router = RpcRouter(unique("probe"))

    @router.method("count")
    async def count(_params, context) -> int:
        return await context.pool.fetchval("SELECT count(*) FROM pg_class")

    service = await start_probe(own, rpc=router)
    try:
        assert await client.call(service.name, "count") > 0
        await proxy.cut()
        for method in ("count", "ping"):  # ping: readiness sees the database too
            with pytest.raises(RpcError) as away:
                await client.call(service.name, method)
            assert away.value.status == 503
            assert away.value.code == "database_unavailable"
            assert "请稍后再试" in away.value.message
        await proxy.start()
        assert await wait_until(lambda: _count(client, service.name), timeout=15) > 0
        assert (await client.call(service.name, "ping"))["service"] == service.name
    finally:
        await proxy.start()  # if the test failed while it was cut
        await drop_probe(service, own)
        await proxy.close()


async def _count(client: RpcClient, service: str):
    try:
        return await client.call(service, "count")
    except RpcError:
        return None


@pytest.mark.parametrize("low,high,opened", [(3, 4, 3), (6, 4, 4)])
async def test_a_service_opens_its_pool_minimum_at_start_within_its_maximum(
    settings, low, high, opened
):
    own = settings.model_copy(update={"db_pool_min": low, "db_pool_max": high})
    service = await start_probe(own)
    try:
        assert service.pool.get_size() == opened
        assert service.pool.get_max_size() == high
    finally:
        await drop_probe(service, settings)

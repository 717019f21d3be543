"""Request/reply between the gateway's client and a service, over the real broker."""

import asyncio
import time

import pytest
from pydantic import BaseModel

from shared.rpc import RpcClient, RpcError, RpcRouter, ServiceUnavailable
from shared.topology import Names
from tests.support.probes import drop_probe, start_probe, unique


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

    return router


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
        "content_base64": "QUJD" * 10_000,
        "count": 3,
    }
    seen = await client.call(probe.name, "echo", sent)
    assert seen["inputs"] == {"reason": "第一行\n第二行"}
    assert seen["school"] == "\u00c9cole"
    assert seen["password"] == sent["password"]  # a password is never changed
    assert seen["content_base64"] == sent["content_base64"] and seen["count"] == 3


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
        await service.broker.stop()

        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            await client.call(service.name, "slow", {"seconds": 0}, timeout=0.5)
        assert time.monotonic() - started < 0.5 + 1.0

        await asyncio.sleep(0.2)
        await service.broker.start()
        assert (await client.call(service.name, "ping"))["service"] == service.name
        assert router.calls == 0  # the request its caller gave up on was never run
    finally:
        await drop_probe(service, settings)

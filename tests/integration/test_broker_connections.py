"""Broker connections let go of end closed: one the broker dropped, one whose close the broker
never answered. An aio_pika connection only counts as closed once `close()` finished, and
one that is not is closed again by its `__del__`, through a coroutine that is dropped
unawaited when the garbage collector runs outside the event loop's thread (see
tests/unit/test_amqp_connections.py)."""

import gc

import aio_pika

from gateway.sessions import SessionCache, SessionListener
from shared import amqp
from shared.topology import Names
from tests.support.probes import wait_until
from tests.support.tcp_proxy import TcpProxy, through


def open_connections_through(proxy: TcpProxy) -> list[aio_pika.Connection]:
    return [
        o
        for o in gc.get_objects()
        if isinstance(o, aio_pika.Connection) and o.url.port == proxy.port and not o.is_closed
    ]


async def test_a_session_listener_closes_the_connection_the_broker_dropped(settings, broker_proxy):
    cache = SessionCache(seconds=60)
    listener = SessionListener(
        cache, through(settings.amqp_url, broker_proxy, 5672), Names(settings)
    )
    await listener.start()
    try:
        await wait_until(lambda: cache.listening, timeout=10)
        [dropped] = open_connections_through(broker_proxy)
        await broker_proxy.cut()
        await wait_until(lambda: not cache.listening, timeout=10)
        await broker_proxy.start()
        await wait_until(lambda: cache.listening and listener.resubscribed == 2, timeout=10)
        assert dropped.is_closed
        assert len(open_connections_through(broker_proxy)) == 1  # the new one only
    finally:
        await listener.close()
    assert open_connections_through(broker_proxy) == []


async def test_a_close_the_broker_never_answers_still_leaves_the_connection_closed(
    settings, broker_proxy
):
    connection = await amqp.connect(through(settings.amqp_url, broker_proxy, 5672), timeout=5)
    broker_proxy.blackhole()
    try:
        await amqp.close_quietly(connection, timeout=0.3)
        assert connection.is_closed
    finally:
        broker_proxy.restore()

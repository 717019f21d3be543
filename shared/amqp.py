"""Broker connections that end closed on every path, the failed and the lost ones included.

aio_pika marks a connection closed only in its `close()`: one whose `connect` failed (the
broker away or refusing) and one the broker dropped stay "open" objects until someone
closes them. Such an object's `__del__` makes a `close()` coroutine and hands it to the
running event loop; when the garbage collector runs in another thread (a process pool's
manager, an executor's worker) there is none, aio_pika swallows the RuntimeError, and the
coroutine is dropped unawaited: "coroutine 'Connection.close' was never awaited", raised
in whatever test happens to be running then (pyproject's filterwarnings = error).
So every connection is made here, closes itself when its connect fails, and is closed
here when it is let go.
"""

import asyncio

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractRobustConnection
from pamqp.commands import Basic


class _ClosedWhenConnectFails:
    async def connect(self, timeout=None) -> None:
        try:
            await super().connect(timeout)
        except BaseException:
            await self.close()  # no transport yet: it only marks the connection closed
            raise


class _Connection(_ClosedWhenConnectFails, aio_pika.Connection):
    pass


class _RobustConnection(_ClosedWhenConnectFails, aio_pika.RobustConnection):
    pass


async def connect(url: str, timeout: float) -> AbstractConnection:
    return await aio_pika.connect(url, timeout=timeout, connection_class=_Connection)


async def connect_robust(url: str, timeout: float) -> AbstractRobustConnection:
    return await aio_pika.connect_robust(url, timeout=timeout, connection_class=_RobustConnection)


async def close_quietly(connection: AbstractConnection, timeout: float = 1.0) -> None:
    """Close a connection that may be broken or silent, without waiting on it for long; it
    is marked closed even when the broker never answered."""
    try:
        await asyncio.wait_for(connection.close(), timeout)
    except Exception:  # already broken, or the broker does not answer: nothing to release
        pass
    if not connection.is_closed:
        # Cut short by the time limit or an error: aio_pika let go of the transport before
        # waiting on it, so closing again only marks the connection closed.
        await connection.close()


async def publish_unwaited(
    channel, body: bytes, routing_key: str, properties: Basic.Properties, mandatory: bool
) -> None:
    """Publish to the default exchange without waiting for the frames to reach the socket.

    aio_pika's publish waits, holding the channel's lock, until aiormq's writer has written
    the message: with 25 requests in flight, each publish queues behind the one before it
    and costs two more task switches. An RPC message needs no such wait: a connection lost
    before the write fails every call waiting on it (RpcClient), and a reply lost so is
    one its caller stops waiting for at its timeout. `properties.message_id` should be set:
    aiormq makes a random one per message otherwise."""
    underlay = await channel.get_underlay_channel()
    await underlay.basic_publish(
        body, routing_key=routing_key, properties=properties, mandatory=mandatory, wait=False
    )

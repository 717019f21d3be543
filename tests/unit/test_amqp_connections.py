"""A broker connection whose connect failed ends closed (shared/amqp.py).

aio_pika leaves it open, in a reference cycle; its `__del__` makes a `close()` coroutine
for the running event loop, and when the garbage collector runs in another thread (a
process pool's manager, say) there is none: "coroutine 'Connection.close' was never
awaited" then fails whatever test is running (once seen in test_documents.py's crashed
worker test, after an outbox had retried its connect while the broker was away).
"""

import gc
import logging
import re
import socket
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import aio_pika
import pytest
from aiormq.exceptions import AMQPConnectionError

from shared import amqp

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def refused_url():
    """An address where a connect is refused at once: the port is bound, nobody listens."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"amqp://guest:guest@127.0.0.1:{bound.getsockname()[1]}/"


def unawaited_after_collecting_in_another_thread() -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        collector = threading.Thread(target=gc.collect)
        collector.start()
        collector.join()
    return [str(w.message) for w in caught if "was never awaited" in str(w.message)]


def connections_to(url: str) -> list[aio_pika.Connection]:
    port = aio_pika.connection.make_url(url).port
    return [
        o for o in gc.get_objects() if isinstance(o, aio_pika.Connection) and o.url.port == port
    ]


@pytest.mark.parametrize("connect", [amqp.connect, amqp.connect_robust])
async def test_a_failed_connect_leaves_no_open_connection_behind(connect, caplog):
    # aiormq logs the failure with its traceback, which holds the connection for as long as
    # pytest keeps the test's records: not logged, it is garbage at once, as in a service.
    caplog.set_level(logging.CRITICAL, logger="aiormq")
    gc.collect()  # earlier garbage finalized here, in the event loop's thread
    with refused_url() as url:
        with pytest.raises(AMQPConnectionError):
            await connect(url, timeout=2)
        assert all(c.is_closed for c in connections_to(url))
    assert unawaited_after_collecting_in_another_thread() == []


def test_the_services_and_the_gateway_connect_through_shared_amqp():
    bare = re.compile(r"aio_pika\.connect(_robust)?\(")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for part in ("shared", "services", "gateway")
        for path in sorted((ROOT / part).rglob("*.py"))
        if path != ROOT / "shared" / "amqp.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if bare.search(line)
    ]
    assert found == []

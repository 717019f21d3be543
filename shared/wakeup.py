"""A background loop's alarm clock: woken by a PostgreSQL NOTIFY on one channel, by hand,
or by its poll interval running out, whichever comes first.

The outbox relay and the documents' print-job runner both sleep on one: the NOTIFY makes
them prompt, the poll makes them sure (a NOTIFY sent while the listener was reconnecting is
lost; the next poll finds the work anyway).

The listener is a connection of its own, outside the pool: it lives as long as the loop, and
when the database goes away it is simply found closed at the next `listen()` and opened anew.
"""

import asyncio
import logging

import asyncpg

from shared.db import CONNECT_TIMEOUT

log = logging.getLogger(__name__)


class Wakeup:
    def __init__(self, database_url: str, channel: str) -> None:
        self.database_url = database_url
        self.channel = channel
        self._event = asyncio.Event()
        self._listener: asyncpg.Connection | None = None

    async def listen(self) -> None:
        """Listen on a connection of its own, again if the last one was lost."""
        if self._listener is not None and not self._listener.is_closed():
            return
        await self.close()
        connection = await asyncpg.connect(self.database_url, timeout=CONNECT_TIMEOUT)
        try:
            await connection.add_listener(self.channel, self._on_notify)
        except BaseException:
            connection.terminate()
            raise
        # A lost listener wakes its loop, which then finds the connection closed and
        # (once the database is back) listens again and picks up what was missed.
        connection.add_termination_listener(self._on_lost)
        self._listener = connection

    def wake(self) -> None:
        self._event.set()

    async def sleep(self, timeout: float) -> None:
        """Until woken or `timeout` seconds have passed."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass
        self._event.clear()

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None or listener.is_closed():
            return
        listener.remove_termination_listener(self._on_lost)
        try:
            await asyncio.wait_for(listener.close(), 1.0)
        except Exception:  # the server does not answer: drop the socket
            listener.terminate()

    def _on_notify(self, *_args) -> None:
        self._event.set()

    def _on_lost(self, _connection) -> None:
        log.info("listener on %s lost", self.channel)
        self._event.set()

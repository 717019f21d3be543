"""A background loop's alarm clock: woken by a PostgreSQL NOTIFY on one channel, by hand,
or by its poll interval running out, whichever comes first.

The outbox relay and the documents' print-job runner both sleep on one: the NOTIFY makes
them prompt, the poll makes them sure (a NOTIFY sent while the listener was reconnecting is
lost; the next poll finds the work anyway).
"""

import asyncio

import asyncpg


class Wakeup:
    def __init__(self, pool: asyncpg.Pool, channel: str) -> None:
        self.pool = pool
        self.channel = channel
        self._event = asyncio.Event()
        self._listener: asyncpg.Connection | None = None

    async def listen(self) -> None:
        """Listen on a pooled connection of its own, again if the last one was lost."""
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listener = await self.pool.acquire()
        await self._listener.add_listener(self.channel, self._on_notify)

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
        if listener is None:
            return
        try:
            await listener.remove_listener(self.channel, self._on_notify)
        except Exception:  # the connection is already gone
            pass
        await self.pool.release(listener)

    def _on_notify(self, *_args) -> None:
        self._event.set()

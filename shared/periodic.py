"""A job a service runs every few minutes (sweeps): started and stopped with the service.

Every copy of a service runs it; a job must therefore be safe to run twice at once (the
sweeps only delete what has expired, so a second copy finds nothing left to do; the cases
service's deadline reminders insert under a key per case and day, so a second copy's insert
finds the first one's row: services/cases/reminders.py).
"""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, interval: float, job: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self.interval = interval
        self.job = job
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        # Copies started together spread out instead of sweeping in step.
        await asyncio.sleep(self.interval * random.uniform(0.1, 1.0))
        while True:
            try:
                await self.job()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database away: the next round tries again
                log.warning("%s failed: %r", self.name, error)
            await asyncio.sleep(self.interval)


def service_hooks(name: str, interval: float, job: Callable[[object], Awaitable[object]]):
    """The (on_start, on_stop) hooks that run `job(service)` every `interval` seconds."""
    running: list[Periodic] = []

    async def start(service) -> None:
        periodic = Periodic(name, interval, lambda: job(service))
        periodic.start()
        running.append(periodic)

    async def stop(_service) -> None:
        while running:
            await running.pop().stop()

    return start, stop

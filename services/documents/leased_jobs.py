"""What the print-job and the export-job runners share: claim a queued job (or one whose
lease ran out) from their table, run at most `jobs_at_once` at a time, keep each claimed job's
lease alive while it runs, and on a stop hand the jobs cut short to the next claimant at once.

A subclass names its table and kind, and says how it claims (`_claim`: the columns it needs)
and runs (`_run`, which calls `_done_with` when it ends) one job. Only the attempt that holds a
job writes to it (`_update_running`), so a copy that lost its lease changes nothing.
"""

import asyncio
import logging

import asyncpg

from shared.wakeup import Wakeup

log = logging.getLogger(__name__)


class LeasedJobRunner:
    table = ""  # print_jobs, export_jobs
    kind = ""  # in task names and log lines: print, export

    def __init__(self, pool: asyncpg.Pool, database_url: str, service: str, deps, settings,
                 channel: str) -> None:  # fmt: skip
        self.pool = pool
        self.service = service
        self.deps = deps
        self.settings = settings
        self.finished = 0
        self._wakeup = Wakeup(database_url, channel)
        self._slots = asyncio.Semaphore(settings.jobs_at_once)
        self._running: dict[asyncio.Task, asyncpg.Record] = {}  # each job being run
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"{self.kind}-jobs-{self.service}")

    async def stop(self) -> None:
        cut_short = list(self._running.values())
        tasks = [t for t in (self._task, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for job in cut_short:  # to the next claimant now, not when the lease runs out
            try:
                await self._update_running(job, "lease_until = now()")
            except Exception as error:  # the lease runs out anyway
                log.warning("%s job %s not handed back: %r", self.kind, job["id"], error)
        await self._wakeup.close()

    async def _loop(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                await self._wakeup.listen()
                job = await self._claim()
            except Exception as error:  # the database away: try again shortly
                self._slots.release()
                log.warning("%s jobs %s: %r", self.kind, self.service, error)
                await self._wakeup.close()
                await asyncio.sleep(self.settings.poll_seconds)
                continue
            if job is None:
                self._slots.release()
                await self._wakeup.sleep(self.settings.poll_seconds)
                continue
            task = asyncio.create_task(self._run(job))
            self._running[task] = job
            task.add_done_callback(self._running.pop)

    async def _claim(self) -> asyncpg.Record | None:
        raise NotImplementedError

    async def _run(self, job: asyncpg.Record) -> None:
        raise NotImplementedError

    def _done_with(self, renew: asyncio.Task) -> None:
        """A job ended (however): its lease no longer renewed, its slot free, the next one
        looked for now."""
        renew.cancel()
        self._slots.release()
        self._wakeup.wake()

    async def _update_running(self, job, assignments: str, *args) -> None:
        """Only the attempt that holds the job writes to it."""
        await self.pool.execute(
            f"UPDATE {self.table} SET {assignments}"
            " WHERE id = $1 AND attempts = $2 AND status = 'running'",
            job["id"],
            job["attempts"],
            *args,
        )

    async def _renew_lease(self, job) -> None:
        while True:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            try:
                await self._update_running(
                    job,
                    "lease_until = now() + make_interval(secs => $3)",
                    self.settings.lease_seconds,
                )
            except (OSError, asyncpg.PostgresError) as error:  # try again at the next beat
                log.warning("%s job %s: lease not renewed: %r", self.kind, job["id"], error)

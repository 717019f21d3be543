"""Excel exports in the background: claim a job, have its list's owner build the file, finish.

Every documents process runs an `ExportJobRunner`, as it runs the print jobs' runner: it
wakes on the NOTIFY that `exports.start` sends (and polls), claims a queued job or one whose
lease ran out with FOR UPDATE SKIP LOCKED, and renews the lease while the owner builds. The
owner (cases, accounts, notify) reads the list in one snapshot, reports the rows written and
sends the file here in parts tagged with the attempt; the job is finished by the attempt that
claimed it, only when every part it announced is stored, and writes the `export` audit row.
Finished files are deleted after `keep_hours`: they hold personal data.
"""

import asyncio
import logging
import re
import uuid

import asyncpg
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.documents.handlers.exports import notify_channel
from services.documents.leased_jobs import LeasedJobRunner
from shared import correlation
from shared.audit import Entry, record
from shared.contracts.export_lists import PERSONAL_FILTERS
from shared.contracts.exports import owner_methods
from shared.masks import mask_id_number, mask_mobile
from shared.rpc import Actor, RpcError

log = logging.getLogger(__name__)


class ExportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_EXPORT_", extra="ignore")

    jobs_at_once: int = 2  # exports one documents process waits on side by side
    lease_seconds: float = 60.0  # a job not renewed for this long is taken over
    max_attempts: int = 3  # claims of one job before it is failed
    poll_seconds: float = 2.0  # look for jobs this often even without a NOTIFY
    retry_seconds: float = 5.0  # wait before another try after a service was unavailable
    build_seconds: float = 600.0  # the owner's whole build of one file (a million rows fit)
    # an owner not heard from for this long while it builds (no progress report, no part)
    # is taken for gone, killed mid-build: the job is tried again (it beats every
    # EXPORT_HEARTBEAT_SECONDS)
    silence_seconds: float = 30.0
    keep_hours: float = 24.0  # a finished file is deleted after this; the job says 已过期


class ExportJobRunner(LeasedJobRunner):
    table = "export_jobs"
    kind = "export"

    def __init__(
        self, pool: asyncpg.Pool, database_url: str, service: str, deps, settings: ExportSettings
    ) -> None:
        super().__init__(pool, database_url, service, deps, settings, notify_channel(service))

    async def _claim(self) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            "UPDATE export_jobs SET status = 'running', attempts = attempts + 1, done = 0,"
            " heard_at = now(),"
            " lease_until = now() + make_interval(secs => $1),"
            " started_at = coalesce(started_at, now())"
            " WHERE id = (SELECT id FROM export_jobs"
            "   WHERE status = 'queued' OR (status = 'running' AND lease_until < now())"
            "   ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)"
            " RETURNING id, list, owner, filters, title, actor, attempts, request_id",
            self.settings.lease_seconds,
        )

    async def _run(self, job: asyncpg.Record) -> None:
        correlation.request_id.set(job["request_id"] or str(job["id"]))
        renew = asyncio.create_task(self._renew_lease(job))
        try:
            if job["attempts"] > self.settings.max_attempts:
                raise RpcError("failed", "多次尝试仍未能生成，请重新导出；如仍失败请联系技术支持")
            await self._execute(job)
        except RpcError as error:
            if error.status < 500:
                await self._fail(job, error.message)
            else:  # the owner was away or took too long: another try after a pause
                log.warning("export job %s: %s; retrying", job["id"], error.message)
                await self._retry_later(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("export job %s failed; it will be tried again", job["id"])
            await self._retry_later(job)
        finally:
            self._done_with(renew)

    async def _execute(self, job: asyncpg.Record) -> None:
        actor = Actor.model_validate(job["actor"])
        await self.pool.execute(  # what an earlier attempt left
            "DELETE FROM export_parts WHERE job_id = $1 AND attempt <> $2",
            job["id"],
            job["attempts"],
        )
        _, build = owner_methods(job["owner"])
        params = {
            "job_id": job["id"],
            "attempt": job["attempts"],
            "list": job["list"],
            "filters": job["filters"],
        }
        building = asyncio.ensure_future(
            self.deps.peers.invoke(build, params, actor, self.settings.build_seconds)
        )
        try:
            await self._while_heard(job, building)
        finally:
            building.cancel()
        await self._finish(job, actor, building.result())

    async def _while_heard(self, job, building: asyncio.Future) -> None:
        """Wait for the build while its owner is heard from: an owner killed mid-build never
        answers, and its caller would otherwise wait out the whole build's time."""
        look = min(self.settings.silence_seconds / 3, 5.0)
        while not (await asyncio.wait({building}, timeout=look))[0]:
            try:
                silent = await self.pool.fetchval(
                    "SELECT extract(epoch FROM now() - heard_at)::float8 FROM export_jobs"
                    " WHERE id = $1 AND attempts = $2",
                    job["id"],
                    job["attempts"],
                )
            except (OSError, asyncpg.PostgresError) as error:  # look again at the next beat
                log.warning("export job %s: owner's last word not read: %r", job["id"], error)
                continue
            if silent is not None and silent > self.settings.silence_seconds:
                raise RpcError(
                    "owner_silent", f"{job['owner']} not heard from for {silent:.0f}s", 503
                )

    async def _finish(self, job, actor: Actor, built: dict) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            stored = await conn.fetchval(
                "SELECT count(*) FROM export_parts WHERE job_id = $1 AND attempt = $2",
                job["id"],
                job["attempts"],
            )
            if stored != built["parts"]:
                raise RuntimeError(f"{stored} parts stored of {built['parts']}")
            finished = await conn.fetchval(
                "UPDATE export_jobs SET status = 'done', done = $3, total = $3, parts = $4,"
                " size_bytes = $5, sha256 = $6, full_fields = $7, lease_until = NULL,"
                " finished_at = now(), error = NULL"
                " WHERE id = $1 AND attempts = $2 AND status = 'running' RETURNING 1",
                job["id"],
                job["attempts"],
                built["rows"],
                built["parts"],
                built["size_bytes"],
                built["sha256"],
                built["full_fields"],
            )
            if finished:
                await record(conn, actor, export_entry(job, built))
        self.finished += 1

    async def _fail(self, job, message: str) -> None:
        log.info("export job %s failed: %s", job["id"], message)
        await self._update_running(
            job, "status = 'failed', error = $3, lease_until = NULL, finished_at = now()", message
        )

    async def _retry_later(self, job) -> None:
        delay = self.settings.retry_seconds * job["attempts"]
        await self._update_running(job, "lease_until = now() + make_interval(secs => $3)", delay)


def export_entry(job, built: dict) -> Entry:
    """Who exported which list with which filters, how many rows, which numbers in full."""
    details = {
        "list": job["list"],
        "filters": shown_filters(job["list"], job["filters"]),
        "rows": built["rows"],
        "full_fields": built["full_fields"],
    }
    return Entry("export", "export", job["id"], job["title"], details=details)


def shown_filters(key: str, filters: dict) -> dict:
    """The filters given (not the defaults' blanks and unticked boxes), a number searched for
    masked: the trail keeps no personal numbers."""
    personal = PERSONAL_FILTERS.get(key, ())
    return {
        name: masked_search(value) if name in personal else value
        for name, value in filters.items()
        if value not in ("", None) and value is not False
    }


ID_NUMBER = re.compile(r"\d{15}|\d{17}[\dXx]")
MOBILE = re.compile(r"1\d{10}")


def masked_search(text: str) -> str:
    """A search box's text as the trail keeps it: an ID number or a mobile masked, a name (or
    an id, a username, a case number) as typed."""
    if ID_NUMBER.fullmatch(text.strip()):
        return mask_id_number(text.strip())
    return mask_mobile(text.strip()) if MOBILE.fullmatch(text.strip()) else text


async def purge_expired(pool: asyncpg.Pool, keep_hours: float) -> int:
    """Delete the files of exports finished more than `keep_hours` ago; the job stays, 已过期."""
    async with pool.acquire() as conn, conn.transaction():
        expired = await conn.fetch(
            "UPDATE export_jobs SET status = 'expired'"
            " WHERE status = 'done' AND finished_at < now() - make_interval(secs => $1)"
            " RETURNING id",
            keep_hours * 3600,
        )
        ids: list[uuid.UUID] = [r["id"] for r in expired]
        await conn.execute(
            "DELETE FROM export_parts p USING export_jobs j"
            " WHERE p.job_id = j.id AND (j.id = ANY($1::uuid[]) OR j.status = 'failed')",
            ids,
        )
    return len(ids)

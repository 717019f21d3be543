"""Print jobs in the background: claim, gather the cases, render with progress, finish.

Every documents process runs a `PrintJobRunner`. It wakes on the NOTIFY that
`documents.print` sends (and polls, in case a wake-up was missed), claims a queued job or one
whose lease ran out with FOR UPDATE SKIP LOCKED, and renews the lease while it works. A job
finishes once: the last update names the attempt that claimed it, so a run that lost its
lease (a stalled process) cannot finish the job a second time or send its event twice.
"""

import asyncio
import logging
import uuid
from datetime import UTC, datetime

import asyncpg
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.documents.handlers.print_jobs import notify_channel, print_entry
from services.documents.handlers.printing import print_snapshots
from services.documents.leased_jobs import LeasedJobRunner
from services.documents.metrics import PRINT_JOBS_FINISHED
from services.documents.render import from_cases
from services.documents.render.pool import RenderFailed
from services.documents.render.snapshots import KINDS, case_ids
from shared import correlation
from shared.audit import Entry, record
from shared.contracts.accounts.rpc import UNITS_NAMES
from shared.contracts.cases.rpc import CASE_GET_MANY
from shared.contracts.documents.events import (
    DECLARATION_FORM_PRINTED,
    DeclarationFormPrinted,
    PrintedBy,
)
from shared.envelope import new_event
from shared.metrics import count
from shared.outbox import add_to_outbox
from shared.processes import identity
from shared.rpc import Actor, CallContext, RpcError

log = logging.getLogger(__name__)

CASES_PER_CALL = 200  # case.get_many answers carry the whole case: keep each reply modest


class JobSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_PRINT_", extra="ignore")

    jobs_at_once: int = 2  # jobs one process runs side by side (they share its render pool)
    lease_seconds: float = 60.0  # a job not renewed for this long is taken over
    max_attempts: int = 3  # claims of one job before it is failed
    poll_seconds: float = 2.0  # look for jobs this often even without a NOTIFY
    retry_seconds: float = 5.0  # wait before another try after a service was unavailable


class JobFailed(Exception):
    """A job that cannot succeed: the message is for the person who asked for it."""

    def __init__(self, message: str, skipped: list[dict] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.skipped = skipped or []


class PrintJobRunner(LeasedJobRunner):
    table = "print_jobs"
    kind = "print"

    def __init__(
        self, pool: asyncpg.Pool, database_url: str, service: str, deps, settings: JobSettings
    ) -> None:
        super().__init__(pool, database_url, service, deps, settings, notify_channel(service))

    # --- claiming ---

    async def _claim(self) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            "UPDATE print_jobs SET status = 'running', attempts = attempts + 1,"
            " lease_until = now() + make_interval(secs => $1),"
            " started_at = coalesce(started_at, now()), claimed_by = $2"
            " WHERE id = (SELECT id FROM print_jobs"
            "   WHERE status = 'queued' OR (status = 'running' AND lease_until < now())"
            "   ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)"
            " RETURNING id, kind, case_ids, actor, attempts, request_id",
            self.settings.lease_seconds,
            identity(),
        )

    # --- running one job ---

    async def _run(self, job: asyncpg.Record) -> None:
        # the request that asked for it: on the log lines, the event and the audit row
        correlation.request_id.set(job["request_id"] or str(job["id"]))
        correlation.actor.set(job["actor"].get("user_id"))  # who asked for it
        renew = asyncio.create_task(self._renew_lease(job))
        try:
            if job["attempts"] > self.settings.max_attempts:
                raise JobFailed("多次尝试仍未能生成，请重新打印；如仍失败请联系技术支持")
            await self._execute(job)
        except JobFailed as failure:
            await self._fail(job, failure)
        except RenderFailed as error:
            await self._fail(job, JobFailed(error.message))
        except RpcError as error:
            if error.status < 500:
                await self._fail(job, JobFailed(error.message))
            else:  # a service was away: another try after a pause
                log.warning("print job %s: %s; retrying", job["id"], error.message)
                await self._retry_later(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("print job %s failed; it will be tried again", job["id"])
            await self._retry_later(job)
        finally:
            self._done_with(renew)

    async def _execute(self, job: asyncpg.Record) -> None:
        actor = Actor.model_validate(job["actor"])
        kind = KINDS[job["kind"]]
        cases, missing = await self._cases(job["case_ids"], actor)
        names = await self._unit_names(cases, actor)
        selection = from_cases.select(kind.key, cases, names)
        selection.skipped += [
            {"case_id": c, "name": "", "reason": "申报业务不存在或无权查看"} for c in missing
        ]
        if not selection.snapshots:
            raise JobFailed(_nothing_to_print(kind.title, selection.skipped), selection.skipped)
        await self._set_total(job, len(selection.snapshots))
        ctx = CallContext(self.service, self.pool, actor, None, self.deps)
        document = await print_snapshots(
            ctx, kind, selection.snapshots, on_part=lambda: self._count_part(job)
        )
        await self._finish(job, actor, document, selection)

    async def _cases(self, case_ids: list[uuid.UUID], actor: Actor) -> tuple[list, list]:
        chunks = [case_ids[i : i + CASES_PER_CALL] for i in range(0, len(case_ids), CASES_PER_CALL)]
        answers = await asyncio.gather(
            *(
                self.deps.peers.invoke(CASE_GET_MANY, {"case_ids": chunk, "for_print": True}, actor)
                for chunk in chunks
            )
        )
        cases = [c for a in answers for c in a["cases"]]
        missing = [m for a in answers for m in a["missing"]]
        return cases, missing

    async def _unit_names(self, cases: list[dict], actor: Actor) -> dict[str, str]:
        unit_ids = sorted({c["unit_id"] for c in cases})
        if not unit_ids:
            return {}
        answer = await self.deps.peers.invoke(UNITS_NAMES, {"unit_ids": unit_ids}, actor)
        return answer["names"]

    async def _set_total(self, job, total: int) -> None:
        await self._update_running(job, "total = $3, done = 0", total)

    async def _count_part(self, job) -> None:
        await self._update_running(job, "done = least(done + 1, total)")

    async def _finish(self, job, actor: Actor, document: dict, selection) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            finished = await conn.fetchval(
                "UPDATE print_jobs SET status = 'done', document_id = $3, skipped = $4,"
                " done = total, lease_until = NULL, finished_at = now(), error = NULL"
                " WHERE id = $1 AND attempts = $2 AND status = 'running' RETURNING 1",
                job["id"],
                job["attempts"],
                uuid.UUID(document["document_id"]),
                selection.skipped,
            )
            if finished and job["kind"] == "declaration_form":
                await add_to_outbox(conn, _printed_event(job, actor, document, selection))
            if finished:
                await record(conn, actor, _done_entry(job, document, selection))
        self.finished += 1
        if finished:
            count(PRINT_JOBS_FINISHED, "done")

    async def _fail(self, job, failure: JobFailed) -> None:
        log.info("print job %s failed: %s", job["id"], failure.message)
        await self._update_running(
            job,
            "status = 'failed', error = $3, skipped = $4, lease_until = NULL, finished_at = now()",
            failure.message,
            failure.skipped,
        )
        count(PRINT_JOBS_FINISHED, "failed")

    async def _retry_later(self, job) -> None:
        """Let the lease run out soon, so this or another process tries again."""
        delay = self.settings.retry_seconds * job["attempts"]
        await self._update_running(job, "lease_until = now() + make_interval(secs => $3)", delay)


def _printed_event(job, actor: Actor, document: dict, selection):
    """The cases service moves each printed case still 待打印评审(申报)表 on to the department."""
    printed = DeclarationFormPrinted(
        document_id=document["document_id"],
        case_ids=[s.case.case_id for s in selection.snapshots],
        actor=PrintedBy.model_validate(actor.model_dump()),
        printed_at=datetime.now(UTC),
    )
    return new_event(DECLARATION_FORM_PRINTED.type, printed, "documents")


def _done_entry(job, document: dict, selection) -> Entry:
    """The print's audit row: the cases actually printed (the skipped ones were not)."""
    printed = [c for s in selection.snapshots for c in case_ids(s)]
    document_id = document["document_id"]
    return print_entry("print.done", job["id"], job["kind"], printed, document_id=document_id)


def _nothing_to_print(title: str, skipped: list[dict]) -> str:
    reasons = list(dict.fromkeys(s["reason"] for s in skipped))
    return f"所选人员都还没有{title}：" + "；".join(reasons[:3])

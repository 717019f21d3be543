"""Print jobs: `documents.print` queues a selection to print as one PDF, `documents.job`
shows how far it got. The job itself runs in the background (services/documents/jobs.py)."""

import json
import uuid
from datetime import UTC, datetime

from services.documents.render.snapshots import KINDS
from shared.audit import Entry, record
from shared.contracts.documents.rpc import MAX_PRINT_CASES, JobRef, PrintRequest
from shared.rpc import CallContext, RpcError

MAX_ROSTER_CASES = MAX_PRINT_CASES  # people on the rosters of one job
MAX_FORMS = 500  # one-case documents in one job (200 forms take about 25 s on two cores)
NOTIFY_CHANNEL = "print_jobs"
STATUS_LABELS = {
    "queued": "排队等候",
    "running": "正在生成",
    "done": "已生成",
    "failed": "未能生成",
}


JOB_COLUMNS = (
    "j.id, j.kind, j.case_ids, j.status, j.total, j.done, j.document_id, j.skipped, j.error,"
    " j.created_at, j.finished_at, d.pages, d.size_bytes, d.title AS document_title"
)


async def start_print(params: PrintRequest, ctx: CallContext) -> dict:
    if ctx.actor.user_id is None:
        raise RpcError("unauthorized", "请先登录", 401)
    case_ids = list(dict.fromkeys(params.case_ids))  # in the order given, each once
    limit = MAX_ROSTER_CASES if KINDS[params.kind].roster else MAX_FORMS
    if len(case_ids) > limit:
        message = f"一次最多打印 {limit} 人，请分批打印"
        raise RpcError("invalid_input", message, 422, {"case_ids": message})
    job_id = uuid.uuid4()
    async with ctx.pool.acquire() as conn:
        now = datetime.now(UTC)
        await ctx.deps.rate_limits.hit(conn, "print_job", str(ctx.actor.user_id), now)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO print_jobs (id, kind, case_ids, actor, created_by, total, request_id)"
            " VALUES ($1, $2, $3, $4, $5, 0, $6)",
            job_id,
            params.kind,
            case_ids,
            json.loads(ctx.actor.model_dump_json()),
            ctx.actor.user_id,
            ctx.request_id,
        )
        await conn.execute("SELECT pg_notify($1, $2)", notify_channel(ctx.service), str(job_id))
        await record(conn, ctx.actor, print_entry("print.request", job_id, params.kind, case_ids))
    return await _job(ctx, job_id)


def print_entry(action: str, job_id, kind: str, case_ids, **details) -> Entry:
    """A print job asked for, or done (its cases: those actually printed)."""
    details = {"kind": kind, "cases": len(case_ids), **details}
    return Entry(action, "print_job", job_id, KINDS[kind].title, case_ids, details=details)


async def get_job(params: JobRef, ctx: CallContext) -> dict:
    return await _job(ctx, params.job_id)


async def _job(ctx: CallContext, job_id: uuid.UUID) -> dict:
    row = await ctx.pool.fetchrow(
        f"SELECT {JOB_COLUMNS} FROM print_jobs j"
        " LEFT JOIN rendered_documents d ON d.id = j.document_id"
        " WHERE j.id = $1 AND j.created_by = $2",
        job_id,
        ctx.actor.user_id,
    )
    if row is None:  # someone else's job is not theirs to watch
        raise RpcError("not_found", "打印任务不存在", 404)
    return job_view(row)


def job_view(row) -> dict:
    kind = KINDS[row["kind"]]
    return {
        "job_id": str(row["id"]),
        "kind": kind.key,
        "title": kind.title,
        "status": row["status"],
        "status_label": STATUS_LABELS[row["status"]],
        "cases": len(row["case_ids"]),
        "total": row["total"],
        "done": row["done"],
        "document_id": str(row["document_id"]) if row["document_id"] else None,
        "document_title": row["document_title"],
        "pages": row["pages"],
        "size_bytes": row["size_bytes"],
        "skipped": row["skipped"],
        "error": row["error"],
        "created_at": row["created_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
    }


def notify_channel(service: str) -> str:
    return f"{service}.{NOTIFY_CHANNEL}"

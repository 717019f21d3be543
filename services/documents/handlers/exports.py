"""Excel exports (导出Excel): `exports.start` asks the list's owner how many rows the caller
would get (which refuses a list they may not see or a filter it does not take), then queues
the job; `exports.job` shows how far it got; `exports.read` gives the finished file a part at
a time, to whoever asked for it. The owner building the file reports with `exports.progress`
and sends it with `exports.part`. The job runs in the background (services/documents/exports.py).
"""

import json
import uuid
from datetime import UTC, datetime

from pydantic import ValidationError

from shared.clock import SHENZHEN
from shared.contracts.export_lists import EXPORT_LISTS, UnknownFilters, filters_of
from shared.contracts.exports import (
    MAX_EXPORT_ROWS,
    PART_BYTES,
    ExportFilePart,
    ExportPartRef,
    ExportProgress,
    ExportRef,
    StartExport,
    owner_methods,
)
from shared.exports import too_many
from shared.rpc import Attached, CallContext, RpcError, invalid_input
from shared.spreadsheet import XLSX

NOTIFY_CHANNEL = "export_jobs"
STATUS_LABELS = {
    "queued": "排队等候",
    "running": "正在生成",
    "done": "已生成",
    "failed": "未能生成",
    "expired": "已过期",
}
JOB_COLUMNS = (
    "id, list, title, status, total, done, size_bytes, error, created_at, finished_at, filters"
)


def notify_channel(service: str) -> str:
    return f"{service}.{NOTIFY_CHANNEL}"


def checked_filters(key: str, given: dict) -> dict:
    try:
        return filters_of(key, given)
    except KeyError:
        raise RpcError("not_found", "没有这个可导出的列表", 404) from None
    except UnknownFilters as unknown:
        raise RpcError("invalid_input", "查询条件有误", 422, unknown.fields) from None
    except ValidationError as error:
        raise invalid_input(error) from None


async def start(params: StartExport, ctx: CallContext) -> dict:
    if ctx.actor.user_id is None:
        raise RpcError("unauthorized", "请先登录", 401)
    filters = checked_filters(params.list, params.filters)
    export = EXPORT_LISTS[params.list]
    count, _ = owner_methods(export.owner)
    asked = {"list": params.list, "filters": filters}
    counted = await ctx.deps.peers.invoke(count, asked, ctx.actor)
    if counted["rows"] > MAX_EXPORT_ROWS:
        raise too_many(counted["rows"], MAX_EXPORT_ROWS)
    async with ctx.pool.acquire() as conn:
        now = datetime.now(UTC)
        await ctx.deps.rate_limits.hit(conn, "export_job", str(ctx.actor.user_id), now)
    job_id = uuid.uuid4()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO export_jobs (id, list, owner, filters, title, actor, created_by,"
            " request_id, total) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            job_id,
            params.list,
            export.owner,
            filters,
            counted["title"],
            json.loads(ctx.actor.model_dump_json()),
            ctx.actor.user_id,
            ctx.request_id,
            counted["rows"],
        )
        await conn.execute("SELECT pg_notify($1, $2)", notify_channel(ctx.service), str(job_id))
    return await _job(ctx, job_id)


async def get_job(params: ExportRef, ctx: CallContext) -> dict:
    return await _job(ctx, params.job_id)


async def _job(ctx: CallContext, job_id: uuid.UUID) -> dict:
    row = await ctx.pool.fetchrow(
        f"SELECT {JOB_COLUMNS} FROM export_jobs WHERE id = $1 AND created_by = $2",
        job_id,
        ctx.actor.user_id,
    )
    if row is None:  # someone else's export is not theirs to see
        raise RpcError("not_found", "导出任务不存在", 404)
    return job_view(row)


def job_view(row) -> dict:
    return {
        "job_id": str(row["id"]),
        "list": row["list"],
        "title": row["title"],
        "status": row["status"],
        "status_label": STATUS_LABELS[row["status"]],
        "total": row["total"],
        "done": row["done"],
        "filename": filename(row["title"], row["created_at"]),
        "size_bytes": row["size_bytes"],
        "error": row["error"],
        "created_at": row["created_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
    }


def filename(title: str, created_at: datetime) -> str:
    stamp = created_at.astimezone(SHENZHEN).strftime("%Y%m%d-%H%M")
    safe = "".join(ch for ch in title if ch not in '\\/:*?"<>|')
    return f"{safe}-{stamp}.xlsx"


async def read(params: ExportPartRef, ctx: CallContext) -> dict:
    row = await ctx.pool.fetchrow(
        "SELECT j.title, j.created_at, j.parts, j.size_bytes, p.content"
        " FROM export_jobs j JOIN export_parts p ON p.job_id = j.id AND p.attempt = j.attempts"
        " WHERE j.id = $1 AND j.created_by = $2 AND j.status = 'done' AND p.seq = $3",
        params.job_id,
        ctx.actor.user_id,
        params.part,
    )
    if row is None:
        raise RpcError("not_found", "导出文件不存在或已过期，请重新导出", 404)
    view = {
        "filename": filename(row["title"], row["created_at"]),
        "content_type": XLSX,
        "size_bytes": row["size_bytes"],
        "parts": row["parts"],
    }
    return Attached(view, row["content"])


# --- from the owner building the file ---

STALE = RpcError("stale_attempt", "导出任务已由另一次尝试接手", 409)


async def progress(params: ExportProgress, ctx: CallContext) -> dict:
    updated = await ctx.pool.fetchval(
        "UPDATE export_jobs SET done = least($3, total), heard_at = now()"
        " WHERE id = $1 AND attempts = $2 AND status = 'running' RETURNING 1",
        params.job_id,
        params.attempt,
        params.rows,
    )
    if not updated:
        raise STALE
    return {"ok": True}


async def part(params: ExportFilePart, ctx: CallContext) -> dict:
    content = ctx.attachment
    if not content or len(content) > PART_BYTES:
        why = f"一部分应为 1 至 {PART_BYTES} 字节，收到 {len(content or b'')} 字节"
        raise RpcError("invalid_input", "文件内容无效", 422, {"file": why})
    stored = await ctx.pool.fetchval(
        "WITH job AS (UPDATE export_jobs SET heard_at = now()"
        "   WHERE id = $1 AND attempts = $2 AND status = 'running' RETURNING id, attempts)"
        " INSERT INTO export_parts (job_id, attempt, seq, content)"
        " SELECT id, attempts, $3, $4 FROM job"
        " ON CONFLICT (job_id, attempt, seq) DO UPDATE SET content = excluded.content"
        " RETURNING 1",
        params.job_id,
        params.attempt,
        params.seq,
        content,
    )
    if not stored:
        raise STALE
    return {"ok": True}

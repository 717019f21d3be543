"""Scans: stored with their checksum and type, read only by those who may see the case."""

import hashlib
import uuid

from services.documents.filetypes import UploadRefused, sniff
from shared.audit import Entry, record
from shared.contracts.cases.rpc import CASE_ATTACH, CASE_CAN_VIEW, CASE_CHECK_UPLOAD
from shared.contracts.documents.rpc import FileRef, Upload
from shared.rpc import Attached, CallContext, RpcError


def _refused(message: str) -> RpcError:
    return RpcError("invalid_file", message, 422, {"file": message})


async def upload(params: Upload, ctx: CallContext) -> dict:
    """Check with cases that the actor may add to this case, store, then attach it there."""
    cases = ctx.deps.peers
    content = ctx.attachment
    try:
        content_type = sniff(content)
    except UploadRefused as error:
        raise _refused(error.message) from None
    await cases.invoke(
        CASE_CHECK_UPLOAD,
        {"case_id": params.case_id, "category": params.category, "size_bytes": len(content)},
        ctx.actor,
    )
    file_id, checksum = uuid.uuid4(), hashlib.sha256(content).hexdigest()
    filename = params.filename.replace("/", "_").replace("\\", "_")[-200:] or "scan"
    await ctx.pool.execute(
        "INSERT INTO files (id, case_id, category, filename, content_type, size_bytes, checksum,"
        " content, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        file_id,
        params.case_id,
        params.category,
        filename,
        content_type,
        len(content),
        checksum,
        content,
        ctx.actor.user_id,
    )
    meta = {
        "case_id": params.case_id,
        "category": params.category,
        "file_id": file_id,
        "filename": filename,
        "content_type": content_type,
        "size_bytes": len(content),
        "checksum": checksum,
    }
    try:
        attached = await cases.invoke(CASE_ATTACH, meta, ctx.actor)
    except RpcError:
        # The case did not take it (it moved on, another upload took the last place within
        # its limits, or cases is away): keep nothing behind.
        await ctx.pool.execute("DELETE FROM files WHERE id = $1", file_id)
        raise
    return {**meta, "case_id": str(params.case_id), "file_id": str(file_id), **attached}


async def read(params: FileRef, ctx: CallContext) -> Attached:
    """A scan, to whoever may see its case; a read by anyone but the applicant is audited,
    and so is a refused one."""
    row = await ctx.pool.fetchrow("SELECT * FROM files WHERE id = $1", params.file_id)
    not_found = RpcError("not_found", "文件不存在或无权查看", 404)
    if row is None:
        raise not_found
    answer = await ctx.deps.peers.invoke(CASE_CAN_VIEW, {"case_id": row["case_id"]}, ctx.actor)
    await _audit_read(ctx, row, answer["allowed"])
    if not answer["allowed"]:
        raise not_found
    return Attached(
        {
            "filename": row["filename"],
            "content_type": row["content_type"],
            "checksum": row["checksum"],
            "size_bytes": row["size_bytes"],
        },
        row["content"],
    )


async def _audit_read(ctx: CallContext, row, allowed: bool) -> None:
    if allowed and ctx.actor.role == "applicant":
        return  # their own scan
    what = {"category": row["category"]}
    entry = Entry("file.read", "file", row["id"], row["filename"], [row["case_id"]], details=what)
    async with ctx.pool.acquire() as conn:
        await record(conn, ctx.actor, entry if allowed else entry.refusal("not_found"))

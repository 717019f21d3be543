"""A review meeting's PDFs: `meetings.pdf {meeting_id, kind}` asks the cases service for the
meeting's record as the caller (whose answer decides who may print it: its keeper), renders
it in the worker pool and keeps it by the checksum of what it shows, as the forms are kept."""

import hashlib
import uuid

from services.documents.handlers.printing import stored_pdf
from services.documents.render.html import template_version
from services.documents.render.meeting import render_meeting
from services.documents.render.pool import RenderFailed
from services.documents.render.snapshots import canonical_json
from shared.contracts.cases.meetings import MEETING_DOCUMENTS, MEETING_RECORD
from shared.contracts.documents.meetings import MeetingDocument, MeetingSheet
from shared.rpc import Attached, CallContext, RpcError

SUMMARY = "id, title, pages, size_bytes, sha256, pdf"
NOT_YET = {
    "meeting_result": ("closed",),
    "meeting_members": ("drawn", "voting", "closed"),
}


async def meeting_pdf(params: MeetingDocument, ctx: CallContext) -> Attached:
    record = await ctx.deps.peers.invoke(
        MEETING_RECORD, {"meeting_id": params.meeting_id}, ctx.actor
    )
    if record["phase"] not in NOT_YET[params.kind]:
        message = (
            "表决结束后才能打印表决结果"
            if params.kind == "meeting_result"
            else "抽取专家后才能打印抽取名单"
        )
        raise RpcError("not_yet", message, 409)
    sheet = MeetingSheet(**{k: record[k] for k in MeetingSheet.model_fields})
    title = f"{MEETING_DOCUMENTS[params.kind]}（{sheet.committee_name}，{sheet.meets_on}）"
    row = await _stored(ctx, params.kind, sheet, title)
    return stored_pdf(row)


def checksum(kind: str, sheet: MeetingSheet) -> str:
    text = f"{kind}\n{template_version()}\n{canonical_json(sheet)}"
    return hashlib.sha256(text.encode()).hexdigest()


async def _stored(ctx: CallContext, kind: str, sheet: MeetingSheet, title: str):
    key = checksum(kind, sheet)
    find = f"SELECT {SUMMARY} FROM rendered_documents WHERE kind = $1 AND input_checksum = $2"
    row = await ctx.pool.fetchrow(find, kind, key)
    if row is not None:
        return row
    if ctx.deps.renderer is None:
        raise RenderFailed("render_stopped", "文档服务正在启动，请稍后重试", 503)
    pdf = await ctx.deps.renderer.pool.run(render_meeting, kind, sheet)
    # No case is named: the cases service's answer to meeting.record decided who reads it.
    await ctx.pool.execute(
        "INSERT INTO rendered_documents (id, kind, input_checksum, title, case_ids, pages,"
        " size_bytes, sha256, pdf) VALUES ($1, $2, $3, $4, '{}', $5, $6, $7, $8)"
        " ON CONFLICT (kind, input_checksum) DO NOTHING",
        uuid.uuid4(),
        kind,
        key,
        title,
        pdf.pages,
        len(pdf.content),
        pdf.sha256,
        pdf.content,
    )
    return await ctx.pool.fetchrow(find, kind, key)

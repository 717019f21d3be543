"""Printing: PDFs rendered from the snapshots the caller sends, stored by what they show.

`documents.render {kind, snapshots}` renders one PDF per snapshot, unless the same kind and
snapshot (and template version) was rendered before, and for several snapshots combines
them into one PDF, in order. `documents.read {document_id}` answers the bytes to an actor
whom the cases service lets see every case in the document, as `files.read` does.
"""

import asyncio
import hashlib
import uuid
from typing import Any

from pydantic import ValidationError

from services.documents.render.html import template_version
from services.documents.render.snapshots import KINDS, Kind, Roster, case_ids, input_checksum
from shared.audit import Entry, record
from shared.contracts.cases.rpc import CASE_CAN_VIEW_MANY
from shared.contracts.documents.rpc import DocumentRef, RenderDocuments
from shared.rpc import Attached, CallContext, RpcError, invalid_input

SUMMARY = "id, kind, input_checksum, title, case_ids, part_ids, pages, size_bytes, sha256"


def _snapshots(kind: Kind, raw: list[dict[str, Any]]) -> list:
    models, fields = [], {}
    for index, snapshot in enumerate(raw):
        try:
            models.append(kind.model.model_validate(snapshot))
        except ValidationError as error:
            for name, message in invalid_input(error).fields.items():
                fields.setdefault(f"snapshots.{index}.{name}", message)
    if fields:
        raise RpcError("invalid_input", "打印内容不完整或有误", 422, fields)
    return models


def _title(kind: Kind, snapshot) -> str:
    if isinstance(snapshot, Roster):
        return f"{snapshot.round_name}{kind.title}（{snapshot.unit_name}）"
    return f"{kind.title}（{snapshot.case.applicant_name}，{snapshot.case.case_no}）"


def _view(row, rendered: int, parts: list | None = None) -> dict:
    return {
        "document_id": str(row["id"]),
        "kind": row["kind"],
        "title": row["title"],
        "pages": row["pages"],
        "size_bytes": row["size_bytes"],
        "sha256": row["sha256"],
        "rendered": rendered,  # PDFs this call rendered or combined; 0 for a reprint
        "parts": [{"document_id": str(p["id"]), "pages": p["pages"]} for p in parts or [row]],
    }


async def render(params: RenderDocuments, ctx: CallContext) -> dict:
    if ctx.actor.user_id is None:
        raise RpcError("unauthorized", "请先登录", 401)
    kind = KINDS[params.kind]
    return await print_snapshots(ctx, kind, _snapshots(kind, params.snapshots))


async def print_snapshots(ctx: CallContext, kind: Kind, snapshots: list, on_part=None) -> dict:
    """One stored PDF of these snapshots in order; `on_part()` after each part is ready."""
    version = template_version()
    checksums = [input_checksum(kind.key, s, version) for s in snapshots]
    if len(snapshots) == 1:
        row, rendered = await _part(ctx, kind, snapshots[0], checksums[0])
        return _view(row, rendered)
    combined = hashlib.sha256("\n".join(["combined", *checksums]).encode()).hexdigest()
    row = await _find(ctx, kind.key, combined)
    if row is not None:
        return _view(row, 0, await _rows_by_id(ctx, row["part_ids"], pdf=False))
    unique = dict(zip(checksums, snapshots, strict=True))  # a case printed twice renders once
    results = await _gather(_counted(_part(ctx, kind, s, c), on_part) for c, s in unique.items())
    by_checksum = {r["input_checksum"]: r for r, _ in results}
    parts = await _rows_by_id(ctx, [by_checksum[c]["id"] for c in checksums], pdf=True)
    pdf = await ctx.deps.renderer.combine([p["pdf"] for p in parts], [p["title"] for p in parts])
    row = await _store(
        ctx,
        kind.key,
        combined,
        f"{kind.title}（{len(parts)}份）",
        list(dict.fromkeys(c for p in parts for c in p["case_ids"])),
        pdf,
        [p["id"] for p in parts],
    )
    return _view(row, sum(n for _, n in results) + 1, parts)


async def _counted(call, on_part):
    result = await call
    if on_part is not None:
        await on_part()
    return result


async def _part(ctx: CallContext, kind: Kind, snapshot, checksum: str) -> tuple[Any, int]:
    """The stored document of one snapshot, rendered first if it is new; (row, renders)."""
    row = await _find(ctx, kind.key, checksum)
    if row is not None:
        return row, 0
    in_flight = ctx.deps.in_flight
    key = (kind.key, checksum)
    if key in in_flight:  # the same document is being rendered for another request
        return await asyncio.shield(in_flight[key]), 0
    task = asyncio.ensure_future(_render_and_store(ctx, kind, snapshot, checksum))
    in_flight[key] = task
    task.add_done_callback(lambda _t: in_flight.pop(key, None))
    return await asyncio.shield(task), 1


async def _render_and_store(ctx: CallContext, kind: Kind, snapshot, checksum: str):
    pdf = await ctx.deps.renderer.render(kind.key, snapshot)
    return await _store(ctx, kind.key, checksum, _title(kind, snapshot), case_ids(snapshot), pdf)


async def _store(ctx, kind: str, checksum: str, title: str, cases, pdf, part_ids=()):
    await ctx.pool.execute(
        "INSERT INTO rendered_documents (id, kind, input_checksum, title, case_ids, part_ids,"
        " pages, size_bytes, sha256, pdf) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (kind, input_checksum) DO NOTHING",
        uuid.uuid4(),
        kind,
        checksum,
        title,
        list(cases),
        list(part_ids),
        pdf.pages,
        len(pdf.content),
        pdf.sha256,
        pdf.content,
    )
    return await _find(ctx, kind, checksum)  # ours, or the one a racing request stored


async def _find(ctx: CallContext, kind: str, checksum: str):
    return await ctx.pool.fetchrow(
        f"SELECT {SUMMARY} FROM rendered_documents WHERE kind = $1 AND input_checksum = $2",
        kind,
        checksum,
    )


async def _rows_by_id(ctx: CallContext, ids: list[uuid.UUID], pdf: bool) -> list:
    columns = f"{SUMMARY}, pdf" if pdf else SUMMARY
    rows = await ctx.pool.fetch(
        f"SELECT {columns} FROM rendered_documents WHERE id = ANY($1::uuid[])", list(set(ids))
    )
    by_id = {r["id"]: r for r in rows}
    return [by_id[i] for i in ids]


async def _gather(calls) -> list:
    """All of them, each stored as it finishes; the first failure is raised after."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


async def read(params: DocumentRef, ctx: CallContext) -> Attached:
    """A stored PDF, to whoever may see every case in it; audited as files.read is."""
    row = await ctx.pool.fetchrow(
        f"SELECT {SUMMARY}, pdf FROM rendered_documents WHERE id = $1", params.document_id
    )
    if row is None:
        raise RpcError("not_found", "文档不存在或无权查看", 404)
    allowed = await _may_view_all(ctx, row["case_ids"])
    await _audit_read(ctx, row, allowed)
    if not allowed:
        raise RpcError("not_found", "文档不存在或无权查看", 404)
    return stored_pdf(row, kind=row["kind"])


def stored_pdf(row, **more) -> Attached:
    """A stored PDF (a row of rendered_documents) with what its reader is told of it."""
    about = {
        "document_id": str(row["id"]),
        "title": row["title"],
        "filename": f"{row['title']}.pdf",
        "content_type": "application/pdf",
        "pages": row["pages"],
        "size_bytes": row["size_bytes"],
        "sha256": row["sha256"],
    }
    return Attached({**about, **more}, row["pdf"])


async def _audit_read(ctx: CallContext, row, allowed: bool) -> None:
    if allowed and ctx.actor.role == "applicant":
        return  # their own case's
    entry = Entry(
        "document.read",
        "document",
        row["id"],
        row["title"],
        row["case_ids"],
        details={"kind": row["kind"]},
    )
    async with ctx.pool.acquire() as conn:
        await record(conn, ctx.actor, entry if allowed else entry.refusal("not_found"))


async def _may_view_all(ctx: CallContext, cases: list[uuid.UUID]) -> bool:
    answer = await ctx.deps.peers.invoke(
        CASE_CAN_VIEW_MANY, {"case_ids": list(dict.fromkeys(cases))}, ctx.actor
    )
    return bool(answer["allowed"])

"""The signed PDF of each 职称电子证书: made when the certificate is issued, read by those who
may see its case.

`certificate.issued` (from cases) has the PDF rendered and signed in the worker pool and
stored once per certificate. `certificates.read {case_id}` asks the cases service for the
case's certificate as the caller (its answer decides who may read it: 404 otherwise) and
answers the stored PDF; should the event not have been handled yet, it makes the PDF itself.
Two makers at once store one: the first insert wins and both answer what was stored.
"""

import logging
from urllib.parse import urlencode

from services.documents.render.certificate import render_signed
from services.documents.render.pool import RenderFailed
from services.documents.render.worker import Pdf
from services.documents.signing import certificate_subject
from shared.audit import Entry, record
from shared.contracts.cases.certificates import CERTIFICATE_GET, CertificateIssued
from shared.contracts.documents.certificates import CertificateFile, CertificateSnapshot
from shared.envelope import Envelope
from shared.personal_data import TRANSIT, keyring
from shared.rpc import Attached, CallContext, RpcError

log = logging.getLogger(__name__)

SUMMARY = "certificate_no, holder_name, pages, size_bytes, sha256, signed_by"
PAGE = "/verify"


async def read_certificate(params: CertificateFile, ctx: CallContext) -> Attached:
    certificate = await ctx.deps.peers.invoke(
        CERTIFICATE_GET, {"case_id": params.case_id}, ctx.actor
    )
    row = await _stored(ctx.pool, certificate["certificate_no"])
    if row is None:
        await _make(ctx.pool, ctx.deps, certificate)
        row = await _stored(ctx.pool, certificate["certificate_no"])
    if ctx.actor.role != "applicant":  # a read of the holder's personal data (docs/audit.md)
        number, case_ids = certificate["certificate_no"], [params.case_id]
        entry = Entry("document.read", "certificate", number, number, case_ids)
        async with ctx.pool.acquire() as conn:
            await record(conn, ctx.actor, entry)
    return _content(row)


def certificate_issued_handler(deps):
    async def on_certificate_issued(conn, _envelope: Envelope, issued: CertificateIssued) -> None:
        if await _stored(conn, issued.certificate_no) is None:
            certificate = issued.model_dump(mode="json")
            certificate["id_number"] = _opened(issued.id_number)
            await _make(conn, deps, certificate)

    return on_certificate_issued


def _opened(id_number: str) -> str:
    """The ID number comes sealed for transit (an event from before sealing, plain)."""
    return keyring().open_if_sealed(id_number, TRANSIT)


def snapshot_of(certificate: dict, public_base_url: str) -> CertificateSnapshot:
    """What the PDF prints: the certificate as the cases service issued it, with the links."""
    page = public_base_url.rstrip("/") + PAGE
    query = {"no": certificate["certificate_no"], "code": certificate["verification_code"]}
    fields = set(CertificateSnapshot.model_fields) - {"verify_page", "verify_url"}
    return CertificateSnapshot(
        **{name: certificate[name] for name in fields},
        verify_page=page,
        verify_url=f"{page}?{urlencode(query)}",
    )


async def _make(db, deps, certificate: dict) -> None:
    """Render, sign and store the certificate's PDF (`db`: a pool or a connection)."""
    if deps.renderer is None:  # an event before the workers started: it comes back later
        raise RenderFailed("render_stopped", "文档服务正在启动，请稍后重试", 503)
    keys = deps.signing_keys
    missing = keys.missing()
    if missing:
        log.error("e-certificate %s not signed: no %s", certificate["certificate_no"], missing)
        raise RpcError("signing_unavailable", "电子证书签名密钥未配置，请联系系统管理员", 503)
    snapshot = snapshot_of(certificate, deps.certificates.public_base_url)
    pdf: Pdf = await deps.renderer.pool.run(render_signed, snapshot, keys)
    await db.execute(
        "INSERT INTO certificate_documents (certificate_no, certificate_id, case_id, holder_name,"
        " pages, size_bytes, sha256, signed_by, pdf) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (certificate_no) DO NOTHING",
        snapshot.certificate_no,
        certificate["certificate_id"],
        certificate["case_id"],
        snapshot.holder_name,
        pdf.pages,
        len(pdf.content),
        pdf.sha256,
        certificate_subject(keys.cert_file),
        pdf.content,
    )


async def _stored(db, certificate_no: str):
    return await db.fetchrow(
        f"SELECT {SUMMARY}, pdf FROM certificate_documents WHERE certificate_no = $1",
        certificate_no,
    )


def _content(row) -> Attached:
    return Attached(
        {
            "certificate_no": row["certificate_no"],
            "filename": f"职称电子证书（{row['holder_name']}，{row['certificate_no']}）.pdf",
            "content_type": "application/pdf",
            "pages": row["pages"],
            "size_bytes": row["size_bytes"],
            "sha256": row["sha256"],
            "signed_by": row["signed_by"],
        },
        row["pdf"],
    )

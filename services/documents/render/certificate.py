"""The 职称电子证书 PDF, rendered and signed in a render worker (PAdES, pyHanko).

The signature covers the whole file as rendered (ETSI.CAdES.detached, SHA-256, the signing
certificate and its chain embedded): changing any byte of it breaks the signature.
"""

import io
from functools import cache

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from services.documents.render import html
from services.documents.render.worker import Pdf, _pdf, _Task, _write
from services.documents.signing import SigningKeys
from shared.contracts.documents.certificates import CertificateSnapshot

TEMPLATE = "certificate.html"
SIGNATURE_FIELD = "CertificateSignature"


def certificate_html(snapshot: CertificateSnapshot) -> str:
    return html.ENV.get_template(TEMPLATE).render(doc=snapshot)


def render_signed(
    snapshot: CertificateSnapshot, keys: SigningKeys, time_limit: float | None = None
) -> Pdf:
    with _Task(time_limit):
        content, pages = _write(certificate_html(snapshot))
        return _pdf(sign(content, keys), pages)


def sign(pdf: bytes, keys: SigningKeys) -> bytes:
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="职称电子证书",
        location="深圳",
    )
    out = io.BytesIO()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    signers.sign_pdf(writer, metadata, signer=_signer(keys), output=out)
    return out.getvalue()


@cache
def _signer(keys: SigningKeys) -> signers.SimpleSigner:
    # Loaded once per worker process; new keys in production mean a restart anyway.
    signer = signers.SimpleSigner.load(
        keys.key_file,
        keys.cert_file,
        ca_chain_files=keys.chain_files,
        key_passphrase=keys.passphrase(),
    )
    if signer is None:
        raise RuntimeError(f"cannot load the signing key {keys.key_file} with {keys.cert_file}")
    return signer

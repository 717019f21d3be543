"""The signed PDF of a 职称电子证书: what it prints (its snapshot) and the method that reads
it. Pure: no I/O. The certificate itself is the cases service's
(shared/contracts/cases/certificates.py)."""

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Method, Reply


class CertificateSnapshot(BaseModel):
    """Exactly what the certificate PDF prints."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate_no: str = Field(min_length=1, max_length=40)
    verification_code: str = Field(min_length=1, max_length=20)
    holder_name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(max_length=30)
    qualification: str
    series: str
    level: str
    committee: str
    department: str
    passed_on: date
    issued_on: date
    verify_page: str  # the public page, printed for those who type it
    verify_url: str  # the same with the number and code: the QR code's link


class CertificateFile(BaseModel):
    case_id: uuid.UUID


class CertificatePdf(Reply):
    certificate_no: str
    filename: str
    content_type: str
    pages: int
    size_bytes: int
    sha256: str
    signed_by: str  # the signing certificate's subject


CERTIFICATES_READ = Method(
    "documents",
    "certificates.read",
    CertificateFile,
    CertificatePdf,
    "A case's signed e-certificate PDF, to those who may see the case (rendered and signed"
    " once, when issued)",
    returns_file=True,
)

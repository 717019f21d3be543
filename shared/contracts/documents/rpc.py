"""The documents service's RPC methods on `<prefix>.rpc.documents`, with their models."""

import uuid
from typing import Any

from pydantic import BaseModel, Field

from shared.contracts.audit import CaseReaders, CaseReadersRef
from shared.contracts.base import Method, Reply, ServiceApi
from shared.contracts.documents.certificates import CERTIFICATES_READ
from shared.contracts.documents.meetings import MEETINGS_PDF
from shared.contracts.documents.snapshots import SNAPSHOT_MODELS
from shared.contracts.documents.vocabulary import KindKey
from shared.contracts.exports import documents_methods, owner_methods

SERVICE = "documents"
MAX_SNAPSHOTS = 500  # documents.render
MAX_PRINT_CASES = 2000  # documents.print: people on the rosters of one job


class Upload(BaseModel):
    """A scan for a case's materials: PDF, JPG or PNG, up to 10 MB, within the case's scan
    limits (the cases service's, per section and per case)."""

    case_id: uuid.UUID
    category: str  # cases' materials.SCAN_CATEGORIES
    filename: str


class FileRef(BaseModel):
    file_id: uuid.UUID


class RenderDocuments(BaseModel):
    """`snapshots`: each the model of snapshots.SNAPSHOT_MODELS[kind]."""

    kind: KindKey
    snapshots: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_SNAPSHOTS)


class DocumentRef(BaseModel):
    document_id: uuid.UUID


class PrintRequest(BaseModel):
    """Print these cases as one PDF, in this order (the JSON API's body too)."""

    kind: KindKey
    case_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_PRINT_CASES)


class JobRef(BaseModel):
    job_id: uuid.UUID


class StoredScan(Reply):
    case_id: str
    category: str
    file_id: str
    filename: str
    content_type: str
    size_bytes: int
    checksum: str
    attachment_id: str  # the case's attachment (cases' case.attach)


class FileContent(Reply):
    filename: str
    content_type: str
    checksum: str
    size_bytes: int


class Part(Reply):
    document_id: str
    pages: int


class Rendered(Reply):
    document_id: str
    kind: str
    title: str
    pages: int
    size_bytes: int
    sha256: str
    rendered: int  # PDFs this call rendered or combined; 0 for a reprint
    parts: list[Part]


class DocumentContent(Reply):
    document_id: str
    kind: str
    title: str
    filename: str
    content_type: str
    pages: int
    size_bytes: int
    sha256: str


class Skipped(Reply):
    case_id: str
    name: str
    reason: str


class PrintJob(Reply):
    job_id: str
    kind: str
    title: str
    status: str  # queued, running, done, failed
    status_label: str
    cases: int
    total: int
    done: int
    document_id: str | None
    document_title: str | None
    pages: int | None
    size_bytes: int | None
    skipped: list[Skipped]
    error: str | None
    created_at: str
    finished_at: str | None


def _method(name, params, result, summary, **files: bool) -> Method:
    return Method(SERVICE, name, params, result, summary, **files)


FILES_UPLOAD = _method(
    "files.upload",
    Upload,
    StoredScan,
    "Store a scan and attach it to the applicant's draft",
    takes_file=True,
)
FILES_READ = _method(
    "files.read", FileRef, FileContent, "A scan, to those who may see its case", returns_file=True
)
DOCUMENTS_RENDER = Method(
    SERVICE,
    "documents.render",
    RenderDocuments,
    Rendered,
    "Render snapshots as one PDF (stored); each snapshot the model of its kind",
    by_case=tuple(SNAPSHOT_MODELS.items()),
)
DOCUMENTS_READ = _method(
    "documents.read",
    DocumentRef,
    DocumentContent,
    "A PDF, to those who may see all its cases",
    returns_file=True,
)
DOCUMENTS_PRINT = _method(
    "documents.print", PrintRequest, PrintJob, "Queue a print job for a selection of cases"
)
DOCUMENTS_JOB = _method("documents.job", JobRef, PrintJob, "A print job of the caller's")
DOCUMENTS_READERS = _method(
    "audit.case_readers",
    CaseReadersRef,
    CaseReaders,
    "Who read or printed a case's scans and PDFs, for its applicant (audit trail)",
)

EXPORTS_START, EXPORTS_JOB, EXPORTS_READ, EXPORTS_PROGRESS, EXPORTS_PART = documents_methods()
EXPORT_COUNT, EXPORT_BUILD = owner_methods(SERVICE)  # the audit trails merged (审计日志)

API = ServiceApi(
    SERVICE,
    (
        FILES_UPLOAD,
        FILES_READ,
        DOCUMENTS_RENDER,
        DOCUMENTS_READ,
        DOCUMENTS_PRINT,
        DOCUMENTS_JOB,
        DOCUMENTS_READERS,
        MEETINGS_PDF,
        CERTIFICATES_READ,
        EXPORTS_START,
        EXPORTS_JOB,
        EXPORTS_READ,
        EXPORTS_PROGRESS,
        EXPORTS_PART,
        EXPORT_COUNT,
        EXPORT_BUILD,
    ),
)

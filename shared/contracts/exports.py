"""导出Excel: every list a person sees, as an .xlsx file with the page's filters and order.

An export is a job of the documents service (its progress, its file); the file itself is
built by the service that owns the list's rows, which reads them with a server-side cursor in
one snapshot and sends the finished file to documents in parts (docs/reports.md, "Excel
exports"). This module names the lists, who owns each, the models of the calls between the
gateway, documents and the owners, and the methods (the lists themselves:
export_lists.py). Pure: pydantic only.
"""

import uuid
from typing import Any

from pydantic import BaseModel, Field

from shared.contracts.base import Method, Reply

# Excel's sheet holds 1,048,576 rows; a list longer than this is narrowed by its filters.
MAX_EXPORT_ROWS = 1_000_000
PART_BYTES = 1024 * 1024  # the file travels to documents and to the browser in parts of this
# An owner building a file reports its progress at least this often, rows written or not:
# documents takes an owner silent for its ZC_EXPORT_SILENCE_SECONDS for one killed mid-build.
HEARTBEAT_SECONDS = 5.0


# --- the gateway asks documents ---


class StartExport(BaseModel):
    list: str = Field(min_length=1, max_length=40)
    filters: dict[str, Any] = Field(default_factory=dict)


class ExportRef(BaseModel):
    job_id: uuid.UUID


class ExportPartRef(ExportRef):
    part: int = Field(0, ge=0, le=100_000)


class ExportJob(Reply):
    job_id: str
    list: str
    title: str
    status: str  # queued, running, done, failed, expired
    status_label: str
    total: int  # rows the list had when the export was asked for
    done: int  # rows written so far
    filename: str
    size_bytes: int | None
    error: str | None
    created_at: str
    finished_at: str | None


class ExportPart(Reply):
    filename: str
    content_type: str
    size_bytes: int
    parts: int  # the part's bytes come beside this (returns_file)


# --- documents asks the list's owner; the owner sends documents progress and parts ---


class ExportQuery(BaseModel):
    list: str = Field(min_length=1, max_length=40)
    filters: dict[str, Any] = Field(default_factory=dict)


class ExportCount(Reply):
    rows: int
    title: str  # the list as its page heads it, e.g. 材料审核（待办业务）


class BuildExport(ExportQuery):
    job_id: uuid.UUID
    attempt: int = Field(ge=1)


class Built(Reply):
    rows: int
    parts: int
    size_bytes: int
    sha256: str
    full_fields: list[str]  # personal numbers written in full (the role may see them)


class ExportProgress(BaseModel):
    job_id: uuid.UUID
    attempt: int = Field(ge=1)
    rows: int = Field(ge=0)


class ExportFilePart(BaseModel):
    job_id: uuid.UUID
    attempt: int = Field(ge=1)
    seq: int = Field(ge=0, le=100_000)  # the part's bytes come beside this (takes_file)


class Taken(Reply):
    ok: bool


def owner_methods(service: str) -> tuple[Method, Method]:
    """What a list's owner answers: how many rows (and whether the caller may ask), and the
    file itself."""
    return (
        Method(
            service,
            "export.count",
            ExportQuery,
            ExportCount,
            "How many rows an export of this list would hold; refuses what the caller may not"
            " see or filters it does not take",
        ),
        Method(
            service,
            "export.build",
            BuildExport,
            Built,
            "Build the .xlsx of a list (cursor in one snapshot) and send it to documents in"
            " parts (exports.part), reporting progress (exports.progress)",
        ),
    )


def documents_methods(service: str = "documents") -> tuple[Method, ...]:
    return (
        Method(service, "exports.start", StartExport, ExportJob, "Queue an Excel export"),
        Method(service, "exports.job", ExportRef, ExportJob, "An export job of the caller's"),
        Method(
            service,
            "exports.read",
            ExportPartRef,
            ExportPart,
            "One part of a finished export's file, to whoever asked for it",
            returns_file=True,
        ),
        Method(
            service,
            "exports.progress",
            ExportProgress,
            Taken,
            "The owner building an export: rows written so far",
        ),
        Method(
            service,
            "exports.part",
            ExportFilePart,
            Taken,
            "The owner sending a finished export's file, one part at a time",
            takes_file=True,
        ),
    )

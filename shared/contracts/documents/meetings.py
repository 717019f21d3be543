"""A review meeting's PDFs (评审会议表决结果, 评审专家抽取名单): what they print (the snapshot,
from the cases service's meeting.record) and the method that answers them. Pure: no I/O."""

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.contracts.base import Method, Reply
from shared.contracts.cases.meetings import MeetingDocumentKind

Text = Annotated[str, StringConstraints(max_length=200)]


class SheetModel(BaseModel):
    # Unknown keys are refused: whatever is sent is in the checksum, so it must be shown.
    model_config = ConfigDict(extra="forbid", frozen=True)


class SheetTally(SheetModel):
    present: int
    eligible: int
    agree: int
    disagree: int
    abstain: int
    passed: bool


class SheetMember(SheetModel):
    name: Text
    unit_name: Text
    title_level: Text
    speciality: Text
    drawn_rank: int
    drawn_as: Text
    seated: bool
    declined: bool
    decline_reason: Text | None = None
    present: bool | None = None


class SheetCase(SheetModel):
    case_no: Text
    name: Text
    unit_name: Text
    qualification: Text
    exclusions: list[Text] = Field(default_factory=list)
    tally: SheetTally | None = None


class MeetingSheet(SheetModel):
    """Exactly what the two PDFs of a meeting print."""

    committee_name: Text
    department_name: Text
    round_name: Text
    meets_on: Text
    starts_at: Text
    place: Text
    size: int
    seed: Text | None = None
    pool_size: int
    drawn_at: Text | None = None
    members: list[SheetMember]
    cases: list[SheetCase]
    closed_at: Text | None = None


class MeetingDocument(BaseModel):
    meeting_id: uuid.UUID
    kind: MeetingDocumentKind


class MeetingPdf(Reply):
    document_id: str
    title: str
    filename: str
    content_type: str
    pages: int
    size_bytes: int
    sha256: str


MEETINGS_PDF = Method(
    "documents",
    "meetings.pdf",
    MeetingDocument,
    MeetingPdf,
    "A review meeting's 评审会议表决结果 (once closed) or 评审专家抽取名单 (once drawn), to its"
    " keeper (rendered once per content)",
    returns_file=True,
)

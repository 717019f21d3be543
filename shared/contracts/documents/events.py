"""The event the documents service publishes."""

import uuid

from pydantic import AwareDatetime, BaseModel, Field

from shared.contracts.base import Event, Payload


class PrintedBy(BaseModel):
    """Who printed (the print job's actor)."""

    user_id: uuid.UUID
    role: str = Field(min_length=1)
    unit_id: uuid.UUID | None = None
    org_id: str | None = None
    name: str = ""
    # for the audit row of the move it causes (shared/rpc.py Actor)
    username: str = ""
    organisation: str = ""
    client_address: str = ""


class DeclarationFormPrinted(Payload):
    document_id: uuid.UUID
    case_ids: list[uuid.UUID] = Field(min_length=1)
    actor: PrintedBy
    printed_at: AwareDatetime


DECLARATION_FORM_PRINTED = Event(
    "declaration_form.printed",
    DeclarationFormPrinted,
    "documents",
    ("cases",),
    "评审（申报）表 printed for these cases: each still 待打印评审(申报)表 moves on (step 7)",
)

EVENTS = (DECLARATION_FORM_PRINTED,)

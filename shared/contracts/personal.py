"""显示完整号码: the full ID number or mobile behind a mask, for a role that may see it.

Lists, JSON answers, exports, PDFs that do not need the full value, logs and SMS records show
personal numbers masked (shared/masks.py). A person whose role needs the full value asks for
it, one value at a time: the gateway's `POST /api/personal/unmask` sends `personal.unmask` to
the service that keeps the object (OWNERS), which checks the caller may see it, opens the
sealed value (shared/personal_data.py) and writes a `personal.unmask` audit row in the same
transaction; a refusal is recorded too. Pure: no I/O.
"""

from typing import Literal

from pydantic import BaseModel, Field

from shared.contracts.base import Method, Reply

# Which service keeps the objects whose numbers may be unmasked.
OWNERS: dict[str, str] = {
    "user": "accounts",
    "enrolment": "accounts",
    "case": "cases",
    "expert": "cases",
    "meeting_member": "cases",
    "certificate": "cases",
    "discredit": "cases",
    "objection": "cases",
    "delivery": "notify",
}

ObjectType = Literal[
    "user",
    "enrolment",
    "case",
    "expert",
    "meeting_member",
    "certificate",
    "discredit",
    "objection",
    "delivery",
]
PersonalField = Literal["id_number", "mobile"]

UNMASK_METHOD = "personal.unmask"


class Unmask(BaseModel):
    object_type: ObjectType
    object_id: str = Field(min_length=1, max_length=100)
    field: PersonalField


class Unmasked(Reply):
    value: str


def unmask_method(service: str) -> Method:
    return Method(
        service,
        UNMASK_METHOD,
        Unmask,
        Unmasked,
        "One full ID number or mobile behind a mask, for a role that may see it; audited"
        " (personal.unmask)",
    )

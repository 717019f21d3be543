"""si.enrolment.changed events fill the enrolment registry."""

from pydantic import BaseModel, Field

from services.accounts.enrolment import Enrolment, upsert_enrolment


class EnrolmentChanged(BaseModel):
    id_number: str = Field(min_length=18, max_length=18)
    si_unit_no: str = Field(min_length=1)
    si_no: str = Field(min_length=1)
    unit_name: str = Field(min_length=1)
    person_name: str = Field(min_length=1)
    active: bool
    version: int = Field(ge=0)


async def apply_enrolment(conn, _envelope, change: EnrolmentChanged) -> None:
    record = change.model_dump(exclude={"version"})
    record["id_number"] = record["id_number"].upper()
    await upsert_enrolment(conn, Enrolment(**record), change.version)

"""The events outside systems publish to our events exchange, in our envelope.

- The talent-introduction system (人才引进系统, producer `talent`): its units log in here
  with the same username and password. Every event carries the whole unit as of
  `unit_version`, so the accounts service keeps the highest version it has seen. The admin's
  password travels only as an argon2 PHC hash string.
- The social-security enrolment registry (producer `si`): who pays social security at which
  unit, versioned per person and unit.

The shapes are these; accounts checks more on top (organisation codes, argon2 hashes, e-mail
addresses, the input rule) and dead-letters what does not pass, with the reason.
"""

from pydantic import BaseModel, Field

from shared.contracts.base import Event, Payload


class TalentAdmin(BaseModel):
    username: str = Field(min_length=6, max_length=14, pattern=r"^[A-Za-z0-9]+$")
    password_hash: str  # argon2 PHC string: $argon2id$v=19$…
    name: str = Field(min_length=1)
    mobile: str | None = None
    email: str | None = None
    id_number: str | None = None


class TalentUnit(Payload):
    talent_unit_id: str = Field(min_length=1)
    unit_version: int = Field(ge=1)  # grows with each change of the unit
    org_code: str  # 组织机构代码 or 统一社会信用代码
    name: str = Field(min_length=1)
    si_unit_no: str = Field(min_length=1)
    admin: TalentAdmin


class EnrolmentChanged(Payload):
    id_number: str = Field(min_length=18, max_length=18)
    si_unit_no: str = Field(min_length=1)
    si_no: str = Field(min_length=1)
    unit_name: str = Field(min_length=1)
    person_name: str = Field(min_length=1)
    active: bool
    version: int = Field(ge=0)


TALENT_UNIT_REGISTERED = Event(
    "talent.unit.registered",
    TalentUnit,
    "talent",
    ("accounts",),
    "A unit registered in the talent-introduction system: its admin may log in here",
)
TALENT_UNIT_UPDATED = Event(
    "talent.unit.updated",
    TalentUnit,
    "talent",
    ("accounts",),
    "A talent-introduction unit changed (the whole unit, as of unit_version)",
)
TALENT_UNIT_DEACTIVATED = Event(
    "talent.unit.deactivated",
    TalentUnit,
    "talent",
    ("accounts",),
    "A talent-introduction unit was deactivated: it and its admin can no longer log in",
)
ENROLMENT_CHANGED = Event(
    "si.enrolment.changed",
    EnrolmentChanged,
    "si",
    ("accounts",),
    "A person's social-security enrolment at a unit changed (registration checks it)",
)

TALENT_EVENTS = (TALENT_UNIT_REGISTERED, TALENT_UNIT_UPDATED, TALENT_UNIT_DEACTIVATED)
EVENTS = (*TALENT_EVENTS, ENROLMENT_CHANGED)

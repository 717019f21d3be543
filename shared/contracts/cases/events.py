"""The events the cases service publishes."""

from typing import Annotated, Literal

from pydantic import Field

from shared.contracts.base import SEALED_PATTERN, Event, Payload
from shared.contracts.cases import integrity
from shared.contracts.cases.certificates import CERTIFICATE_ISSUED, CERTIFICATE_REVOKED
from shared.contracts.cases.holidays import DEADLINE_REMINDER
from shared.contracts.cases.meetings import EVENTS as MEETING_EVENTS

Sealed = Annotated[str, Field(pattern=SEALED_PATTERN)]  # shared/personal_data.py TRANSIT


class CaseTransitioned(Payload):
    """One move of one case: what the case history records, with who the case is about."""

    case_id: str
    case_no: str
    name: str  # past tense: vocabulary.Action's `event` (CaseApproved, …)
    action: str  # vocabulary.Action
    from_state: str  # vocabulary.CaseState
    to_state: str
    outcome: str | None  # vocabulary.Outcome, when to_state is closed
    status_label: str  # 业务状态 after the move: "单位审核同意-->待打印评前公示"
    reason: str | None  # what the 原因 column shows after the move
    at: str  # ISO 8601 with offset
    version: int  # the case's version after the move
    actor_id: str
    actor_role: str
    unit_id: str
    applicant_id: str
    applicant_name: str
    applicant_mobile: Sealed | None  # sealed for transit
    round_name: str
    qualification_name: str
    applicant_notice: str | None  # the SMS text for the applicant, if the move concerns them


class CaseApplicantNotice(Payload):
    """A move that concerns the applicant, with the text to tell them."""

    case_id: str
    case_no: str | None = None
    action: str | None = None  # vocabulary.Action
    applicant_id: str | None = None
    applicant_name: str
    applicant_mobile: Sealed | None = None  # sealed for transit; none: nobody to text
    round_name: str
    qualification_name: str
    notice: str
    reason: str | None = None
    at: str | None = None


class OrganisationRenamed(Payload):
    """A department or committee saved under a new name (reviewer accounts keep theirs)."""

    role: Literal["department", "committee"]
    org_id: str = Field(min_length=1)
    name: str = Field(min_length=1)


CASE_TRANSITIONED = Event(
    "case.transitioned",
    CaseTransitioned,
    "cases",
    (),
    "Every move of every case (notify took it until case.applicant_notice; none now)",
)
CASE_APPLICANT_NOTICE = Event(
    "case.applicant_notice",
    CaseApplicantNotice,
    "cases",
    ("notify",),
    "A move that concerns the applicant: notify texts them",
)
ORGANISATION_RENAMED = Event(
    "reference.organisation_renamed",
    OrganisationRenamed,
    "cases",
    ("accounts",),
    "A department or committee was renamed: its reviewer accounts show the new name",
)

EVENTS = (
    CASE_TRANSITIONED,
    CASE_APPLICANT_NOTICE,
    ORGANISATION_RENAMED,
    CERTIFICATE_ISSUED,
    CERTIFICATE_REVOKED,
    *integrity.EVENTS,
    *MEETING_EVENTS,
    DEADLINE_REMINDER,
)

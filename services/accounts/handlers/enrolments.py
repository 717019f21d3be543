"""si.enrolment.changed events fill the enrolment registry."""

from services.accounts.enrolment import Enrolment, upsert_enrolment
from shared.contracts.external import EnrolmentChanged


async def apply_enrolment(conn, _envelope, change: EnrolmentChanged) -> None:
    record = change.model_dump(exclude={"version"})
    record["id_number"] = record["id_number"].upper()
    await upsert_enrolment(conn, Enrolment(**record), change.version)

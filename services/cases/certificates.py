"""Issuing 职称电子证书, in the transaction that confirms the cases that passed.

`issue_certificates` runs in the workflow's transaction right after the moves are saved, with
the cases still locked: a case confirmed has its certificate in the same commit, or neither
exists. The serial is counted in a row per committee and year (its lock orders concurrent
confirmations; a rollback gives the serial back), so numbers have no gaps; the certificate's
unique case id, checked under the case's lock, makes it one per case however often a
confirmation is retried. Counter rows are taken in (committee, year) order, so two batches
cannot deadlock on them.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

from services.cases.domain.calendar import local_date
from services.cases.domain.certificates import CertificateNumber, new_verification_code
from services.cases.domain.model import Action, Outcome
from services.cases.sealed import (
    CERTIFICATE_ID_NUMBER,
    SECTION_ID_NUMBER,
    in_transit,
    seal,
    unseal,
)
from shared.contracts.cases.certificates import CERTIFICATE_ISSUED, CertificateIssued
from shared.envelope import Envelope, new_event
from shared.outbox import add_to_outbox

# What the certificate prints, as the case shows it at confirmation; only cases that have
# none yet (the case row is locked by the caller, so this cannot race).
FACTS = """
SELECT c.id AS case_id, c.unit_id, c.applicant_id, c.committee_id,
    coalesce(nullif(s.data->>'name', ''), c.applicant_name) AS holder_name,
    s.data->>'id_number' AS id_number,
    q.name AS qualification, q.level, se.name AS series,
    cm.name AS committee, d.name AS department,
    (SELECT max(h.at) FROM case_history h
      WHERE h.case_id = c.id AND h.action = 'pass_review') AS passed_at
FROM cases c
JOIN qualifications q ON q.id = c.qualification_id
JOIN series se ON se.id = q.series_id
JOIN committees cm ON cm.id = c.committee_id
JOIN departments d ON d.id = c.department_id
LEFT JOIN case_sections s ON s.case_id = c.id AND s.section = 'basic'
WHERE c.id = ANY($1::uuid[])
  AND NOT EXISTS (SELECT 1 FROM certificates x WHERE x.case_id = c.id)
ORDER BY c.committee_id, c.id
"""
NEXT_SERIAL = """
INSERT INTO certificate_counters (committee_id, year, last_serial) VALUES ($1, $2, 1)
ON CONFLICT (committee_id, year)
DO UPDATE SET last_serial = certificate_counters.last_serial + 1
RETURNING last_serial
"""
INSERT_CERTIFICATE = """
INSERT INTO certificates (id, certificate_no, case_id, committee_id, year, serial,
    verification_code, holder_name, id_number, qualification, series, level, committee,
    department, passed_on, issued_on, issued_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
"""


def passed_on_confirmation(moved: Sequence) -> list[uuid.UUID]:
    """The ids of the moved cases (workflow MovedCase) that were confirmed as passed."""
    return [
        m.loaded.id
        for m in moved
        if m.event.action is Action.CONFIRM and m.event.outcome is Outcome.PASSED
    ]


async def issue_certificates(conn, moved: Sequence, now: datetime) -> list[Envelope]:
    """A certificate for each case confirmed as passed, and its event in the outbox."""
    case_ids = passed_on_confirmation(moved)
    if not case_ids:
        return []
    events = [await _issue(conn, row, now) for row in await conn.fetch(FACTS, case_ids)]
    await add_to_outbox(conn, *events)
    return events


async def _issue(conn, facts, now: datetime) -> Envelope:
    issued_on = local_date(now)
    committee_code = await _committee_code(conn, facts["committee_id"])
    serial = await conn.fetchval(NEXT_SERIAL, facts["committee_id"], issued_on.year)
    number = CertificateNumber(issued_on.year, committee_code, serial)
    passed_on = local_date(facts["passed_at"] or now)
    id_number = unseal(facts["id_number"], SECTION_ID_NUMBER) or ""
    certificate = CertificateIssued(
        certificate_id=uuid.uuid4(),
        case_id=facts["case_id"],
        unit_id=facts["unit_id"],
        applicant_id=facts["applicant_id"],
        certificate_no=str(number),
        verification_code=new_verification_code(),
        holder_name=facts["holder_name"],
        id_number=in_transit(id_number),
        qualification=facts["qualification"],
        series=facts["series"],
        level=facts["level"],
        committee=facts["committee"],
        department=facts["department"],
        passed_on=passed_on.isoformat(),
        issued_on=issued_on.isoformat(),
    )
    await conn.execute(
        INSERT_CERTIFICATE,
        certificate.certificate_id,
        certificate.certificate_no,
        certificate.case_id,
        facts["committee_id"],
        number.year,
        number.serial,
        certificate.verification_code,
        certificate.holder_name,
        seal(id_number, CERTIFICATE_ID_NUMBER),
        certificate.qualification,
        certificate.series,
        certificate.level,
        certificate.committee,
        certificate.department,
        passed_on,
        issued_on,
        now,
    )
    return new_event(CERTIFICATE_ISSUED.type, certificate, "cases")


async def _committee_code(conn, committee_id: str) -> int:
    """The committee's code, given at its first certificate. Two first certificates of one
    committee at once: the second insert waits for the first and does nothing, and the
    select after it (a new statement) sees the first's code."""
    select = "SELECT code FROM certificate_committees WHERE committee_id = $1"
    return (
        await conn.fetchval(select, committee_id)
        or await conn.fetchval(
            "INSERT INTO certificate_committees (committee_id, code)"
            " VALUES ($1, nextval('certificate_committee_codes'))"
            " ON CONFLICT (committee_id) DO NOTHING RETURNING code",
            committee_id,
        )
        or await conn.fetchval(select, committee_id)
    )

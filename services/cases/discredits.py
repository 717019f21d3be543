"""失信 records in the database: the bar on declaring, and recording one against a case.

A declaration is checked at opening (the ID number of the applicant's account) and at
填报上报 (that number as kept at opening, and the one in the materials' 基本信息, which the
applicant may change): services/cases/domain/integrity.py decides from the entries found.
"""

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from services.cases.domain.calendar import local_date
from services.cases.domain.integrity import (
    DISCREDIT_RECORDED_NOTICE,
    Bar,
    DiscreditTerm,
    check_not_barred,
)
from services.cases.repository import Note
from services.cases.sealed import (
    CASE_ID_NUMBER,
    CASE_MOBILE,
    DISCREDIT_ID_NUMBER,
    SECTION_ID_NUMBER,
    blind_id,
    in_transit,
    seal,
    unseal,
)
from shared.contracts.accounts.vocabulary import ROLE_LABELS
from shared.contracts.cases.integrity import (
    DISCREDIT_RECORDED,
    CaseNote,
    DiscreditRecorded,
    DiscreditStatus,
)
from shared.envelope import Envelope, new_event
from shared.masks import mask_id_number

COLUMNS = (
    "d.id, d.id_number, d.name, d.reason, d.starts_on, d.years, d.last_day, d.case_id,"
    " d.department, d.recorded_at, d.recorded_by_name, d.ended_at, d.ended_by_name,"
    " d.end_reason, c.case_no"
)
FROM = "discredits d LEFT JOIN cases c ON c.id = d.case_id"


# A case as a 失信 entry, a revocation or an objection needs it, locked, if the actor sees it.
CASE_FACTS = """
SELECT c.id, c.case_no, c.unit_id, c.state, c.status_label, c.outcome, c.applicant_id,
    c.applicant_name, c.applicant_mobile, c.department_id, d.name AS department_name,
    r.name AS round_name, q.name AS qualification_name, m.name AS committee_name,
    c.pre_publicity, c.post_publicity,
    coalesce(nullif(s.data->>'name', ''), c.applicant_name) AS holder_name,
    s.data->>'id_number' AS materials_id_number, c.applicant_id_number
FROM cases c
JOIN departments d ON d.id = c.department_id
JOIN rounds r ON r.id = c.round_id
JOIN qualifications q ON q.id = c.qualification_id
JOIN committees m ON m.id = c.committee_id
LEFT JOIN case_sections s ON s.case_id = c.id AND s.section = 'basic'
WHERE c.id = $1 AND {visible}
FOR UPDATE OF c
"""


async def case_for_update(conn, case_id: uuid.UUID, visible: str, args: list):
    """The case's facts, locked until the transaction ends; None when the actor may not see
    it (the condition `visible` on c, its arguments numbered from $2). The numbers opened:
    id_number is the one in the materials, else the account's at opening."""
    row = await conn.fetchrow(CASE_FACTS.format(visible=visible), case_id, *args)
    if row is None:
        return None
    facts = dict(row)
    materials = unseal(facts.pop("materials_id_number"), SECTION_ID_NUMBER)
    account = unseal(facts.pop("applicant_id_number"), CASE_ID_NUMBER)
    facts["id_number"] = materials or account or ""
    facts["applicant_mobile"] = unseal(row["applicant_mobile"], CASE_MOBILE)
    return facts


def normalised(id_number: str | None) -> str:
    return (id_number or "").strip().upper()


async def bars_of(conn, id_numbers: Iterable[str | None]) -> list[Bar]:
    """The entries not ended early against any of these ID numbers."""
    indexes = sorted({blind_id(n) for n in map(normalised, id_numbers) if n})
    if not indexes:
        return []
    rows = await conn.fetch(
        "SELECT starts_on, last_day FROM discredits"
        " WHERE id_number_index = ANY($1::text[]) AND ended_at IS NULL",
        indexes,
    )
    return [Bar(r["starts_on"], r["last_day"]) for r in rows]


async def check_id_numbers(conn, id_numbers: Iterable[str | None], today: date) -> None:
    """DeclarationBarred (saying until when) while an entry against one of them runs."""
    check_not_barred(await bars_of(conn, id_numbers), today)


async def check_case(conn, case_id: uuid.UUID, today: date) -> None:
    row = await conn.fetchrow(
        "SELECT c.applicant_id_number, s.data->>'id_number' AS materials_id_number"
        " FROM cases c LEFT JOIN case_sections s ON s.case_id = c.id AND s.section = 'basic'"
        " WHERE c.id = $1",
        case_id,
    )
    numbers = [
        unseal(row["applicant_id_number"], CASE_ID_NUMBER),
        unseal(row["materials_id_number"], SECTION_ID_NUMBER),
    ]
    await check_id_numbers(conn, numbers, today)


def status_of(row, today: date) -> DiscreditStatus:
    if row["ended_at"] is not None:
        return DiscreditStatus.ENDED
    if today > row["last_day"]:
        return DiscreditStatus.EXPIRED
    return DiscreditStatus.RUNNING


def view(row, today: date) -> dict:
    """An entry with its ID number masked: the sysadmin sees it in full by 显示完整号码."""
    status = status_of(row, today)
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "id_number": mask_id_number(unseal(row["id_number"], DISCREDIT_ID_NUMBER)),
        "reason": row["reason"],
        "starts_on": row["starts_on"].isoformat(),
        "years": row["years"],
        "last_day": row["last_day"].isoformat(),
        "status": status.value,
        "status_label": status.label,
        "case_id": str(row["case_id"]) if row["case_id"] else None,
        "case_no": row["case_no"],
        "department": row["department"],
        "recorded_at": row["recorded_at"].isoformat(),
        "recorded_by": row["recorded_by_name"],
        "ended_at": row["ended_at"].isoformat() if row["ended_at"] else None,
        "ended_by": row["ended_by_name"],
        "end_reason": row["end_reason"],
    }


async def entry(conn, entry_id: uuid.UUID, lock: bool = False):
    suffix = " FOR UPDATE OF d" if lock else ""
    return await conn.fetchrow(f"SELECT {COLUMNS} FROM {FROM} WHERE d.id = $1{suffix}", entry_id)


async def record(
    conn,
    actor,
    case,
    reason: str,
    term: DiscreditTerm,
    now: datetime,
    certificate_id: uuid.UUID | None = None,
) -> tuple[dict, Note, list[Envelope]]:
    """A 失信 entry against the ID number of `case` (a row with id, case_no, state, …,
    holder_name, id_number, department_id, department_name), its history note and events."""
    entry_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO discredits (id, id_number, name, reason, starts_on, years, last_day,"
        " case_id, certificate_id, department_id, department, recorded_at, recorded_by,"
        " recorded_by_name, id_number_index)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        entry_id,
        seal(normalised(case["id_number"]), DISCREDIT_ID_NUMBER),
        case["holder_name"],
        reason,
        term.starts_on,
        term.years,
        term.last_day,
        case["id"],
        certificate_id,
        case["department_id"],
        case["department_name"],
        now,
        actor.user_id,
        recorded_by(actor),
        blind_id(normalised(case["id_number"])),
    )
    note = Note(
        case["id"],
        CaseNote.DISCREDIT_RECORDED,
        case["state"],
        case["status_label"],
        case["outcome"],
        now,
        {
            "entry_id": str(entry_id),
            "starts_on": term.starts_on.isoformat(),
            "years": term.years,
            "last_day": term.last_day.isoformat(),
        },
        reason,
    )
    payload = DiscreditRecorded(
        entry_id=entry_id,
        case_id=case["id"],
        starts_on=term.starts_on.isoformat(),
        last_day=term.last_day.isoformat(),
        recorded_at=now.isoformat(),
    )
    events = [
        new_event(DISCREDIT_RECORDED.type, payload, "cases"),
        applicant_notice(case, DISCREDIT_RECORDED_NOTICE, "discredit_recorded", reason, now),
    ]
    return view(await entry(conn, entry_id), local_date(now)), note, events


def recorded_by(actor) -> str:
    role = ROLE_LABELS.get(actor.role, actor.role)
    return f"{actor.name}（{role}）" if actor.name else role


def applicant_notice(case, notice: str, action: str, reason: str | None, now) -> Envelope:
    """What the person is told by SMS, as the workflow tells them of a move."""
    payload = {
        "case_id": str(case["id"]),
        "case_no": case["case_no"],
        "action": action,
        "applicant_id": str(case["applicant_id"]),
        "applicant_name": case["applicant_name"],
        "applicant_mobile": in_transit(case["applicant_mobile"]),
        "round_name": case["round_name"],
        "qualification_name": case["qualification_name"],
        "notice": notice,
        "reason": reason,
        "at": now.isoformat(),
    }
    return new_event("case.applicant_notice", payload, "cases", correlation_id=None)

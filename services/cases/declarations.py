"""What 填报上报 needs beyond complete materials, and what it keeps: no running 失信 entry
against the applicant's ID numbers, and the 诚信承诺 in force accepted (its version, the
time and the client address are kept with the case and printed on the 评审（申报）表).
The rules are the domain's (services/cases/domain/integrity.py)."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError

from services.cases import discredits
from services.cases.domain.calendar import local_date
from services.cases.domain.integrity import check_pledge
from services.cases.domain.model import Action
from shared.contracts.cases.inputs import SubmitInput


async def current_pledge_version(conn) -> int:
    return await conn.fetchval("SELECT max(version) FROM pledge_versions") or 0


async def check_declaration(conn, case_id: uuid.UUID, inputs: dict, now: datetime) -> None:
    """DeclarationBarred while a 失信 entry runs; PledgeMissing / PledgeOutdated unless the
    version in force was accepted."""
    await discredits.check_case(conn, case_id, local_date(now))
    check_pledge(_accepted(inputs), await current_pledge_version(conn))


def _accepted(inputs: dict) -> int | None:
    try:
        return SubmitInput.model_validate(inputs or {}).pledge_version
    except ValidationError:
        return None  # the state machine then names the field as it names any bad input


async def record_pledges(conn, moved: Sequence, now: datetime, client_ip: str) -> None:
    """The 诚信承诺 accepted with each submission among the moved cases (workflow MovedCase)."""
    accepted = [
        (m.loaded.id, _acceptance(m.event.inputs["pledge_version"], now, client_ip))
        for m in moved
        if m.event.action is Action.SUBMIT
    ]
    if accepted:
        await conn.executemany("UPDATE cases SET pledge = $2 WHERE id = $1", accepted)


def _acceptance(version: int, now: datetime, client_ip: str) -> dict:
    return {"version": version, "accepted_at": now.isoformat(), "client_ip": client_ip or "?"}

"""Objections as callers see them: the case page, the objection page, the lists.

Who objected stays with those who must know: the department (which oversees publicity) sees
every objector, the unit only those it took in itself; nobody else, and never the applicant
(their case page shows no objections, their history only that one was taken in and found).
"""

import uuid

from services.cases.domain.objections import HANDLER_LABELS, may_find
from services.cases.repository import objection_from_row
from services.cases.sealed import OBJECTOR_CONTACT, unseal
from shared.contracts.accounts.vocabulary import ROLE_LABELS, UNIT_ROLES
from shared.contracts.cases.integrity import (
    PUBLIC_ACTOR,
    PUBLIC_ACTOR_LABEL,
    Finding,
    ObjectionSource,
    PublicityPhase,
)
from shared.masks import mask_mobile
from shared.rpc import Actor

COLUMNS = (
    "o.id, o.case_id, o.seq, o.phase, o.source, o.objector_name, o.objector_contact,"
    " o.content, o.received_at, o.recorded_by_name, o.recorded_by_role, o.finding,"
    " o.finding_text, o.found_at, o.found_by_name, o.found_by_role"
)
OPEN_LABEL = "待核实"


async def objection_rows(conn, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM objections o WHERE o.case_id = ANY($1::uuid[])"
        " ORDER BY o.case_id, o.seq",
        case_ids,
    )
    found: dict[uuid.UUID, list] = {}
    for row in rows:
        found.setdefault(row["case_id"], []).append(row)
    return found


def sees_objections(actor: Actor) -> bool:
    return actor.role not in ("applicant", "anonymous")


def sees_identity(actor: Actor, source: ObjectionSource) -> bool:
    if actor.role == "department":
        return True
    return actor.role in UNIT_ROLES and source is ObjectionSource.UNIT


def _who(name: str | None, role: str | None) -> str:
    if role == PUBLIC_ACTOR:
        return PUBLIC_ACTOR_LABEL
    label = ROLE_LABELS.get(role or "", role or "")
    return f"{name}（{label}）" if name else label


def view(row, actor: Actor) -> dict:
    objection = objection_from_row(row)
    source, phase = ObjectionSource(row["source"]), PublicityPhase(row["phase"])
    shown = sees_identity(actor, source)
    finding = Finding(row["finding"]) if row["finding"] else None
    return {
        "id": str(row["id"]),
        "case_id": str(row["case_id"]),
        "seq": row["seq"],
        "phase": phase.value,
        "phase_label": phase.label,
        "source": source.value,
        "source_label": source.label,
        "handler": objection.handler,
        "handler_label": HANDLER_LABELS[objection.handler],
        "objector_name": row["objector_name"] if shown else "",
        "objector_contact": mask_mobile(unseal(row["objector_contact"], OBJECTOR_CONTACT))
        if shown
        else "",
        "identity_hidden": not shown,
        "content": row["content"],
        "received_at": row["received_at"].isoformat(),
        "recorded_by": _who(row["recorded_by_name"], row["recorded_by_role"]),
        "status": finding.value if finding else "open",
        "status_label": finding.label if finding else OPEN_LABEL,
        "finding_text": row["finding_text"],
        "found_at": row["found_at"].isoformat() if row["found_at"] else None,
        "found_by": _who(row["found_by_name"], row["found_by_role"]) if finding else None,
        "may_find": objection.is_open and may_find(objection, actor.role),
    }

"""Meetings as rows and rows as the committee rules' values: the meeting (for its keeper),
its cases as recusal sees them, its drawn experts, the declared conflicts. The handlers
(handlers/meeting*.py) decide; this module reads and writes.
"""

import uuid
from dataclasses import dataclass

from services.cases.domain.committee import (
    Applicant,
    Expert,
    NoQuorum,
    NotEligible,
    NotEnoughExperts,
    RuleBroken,
    WorkUnit,
)
from services.cases.handlers.experts import keeper
from shared.contracts.cases.meetings import MeetingPhase
from shared.rpc import Actor, RpcError

MEETING = (
    "SELECT m.*, c.name AS committee_name, d.name AS department_name, r.name AS round_name,"
    " (SELECT count(*) FROM meeting_cases mc WHERE mc.meeting_id = m.id) AS case_count"
    " FROM meetings m JOIN committees c ON c.id = m.committee_id"
    " JOIN departments d ON d.id = c.department_id JOIN rounds r ON r.id = m.round_id"
)

# A refused act: the RPC code is the rule's, the status says whether to try again later.
LATER = 409  # the meeting is not (or no longer) in the phase for it
STATUS = {NoQuorum: 422, NotEnoughExperts: 422, NotEligible: 422}


def rule_error(error: RuleBroken) -> RpcError:
    status = next((s for kind, s in STATUS.items() if isinstance(error, kind)), LATER)
    return RpcError(error.code, error.message, status)


def not_found() -> RpcError:
    return RpcError("not_found", "评审会议不存在", 404)


async def fetch_meeting(conn, actor: Actor, meeting_id: uuid.UUID, lock: bool = False):
    """The meeting, if the actor keeps its committee's meetings; else 404, as none."""
    own = keeper(actor)
    row = await conn.fetchrow(
        MEETING + " WHERE m.id = $1" + (" FOR UPDATE OF m" if lock else ""), meeting_id
    )
    if row is None or (own is not None and row["committee_id"] != own):
        raise not_found()
    return row


def phase_of(row) -> MeetingPhase:
    return MeetingPhase(row["phase"])


# --- the cases before a meeting ---

CASES = (
    "SELECT mc.case_id, mc.position, mc.unit_name, mc.agree, mc.disagree, mc.abstain,"
    " mc.eligible, mc.present, mc.passed, c.case_no, c.applicant_name, c.unit_id, c.state,"
    " c.status_label, q.name AS qualification, q.level, q.series_id, t.name AS review_type"
    " FROM meeting_cases mc JOIN cases c ON c.id = mc.case_id"
    " JOIN qualifications q ON q.id = c.qualification_id"
    " JOIN review_types t ON t.id = c.review_type_id"
    " WHERE mc.meeting_id = $1 ORDER BY mc.position"
)


async def meeting_cases(conn, meeting_id: uuid.UUID) -> list:
    return await conn.fetch(CASES, meeting_id)


def applicant_of(row) -> Applicant:
    unit = WorkUnit(str(row["unit_id"]), row["unit_name"])
    return Applicant(str(row["case_id"]), unit, row["series_id"], row["level"])


# --- the experts ---


def expert_of(row, id_column: str = "expert_id") -> Expert:
    unit = WorkUnit(str(row["unit_id"]) if row["unit_id"] else None, row["unit_name"])
    return Expert(str(row[id_column]), unit, row["series_id"], row["title_level"])


MEMBERS = (
    "SELECT mm.*, s.name AS series_name, r.name AS replaces_name FROM meeting_members mm"
    " JOIN series s ON s.id = mm.series_id"
    " LEFT JOIN meeting_members r ON r.meeting_id = mm.meeting_id AND r.expert_id = mm.replaces"
    " WHERE mm.meeting_id = $1 ORDER BY mm.drawn_rank"
)


async def meeting_members(conn, meeting_id: uuid.UUID) -> list:
    return await conn.fetch(MEMBERS, meeting_id)


async def declared_conflicts(conn, case_ids: list[uuid.UUID]) -> frozenset[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT expert_id, case_id FROM expert_conflicts WHERE case_id = ANY($1::uuid[])",
        case_ids,
    )
    return frozenset((str(r["expert_id"]), str(r["case_id"])) for r in rows)


# --- the expert signed in ---


@dataclass(frozen=True)
class Seat:
    """The signed-in expert's place at a meeting."""

    expert_id: uuid.UUID
    name: str
    seated: bool
    declined: bool
    present: bool | None
    left: int | None  # votes still owed, once the vote opened


async def seat_of(conn, actor: Actor, meeting_id: uuid.UUID) -> Seat | None:
    """The signed-in expert's place at this meeting: None if they were never told of it (not
    drawn, or a reserve not seated)."""
    if actor.role != "expert" or actor.user_id is None:
        raise RpcError("forbidden", "只有评审专家可以查看表决页面", 403)
    row = await conn.fetchrow(
        "SELECT mm.expert_id, mm.name, mm.seated, mm.declined_at IS NOT NULL AS declined,"
        " mm.present, mm.to_vote - mm.voted AS left FROM meeting_members mm"
        " JOIN expert_accounts a ON a.id_number_index = mm.id_number_index"
        " WHERE mm.meeting_id = $1 AND a.user_id = $2"
        " AND (mm.seated OR mm.declined_at IS NOT NULL)",
        meeting_id,
        actor.user_id,
    )
    if row is None:
        return None
    return Seat(
        row["expert_id"], row["name"], row["seated"], row["declined"], row["present"], row["left"]
    )

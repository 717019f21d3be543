"""A meeting as its keeper reads it: the plan, the cases with their progress (how many have
voted, never how) and, once closed, their tallies; the drawn experts, the draw's record, the
conflicts and who does not vote on which case; and what the keeper may do now."""

import uuid

from services.cases.domain.committee import Basis
from services.cases.domain.meetings import exclusions
from services.cases.handlers.committee_rules import (
    bounds_of_row,
    committee_rules_row,
    highest_level,
)
from services.cases.meeting_repository import (
    applicant_of,
    declared_conflicts,
    expert_of,
    meeting_cases,
    meeting_members,
    phase_of,
)
from services.cases.sealed import MEMBER_MOBILE, unseal
from shared.contracts.cases.meetings import RECUSAL_LABELS, MeetingPhase
from shared.masks import mask_mobile

P = MeetingPhase
ACTIONS = {
    P.PLANNED: ("assign", "unassign", "draw", "conflict", "cancel"),
    P.DRAWN: ("decline", "conflict", "open", "cancel", "print_members"),
    P.VOTING: ("close", "print_members"),
    P.CLOSED: ("print_result", "print_members"),
    P.CANCELLED: (),
}


def meeting_row(row) -> dict:
    phase = phase_of(row)
    return {
        "id": str(row["id"]),
        "committee_id": row["committee_id"],
        "committee_name": row["committee_name"],
        "round_id": row["round_id"],
        "round_name": row["round_name"],
        "meets_on": row["meets_on"].isoformat(),
        "starts_at": row["starts_at"].strftime("%H:%M"),
        "place": row["place"],
        "size": row["size"],
        "phase": phase.value,
        "phase_label": phase.label,
        "cases": row["case_count"],
        "created_at": row["created_at"].isoformat(),
    }


async def meeting_view(conn, row, settings) -> dict:
    phase = phase_of(row)
    cases = await meeting_cases(conn, row["id"])
    members = await meeting_members(conn, row["id"])
    rules = await committee_rules_row(conn, row["committee_id"])
    bounds = bounds_of_row(rules, settings)
    excluded = await exclusion_rows(conn, row, cases, members)
    progress = await _progress(conn, row["id"]) if phase == P.VOTING else {}
    owed = await owed_by_member(conn, row["id"]) if phase == P.VOTING else {}
    seated = [m for m in members if m["seated"]]
    present = sum(1 for m in seated if m["present"]) if phase in (P.VOTING, P.CLOSED) else None
    return {
        **meeting_row(row),
        "department_name": row["department_name"],
        "level": highest_level(rules["levels"]),
        "basis": Basis(rules["basis"] or Basis.SERIES).value,
        "minimum": bounds.minimum,
        "maximum": bounds.maximum,
        "version": row["version"],
        "cases_before": [_case(c, phase, progress) for c in cases],
        "members": [_member(m, phase, owed) for m in members],
        "exclusions": excluded,
        "conflicts": await _conflicts(conn, cases),
        "draw": _draw(row, members),
        "present": present,
        "quorum": -(-2 * len(seated) // 3) if seated else None,
        "votes_owed": sum(owed.values()) if phase == P.VOTING else None,
        "opened_at": _iso(row["opened_at"]),
        "closed_at": _iso(row["closed_at"]),
        "cancelled_at": _iso(row["cancelled_at"]),
        "cancel_reason": row["cancel_reason"],
        "actions": list(ACTIONS[phase]),
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _case(row, phase: MeetingPhase, progress: dict) -> dict:
    voting = phase in (P.VOTING, P.CLOSED)
    return {
        "case_id": str(row["case_id"]),
        "case_no": row["case_no"],
        "name": row["applicant_name"],
        "unit_name": row["unit_name"],
        "qualification": row["qualification"],
        "level": row["level"],
        "review_type": row["review_type"],
        "state": row["state"],
        "status": row["status_label"],
        "eligible": row["eligible"] if voting else None,
        "voted": progress.get(row["case_id"], 0) if phase == P.VOTING else None,
        "tally": tally_of(row) if phase == P.CLOSED else None,
    }


def tally_of(row) -> dict | None:
    """The counts, once the vote closed (while it is open nobody sees them)."""
    if row["passed"] is None:
        return None
    return {
        "present": row["present"],
        "eligible": row["eligible"],
        "agree": row["agree"],
        "disagree": row["disagree"],
        "abstain": row["abstain"],
        "passed": row["passed"],
    }


def _member(row, phase: MeetingPhase, owed: dict) -> dict:
    return {
        "expert_id": str(row["expert_id"]),
        "name": row["name"],
        "unit_name": row["unit_name"],
        "series_name": row["series_name"],
        "speciality": row["speciality"],
        "title_level": row["title_level"],
        "mobile": mask_mobile(unseal(row["mobile"], MEMBER_MOBILE)),
        "drawn_rank": row["drawn_rank"],
        "drawn_as": row["drawn_as"],
        "seated": row["seated"],
        "declined": row["declined_at"] is not None,
        "decline_reason": row["decline_reason"],
        "replaces": row["replaces_name"],
        "present": row["present"],
        "owed": owed.get(row["expert_id"], 0) if phase == P.VOTING and row["present"] else None,
    }


def _draw(row, members) -> dict | None:
    if row["seed"] is None:
        return None
    order = sorted(members, key=lambda m: m["drawn_rank"])
    return {
        "seed": row["seed"],
        "pool": list(row["pool"]),
        "size": row["size"],
        "reserve_ratio": row["reserve_ratio"],
        "drawn_order": [str(m["expert_id"]) for m in order],
        "drawn_at": row["drawn_at"].isoformat(),
        "drawn_by": row["drawn_by"],
    }


# --- who does not vote on which case ---


async def exclusion_rows(conn, meeting, cases, members) -> list[dict]:
    """As stored once the vote opened; before that, as it would open now."""
    names = {m["expert_id"]: m["name"] for m in members}
    case_names = {c["case_id"]: c["applicant_name"] for c in cases}
    if phase_of(meeting) in (P.VOTING, P.CLOSED):
        rows = await conn.fetch(
            "SELECT case_id, expert_id, reason FROM meeting_exclusions WHERE meeting_id = $1",
            meeting["id"],
        )
        found = [(r["case_id"], r["expert_id"], r["reason"]) for r in rows]
    else:
        found = await live_exclusions(conn, cases, [m for m in members if m["seated"]])
    order = {c["case_id"]: n for n, c in enumerate(cases)}
    found.sort(key=lambda f: (order.get(f[0], 0), names.get(f[1], "")))
    return [
        {
            "case_id": str(case_id),
            "case_name": case_names.get(case_id, ""),
            "expert_id": str(expert_id),
            "expert_name": names.get(expert_id, ""),
            "reason": str(reason),
            "reason_label": RECUSAL_LABELS[str(reason)],
        }
        for case_id, expert_id, reason in found
    ]


async def live_exclusions(conn, cases, seated) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    if not cases or not seated:
        return []
    declared = await declared_conflicts(conn, [c["case_id"] for c in cases])
    experts = [expert_of(m) for m in seated]
    found = exclusions(experts, [applicant_of(c) for c in cases], declared)
    return [(uuid.UUID(c), uuid.UUID(e), reason.value) for c, e, reason in found]


async def _conflicts(conn, cases) -> list[dict]:
    if not cases:
        return []
    rows = await conn.fetch(
        "SELECT x.expert_id, x.case_id, x.reason, x.declared_by, e.name AS expert_name"
        " FROM expert_conflicts x JOIN experts e ON e.id = x.expert_id"
        " WHERE x.case_id = ANY($1::uuid[]) ORDER BY x.declared_at",
        [c["case_id"] for c in cases],
    )
    case_names = {c["case_id"]: c["applicant_name"] for c in cases}
    return [
        {
            "case_id": str(r["case_id"]),
            "case_name": case_names[r["case_id"]],
            "expert_id": str(r["expert_id"]),
            "expert_name": r["expert_name"],
            "reason": r["reason"],
            "declared_by": r["declared_by"],
        }
        for r in rows
    ]


# --- progress: counts of marks, never a choice ---


async def _progress(conn, meeting_id) -> dict:
    rows = await conn.fetch(
        "SELECT case_id, count(*) AS n FROM meeting_votes_cast WHERE meeting_id = $1"
        " GROUP BY case_id",
        meeting_id,
    )
    return {r["case_id"]: r["n"] for r in rows}


OWED = (
    "SELECT mm.expert_id, mm.name, count(*) AS owed FROM meeting_members mm"
    " JOIN meeting_cases mc ON mc.meeting_id = mm.meeting_id"
    " WHERE mm.meeting_id = $1 AND mm.seated AND mm.present"
    " AND NOT EXISTS (SELECT 1 FROM meeting_exclusions x WHERE x.meeting_id = mm.meeting_id"
    "  AND x.case_id = mc.case_id AND x.expert_id = mm.expert_id)"
    " AND NOT EXISTS (SELECT 1 FROM meeting_votes_cast v WHERE v.meeting_id = mm.meeting_id"
    "  AND v.case_id = mc.case_id AND v.expert_id = mm.expert_id)"
    " GROUP BY mm.expert_id, mm.name"
)


async def owed_by_member(conn, meeting_id) -> dict:
    return {r["expert_id"]: r["owed"] for r in await conn.fetch(OWED, meeting_id)}


async def owed_by_name(conn, meeting_id) -> dict[str, int]:
    return {r["name"]: r["owed"] for r in await conn.fetch(OWED, meeting_id)}


# --- what the meeting's PDFs print ---


async def meeting_record(conn, row) -> dict:
    cases = await meeting_cases(conn, row["id"])
    members = await meeting_members(conn, row["id"])
    excluded = await exclusion_rows(conn, row, cases, members)
    by_case: dict[str, list[str]] = {}
    for x in excluded:
        by_case.setdefault(x["case_id"], []).append(f"{x['expert_name']}（{x['reason_label']}）")
    return {
        "meeting_id": str(row["id"]),
        "committee_name": row["committee_name"],
        "department_name": row["department_name"],
        "round_name": row["round_name"],
        "meets_on": row["meets_on"].isoformat(),
        "starts_at": row["starts_at"].strftime("%H:%M"),
        "place": row["place"],
        "size": row["size"],
        "phase": row["phase"],
        "seed": row["seed"],
        "pool_size": len(row["pool"] or []),
        "drawn_at": _iso(row["drawn_at"]),
        "members": [_record_member(m) for m in members],
        "cases": [
            {
                "case_no": c["case_no"],
                "name": c["applicant_name"],
                "unit_name": c["unit_name"],
                "qualification": c["qualification"],
                "exclusions": by_case.get(str(c["case_id"]), []),
                "tally": tally_of(c),
            }
            for c in cases
        ],
        "closed_at": _iso(row["closed_at"]),
    }


def _record_member(m) -> dict:
    return {
        "name": m["name"],
        "unit_name": m["unit_name"],
        "title_level": m["title_level"],
        "speciality": m["speciality"],
        "drawn_rank": m["drawn_rank"],
        "drawn_as": m["drawn_as"],
        "seated": m["seated"],
        "declined": m["declined_at"] is not None,
        "decline_reason": m["decline_reason"],
        "present": m["present"],
    }

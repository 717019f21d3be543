"""What the audit trail records of a review meeting's own steps and of the expert library
(docs/audit.md): one entry per step, written by `record` last in the step's transaction.

No names, ID numbers, mobiles or reasons in the details: experts are named by their library
entry's id. A vote is not recorded at all: the ballot is secret, and a row per ballot would
put a time beside the mark that docs/committee.md keeps without one. What the trail holds of
the vote is the tally per case written when it closes, as the keeper's page shows it then.
"""

from typing import Any

from shared.audit import Entry


def meeting_label(meeting) -> str:
    """The meeting as the pages name it: its date and committee."""
    return f"{meeting['meets_on'].isoformat()} {meeting['committee_name']}评审会议"


def meeting_entry(action: str, meeting, case_ids=(), **details: Any) -> Entry:
    return Entry(
        f"meeting.{action}",
        "meeting",
        meeting["id"],
        meeting_label(meeting),
        list(case_ids),
        details=details,
    )


def expert_entry(action: str, expert_id, name: str, committee_id: str, **details: Any) -> Entry:
    return Entry(
        f"expert.{action}",
        "expert",
        expert_id,
        name,
        details={"committee_id": committee_id, **details},
    )


def tally(decided, numbers: dict[str, str]) -> dict[str, dict]:
    """The counts per case by its number, as the keeper's page shows them once closed."""
    return {
        numbers.get(r.case_id, r.case_id): {
            "present": r.present,
            "eligible": r.eligible,
            "agree": r.agree,
            "disagree": r.disagree,
            "abstain": r.abstain,
            "passed": r.passed,
        }
        for r in decided
    }

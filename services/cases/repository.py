"""Cases as rows and rows as cases: the only place that knows both shapes."""

from datetime import date

from services.cases.domain.model import (
    Action,
    ApproveInput,
    AssessmentResult,
    Case,
    CaseState,
    Outcome,
    Publicity,
    RoundRules,
)

CASE_COLUMNS = (
    "c.id, c.case_no, c.unit_id, c.applicant_id, c.applicant_name, c.applicant_mobile,"
    " c.round_id, c.review_type_id, c.qualification_id, c.committee_id, c.department_id,"
    " c.needs_pre_approval, c.exemptions, c.state, c.outcome, c.version, c.last_action,"
    " c.last_reason, c.status_label, c.unit_approval, c.pre_publicity, c.post_publicity,"
    " c.form_printed_at, c.created_at, c.updated_at"
)


def _publicity(data: dict | None) -> Publicity | None:
    if not data:
        return None
    return Publicity(
        start=date.fromisoformat(data["start"]),
        end=date.fromisoformat(data["end"]),
        method=data.get("method"),
        contact=data.get("contact"),
        passed=data.get("passed"),
        feedback=data.get("feedback"),
    )


def publicity_json(period: Publicity | None) -> dict | None:
    if period is None:
        return None
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "method": period.method,
        "contact": period.contact,
        "passed": period.passed,
        "feedback": period.feedback,
    }


def _approval(data: dict | None) -> ApproveInput | None:
    if not data:
        return None
    years = {int(y): AssessmentResult(r) for y, r in data["annual_assessments"].items()}
    return ApproveInput.model_construct(**{**data, "annual_assessments": years})


def case_from_row(row) -> Case:
    approval = row["unit_approval"]
    return Case(
        id=str(row["id"]),
        needs_pre_approval=row["needs_pre_approval"],
        state=CaseState(row["state"]),
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        version=row["version"],
        last_action=Action(row["last_action"]) if row["last_action"] else None,
        last_reason=row["last_reason"],
        # Stored approvals were validated when given; the five years they cover move on.
        unit_approval=_approval(approval),
        pre_publicity=_publicity(row["pre_publicity"]),
        post_publicity=_publicity(row["post_publicity"]),
        form_printed_at=row["form_printed_at"],
    )


def rules_from_row(row) -> RoundRules:
    return RoundRules(
        evaluation_max_length=row["evaluation_max_length"],
        pre_publicity_working_days=row["pre_publicity_days"],
        post_publicity_working_days=row["post_publicity_days"],
    )


def case_update_args(case: Case, old_version: int, now) -> tuple:
    approval = case.unit_approval.model_dump(mode="json") if case.unit_approval else None
    return (
        case.id,
        old_version,
        case.state.value,
        case.outcome.value if case.outcome else None,
        case.version,
        case.last_action.value if case.last_action else None,
        case.last_reason,
        case.status_label,
        approval,
        publicity_json(case.pre_publicity),
        publicity_json(case.post_publicity),
        case.form_printed_at,
        now,
        case.state is CaseState.DEPT_ACCEPTANCE,
        case.state is CaseState.OFFICE_APPROVAL,
        case.state is CaseState.COMMITTEE_REVIEW,
    )


UPDATE_CASE = """
UPDATE cases SET state = $3, outcome = $4, version = $5, last_action = $6, last_reason = $7,
    status_label = $8, unit_approval = $9, pre_publicity = $10, post_publicity = $11,
    form_printed_at = $12, updated_at = $13,
    reached_department = reached_department OR $14,
    reached_office = reached_office OR $15,
    reached_committee = reached_committee OR $16
WHERE id = $1::uuid AND version = $2
"""

"""Snapshots from what the cases service answers to `case.get`, for whoever asks to print.

The caller (the gateway's printing pages) has each case as `case.get` shows it to the
actor, and the unit's name from accounts; these functions pick what each document prints.
Pure: no I/O, and nothing from the cases service's code (its answer is the contract).
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from services.documents.render.snapshots import (
    Acceptance,
    Approval,
    Attachment,
    Basic,
    CaseHead,
    DeclarationForm,
    Publicity,
    PublicityReport,
    RegistrationForm,
    Roster,
    RosterPerson,
)

CHINA = ZoneInfo("Asia/Shanghai")
EXEMPTION_LABELS = {"computer": "计算机免考", "language": "外语免考"}  # cases' materials.EXEMPTIONS

Case = dict[str, Any]
Which = Literal["pre", "post"]


def case_head(case: Case, unit_name: str) -> CaseHead:
    return CaseHead(
        case_id=case["id"],
        case_no=case["case_no"],
        round_name=case["round"],
        unit_name=unit_name,
        applicant_name=case["name"],
        review_type=case["review_type"],
        qualification=case["qualification"],
        committee=case["committee"],
        department=case["department"],
    )


def basic(case: Case) -> Basic:
    data = dict((case.get("sections") or {}).get("basic") or {})
    data["exemptions"] = [EXEMPTION_LABELS.get(e, e) for e in data.get("exemptions") or []]
    data.setdefault("name", case["name"])
    return Basic.model_validate({k: v for k, v in data.items() if v is not None})


def registration_form(case: Case, unit_name: str) -> RegistrationForm:
    return RegistrationForm(**_materials(case, unit_name))


def declaration_form(case: Case, unit_name: str) -> DeclarationForm:
    return DeclarationForm(
        **_materials(case, unit_name),
        pre_publicity=Publicity.model_validate(case["pre_publicity"]),
        acceptance=Acceptance(
            accepted_on=_last_day(case, "accept"),
            pre_approved_on=_last_day(case, "grant_pre_approval"),
        ),
    )


def publicity_report(case: Case, unit_name: str, which: Which) -> PublicityReport:
    return PublicityReport(
        case=case_head(case, unit_name),
        basic=basic(case),
        publicity=Publicity.model_validate(case[f"{which}_publicity"]),
    )


def roster_person(case: Case) -> RosterPerson:
    b = basic(case)
    return RosterPerson(
        case_id=case["id"],
        name=case["name"],
        gender=b.gender,
        birth_date=b.birth_date,
        education=b.education,
        current_title=b.current_title,
        qualification=case["qualification"],
        review_type=case["review_type"],
        committee=case["committee"],
    )


def roster(cases: Sequence[Case], unit_name: str, which: Which) -> Roster:
    """One roster for cases publicised together; ValueError if their periods differ."""
    periods = {_period_key(c[f"{which}_publicity"]) for c in cases}
    if len(periods) != 1:
        raise ValueError("名册中的人员须处于同一公示期，请按公示时间分别打印")
    period = Publicity.model_validate(cases[0][f"{which}_publicity"])
    return Roster(
        unit_name=unit_name,
        round_name=cases[0]["round"],
        publicity=period.model_copy(update={"passed": None, "feedback": None}),
        people=[roster_person(c) for c in cases],
    )


def _period_key(publicity: dict | None) -> tuple:
    p = publicity or {}
    return (p.get("start"), p.get("end"), p.get("method"), p.get("contact"))


def _materials(case: Case, unit_name: str) -> dict[str, Any]:
    sections = case.get("sections") or {}
    approval = dict(case.get("unit_approval") or {})
    approval["annual_assessments"] = {
        str(year): result for year, result in (approval.get("annual_assessments") or {}).items()
    }
    return {
        "case": case_head(case, unit_name),
        "basic": basic(case),
        "work_history": (sections.get("work_history") or {}).get("entries", []),
        "achievements": (sections.get("achievements") or {}).get("entries", []),
        "education_hours": (sections.get("education") or {}).get("hours_by_year", {}),
        "unit_approval": Approval(**approval, approved_on=_last_day(case, "approve")),
        "attachments": [
            Attachment(category=a["category_name"], filename=a["filename"])
            for a in case.get("attachments") or []
        ],
    }


def _last_day(case: Case, action: str) -> date | None:
    """The day (in China) the case last went through `action`, from its history."""
    times = [h["at"] for h in case.get("history") or [] if h["action"] == action]
    if not times:
        return None
    return datetime.fromisoformat(times[-1]).astimezone(CHINA).date()

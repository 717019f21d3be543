"""Snapshots from what the cases service answers to `case.get`, for whoever asks to print.

The print job runner (jobs.py) has each case as `case.get_many` shows it to the person
printing, and the unit's name from accounts; these functions pick what each document prints.
Pure: no I/O, and nothing from the cases service's code: its answer is the contract
(shared/contracts/cases/rpc.py CaseView), and so is which cases have which document
(shared/contracts/documents/vocabulary.py not_printable).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from shared.contracts.cases.materials import EXEMPTIONS
from shared.contracts.documents.snapshots import (
    Acceptance,
    Approval,
    Attachment,
    Basic,
    CaseHead,
    DeclarationForm,
    ObjectionLine,
    PledgeAccepted,
    Publicity,
    PublicityReport,
    RegistrationForm,
    Roster,
    RosterPerson,
)
from shared.contracts.documents.vocabulary import not_printable

CHINA = ZoneInfo("Asia/Shanghai")

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
    data["exemptions"] = [EXEMPTIONS.get(e, e) for e in data.get("exemptions") or []]
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
        pledge=PledgeAccepted.model_validate(case["pledge"]) if case.get("pledge") else None,
    )


def publicity_report(case: Case, unit_name: str, which: Which) -> PublicityReport:
    return PublicityReport(
        case=case_head(case, unit_name),
        basic=basic(case),
        publicity=Publicity.model_validate(case[f"{which}_publicity"]),
        objections=[_objection(o) for o in case.get("objections") or [] if o["phase"] == which],
    )


def _objection(objection: dict) -> ObjectionLine:
    received = datetime.fromisoformat(objection["received_at"]).astimezone(CHINA).date()
    return ObjectionLine(
        seq=objection["seq"],
        received_on=received,
        source=objection["source_label"],
        content=objection["content"],
        status=objection["status_label"],
        finding_text=objection["finding_text"],
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


# --- a print job's selection: which cases have the document, and its snapshots ---


@dataclass
class Selection:
    """The snapshots to print, in order, and the cases left out with the reason why."""

    snapshots: list = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {case_id, name, reason}

    def skip(self, case: Case, reason: str) -> None:
        self.skipped.append({"case_id": str(case["id"]), "name": case["name"], "reason": reason})


def select(kind: str, cases: Sequence[Case], unit_names: dict[str, str]) -> Selection:
    """The snapshots of `kind` for these cases (rosters: one per unit and publicity period)."""
    selection = Selection()
    ready = []
    for case in cases:
        reason = not_printable(kind, case)
        if reason is None and not unit_names.get(case["unit_id"]):
            reason = "找不到申报单位的信息"
        if reason:
            selection.skip(case, reason)
        else:
            ready.append(case)
    if kind.endswith("_roster"):
        _add_rosters(selection, kind, ready, unit_names)
    else:
        for case in ready:
            _add_one(selection, kind, case, unit_names[case["unit_id"]])
    return selection


def _add_one(selection: Selection, kind: str, case: Case, unit_name: str) -> None:
    try:
        if kind == "registration_form":
            snapshot = registration_form(case, unit_name)
        elif kind == "declaration_form":
            snapshot = declaration_form(case, unit_name)
        else:
            snapshot = publicity_report(case, unit_name, _which(kind))
    except ValidationError as error:
        selection.skip(case, _unprintable(error))
        return
    selection.snapshots.append(snapshot)


def _add_rosters(selection: Selection, kind: str, cases: list[Case], names: dict) -> None:
    which = _which(kind)
    groups: dict[tuple, list[Case]] = {}  # in order of first appearance
    for case in cases:
        key = (case["unit_id"], case["round"], _period_key(case[f"{which}_publicity"]))
        groups.setdefault(key, []).append(case)
    for (unit_id, _, _), members in groups.items():
        people = []
        for case in members:
            try:
                people.append(roster_person(case))
            except ValidationError as error:
                selection.skip(case, _unprintable(error))
        if people:
            selection.snapshots.append(_roster_of(members[0], people, names[unit_id], which))


def _roster_of(first: Case, people: list[RosterPerson], unit_name: str, which: Which) -> Roster:
    period = Publicity.model_validate(first[f"{which}_publicity"])
    return Roster(
        unit_name=unit_name,
        round_name=first["round"],
        publicity=period.model_copy(update={"passed": None, "feedback": None}),
        people=people,
    )


def _which(kind: str) -> Which:
    return "pre" if kind.startswith("pre_") else "post"


def _unprintable(error: ValidationError) -> str:
    where = ".".join(str(p) for p in error.errors()[0]["loc"])
    return f"申报材料中有无法打印的内容（{where}），请核对后再打印"

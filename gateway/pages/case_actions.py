"""One case: 查看申报材料 (materials, scans, the unit's approval, publicity, history, buttons)
and the form of each single action, which carries the version the page showed so that a case
moved meanwhile gets a clear conflict instead of a second transition.
"""

import re
from urllib.parse import urlencode

from aiohttp import web

from gateway.auth import CSRF_FIELD, current_user, login_required
from gateway.pages import print_pages
from gateway.pages.case_forms import (
    ASSESSMENT_CHOICES,
    DOCUMENT_LABELS,
    PRINTED_BY,
    REASON_LABELS,
    action_button,
    done_message,
    form_errors,
    form_kind,
    history_note,
    inputs_from,
    local_time,
    parse_action,
    print_buttons,
    return_targets,
    year_field,
)
from gateway.pages.certificate_pages import certificate_of
from gateway.web import call, local_path, render, see_other, shows_on_form
from shared.contracts.accounts.vocabulary import UNIT_ROLES, WORK_ROLES
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.cases.inputs import DEFAULT_EVALUATION_MAX_LENGTH, NO_NEGATIVE_SITUATION
from shared.contracts.cases.materials import EXEMPTIONS, Achievement, Basic, WorkEntry
from shared.contracts.cases.vocabulary import Action, Outcome
from shared.contracts.documents.vocabulary import not_printable
from shared.rpc import RpcError

DEFAULT_EVALUATION_LIMIT = DEFAULT_EVALUATION_MAX_LENGTH
YEAR_FIELD = re.compile(r"^year_(\d{4})$")


def case_url(case_id: str, back: str | None = None) -> str:
    return f"/cases/{case_id}" + (f"?{urlencode({'back': back})}" if back else "")


async def _case(request: web.Request) -> dict:
    return await call(request, cases_rpc.CASE_GET, {"case_id": request.match_info["case_id"]})


def _action(request: web.Request) -> Action:
    action = parse_action(request.match_info["action"])
    if action is None:
        raise web.HTTPNotFound()
    return action


# --- 查看申报材料 ---


@login_required()
async def case_view(request: web.Request) -> web.Response:
    case = await _case(request)
    back = local_path(request.query.get("back"))
    context = {
        "case": case,
        "back": back,
        "here": request.path_qs,
        "outcome": Outcome(case["outcome"]).label if case["outcome"] else "",
        "buttons": [_button(case, Action(a), request.path_qs) for a in case["actions"]],
        "basic": _basic(case["sections"].get("basic") or {}),
        "work_history": _entries(case, "work_history", WorkEntry),
        "achievements": _entries(case, "achievements", Achievement),
        "education": _education(case["sections"].get("education") or {}),
        "scans": [_scan(a) for a in case["attachments"]],
        "approval": _approval(case["unit_approval"]),
        "history": [
            {**h, "when": local_time(h["at"]), "note": history_note(h)} for h in case["history"]
        ],
        "prints": _prints(request, case),
        "certificate": await certificate_of(request, case),
    }
    return render(request, "cases/case.html", context)


# Reviewers (and the experts of a meeting) read the forms a case carries; the rosters and
# publicity reports are the unit's.
REVIEWER_DOCUMENTS = ("registration_form", "declaration_form")
READERS = (*WORK_ROLES, "expert")


def _prints(request: web.Request, case: dict) -> list[dict]:
    """The documents this case has so far: for the unit to print or reprint, for a reviewer
    the forms to read (printing does not move the case for them)."""
    role = current_user(request)["role"]
    if role not in READERS:
        return []
    kinds = DOCUMENT_LABELS if role in UNIT_ROLES else REVIEWER_DOCUMENTS
    offered = {PRINTED_BY[Action(a)] for a in case["actions"] if Action(a) in PRINTED_BY}
    return print_buttons(k for k in kinds if k not in offered and not_printable(k, case) is None)


def _button(case: dict, action: Action, here: str) -> dict:
    button = action_button(case["id"], action)
    if button["form"]:
        button["url"] += "?" + urlencode({"back": here})
    return button


def _basic(data: dict) -> list[tuple[str, str]]:
    rows = []
    for name, field in Basic.model_fields.items():
        value = data.get(name)
        if name == "exemptions":
            value = "、".join(EXEMPTIONS.get(e, e) for e in value or []) or "无"
        elif name == "years_in_field" and value is not None:
            value = f"{value} 年"
        rows.append((field.title or name, "" if value in (None, "") else str(value)))
    return rows


def _entries(case: dict, section: str, model) -> dict:
    entries = (case["sections"].get(section) or {}).get("entries") or []
    columns = [(name, f.title or name) for name, f in model.model_fields.items()]
    return {"columns": columns, "entries": entries}


def _education(data: dict) -> dict:
    hours = sorted((data.get("hours_by_year") or {}).items())
    return {"years": hours, "total": sum(h for _, h in hours)}


def _scan(attachment: dict) -> dict:
    size = attachment["size_bytes"]
    shown = f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{max(1, round(size / 1024))} KB"
    kind = "image" if attachment["content_type"].startswith("image/") else "pdf"
    return {
        **attachment,
        "url": f"/api/files/{attachment['file_id']}",
        "kind": kind,
        "size": shown,
        "when": local_time(attachment["uploaded_at"]),
    }


def _approval(data: dict | None) -> dict | None:
    if not data:
        return None
    years = sorted((data.get("annual_assessments") or {}).items())
    return {**data, "years": years}


# --- one action on one case ---


@login_required()
async def action_page(request: web.Request) -> web.Response:
    action = _action(request)
    case = await _case(request)
    back = local_path(request.query.get("back"))
    if action.value not in case["actions"]:
        message = f"业务状态为“{case['status']}”，不能进行“{action.verb}”操作"
        return see_other(request, case_url(case["id"], back), message, "error")
    values = {"expected_version": str(case["version"]), "back": back or ""}
    if form_kind(action) == "approve":
        values["negative_situation"] = NO_NEGATIVE_SITUATION
    return await _form(request, case, action, values)


@login_required()
async def act(request: web.Request) -> web.Response:
    action = _action(request)
    data = await request.post()
    values = {k: v for k, v in data.items() if isinstance(v, str) and k != CSRF_FIELD}
    back = local_path(values.get("back"))
    if action in PRINTED_BY:  # moves on once the PDF exists, not before
        case_id = request.match_info["case_id"]
        where = back or case_url(case_id)
        return await print_pages.start_job(request, PRINTED_BY[action], [case_id], where)
    version = values.get("expected_version", "")
    years = sorted(int(m.group(1)) for k in values if (m := YEAR_FIELD.match(k)))
    params = {
        "case_id": request.match_info["case_id"],
        "action": action.value,
        "inputs": inputs_from(action, values, years),
        "expected_version": int(version) if version.isdecimal() else None,
    }
    try:
        result = await call(request, cases_rpc.CASE_ACT, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        if form_kind(action) == "none":  # a button on a list or on the case: back there
            where = back or case_url(params["case_id"])
            return see_other(request, where, f"未能{action.verb}：{error.message}", "error")
        return await _form(request, await _case(request), action, values, error)
    return see_other(request, back or case_url(result["case_id"]), done_message(action, result))


async def _form(
    request: web.Request,
    case: dict,
    action: Action,
    values: dict,
    error: RpcError | None = None,
) -> web.Response:
    kind = form_kind(action)
    years = case["assessment_years"]
    context = {
        "case": case,
        "action": action,
        "kind": kind,
        "values": values,
        "errors": form_errors(error.fields, values, years) if error else {},
        "problem": error.message if error else None,
        "back": values.get("back") or "",
        "view_url": case_url(case["id"]),
        "years": [(y, year_field(y)) for y in years],
        "assessment_options": [("", "--请选择--")] + [(c, c) for c in ASSESSMENT_CHOICES],
        "reason_label": REASON_LABELS.get(action, "原因"),
        "targets": return_targets(case["state"]) if kind == "return" else [],
        "evaluation_limit": DEFAULT_EVALUATION_LIMIT,
    }
    if kind == "approve":
        context["evaluation_limit"] = await _evaluation_limit(request, case)
    status = 200 if error is None else error.status if 400 <= error.status < 500 else 422
    return render(request, "cases/act.html", context, status)


async def _evaluation_limit(request: web.Request, case: dict) -> int:
    ref = await call(request, cases_rpc.REF_ALL)
    for round_ in ref["rounds"]:
        if round_["id"] == case.get("round_id"):
            return round_["evaluation_max_length"]
    return DEFAULT_EVALUATION_LIMIT

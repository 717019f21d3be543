"""评审会议 for its keepers: the committee's account (its secretary) and the sysadmin plan a
meeting, give it cases, draw its experts, record declines and conflicts, take attendance and
open the vote, follow it (how many have voted, never how), close it and print its record.
The sysadmin also sets each committee's meeting rules. The cases service decides; these pages
show and post."""

import hashlib

from aiohttp import web

from gateway.auth import current_user, login_required
from gateway.http import file_response
from gateway.web import call, form_of, form_page, pick, render, see_other, shows_on_form
from shared.contracts.cases import meetings as contract
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.cases.meetings import (
    BASIS_LABELS,
    CHOICE_LABELS,
    MEETING_DOCUMENTS,
    MeetingFields,
    MeetingPhase,
)
from shared.contracts.documents import rpc as documents_rpc
from shared.rpc import RpcError

MEETING_ID = "{meeting_id:[0-9a-fA-F-]{36}}"
EXPERT_ID = "{expert_id:[0-9a-fA-F-]{36}}"
COMMITTEE_ID = "{committee_id:[a-zA-Z0-9_-]{1,40}}"
FIELDS = (*MeetingFields.model_fields, "committee_id")
LABELS = {
    "committee_id": "评委会",
    "round_id": "评审年度",
    "meets_on": "会议日期",
    "starts_at": "开始时间",
    "place": "会议地点",
    "size": "评审会议人数",
}
PHASES = [(p.value, p.label) for p in MeetingPhase]
CLOSE_TIMEOUT = 30.0
PDF_TIMEOUT = 60.0

keepers = login_required("committee", "sysadmin")


def is_sysadmin(request: web.Request) -> bool:
    return current_user(request)["role"] == "sysadmin"


def meeting_url(meeting_id: str, anchor: str = "") -> str:
    return f"/meetings/{meeting_id}" + (f"#{anchor}" if anchor else "")


async def the_meeting(request: web.Request) -> dict:
    params = {"meeting_id": request.match_info["meeting_id"]}
    return await call(request, contract.MEETING_GET, params)


# --- the list and a new meeting ---


@keepers
async def meetings(request: web.Request) -> web.Response:
    query = pick(request.query, ("committee_id", "phase"))
    params = {k: v for k, v in query.items() if v}
    try:
        result = await call(request, contract.MEETING_LIST, params)
    except RpcError as error:
        if error.status != 422:
            raise
        return see_other(request, "/meetings", "查询条件有误，已显示全部评审会议", "error")
    reference = await call(request, cases_rpc.REF_ALL) if is_sysadmin(request) else None
    committees = reference["committees"] if reference else []
    context = {"result": result, "query": query, "phases": PHASES, "committees": committees}
    context["export_filters"] = params
    return render(request, "meetings/list.html", context)


async def form_choices(request: web.Request) -> dict:
    reference = await call(request, cases_rpc.REF_ALL)
    rules = (await call(request, contract.COMMITTEE_RULES))["items"]
    committees = reference["committees"] if is_sysadmin(request) else []
    return {
        "labels": LABELS,
        "round_options": [("", "请选择"), *((r["id"], r["name"]) for r in reference["rounds"])],
        "committee_options": [("", "请选择"), *((c["id"], c["name"]) for c in committees)],
        "rules": rules,
        "basis_labels": BASIS_LABELS,
    }


@keepers
async def new_page(request: web.Request) -> web.Response:
    preset = {"starts_at": "09:00", "committee_id": request.query.get("committee_id", "")}
    return form_page(request, "meetings/form.html", preset, **await form_choices(request))


@keepers
async def create(request: web.Request) -> web.Response:
    form = await form_of(request)
    try:
        saved = await call(request, contract.MEETING_CREATE, pick(form, FIELDS))
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "meetings/form.html", form, error, **await form_choices(request))
    return see_other(request, meeting_url(saved["meeting_id"]), "已新建评审会议，请添加参评申报")


# --- one meeting ---


@keepers
async def meeting_page(request: web.Request) -> web.Response:
    return await _meeting_page(request)


async def _meeting_page(request: web.Request, values=None, error: RpcError | None = None):
    """The meeting; with `error`, the conflict form again with what was typed."""
    meeting = await the_meeting(request)
    seated = [m for m in meeting["members"] if m["seated"]]
    context = {
        "values": values or {},
        "errors": error.fields if error else {},
        "problem": error.message if error else None,
        "meeting": meeting,
        "seated": seated,
        "reserves": [m for m in meeting["members"] if not m["seated"] and not m["declined"]],
        "can": set(meeting["actions"]),
        "documents": MEETING_DOCUMENTS,
        "choices": CHOICE_LABELS,
        "owed": [m for m in seated if m["owed"]],
    }
    status = 200 if error is None else error.status if 400 <= error.status < 500 else 422
    return render(request, "meetings/meeting.html", context, status)


@keepers
async def draw_record(request: web.Request) -> web.Response:
    meeting = await the_meeting(request)
    if meeting["draw"] is None:
        return see_other(request, meeting_url(meeting["id"]), "尚未抽取评审专家", "error")
    context = {"meeting": meeting, "rows": ranked_pool(meeting)}
    return render(request, "meetings/draw.html", context)


def ranked_pool(meeting: dict) -> list[dict]:
    """The whole pool in drawn order with each expert's key, SHA-256("seed:id"): anyone can
    recompute it (docs/committee.md); the drawn are named, the others only by their id."""
    seed = meeting["draw"]["seed"]
    drawn = {m["expert_id"]: m for m in meeting["members"]}
    keyed = [
        (hashlib.sha256(f"{seed}:{e}".encode()).hexdigest(), e) for e in meeting["draw"]["pool"]
    ]
    return [
        {"rank": n, "expert_id": e, "key": key, "member": drawn.get(e)}
        for n, (key, e) in enumerate(sorted(keyed), start=1)
    ]


async def _act(request: web.Request, method, params: dict, done: str, anchor: str = ""):
    """Post one act on the meeting and come back to its page, with what happened."""
    meeting_id = request.match_info["meeting_id"]
    try:
        await call(request, method, {"meeting_id": meeting_id, **params}, timeout=CLOSE_TIMEOUT)
    except RpcError as error:
        if not shows_on_form(error) and error.status != 404:
            raise
        return see_other(request, meeting_url(meeting_id, anchor), error.message, "error")
    return see_other(request, meeting_url(meeting_id, anchor), done)


@keepers
async def draw(request: web.Request) -> web.Response:
    return await _act(
        request, contract.MEETING_DRAW, {}, "已抽取评审专家，专家将收到短信通知", "members"
    )


@keepers
async def remove_cases(request: web.Request) -> web.Response:
    data = await request.post()
    case_ids = [v for v in data.getall("case_id", []) if isinstance(v, str)]
    if not case_ids:
        return see_other(
            request, meeting_url(request.match_info["meeting_id"]), "请先勾选要移出的申报", "error"
        )
    params = {"case_ids": case_ids}
    return await _act(request, contract.MEETING_UNASSIGN, params, "已移出所选申报", "cases")


@keepers
async def open_voting(request: web.Request) -> web.Response:
    data = await request.post()
    present = [v for v in data.getall("present", []) if isinstance(v, str)]
    return await _act(request, contract.MEETING_OPEN, {"present": present}, "已开始表决", "cases")


@keepers
async def close_voting(request: web.Request) -> web.Response:
    done = "表决已结束，各申报已按表决结果办理"
    return await _act(request, contract.MEETING_CLOSE, {}, done, "cases")


@keepers
async def record_conflict(request: web.Request) -> web.Response:
    form = pick(await form_of(request), ("expert_id", "case_id", "reason"))
    meeting_id = request.match_info["meeting_id"]
    params = {"meeting_id": meeting_id, **{k: v for k, v in form.items() if v}}
    try:
        await call(request, contract.MEETING_CONFLICT, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return await _meeting_page(request, form, error)
    return see_other(request, meeting_url(meeting_id, "conflicts"), "已登记回避")


# --- adding cases ---


@keepers
async def cases_page(request: web.Request) -> web.Response:
    meeting = await the_meeting(request)
    found = await call(request, contract.MEETING_CANDIDATES, {"meeting_id": meeting["id"]})
    return render(request, "meetings/cases.html", {"meeting": meeting, "candidates": found})


@keepers
async def add_cases(request: web.Request) -> web.Response:
    data = await request.post()
    everything = data.get("everything") == "1"
    case_ids = [] if everything else [v for v in data.getall("case_id", []) if isinstance(v, str)]
    meeting_id = request.match_info["meeting_id"]
    if not everything and not case_ids:
        return see_other(request, f"/meetings/{meeting_id}/cases", "请先勾选要添加的申报", "error")
    params = {"meeting_id": meeting_id, "case_ids": case_ids, "everything": everything}
    try:
        added = await call(request, contract.MEETING_ASSIGN, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return see_other(request, f"/meetings/{meeting_id}/cases", error.message, "error")
    done = f"已添加 {added['assigned']} 件申报，本次会议共 {added['cases']} 件"
    return see_other(request, meeting_url(meeting_id, "cases"), done)


# --- a member who cannot come, cancelling the meeting ---


@keepers
async def decline_page(request: web.Request) -> web.Response:
    meeting = await the_meeting(request)
    member = _member(meeting, request.match_info["expert_id"])
    return form_page(request, "meetings/decline.html", {}, meeting=meeting, member=member)


@keepers
async def decline(request: web.Request) -> web.Response:
    meeting = await the_meeting(request)
    member = _member(meeting, request.match_info["expert_id"])
    form = await form_of(request)
    params = {"meeting_id": meeting["id"], "expert_id": member["expert_id"]}
    try:
        answer = await call(request, contract.MEETING_DECLINE, params | pick(form, ("reason",)))
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(
            request, "meetings/decline.html", form, error, meeting=meeting, member=member
        )
    who = answer["replaced_by"]
    done = (
        f"已登记 {member['name']} 请假，由备选专家 {who} 递补"
        if who
        else "已登记请假；备选专家已用完"
    )
    return see_other(request, meeting_url(meeting["id"], "members"), done)


def _member(meeting: dict, expert_id: str) -> dict:
    member = next((m for m in meeting["members"] if m["expert_id"] == expert_id), None)
    if member is None or not member["seated"]:
        raise web.HTTPNotFound()
    return member


@keepers
async def cancel_page(request: web.Request) -> web.Response:
    meeting = await the_meeting(request)
    return form_page(request, "meetings/cancel.html", {}, meeting=meeting)


@keepers
async def cancel(request: web.Request) -> web.Response:
    meeting = await the_meeting(request)
    form = await form_of(request)
    params = {"meeting_id": meeting["id"], **pick(form, ("reason",))}
    try:
        await call(request, contract.MEETING_CANCEL, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "meetings/cancel.html", form, error, meeting=meeting)
    return see_other(request, meeting_url(meeting["id"]), "评审会议已取消，其申报可提交其他会议")


# --- the meeting's PDFs ---


@keepers
async def document(request: web.Request) -> web.Response:
    params = {"meeting_id": request.match_info["meeting_id"], "kind": request.match_info["kind"]}
    try:
        pdf = await call(request, documents_rpc.MEETINGS_PDF, params, timeout=PDF_TIMEOUT)
    except RpcError as error:
        if error.status != 409:
            raise
        return see_other(request, meeting_url(params["meeting_id"]), error.message, "error")
    return file_response(pdf)


# --- the committees' meeting rules (the sysadmin's) ---


@login_required("sysadmin")
async def rules_page(request: web.Request) -> web.Response:
    rules = await call(request, contract.COMMITTEE_RULES)
    context = {"rules": rules["items"], "basis_labels": BASIS_LABELS}
    return render(request, "meetings/rules.html", context)


def _rules_of(rules: list[dict], committee_id: str) -> dict:
    found = next((r for r in rules if r["committee_id"] == committee_id), None)
    if found is None:
        raise web.HTTPNotFound()
    return found


def _rules_values(rules: dict) -> dict:
    return {
        "basis": rules["basis"],
        "min_members": str(rules["min_members"] or ""),
        "max_members": str(rules["max_members"] or ""),
        "outside_results": "1" if rules["outside_results"] else "",
    }


@login_required("sysadmin")
async def rules_form(request: web.Request) -> web.Response:
    rules = (await call(request, contract.COMMITTEE_RULES))["items"]
    committee = _rules_of(rules, request.match_info["committee_id"])
    return form_page(
        request, "meetings/rules_form.html", _rules_values(committee), committee=committee,
        basis_options=list(BASIS_LABELS.items()),
    )  # fmt: skip


@login_required("sysadmin")
async def save_rules(request: web.Request) -> web.Response:
    rules = (await call(request, contract.COMMITTEE_RULES))["items"]
    committee = _rules_of(rules, request.match_info["committee_id"])
    form = await form_of(request)
    errors = {}
    params: dict = {"committee_id": committee["committee_id"], "basis": form.get("basis", "")}
    for name in ("min_members", "max_members"):
        raw = form.get(name, "").strip()
        if raw and not raw.isdecimal():
            errors[name] = "请填写整数，或留空使用默认值"
        params[name] = int(raw) if raw.isdecimal() else None
    params["outside_results"] = form.get("outside_results") == "1"
    try:
        if errors:
            raise RpcError("invalid_input", "信息有误，请按提示修改", 422, errors)
        await call(request, contract.COMMITTEE_SAVE_RULES, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(
            request, "meetings/rules_form.html", form, error, committee=committee,
            basis_options=list(BASIS_LABELS.items()),
        )  # fmt: skip
    return see_other(
        request, "/admin/committee-rules", f"已保存 {committee['committee_name']} 的评审会议规则"
    )


def setup_routes(app: web.Application) -> None:
    add = app.router.add_route
    one = f"/meetings/{MEETING_ID}"
    add("GET", "/meetings", meetings, name="meetings")
    add("GET", "/meetings/new", new_page, name="meeting_new")
    add("POST", "/meetings/new", create)
    add("GET", one, meeting_page, name="meeting")
    add("GET", f"{one}/draw", draw_record, name="meeting_draw")
    add("POST", f"{one}/draw", draw)
    add("GET", f"{one}/cases", cases_page, name="meeting_cases")
    add("POST", f"{one}/cases", add_cases)
    add("POST", f"{one}/cases/removal", remove_cases, name="meeting_cases_removal")
    add("GET", f"{one}/members/{EXPERT_ID}/decline", decline_page, name="meeting_decline")
    add("POST", f"{one}/members/{EXPERT_ID}/decline", decline)
    add("POST", f"{one}/conflicts", record_conflict, name="meeting_conflicts")
    add("POST", f"{one}/opening", open_voting, name="meeting_opening")
    add("POST", f"{one}/closing", close_voting, name="meeting_closing")
    add("GET", f"{one}/cancel", cancel_page, name="meeting_cancel")
    add("POST", f"{one}/cancel", cancel)
    add("GET", f"{one}/documents/{{kind:meeting_result|meeting_members}}", document,
        name="meeting_document")  # fmt: skip
    add("GET", "/admin/committee-rules", rules_page, name="committee_rules")
    add("GET", f"/admin/committee-rules/{COMMITTEE_ID}", rules_form, name="committee_rules_edit")
    add("POST", f"/admin/committee-rules/{COMMITTEE_ID}", save_rules)

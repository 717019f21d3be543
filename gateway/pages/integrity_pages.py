"""诚信 on the pages of those who sign in: the sysadmin's 诚信承诺书, the 失信记录 (the sysadmin's
every one, which it may end early; a department's those it recorded, to read), the unit's and
the department's 公示期异议 (a list, and one case's objections with their forms), and the
department's 撤销电子证书 and 记录失信 on a case. The public's publicity page is in
publicity_pages.py. What may be done is the cases service's decision; these pages ask."""

import uuid
from urllib.parse import urlencode

from aiohttp import web

from gateway.auth import current_user, login_required
from gateway.pages.case_forms import local_time
from gateway.web import call, form_of, form_page, render, see_other, shows_on_form
from shared.contracts.cases import certificates as certificate_contract
from shared.contracts.cases import integrity as contract
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.cases.integrity import DEFAULT_DISCREDIT_YEARS, DiscreditStatus, Finding
from shared.rpc import RpcError

CASE_ID = "{case_id:[0-9a-fA-F-]{36}}"
OBJECTION_ID = "{objection_id:[0-9a-fA-F-]{36}}"
ENTRY_ID = "{entry_id:[0-9a-fA-F-]{36}}"
TAKERS = ("unit_admin", "unit_operator", "department")
FINDINGS = [(f.value, f.label) for f in Finding]
PHASES = [("", "全部公示阶段"), ("pre", "评前公示"), ("post", "评后公示")]
DISCREDIT_STATUSES = [("", "全部状态"), *((s.value, s.label) for s in DiscreditStatus)]
DISCREDIT_FIELDS = ("reason", "starts_on", "years")

sysadmin_only = login_required("sysadmin")
takers_only = login_required(*TAKERS)
department_only = login_required("department")


def page_number(value: str | None) -> int:
    return int(value) if value and value.isdecimal() and 0 < int(value) <= 100_000 else 1


# --- 诚信承诺书 (sysadmin) ---


@sysadmin_only
async def pledge_page(request: web.Request) -> web.Response:
    versions = (await call(request, contract.PLEDGE_VERSIONS))["versions"]
    current = versions[0]["text"] if versions else ""
    return _pledge_form(request, versions, {"pledge_text": current})


def _pledge_form(request, versions, values, error: RpcError | None = None) -> web.Response:
    shown = [{**v, "when": local_time(v["published_at"])} for v in versions]
    return form_page(request, "integrity/pledge.html", values, error, versions=shown)


@sysadmin_only
async def publish_pledge(request: web.Request) -> web.Response:
    form = await form_of(request)
    try:
        published = await call(
            request, contract.PLEDGE_PUBLISH, {"pledge_text": form.get("pledge_text", "")}
        )
    except RpcError as error:
        if not shows_on_form(error):
            raise
        versions = (await call(request, contract.PLEDGE_VERSIONS))["versions"]
        return _pledge_form(request, versions, form, error)
    message = f"已发布诚信承诺书第 {published['version']} 版，此后提交的申报均须确认新版本"
    return see_other(request, "/admin/pledge", message)


# --- 失信记录 (sysadmin: every entry, at /admin/discredits; department: its own, /discredits) ---

DISCREDITS_OF = {"sysadmin": "/admin/discredits", "department": "/discredits"}


@sysadmin_only
async def discredits_page(request: web.Request) -> web.Response:
    return await _discredits(request)


@login_required("sysadmin", "department")
async def own_discredits_page(request: web.Request) -> web.Response:
    """The department's list; the sysadmin keeps its own page, with the same query."""
    if current_user(request)["role"] == "sysadmin":
        query = f"?{request.query_string}" if request.query_string else ""
        raise web.HTTPFound(DISCREDITS_OF["sysadmin"] + query)
    return await _discredits(request)


async def _discredits(
    request, failed: str | None = None, values: dict | None = None, error: RpcError | None = None
) -> web.Response:
    role = current_user(request)["role"]
    base = DISCREDITS_OF[role]
    query = {
        "q": request.query.get("q", "").strip(),
        "status": request.query.get("status", ""),
        "page": page_number(request.query.get("page")),
    }
    if query["status"] not in dict(DISCREDIT_STATUSES):
        query["status"] = ""
    result = await call(request, contract.DISCREDIT_LIST, query)
    pages = max(1, -(-result["total"] // result["page_size"]))
    shown = {k: v for k, v in query.items() if v and not (k == "page" and v == 1)}
    context = {
        "query": query,
        "result": result,
        "pages": pages,
        "items": [{**i, "when": local_time(i["recorded_at"])} for i in result["items"]],
        "statuses": DISCREDIT_STATUSES,
        "list_url": base,
        "page_url": lambda n: f"{base}?" + urlencode(shown | {"page": n}),
        "may_end": role == "sysadmin",  # a department reads its entries; ending is the bureau's
        "failed": failed,
        "here": request.path_qs,
        "export_filters": {k: v for k, v in query.items() if k != "page"},
    }
    return form_page(request, "integrity/discredits.html", values or {}, error, **context)


@sysadmin_only
async def end_discredit(request: web.Request) -> web.Response:
    entry_id = request.match_info["entry_id"]
    form = await form_of(request)
    try:
        ended = await call(
            request,
            contract.DISCREDIT_END,
            {"entry_id": entry_id, "reason": form.get("reason", "")},
        )
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return await _discredits(request, entry_id, form, error)
    return see_other(
        request, "/admin/discredits", f"已终止 {ended['name']} 的失信记录，其可重新申报职称"
    )


# --- 公示期异议 (unit, department) ---


@takers_only
async def publicity_cases_page(request: web.Request) -> web.Response:
    query = {
        "phase": request.query.get("phase", ""),
        "name": request.query.get("name", "").strip(),
        "page": page_number(request.query.get("page")),
    }
    if query["phase"] not in dict(PHASES):
        query["phase"] = ""
    result = await call(request, contract.OBJECTION_PUBLICITY_CASES, query)
    pages = max(1, -(-result["total"] // result["page_size"]))
    shown = {k: v for k, v in query.items() if v and not (k == "page" and v == 1)}
    context = {
        "query": query,
        "result": result,
        "pages": pages,
        "phases": PHASES,
        "page_url": lambda n: "/objections?" + urlencode(shown | {"page": n}),
        "export_filters": {k: v for k, v in query.items() if k != "page"},
    }
    return render(request, "integrity/publicity_cases.html", context)


@takers_only
async def case_objections_page(request: web.Request) -> web.Response:
    return await _objections(request, request.match_info["case_id"])


async def _objections(
    request,
    case_id: str,
    values: dict | None = None,
    error: RpcError | None = None,
    failed: str | None = None,
) -> web.Response:
    """The objections page; `failed` names the form the error belongs to (new, or an id)."""
    found = await call(request, contract.OBJECTION_OF_CASE, {"case_id": case_id})
    objections = [
        {**o, "when": local_time(o["received_at"]), "found_when": local_time(o["found_at"])}
        for o in found["objections"]
    ]
    context = {
        "case": found,
        "objections": objections,
        "findings": FINDINGS,
        "failed": failed,
        "open_count": sum(1 for o in objections if o["status"] == "open"),
    }
    return form_page(request, "integrity/objections.html", values or {}, error, **context)


@takers_only
async def record_objection(request: web.Request) -> web.Response:
    case_id = request.match_info["case_id"]
    form = await form_of(request)
    fields = ("objector_name", "objector_contact", "content")
    params = {"case_id": case_id, **{k: form.get(k, "") for k in fields}}
    try:
        received = await call(request, contract.OBJECTION_RECORD, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return await _objections(request, case_id, form, error, "new")
    message = f"已登记第 {received['seq']} 号异议，请核实后填写核实结论"
    return see_other(request, f"/cases/{case_id}/objections", message)


@takers_only
async def record_finding(request: web.Request) -> web.Response:
    objection_id = request.match_info["objection_id"]
    form = await form_of(request)
    case_id = _uuid(form.get("case_id"))
    params = {
        "objection_id": objection_id,
        "finding": form.get("finding", ""),
        "finding_text": form.get("finding_text", ""),
    }
    try:
        found = await call(request, contract.OBJECTION_FIND, params)
    except RpcError as error:
        if not shows_on_form(error) or case_id is None:
            raise
        return await _objections(request, case_id, form, error, objection_id)
    back = f"/cases/{case_id}/objections" if case_id else "/objections"
    return see_other(request, back, f"已填写核实结论：{found['status_label']}")


def _uuid(value: str | None) -> str | None:
    try:
        return str(uuid.UUID(value or ""))
    except ValueError:
        return None


# --- 撤销电子证书, 记录失信 (department) ---


async def _case_and_certificate(request: web.Request) -> tuple[dict, dict | None]:
    case_id = request.match_info["case_id"]
    case = await call(request, cases_rpc.CASE_GET, {"case_id": case_id})
    try:
        certificate = await call(
            request, certificate_contract.CERTIFICATE_GET, {"case_id": case_id}
        )
    except RpcError as error:
        if error.status != 404:
            raise
        certificate = None
    return case, certificate


def _discredit_defaults() -> dict:
    return {"years": str(DEFAULT_DISCREDIT_YEARS)}


@department_only
async def revoke_page(request: web.Request) -> web.Response:
    case, certificate = await _case_and_certificate(request)
    if certificate is None:
        raise web.HTTPNotFound()
    return _revoke_form(request, case, certificate, _discredit_defaults())


def _revoke_form(request, case, certificate, values, error=None) -> web.Response:
    return form_page(
        request, "integrity/revoke.html", values, error, case=case, certificate=certificate
    )


@department_only
async def revoke(request: web.Request) -> web.Response:
    case, certificate = await _case_and_certificate(request)
    if certificate is None:
        raise web.HTTPNotFound()
    form = await form_of(request)
    params = {"case_id": case["id"], "reason": form.get("reason", "")}
    try:
        if form.get("record_discredit"):
            params["discredit"] = _discredit_terms(form, "discredit_")
        revoked = await call(request, certificate_contract.CERTIFICATE_REVOKE, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        error.fields = {k.replace("discredit.", "discredit_"): v for k, v in error.fields.items()}
        return _revoke_form(request, case, certificate, form, error)
    message = f"已撤销电子证书 {revoked['certificate_no']}"
    if revoked["discredit"]:
        message += f"，并记录失信至 {revoked['discredit']['last_day']}"
    return see_other(request, f"/cases/{case['id']}", message)


def _discredit_terms(form: dict, prefix: str = "") -> dict:
    terms = {name: form.get(prefix + name, "") for name in DISCREDIT_FIELDS}
    years = terms.pop("years").strip()
    terms["years"] = int(years) if years.isdecimal() and len(years) < 3 else None
    if years and terms["years"] is None:
        raise RpcError(
            "invalid_input", "记录年限应为整数", 422, {prefix + "years": "记录年限应为整数"}
        )
    return terms


@department_only
async def discredit_page(request: web.Request) -> web.Response:
    case, _ = await _case_and_certificate(request)
    return form_page(request, "integrity/discredit.html", _discredit_defaults(), case=case)


@department_only
async def record_discredit(request: web.Request) -> web.Response:
    case, _ = await _case_and_certificate(request)
    form = await form_of(request)
    try:
        params = {"case_id": case["id"], **_discredit_terms(form)}
        entry = await call(request, contract.DISCREDIT_RECORD, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "integrity/discredit.html", form, error, case=case)
    message = f"已记录失信：{entry['name']}，{entry['last_day']}（含）前不得申报职称"
    return see_other(request, f"/cases/{case['id']}", message)


def setup_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/admin/pledge", pledge_page, name="admin_pledge")
    add("POST", "/admin/pledge", publish_pledge)
    add("GET", "/admin/discredits", discredits_page, name="admin_discredits")
    add("GET", "/discredits", own_discredits_page, name="discredits")
    add("POST", f"/admin/discredits/{ENTRY_ID}/end", end_discredit, name="admin_discredit_end")
    add("GET", "/objections", publicity_cases_page, name="objections")
    add("GET", f"/cases/{CASE_ID}/objections", case_objections_page, name="case_objections")
    add("POST", f"/cases/{CASE_ID}/objections", record_objection)
    add("POST", f"/objections/{OBJECTION_ID}/finding", record_finding, name="objection_finding")
    add("GET", f"/cases/{CASE_ID}/revoke", revoke_page, name="certificate_revoke")
    add("POST", f"/cases/{CASE_ID}/revoke", revoke)
    add("GET", f"/cases/{CASE_ID}/discredit", discredit_page, name="case_discredit")
    add("POST", f"/cases/{CASE_ID}/discredit", record_discredit)

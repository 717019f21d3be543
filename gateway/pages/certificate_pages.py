"""职称电子证书 on the pages: the public 证书查验 page (no login), the certificate section
of a case's page (the applicant's, with the 查询记录 only they see; the unit's and the
reviewers'), and the 证书登记簿 of the sysadmin and the departments."""

import asyncio
from urllib.parse import urlencode

from aiohttp import web

from gateway.api_certificates import verify_certificate
from gateway.auth import current_user, login_required
from gateway.errors import with_retry_after
from gateway.pages.case_forms import local_time
from gateway.web import call, pick, render
from shared.contracts.cases.certificates import (
    CERTIFICATE_GET,
    CERTIFICATE_LIST,
    CERTIFICATE_QUERIES,
    REGISTER_SORTS,
    REGISTER_STATUSES,
)
from shared.contracts.cases.rpc import REF_ALL
from shared.contracts.cases.vocabulary import Outcome
from shared.rpc import RpcError

CHANNELS = {"page": "网页查验", "api": "接口查验"}
SHOWN_REFUSALS = (404, 422, 429)  # on the page, beside the form; the rest: the error page
REGISTER_FILTERS = ("q", "committee_id", "year", "status", "sort")


async def verify_page(request: web.Request) -> web.Response:
    """The form; with `no` and `code` in the query (the form sent, or the QR code's link),
    the answer under it."""
    query = request.query
    values = {"no": query.get("no", "").strip(), "code": query.get("code", "").strip()}
    context = {"values": values, "errors": {}, "problem": None, "result": None}
    if "no" not in query and "code" not in query:
        return render(request, "verify/verify.html", context)
    try:
        context["result"] = await verify_certificate(request, values["no"], values["code"], "page")
    except RpcError as error:
        if error.status not in SHOWN_REFUSALS:
            raise
        context |= {"errors": error.fields, "problem": error.message}
        response = render(request, "verify/verify.html", context, status=error.status)
        return with_retry_after(response, error)
    return render(request, "verify/verify.html", context)


async def certificate_of(request: web.Request, case: dict, holder: bool = False) -> dict | None:
    """The certificate section of a case's page: None unless the case passed; for the
    holder with their 查询记录."""
    if case.get("outcome") != Outcome.PASSED:
        return None
    try:
        certificate = await call(request, CERTIFICATE_GET, {"case_id": case["id"]})
    except RpcError as error:
        if error.status == 404:
            return None
        if error.status < 500:
            raise
        return {"unavailable": True}  # the case page still opens, saying so
    number, code = certificate["certificate_no"], certificate["verification_code"]
    query = urlencode({"no": number, "code": code})
    certificate |= {
        "verify_url": f"/verify?{query}",
        "pdf_url": f"/api/cases/{case['id']}/certificate.pdf",
    }
    if holder:
        certificate["queries"] = await _queries(request, case["id"])
    return certificate


async def _queries(request: web.Request, case_id: str) -> dict:
    found = await call(request, CERTIFICATE_QUERIES, {"case_id": case_id})
    items = [
        {**q, "when": local_time(q["at"]), "how": CHANNELS.get(q["channel"], q["channel"])}
        for q in found["items"]
    ]
    return {"total": found["total"], "rows": items}


# --- 证书登记簿 (sysadmin, department) ---


@login_required("sysadmin", "department")
async def register_page(request: web.Request) -> web.Response:
    """The list with its filters; a filter the service refuses comes back above the list
    (422) with what was typed, as a form does."""
    query = {k: v.strip() for k, v in pick(request.query, REGISTER_FILTERS).items()}
    page = request.query.get("page", "")
    page = int(page) if page.isdecimal() and 0 < int(page) <= 100_000 else 1
    params = {k: v for k, v in query.items() if v}
    context = {
        "query": query,
        "result": None,
        "errors": {},
        "problem": None,
        "statuses": list(REGISTER_STATUSES.items()),
        "sorts": list(REGISTER_SORTS.items()),
        "export_filters": params,
    }
    try:
        result, ref = await asyncio.gather(
            call(request, CERTIFICATE_LIST, {**params, "page": page}), call(request, REF_ALL)
        )
    except RpcError as error:
        if error.status != 422:
            raise
        context |= {"errors": error.fields, "problem": "查询条件有误，请修改后重新查询"}
        context["committees"] = _committees(await call(request, REF_ALL), request)
        return render(request, "certificates/register.html", context, status=422)
    shown = {k: v for k, v in params.items() if not (k == "sort" and v == "newest")}
    context |= {
        "result": result,
        "pages": max(1, -(-result["total"] // result["page_size"])),
        "page_url": lambda n: "/certificates?" + urlencode(shown | {"page": n}),
        "committees": _committees(ref, request),
        "department": current_user(request)["role"] == "department",
    }
    return render(request, "certificates/register.html", context)


def _committees(ref: dict, request: web.Request) -> list[tuple[str, str]]:
    """The committees to choose from: a department's own, every one for the sysadmin."""
    user = current_user(request)
    own = user["org_id"] if user["role"] == "department" else None
    return [(c["id"], c["name"]) for c in ref["committees"] if own in (None, c["department_id"])]


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/verify", verify_page, name="verify")
    app.router.add_get("/certificates", register_page, name="certificates")

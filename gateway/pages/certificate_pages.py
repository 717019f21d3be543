"""职称电子证书 on the pages: the public 证书查验 page (no login), and the certificate section
of a case's page (the applicant's, with the 查询记录 only they see; the unit's and the
reviewers')."""

from urllib.parse import urlencode

from aiohttp import web

from gateway.api_certificates import verify_certificate
from gateway.errors import with_retry_after
from gateway.pages.case_forms import local_time
from gateway.web import call, render
from shared.contracts.cases.certificates import CERTIFICATE_GET, CERTIFICATE_QUERIES
from shared.contracts.cases.vocabulary import Outcome
from shared.rpc import RpcError

CHANNELS = {"page": "网页查验", "api": "接口查验"}
SHOWN_REFUSALS = (404, 422, 429)  # on the page, beside the form; the rest: the error page


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


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/verify", verify_page, name="verify")

"""职称电子证书 over the JSON API: public verification for employers' systems, a case's
certificate (its details, the signed PDF, its 查询记录) for those who may see the case, and
the 证书登记簿 for the sysadmin and the departments.

Who may see what is the cases service's decision; verification is rate-limited there per
client address, which the gateway names (gateway/client_address.py).
"""

from aiohttp import web

from gateway.api import spec
from gateway.auth import client_ip, login_required
from gateway.http import file_response, json_response
from gateway.web import call
from shared.contracts.cases import certificates as contract
from shared.contracts.documents.certificates import CERTIFICATES_READ
from shared.rpc import RpcError

CASE_ID = "{case_id:[0-9a-fA-F-]{36}}"
READ_TIMEOUT = 30.0  # the first read may render and sign the PDF
# the query's names for what the service calls its fields
QUERY_NAMES = {"certificate_no": "no", "verification_code": "code"}
REGISTER_QUERY = ("q", "committee_id", "year", "status", "sort", "page", "page_size")


async def verify_certificate(request: web.Request, number: str, code: str, channel: str) -> dict:
    """The masked certificate, or the service's refusal with the fields named as the query
    names them (no, code)."""
    params = {
        "certificate_no": number,
        "verification_code": code,
        "client_ip": client_ip(request),
        "channel": channel,
    }
    try:
        return await call(request, contract.CERTIFICATE_VERIFY, params)
    except RpcError as error:
        error.fields = {QUERY_NAMES.get(k, k): v for k, v in error.fields.items()}
        raise


@spec.operation(
    "get",
    "/api/verify",
    "Verify an e-certificate by its number and verification code (no login; the holder"
    " masked; 60 a 10 minutes per client address, then 429 with Retry-After)",
    "certificates",
    response=contract.VerifiedCertificate,
    errors=(404, 422, 429),
    query=("no", "code"),
)
async def verify(request: web.Request) -> web.Response:
    query = request.query
    found = await verify_certificate(request, query.get("no", ""), query.get("code", ""), "api")
    return json_response(found)


@spec.operation(
    "get",
    "/api/cases/{case_id}/certificate",
    "A passed case's e-certificate, with its verification code",
    "certificates",
    response=contract.CertificateView,
    errors=(401, 403, 404),
)
@login_required()
async def certificate(request: web.Request) -> web.Response:
    case = {"case_id": request.match_info["case_id"]}
    return json_response(await call(request, contract.CERTIFICATE_GET, case))


@spec.operation(
    "get",
    "/api/cases/{case_id}/certificate.pdf",
    "The e-certificate as a PDF signed with PAdES (any change to the file breaks the signature)",
    "certificates",
    response={"type": "string", "format": "binary"},
    response_media=("application/pdf",),
    errors=(401, 403, 404),
)
@login_required()
async def certificate_pdf(request: web.Request) -> web.Response:
    case = {"case_id": request.match_info["case_id"]}
    stored = await call(request, CERTIFICATES_READ, case, timeout=READ_TIMEOUT)
    return file_response(stored)


@spec.operation(
    "get",
    "/api/cases/{case_id}/certificate/queries",
    "Who verified the certificate and when (its holder only)",
    "certificates",
    response=contract.CertificateQueries,
    errors=(401, 403, 404),
)
@login_required("applicant")
async def certificate_queries(request: web.Request) -> web.Response:
    case = {"case_id": request.match_info["case_id"]}
    return json_response(await call(request, contract.CERTIFICATE_QUERIES, case))


@spec.operation(
    "get",
    "/api/certificates",
    "证书登记簿: the e-certificates issued, newest first (query: q for a part of the number or"
    " of the holder's name, committee_id, year of issue, status valid|revoked, sort"
    " newest|oldest, page, page_size); the sysadmin's all, a department's those of its cases;"
    " ID numbers masked",
    "certificates",
    response=contract.CertificateRegister,
    query=REGISTER_QUERY,
    errors=(401, 403, 422),
)
@login_required("sysadmin", "department")
async def register(request: web.Request) -> web.Response:
    params = {k: request.query[k] for k in REGISTER_QUERY if k in request.query}
    return json_response(await call(request, contract.CERTIFICATE_LIST, params))


def setup_certificate_api(app: web.Application) -> None:
    add = app.router.add_get
    add("/api/certificates", register, name="api_certificates")
    add("/api/verify", verify, name="api_verify")
    add(f"/api/cases/{CASE_ID}/certificate", certificate, name="api_case_certificate")
    add(f"/api/cases/{CASE_ID}/certificate.pdf", certificate_pdf, name="api_case_certificate_pdf")
    add(
        f"/api/cases/{CASE_ID}/certificate/queries",
        certificate_queries,
        name="api_case_certificate_queries",
    )

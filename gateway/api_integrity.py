"""诚信 over the JSON API: the 诚信承诺, objections during publicity (the public's too),
revocation of e-certificates and 失信 records (docs/integrity.md).

Who may do what is the cases service's decision; the gateway passes the actor. A public
objection is the one place where the gateway checks something first: the objector's mobile,
by the SMS code accounts sent it (`sms.confirm_code`), before cases takes the objection.
"""

from aiohttp import web
from pydantic import BaseModel

from gateway.api import spec
from gateway.api_identity import body_of
from gateway.auth import client_ip, login_required
from gateway.http import json_response
from gateway.web import call
from shared.contracts.accounts import rpc as accounts_rpc
from shared.contracts.cases import certificates as certificate_contract
from shared.contracts.cases import integrity as contract
from shared.contracts.cases.integrity import DiscreditTerms

CASE_ID = "{case_id:[0-9a-fA-F-]{36}}"
OBJECTION_ID = "{objection_id:[0-9a-fA-F-]{36}}"
ENTRY_ID = "{entry_id:[0-9a-fA-F-]{36}}"
PUBLICITY_QUERY = ("name", "page")
OBJECTION_LIST_QUERY = ("phase", "name", "page")
DISCREDIT_QUERY = ("q", "status", "page")


class ObjectionBody(BaseModel):
    objector_name: str = ""
    objector_contact: str = ""
    content: str = ""


class PublicObjectionBody(BaseModel):
    """An objection from the public: the mobile with the code sent to it (POST /api/sms-codes,
    purpose objection)."""

    objector_name: str = ""
    mobile: str = ""
    sms_code: str = ""
    content: str = ""


class FindingBody(BaseModel):
    finding: str = ""  # upheld (成立) or dismissed (不成立)
    finding_text: str = ""


class RevokeBody(BaseModel):
    reason: str = ""
    discredit: DiscreditTerms | None = None


class EndBody(BaseModel):
    reason: str = ""


class PublicPersonShown(contract.PublicPerson):
    unit_name: str  # from accounts: a unit's name is public


class PublicPeopleShown(contract.PublicPeople):
    items: list[PublicPersonShown]


def _query(request: web.Request, names: tuple[str, ...]) -> dict:
    return {k: request.query[k] for k in names if k in request.query}


# --- 诚信承诺 ---


@spec.operation(
    "get",
    "/api/pledge",
    "The 诚信承诺 in force: a submission (填报上报) accepts its version",
    "integrity",
    response=contract.PledgeView,
    errors=(401,),
)
@login_required()
async def pledge(request: web.Request) -> web.Response:
    return json_response(await call(request, contract.PLEDGE_CURRENT))


@spec.operation(
    "get",
    "/api/pledge/versions",
    "Every version of the 诚信承诺, newest first",
    "integrity",
    response=contract.PledgeVersions,
    errors=(401, 403),
)
@login_required("sysadmin")
async def pledge_versions(request: web.Request) -> web.Response:
    return json_response(await call(request, contract.PLEDGE_VERSIONS))


@spec.operation(
    "post",
    "/api/pledge",
    "Publish a new version of the 诚信承诺 (submissions from now on accept it)",
    "integrity",
    body=contract.PublishPledge,
    response=contract.PledgeView,
    errors=(401, 403, 422),
)
@login_required("sysadmin")
async def publish_pledge(request: web.Request) -> web.Response:
    body = await body_of(request, contract.PublishPledge)
    return json_response(await call(request, contract.PLEDGE_PUBLISH, body), status=201)


# --- objections ---


@spec.operation(
    "get",
    "/api/objections",
    "The caller's cases under publicity with their objections counted (query: phase, name, page)",
    "integrity",
    response=contract.PublicityCases,
    query=OBJECTION_LIST_QUERY,
    errors=(401, 403, 422),
)
@login_required("unit_admin", "unit_operator", "department")
async def publicity_cases(request: web.Request) -> web.Response:
    params = _query(request, OBJECTION_LIST_QUERY)
    return json_response(await call(request, contract.OBJECTION_PUBLICITY_CASES, params))


@spec.operation(
    "get",
    "/api/cases/{case_id}/objections",
    "A case's objections (the objector shown to the department and to the party that took it in)",
    "integrity",
    response=contract.CaseObjections,
    errors=(401, 403, 404),
)
@login_required("unit_admin", "unit_operator", "department")
async def case_objections(request: web.Request) -> web.Response:
    case = {"case_id": request.match_info["case_id"]}
    return json_response(await call(request, contract.OBJECTION_OF_CASE, case))


@spec.operation(
    "post",
    "/api/cases/{case_id}/objections",
    "Take in an objection against a case in 评前公示 or 评后公示 (unit, department)",
    "integrity",
    body=ObjectionBody,
    response=contract.ObjectionReceived,
    errors=(401, 403, 404, 409, 422),
)
@login_required("unit_admin", "unit_operator", "department")
async def record_objection(request: web.Request) -> web.Response:
    body = await body_of(request, ObjectionBody)
    params = {"case_id": request.match_info["case_id"], **body.model_dump()}
    return json_response(await call(request, contract.OBJECTION_RECORD, params), status=201)


@spec.operation(
    "post",
    "/api/objections/{objection_id}/finding",
    "Record an objection's finding: upheld (成立, the publicity fails) or dismissed (不成立)",
    "integrity",
    body=FindingBody,
    response=contract.FindingRecorded,
    errors=(401, 403, 404, 409, 422),
)
@login_required("unit_admin", "unit_operator", "department")
async def record_finding(request: web.Request) -> web.Response:
    body = await body_of(request, FindingBody)
    params = {"objection_id": request.match_info["objection_id"], **body.model_dump()}
    return json_response(await call(request, contract.OBJECTION_FIND, params))


@spec.operation(
    "get",
    "/api/publicity",
    "The persons under 评后公示 today, names masked (no login; query: name, page)",
    "integrity",
    response=PublicPeopleShown,
    query=PUBLICITY_QUERY,
    errors=(422,),
)
async def publicity(request: web.Request) -> web.Response:
    return json_response(await public_people(request, _query(request, PUBLICITY_QUERY)))


async def public_people(request: web.Request, params: dict) -> dict:
    """The publicity list, each person with the name of their unit (public, as on a roster)."""
    people = await call(request, contract.PUBLICITY_LIST, params)
    unit_ids = sorted({p["unit_id"] for p in people["items"]})
    names = {}
    if unit_ids:
        found = await call(request, accounts_rpc.UNITS_NAMES, {"unit_ids": unit_ids})
        names = found["names"]
    for person in people["items"]:
        person["unit_name"] = names.get(person["unit_id"], "")
    return people


@spec.operation(
    "post",
    "/api/publicity/{case_id}/objections",
    "Raise an objection against a person under 评后公示 (no login; the mobile confirmed by"
    " the SMS code of POST /api/sms-codes with purpose objection; 10 an hour per address)",
    "integrity",
    body=PublicObjectionBody,
    response=contract.ObjectionReceived,
    errors=(404, 409, 422, 429),
)
async def public_objection(request: web.Request) -> web.Response:
    body = await body_of(request, PublicObjectionBody)
    received = await submit_public_objection(request, request.match_info["case_id"], body)
    return json_response(received, status=201)


async def submit_public_objection(request, case_id: str, body: PublicObjectionBody) -> dict:
    """Confirm the mobile by its code (used up), then hand the objection to cases."""
    confirmed = await call(
        request,
        accounts_rpc.SMS_CONFIRM_CODE,
        {"mobile": body.mobile, "purpose": "objection", "sms_code": body.sms_code},
    )
    params = {
        "case_id": case_id,
        "objector_name": body.objector_name,
        "mobile": confirmed["mobile"],
        "content": body.content,
        "client_ip": client_ip(request),
    }
    return await call(request, contract.OBJECTION_SUBMIT_PUBLIC, params)


# --- revocation and 失信 ---


@spec.operation(
    "post",
    "/api/cases/{case_id}/certificate/revoke",
    "Revoke the case's e-certificate (已撤销 at once in verification), with a 失信 entry"
    " against the holder's ID number if `discredit` is given",
    "integrity",
    body=RevokeBody,
    response=certificate_contract.CertificateRevoked,
    errors=(401, 403, 404, 409, 422),
)
@login_required("department")
async def revoke(request: web.Request) -> web.Response:
    body = await body_of(request, RevokeBody)
    params = {"case_id": request.match_info["case_id"], **body.model_dump()}
    return json_response(await call(request, certificate_contract.CERTIFICATE_REVOKE, params))


@spec.operation(
    "post",
    "/api/cases/{case_id}/discredits",
    "Record a 失信 entry against the ID number of the case (reason; starts_on default today;"
    " years default ZC_DISCREDIT_YEARS)",
    "integrity",
    body=DiscreditTerms,
    response=contract.DiscreditView,
    errors=(401, 403, 404, 422),
)
@login_required("department")
async def record_discredit(request: web.Request) -> web.Response:
    body = await body_of(request, DiscreditTerms)
    params = {"case_id": request.match_info["case_id"], **body.model_dump()}
    return json_response(await call(request, contract.DISCREDIT_RECORD, params), status=201)


@spec.operation(
    "get",
    "/api/discredits",
    "The 失信 entries, newest first: the sysadmin's every one, a department's those it"
    " recorded (query: q for a name or ID number, status running|expired|ended, page)",
    "integrity",
    response=contract.DiscreditPage,
    query=DISCREDIT_QUERY,
    errors=(401, 403, 422),
)
@login_required("sysadmin", "department")
async def discredits(request: web.Request) -> web.Response:
    params = _query(request, DISCREDIT_QUERY)
    return json_response(await call(request, contract.DISCREDIT_LIST, params))


@spec.operation(
    "post",
    "/api/discredits/{entry_id}/end",
    "End a running 失信 entry early, with the reason (the sysadmin's alone)",
    "integrity",
    body=EndBody,
    response=contract.DiscreditView,
    errors=(401, 403, 404, 409, 422),
)
@login_required("sysadmin")
async def end_discredit(request: web.Request) -> web.Response:
    body = await body_of(request, EndBody)
    params = {"entry_id": request.match_info["entry_id"], **body.model_dump()}
    return json_response(await call(request, contract.DISCREDIT_END, params))


def setup_integrity_api(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/api/pledge", pledge, name="api_pledge")
    add("POST", "/api/pledge", publish_pledge)
    add("GET", "/api/pledge/versions", pledge_versions, name="api_pledge_versions")
    add("GET", "/api/objections", publicity_cases, name="api_objections")
    add("GET", f"/api/cases/{CASE_ID}/objections", case_objections, name="api_case_objections")
    add("POST", f"/api/cases/{CASE_ID}/objections", record_objection)
    add(
        "POST",
        f"/api/objections/{OBJECTION_ID}/finding",
        record_finding,
        name="api_objection_finding",
    )
    add("GET", "/api/publicity", publicity, name="api_publicity")
    add(
        "POST",
        f"/api/publicity/{CASE_ID}/objections",
        public_objection,
        name="api_public_objection",
    )
    add("POST", f"/api/cases/{CASE_ID}/certificate/revoke", revoke, name="api_certificate_revoke")
    add("POST", f"/api/cases/{CASE_ID}/discredits", record_discredit, name="api_case_discredits")
    add("GET", "/api/discredits", discredits, name="api_discredits")
    add("POST", f"/api/discredits/{ENTRY_ID}/end", end_discredit, name="api_discredit_end")

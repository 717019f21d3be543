"""The case workflow JSON API: reference data, work lists, one case, materials, scans, actions.

Who may see or move which case is decided by the cases service; the gateway passes the actor.
"""

from aiohttp import web
from pydantic import BaseModel, Field

from gateway.api import spec
from gateway.api_identity import body_of
from gateway.auth import client_ip, login_required
from gateway.http import file_response, json_object, json_response
from gateway.input_rule import upload_filename
from gateway.web import call
from shared.contracts.accounts import rpc as accounts_rpc
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.cases.inputs import AnyActionInput, NoInput
from shared.contracts.cases.materials import SCAN_CATEGORIES, SECTION_MODELS, SECTIONS
from shared.contracts.cases.rpc import ActionRequest, BatchAct, CaseChoices, ListCases
from shared.contracts.documents import rpc as documents_rpc
from shared.rpc import RpcError

UPLOAD_TIMEOUT = 30.0
BATCH_TIMEOUT = 60.0
LIST_QUERY = tuple(ListCases.model_fields)  # case.list's params, from the query string


class ActionBody(BaseModel):
    """What an action takes (its OpenAPI schema; the body read is ActionRequest): `inputs`
    depends on the action (the cases service checks them); `expected_version`, when sent,
    must be the case's version or the answer is 409."""

    inputs: AnyActionInput = Field(default_factory=NoInput)
    expected_version: int | None = None


SCAN_UPLOAD = {
    "type": "object",
    "required": ["category", "file"],
    "properties": {
        "category": {"type": "string", "enum": list(SCAN_CATEGORIES)},
        "file": {"type": "string", "format": "binary"},
    },
}


@spec.operation(
    "get",
    "/api/reference",
    "Rounds, series, qualifications, committees, types",
    "cases",
    response=cases_rpc.ReferenceData,
)
@login_required()
async def reference(request: web.Request) -> web.Response:
    return json_response(await call(request, cases_rpc.REF_ALL))


@spec.operation(
    "get",
    "/api/cases/home",
    "Cases waiting at each of the caller's work lists",
    "cases",
    response=cases_rpc.HomeCounts,
    errors=(401, 403),
)
@login_required()
async def home(request: web.Request) -> web.Response:
    return json_response(await call(request, cases_rpc.CASE_HOME))


@spec.operation(
    "get",
    "/api/cases",
    "A work list (query: list, tab=todo|done, filters, page)",
    "cases",
    response=cases_rpc.CasePage,
    query=LIST_QUERY,
    errors=(401, 403, 404, 422),
)
@login_required()
async def work_list(request: web.Request) -> web.Response:
    params = {k: request.query[k] for k in LIST_QUERY if k in request.query}
    return json_response(await call(request, cases_rpc.CASE_LIST, params))


@spec.operation(
    "get",
    "/api/cases/mine",
    "The applicant's own cases",
    "cases",
    response=cases_rpc.MyCaseRows,
    errors=(401, 403),
)
@login_required("applicant")
async def mine(request: web.Request) -> web.Response:
    return json_response(await call(request, cases_rpc.CASE_MINE))


@spec.operation(
    "post",
    "/api/cases",
    "Open a case (applicant)",
    "cases",
    body=CaseChoices,
    response=cases_rpc.Opened,
    errors=(401, 403, 422),
)
@login_required("applicant")
async def open_case(request: web.Request) -> web.Response:
    body = await body_of(request, CaseChoices)
    return json_response(await open_for_applicant(request, body.model_dump()), status=201)


async def open_for_applicant(request: web.Request, choices: dict) -> dict:
    """Open a case with the applicant's own details from their account."""
    me = await call(request, accounts_rpc.USERS_ME)
    return await call(
        request,
        cases_rpc.CASE_OPEN,
        {
            **choices,
            "applicant_name": me["name"],
            "applicant_mobile": me["mobile"] or "",
            "id_number": me["id_number"] or "",
            "gender": me["gender"] or "",
        },
    )


@spec.operation(
    "get",
    "/api/cases/{case_id}",
    "One case: materials, scans, history, actions",
    "cases",
    response=cases_rpc.CaseView,
    errors=(401, 404),
)
@login_required()
async def get_case(request: web.Request) -> web.Response:
    return json_response(
        await call(request, cases_rpc.CASE_GET, {"case_id": request.match_info["case_id"]})
    )


for section_, model_ in SECTION_MODELS.items():
    spec.operation(
        "put",
        f"/api/cases/{{case_id}}/sections/{section_}",
        f"Save the materials' {section_} section ({SECTIONS[section_]}; draft only)",
        "cases",
        body=model_,
        response=cases_rpc.SectionSaved,
        errors=(401, 404, 409, 422),
        roles=("applicant",),
    )


@login_required("applicant")
async def save_section(request: web.Request) -> web.Response:
    data = await json_object(request)
    return json_response(
        await call(
            request,
            cases_rpc.CASE_SAVE_SECTION,
            {
                "case_id": request.match_info["case_id"],
                "section": request.match_info["section"],
                "data": data,
            },
        )
    )


@spec.operation(
    "post",
    "/api/cases/{case_id}/attachments",
    "Upload a scan (multipart: category, file; PDF/JPG/PNG up to 10 MB, within the case's"
    " scan_limits: 422 on file beyond them)",
    "cases",
    body=SCAN_UPLOAD,
    body_media="multipart/form-data",
    response=documents_rpc.StoredScan,
    errors=(401, 404, 409, 422),
)
@login_required("applicant")
async def upload(request: web.Request) -> web.Response:
    form = await request.post()
    file = form.get("file")
    if not isinstance(file, web.FileField):
        raise RpcError("invalid_file", "请选择要上传的文件", 422, {"file": "请选择要上传的文件"})
    content = file.file.read()
    return json_response(
        await upload_scan(
            request,
            request.match_info["case_id"],
            str(form.get("category", "")),
            file.filename,
            content,
        ),
        status=201,
    )


async def upload_scan(request, case_id: str, category: str, filename: str, content: bytes):
    filename = upload_filename("file", filename)
    return await call(
        request,
        documents_rpc.FILES_UPLOAD,
        {"case_id": case_id, "category": category, "filename": filename or "scan"},
        timeout=UPLOAD_TIMEOUT,
        attachment=content,
    )


@spec.operation(
    "delete",
    "/api/cases/{case_id}/attachments/{attachment_id}",
    "Remove a scan (draft only)",
    "cases",
    response=cases_rpc.Removed,
    errors=(401, 404, 409),
)
@login_required("applicant")
async def remove_attachment(request: web.Request) -> web.Response:
    return json_response(
        await call(
            request,
            cases_rpc.CASE_REMOVE_ATTACHMENT,
            {
                "case_id": request.match_info["case_id"],
                "attachment_id": request.match_info["attachment_id"],
            },
        )
    )


@spec.operation(
    "get",
    "/api/files/{file_id}",
    "A scan, to those who may see its case",
    "cases",
    response={"type": "string", "format": "binary"},
    response_media=("application/pdf", "image/jpeg", "image/png"),
    errors=(401, 404),
)
@login_required()
async def file(request: web.Request) -> web.Response:
    stored = await call(
        request, documents_rpc.FILES_READ, {"file_id": request.match_info["file_id"]}
    )
    return file_response(stored)


@spec.operation(
    "post",
    "/api/cases/{case_id}/actions/{action}",
    "Take one action on one case (409 when it moved meanwhile; submit takes the version of"
    " the 诚信承诺 in force, GET /api/pledge, as inputs.pledge_version)",
    "cases",
    body=ActionBody,
    response=cases_rpc.Moved,
    errors=(401, 403, 404, 409, 422),
)
@login_required()
async def act(request: web.Request) -> web.Response:
    body = await body_of(request, ActionRequest)
    return json_response(
        await call(
            request,
            cases_rpc.CASE_ACT,
            {
                "case_id": request.match_info["case_id"],
                "action": request.match_info["action"],
                "inputs": body.inputs,
                "expected_version": body.expected_version,
                "client_ip": client_ip(request),
            },
        )
    )


@spec.operation(
    "post",
    "/api/cases/batch",
    "Take one action on a selection; a result per case",
    "cases",
    body=BatchAct,
    response=cases_rpc.BatchResult,
    errors=(401, 403, 422),
)
@login_required()
async def batch(request: web.Request) -> web.Response:
    body = await body_of(request, BatchAct)
    return json_response(await call(request, cases_rpc.CASE_BATCH, body, timeout=BATCH_TIMEOUT))


def setup_case_api(app: web.Application) -> None:
    add = app.router
    add.add_get("/api/reference", reference, name="api_reference")
    add.add_get("/api/cases/home", home, name="api_cases_home")
    add.add_get("/api/cases/mine", mine, name="api_cases_mine")
    add.add_post("/api/cases/batch", batch, name="api_cases_batch")
    add.add_get("/api/cases", work_list, name="api_cases")
    add.add_post("/api/cases", open_case, name="api_cases_open")
    add.add_get("/api/cases/{case_id}", get_case, name="api_case")
    add.add_put("/api/cases/{case_id}/sections/{section}", save_section, name="api_case_section")
    add.add_post("/api/cases/{case_id}/attachments", upload, name="api_case_upload")
    add.add_delete(
        "/api/cases/{case_id}/attachments/{attachment_id}",
        remove_attachment,
        name="api_case_attachment",
    )
    add.add_post("/api/cases/{case_id}/actions/{action}", act, name="api_case_act")
    add.add_get("/api/files/{file_id}", file, name="api_file")

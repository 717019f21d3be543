"""The expert library's JSON API (评审专家库): a committee's account keeps its own library, the
sysadmin every committee's; the cases service decides whose entry is whose."""

from aiohttp import web
from pydantic import BaseModel

from gateway.api import spec
from gateway.api_identity import body_of
from gateway.auth import login_required
from gateway.http import file_response, json_response
from gateway.pages.expert_pages import resolve_unit, uploaded_xlsx
from gateway.web import call
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.cases.rpc import CreateExpert, ExpertFields, ListExperts

IMPORT_TIMEOUT = 30.0
LIST_QUERY = tuple(name for name in ListExperts.model_fields)
KEEPERS = ("committee", "sysadmin")
XLSX_UPLOAD = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "committee_id": {"type": "string"},  # the sysadmin's choice of library
        "file": {"type": "string", "format": "binary"},
    },
}


class ExpertUpdate(ExpertFields):
    """Every field anew; expected_version, when sent, must be the entry's version (else 409)."""

    expected_version: int | None = None


class Removal(BaseModel):
    """出库: the reason (required) and the date (YYYY-MM-DD; today when left out)."""

    reason: str = ""
    removed_on: str = ""


def expert_id(request: web.Request) -> str:
    return request.match_info["expert_id"]


@spec.operation(
    "get",
    "/api/experts",
    "The expert library, a page at a time (filters: series, level, status, name or ID)",
    "experts",
    response=cases_rpc.ExpertPage,
    query=LIST_QUERY,
    errors=(401, 403, 422),
)
@login_required(*KEEPERS)
async def list_experts(request: web.Request) -> web.Response:
    params = {k: request.query[k] for k in LIST_QUERY if request.query.get(k)}
    return json_response(await call(request, cases_rpc.EXPERT_LIST, params))


@spec.operation(
    "post",
    "/api/experts",
    "Add an expert to a committee's library (the sysadmin names the committee)",
    "experts",
    body=CreateExpert,
    response=cases_rpc.ExpertSaved,
    errors=(401, 403, 422),
)
@login_required(*KEEPERS)
async def create_expert(request: web.Request) -> web.Response:
    body = await body_of(request, CreateExpert)
    fields = await resolve_unit(request, body.model_dump())
    return json_response(await call(request, cases_rpc.EXPERT_CREATE, fields), status=201)


@spec.operation(
    "get",
    "/api/experts/{expert_id}",
    "One entry of the library, the ID number in full",
    "experts",
    response=cases_rpc.ExpertView,
    errors=(401, 403, 404),
)
@login_required(*KEEPERS)
async def get_expert(request: web.Request) -> web.Response:
    params = {"expert_id": expert_id(request)}
    return json_response(await call(request, cases_rpc.EXPERT_GET, params))


@spec.operation(
    "put",
    "/api/experts/{expert_id}",
    "Change an entry (every field; renew a term by new dates)",
    "experts",
    body=ExpertUpdate,
    response=cases_rpc.ExpertSaved,
    errors=(401, 403, 404, 409, 422),
)
@login_required(*KEEPERS)
async def update_expert(request: web.Request) -> web.Response:
    body = await body_of(request, ExpertUpdate)
    params = await resolve_unit(request, {"expert_id": expert_id(request), **body.model_dump()})
    return json_response(await call(request, cases_rpc.EXPERT_UPDATE, params))


@spec.operation(
    "post",
    "/api/experts/{expert_id}/removal",
    "出库: take an expert out of the library, with the reason",
    "experts",
    body=Removal,
    response=cases_rpc.ExpertSaved,
    errors=(401, 403, 404, 409, 422),
)
@login_required(*KEEPERS)
async def remove_expert(request: web.Request) -> web.Response:
    body = await body_of(request, Removal)
    params = {"expert_id": expert_id(request), **body.model_dump()}
    return json_response(await call(request, cases_rpc.EXPERT_REMOVE, params))


@spec.operation(
    "post",
    "/api/experts/import",
    "Import experts from an .xlsx file: the valid rows in one transaction, a report per row",
    "experts",
    body=XLSX_UPLOAD,
    body_media="multipart/form-data",
    response=cases_rpc.ExpertImportReport,
    errors=(401, 403, 422),
)
@login_required(*KEEPERS)
async def import_experts(request: web.Request) -> web.Response:
    fields, data = await uploaded_xlsx(request)
    params = {"committee_id": fields.get("committee_id", "")}
    report = await call(
        request, cases_rpc.EXPERT_IMPORT, params, timeout=IMPORT_TIMEOUT, attachment=data
    )
    return json_response(report)


@spec.operation(
    "get",
    "/api/experts/import/template.xlsx",
    "The import file's template: the header row",
    "experts",
    response={"type": "string", "format": "binary"},
    response_media=("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    errors=(401, 403),
)
@login_required(*KEEPERS)
async def import_template(request: web.Request) -> web.Response:
    return file_response(await call(request, cases_rpc.EXPERT_IMPORT_TEMPLATE), "attachment")


def setup_experts_api(app: web.Application) -> None:
    add = app.router
    add.add_get("/api/experts", list_experts, name="api_experts")
    add.add_post("/api/experts", create_expert)
    add.add_post("/api/experts/import", import_experts, name="api_experts_import")
    add.add_get("/api/experts/import/template.xlsx", import_template, name="api_experts_template")
    add.add_get("/api/experts/{expert_id}", get_expert, name="api_expert")
    add.add_put("/api/experts/{expert_id}", update_expert)
    add.add_post("/api/experts/{expert_id}/removal", remove_expert, name="api_expert_removal")

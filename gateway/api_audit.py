"""The audit trail over the JSON API: the sysadmin's search, an applicant's readers."""

from aiohttp import web
from pydantic import BaseModel

from gateway import audit_trail
from gateway.api import spec
from gateway.auth import login_required
from gateway.http import json_response
from shared.contracts.audit import AuditRow, Reader


class AuditResults(BaseModel):
    rows: list[AuditRow]  # newest first, every service's
    next: str | None  # `before` for the next page; none when this is the last
    unavailable: list[str]  # services that did not answer: their rows are missing


class ReaderShown(Reader):
    role_label: str


class CaseReadersShown(BaseModel):
    readers: list[ReaderShown]


@spec.operation(
    "get",
    "/api/audit",
    "Search every service's audit trail: person (user id or username), object (id, case"
    " number or username), action (or a prefix such as account.), outcome, since/until (a"
    " date in Shenzhen or an ISO time); `before` pages on (system administrator)",
    "audit",
    response=AuditResults,
    query=audit_trail.QUERY,
    errors=(401, 403, 422),
)
@login_required("sysadmin")
async def search(request: web.Request) -> web.Response:
    params, cursor = audit_trail.read_query(request.query)
    merged = await audit_trail.search(request, params, cursor)
    return json_response(
        {"rows": merged.rows, "next": merged.next, "unavailable": merged.unavailable}
    )


@spec.operation(
    "get",
    "/api/cases/{case_id}/readers",
    "Who read or printed this case's materials, and when (its applicant)",
    "cases",
    response=CaseReadersShown,
    errors=(401, 403, 404),
)
@login_required("applicant")
async def readers(request: web.Request) -> web.Response:
    found = await audit_trail.case_readers(request, request.match_info["case_id"])
    return json_response({"readers": found})


def setup_audit_api(app: web.Application) -> None:
    uuid_part = "[0-9a-fA-F-]{36}"
    app.router.add_get("/api/audit", search, name="api_audit")
    app.router.add_get(f"/api/cases/{{case_id:{uuid_part}}}/readers", readers, name="api_readers")

"""The audit trail's pages: the sysadmin's search (审计日志) and an applicant's 查阅记录."""

import json
from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from gateway import audit_trail
from gateway.auth import login_required
from gateway.pages.case_forms import local_time
from gateway.web import call, render
from shared.clock import SHENZHEN
from shared.contracts.audit import ACTIONS, ACTOR_LABELS, OBJECT_TYPES, SERVICE_LABELS
from shared.contracts.cases import rpc as cases_rpc
from shared.rpc import RpcError

ACTION_GROUPS = (
    ("auth.", "登录与退出（全部）"),
    ("account.", "账户变更与查看（全部）"),
    ("case.", "申报业务办理与查看（全部）"),
    ("print.", "打印（全部）"),
)
OUTCOMES = {"": "全部结果", "ok": "成功", "refused": "被拒绝"}


@login_required("sysadmin")
async def audit_page(request: web.Request) -> web.Response:
    values = {k: request.query.get(k, "") for k in audit_trail.QUERY}
    try:
        params, cursor = audit_trail.read_query(request.query)
        merged = await audit_trail.search(request, params, cursor)
    except RpcError as error:
        if error.status != 422:
            raise
        return _page(request, values, None, error, 422)
    return _page(request, values, merged, export_filters=_export_filters(params))


def _export_filters(params) -> dict:
    """The search as 导出Excel takes it: the filters given, times as ISO (no paging)."""
    given = params.model_dump(mode="json", exclude={"before_at", "before_seq", "limit"})
    return {k: v for k, v in given.items() if v not in ("", None, [])}


def _page(request, values, merged, error=None, status: int = 200, export_filters=None):
    filters = {k: v for k, v in values.items() if k in audit_trail.FILTERS and v}
    context = {
        "export_filters": export_filters,
        "values": values,
        "errors": error.fields if error else {},
        "problem": error.message if error else None,
        "rows": [_row(r) for r in merged.rows] if merged else [],
        "unavailable": [SERVICE_LABELS[s] for s in merged.unavailable] if merged else [],
        "next_url": _url(filters | {"before": merged.next}) if merged and merged.next else None,
        "first_url": _url(filters) if values.get("before") else None,
        "filtered": bool(filters),
        "action_groups": ACTION_GROUPS,
        "actions": ACTIONS,
        "outcomes": OUTCOMES,
        "object_types": OBJECT_TYPES,
    }
    return render(request, "admin/audit.html", context, status)


def _url(query: dict) -> str:
    return "/admin/audit" + (f"?{urlencode(query)}" if query else "")


def _to_the_second(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(SHENZHEN).strftime("%Y-%m-%d %H:%M:%S")


def _row(row: dict) -> dict:
    details = row["details"]
    return {
        **row,
        "when": _to_the_second(row["at"]),
        "service_label": SERVICE_LABELS.get(row["service"], row["service"]),
        "role_label": ACTOR_LABELS.get(row["actor_role"], row["actor_role"]),
        "object_type_label": OBJECT_TYPES.get(row["object_type"], row["object_type"]),
        "details_text": json.dumps(details, ensure_ascii=False)[:300] if details else "",
    }


# --- the applicant's 查阅记录 ---


@login_required("applicant")
async def readers_page(request: web.Request) -> web.Response:
    case_id = request.match_info["case_id"]
    case = await call(request, cases_rpc.CASE_GET, {"case_id": case_id})
    readers = await audit_trail.case_readers(request, case_id)
    shown = [{**r, "when": local_time(r["at"])} for r in readers]
    return render(request, "applicant/readers.html", {"case": case, "readers": shown})


def setup_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/admin/audit", audit_page, name="admin_audit")
    app.router.add_route(
        "GET",
        "/my/cases/{case_id:[0-9a-fA-F-]{36}}/readers",
        readers_page,
        name="my_case_readers",
    )

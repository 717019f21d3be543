"""评审专家库: a committee's secretary (its account) keeps its own library, the sysadmin every
committee's. The cases service decides whose entry is whose; these pages show and post."""

import re
from urllib.parse import urlencode

from aiohttp import web

from gateway.auth import current_user, login_required
from gateway.http import file_response
from gateway.input_rule import upload_filename
from gateway.web import call, form_of, form_page, pick, render, see_other, shows_on_form
from shared.contracts.accounts import rpc as accounts_rpc
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.cases.experts import (
    EXPERT_FIELD_LABELS,
    IMPORT_COLUMNS,
    IMPORT_MAX_ROWS,
    TITLE_LEVELS,
    ExpertStatus,
)
from shared.rpc import RpcError

PAGE_SIZE = 20
IMPORT_TIMEOUT = 30.0
EXPERT_ID = "{expert_id:[0-9a-fA-F-]{36}}"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FIELDS = tuple(EXPERT_FIELD_LABELS)
FILTERS = ("q", "series_id", "title_level", "status", "committee_id")
LABELS = EXPERT_FIELD_LABELS | {"committee_id": "评委会", "file": "文件", "row": "整行"}

keepers = login_required("committee", "sysadmin")


def is_sysadmin(request: web.Request) -> bool:
    return current_user(request)["role"] == "sysadmin"


async def choices(request: web.Request) -> dict:
    """The series, levels, statuses and (for the sysadmin) committees the forms offer."""
    reference = await call(request, cases_rpc.REF_ALL)
    committees = reference["committees"] if is_sysadmin(request) else []
    return {
        "series": reference["series"],
        "levels": TITLE_LEVELS,
        "statuses": [(s.value, s.label) for s in ExpertStatus],
        "committees": committees,
        "labels": LABELS,
        "series_options": options(reference["series"]),
        "level_options": [("", "请选择"), *((level, level) for level in TITLE_LEVELS)],
        "committee_options": options(committees),
    }


def options(items: list[dict]) -> list[tuple[str, str]]:
    return [("", "请选择"), *((item["id"], item["name"]) for item in items)]


async def resolve_unit(request: web.Request, fields: dict) -> dict:
    """A registered unit's id makes its registered name the expert's work unit."""
    unit_id = (fields.get("unit_id") or "").strip().lower()
    if not UUID.fullmatch(unit_id):
        return fields  # none, or not an id at all: the cases service says which
    names = await call(request, accounts_rpc.UNITS_NAMES, {"unit_ids": [unit_id]})
    name = names["names"].get(unit_id)
    if name is None:
        raise RpcError(
            "invalid_input", "信息有误，请按提示修改", 422, {"unit_id": "未找到该注册单位"}
        )
    return fields | {"unit_name": name}


# --- the list ---


@keepers
async def library(request: web.Request) -> web.Response:
    query = pick(request.query, FILTERS)
    page = int(request.query["page"]) if request.query.get("page", "").isdecimal() else 1
    params = {k: v for k, v in query.items() if v}
    try:
        result = await call(
            request,
            cases_rpc.EXPERT_LIST,
            {**params, "page": max(page, 1), "page_size": PAGE_SIZE},
        )
    except RpcError as error:
        if error.status != 422:
            raise
        return see_other(request, "/experts", "查询条件有误，已显示全部专家", kind="error")
    pages = max(1, -(-result["total"] // PAGE_SIZE))

    def page_url(number: int) -> str:
        return "/experts?" + urlencode({**params, "page": number})

    context = {"query": query, "result": result, "pages": pages, "page_url": page_url}
    context["export_filters"] = params
    return render(request, "experts/list.html", context | await choices(request))


# --- one entry: new, edit, 出库 ---


@keepers
async def new_page(request: web.Request) -> web.Response:
    preset = {"committee_id": request.query.get("committee_id", "")}
    return form_page(request, "experts/form.html", preset, expert=None, **await choices(request))


@keepers
async def create(request: web.Request) -> web.Response:
    form = await form_of(request)
    fields = pick(form, (*FIELDS, "committee_id"))
    try:
        saved = await call(request, cases_rpc.EXPERT_CREATE, await resolve_unit(request, fields))
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(
            request, "experts/form.html", form, error, expert=None, **await choices(request)
        )
    return see_other(request, "/experts", f"已将 {saved['name']} 加入评审专家库")


async def entry(request: web.Request) -> dict:
    return await call(request, cases_rpc.EXPERT_GET, {"expert_id": request.match_info["expert_id"]})


@keepers
async def edit_page(request: web.Request) -> web.Response:
    expert = await entry(request)
    values = pick(expert, FIELDS) | {"unit_id": expert["unit_id"] or ""}
    return form_page(request, "experts/form.html", values, expert=expert, **await choices(request))


@keepers
async def update(request: web.Request) -> web.Response:
    expert = await entry(request)
    form = await form_of(request)
    params = {"expert_id": expert["id"], **pick(form, FIELDS)}
    if form.get("version", "").isdecimal():
        params["expected_version"] = int(form["version"])
    try:
        saved = await call(request, cases_rpc.EXPERT_UPDATE, await resolve_unit(request, params))
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(
            request, "experts/form.html", form, error, expert=expert, **await choices(request)
        )
    return see_other(request, "/experts", f"已保存专家 {saved['name']} 的信息")


@keepers
async def remove_page(request: web.Request) -> web.Response:
    expert = await entry(request)
    return form_page(request, "experts/remove.html", {}, expert=expert)


@keepers
async def remove(request: web.Request) -> web.Response:
    expert = await entry(request)
    form = await form_of(request)
    params = {"expert_id": expert["id"], **pick(form, ("reason", "removed_on"))}
    try:
        await call(request, cases_rpc.EXPERT_REMOVE, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "experts/remove.html", form, error, expert=expert)
    return see_other(request, "/experts", f"专家 {expert['name']} 已出库")


# --- 批量导入 ---


async def import_form(request: web.Request, values: dict, error=None, report=None):
    context = await choices(request)
    return form_page(
        request,
        "experts/import.html",
        values,
        error,
        report=report,
        columns=list(IMPORT_COLUMNS),
        max_rows=IMPORT_MAX_ROWS,
        **context,
    )


@keepers
async def import_page(request: web.Request) -> web.Response:
    return await import_form(request, {"committee_id": request.query.get("committee_id", "")})


@keepers
async def import_template(request: web.Request) -> web.Response:
    template = await call(request, cases_rpc.EXPERT_IMPORT_TEMPLATE)
    return file_response(template, "attachment")


async def uploaded_xlsx(request: web.Request) -> tuple[dict, bytes]:
    """The form's fields and the uploaded file; RpcError when there is no file."""
    posted = await request.post()
    fields = {k: v for k, v in posted.items() if isinstance(v, str) and k != "_csrf"}
    upload = posted.get("file")
    if not isinstance(upload, web.FileField):
        raise RpcError("invalid_file", "请选择文件", 422, {"file": "请选择要导入的 .xlsx 文件"})
    upload_filename("file", upload.filename)
    return fields, upload.file.read()


@keepers
async def import_upload(request: web.Request) -> web.Response:
    fields: dict = {}
    try:
        fields, data = await uploaded_xlsx(request)
        params = {"committee_id": fields.get("committee_id", "")}
        report = await call(
            request, cases_rpc.EXPERT_IMPORT, params, timeout=IMPORT_TIMEOUT, attachment=data
        )
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return await import_form(request, fields, error)
    return await import_form(request, fields, report=report)


def setup_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/experts", library, name="experts")
    add("GET", "/experts/new", new_page, name="expert_new")
    add("POST", "/experts/new", create)
    add("GET", "/experts/import", import_page, name="experts_import")
    add("POST", "/experts/import", import_upload)
    add("GET", "/experts/import/template.xlsx", import_template, name="experts_template")
    add("GET", f"/experts/{EXPERT_ID}/edit", edit_page, name="expert_edit")
    add("POST", f"/experts/{EXPERT_ID}/edit", update)
    add("GET", f"/experts/{EXPERT_ID}/remove", remove_page, name="expert_remove")
    add("POST", f"/experts/{EXPERT_ID}/remove", remove)

"""The unit's people: operators (admin only) and applicant accounts (admin and operators)."""

from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from gateway.applicant_accounts import delete_applicant
from gateway.auth import current_user, login_required
from gateway.http import file_response
from gateway.input_rule import upload_filename
from gateway.web import (
    call,
    form_of,
    form_page,
    local_path,
    pick,
    render,
    see_other,
    shows_on_form,
)
from shared.contracts.accounts import rpc as accounts_rpc
from shared.contracts.accounts.rpc import (
    ApplicantForm,
    ApplicantUpdate,
    OperatorForm,
    OperatorUpdate,
)
from shared.contracts.accounts.vocabulary import PERSON_FIELD_LABELS
from shared.rpc import RpcError

PAGE_SIZE = 20
IMPORT_TIMEOUT = 60.0  # every row hashes a password: a full file takes about 20 s
FIELD_LABELS = PERSON_FIELD_LABELS


@dataclass(frozen=True)
class People:
    kind: str  # the URL segment
    role: str  # the accounts role
    noun: str
    managers: tuple[str, ...]
    create_fields: tuple[str, ...]
    edit_fields: tuple[str, ...]


KINDS = {
    "operators": People(
        "operators",
        "unit_operator",
        "经办人",
        ("unit_admin",),
        tuple(OperatorForm.model_fields),
        tuple(OperatorUpdate.model_fields),
    ),
    "applicants": People(
        "applicants",
        "applicant",
        "申报人员",
        ("unit_admin", "unit_operator"),
        tuple(ApplicantForm.model_fields),
        tuple(ApplicantUpdate.model_fields),
    ),
}


def people_of(request: web.Request) -> People:
    people = KINDS[request.match_info["kind"]]
    if current_user(request)["role"] not in people.managers:
        raise RpcError("forbidden", f"只有单位管理员可以管理{people.noun}", 403)
    return people


def _user_id(request: web.Request) -> str:
    return request.match_info["user_id"]


unit_only = login_required("unit_admin", "unit_operator")


@unit_only
async def people_list(request: web.Request) -> web.Response:
    people = people_of(request)
    query = pick(request.query, ("q", "status"))
    page = int(request.query["page"]) if request.query.get("page", "").isdecimal() else 1
    params = {"role": people.role, "q": query["q"], "status": query["status"] or "all"}
    result = await call(
        request, accounts_rpc.USERS_LIST, {**params, "page": max(page, 1), "page_size": PAGE_SIZE}
    )
    pages = max(1, -(-result["total"] // PAGE_SIZE))

    def page_url(number: int) -> str:
        return f"/unit/{people.kind}?" + urlencode({**query, "page": number})

    context = {"people": people, "query": query, "result": result, "pages": pages}
    context["export_filters"] = params
    return render(request, "unit/people_list.html", {**context, "page_url": page_url})


@unit_only
async def new_person_page(request: web.Request) -> web.Response:
    return form_page(request, "unit/person_form.html", {}, people=people_of(request), person=None)


@unit_only
async def new_person(request: web.Request) -> web.Response:
    people = people_of(request)
    form = await form_of(request)
    fields = pick(form, people.create_fields)
    try:
        created = await call(
            request, accounts_rpc.USERS_CREATE, {"role": people.role, "fields": fields}
        )
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "unit/person_form.html", form, error, people=people, person=None)
    message = f"已新增{people.noun} {fields['name'].strip()}（用户名 {created['username']}）"
    return see_other(request, f"/unit/{people.kind}", message)


@unit_only
async def edit_person_page(request: web.Request) -> web.Response:
    people = people_of(request)
    person = await _get(request, people)
    values = pick(person, people.edit_fields)
    return form_page(request, "unit/person_form.html", values, people=people, person=person)


@unit_only
async def edit_person(request: web.Request) -> web.Response:
    people = people_of(request)
    person = await _get(request, people)
    form = await form_of(request)
    params = {
        "role": people.role,
        "user_id": person["id"],
        "fields": pick(form, people.edit_fields),
    }
    try:
        await call(request, accounts_rpc.USERS_UPDATE, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(
            request, "unit/person_form.html", form, error, people=people, person=person
        )
    message = f"已保存{people.noun} {form.get('name', '').strip()}（用户名 {person['username']}）"
    return see_other(request, f"/unit/{people.kind}", message)


@unit_only
async def set_status(request: web.Request) -> web.Response:
    people = people_of(request)
    person = await _get(request, people)
    form = await form_of(request)
    active = form.get("active") == "true"
    await call(
        request,
        accounts_rpc.USERS_SET_ACTIVE,
        {"role": people.role, "user_id": person["id"], "active": active},
    )
    done = "启用" if active else "停用"
    message = f"已{done}{people.noun} {person['name']}（用户名 {person['username']}）"
    back = local_path(form.get("back")) or f"/unit/{people.kind}"
    return see_other(request, back, message)


@unit_only
async def delete_person(request: web.Request) -> web.Response:
    people = people_of(request)
    if people.role != "applicant":
        raise web.HTTPNotFound()
    person = await _get(request, people)
    form = await form_of(request)
    back = local_path(form.get("back")) or f"/unit/{people.kind}"
    try:
        await delete_applicant(request, person)
    except RpcError as refused:
        if refused.status != 409:
            raise
        return see_other(request, back, refused.message, kind="error")
    message = f"已删除{people.noun} {person['name']}（用户名 {person['username']}）"
    return see_other(request, back, message)


@unit_only
async def password_page(request: web.Request) -> web.Response:
    people = people_of(request)
    person = await _get(request, people)
    return form_page(request, "unit/person_password.html", {}, people=people, person=person)


@unit_only
async def set_password(request: web.Request) -> web.Response:
    people = people_of(request)
    person = await _get(request, people)
    form = await form_of(request)
    params = {"role": people.role, "user_id": person["id"]}
    params |= pick(form, ("new_password", "new_password_confirm"))
    try:
        await call(request, accounts_rpc.USERS_SET_PASSWORD, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(
            request, "unit/person_password.html", form, error, people=people, person=person
        )
    message = f"已重置{people.noun} {person['name']}（用户名 {person['username']}）的密码"
    return see_other(request, f"/unit/{people.kind}", message)


async def _get(request: web.Request, people: People) -> dict:
    return await call(
        request, accounts_rpc.USERS_GET, {"role": people.role, "user_id": _user_id(request)}
    )


# --- 批量导入 (applicants only) ---


@unit_only
async def import_page(request: web.Request) -> web.Response:
    return form_page(request, "unit/applicants_import.html", {}, report=None)


@unit_only
async def import_template(request: web.Request) -> web.Response:
    return file_response(await call(request, accounts_rpc.APPLICANTS_IMPORT_TEMPLATE), "attachment")


@unit_only
async def import_upload(request: web.Request) -> web.Response:
    upload = (await request.post()).get("file")
    if not isinstance(upload, web.FileField):
        error = RpcError("invalid_file", "请选择文件", 422, {"file": "请选择要导入的 .xlsx 文件"})
        return form_page(request, "unit/applicants_import.html", {}, error, report=None)
    try:
        upload_filename("file", upload.filename)
        report = await call(
            request,
            accounts_rpc.APPLICANTS_IMPORT,
            timeout=IMPORT_TIMEOUT,
            attachment=upload.file.read(),
        )
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "unit/applicants_import.html", {}, error, report=None)
    return render(
        request,
        "unit/applicants_import.html",
        {"values": {}, "errors": {}, "report": report, "labels": FIELD_LABELS},
    )

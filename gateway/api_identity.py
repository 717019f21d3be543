"""The identity JSON API: captcha, SMS codes, registration, sessions, the unit's people,
the sysadmin's reviewer accounts.

Errors are RpcErrors left to the error middleware: {error: {code, message, status, fields}}.
"""

from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from gateway.api import spec
from gateway.applicant_accounts import delete_applicant
from gateway.auth import (
    SESSION_COOKIE,
    csrf_key,
    current_user,
    end_session,
    login_required,
    read_cookie,
    start_session,
)
from gateway.http import json_object, json_response
from gateway.input_rule import header_text, upload_filename
from gateway.organisations import find, organisations
from gateway.web import call, call_anonymous, with_client
from shared.contracts.accounts import rpc as accounts_rpc
from shared.contracts.accounts.rpc import (
    PERSON_FORMS,
    ActiveSet,
    Captcha,
    Changed,
    ChangePassword,
    CodeNeeded,
    CodeSent,
    Credentials,
    ImportReport,
    LoggedOut,
    LoginChallenge,
    LoginCode,
    NewPassword,
    PasswordSet,
    RegisteredUnit,
    ResetPassword,
    ReviewerForm,
    ReviewerList,
    SecondFactor,
    SmsCodeRequest,
    StatusChange,
    UnitRegistration,
    Updated,
    UserPage,
    UserView,
)
from shared.rpc import RpcError, invalid_input

IMPORT_TIMEOUT = 60.0  # every row hashes a password: a full file takes about 20 s
M = TypeVar("M", bound=BaseModel)


# --- request bodies (they are also the OpenAPI schemas): the accounts contract's ---


class SessionState(BaseModel):
    """What the JSON API answers about the session (the gateway's own shape)."""

    user: UserView | None
    csrf_token: str


CREATED = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "username": {"type": "string"}},
}
LIST_QUERY = ("q", "status", "page", "page_size")
UPLOAD = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}},
}


async def body_of(request: web.Request, model: type[M]) -> M:
    data = await json_object(request)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid_input(error) from None


# --- anonymous: captcha, SMS codes, registration, login, reset ---


@spec.operation(
    "post",
    "/api/captcha",
    "A new image captcha (base64 PNG)",
    "auth",
    response=Captcha,
    errors=(429,),
)
async def new_captcha(request: web.Request) -> web.Response:
    params = with_client(request, {})
    return json_response(await call_anonymous(request, accounts_rpc.CAPTCHA_NEW, params))


@spec.operation(
    "post",
    "/api/sms-codes",
    "Send an SMS verification code: register, reset_password, change_mobile (signed in,"
    " to the new mobile), or objection (the public's objection during 评后公示)",
    "auth",
    body=SmsCodeRequest,
    response=CodeSent,
    errors=(401, 409, 422, 429),
)
async def request_sms_code(request: web.Request) -> web.Response:
    body = await body_of(request, SmsCodeRequest)
    params = with_client(request, body.model_dump())
    # As the signed-in person when there is one: a change_mobile code is theirs alone.
    return json_response(await call(request, accounts_rpc.SMS_REQUEST_CODE, params))


@spec.operation(
    "post",
    "/api/units",
    "Register a unit and its one unit admin (manual §1.1)",
    "auth",
    body=UnitRegistration,
    response=RegisteredUnit,
    errors=(422,),
)
async def register_unit(request: web.Request) -> web.Response:
    body = await body_of(request, UnitRegistration)
    params = with_client(request, {"form": body.model_dump()})
    return json_response(
        await call_anonymous(request, accounts_rpc.UNIT_REGISTER, params), status=201
    )


@spec.operation(
    "get",
    "/api/session",
    "The signed-in user (or null) and the CSRF token",
    "auth",
    response=SessionState,
)
async def session_state(request: web.Request) -> web.Response:
    return json_response({"user": current_user(request), "csrf_token": request[csrf_key]})


@spec.operation(
    "post",
    "/api/session",
    "Log in; sets the session cookie and returns the user and the CSRF token. Department,"
    " office, committee, expert and sysadmin accounts get 202 instead, with no session: a"
    " code went to their registered mobile, to send to POST /api/session/confirm",
    "auth",
    body=Credentials,
    response=SessionState,
    answers={202: CodeNeeded},
    errors=(401, 403, 422, 423, 429),
)
async def login(request: web.Request) -> web.Response:
    body = await body_of(request, Credentials)
    params = with_client(request, body.model_dump())
    params["user_agent"] = header_text(request.headers.get("User-Agent", ""), "user_agent")
    result = await call_anonymous(request, accounts_rpc.AUTH_LOGIN, params)
    if "second_factor" in result:
        return json_response(result, status=202)
    return _signed_in(request, result)


@spec.operation(
    "post",
    "/api/session/confirm",
    "The second step of a 202 login: the SMS code with the challenge id; sets the session"
    " cookie. A wrong code counts as a failed login; the challenge ends after a few, or when"
    " it expires (401: log in again)",
    "auth",
    body=LoginCode,
    response=SessionState,
    errors=(401, 403, 422, 423, 429),
)
async def confirm_login(request: web.Request) -> web.Response:
    body = await body_of(request, LoginCode)
    params = with_client(request, body.model_dump())
    params["user_agent"] = header_text(request.headers.get("User-Agent", ""), "user_agent")
    result = await call_anonymous(request, accounts_rpc.AUTH_CONFIRM_LOGIN, params)
    return _signed_in(request, result)


@spec.operation(
    "post",
    "/api/session/code",
    "Send the login code of a 202 login again (the per-mobile SMS limits apply)",
    "auth",
    body=LoginChallenge,
    response=SecondFactor,
    errors=(401, 403, 422, 429),
)
async def resend_login_code(request: web.Request) -> web.Response:
    body = await body_of(request, LoginChallenge)
    params = with_client(request, body.model_dump())
    return json_response(await call_anonymous(request, accounts_rpc.AUTH_RESEND_LOGIN_CODE, params))


def _signed_in(request: web.Request, result: dict) -> web.Response:
    response = json_response({"user": result["user"], "csrf_token": result["csrf_token"]})
    start_session(request, response, result["token"])
    return response


@spec.operation("delete", "/api/session", "Log out: the session ends", "auth", response=LoggedOut)
async def logout(request: web.Request) -> web.Response:
    token = read_cookie(request, SESSION_COOKIE)
    if token:
        await call(request, accounts_rpc.AUTH_LOGOUT, {"token": token})
    response = json_response({"logged_out": True})
    end_session(request, response)
    return response


@spec.operation(
    "post",
    "/api/password-reset",
    "Reset a forgotten password with an SMS code sent to the registered mobile",
    "auth",
    body=ResetPassword,
    response=PasswordSet,
    errors=(422, 429),
)
async def reset_password(request: web.Request) -> web.Response:
    body = await body_of(request, ResetPassword)
    return json_response(
        await call_anonymous(
            request, accounts_rpc.AUTH_RESET_PASSWORD, with_client(request, body.model_dump())
        )
    )


# --- the signed-in user ---


@spec.operation("get", "/api/me", "The signed-in user", "me", response=UserView, errors=(401,))
@login_required()
async def me(request: web.Request) -> web.Response:
    return json_response(await call(request, accounts_rpc.USERS_ME))


@spec.operation(
    "post",
    "/api/me/password",
    "Change one's password; every other session of the user ends, this one goes on",
    "me",
    body=ChangePassword,
    response=Changed,
    errors=(401, 422),
)
@login_required()
async def change_password(request: web.Request) -> web.Response:
    body = await body_of(request, ChangePassword)
    return json_response(await call(request, accounts_rpc.AUTH_CHANGE_PASSWORD, body.model_dump()))


# --- the unit's operators and applicants ---

ROLES = {"operators": "unit_operator", "applicants": "applicant"}
FORMS = {kind: PERSON_FORMS[role] for kind, role in ROLES.items()}
NOUNS = {"operators": "operator (经办人; unit admin only)", "applicants": "applicant (申报人员)"}
MANAGERS = {"operators": ("unit_admin",), "applicants": ("unit_admin", "unit_operator")}


def _people_operations(kind: str):
    """The same seven operations for /api/operators and /api/applicants."""
    create, update = FORMS[kind]
    noun, base = NOUNS[kind], f"/api/{kind}"
    return (
        ("get", base, f"List the unit's {noun}s", {"response": UserPage, "query": LIST_QUERY}),
        ("post", base, f"Create an {noun} account", {"body": create, "response": CREATED}),
        ("get", base + "/{id}", f"One {noun}, ID number unmasked", {"response": UserView}),
        (
            "patch",
            base + "/{id}",
            f"Change an {noun}'s details",
            {"body": update, "response": Updated},
        ),
        (
            "post",
            base + "/{id}/status",
            f"Disable or enable an {noun}",
            {"body": StatusChange, "response": ActiveSet},
        ),
        (
            "post",
            base + "/{id}/password",
            f"Set a new password for an {noun}; their sessions end",
            {"body": NewPassword, "response": PasswordSet},
        ),
    )


for kind_ in ROLES:
    for method_, path_, summary_, extra_ in _people_operations(kind_):
        spec.operation(
            method_,
            path_,
            summary_,
            kind_,
            errors=(401, 403, 404, 422),
            roles=MANAGERS[kind_],
            **extra_,
        )


def _kind(request: web.Request) -> tuple[str, str]:
    kind = request.match_info["kind"]
    return kind, ROLES[kind]


@login_required("unit_admin", "unit_operator")
async def list_people(request: web.Request) -> web.Response:
    _, role = _kind(request)
    params = {k: request.query[k] for k in LIST_QUERY if k in request.query}
    return json_response(await call(request, accounts_rpc.USERS_LIST, {"role": role, **params}))


@login_required("unit_admin", "unit_operator")
async def create_person(request: web.Request) -> web.Response:
    kind, role = _kind(request)
    body = await body_of(request, FORMS[kind][0])
    created = await call(
        request, accounts_rpc.USERS_CREATE, {"role": role, "fields": body.model_dump()}
    )
    return json_response({"id": created["user_id"], "username": created["username"]}, status=201)


@login_required("unit_admin", "unit_operator")
async def get_person(request: web.Request) -> web.Response:
    _, role = _kind(request)
    params = {"role": role, "user_id": request.match_info["id"]}
    return json_response(await call(request, accounts_rpc.USERS_GET, params))


@login_required("unit_admin", "unit_operator")
async def update_person(request: web.Request) -> web.Response:
    """PATCH: the fields sent replace the current ones; the rest stay as they are."""
    kind, role = _kind(request)
    body = await body_of(request, FORMS[kind][1])
    ref = {"role": role, "user_id": request.match_info["id"]}
    current = await call(request, accounts_rpc.USERS_GET, ref)
    fields = {k: current.get(k) or "" for k in type(body).model_fields}
    fields |= body.model_dump(exclude_none=True)
    return json_response(await call(request, accounts_rpc.USERS_UPDATE, {**ref, "fields": fields}))


@login_required("unit_admin", "unit_operator")
async def set_person_status(request: web.Request) -> web.Response:
    _, role = _kind(request)
    body = await body_of(request, StatusChange)
    params = {"role": role, "user_id": request.match_info["id"], "active": body.active}
    return json_response(await call(request, accounts_rpc.USERS_SET_ACTIVE, params))


@spec.operation(
    "delete",
    "/api/applicants/{id}",
    "Delete an applicant account that has no case (409 if it has: disable it instead)",
    "applicants",
    response={"type": "object", "properties": {"deleted": {"type": "boolean"}}},
    errors=(401, 403, 404, 409),
)
@login_required("unit_admin", "unit_operator")
async def delete_person(request: web.Request) -> web.Response:
    person = await call(
        request, accounts_rpc.USERS_GET, {"role": "applicant", "user_id": request.match_info["id"]}
    )
    await delete_applicant(request, person)
    return json_response({"deleted": True})


@login_required("unit_admin", "unit_operator")
async def set_person_password(request: web.Request) -> web.Response:
    _, role = _kind(request)
    body = await body_of(request, NewPassword)
    params = {"role": role, "user_id": request.match_info["id"], **body.model_dump()}
    return json_response(await call(request, accounts_rpc.USERS_SET_PASSWORD, params))


@spec.operation(
    "post",
    "/api/applicants/import",
    "Import applicant accounts from an .xlsx file (multipart field `file`); a report per row",
    "applicants",
    body=UPLOAD,
    body_media="multipart/form-data",
    response=ImportReport,
    errors=(401, 403, 422),
)
@login_required("unit_admin", "unit_operator")
async def import_applicants(request: web.Request) -> web.Response:
    upload = (await request.post()).get("file")
    if not isinstance(upload, web.FileField):
        raise RpcError("invalid_file", "请上传文件", 422, {"file": "请选择要导入的 .xlsx 文件"})
    upload_filename("file", upload.filename)
    report = await call(
        request,
        accounts_rpc.APPLICANTS_IMPORT,
        timeout=IMPORT_TIMEOUT,
        attachment=upload.file.read(),
    )
    return json_response(report)


# --- reviewer accounts (sysadmin) ---

REVIEWER_QUERY = ("role", "status")  # status: all (default), active or disabled


@spec.operation(
    "get",
    "/api/reviewers",
    "Department, office and committee accounts",
    "reviewers",
    response=ReviewerList,
    query=REVIEWER_QUERY,
    errors=(401, 403, 422),
)
@login_required("sysadmin")
async def list_reviewers(request: web.Request) -> web.Response:
    params = {k: request.query[k] for k in REVIEWER_QUERY if request.query.get(k)}
    return json_response(await call(request, accounts_rpc.REVIEWERS_LIST, params))


@spec.operation(
    "post",
    "/api/reviewers",
    "Create a department, office or committee account",
    "reviewers",
    body=ReviewerForm,
    response=CREATED,
    errors=(401, 403, 422),
)
@login_required("sysadmin")
async def create_reviewer(request: web.Request) -> web.Response:
    body = await body_of(request, ReviewerForm)
    organisation = find(await organisations(request), body.role, body.org_id)
    params = body.model_dump() | {"org_name": organisation.name}
    created = await call(request, accounts_rpc.REVIEWERS_CREATE, params)
    return json_response({"id": created["user_id"], "username": created["username"]}, status=201)


@spec.operation(
    "get",
    "/api/reviewers/{id}",
    "One department, office or committee account",
    "reviewers",
    response=UserView,
    errors=(401, 403, 404),
)
@login_required("sysadmin")
async def get_reviewer(request: web.Request) -> web.Response:
    # Without a role, users.* reach every account the caller manages: for the sysadmin, these.
    params = {"user_id": request.match_info["id"]}
    return json_response(await call(request, accounts_rpc.USERS_GET, params))


@spec.operation(
    "post",
    "/api/reviewers/{id}/status",
    "Disable or enable a reviewer account; disabling ends its sessions at once",
    "reviewers",
    body=StatusChange,
    response=ActiveSet,
    errors=(401, 403, 404, 422),
)
@login_required("sysadmin")
async def set_reviewer_status(request: web.Request) -> web.Response:
    body = await body_of(request, StatusChange)
    params = {"user_id": request.match_info["id"], "active": body.active}
    return json_response(await call(request, accounts_rpc.USERS_SET_ACTIVE, params))


@spec.operation(
    "post",
    "/api/reviewers/{id}/password",
    "Set a new password for a reviewer account; its sessions end",
    "reviewers",
    body=NewPassword,
    response=PasswordSet,
    errors=(401, 403, 404, 422),
)
@login_required("sysadmin")
async def set_reviewer_password(request: web.Request) -> web.Response:
    body = await body_of(request, NewPassword)
    params = {"user_id": request.match_info["id"], **body.model_dump()}
    return json_response(await call(request, accounts_rpc.USERS_SET_PASSWORD, params))

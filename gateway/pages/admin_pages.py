"""The system administrator's pages: department, office and committee accounts."""

from urllib.parse import urlencode

from aiohttp import web

from gateway import api_sms
from gateway.auth import login_required
from gateway.organisations import ROLES, find, organisations
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
from shared.rpc import RpcError

REVIEWER_ROLES = ROLES
ACCOUNT_FIELDS = ("name", "username", "password", "mobile")
STATUSES = {"all": "全部状态", "active": "正常", "disabled": "已停用"}


@login_required("sysadmin")
async def reviewers(request: web.Request) -> web.Response:
    role = request.query.get("role", "")
    role = role if role in REVIEWER_ROLES else ""
    status = request.query.get("status", "")
    status = status if status in STATUSES else "all"
    params = {"status": status} | ({"role": role} if role else {})
    result = await call(request, accounts_rpc.REVIEWERS_LIST, params)

    def role_url(value: str) -> str:
        query = {"role": value} if value else {}
        query |= {"status": status} if status != "all" else {}
        return "/admin/reviewers" + (f"?{urlencode(query)}" if query else "")

    context = {
        "items": result["items"],
        "role": role,
        "status": status,
        "roles": REVIEWER_ROLES,
        "statuses": STATUSES,
        "role_url": role_url,
        "export_filters": params,
    }
    return render(request, "admin/reviewers.html", context)


@login_required("sysadmin")
async def new_reviewer_page(request: web.Request) -> web.Response:
    return await _reviewer_form(request, {})


@login_required("sysadmin")
async def new_reviewer(request: web.Request) -> web.Response:
    form = await form_of(request)
    known = await organisations(request)
    account = pick(form, ACCOUNT_FIELDS)
    try:
        role, _, org_id = form.get("org", "").partition(":")
        try:
            organisation = find(known, role, org_id, field="org")
        except RpcError as no_organisation:
            raise await _with_account_errors(request, account, no_organisation) from None
        params = account | {
            "role": organisation.role,
            "org_id": organisation.id,
            "org_name": organisation.name,
        }
        created = await call(request, accounts_rpc.REVIEWERS_CREATE, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return await _reviewer_form(request, form, error, known)
    label = REVIEWER_ROLES[organisation.role]
    message = f"已新增{label}账户 {organisation.name}（用户名 {created['username']}）"
    return see_other(request, "/admin/reviewers", message)


async def _with_account_errors(request, account: dict, problem: RpcError) -> RpcError:
    """The organisation's problem, with the accounts service's verdict on the other fields,
    so that the form shows every error at once."""
    check = account | {"role": "department", "check_only": True}  # creates nothing
    try:
        await call(request, accounts_rpc.REVIEWERS_CREATE, check)
    except RpcError as error:
        if error.status != 422:
            raise
        others = {k: v for k, v in error.fields.items() if k not in ("role", "org_id", "org_name")}
        return RpcError(problem.code, problem.message, 422, others | problem.fields)
    return problem


async def _reviewer_form(request, values, error=None, known=None) -> web.Response:
    known = known if known is not None else await organisations(request)
    groups = [
        (label, [o for o in known if o.role == role]) for role, label in REVIEWER_ROLES.items()
    ]
    return form_page(request, "admin/reviewer_form.html", values, error, groups=groups)


@login_required("sysadmin")
async def set_status(request: web.Request) -> web.Response:
    reviewer = await _get(request)
    form = await form_of(request)
    active = form.get("active") == "true"
    await call(
        request,
        accounts_rpc.USERS_SET_ACTIVE,
        {"role": reviewer["role"], "user_id": reviewer["id"], "active": active},
    )
    message = f"已{'启用' if active else '停用'}{_describe(reviewer)}"
    back = local_path(form.get("back")) or "/admin/reviewers"
    return see_other(request, back, message)


@login_required("sysadmin")
async def password_page(request: web.Request) -> web.Response:
    reviewer = await _get(request)
    return form_page(request, "admin/reviewer_password.html", {}, **_context(reviewer))


@login_required("sysadmin")
async def set_password(request: web.Request) -> web.Response:
    reviewer = await _get(request)
    form = await form_of(request)
    params = {"role": reviewer["role"], "user_id": reviewer["id"]}
    params |= pick(form, ("new_password", "new_password_confirm"))
    try:
        await call(request, accounts_rpc.USERS_SET_PASSWORD, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "admin/reviewer_password.html", form, error, **_context(reviewer))
    return see_other(request, "/admin/reviewers", f"已重置{_describe(reviewer)}的密码")


async def _get(request: web.Request) -> dict:
    """The reviewer account in the URL: users.get finds only accounts the sysadmin manages."""
    return await call(request, accounts_rpc.USERS_GET, {"user_id": request.match_info["user_id"]})


def _describe(reviewer: dict) -> str:
    label = REVIEWER_ROLES.get(reviewer["role"], "")
    return f"{label}账户 {reviewer['org_name'] or ''}（用户名 {reviewer['username']}）"


def _context(reviewer: dict) -> dict:
    return {"reviewer": reviewer, "roles": REVIEWER_ROLES}


@login_required("sysadmin")
async def sms_deliveries(request: web.Request) -> web.Response:
    """SMS not settled yet: what the reconciler is working on, and what is stuck."""
    result = await api_sms.unsettled(request)
    context = {
        "result": result,
        "lease": result["reconcile_lease_seconds"],
        "minutes": api_sms.UNCONFIRMED_MINUTES,
        "export_filters": {"unconfirmed_minutes": api_sms.UNCONFIRMED_MINUTES},
    }
    return render(request, "admin/sms.html", context)

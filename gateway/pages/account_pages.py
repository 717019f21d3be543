"""The signed-in person's own account: 登录设备 (their sessions) and 修改手机号码."""

from aiohttp import web

from gateway.auth import login_required
from gateway.pages.auth_pages import send_code
from gateway.pages.case_forms import local_time
from gateway.web import call, form_of, form_page, pick, render, see_other, shows_on_form
from shared.contracts.accounts import rpc as accounts_rpc
from shared.rpc import RpcError

MOBILE_FIELDS = tuple(accounts_rpc.ChangeMobile.model_fields)
MOBILE_TEMPLATE = "account/mobile.html"


# --- 登录设备 ---


@login_required()
async def sessions_page(request: web.Request) -> web.Response:
    listed = await call(request, accounts_rpc.SESSIONS_LIST)
    rows = [_shown(session) for session in listed["items"]]
    return render(request, "account/sessions.html", {"sessions": rows})


def _shown(session: dict) -> dict:
    return {
        **session,
        "created": local_time(session["created_at"]),
        "last_seen": local_time(session["last_seen_at"]),
    }


@login_required()
async def end_session(request: web.Request) -> web.Response:
    params = {"session_id": request.match_info["session_id"]}
    try:
        await call(request, accounts_rpc.SESSIONS_END, params)
    except RpcError as error:
        if error.status not in (404, 409):
            raise
        return see_other(request, "/account/sessions", error.message, "error")
    return see_other(request, "/account/sessions", "已退出该设备上的登录")


@login_required()
async def end_other_sessions(request: web.Request) -> web.Response:
    ended = (await call(request, accounts_rpc.SESSIONS_END_OTHERS))["ended"]
    message = f"已退出其他 {ended} 个设备上的登录" if ended else "没有其他设备在登录"
    return see_other(request, "/account/sessions", message)


# --- 修改手机号码 ---


@login_required()
async def mobile_page(request: web.Request) -> web.Response:
    return form_page(request, MOBILE_TEMPLATE, {})


@login_required()
async def change_mobile(request: web.Request) -> web.Response:
    form = await form_of(request)
    if form.get("action") == "send_code":
        return await send_code(request, form, MOBILE_TEMPLATE, "change_mobile")
    try:
        changed = await call(request, accounts_rpc.AUTH_CHANGE_MOBILE, pick(form, MOBILE_FIELDS))
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, MOBILE_TEMPLATE, form, error)
    message = f"手机号码已修改为 {changed['mobile']}，您在其他设备上的登录均已退出"
    return see_other(request, "/home", message)

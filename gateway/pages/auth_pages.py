"""Login, logout, unit admin registration, forgotten and changed passwords (manual §1.1)."""

from aiohttp import web

from gateway.auth import (
    SESSION_COOKIE,
    current_user,
    end_session,
    login_required,
    read_cookie,
    start_session,
)
from gateway.input_rule import header_text
from gateway.web import (
    call,
    call_anonymous,
    form_of,
    form_page,
    local_path,
    pick,
    render,
    see_other,
    shows_on_form,
    with_client,
)
from shared.contracts.accounts import rpc as accounts_rpc
from shared.rpc import RpcError

REGISTER_FIELDS = tuple(accounts_rpc.UnitRegistration.model_fields)
RESET_FIELDS = tuple(accounts_rpc.ResetPassword.model_fields)
CHANGE_FIELDS = tuple(accounts_rpc.ChangePassword.model_fields)
LOGIN_FIELDS = tuple(accounts_rpc.Credentials.model_fields)


# --- login and logout ---


async def login_page(request: web.Request) -> web.Response:
    if current_user(request):
        raise web.HTTPFound("/home")
    error = None
    if request.query.get("expired") == "1":
        error = RpcError("session_expired", "登录已失效（长时间未操作），请重新登录", 401)
    return await _login_form(request, pick(request.query, ("next", "as")), error)


async def login(request: web.Request) -> web.Response:
    form = await form_of(request)
    params = pick(form, LOGIN_FIELDS)
    params["user_agent"] = header_text(request.headers.get("User-Agent", ""), "user_agent")
    try:
        result = await call_anonymous(
            request, accounts_rpc.AUTH_LOGIN, with_client(request, params)
        )
    except RpcError as error:
        if not shows_on_form(error) and error.code not in ("account_disabled", "no_mobile"):
            raise
        return await _login_form(request, form, error)
    if "second_factor" in result:
        step = result["second_factor"]
        values = {"next": form.get("next", ""), **pick(step, ("challenge_id", "mobile"))}
        return form_page(request, "auth/login_code.html", values)
    return _signed_in(request, result, form.get("next"))


async def login_code(request: web.Request) -> web.Response:
    """The code step of a reviewer's login; 重新获取 posts the form here too."""
    form = await form_of(request)
    params = with_client(request, pick(form, ("challenge_id", "sms_code")))
    try:
        if form.get("action") == "resend":
            del params["sms_code"]
            sent = await call_anonymous(request, accounts_rpc.AUTH_RESEND_LOGIN_CODE, params)
            note = f"验证码已重新发送，{sent['cooldown_seconds']} 秒后可再次获取"
            return form_page(request, "auth/login_code.html", form, notes={"sms_code": note})
        params["user_agent"] = header_text(request.headers.get("User-Agent", ""), "user_agent")
        result = await call_anonymous(request, accounts_rpc.AUTH_CONFIRM_LOGIN, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "auth/login_code.html", form, error)
    return _signed_in(request, result, form.get("next"))


def _signed_in(request: web.Request, result: dict, next_path: str | None) -> web.Response:
    user = result["user"]
    response = see_other(request, local_path(next_path) or "/home", f"欢迎您，{user['name']}")
    start_session(request, response, result["token"])
    return response


async def _login_form(request, values: dict, error: RpcError | None = None) -> web.Response:
    captcha = await call_anonymous(request, accounts_rpc.CAPTCHA_NEW, with_client(request, {}))
    return form_page(request, "auth/login.html", values, error, captcha=captcha)


async def logout(request: web.Request) -> web.Response:
    token = read_cookie(request, SESSION_COOKIE)
    if token:
        await call(request, accounts_rpc.AUTH_LOGOUT, {"token": token})
    response = see_other(request, "/login", "您已安全退出。出于安全考虑，请关闭浏览器。", "info")
    end_session(request, response)
    return response


# --- registration of a unit admin ---


async def register_page(request: web.Request) -> web.Response:
    return form_page(request, "auth/register.html", {})


async def register(request: web.Request) -> web.Response:
    form = await form_of(request)
    if form.get("action") == "send_code":
        return await send_code(request, form, "auth/register.html", "register")
    params = with_client(request, {"form": pick(form, REGISTER_FIELDS)})
    try:
        result = await call_anonymous(request, accounts_rpc.UNIT_REGISTER, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "auth/register.html", form, error)
    return render(request, "auth/register_done.html", {"result": result})


def sent_text(purpose: str) -> str:
    # A reset code goes only to an account's own registered mobile, and the page must not
    # say whether the two matched (that would tell anyone which accounts exist).
    if purpose == "reset_password":
        return "如用户名与注册手机号码一致，验证码已发送至该手机"
    return "验证码已发送"


async def send_code(request, form: dict, template: str, purpose: str) -> web.Response:
    """Without JavaScript the 获取验证码 button posts the form here and it comes back.
    Sent as the signed-in person, if any: a change_mobile code is for them alone."""
    params = {"mobile": form.get("mobile", ""), "purpose": purpose}
    if purpose == "reset_password":
        params["username"] = form.get("username", "")
    try:
        sent = await call(request, accounts_rpc.SMS_REQUEST_CODE, with_client(request, params))
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, template, form, error)
    minutes = sent["expires_in_seconds"] // 60
    note = f"{sent_text(purpose)}，{minutes} 分钟内有效；{sent['cooldown_seconds']} 秒后可重新获取"
    return form_page(request, template, form, notes={"mobile": note})


# --- forgotten password (by SMS) and changed password (signed in) ---


async def forgot_page(request: web.Request) -> web.Response:
    return form_page(request, "auth/password_forgot.html", {})


async def forgot(request: web.Request) -> web.Response:
    form = await form_of(request)
    if form.get("action") == "send_code":
        return await send_code(request, form, "auth/password_forgot.html", "reset_password")
    try:
        params = with_client(request, pick(form, RESET_FIELDS))
        await call_anonymous(request, accounts_rpc.AUTH_RESET_PASSWORD, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "auth/password_forgot.html", form, error)
    return see_other(request, "/login", "密码已重设，请使用新密码登录")


@login_required()
async def change_page(request: web.Request) -> web.Response:
    return form_page(request, "auth/password_change.html", {})


@login_required()
async def change(request: web.Request) -> web.Response:
    form = await form_of(request)
    try:
        await call(request, accounts_rpc.AUTH_CHANGE_PASSWORD, pick(form, CHANGE_FIELDS))
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "auth/password_change.html", form, error)
    return see_other(request, "/home", "密码已修改，您在其他设备上的登录均已退出")

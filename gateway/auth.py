"""Sessions and CSRF for the web pages and the JSON API.

The session cookie holds a random token; the accounts service owns the session and says
who it belongs to on every request. Forms carry a CSRF token: the session's own once
logged in, before that a random value also kept in an HttpOnly cookie (double submit).
"""

import functools
import hmac
import secrets
from urllib.parse import urlencode

from aiohttp import web

from gateway.client_address import client_address, trusted_networks
from gateway.keys import rpc_key, session_cache_key, settings_key
from gateway.sessions import now_utc
from shared import correlation, metrics
from shared.contracts.accounts import rpc as accounts_rpc
from shared.rpc import Actor, RpcError

SESSION_COOKIE = "zc_session"
CSRF_COOKIE = "zc_csrf"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"

user_key = web.RequestKey("user", dict)
session_id_key = web.RequestKey("session_id", str)  # the session's public id, not its token
csrf_key = web.RequestKey("csrf", str)
new_csrf_cookie_key = web.RequestKey("new_csrf_cookie", str)
session_expired_key = web.RequestKey("session_expired", bool)


def client_ip(request: web.Request) -> str:
    trusted = trusted_networks(request.app[settings_key].trusted_proxies)
    return client_address(request.remote or "", request.headers.get("X-Forwarded-For"), trusted)


def current_user(request: web.Request) -> dict | None:
    return request.get(user_key)


def actor_of(request: web.Request) -> Actor:
    """Who is calling, and from where (every call carries the client's address: the
    services' audit trails record it)."""
    user = current_user(request)
    if user is None:
        return Actor(client_address=client_ip(request))
    return Actor(
        user_id=user["id"],
        role=user["role"],
        unit_id=user["unit_id"],
        org_id=user["org_id"],
        name=user.get("name") or "",
        session_id=request.get(session_id_key),
        username=user.get("username") or "",
        organisation=user.get("unit_name") or user.get("org_name") or "",
        client_address=client_ip(request),
    )


@web.middleware
async def session_middleware(request: web.Request, handler):
    if request.path.startswith("/static/") or request.path in ("/healthz", "/readyz"):
        return await handler(request)
    token = read_cookie(request, SESSION_COOKIE)
    expired = False
    if token:
        try:
            session = await resolve_session(request, token)
            request[user_key] = session["user"]
            request[session_id_key] = session["session_id"]
            request[csrf_key] = session["csrf_token"]
            correlation.actor.set(str(session["user"]["id"]))  # reset by request_id.py
        except RpcError as error:
            if error.status != 401:
                raise
            expired = True
            request[session_expired_key] = True
    if csrf_key not in request:
        anonymous = read_cookie(request, CSRF_COOKIE)
        if not anonymous:
            anonymous = secrets.token_urlsafe(24)
            request[new_csrf_cookie_key] = anonymous
        request[csrf_key] = anonymous
    if user_key not in request and _api_needs_login(request):
        # Before the CSRF check: without a session the page's token cannot match, and a
        # script saving a form must learn that the session ended, not that the page is stale.
        raise _unauthenticated(request)
    await _check_csrf(request)
    response = await handler(request)
    if new_csrf_cookie_key in request:
        set_cookie(request, response, CSRF_COOKIE, request[new_csrf_cookie_key])
    if expired and not response.cookies.get(cookie_name(request, SESSION_COOKIE)):
        drop_cookie(request, response, SESSION_COOKIE)
    return response


async def resolve_session(request: web.Request, token: str) -> dict:
    """accounts' answer for the token: from this copy's cache while it may be trusted
    (gateway/sessions.py), else asked, with this copy's last use of it as activity."""
    cache = request.app[session_cache_key]
    now = now_utc()
    session = cache.get(token, now)
    if session is not None:
        metrics.count(metrics.SESSION_CHECKS, "cache")
        return session
    generation = cache.generation
    params: dict = {"token": token}
    if (last_active := cache.last_active(token)) is not None:
        params["last_active"] = last_active
    try:
        session = await request.app[rpc_key].invoke(accounts_rpc.AUTH_SESSION, params)
    except RpcError as error:
        if error.status == 401:
            metrics.count(metrics.SESSION_CHECKS, "refused")
            cache.forget_token(token)
        raise
    metrics.count(metrics.SESSION_CHECKS, "accounts")
    cache.put(token, session, generation, now)
    return session


# What the copy that carried a change forgets at once, before its answer goes out; the other
# copies forget through accounts.sessions.changed a moment later (gateway/sessions.py).
ENDS_CALLERS_SESSIONS = frozenset(
    str(m)
    for m in (
        accounts_rpc.SESSIONS_END,
        accounts_rpc.SESSIONS_END_OTHERS,
        accounts_rpc.AUTH_CHANGE_PASSWORD,
        accounts_rpc.AUTH_CHANGE_MOBILE,
    )
)
CHANGES_ANOTHER_USER = frozenset(
    str(m)
    for m in (
        accounts_rpc.USERS_SET_ACTIVE,
        accounts_rpc.USERS_UPDATE,
        accounts_rpc.USERS_DELETE,
        accounts_rpc.USERS_SET_PASSWORD,
    )
)


def forget_changed_sessions(request: web.Request, method: str, params) -> None:
    """After a successful call that ends sessions or changes a user, this copy drops that
    user's cached sessions itself: the next request here, even a millisecond later, asks
    accounts instead of trusting what it cached before the change."""
    if method in ENDS_CALLERS_SESSIONS and (user := current_user(request)):
        request.app[session_cache_key].forget([str(user["id"])], [])
    elif method in CHANGES_ANOTHER_USER:
        user_id = params.get("user_id") if isinstance(params, dict) else params.user_id
        request.app[session_cache_key].forget([str(user_id)], [])


def _api_needs_login(request: web.Request) -> bool:
    handler = request.match_info.handler
    return request.path.startswith("/api/") and getattr(handler, "needs_login", False)


def _unauthenticated(request: web.Request) -> RpcError:
    if request.get(session_expired_key):
        return RpcError("unauthenticated", "登录已失效（长时间未操作），请重新登录", 401)
    return RpcError("unauthenticated", "请先登录", 401)


async def _check_csrf(request: web.Request) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sent = (await request.post()).get(CSRF_FIELD)
    if not sent or not hmac.compare_digest(str(sent), request[csrf_key]):
        raise RpcError("csrf_failed", "页面已过期或请求来源无效，请刷新页面后重试", 403)


def cookie_name(request: web.Request, name: str) -> str:
    """Over HTTPS a cookie is `__Host-<name>`: the browser then takes it only when Secure,
    for the whole site and from this host, so no subdomain or plain-HTTP page can plant it."""
    return f"__Host-{name}" if request.app[settings_key].https else name


def read_cookie(request: web.Request, name: str) -> str | None:
    return request.cookies.get(cookie_name(request, name))


def set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    max_age: int | None = None,
) -> None:
    https = request.app[settings_key].https
    response.set_cookie(
        cookie_name(request, name),
        value,
        path="/",
        httponly=True,
        samesite="Lax",
        max_age=max_age,
        secure=https,
    )


def drop_cookie(request: web.Request, response: web.StreamResponse, name: str) -> None:
    https = request.app[settings_key].https
    response.del_cookie(cookie_name(request, name), path="/", secure=https, samesite="Lax")


def start_session(request: web.Request, response: web.StreamResponse, token: str) -> None:
    set_cookie(request, response, SESSION_COOKIE, token)
    drop_cookie(request, response, CSRF_COOKIE)


def end_session(request: web.Request, response: web.StreamResponse) -> None:
    if token := read_cookie(request, SESSION_COOKIE):
        request.app[session_cache_key].forget_token(token)
    drop_cookie(request, response, SESSION_COOKIE)


def login_required(*roles: str):
    """Web page guard: anonymous users go to the login page, other roles get a 403 page."""

    def decorate(view):
        @functools.wraps(view)
        async def guarded(request: web.Request):
            user = current_user(request)
            if user is None:
                if request.path.startswith("/api/"):
                    raise _unauthenticated(request)
                query = {"next": request.path_qs}
                if request.get(session_expired_key):
                    query["expired"] = "1"
                raise web.HTTPFound("/login?" + urlencode(query))
            if roles and user["role"] not in roles:
                raise RpcError("forbidden", "您没有权限访问此页面", 403)
            return await view(request)

        guarded.needs_login = True
        guarded.roles = roles  # for the OpenAPI document (x-roles)
        return guarded

    return decorate

"""What the page views share: the template context, flashes, redirects, forms and RPC calls."""

import base64
import binascii
import json
from typing import NamedTuple
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import hdrs, web

from gateway.auth import (
    CSRF_FIELD,
    actor_of,
    client_ip,
    cookie_name,
    csrf_key,
    current_user,
    forget_changed_sessions,
    read_cookie,
    set_cookie,
)
from gateway.errors import with_retry_after
from gateway.keys import rpc_key, settings_key
from shared.contracts.accounts.vocabulary import ROLE_LABELS
from shared.contracts.base import Method
from shared.rpc import Actor, RpcError

SECRET_FIELDS = {
    "password",
    "password_confirm",
    "old_password",
    "new_password",
    "new_password_confirm",
    "captcha_answer",
}
FLASH_COOKIE = "zc_flash"
FLASH_KINDS = ("success", "error", "info")
flash_read_key = web.RequestKey("flash_read", list)


# --- flashes: one short-lived cookie, shown on the next rendered page, then dropped ---


def flash(request: web.Request, response: web.StreamResponse, text: str, kind: str = "success"):
    payload = json.dumps([{"kind": kind, "text": text[:300]}], ensure_ascii=False).encode()
    value = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    set_cookie(request, response, FLASH_COOKIE, value, max_age=120)


class Flashes:
    """Read only when a template shows them, so a redirect on the way keeps them."""

    def __init__(self, request: web.Request) -> None:
        # The cookie and a mark the request keeps, not the request: a template's context
        # can end in a reference cycle (Jinja's macros), which must not hold the request.
        self.raw = read_cookie(request, FLASH_COOKIE)
        self.read = request.setdefault(flash_read_key, [])

    def __iter__(self):
        raw = self.raw
        if not raw:
            return iter(())
        self.read.append(True)
        try:
            items = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        except (binascii.Error, ValueError):
            return iter(())
        if not isinstance(items, list):
            return iter(())
        return iter(
            {
                "kind": i.get("kind") if i.get("kind") in FLASH_KINDS else "info",
                "text": str(i["text"]),
            }
            for i in items[:3]
            if isinstance(i, dict) and "text" in i
        )


async def drop_shown_flash(request: web.Request, response: web.StreamResponse) -> None:
    # on_response_prepare runs after the cookies became headers, so the header is added as such.
    name = cookie_name(request, FLASH_COOKIE)
    if request.get(flash_read_key) and name not in response.cookies:
        secure = "; Secure" if request.app[settings_key].https else ""
        response.headers.add(
            hdrs.SET_COOKIE, f"{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax{secure}"
        )


class PageRequest(NamedTuple):
    """What the templates read of the request."""

    path: str
    path_qs: str


def page_context(request: web.Request) -> dict:
    """What every page's template reads besides its own context. Made when a page is drawn,
    not by a middleware on every request: kept on the request, it (and aiohttp_jinja2's
    request_processor) referred back to the request, so every request, the API's too, was a
    reference cycle of ~25 objects that only the garbage collector could free, in pauses of
    30-40 ms every two seconds under load (bench/README.md, "No cycle per request")."""
    user = current_user(request)
    return {
        "request": PageRequest(request.path, request.path_qs),
        "app": request.app,
        "csrf": request.get(csrf_key, ""),
        "user": user,
        "role_label": ROLE_LABELS.get(user["role"], "") if user else "",
        "flashes": Flashes(request),
    }


# --- answers ---


def see_other(
    request: web.Request, location: str, message: str | None = None, kind: str = "success"
) -> web.Response:
    response = web.Response(status=303, headers={"Location": location})
    if message:
        flash(request, response, message, kind)
    return response


def render(request: web.Request, template: str, context: dict, status: int = 200) -> web.Response:
    page = {**page_context(request), **context}
    return aiohttp_jinja2.render_template(template, request, page, status=status)


def form_page(
    request: web.Request,
    template: str,
    values: dict,
    error: RpcError | None = None,
    **context,
) -> web.Response:
    """A form with what was typed (never secrets) and each field's message beside it."""
    shown = {k: v for k, v in values.items() if k not in SECRET_FIELDS}
    status = error.status if error and 400 <= error.status < 500 else 422 if error else 200
    response = render(
        request,
        template,
        {
            "values": shown,
            "errors": error.fields if error else {},
            "problem": error.message if error else None,
            **context,
        },
        status,
    )
    return with_retry_after(response, error) if error else response


def shows_on_form(error: RpcError) -> bool:
    """Input problems go back to the form; the rest (403, 404, outages) get an error page."""
    return bool(error.fields) or error.status in (400, 401, 409, 422, 423, 429)


async def form_of(request: web.Request) -> dict[str, str]:
    data = await request.post()
    return {k: v for k, v in data.items() if isinstance(v, str) and k != CSRF_FIELD}


def pick(values, names) -> dict[str, str]:
    """The named values, '' for the missing or empty ones."""
    return {name: values.get(name) or "" for name in names}


def local_path(target: str | None) -> str | None:
    """The target when it is a path on this site; None for anything that could leave it."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


# --- calls to the services: a method of a service's contract, sent as its model ---


async def call(
    request: web.Request,
    method: Method,
    params=None,
    timeout: float | None = None,
    attachment: bytes | None = None,
):
    """A call on behalf of the signed-in user (shared/rpc.py RpcClient.invoke), with the
    file a `takes_file` method takes."""
    answer = await request.app[rpc_key].invoke(
        method, params, actor=actor_of(request), timeout=timeout, attachment=attachment
    )
    forget_changed_sessions(request, str(method), params)
    return answer


async def call_anonymous(request: web.Request, method: Method, params=None):
    """A call before sign-in (captcha, SMS codes, registration, login, reset): no one yet,
    but from a client address."""
    actor = Actor(client_address=client_ip(request))
    return await request.app[rpc_key].invoke(method, params, actor=actor)


def with_client(request: web.Request, params: dict) -> dict:
    return {**params, "client_ip": client_ip(request)}

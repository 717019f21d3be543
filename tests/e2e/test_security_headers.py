"""Security headers on every answer (gateway/security_headers.py), TLS-ready cookies, and a
browser that refuses what the policy forbids."""

import re

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from gateway.app import create_app
from tests.e2e.conftest import CAPTCHA, CSP_VIOLATIONS, new_browser_context
from tests.e2e.identity_helpers import PASSWORD, Client
from tests.e2e.people import new_unit, new_user, signed_in

REQUIRED = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
ZERO_ID = "00000000-0000-0000-0000-000000000000"


def check(headers, where: str) -> None:
    for name, part in REQUIRED.items():
        assert part in headers.get(name, ""), (where, name, headers.get(name))
    csp = headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    for directive in ("object-src 'none'", "base-uri 'none'", "form-action 'self'"):
        assert directive in csp, (where, directive)
    assert "frame-ancestors 'none'" in csp or "frame-ancestors 'self'" in csp, where
    assert re.fullmatch(r"[a-z]+", headers.get("Server", "")), (where, headers.get("Server"))
    assert "Strict-Transport-Security" not in headers, where  # a local run is plain HTTP
    cache = headers.get("Cache-Control", "")
    if " /static/" in where:
        assert "no-store" not in cache, where
    else:
        assert cache == "no-store", (where, cache)


def urls_of(app) -> list[tuple[str, str]]:
    """Every route of the router, its path parameters filled with something of their shape."""
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if path is None:
            continue
        path = re.sub(r"\{kind\}", "applicants", path)
        path = re.sub(r"\{[^}]*id\}", ZERO_ID, path)
        path = re.sub(r"\{[^}]+\}", "x", path)
        if path.startswith("/static"):
            path = "/static/app.css"
        found.append((route.method, path))
    return sorted(set(found))


@pytest.mark.parametrize("who", ["anonymous", "unit_admin"])
async def test_every_route_answers_with_the_security_headers(gateway, services, who):
    client = (
        Client(str(gateway.make_url("")))
        if who == "anonymous"
        else await signed_in(gateway, services, who, unit_id=await new_unit(services))
    )
    try:
        headers = {"X-CSRF-Token": await client.csrf()}
        urls = urls_of(gateway.app) + [("GET", "/no/such/page"), ("GET", "/api/no-such")]
        statuses = set()
        for method, path in urls:
            if method == "HEAD":
                continue
            async with client.http.request(
                method, path, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                check(response.headers, f"{who} {method} {path} {response.status}")
                statuses.add(response.status)
        assert len(urls) > 100
        assert {200, 404}.issubset(statuses) and statuses & {302, 303, 401, 403, 405, 422}
    finally:
        await client.close()


async def test_a_stored_file_may_be_framed_by_our_pages_only(gateway, services, unit):
    from tests.e2e.case_steps import open_case, picture, upload

    case_id = await open_case(unit["applicant"])
    status, file = await upload(unit["applicant"], case_id, "id_card", picture(), "id.png")
    assert status == 201, file
    async with unit["applicant"].http.get(f"/api/files/{file['file_id']}") as response:
        assert response.status == 200 and response.content_type == "image/png"
        check(response.headers, "file")
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    async with unit["applicant"].http.get("/home") as response:
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_over_https_cookies_are_secure_host_cookies_and_hsts_is_sent(settings, services):
    server = TestServer(create_app(settings.model_copy(update={"https": True})))
    await server.start_server()
    person = await new_user(services, "unit_operator", unit_id=await new_unit(services))
    # aiohttp's client keeps Secure cookies only for https URLs: they are read from the
    # headers and sent back by hand, as a browser behind the TLS proxy would.
    async with aiohttp.ClientSession(str(server.make_url(""))) as http:
        try:
            async with http.get("/api/session") as response:
                assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
                csrf_cookie = response.headers["Set-Cookie"]
                token = (await response.json())["csrf_token"]
            assert csrf_cookie.startswith("__Host-zc_csrf=") and "Secure" in csrf_cookie
            assert "Path=/" in csrf_cookie and "Domain" not in csrf_cookie
            sent = {"headers": {"X-CSRF-Token": token}, "cookies": {"__Host-zc_csrf": token}}
            async with http.post("/api/captcha", **sent) as response:
                captcha = await response.json()
                assert response.status == 200, captcha
            login = {
                "username": person["username"],
                "password": PASSWORD,
                "captcha_id": captcha["captcha_id"],
                "captcha_answer": CAPTCHA,
            }
            async with http.post("/api/session", json=login, **sent) as response:
                assert response.status == 200, await response.text()
                set_cookies = response.headers.getall("Set-Cookie")
            session = next(c for c in set_cookies if "zc_session=" in c)
            assert session.startswith("__Host-zc_session=") and "Secure" in session
            assert "HttpOnly" in session and "SameSite=Lax" in session
        finally:
            await server.close()


async def test_over_plain_http_cookies_have_no_prefix_and_no_hsts(http):
    async with http.get("/api/session") as response:
        assert "Strict-Transport-Security" not in response.headers
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("zc_csrf=") and "Secure" not in cookie


@pytest.mark.browser
async def test_the_browser_refuses_an_inline_script_under_the_policy(chromium, gateway):
    context = await new_browser_context(chromium, gateway)
    try:
        page = await context.new_page()
        await page.goto("/login")
        with pytest.raises(Exception):  # noqa: B017 - the browser's own refusal
            await page.add_script_tag(content="window.injected = true")
        assert await page.evaluate("window.injected === undefined")
        assert any("Content Security Policy" in v for v in CSP_VIOLATIONS)
        CSP_VIOLATIONS.clear()  # expected here: the detector works
    finally:
        await context.close()

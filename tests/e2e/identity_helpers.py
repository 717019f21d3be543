"""Driving the identity pages and API over HTTP: unique people, cookies, CSRF, SMS codes."""

import asyncio
import html
import io
import json
import random
import re
import uuid
from pathlib import Path

import aiohttp
import openpyxl

from services.accounts.domain.validation import id_check_char, org_code_check_char
from services.accounts.enrolment import Enrolment, upsert_enrolment
from services.accounts.handlers.applicant_import import COLUMNS
from tests.e2e.conftest import CAPTCHA

PASSWORD = "Zc7Shenpi"
NEW_PASSWORD = "N3wPassw0rd"
UNIT_NAME = "深圳市测试科技有限公司"


# --- unique values, so tests never clean up after themselves ---


def _digits(count: int) -> str:
    return str(uuid.uuid4().int)[-count:].zfill(count)


def username(prefix: str = "t") -> str:
    return (prefix + uuid.uuid4().hex)[:14]


def mobile() -> str:
    return "13" + _digits(9)


def id_number(gender: str | None = None) -> str:
    birth = f"{random.randint(1960, 2000)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    serial = _digits(3)
    if gender is not None and (int(serial[2]) % 2 == 1) != (gender == "男"):
        serial = serial[:2] + str((int(serial[2]) + 1) % 10)
    region = str(random.randint(110000, 659999))  # the test database outlives runs: spread out
    first17 = region + birth + serial
    return first17 + id_check_char(first17)


def gender_of(id_no: str) -> str:
    return "男" if int(id_no[16]) % 2 else "女"


def org_code() -> str:
    body = "".join(random.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    return body + org_code_check_char(body)


def registration_form(**overrides) -> dict[str, str]:
    form = {
        "org_code": org_code(),
        "si_unit_no": _digits(8),
        "admin_name": "王小明",
        "admin_id_number": id_number(),
        "admin_si_no": _digits(10),
        "email": "admin@example.cn",
        "username": username("adm"),
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "phone": "0755-83000000",
        "mobile": mobile(),
        "sms_code": "",
    }
    return form | overrides


def applicant_fields(**overrides) -> dict[str, str]:
    id_no = overrides.pop("id_number", None) or id_number()
    fields = {
        "name": "李申报",
        "id_number": id_no,
        "gender": gender_of(id_no),
        "mobile": mobile(),
        "email": "applicant@example.cn",
        "username": username("ap"),
        "password": PASSWORD,
    }
    return fields | overrides


def operator_fields(**overrides) -> dict[str, str]:
    fields = {
        "name": "赵经办",
        "mobile": mobile(),
        "email": "",
        "username": username("op"),
        "password": PASSWORD,
    }
    return fields | overrides


async def enrol(services, form: dict, unit_name: str = UNIT_NAME, **changes) -> None:
    """Put the admin of a registration form in the social-security registry."""
    enrolment = Enrolment(
        id_number=form["admin_id_number"],
        si_unit_no=form["si_unit_no"],
        si_no=form["admin_si_no"],
        unit_name=unit_name,
        person_name=form["admin_name"],
        active=True,
    )
    async with services["accounts"].pool.acquire() as conn:
        await upsert_enrolment(conn, Enrolment(**(enrolment.__dict__ | changes)))


SMS_WORDS = {
    "register": "注册单位管理员",
    "reset_password": "重设登录密码",
    "change_mobile": "修改登录账户的手机号码",
    "objection": "提交职称评后公示异议",
    "login": "您正在登录",
}


def last_code(outbox: Path, to: str, purpose: str = "register") -> str | None:
    """The code in the last SMS for this purpose the development provider wrote to a mobile."""
    if not outbox.exists():
        return None
    for line in reversed(outbox.read_text(encoding="utf-8").splitlines()):
        sms = json.loads(line)
        if sms["mobile"] == to and SMS_WORDS[purpose] in sms["body"]:
            return re.search(r"验证码 (\d{6})", sms["body"]).group(1)
    return None


async def sms_code(outbox: Path, to: str, purpose: str = "register", timeout: float = 10.0) -> str:
    """Waits for the provider to write the SMS: delivery goes through notify and RabbitMQ."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if code := last_code(outbox, to, purpose):
            return code
        await asyncio.sleep(0.05)
    raise AssertionError(f"no SMS to {to} within {timeout} s")


def xlsx(rows: list[dict[str, str]]) -> io.BytesIO:
    """A workbook in the import template's layout, ready to upload."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.get(field, "") for field in COLUMNS.values()])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


# --- reading pages ---


def field_error(page: str, name: str) -> str:
    """The message shown under a field ('' when there is none)."""
    match = re.search(rf'<p class="error" id="e-{name}"[^>]*>(.*?)</p>', page, re.S)
    assert match, f"no error slot for {name}"
    return html.unescape(match.group(1)).strip()


def input_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input id="f-{name}" name="{name}"([^>]*)>', page)
    assert match, f"no input {name}"
    value = re.search(r' value="([^"]*)"', match.group(1))
    return html.unescape(value.group(1)) if value else None


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden {name}"
    return html.unescape(match.group(1))


def text_of(page: str) -> str:
    """The visible text, tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# --- a client that behaves like one browser ---


class Client:
    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        # unsafe: accept cookies from an IP address (the test server's 127.0.0.1)
        self.http = aiohttp.ClientSession(
            base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers
        )

    async def close(self) -> None:
        await self.http.close()

    async def csrf(self) -> str:
        async with self.http.get("/api/session") as response:
            return (await response.json())["csrf_token"]

    async def page(self, path: str) -> tuple[int, str, str]:
        """(status, html, final path) after redirects."""
        async with self.http.get(path) as response:
            return response.status, await response.text(), response.url.path

    async def submit(self, path: str, data: dict, follow: bool = True) -> tuple[int, str, str]:
        """Post a form the way the page does, with its CSRF token."""
        form = {"_csrf": await self.csrf(), **data}
        async with self.http.post(path, data=form, allow_redirects=follow) as response:
            where = response.headers.get("Location", "") if not follow else response.url.path
            return response.status, await response.text(), where

    async def api(self, method: str, path: str, body=None, data=None) -> tuple[int, dict]:
        headers = {"X-CSRF-Token": await self.csrf()}
        async with self.http.request(method, path, json=body, data=data, headers=headers) as r:
            return r.status, await r.json()

    async def captcha_id(self) -> str:
        status, body = await self.api("POST", "/api/captcha")
        assert status == 200, body
        return body["captcha_id"]

    async def login(self, name: str, password: str = PASSWORD, **extra) -> tuple[int, str, str]:
        form = {
            "username": name,
            "password": password,
            "captcha_id": await self.captcha_id(),
            "captcha_answer": CAPTCHA,
        }
        return await self.submit("/login", form | extra)

    def session_cookie(self) -> str | None:
        for cookie in self.http.cookie_jar:
            if cookie.key == "zc_session":
                return cookie.value
        return None


async def register_admin(client: Client, services, outbox: Path, **overrides) -> dict:
    """A unit admin registered through the JSON API, with the code from the SMS log."""
    form = registration_form(**overrides)
    await enrol(services, form)
    status, body = await client.api(
        "POST", "/api/sms-codes", {"mobile": form["mobile"], "purpose": "register"}
    )
    assert status == 200, body
    form["sms_code"] = await sms_code(outbox, form["mobile"])
    status, body = await client.api("POST", "/api/units", form)
    assert status == 201, body
    return form


async def create_person(client: Client, kind: str, fields: dict) -> tuple[int, dict]:
    return await client.api("POST", f"/api/{kind}", fields)

"""Driving the applicant's pages over HTTP: a case opened, sections posted, scans uploaded."""

import html
import io
import re

import aiohttp

from tests.e2e.identity_helpers import Client

# the demo 档案 committee reviews 馆员 and 助理馆员, not 高级工程师
CHOICES = {
    "round_id": "2026",
    "review_type_id": "ptsb",
    "committee_id": "cmte-da-zj",
    "qualification_id": "da-zj",
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(48)
TEN_MB = 10 * 1024 * 1024

BASIC = {
    "name": "张三",
    "gender": "男",
    "birth_date": "1985-03-12",
    "id_number": "",  # the account's: complete() fills it in
    "education": "大学本科",
    "school": "深圳大学",
    "major": "档案学",
    "graduated_on": "2007-07-01",
    "current_title": "",
    "current_title_on": "",
    "position": "档案管理员",
    "work_started_on": "2007-08-01",
    "years_in_field": "12",
}
WORK = {
    "entries.0.start": "2007-08",
    "entries.0.end": "2015-06",
    "entries.0.employer": "深圳市档案馆",
    "entries.0.role": "档案员",
    "entries.1.start": "2015-07",
    "entries.1.end": "至今",
    "entries.1.employer": "深圳市测试科技有限公司",
    "entries.1.role": "档案管理员",
}
ACHIEVEMENTS = {
    "entries.0.kind": "论文",
    "entries.0.title": "企业档案数字化管理实践",
    "entries.0.year": "2021",
    "entries.0.note": "《档案与建设》",
}
EDUCATION = {f"hours_by_year.{year}": "72" for year in range(2021, 2026)}
REQUIRED_SCANS = ("id_card", "diploma", "achievement")


async def open_case(client: Client, **choices) -> str:
    """Through 新建申报; the new case's id."""
    status, _, where = await client.submit("/my/cases/new", CHOICES | choices, follow=False)
    assert status == 303, f"opening a case answered {status}"
    return where.rsplit("/", 1)[1]


async def save_section(client: Client, case_id: str, section: str, form: dict):
    return await client.submit(f"/my/cases/{case_id}/sections/{section}", form, follow=False)


async def upload(
    client: Client, case_id: str, category: str, filename: str, content: bytes, follow=True
) -> tuple[int, str, str]:
    data = aiohttp.FormData(quote_fields=False)  # as browsers send names: UTF-8, unquoted
    data.add_field("_csrf", await client.csrf())
    data.add_field("category", category)
    data.add_field(
        "file", io.BytesIO(content), filename=filename, content_type="application/octet-stream"
    )
    async with client.http.post(
        f"/my/cases/{case_id}/scans", data=data, allow_redirects=follow
    ) as response:
        where = response.url.path if follow else response.headers.get("Location", "")
        return response.status, await response.text(), where


async def complete(client: Client, case_id: str) -> None:
    """Every section and every required scan, so the case can be submitted."""
    basic = BASIC | {"id_number": client.person["id_number"]}
    for section, form in (
        ("basic", basic),
        ("work_history", WORK),
        ("achievements", ACHIEVEMENTS),
        ("education", EDUCATION),
    ):
        status, _, _ = await save_section(client, case_id, section, form)
        assert status == 303, f"saving {section} answered {status}"
    for category in REQUIRED_SCANS:
        status, _, _ = await upload(client, case_id, category, f"{category}.png", PNG, False)
        assert status == 303, f"uploading {category} answered {status}"


def error_for(page: str, name: str) -> str:
    """The message in a field's error slot ('' when there is none)."""
    match = re.search(
        rf'<p class="error"[^>]*data-error-for="{re.escape(name)}"[^>]*>(.*?)</p>', page, re.S
    )
    assert match, f"no error slot for {name}"
    return html.unescape(match.group(1)).strip()


def upload_error(page: str, category: str) -> str:
    match = re.search(rf'<p class="error" id="e-file-{category}"[^>]*>(.*?)</p>', page, re.S)
    assert match, f"no upload error slot for {category}"
    return html.unescape(match.group(1)).strip()


def value_of(page: str, name: str) -> str | None:
    """An input's value attribute, or a select's chosen option."""
    escaped = re.escape(name)
    match = re.search(rf'<input id="f-{escaped}" name="{escaped}"([^>]*)>', page)
    if match:
        value = re.search(r' value="([^"]*)"', match.group(1))
        return html.unescape(value.group(1)) if value else None
    match = re.search(rf'<select id="f-{escaped}" name="{escaped}".*?</select>', page, re.S)
    assert match, f"no input {name}"
    chosen = re.search(r'<option value="([^"]*)"[^>]* selected', match.group(0))
    return html.unescape(chosen.group(1)) if chosen else ""

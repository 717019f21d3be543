"""Walking cases through the workflow over HTTP, as each signed-in role would through the gateway.

The applicant's steps use the JSON API; the unit and reviewer steps use the JSON API too, except
where a test drives the pages. Every step asserts its answer, so a broken step names itself.
"""

import html
import io
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta

import aiohttp

from tests.e2e.identity_helpers import Client
from tests.e2e.people import reviewers, signed_in, unit_people

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # passes the type check; not a picture


def picture(width: int = 320, height: int = 200) -> bytes:
    """A real PNG: a pale card with a blue frame, as a scan shows in the page."""
    frame, paper = b"\x1d\x4f\x91", b"\xf4\xf6\xf9"
    rows = b"".join(
        b"\x00"
        + b"".join(
            frame if x < 6 or y < 6 or x >= width - 6 or y >= height - 6 else paper
            for x in range(width)
        )
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


SCAN = picture()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CHOICES = {
    "round_id": "2026",
    "review_type_id": "ptsb",  # 普通申报: no pre-approval; 创新型人才 (cxxrc) needs it
    "qualification_id": "gc-fg",
    "committee_id": "cmte-qg-gj",
}
PASSED = {"passed": True, "feedback": "公示期间无异议"}
PUBLICITY_OVER = timedelta(days=12)  # past any 5-working-day period from the clock's Monday


def approval(today: date, **changes) -> dict:
    years = {str(y): "合格" for y in range(today.year - 5, today.year)}
    return {
        "negative_situation": "",
        "annual_assessments": years,
        "evaluation": "工作认真负责，业绩突出。",
        "continuing_education_opinion": "已完成继续教育学时要求。",
        **changes,
    }


def materials(name: str) -> dict:
    return {
        "basic": {
            "name": name,
            "gender": "女",
            "birth_date": "1985-03-02",
            "id_number": "11010519850302002X",
            "education": "大学本科",
            "school": "深圳大学",
            "major": "机械工程",
            "graduated_on": "2007-07-01",
            "current_title": "",
            "position": "工程师",
            "work_started_on": "2007-08-01",
            "years_in_field": 18,
        },
        "work_history": {
            "entries": [
                {"start": "2007-08", "end": "至今", "employer": "深圳某科技公司", "role": "工程师"}
            ]
        },
        "achievements": {
            "entries": [{"kind": "论文", "title": "精密机械设计方法研究", "year": 2020, "note": ""}]
        },
        "education": {"hours_by_year": {"2024": 80, "2025": 90}},
    }


@dataclass
class Cast:
    """One unit's operator and applicant, and the reviewers its committee leads to."""

    unit_id: object
    operator: Client
    applicant: Client
    department: Client
    office: Client
    committee: Client
    extra: list[Client] = field(default_factory=list)  # more people of the unit, to close

    def clients(self) -> list[Client]:
        people = [self.operator, self.applicant, self.department, self.office, self.committee]
        return people + self.extra

    async def close(self) -> None:
        for client in self.clients():
            await client.close()


async def new_cast(gateway, services) -> Cast:
    unit = await unit_people(gateway, services)
    return Cast(
        unit["unit_id"], unit["operator"], unit["applicant"], **await reviewers(gateway, services)
    )


async def member(gateway, services, cast: Cast, role: str, name: str) -> Client:
    """Another signed-in person of the cast's unit (an applicant, an operator)."""
    client = await signed_in(gateway, services, role, unit_id=cast.unit_id, name=name)
    cast.extra.append(client)
    return client


async def submit_form(client: Client, path: str, data: dict) -> tuple[int, str, str]:
    """A form post as Client.submit, where a list value is a field sent once per item."""
    pairs = [("_csrf", await client.csrf())]
    for name, value in data.items():
        pairs += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    async with client.http.post(path, data=pairs) as response:
        return response.status, await response.text(), response.url.path


# --- the applicant's steps ---


async def upload(
    client: Client, case_id: str, category: str, content: bytes, filename: str = "scan.png"
) -> tuple[int, dict]:
    form = aiohttp.FormData(quote_fields=False)  # a Chinese file name as a browser sends it
    form.add_field("category", category)
    form.add_field(
        "file", io.BytesIO(content), filename=filename, content_type="application/octet-stream"
    )
    return await client.api("POST", f"/api/cases/{case_id}/attachments", data=form)


async def open_case(applicant: Client, **choices) -> str:
    status, body = await applicant.api("POST", "/api/cases", CHOICES | choices)
    assert status == 201, body
    return body["case_id"]


async def complete(applicant: Client, case_id: str) -> None:
    for section, data in materials(applicant.person["name"]).items():
        status, body = await applicant.api("PUT", f"/api/cases/{case_id}/sections/{section}", data)
        assert status == 200, (section, body)
    for category, content, name in (
        ("id_card", SCAN, "身份证.png"),
        ("diploma", PDF, "学历证书.pdf"),
        ("achievement", SCAN, "业绩证明.png"),
    ):
        status, body = await upload(applicant, case_id, category, content, name)
        assert status == 201, (category, body)


async def submitted(applicant: Client, **choices) -> str:
    case_id = await open_case(applicant, **choices)
    await complete(applicant, case_id)
    await must(applicant, case_id, "submit")
    return case_id


# --- anyone's actions ---


async def act(client: Client, case_id: str, action: str, version=None, **inputs):
    body = {"inputs": inputs}
    if version is not None:
        body["expected_version"] = version
    return await client.api("POST", f"/api/cases/{case_id}/actions/{action}", body)


async def must(client: Client, case_id: str, action: str, **inputs) -> dict:
    status, body = await act(client, case_id, action, **inputs)
    assert status == 200, (action, status, body)
    return body


async def case_of(client: Client, case_id: str) -> dict:
    status, body = await client.api("GET", f"/api/cases/{case_id}")
    assert status == 200, body
    return body


async def counts(client: Client) -> dict[str, int]:
    status, body = await client.api("GET", "/api/cases/home")
    assert status == 200, body
    return {item["key"]: item["count"] for item in body["lists"]}


# --- the unit's part, up to the department ---


async def approved(cast: Cast, clock, **choices) -> str:
    case_id = await submitted(cast.applicant, **choices)
    await must(cast.operator, case_id, "approve", **approval(clock.today()))
    return case_id


async def publicised(cast: Cast, clock, **choices) -> str:
    """Approved, pre-publicity started and over (the clock moved past its end)."""
    case_id = await approved(cast, clock, **choices)
    await must(cast.operator, case_id, "start_pre_publicity")
    clock.offset += PUBLICITY_OVER
    return case_id


async def at_department(cast: Cast, clock, **choices) -> str:
    case_id = await publicised(cast, clock, **choices)
    await must(cast.operator, case_id, "record_pre_publicity_result", **PASSED)
    await must(cast.operator, case_id, "submit_to_department")
    return case_id


async def passed(cast: Cast, clock, **choices) -> str:
    """Walked on to 业务办结 with the review passed: the department's 确认办结 issued its
    职称电子证书."""
    case_id = await at_department(cast, clock, **choices)
    for client, action in (
        (cast.department, "accept"),
        (cast.applicant, "print_declaration_form"),
        (cast.department, "forward_to_committee"),
        (cast.committee, "pass_review"),
        (cast.department, "launch_post_publicity"),
        (cast.operator, "start_post_publicity"),
    ):
        await must(client, case_id, action)
    clock.offset += PUBLICITY_OVER
    await must(cast.operator, case_id, "record_post_publicity_result", **PASSED)
    await must(cast.department, case_id, "confirm")
    return case_id


# --- reading pages ---


def flash_text(page: str) -> str:
    found = re.findall(r'<div class="flash flash-\w+" role="status">(.*?)</div>', page, re.S)
    return html.unescape(" ".join(found))


def flow_counts(page: str) -> dict[int, str]:
    """The [n] of each step on a ten-step flow (the first flow on the page)."""
    flow = page[page.index('class="flow-steps"') : page.index("</ol>", page.index("flow-steps"))]
    shown = {}
    for chunk in flow.split('data-step="')[1:]:
        step = int(chunk.split('"', 1)[0])
        count = re.search(r'data-count="([^"]*)"', chunk)
        if count:
            shown[step] = count.group(1)
    return shown

"""导出Excel through the gateway: start an export (the JSON API or a list page's button),
wait for its job, download the file and read it back with openpyxl."""

import asyncio
import io
import re
from datetime import date, datetime

import openpyxl

from tests.e2e.case_steps import submit_form
from tests.e2e.identity_helpers import Client

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JOB_WAIT = 60  # seconds


async def finished(client: Client, job_id: str) -> dict:
    for _ in range(JOB_WAIT * 20):
        status, job = await client.api("GET", f"/api/exports/{job_id}")
        assert status == 200, job
        if job["status"] not in ("queued", "running"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"export {job_id} did not finish")


async def download(client: Client, job_id: str) -> bytes:
    async with client.http.get(f"/api/exports/{job_id}/file") as response:
        assert response.status == 200, await response.text()
        assert response.content_type == XLSX
        assert "attachment; filename*=UTF-8''" in response.headers["Content-Disposition"]
        return await response.read()


def sheet_rows(content: bytes) -> tuple[list[str], list[dict]]:
    """The header and each row by header, as Excel would show them."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


async def exported(client: Client, key: str, filters: dict) -> tuple[dict, list[str], list[dict]]:
    """Export a list over the JSON API: the finished job, the header and the rows."""
    status, job = await client.api("POST", "/api/exports", {"list": key, "filters": filters})
    assert status == 202, job
    job = await finished(client, job["job_id"])
    assert job["status"] == "done", job
    header, rows = sheet_rows(await download(client, job["job_id"]))
    return job, header, rows


async def exported_from_page(client: Client, key: str, page: str, filters: dict) -> list[dict]:
    """Press a list page's 导出Excel button, follow the job page, download."""
    data = {"export": key, "back": page, **filters}
    status, html, where = await submit_form(client, "/exports", data)
    assert status == 200, html
    match = re.fullmatch(r"/exports/([0-9a-f-]{36})", where)
    assert match, (where, html)
    job = await finished(client, match.group(1))
    assert job["status"] == "done", job
    return sheet_rows(await download(client, job["job_id"]))[1]


def day(value) -> date | None:
    """A cell Excel holds as a date (openpyxl gives a datetime at midnight)."""
    if value is None:
        return None
    assert isinstance(value, datetime), value
    return value.date()

"""A body the gateway cannot read is the sender's error (400, 413), never a 500."""

import io

import aiohttp
import pytest

from tests.e2e.people import new_unit, signed_in

BROKEN_PART = (
    b'--b1\r\nContent-Disposition: form-data; name="\xc2\x8bx\x04H"\r\n\r\nx\r\n--b1--\r\n'
)


@pytest.fixture
async def operator(gateway, services):
    client = await signed_in(gateway, services, "unit_operator", unit_id=await new_unit(services))
    yield client
    await client.close()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n"),  # no boundary
        ("multipart/form-data; boundary=b1", BROKEN_PART),  # a control byte in a part header
    ],
)
async def test_a_malformed_form_body_is_a_400_for_the_api_and_the_pages(
    operator, content_type, body
):
    headers = {"Content-Type": content_type, "X-CSRF-Token": await operator.csrf()}
    async with operator.http.post("/api/applicants/import", data=body, headers=headers) as r:
        assert r.status == 400
        assert (await r.json())["error"]["code"] == "bad_request"
    async with operator.http.post("/unit/applicants/import", data=body, headers=headers) as r:
        assert r.status == 400
        assert "提交的内容格式有误" in await r.text()


async def test_a_body_over_the_limit_is_a_413_in_json(operator):
    headers = {"X-CSRF-Token": await operator.csrf()}
    form = aiohttp.FormData()
    big = io.BytesIO(b"x" * (21 * 1024 * 1024))
    form.add_field("file", big, filename="applicants.xlsx", content_type="application/octet-stream")
    async with operator.http.post("/api/applicants/import", data=form, headers=headers) as r:
        assert r.status == 413
        assert (await r.json())["error"]["status"] == 413


@pytest.mark.parametrize("depth", [40, 5_000, 200_000])
async def test_a_json_body_nested_too_deep_is_a_400(operator, depth):
    body = b'{"username": ' + b"[" * depth + b"]" * depth + b"}"
    headers = {"Content-Type": "application/json", "X-CSRF-Token": await operator.csrf()}
    for path in ("/api/operators", "/api/session"):
        async with operator.http.post(path, data=body, headers=headers) as r:
            assert r.status == 400, (path, depth)
            assert (await r.json())["error"]["code"] == "bad_request"

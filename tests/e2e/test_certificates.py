"""职称电子证书 through the gateway over HTTP: on the case pages and the JSON API for the
applicant and the unit, the signed PDF, public verification (page and API) without login,
its limit per client address, and the holder's 查询记录.

A gateway copy here trusts 127.0.0.1 as its reverse proxy, so each test names its own client
address in X-Forwarded-For and the per-address limit of one test never meets another's.
"""

import itertools
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from gateway.app import create_app
from services.documents.signing import development_keys
from shared.contracts.cases.certificates import NOT_FOUND
from shared.masks import mask_id_number
from shared.rate_limit import RateLimiter, RateLimitSettings
from tests.e2e.case_steps import new_cast, passed
from tests.e2e.identity_helpers import Client, text_of
from tests.support.meetings import results_outside
from tests.support.pdf_tools import signature_of

ADDRESSES = (f"203.0.113.{n}" for n in itertools.count(101))


@pytest.fixture(autouse=True)
async def committee_records_outside_results(services):
    """These tests take step 8 by the buttons: a committee that records outside results."""
    async with results_outside(services["cases"].pool):
        yield


@pytest.fixture(scope="module")
async def behind_proxy(settings, services):
    server = TestServer(
        create_app(settings.model_copy(update={"trusted_proxies": "127.0.0.1"})), host="127.0.0.1"
    )
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def visitor(behind_proxy):
    """Someone not signed in, at an address of their own."""
    made = []

    def at(address: str | None = None) -> Client:
        headers = {"X-Forwarded-For": address or next(ADDRESSES)}
        made.append(Client(str(behind_proxy.make_url("")), headers=headers))
        return made[-1]

    yield at
    for client in made:
        await client.close()


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    yield made
    await made.close()


@pytest.fixture
async def issued(cast, clock) -> dict:
    """A passed case and its certificate, as the applicant reads it over the API."""
    case_id = await passed(cast, clock)
    status, certificate = await cast.applicant.api("GET", f"/api/cases/{case_id}/certificate")
    assert status == 200, certificate
    return certificate


def verify_path(certificate: dict, api: bool = False) -> str:
    number, code = certificate["certificate_no"], certificate["verification_code"]
    return f"{'/api' if api else ''}/verify?no={number}&code={code}"


async def test_the_applicant_and_the_unit_see_the_certificate_and_download_it_signed(
    cast, issued, gateway, services, settings
):
    case_id = issued["case_id"]
    assert re.fullmatch(r"SZZC-\d{4}-\d{3}-\d{5}", issued["certificate_no"])
    assert (issued["holder_name"], issued["status_label"]) == ("张三", "有效")
    status, seen = await cast.operator.api("GET", f"/api/cases/{case_id}/certificate")
    masked = issued | {"id_number": mask_id_number(issued["id_number"])}  # the holder's is full
    assert status == 200 and seen == masked

    status, page, _ = await cast.applicant.page(f"/my/cases/{case_id}")
    assert status == 200
    shown = text_of(page)
    for text in ("职称电子证书", issued["certificate_no"], issued["verification_code"], "查询记录"):
        assert text in shown
    assert f'href="/api/cases/{case_id}/certificate.pdf" download' in page
    status, page, _ = await cast.operator.page(f"/cases/{case_id}")
    assert status == 200 and issued["certificate_no"] in page
    assert "查询记录" not in text_of(page)  # the holder's alone

    async with cast.applicant.http.get(f"/api/cases/{case_id}/certificate.pdf") as response:
        assert response.status == 200 and response.content_type == "application/pdf"
        pdf = await response.read()
    roots = list(development_keys(settings.var_dir).chain_files)
    signature = await signature_of(pdf, roots)
    assert (signature.intact, signature.valid, signature.trusted) == (True, True, True)

    stranger = await new_cast(gateway, services)
    try:
        for path in ("certificate", "certificate.pdf"):
            status, _ = await stranger.operator.api("GET", f"/api/cases/{case_id}/{path}")
            assert status == 404, path
    finally:
        await stranger.close()


async def test_anyone_verifies_by_number_and_code_and_sees_the_holder_masked(issued, visitor):
    anyone = visitor()
    status, page, _ = await anyone.page("/verify")
    assert status == 200 and "证书编号" in text_of(page) and "查验结果" not in text_of(page)

    status, page, _ = await anyone.page(verify_path(issued))  # the QR code's link
    shown = text_of(page)
    assert status == 200 and "有效" in shown and "查验结果" in shown
    assert "张*" in shown and "张三" not in shown
    assert issued["id_number"] not in shown
    assert re.sub(r"^(\d{6})\d+(\w{4})$", r"\1********\2", issued["id_number"]) in shown
    assert issued["qualification"] in shown and issued["committee"] in shown

    status, body = await anyone.api("GET", verify_path(issued, api=True))
    assert status == 200
    assert (body["holder_name"], body["status"], body["status_label"]) == ("张*", "valid", "有效")
    assert body["revoked_on"] is None and "verification_code" not in body


async def test_a_wrong_number_or_code_says_not_found_without_saying_which(issued, visitor):
    anyone = visitor()
    code = issued["verification_code"]
    wrong_code = issued | {"verification_code": ("2" if code[0] != "2" else "3") + code[1:]}
    wrong_number = issued | {"certificate_no": issued["certificate_no"][:-1] + "0"}
    if wrong_number["certificate_no"] == issued["certificate_no"]:
        wrong_number["certificate_no"] = issued["certificate_no"][:-1] + "9"
    for wrong in (wrong_code, wrong_number):
        status, page, _ = await anyone.page(verify_path(wrong))
        assert status == 404 and NOT_FOUND in text_of(page) and "查验结果" not in text_of(page)
        status, body = await anyone.api("GET", verify_path(wrong, api=True))
        assert (status, body["error"]["message"]) == (404, NOT_FOUND)
    status, body = await anyone.api("GET", "/api/verify?no=&code=")
    assert status == 422 and set(body["error"]["fields"]) == {"no", "code"}
    status, page, _ = await anyone.page("/verify?no=&code=")
    assert status == 422 and "请输入证书编号" in text_of(page)


async def test_verification_past_the_limit_is_a_429_with_retry_after(issued, visitor, services):
    deps = services["cases"].rpc.deps
    kept = deps.rate_limits
    deps.rate_limits = RateLimiter(RateLimitSettings(rate_limits={"verify": "3/600"}))
    try:
        address = next(ADDRESSES)
        page_client, api_client = visitor(address), visitor(address)
        for _ in range(3):
            status, _body = await api_client.api("GET", verify_path(issued, api=True))
            assert status == 200
        async with page_client.http.get(verify_path(issued)) as response:
            page, retry_after = await response.text(), response.headers.get("Retry-After")
        assert response.status == 429 and int(retry_after) >= 1
        assert "证书查询过于频繁" in text_of(page) and "查验结果" not in text_of(page)
        async with api_client.http.get(verify_path(issued, api=True)) as response:
            body = await response.json()
        assert response.status == 429 and response.headers["Retry-After"]
        assert body["error"]["code"] == "too_many_requests"
        status, _body = await visitor().api("GET", verify_path(issued, api=True))
        assert status == 200  # another address is not held back
    finally:
        deps.rate_limits = kept


async def test_the_holder_sees_who_verified_their_certificate(cast, issued, visitor, behind_proxy):
    await visitor("203.0.113.250").page(verify_path(issued))
    employer = Client(str(behind_proxy.make_url("")), headers={"X-Forwarded-For": "203.0.113.251"})
    try:
        status, _, where = await employer.login(cast.operator.person["username"])
        assert status == 200 and where != "/login"
        status, _body = await employer.api("GET", verify_path(issued, api=True))
        assert status == 200
    finally:
        await employer.close()

    case_id = issued["case_id"]
    status, records = await cast.applicant.api("GET", f"/api/cases/{case_id}/certificate/queries")
    assert status == 200 and records["total"] == 2
    assert [(r["client_ip"], r["who"], r["channel"]) for r in records["items"]] == [
        ("203.0.113.251", "陈经办（单位经办人）", "api"),
        ("203.0.113.250", "未登录访客", "page"),
    ]
    status, page, _ = await cast.applicant.page(f"/my/cases/{case_id}")
    shown = text_of(page)
    assert "共 2 次" in shown and "203.0.113.250" in shown and "网页查验" in shown
    status, _body = await cast.operator.api("GET", f"/api/cases/{case_id}/certificate/queries")
    assert status == 403


def test_the_development_key_is_readable_by_its_owner_only(settings, services):
    assert not development_keys(settings.var_dir).missing()
    assert Path(development_keys(settings.var_dir).key_file).stat().st_mode & 0o077 == 0

"""职称电子证书 against the real services: issued with the confirmation, numbered without gaps
under concurrent confirmations, once per case; verified by number and code with the holder
masked, rate-limited, recorded; its PDF signed so that a changed byte breaks the signature."""

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.cases.certificates import issue_certificates
from services.cases.domain.certificates import CODE_ALPHABET, CODE_LENGTH
from services.documents.signing import ensure_development_keys
from shared.contracts.cases.certificates import NOT_FOUND
from shared.masks import mask_id_number
from shared.rate_limit import RateLimiter, RateLimitSettings
from shared.rpc import Actor, RpcError
from tests.support import certificates as support
from tests.support.cases_driver import BASIC, COMMITTEE, DEPARTMENT, new_unit
from tests.support.meetings import results_outside
from tests.support.pdf_tools import signature_of, text_of

PASSED = {"passed": True, "feedback": "公示期间无异议"}
NUMBER = re.compile(r"^SZZC-(\d{4})-(\d{3})-(\d{5})$")


@pytest.fixture(autouse=True)
async def committee_records_outside_results(workflow):
    """These tests take step 8 by the buttons: a committee that records outside results."""
    async with results_outside(workflow.service.pool):
        yield


@pytest.fixture(scope="module", autouse=True)
def signing(own_settings):
    """The development CA and key in this module's var folder, as tools.setup makes them."""
    return ensure_development_keys(own_settings.var_dir)


async def passed_case(driver, unit) -> str:
    """A case walked from draft to 业务办结 with the review passed, over RPC."""
    case_id = await driver.at_department(unit)
    for actor, action in (
        (DEPARTMENT, "accept"),
        (unit.applicant, "print_declaration_form"),
        (DEPARTMENT, "forward_to_committee"),
        (COMMITTEE, "pass_review"),
        (DEPARTMENT, "launch_post_publicity"),
        (unit.operator, "start_post_publicity"),
    ):
        await driver.act(actor, case_id, action)
    driver.clock.offset += timedelta(days=12)
    await driver.act(unit.operator, case_id, "record_post_publicity_result", **PASSED)
    await driver.act(DEPARTMENT, case_id, "confirm")
    return case_id


async def certificate(driver, actor, case_id: str) -> dict:
    return await driver.call("certificate.get", {"case_id": case_id}, actor)


async def verify(driver, number: str, code: str, address: str = "198.51.100.7", actor=None):
    params = {"certificate_no": number, "verification_code": code, "client_ip": address}
    return await driver.call("certificate.verify", params, actor or Actor())


# --- issuing ---


async def test_a_case_confirmed_as_passed_has_one_certificate_with_what_it_prints(driver):
    unit = new_unit()
    case_id = await passed_case(driver, unit)
    issued = await certificate(driver, unit.applicant, case_id)
    year, _committee, serial = NUMBER.match(issued["certificate_no"]).groups()
    assert int(year) == driver.clock.today().year and int(serial) >= 1
    assert len(issued["verification_code"]) == CODE_LENGTH
    assert set(issued["verification_code"]) <= set(CODE_ALPHABET)
    assert issued | {"passed_on": "", "issued_on": "", "certificate_no": ""} == {
        "certificate_id": issued["certificate_id"],
        "case_id": case_id,
        "certificate_no": "",
        "verification_code": issued["verification_code"],
        "holder_name": BASIC["name"],
        "id_number": BASIC["id_number"],
        "qualification": "高级工程师",
        "series": "工程",
        "level": "副高",
        "committee": "深圳市轻工专业高级专业技术资格评审委员会",
        "department": "深圳市工程师联合会",
        "passed_on": "",
        "issued_on": "",
        "status": "valid",
        "status_label": "有效",
        "revoked_on": None,
        "revoked_reason": None,
    }
    assert issued["passed_on"] < issued["issued_on"] == driver.clock.today().isoformat()
    # the unit and the department see it on the case, the ID number masked; another unit does not
    masked = issued | {"id_number": mask_id_number(BASIC["id_number"])}
    assert await certificate(driver, unit.operator, case_id) == masked
    assert await certificate(driver, DEPARTMENT, case_id) == masked
    with pytest.raises(RpcError) as other:
        await certificate(driver, new_unit().operator, case_id)
    assert other.value.status == 404


async def test_a_case_that_did_not_pass_has_no_certificate(driver):
    unit = new_unit()
    case_id = await driver.at_department(unit)
    await driver.act(DEPARTMENT, case_id, "refuse", reason="不符合申报条件")
    with pytest.raises(RpcError) as none:
        await certificate(driver, unit.applicant, case_id)
    assert none.value.status == 404


async def new_committee(driver) -> tuple[str, str]:
    """A department and committee of their own: their certificate serials start at 1."""
    department, committee, _name = await support.new_committee(driver.service.pool)
    return department, committee


async def awaiting_confirmation(driver, department: str, committee: str, count: int) -> list:
    now = driver.clock.now()
    return await support.awaiting_confirmation(
        driver.service.pool, department, committee, count, now
    )


async def test_fifty_concurrent_confirmations_get_fifty_numbers_without_gaps(driver):
    department, committee = await new_committee(driver)
    confirmer = Actor(user_id=uuid.uuid4(), role="department", org_id=department)
    case_ids = await awaiting_confirmation(driver, department, committee, 50)
    moved = await asyncio.gather(
        *(driver.act(confirmer, str(case_id), "confirm") for case_id in case_ids)
    )
    assert {m["state"] for m in moved} == {"closed"}
    issued = [await certificate(driver, confirmer, str(case_id)) for case_id in case_ids]
    numbers = [NUMBER.match(c["certificate_no"]).groups() for c in issued]
    assert len({year for year, _, _ in numbers}) == 1 and len({c for _, c, _ in numbers}) == 1
    assert sorted(int(serial) for _, _, serial in numbers) == list(range(1, 51))
    assert len({c["verification_code"] for c in issued}) == 50

    # A confirmation sent again is a conflict and issues nothing more.
    again = await asyncio.gather(
        *(driver.act(confirmer, str(case_id), "confirm") for case_id in case_ids[:5]),
        return_exceptions=True,
    )
    assert {e.status for e in again} == {409}
    async with driver.service.pool.acquire() as conn:
        counts = await conn.fetchrow(
            "SELECT count(*) AS issued, max(serial) AS last FROM certificates"
            " WHERE committee_id = $1",
            committee,
        )
    assert (counts["issued"], counts["last"]) == (50, 50)


class Confirmed:
    """What the workflow hands `issue_certificates`: a case moved by 确认办结 as passed."""

    def __init__(self, case_id: uuid.UUID) -> None:
        from services.cases.domain.model import Action, Outcome

        self.loaded = type("Loaded", (), {"id": case_id})()
        self.event = type("Event", (), {"action": Action.CONFIRM, "outcome": Outcome.PASSED})()


async def test_issuing_again_for_a_confirmed_case_issues_nothing(driver):
    department, committee = await new_committee(driver)
    [case_id] = await awaiting_confirmation(driver, department, committee, 1)
    now = datetime.now(UTC)
    async with driver.service.pool.acquire() as conn, conn.transaction():
        first = await issue_certificates(conn, [Confirmed(case_id)], now)
        second = await issue_certificates(conn, [Confirmed(case_id)], now)
        issued = await conn.fetchval(
            "SELECT count(*) FROM certificates WHERE case_id = $1", case_id
        )
    assert (len(first), second, issued) == (1, [], 1)
    assert first[0].type == "certificate.issued"


# --- verification ---


async def test_verification_shows_the_holder_masked_and_is_recorded_for_the_holder(driver):
    unit = new_unit()
    case_id = await passed_case(driver, unit)
    issued = await certificate(driver, unit.applicant, case_id)
    number, code = issued["certificate_no"], issued["verification_code"]

    shown = await verify(driver, number.lower(), f" {code.lower()} ", address="198.51.100.20")
    assert shown["holder_name"] == "张*"  # a two-character name: its first and a mask
    assert shown["id_number"] == BASIC["id_number"][:6] + "********" + BASIC["id_number"][-4:]
    assert (shown["status"], shown["status_label"], shown["revoked_on"]) == ("valid", "有效", None)
    assert shown["certificate_no"] == number and "verification_code" not in shown
    assert (shown["qualification"], shown["issued_on"]) == ("高级工程师", issued["issued_on"])

    employer = Actor(user_id=uuid.uuid4(), role="unit_admin", unit_id=uuid.uuid4(), name="王人事")
    await verify(driver, number, code, address="198.51.100.21", actor=employer)
    records = await driver.call("certificate.queries", {"case_id": case_id}, unit.applicant)
    assert records["total"] == 2 and records["certificate_no"] == number
    assert [(r["client_ip"], r["who"]) for r in records["items"]] == [
        ("198.51.100.21", "王人事（单位管理员）"),
        ("198.51.100.20", "未登录访客"),
    ]
    # the 查询记录 are the holder's: not the unit's, not the department's
    for outsider in (unit.operator, DEPARTMENT):
        with pytest.raises(RpcError) as refused:
            await driver.call("certificate.queries", {"case_id": case_id}, outsider)
        assert refused.value.status == 404


async def test_a_wrong_number_or_code_is_one_answer_and_not_recorded(driver):
    unit = new_unit()
    case_id = await passed_case(driver, unit)
    issued = await certificate(driver, unit.applicant, case_id)
    number, code = issued["certificate_no"], issued["verification_code"]
    wrong_code = ("2" if code[0] != "2" else "3") + code[1:]
    answers = []
    typed_wrong = (
        (number, wrong_code),
        ("SZZC-1999-001-00001", code),
        (number + "9", code),
        (number, "验证码不对"),
    )
    for typed in typed_wrong:
        with pytest.raises(RpcError) as missed:
            await verify(driver, *typed)
        answers.append((missed.value.status, missed.value.code, missed.value.message))
    assert answers == [(404, "not_found", NOT_FOUND)] * 4
    with pytest.raises(RpcError) as blank:
        await verify(driver, "", "")
    assert blank.value.status == 422
    assert set(blank.value.fields) == {"certificate_no", "verification_code"}
    records = await driver.call("certificate.queries", {"case_id": case_id}, unit.applicant)
    assert records["total"] == 0


async def test_verification_is_rate_limited_per_client_address(driver):
    unit = new_unit()
    case_id = await passed_case(driver, unit)
    issued = await certificate(driver, unit.applicant, case_id)
    number, code = issued["certificate_no"], issued["verification_code"]
    deps = driver.service.rpc.deps
    kept, deps.rate_limits = (
        deps.rate_limits,
        RateLimiter(RateLimitSettings(rate_limits={"verify": "3/600"})),
    )
    try:
        await verify(driver, number, code, address="192.0.2.50")
        for typed_code in ("WRONG234", "WRONG345"):  # misses count as much as hits
            with pytest.raises(RpcError):
                await verify(driver, number, typed_code, address="192.0.2.50")
        with pytest.raises(RpcError) as refused:
            await verify(driver, number, code, address="192.0.2.50")
        assert refused.value.status == 429 and refused.value.code == "too_many_requests"
        assert refused.value.message.startswith("证书查询过于频繁，请 ")
        assert refused.value.details["retry_after"] >= 1
        assert (await verify(driver, number, code, address="192.0.2.51"))["status"] == "valid"
    finally:
        deps.rate_limits = kept
    # the refused attempt was not recorded, though its number and code were right
    records = await driver.call("certificate.queries", {"case_id": case_id}, unit.applicant)
    assert [r["client_ip"] for r in records["items"]] == ["192.0.2.51", "192.0.2.50"]


# --- the signed PDF ---


async def read_pdf(driver, actor, case_id: str) -> tuple[bytes, dict]:
    answer = await driver.call(
        "certificates.read", {"case_id": case_id}, actor, service="documents"
    )
    answer, content = answer.value, answer.content
    assert answer["content_type"] == "application/pdf" and len(content) == answer["size_bytes"]
    return content, answer


async def test_the_certificate_pdf_is_signed_and_one_changed_byte_breaks_the_signature(
    driver, signing
):
    unit = new_unit()
    case_id = await passed_case(driver, unit)
    issued = await certificate(driver, unit.applicant, case_id)
    pdf, answer = await read_pdf(driver, unit.applicant, case_id)
    assert answer["filename"] == f"职称电子证书（张三，{issued['certificate_no']}）.pdf"
    assert "CN=职称电子证书签章（开发环境）" in answer["signed_by"]

    roots = list(signing.chain_files)
    signed = await signature_of(pdf, roots)
    assert (signed.intact, signed.valid, signed.trusted, signed.whole_file) == (True,) * 4
    assert "职称电子证书签章" in signed.signer
    # a stranger's CA is no trust root for it
    assert not (await signature_of(pdf, [str(stranger_ca(driver))])).trusted

    text = "".join(text_of(pdf).split())  # letter-spaced codes come out spaced
    for printed in (issued["certificate_no"], issued["verification_code"], "张三", "高级工程师"):
        assert printed in text
    assert BASIC["id_number"] in text and "/verify" in text

    middle = len(pdf) // 2
    changed = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]
    broken = await signature_of(changed, roots)
    assert not (broken.intact and broken.valid)

    # the unit reads the same file; the PDF is made once
    again, _ = await read_pdf(driver, unit.operator, case_id)
    assert again == pdf
    with pytest.raises(RpcError) as other:
        await read_pdf(driver, new_unit().applicant, case_id)
    assert other.value.status == 404


def stranger_ca(driver):
    """Another development CA, in a folder of its own."""
    folder = f"{driver.service.settings.var_dir}/stranger-{uuid.uuid4().hex[:6]}"
    return ensure_development_keys(folder).chain_files[0]


async def test_the_pdf_is_made_when_the_certificate_is_issued(driver):
    unit = new_unit()
    case_id = await passed_case(driver, unit)
    issued = await certificate(driver, unit.applicant, case_id)
    # Read from the documents service's table: nobody has asked for the PDF yet.
    made = "SELECT certificate_no, pages FROM documents.certificate_documents WHERE case_id = $1"
    loop = asyncio.get_running_loop()
    deadline, row = loop.time() + 60, None
    while row is None and loop.time() < deadline:
        await asyncio.sleep(0.2)
        row = await driver.service.pool.fetchrow(made, uuid.UUID(case_id))
    assert row is not None and (row["certificate_no"], row["pages"]) == (
        issued["certificate_no"],
        1,
    )

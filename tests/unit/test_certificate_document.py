"""The 职称电子证书's pure parts: its number, its verification code, the masks verification
shows, and what the PDF prints (the QR code holds exactly the verification link)."""

from itertools import cycle

import pytest

from services.cases.domain.certificates import (
    CODE_ALPHABET,
    CertificateNumber,
    as_typed,
    mask_name,
    new_verification_code,
)
from services.documents.handlers.certificates import snapshot_of
from services.documents.render.certificate import certificate_html
from services.documents.render.html import qr_data_uri
from shared.masks import mask_id_number
from shared.rate_limit import LIMITS

ISSUED = {
    "certificate_id": "5d1f3a9e-8a0c-4d3c-9c55-3b1f0e6f2a11",
    "case_id": "2b0c5c1e-7d5e-4f4a-8f59-0b7f5d9a6c22",
    "certificate_no": "SZZC-2026-003-00017",
    "verification_code": "K7M2QX9P",
    "holder_name": "李晓华",
    "id_number": "440305197803120019",
    "qualification": "高级工程师",
    "series": "工程",
    "level": "副高",
    "committee": "深圳市轻工专业高级专业技术资格评审委员会",
    "department": "深圳市工程师联合会",
    "passed_on": "2026-05-20",
    "issued_on": "2026-06-15",
}


def test_a_number_is_prefix_year_committee_code_and_serial_zero_padded():
    assert str(CertificateNumber(2026, 3, 17)) == "SZZC-2026-003-00017"
    assert str(CertificateNumber(2027, 12, 123456)) == "SZZC-2027-012-123456"


def test_a_verification_code_is_eight_characters_no_one_misreads():
    assert not set(CODE_ALPHABET) & set("01OIL")
    picks = cycle([0, 30])
    assert new_verification_code(lambda n: next(picks) % n) == "2Z2Z2Z2Z"
    codes = {new_verification_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(c) == 8 and set(c) <= set(CODE_ALPHABET) for c in codes)


@pytest.mark.parametrize(
    "typed, meant",
    [
        (" szzc-2026-003-00017 ", "SZZC-2026-003-00017"),
        ("ＳＺＺＣ－２０２６－００３－０００１７", "SZZC-2026-003-00017"),  # full-width input
        ("k7m2 qx9p", "K7M2QX9P"),
    ],
)
def test_what_people_type_is_read_as_they_meant_it(typed, meant):
    assert as_typed(typed) == meant


@pytest.mark.parametrize(
    "name, masked",
    [("李晓华", "李*华"), ("李华", "李*"), ("欧阳明华", "欧**华"), ("李", "*"), ("", "*")],
)
def test_a_name_keeps_its_first_and_last_character(name, masked):
    assert mask_name(name) == masked


def test_an_id_number_keeps_its_first_six_and_last_four():
    assert mask_id_number("440305197803120019") == "440305********0019"
    assert mask_id_number("11010519850302002X") == "110105********002X"
    assert mask_id_number("12345") == "*****"


def test_the_qr_code_holds_the_verification_link_with_number_and_code():
    snapshot = snapshot_of(ISSUED, "https://zc.example.cn/")
    assert snapshot.verify_page == "https://zc.example.cn/verify"
    assert (
        snapshot.verify_url == "https://zc.example.cn/verify?no=SZZC-2026-003-00017&code=K7M2QX9P"
    )
    page = certificate_html(snapshot)
    assert qr_data_uri(snapshot.verify_url) in page
    for printed in ("SZZC-2026-003-00017", "K7M2QX9P", "李晓华", "440305197803120019"):
        assert printed in page
    for printed in ("2026年5月20日", "2026年6月15日", "深圳市工程师联合会", "高级工程师"):
        assert printed in page


def test_verification_has_a_limit_per_client_address():
    verify = LIMITS["verify"]
    assert (verify.per, verify.limit, verify.window_seconds) == ("client address", 60, 600)

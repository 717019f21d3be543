"""The scan limits per section and per case (services/cases/domain/scans.py)."""

import pytest

from services.cases.domain.scans import (
    MB,
    ScanLimits,
    ScanRefused,
    Usage,
    check_new_scan,
    megabytes,
)
from services.cases.settings import CasesSettings

LIMITS = ScanLimits(
    files_per_category=20, bytes_per_category=50 * MB, files_per_case=100, bytes_per_case=200 * MB
)
EMPTY = Usage()


def refusal(in_category: Usage, in_case: Usage, size_bytes: int) -> str:
    with pytest.raises(ScanRefused) as refused:
        check_new_scan(LIMITS, in_category, in_case, size_bytes)
    return refused.value.message


def test_a_scan_within_every_limit_is_taken():
    check_new_scan(LIMITS, Usage(19, 40 * MB), Usage(99, 190 * MB), 10 * MB)


def test_a_scan_filling_a_limit_exactly_is_taken():
    check_new_scan(LIMITS, Usage(19, 45 * MB), Usage(40, 100 * MB), 5 * MB)
    check_new_scan(LIMITS, Usage(0, 0), Usage(99, 195 * MB), 5 * MB)


def test_the_section_holds_so_many_files():
    assert refusal(Usage(20, MB), Usage(20, MB), 1) == "本栏目最多上传 20 个文件，已上传 20 个"


def test_the_section_holds_so_many_megabytes():
    message = refusal(Usage(5, 45 * MB), Usage(5, 45 * MB), 6 * MB)
    assert message == "本栏目扫描件总大小不能超过 50 MB（已用 45 MB，本文件 6 MB）"


def test_the_case_holds_so_many_files():
    assert refusal(EMPTY, Usage(100, MB), 1) == "本申报最多上传 100 个文件，已上传 100 个"


def test_the_case_holds_so_many_megabytes():
    used = int(192.5 * MB)
    message = refusal(Usage(1, MB), Usage(30, used), int(9.8 * MB))
    assert message == "本申报扫描件总大小不能超过 200 MB（已用 192.5 MB，本文件 9.8 MB）"


def test_the_section_is_named_before_the_case():
    assert refusal(Usage(20, 0), Usage(100, 0), 1).startswith("本栏目")


def test_megabytes_have_one_decimal_at_most():
    assert [megabytes(n) for n in (200 * MB, int(185.34 * MB), MB // 2)] == [
        "200 MB",
        "185.3 MB",
        "0.5 MB",
    ]


def test_the_settings_give_limits_in_bytes(monkeypatch):
    monkeypatch.setenv("ZC_SCAN_MB_PER_CASE", "300")
    limits = CasesSettings(scan_files_per_category=5).scan_limits()
    assert limits == ScanLimits(5, 50 * MB, 100, 300 * MB)


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError):
        CasesSettings(scan_files_per_case=0)

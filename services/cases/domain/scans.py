"""How many scans a case may hold and how large they may be, per section (a scan category)
and per case. Pure: the handler counts what is stored (removed scans are not) and asks here.
"""

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class ScanLimits:
    files_per_category: int
    bytes_per_category: int
    files_per_case: int
    bytes_per_case: int


@dataclass(frozen=True)
class Usage:
    """The scans already attached to a section or to a case."""

    files: int = 0
    size_bytes: int = 0


class ScanRefused(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_new_scan(limits: ScanLimits, in_category: Usage, in_case: Usage, size_bytes: int) -> None:
    """ScanRefused, saying which limit and how much is used, when one more scan of this size
    would take its section or its case past a limit; the section is named first."""
    for scope, used, max_files, max_bytes in (
        ("本栏目", in_category, limits.files_per_category, limits.bytes_per_category),
        ("本申报", in_case, limits.files_per_case, limits.bytes_per_case),
    ):
        if used.files >= max_files:
            raise ScanRefused(f"{scope}最多上传 {max_files} 个文件，已上传 {used.files} 个")
        if used.size_bytes + size_bytes > max_bytes:
            raise ScanRefused(
                f"{scope}扫描件总大小不能超过 {megabytes(max_bytes)}"
                f"（已用 {megabytes(used.size_bytes)}，本文件 {megabytes(size_bytes)}）"
            )


def megabytes(size_bytes: int) -> str:
    """E.g. 200 MB, 185.3 MB: one decimal, none when it is a whole number."""
    return f"{size_bytes / MB:.1f}".removesuffix(".0") + " MB"

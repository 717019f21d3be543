"""职称电子证书: its number, its verification code, and what the public sees of its holder.

Pure: no I/O. The serial comes from a counter row the caller keeps (one per committee and
year, counted in the confirmation's transaction); randomness is passed in, so the tests can
fix it. docs/certificates.md describes the format.
"""

import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

PREFIX = "SZZC"  # 深圳职称
# Upper-case letters and digits a person cannot confuse when typing from paper: no 0/O,
# 1/I/L. 31 ** 8 codes, about 8.5e11, against at most 60 guesses per 10 minutes per address.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
MASK = "*"


@dataclass(frozen=True)
class CertificateNumber:
    year: int  # of the confirmation, Shenzhen time
    committee_code: int  # fixed at the committee's first certificate
    serial: int  # from 1, per committee and year, without gaps

    def __str__(self) -> str:
        return f"{PREFIX}-{self.year}-{self.committee_code:03d}-{self.serial:05d}"


def new_verification_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    return "".join(CODE_ALPHABET[randbelow(len(CODE_ALPHABET))] for _ in range(CODE_LENGTH))


def as_typed(text: str) -> str:
    """A number or code as people type it: full-width forms, spaces and case forgiven."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split()).upper().replace("—", "-").replace("－", "-")


def mask_name(name: str) -> str:
    """李*华, 欧**华; a two-character name keeps its first: 李*."""
    if len(name) <= 1:
        return MASK
    if len(name) == 2:
        return name[0] + MASK
    return name[0] + MASK * (len(name) - 2) + name[-1]

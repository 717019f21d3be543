"""Common passwords, refused as new passwords (ASVS 2.1.7). Pure: the list is read once, from
the file beside this module (its header names the sources and their licences)."""

from functools import cache
from pathlib import Path

LIST_FILE = Path(__file__).with_name("common_passwords.txt")
COMMON_PASSWORD = "该密码过于常见，容易被猜中，请换一个不易猜到的密码"


@cache
def common_passwords() -> frozenset[str]:
    lines = LIST_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip()[:1] not in ("", "#"))


def is_common(password: str) -> bool:
    return password.lower() in common_passwords()

"""The refusals every part of the cases domain shares. Pure: no I/O.

The state machine's own (IllegalTransition, NotAllowed, …) are in model.py; these two are
what the rules beside it (objections, 诚信承诺, 失信) raise as well.
"""

from collections.abc import Mapping
from datetime import date


class DomainError(Exception):
    """A refused action; `message` is the Chinese text shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """`errors` maps a field name (dotted for nested fields) to its Chinese message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("；".join(self.errors.values()))


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"

"""The input rule: what any text must be to enter the system. Pure: no I/O.

Every text that comes in — a form field, a query parameter, a JSON string, an imported Excel
cell, an uploaded file's name — is put through `check_text` once, at the edge: the gateway
(gateway/input_rule.py) for what it reads itself, and the RPC router (shared/rpc.py) for every
string of every request's params, so each service gets it before its own validation.

- C0 and C1 control characters (U+0000–U+001F, U+007F, U+0080–U+009F) are refused, except
  tab and line feed; a CRLF (what a browser sends for a line break in a textarea) becomes LF
  first, so only a lone CR is refused. PostgreSQL cannot store NUL, and the others end up in
  PDFs and pages as garbage.
- Lone surrogates (JSON can carry "\\ud800") are refused: they cannot be encoded as UTF-8.
- The text is put into Unicode NFC, so that the same name typed on two systems is one name.
- Each field has a maximum length, counted in characters after that: LIMITS below, keyed by
  the field's name, DEFAULT_LIMIT for the rest.

Passwords (SECRETS) are checked for control characters and length but never changed: the
stored hashes (ours, and the argon2 hashes the talent-introduction system hands over) were
made from the exact code points typed, and a password typed in a decomposed form (as some
input methods do) must keep matching the hash it was set with. NFC or CRLF folding would
silently turn such a password into another one. Refusing control characters locks nobody
out: a browser's password field cannot carry them.
"""

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_LIMIT = 200  # short texts
NAME_LIMIT = 50
REASON_LIMIT = 2000

# The maximum length of each field, in characters, by the field's name wherever it appears
# (a JSON property, a form field, an RPC parameter, an Excel column's field).
LIMITS: dict[str, int] = {
    # names of people
    "admin_name": NAME_LIMIT,
    "applicant_name": NAME_LIMIT,
    "person_name": NAME_LIMIT,
    "objector_name": NAME_LIMIT,
    # `name` is a person's 姓名 (2 to 30 by its own check) but also the name of a committee or
    # department in the reference data, which may have up to 100 (reference/*_form.html).
    "name": 100,
    "org_name": 100,
    "unit_name": 100,
    # reasons and opinions (原因, 意见, 说明)
    "reason": REASON_LIMIT,
    "feedback": REASON_LIMIT,
    "evaluation": REASON_LIMIT,  # the round's own limit (50 to 2,000) is checked by cases
    "negative_situation": REASON_LIMIT,
    "continuing_education_opinion": REASON_LIMIT,
    "content": REASON_LIMIT,  # an objection (异议内容)
    "finding_text": REASON_LIMIT,  # its finding (核实情况)
    "pledge_text": 5000,  # the 诚信承诺书 (a page of text)
    # the materials' longer texts (services/cases/domain/materials.py)
    "note": 500,  # 业绩成果 说明
    "title": 200,  # 业绩成果 题目/名称
    # the rest
    "email": 254,  # RFC 5321's longest path
    "user_agent": 300,  # what a session keeps of it
    "filename": 255,
    "list_query": 2000,  # a work list's whole query string, carried by the 全部打印 form
    "back": 2000,  # a local URL to go back to
    "next": 2000,
    "password": 128,
    "password_confirm": 128,
    "old_password": 128,
    "new_password": 128,
    "new_password_confirm": 128,
}
SECRETS = frozenset(
    {"password", "password_confirm", "old_password", "new_password", "new_password_confirm"}
)

# RPC params that only carry a form's fields (users.create's `fields`, unit.register's `form`,
# case.save_section's `data`, case.act's `inputs`): a refused text inside one is named by its
# path within it, as the form that sent it and the services' own checks name it.
ENVELOPES = frozenset({"form", "fields", "data", "inputs"})

ALLOWED_CONTROLS = frozenset("\t\n")
CONTROLS = (
    frozenset(chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))) - ALLOWED_CONTROLS
)

CONTROL_MESSAGE = "不能包含控制字符"
SURROGATE_MESSAGE = "包含无效字符"
INVALID_MESSAGE = "输入有误，请按提示修改"


class TextRefused(ValueError):
    """One text breaks the rule; `message` is the Chinese text shown beside the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputRefused(ValueError):
    """Some texts of a request break the rule: `fields` maps each one's path to its message."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(INVALID_MESSAGE)
        self.message = INVALID_MESSAGE
        self.fields = fields


def limit_of(field: str) -> int:
    return LIMITS.get(field, DEFAULT_LIMIT)


def too_long_message(limit: int) -> str:
    return f"不能超过 {limit} 个字"


def check_text(field: str, value: str) -> str:
    """The value as the system keeps it (CRLF as LF, NFC), or TextRefused.

    `field` is the field's name (not its path): it picks the limit and tells a password
    from text. (A file is no text field: it crosses beside the JSON, shared/rpc.py.)
    """
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise TextRefused(SURROGATE_MESSAGE)
    if field not in SECRETS:
        value = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    if not CONTROLS.isdisjoint(value):
        raise TextRefused(CONTROL_MESSAGE)
    limit = limit_of(field)
    if len(value) > limit:
        raise TextRefused(too_long_message(limit))
    return value


def check_key(key: str) -> None:
    """A property name or form field name: no control characters, no lone surrogates."""
    if any("\ud800" <= ch <= "\udfff" for ch in key):
        raise TextRefused(SURROGATE_MESSAGE)
    if not CONTROLS.isdisjoint(key):
        raise TextRefused(CONTROL_MESSAGE)
    if len(key) > DEFAULT_LIMIT:
        raise TextRefused(too_long_message(DEFAULT_LIMIT))


def field_name(path: Iterable[str | int]) -> str:
    """The name a value is known by: the last part of its path that is not a list index or a
    number (entries.0.title is a title; hours_by_year.2024 is hours_by_year)."""
    name = ""
    for part in path:
        if isinstance(part, int) or str(part).isdecimal():
            continue
        name = str(part)
    return name


def shown_path(path: Iterable[str | int]) -> str:
    """A path as a field is named in errors: dotted, control characters made visible."""
    return ".".join(visible(str(p)) for p in path) or "body"


def visible(part: str) -> str:
    """The text with each refused character shown as \\xNN (for messages and reports)."""
    return "".join(
        f"\\x{ord(ch):02x}" if ch in CONTROLS or "\ud800" <= ch <= "\udfff" else ch for ch in part
    )


def clean_tree(value: Any, envelopes: frozenset[str] = frozenset()) -> Any:
    """Every string of a JSON-like value (dicts, lists) through check_text, keys checked too.

    Returns the cleaned value, or raises InputRefused naming every refused text by its path.
    A top-level key in `envelopes` only carries a form's fields: a text inside it is named
    by its path within it (form.email is email), as the services' own checks name them.
    """
    problems: dict[str, str] = {}
    cleaned = _clean(value, (), problems, envelopes)
    if problems:
        raise InputRefused(problems)
    return cleaned


def _clean(value: Any, path: tuple, problems: dict, envelopes: frozenset[str]) -> Any:
    if isinstance(value, str):
        try:
            return check_text(field_name(path), value)
        except TextRefused as refused:
            problems.setdefault(_named(path, envelopes), refused.message)
            return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if isinstance(key, str):
                try:
                    check_key(key)
                except TextRefused as refused:
                    problems.setdefault(_named((*path, key), envelopes), refused.message)
                    continue
            out[key] = _clean(item, (*path, key), problems, envelopes)
        return out
    if isinstance(value, list | tuple):
        return [_clean(item, (*path, i), problems, envelopes) for i, item in enumerate(value)]
    return value


def _named(path: tuple, envelopes: frozenset[str]) -> str:
    if len(path) > 1 and path[0] in envelopes:
        path = path[1:]
    return shown_path(path)


def clean_fields(values: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A flat set of named texts (a form, an Excel row): the cleaned values and a message per
    refused field. Refused fields keep their value as given."""
    cleaned, problems = {}, {}
    for name, value in values.items():
        try:
            cleaned[name] = check_text(name, value)
        except TextRefused as refused:
            cleaned[name] = value
            problems[name] = refused.message
    return cleaned, problems


def like_pattern(text: str) -> str:
    """An ILIKE pattern finding `text` anywhere: typed %, _ and \\ match themselves (with
    PostgreSQL's default escape character, the backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

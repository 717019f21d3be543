"""Validation of account fields (unit admin registration, applicant accounts). Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import email_validator

from services.accounts.domain.common_passwords import COMMON_PASSWORD, is_common

UnitCodeKind = Literal["org_code", "uscc"]
Gender = Literal["男", "女"]


class FieldError(ValueError):
    """A field value breaks a rule; `message` is the Chinese text shown next to the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _required(raw: str | None, label: str) -> str:
    value = (raw or "").strip()
    if not value:
        raise FieldError(f"请填写{label}")
    return value


# --- 组织机构代码 (GB 11714-1997) and 统一社会信用代码 (GB 32100-2015) ---

_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # a char's value is its index
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # a char's value is its index
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalize_org_code(s: str) -> str:
    # The certificate prints the code as "XXXXXXXX-X", so users often type the dash.
    return "".join(ch for ch in s if ch != "-" and not ch.isspace()).upper()


def org_code_check_char(body: str) -> str:
    """Check char for the 8 body chars of an organisation code."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def is_valid_org_code(code: str) -> bool:
    """True for a normalized 9-char organisation code with a correct check char."""
    return (
        len(code) == 9
        and all(c in _ORG_ALPHABET for c in code[:8])
        and code[8] == org_code_check_char(code[:8])
    )


def uscc_check_char(first17: str) -> str:
    """Check char for the first 17 chars of a 统一社会信用代码."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """True for a normalized 18-char USCC whose check char and embedded org code are valid."""
    # stdnum.cn.uscc is not used: it rejects registering-authority letters (A, N, Y are
    # allowed by GB 32100) and does not check the embedded organisation code.
    return (
        len(code) == 18
        and all(c in _USCC_ALPHABET for c in code)
        and code[17] == uscc_check_char(code[:17])
        and is_valid_org_code(code[8:17])
    )


def unit_code_kind(code: str) -> UnitCodeKind:
    """Kind of a normalized unit code, told by its length."""
    if len(code) == 9:
        return "org_code"
    if len(code) == 18:
        return "uscc"
    raise ValueError(f"not a unit code: {code!r}")


def validate_unit_code(raw: str | None, *, label: str = "机构代码") -> str:
    """The normalized 9-char organisation code or 18-char USCC; raises FieldError."""
    code = normalize_org_code(_required(raw, label))
    if len(code) == 9:
        if not all(c in _ORG_ALPHABET for c in code):
            raise FieldError("机构代码只能包含数字和字母")
        if not is_valid_org_code(code):
            raise FieldError("机构代码校验位错误")
        return code
    if len(code) == 18:
        if not all(c in _USCC_ALPHABET for c in code):
            raise FieldError("统一社会信用代码只能包含数字和除I、O、S、V、Z以外的大写字母")
        if code[17] != uscc_check_char(code[:17]):
            raise FieldError("统一社会信用代码校验位错误")
        if not is_valid_org_code(code[8:17]):
            raise FieldError("统一社会信用代码第9至17位不是有效的组织机构代码")
        return code
    raise FieldError("机构代码须为9位组织机构代码或18位统一社会信用代码")


# --- 居民身份证号 (GB 11643-1999) ---

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_EARLIEST_BIRTH = date(1900, 1, 1)


def id_check_char(first17: str) -> str:
    """Check char for the first 17 digits of an ID number."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def birth_date_from_id(id_number: str) -> date:
    """Birth date encoded in chars 7-14; ValueError if it is not a real date."""
    s = id_number[6:14]
    if not re.fullmatch(r"[0-9]{8}", s):
        raise ValueError(f"no birth date in {id_number!r}")
    return date(int(s[:4]), int(s[4:6]), int(s[6:]))


def gender_from_id(id_number: str) -> Gender:
    return "男" if int(id_number[16]) % 2 else "女"


def validate_id_number(
    raw: str | None, *, today: date | None = None, label: str = "身份证号"
) -> str:
    """The upper-cased 18-char ID number; raises FieldError."""
    value = _required(raw, label).upper()
    if len(value) != 18:
        raise FieldError("身份证号须为18位")
    if not _ID_SHAPE.fullmatch(value):
        raise FieldError("身份证号前17位须为数字，最后一位须为数字或X")
    try:
        born = birth_date_from_id(value)
    except ValueError:
        raise FieldError("身份证号出生日期无效") from None
    if not _EARLIEST_BIRTH <= born <= (today or date.today()):
        raise FieldError("身份证号出生日期无效")
    if value[17] != id_check_char(value[:17]):
        raise FieldError("身份证号校验位错误")
    return value


def is_valid_id_number(id_number: str, *, today: date | None = None) -> bool:
    try:
        validate_id_number(id_number, today=today)
    except FieldError:
        return False
    return True


def validate_gender(
    raw: str | None, *, id_number: str | None = None, label: str = "性别"
) -> Gender:
    """'男' or '女'; when a valid ID number is given the gender must agree with it."""
    value = _required(raw, label)
    if value not in ("男", "女"):
        raise FieldError("性别须为男或女")
    if id_number is not None and _ID_SHAPE.fullmatch(id_number.upper()):
        if gender_from_id(id_number) != value:
            raise FieldError("性别与身份证号不一致")
    return value  # type: ignore[return-value]


# --- other fields ---

_NAME_CHARS = re.compile(r"[A-Za-z\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef·]+")
# IMEs and fonts produce several look-alike dots for the 间隔号 in names such as 买买提·艾力.
_NAME_DOTS = str.maketrans({"•": "·", "‧": "·", "・": "·", "･": "·", "．": "·"})


def validate_name(raw: str | None, *, label: str = "姓名") -> str:
    value = _required(raw, label).translate(_NAME_DOTS)
    if not 2 <= len(value) <= 30:
        raise FieldError("姓名须为2到30个字符")
    if not _NAME_CHARS.fullmatch(value):
        raise FieldError("姓名只能包含汉字、英文字母和间隔号“·”")
    if value.startswith("·") or value.endswith("·") or "··" in value:
        raise FieldError("间隔号“·”不能在姓名开头、结尾或连续出现")
    return value


def validate_username(raw: str | None, *, label: str = "用户名") -> str:
    value = _required(raw, label)
    if not re.fullmatch(r"[0-9A-Za-z]{6,14}", value):
        raise FieldError("用户名须为6到14位数字或字母")
    return value


def validate_password(raw: str | None, *, label: str = "密码") -> str:
    # Not stripped: the password is a secret and must be stored exactly as typed.
    value = raw or ""
    if not value:
        raise FieldError(f"请填写{label}")
    if not 8 <= len(value) <= 12:
        raise FieldError("密码长度须为8到12位")
    # Any printable ASCII except space: symbols make passwords stronger, while spaces and
    # non-ASCII chars are easily mistyped or changed by IMEs and then lock users out.
    if not all("!" <= c <= "~" for c in value):
        raise FieldError("密码只能包含字母、数字和英文符号，不能包含空格或中文字符")
    if not (
        any(c.isdigit() for c in value)
        and any("A" <= c <= "Z" for c in value)
        and any("a" <= c <= "z" for c in value)
    ):
        raise FieldError("密码须包含至少1位数字、1位大写字母和1位小写字母")
    if is_common(value):
        raise FieldError(COMMON_PASSWORD)
    return value


def validate_mobile(raw: str | None, *, label: str = "手机号码") -> str:
    value = _required(raw, label)
    if not re.fullmatch(r"1[3-9][0-9]{9}", value):
        raise FieldError("手机号码须为1开头的11位数字，第2位为3至9")
    return value


def validate_new_mobile(raw: str | None, current: str | None, *, label: str = "新手机号码") -> str:
    value = validate_mobile(raw, label=label)
    if value == current:
        raise FieldError("新手机号码与当前手机号码相同")
    return value


def validate_phone(raw: str | None, *, label: str = "电话") -> str:
    value = _required(raw, label)
    if not (7 <= len(value) <= 20 and re.fullmatch(r"[0-9]+(-[0-9]+)*", value)):
        raise FieldError("电话须为7到20位数字，可用“-”分隔")
    return value


# On top of email-validator's RFC checks: a domain of ASCII labels ending in a TLD of letters.
_EMAIL = re.compile(r"[^@\s]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}")


def validate_email(raw: str | None, *, label: str = "电子邮箱") -> str:
    """The address as email-validator normalises it (the domain in lower case); FieldError for
    anything it refuses (<b>x</b>@example.cn, a quoted or dotted-twice local part, …)."""
    value = _required(raw, label)
    if len(value) > 254:
        raise FieldError("电子邮箱不能超过254个字符")
    if not _EMAIL.fullmatch(value):
        raise FieldError("电子邮箱格式不正确")
    try:
        checked = email_validator.validate_email(
            value, check_deliverability=False, allow_smtputf8=False
        )
    except email_validator.EmailNotValidError:
        raise FieldError("电子邮箱格式不正确") from None
    return checked.normalized


# The lengths of the two social-security numbers are our own assumption (the manual gives
# none): 单位社保号 1-20 digits, 社保电脑号 6-20 digits.
def validate_si_unit_no(raw: str | None, *, label: str = "单位社保号") -> str:
    value = _required(raw, label)
    if not re.fullmatch(r"[0-9]{1,20}", value):
        raise FieldError("单位社保号须为1到20位数字")
    return value


def validate_si_no(raw: str | None, *, label: str = "社保电脑号") -> str:
    value = _required(raw, label)
    if not re.fullmatch(r"[0-9]{6,20}", value):
        raise FieldError("社保电脑号须为6到20位数字")
    return value


def validate_sms_code(raw: str | None, *, label: str = "验证码") -> str:
    value = _required(raw, label)
    if not re.fullmatch(r"[0-9]{6}", value):
        raise FieldError("验证码须为6位数字")
    return value


# --- the unit admin registration form (manual §1.1) ---

REGISTRATION_LABELS: dict[str, str] = {
    "org_code": "机构代码",
    "si_unit_no": "单位社保号",
    "admin_name": "管理员姓名",
    "admin_id_number": "管理员身份证号",
    "admin_si_no": "管理员社保电脑号",
    "email": "管理员电子邮箱",
    "username": "管理员用户名",
    "password": "管理员密码",
    "password_confirm": "确认管理员密码",
    "phone": "管理员电话",
    "mobile": "管理员手机",
    "sms_code": "验证码",
}


@dataclass(frozen=True, slots=True)
class RegistrationInput:
    org_code: str
    si_unit_no: str
    admin_name: str
    admin_id_number: str
    admin_si_no: str
    email: str
    username: str
    password: str = field(repr=False)  # keep it out of logs and tracebacks
    phone: str
    mobile: str
    sms_code: str

    @property
    def org_code_kind(self) -> UnitCodeKind:
        return unit_code_kind(self.org_code)


def validate_registration(
    form: Mapping[str, str], *, today: date | None = None
) -> tuple[RegistrationInput | None, dict[str, str]]:
    """Check every field; return the normalized input, or None and a message per bad field."""
    checks = {
        "org_code": validate_unit_code,
        "si_unit_no": validate_si_unit_no,
        "admin_name": validate_name,
        "admin_id_number": lambda raw, label: validate_id_number(raw, today=today, label=label),
        "admin_si_no": validate_si_no,
        "email": validate_email,
        "username": validate_username,
        "password": validate_password,
        "phone": validate_phone,
        "mobile": validate_mobile,
        "sms_code": validate_sms_code,
    }
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, check in checks.items():
        try:
            values[name] = check(form.get(name), label=REGISTRATION_LABELS[name])
        except FieldError as e:
            errors[name] = e.message

    confirm = form.get("password_confirm") or ""
    if not confirm:
        errors["password_confirm"] = f"请填写{REGISTRATION_LABELS['password_confirm']}"
    elif confirm != (form.get("password") or ""):
        errors["password_confirm"] = "两次输入的密码不一致"

    if errors:
        return None, errors
    return RegistrationInput(**values), {}

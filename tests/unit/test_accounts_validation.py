from datetime import date

import pytest

from services.accounts.domain.validation import (
    REGISTRATION_LABELS,
    FieldError,
    RegistrationInput,
    birth_date_from_id,
    gender_from_id,
    id_check_char,
    is_valid_id_number,
    is_valid_org_code,
    is_valid_uscc,
    normalize_org_code,
    org_code_check_char,
    unit_code_kind,
    uscc_check_char,
    validate_email,
    validate_gender,
    validate_id_number,
    validate_mobile,
    validate_name,
    validate_password,
    validate_phone,
    validate_registration,
    validate_si_no,
    validate_si_unit_no,
    validate_sms_code,
    validate_unit_code,
    validate_username,
)

ORG_VECTOR = "D2143569X"
USCC_VECTOR = "91350100M000100Y43"
ID_VECTOR = "11010519491231002X"
TODAY = date(2024, 6, 15)

ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# Independent re-statements of the standards, so tests do not trust the code under test.
def org_check(body: str) -> str:
    total = sum(
        ORG_ALPHABET.index(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)
    )
    return {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))


def make_uscc(first17: str) -> str:
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, weights, strict=True))
    return first17 + USCC_ALPHABET[(31 - total % 31) % 31]


def make_id(region: str, birth: str, seq: str) -> str:
    first17 = region + birth + seq
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return (
        first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]
    )


def bump(code: str, i: int, alphabet: str) -> str:
    """The code with char i replaced by the next char of the alphabet (value +1, wrapping)."""
    return code[:i] + alphabet[(alphabet.index(code[i]) + 1) % len(alphabet)] + code[i + 1 :]


def error_of(validator, *args, **kwargs) -> str:
    with pytest.raises(FieldError) as exc:
        validator(*args, **kwargs)
    return exc.value.message


# --- organisation code ---


@pytest.mark.parametrize(
    "typed, normalized",
    [
        ("D2143569-X", "D2143569X"),
        ("d2143569-x", "D2143569X"),
        (" D2143569 - X ", "D2143569X"),
        ("D2143569X", "D2143569X"),
        ("91350100-m000100y4-3", "91350100M000100Y43"),
    ],
)
def test_normalize_org_code_strips_dashes_and_spaces_and_upper_cases(typed, normalized):
    assert normalize_org_code(typed) == normalized


def test_org_code_test_vector_is_valid():
    assert org_code_check_char("D2143569") == "X"
    assert is_valid_org_code(normalize_org_code("D2143569-X"))


@pytest.mark.parametrize("i", range(9))
def test_org_code_with_any_char_changed_is_invalid(i):
    assert not is_valid_org_code(bump(ORG_VECTOR, i, ORG_ALPHABET))


@pytest.mark.parametrize("body", ["00000000", "12345678", "ABCDEFGH", "M000100Y", "ZZZZZZZZ"])
def test_org_code_check_char_follows_gb_11714(body):
    assert org_code_check_char(body) == org_check(body)
    assert is_valid_org_code(body + org_check(body))


def test_org_code_check_value_11_is_written_as_zero():
    assert org_code_check_char("00000000") == "0"
    assert is_valid_org_code("000000000")


@pytest.mark.parametrize(
    "code", ["", "D2143569", "D2143569XX", "d2143569x", "D2143569-X", "D214356*X", "D2143569Y"]
)
def test_org_code_not_normalized_or_malformed_is_invalid(code):
    assert not is_valid_org_code(code)


# --- unified social credit code ---


def test_uscc_test_vector_is_valid():
    assert uscc_check_char(USCC_VECTOR[:17]) == "3"
    assert is_valid_uscc(USCC_VECTOR)


@pytest.mark.parametrize("i", range(18))
def test_uscc_with_any_char_changed_is_invalid(i):
    assert not is_valid_uscc(bump(USCC_VECTOR, i, USCC_ALPHABET))


@pytest.mark.parametrize("letter", "IOSVZ")
def test_uscc_with_letter_outside_its_charset_is_invalid(letter):
    assert not is_valid_uscc(USCC_VECTOR[:2] + letter + USCC_VECTOR[3:])


def test_uscc_with_good_check_char_but_invalid_embedded_org_code_is_invalid():
    code = make_uscc("91350100M000100Y5")
    assert code[17] == uscc_check_char(code[:17])
    assert not is_valid_uscc(code)


@pytest.mark.parametrize("authority", ["1", "5", "9", "A", "N", "Y"])
def test_uscc_built_from_a_valid_org_code_is_valid_whatever_the_authority(authority):
    assert is_valid_uscc(make_uscc(authority + "2440300" + ORG_VECTOR))


@pytest.mark.parametrize("code", ["", USCC_VECTOR[:17], USCC_VECTOR + "3", USCC_VECTOR.lower()])
def test_uscc_of_wrong_length_or_not_normalized_is_invalid(code):
    assert not is_valid_uscc(code)


# --- unit code (either kind) ---


@pytest.mark.parametrize("code, kind", [(ORG_VECTOR, "org_code"), (USCC_VECTOR, "uscc")])
def test_unit_code_kind_is_told_by_length(code, kind):
    assert unit_code_kind(code) == kind


@pytest.mark.parametrize("code", ["", "D2143569", "D2143569XY"])
def test_unit_code_kind_rejects_other_lengths(code):
    with pytest.raises(ValueError):
        unit_code_kind(code)


@pytest.mark.parametrize(
    "raw, code",
    [
        ("D2143569-X", ORG_VECTOR),
        ("  d2143569x ", ORG_VECTOR),
        ("91350100M000100Y43", USCC_VECTOR),
        ("91350100m000100y43", USCC_VECTOR),
    ],
)
def test_validate_unit_code_returns_normalized_code(raw, code):
    assert validate_unit_code(raw) == code


@pytest.mark.parametrize(
    "raw, message",
    [
        (None, "请填写机构代码"),
        ("", "请填写机构代码"),
        ("  ", "请填写机构代码"),
        ("-", "机构代码须为9位组织机构代码或18位统一社会信用代码"),
        ("D214356", "机构代码须为9位组织机构代码或18位统一社会信用代码"),
        ("D2143569X1", "机构代码须为9位组织机构代码或18位统一社会信用代码"),
        ("D214356*X", "机构代码只能包含数字和字母"),
        ("D2143569Y", "机构代码校验位错误"),
        ("D2143568X", "机构代码校验位错误"),
        ("91350100M000100Y44", "统一社会信用代码校验位错误"),
        ("91350100M000100I43", "统一社会信用代码只能包含数字和除I、O、S、V、Z以外的大写字母"),
        (make_uscc("91350100M000100Y5"), "统一社会信用代码第9至17位不是有效的组织机构代码"),
    ],
)
def test_validate_unit_code_gives_a_message_per_broken_rule(raw, message):
    assert error_of(validate_unit_code, raw) == message


def test_validate_unit_code_uses_the_given_label_for_an_empty_value():
    assert error_of(validate_unit_code, "", label="组织机构代码") == "请填写组织机构代码"


# --- ID number ---


def test_id_number_test_vector_is_valid():
    assert id_check_char(ID_VECTOR[:17]) == "X"
    assert validate_id_number(ID_VECTOR, today=TODAY) == ID_VECTOR


def test_id_number_lower_case_x_is_accepted_and_upper_cased():
    assert validate_id_number(" 11010519491231002x ", today=TODAY) == ID_VECTOR


def test_id_number_440305199001011234_has_a_wrong_check_char():
    assert error_of(validate_id_number, "440305199001011234", today=TODAY) == "身份证号校验位错误"
    assert is_valid_id_number("44030519900101123X", today=TODAY)


@pytest.mark.parametrize(
    "region, birth, seq",
    [
        ("440305", "19900101", "123"),
        ("440304", "19850615", "001"),
        ("310101", "20000229", "456"),
        ("610102", "19000101", "789"),
        ("440303", "19991231", "020"),
        ("440306", "20240615", "555"),
    ],
)
def test_id_numbers_with_computed_check_char_are_valid(region, birth, seq):
    id_number = make_id(region, birth, seq)
    assert id_check_char(id_number[:17]) == id_number[17]
    assert validate_id_number(id_number, today=TODAY) == id_number


@pytest.mark.parametrize("i", range(17))
def test_id_number_with_any_digit_changed_is_invalid(i):
    assert not is_valid_id_number(bump(ID_VECTOR, i, "0123456789"), today=TODAY)


@pytest.mark.parametrize("check", "0123456789")
def test_id_number_with_wrong_check_char_is_rejected(check):
    assert error_of(validate_id_number, ID_VECTOR[:17] + check, today=TODAY) == "身份证号校验位错误"


@pytest.mark.parametrize(
    "birth",
    ["19900230", "20010229", "19000229", "19901301", "19900001", "19900100", "19900132"],
)
def test_id_number_with_impossible_birth_date_is_rejected(birth):
    id_number = make_id("440305", birth, "123")
    assert error_of(validate_id_number, id_number, today=TODAY) == "身份证号出生日期无效"


@pytest.mark.parametrize("birth", ["18991231", "18000101", "20240616", "20990101"])
def test_id_number_born_before_1900_or_in_the_future_is_rejected(birth):
    id_number = make_id("440305", birth, "123")
    assert error_of(validate_id_number, id_number, today=TODAY) == "身份证号出生日期无效"


def test_id_number_born_today_is_accepted():
    id_number = make_id("440305", "20240615", "123")
    assert validate_id_number(id_number, today=TODAY) == id_number


@pytest.mark.parametrize(
    "raw", ["11010519491231002", "11010519491231002XX", "110105491231002", "1"]
)
def test_id_number_of_wrong_length_is_rejected(raw):
    assert error_of(validate_id_number, raw, today=TODAY) == "身份证号须为18位"


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002A",
        "1101051949123100XX",
        "X10105194912310021",
        "11010519491231-02X",
        "１１０１０５１９４９１２３１００２X",
    ],
)
def test_id_number_with_letters_or_other_chars_is_rejected(raw):
    message = "身份证号前17位须为数字，最后一位须为数字或X"
    assert error_of(validate_id_number, raw, today=TODAY) == message


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_id_number_empty_asks_to_fill_it(raw):
    assert error_of(validate_id_number, raw, label="管理员身份证号") == "请填写管理员身份证号"


def test_birth_date_and_gender_are_read_from_the_id_number():
    assert birth_date_from_id(ID_VECTOR) == date(1949, 12, 31)
    assert gender_from_id(ID_VECTOR) == "女"
    male = make_id("440305", "19900101", "123")
    assert birth_date_from_id(male) == date(1990, 1, 1)
    assert gender_from_id(male) == "男"


def test_birth_date_from_id_with_impossible_date_raises_value_error():
    with pytest.raises(ValueError):
        birth_date_from_id(make_id("440305", "19900230", "123"))


# --- gender ---


@pytest.mark.parametrize("raw", ["男", "女", " 女 "])
def test_gender_male_or_female_is_accepted(raw):
    assert validate_gender(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["M", "F", "男性", "未知"])
def test_gender_other_values_are_rejected(raw):
    assert error_of(validate_gender, raw) == "性别须为男或女"


def test_gender_empty_asks_to_fill_it():
    assert error_of(validate_gender, "") == "请填写性别"


def test_gender_must_agree_with_the_id_number():
    assert validate_gender("女", id_number=ID_VECTOR.lower()) == "女"
    assert error_of(validate_gender, "男", id_number=ID_VECTOR) == "性别与身份证号不一致"


# --- name ---


@pytest.mark.parametrize(
    "raw, name",
    [
        ("王小明", "王小明"),
        ("  张三 ", "张三"),
        ("买买提·艾力", "买买提·艾力"),
        ("买买提•艾力", "买买提·艾力"),
        ("买买提・艾力", "买买提·艾力"),
        ("𠮷田", "𠮷田"),
        ("Li", "Li"),
        ("John·Smith", "John·Smith"),
        ("王" * 30, "王" * 30),
    ],
)
def test_name_of_chinese_or_letters_with_middle_dot_is_accepted(raw, name):
    assert validate_name(raw) == name


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "请填写姓名"),
        ("王", "姓名须为2到30个字符"),
        ("王" * 31, "姓名须为2到30个字符"),
        ("王1", "姓名只能包含汉字、英文字母和间隔号“·”"),
        ("John Smith", "姓名只能包含汉字、英文字母和间隔号“·”"),
        ("王-明", "姓名只能包含汉字、英文字母和间隔号“·”"),
        ("王，明", "姓名只能包含汉字、英文字母和间隔号“·”"),
        ("·王明", "间隔号“·”不能在姓名开头、结尾或连续出现"),
        ("王明·", "间隔号“·”不能在姓名开头、结尾或连续出现"),
        ("王··明", "间隔号“·”不能在姓名开头、结尾或连续出现"),
    ],
)
def test_name_breaking_a_rule_is_rejected_with_its_message(raw, message):
    assert error_of(validate_name, raw) == message


# --- username ---


@pytest.mark.parametrize("raw", ["zhangshan", "123456", "abc123", "ABCdef12345678", " zhangsan1 "])
def test_username_of_6_to_14_digits_or_letters_is_accepted(raw):
    assert validate_username(raw) == raw.strip()


@pytest.mark.parametrize(
    "raw",
    ["abc12", "a" * 15, "zhang_san", "zhang san", "张三abcdef", "ａｂｃｄｅｆ", "abcdé1", "user@1"],
)
def test_username_breaking_the_rule_is_rejected(raw):
    assert error_of(validate_username, raw) == "用户名须为6到14位数字或字母"


def test_username_empty_asks_to_fill_it():
    assert error_of(validate_username, " ", label="管理员用户名") == "请填写管理员用户名"


# --- password ---


@pytest.mark.parametrize("raw", ["Hgfedcb1", "Abcdefghij12", "aB3!@#$%^&*(", "1aA~`{}[]|\\"])
def test_password_of_8_to_12_printable_ascii_with_digit_upper_lower_is_accepted(raw):
    assert validate_password(raw) == raw


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "请填写密码"),
        (None, "请填写密码"),
        ("Abcde12", "密码长度须为8到12位"),
        ("Abcdefghijk12", "密码长度须为8到12位"),
        ("Abcd efg1", "密码只能包含字母、数字和英文符号，不能包含空格或中文字符"),
        (" Hgfedcb1", "密码只能包含字母、数字和英文符号，不能包含空格或中文字符"),
        ("Abcdéfg1", "密码只能包含字母、数字和英文符号，不能包含空格或中文字符"),
        ("密码Abcdef1", "密码只能包含字母、数字和英文符号，不能包含空格或中文字符"),
        ("Abcdef\t1", "密码只能包含字母、数字和英文符号，不能包含空格或中文字符"),
        ("abcdefg1", "密码须包含至少1位数字、1位大写字母和1位小写字母"),
        ("ABCDEFG1", "密码须包含至少1位数字、1位大写字母和1位小写字母"),
        ("Abcdefgh", "密码须包含至少1位数字、1位大写字母和1位小写字母"),
        ("12345678", "密码须包含至少1位数字、1位大写字母和1位小写字母"),
        ("Abcdefg!", "密码须包含至少1位数字、1位大写字母和1位小写字母"),
    ],
)
def test_password_breaking_a_rule_is_rejected_with_its_message(raw, message):
    assert error_of(validate_password, raw) == message


# --- mobile, phone, email ---


@pytest.mark.parametrize("raw", ["13800138000", "19912345678", "15012345678", " 13012345678 "])
def test_mobile_of_mainland_format_is_accepted(raw):
    assert validate_mobile(raw) == raw.strip()


@pytest.mark.parametrize(
    "raw",
    [
        "12800138000",
        "10800138000",
        "23800138000",
        "1380013800",
        "138001380000",
        "138-0013-8000",
        "+8613800138000",
        "１３８００１３８０００",
    ],
)
def test_mobile_not_matching_the_pattern_is_rejected(raw):
    assert error_of(validate_mobile, raw) == "手机号码须为1开头的11位数字，第2位为3至9"


def test_mobile_empty_asks_to_fill_it():
    assert error_of(validate_mobile, "", label="管理员手机") == "请填写管理员手机"


@pytest.mark.parametrize(
    "raw", ["0755-12345678", "83456789", "1234567", "13800138000", "0755-12345678-123", "1" * 20]
)
def test_phone_of_7_to_20_digits_and_dashes_is_accepted(raw):
    assert validate_phone(raw) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "123456",
        "1" * 21,
        "0755--1234567",
        "-07551234567",
        "07551234567-",
        "0755 1234567",
        "(0755)1234567",
        "0755-1234567a",
    ],
)
def test_phone_breaking_the_rule_is_rejected(raw):
    assert error_of(validate_phone, raw) == "电话须为7到20位数字，可用“-”分隔"


def test_phone_empty_asks_to_fill_it():
    assert error_of(validate_phone, "") == "请填写电话"


# 254 characters, with domain labels of at most 63
LONGEST_EMAIL = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 58]) + ".cn"


@pytest.mark.parametrize(
    "raw", ["AA@163.com", "first.last+tag@sub.example.cn", "a_b@qq.com", LONGEST_EMAIL]
)
def test_email_of_pragmatic_shape_is_accepted(raw):
    assert validate_email(raw) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "aa163.com",
        "@163.com",
        "a@",
        "a@b",
        "a @163.com",
        "a@163..com",
        "a@-163.com",
        "a@@163.com",
        "a@163.c",
        "a@163.com.",
        "<b>x</b>@example.cn",
        "x<script>@example.cn",
        '"a b"@example.cn',
        "a..b@example.cn",
        ".a@example.cn",
        "张三@example.cn",
    ],
)
def test_email_of_wrong_shape_is_rejected(raw):
    assert error_of(validate_email, raw) == "电子邮箱格式不正确"


def test_email_domain_is_kept_in_lower_case():
    assert validate_email("AA@Example.CN") == "AA@example.cn"


def test_email_longer_than_254_chars_is_rejected():
    assert error_of(validate_email, "a" + LONGEST_EMAIL) == "电子邮箱不能超过254个字符"


# --- social-security numbers and SMS code ---


@pytest.mark.parametrize("raw", ["1", "12345678", "1" * 20])
def test_si_unit_no_of_1_to_20_digits_is_accepted(raw):
    assert validate_si_unit_no(raw) == raw


@pytest.mark.parametrize("raw", ["1" * 21, "12a", "12-34", "１２３"])
def test_si_unit_no_breaking_the_rule_is_rejected(raw):
    assert error_of(validate_si_unit_no, raw) == "单位社保号须为1到20位数字"


@pytest.mark.parametrize("raw", ["123456", "60123456789", "1" * 20])
def test_si_no_of_6_to_20_digits_is_accepted(raw):
    assert validate_si_no(raw) == raw


@pytest.mark.parametrize("raw", ["12345", "1" * 21, "1234567a", "123 456"])
def test_si_no_breaking_the_rule_is_rejected(raw):
    assert error_of(validate_si_no, raw) == "社保电脑号须为6到20位数字"


def test_sms_code_of_6_digits_is_accepted():
    assert validate_sms_code(" 012345 ") == "012345"


@pytest.mark.parametrize("raw", ["9687", "1234567", "12345a", "123 45"])
def test_sms_code_breaking_the_rule_is_rejected(raw):
    assert error_of(validate_sms_code, raw) == "验证码须为6位数字"


@pytest.mark.parametrize(
    "validator, label",
    [
        (validate_si_unit_no, "单位社保号"),
        (validate_si_no, "社保电脑号"),
        (validate_sms_code, "验证码"),
        (validate_email, "电子邮箱"),
    ],
)
def test_empty_value_asks_to_fill_the_field(validator, label):
    assert error_of(validator, "") == f"请填写{label}"


# --- registration form ---


def good_form(**changes: str) -> dict[str, str]:
    form = {
        "org_code": "D2143569-X",
        "si_unit_no": "12345678",
        "admin_name": "王小明",
        "admin_id_number": "11010519491231002x",
        "admin_si_no": "60123456",
        "email": "AA@163.com",
        "username": "zhangshan",
        "password": "Hgfedcb1",
        "password_confirm": "Hgfedcb1",
        "phone": "0755-12345678",
        "mobile": "13800138000",
        "sms_code": "123456",
    }
    return form | changes


def test_valid_registration_returns_normalized_input_and_no_errors():
    form = good_form(admin_name=" 王小明 ", email=" AA@163.com ", mobile=" 13800138000")
    result, errors = validate_registration(form, today=TODAY)
    assert errors == {}
    assert result == RegistrationInput(
        org_code="D2143569X",
        si_unit_no="12345678",
        admin_name="王小明",
        admin_id_number="11010519491231002X",
        admin_si_no="60123456",
        email="AA@163.com",
        username="zhangshan",
        password="Hgfedcb1",
        phone="0755-12345678",
        mobile="13800138000",
        sms_code="123456",
    )
    assert result.org_code_kind == "org_code"


def test_registration_accepts_a_unified_social_credit_code():
    result, errors = validate_registration(good_form(org_code="91350100m000100y43"), today=TODAY)
    assert errors == {}
    assert result.org_code == USCC_VECTOR
    assert result.org_code_kind == "uscc"


def test_registration_input_repr_hides_the_password():
    result, _ = validate_registration(good_form(), today=TODAY)
    assert "Hgfedcb1" not in repr(result)


def test_empty_registration_asks_to_fill_every_field():
    result, errors = validate_registration({}, today=TODAY)
    assert result is None
    assert errors == {name: f"请填写{label}" for name, label in REGISTRATION_LABELS.items()}
    assert len(errors) == 12


def test_blank_registration_fields_count_as_empty():
    form = {name: "   " for name in REGISTRATION_LABELS if not name.startswith("password")}
    _, errors = validate_registration(form, today=TODAY)
    assert errors["admin_name"] == "请填写管理员姓名"
    assert errors["sms_code"] == "请填写验证码"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("org_code", "D2143569Y", "机构代码校验位错误"),
        ("org_code", "91350100M000100Y44", "统一社会信用代码校验位错误"),
        ("si_unit_no", "12a", "单位社保号须为1到20位数字"),
        ("admin_name", "王1", "姓名只能包含汉字、英文字母和间隔号“·”"),
        ("admin_id_number", "440305199001011234", "身份证号校验位错误"),
        ("admin_id_number", make_id("440305", "19900230", "123"), "身份证号出生日期无效"),
        ("admin_id_number", make_id("440305", "20250101", "123"), "身份证号出生日期无效"),
        ("admin_si_no", "12345", "社保电脑号须为6到20位数字"),
        ("email", "aa163.com", "电子邮箱格式不正确"),
        ("username", "zhang_san", "用户名须为6到14位数字或字母"),
        ("phone", "123", "电话须为7到20位数字，可用“-”分隔"),
        ("mobile", "12800138000", "手机号码须为1开头的11位数字，第2位为3至9"),
        ("sms_code", "9687", "验证码须为6位数字"),
        ("password_confirm", "Abcdefg2", "两次输入的密码不一致"),
        ("password_confirm", "", "请填写确认管理员密码"),
    ],
)
def test_registration_reports_only_the_broken_field_with_its_message(field, value, message):
    result, errors = validate_registration(good_form(**{field: value}), today=TODAY)
    assert result is None
    assert errors == {field: message}


def test_registration_with_weak_password_typed_twice_reports_only_the_password():
    form = good_form(password="abcdefg1", password_confirm="abcdefg1")
    _, errors = validate_registration(form, today=TODAY)
    assert errors == {"password": "密码须包含至少1位数字、1位大写字母和1位小写字母"}


def test_registration_with_weak_password_and_different_confirmation_reports_both():
    form = good_form(password="abc", password_confirm="abd")
    _, errors = validate_registration(form, today=TODAY)
    assert errors == {"password": "密码长度须为8到12位", "password_confirm": "两次输入的密码不一致"}


def test_registration_password_is_compared_exactly_as_typed():
    form = good_form(password_confirm="Hgfedcb1 ")
    _, errors = validate_registration(form, today=TODAY)
    assert errors == {"password_confirm": "两次输入的密码不一致"}


def test_registration_reports_every_broken_field_at_once():
    form = good_form(org_code="D2143569Y", username="abc", mobile="123", sms_code="")
    _, errors = validate_registration(form, today=TODAY)
    assert errors == {
        "org_code": "机构代码校验位错误",
        "username": "用户名须为6到14位数字或字母",
        "mobile": "手机号码须为1开头的11位数字，第2位为3至9",
        "sms_code": "请填写验证码",
    }

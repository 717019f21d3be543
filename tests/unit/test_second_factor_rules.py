"""The pure rules of the sign-in: common passwords refused, who is asked for a login code,
and when a login challenge still takes one."""

from datetime import UTC, datetime, timedelta

import pytest

from services.accounts.domain.common_passwords import COMMON_PASSWORD, common_passwords, is_common
from services.accounts.domain.second_factor import (
    CHALLENGE_OVER,
    challenge_problem,
    needs_code,
    wrong_code,
)
from services.accounts.domain.validation import FieldError, validate_password

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "password",
    ["Passw0rd", "Woaini1314", "Qq123456", "Aa123456789", "Abc12345", "Zhang123456", "Qwerty123"],
)
def test_a_listed_password_is_refused_whatever_its_case(password):
    assert is_common(password)
    with pytest.raises(FieldError) as refused:
        validate_password(password)
    assert refused.value.message == COMMON_PASSWORD


@pytest.mark.parametrize("password", ["Zc7Shenpi", "N3wPassw0rd", "Hgfedcb1", "9kLm2Pq7x"])
def test_a_password_not_listed_passes(password):
    assert validate_password(password) == password


def test_the_composition_rule_speaks_first():
    with pytest.raises(FieldError) as refused:
        validate_password("woaini1314")  # listed, but no capital: the rule says what to add
    assert refused.value.message == "密码须包含至少1位数字、1位大写字母和1位小写字母"


def test_the_list_holds_only_what_the_rule_could_accept():
    listed = common_passwords()
    assert len(listed) > 3000
    for password in listed:
        assert 8 <= len(password) <= 12, password
        assert password == password.lower()
        assert any(c.isdigit() for c in password) and sum(c.isalpha() for c in password) >= 2


@pytest.mark.parametrize("role", ["department", "office", "committee", "expert", "sysadmin"])
def test_reviewers_and_the_sysadmin_confirm_with_a_code(role):
    assert needs_code(role, True)
    assert not needs_code(role, False)  # the development setting


@pytest.mark.parametrize("role", ["unit_admin", "unit_operator", "applicant"])
def test_a_units_people_sign_in_with_the_password(role):
    assert not needs_code(role, True)


def challenge(**changes) -> dict:
    return {"status": "open", "attempts": 0, "expires_at": NOW + timedelta(minutes=5)} | changes


def test_an_open_challenge_in_time_takes_a_code():
    assert challenge_problem(challenge(attempts=4), NOW, 5) is None


@pytest.mark.parametrize(
    "row",
    [
        None,
        challenge(status="passed"),
        challenge(status="dead"),
        challenge(expires_at=NOW),
        challenge(attempts=5),
    ],
)
def test_a_missing_spent_expired_or_exhausted_challenge_takes_none(row):
    assert challenge_problem(row, NOW, 5) == CHALLENGE_OVER


def test_a_wrong_code_says_how_many_tries_are_left():
    assert wrong_code(1, 5) == "验证码错误，还可尝试 4 次"
    assert wrong_code(5, 5) == "验证码错误次数过多，请重新输入用户名和密码登录"

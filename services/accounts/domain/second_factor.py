"""Reviewers' second factor: who confirms a sign-in by SMS code, and whether a login
challenge may still take a code. Pure: no I/O."""

from collections.abc import Mapping
from datetime import datetime

from shared.contracts.accounts.vocabulary import SECOND_FACTOR_ROLES

CHALLENGE_OVER = "登录验证已失效，请重新输入用户名和密码登录"
NO_MOBILE = "该账户未登记手机号码，无法接收登录验证码，请联系系统管理员登记手机号码"


def needs_code(role: str, enabled: bool) -> bool:
    return enabled and role in SECOND_FACTOR_ROLES


def challenge_problem(challenge: Mapping | None, now: datetime, max_attempts: int) -> str | None:
    """Why this challenge takes no more codes; None while it does."""
    if (
        challenge is None
        or challenge["status"] != "open"
        or challenge["expires_at"] <= now
        or challenge["attempts"] >= max_attempts
    ):
        return CHALLENGE_OVER
    return None


def wrong_code(attempts: int, max_attempts: int) -> str:
    """What a wrong code is answered with, `attempts` wrong ones counted (this one too)."""
    left = max_attempts - attempts
    if left <= 0:
        return "验证码错误次数过多，请重新输入用户名和密码登录"
    return f"验证码错误，还可尝试 {left} 次"

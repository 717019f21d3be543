"""What a declaration needs and what bars one: the 诚信承诺 in force, and 失信 records.
Pure: no I/O; the day is an argument.

A 失信 entry bars its ID number from its first day through its last day; a declaration is
taken again the day after. Its length is counted in whole years as the Civil Code counts a
period of years (民法典 第二百零三条): it ends on the corresponding day, or on the last day
of that month when the month has none (a 29 February start).
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from services.cases.domain.errors import DomainError, InvalidInput, cn_date
from shared.contracts.cases.integrity import MAX_DISCREDIT_YEARS

# What the applicant is told by SMS (case.applicant_notice, as the state machine's notices).
CERTIFICATE_REVOKED_NOTICE = "您的职称电子证书已被撤销，请登录系统查看原因。"
DISCREDIT_RECORDED_NOTICE = "您已被记入职称申报失信记录，记录期内不得申报职称，请登录系统查看。"
DISCREDIT_ENDED_NOTICE = "您的职称申报失信记录已终止，可以重新申报职称。"
INTEGRITY_NOTICES = (CERTIFICATE_REVOKED_NOTICE, DISCREDIT_RECORDED_NOTICE, DISCREDIT_ENDED_NOTICE)

# How far back or ahead the first day barred may be put (a decision taken earlier, a bar
# that starts when a ruling takes effect).
START_WINDOW_DAYS = 366


# --- 诚信承诺 ---


class PledgeMissing(InvalidInput):
    def __init__(self) -> None:
        super().__init__({"pledge_version": "请阅读诚信承诺书，勾选“本人已阅读并承诺”后再提交"})


class PledgeOutdated(InvalidInput):
    def __init__(self, current: int) -> None:
        self.current = current
        super().__init__(
            {"pledge_version": f"诚信承诺书已更新为第 {current} 版，请阅读后重新勾选确认"}
        )


def check_pledge(accepted: int | None, current: int) -> None:
    """The applicant accepted the version in force (they read what binds them)."""
    if accepted is None:
        raise PledgeMissing()
    if accepted != current:
        raise PledgeOutdated(current)


def check_pledge_text(text: str, current: str | None) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput({"pledge_text": "请填写诚信承诺书内容"})
    if current is not None and text == current.strip():
        raise InvalidInput({"pledge_text": "与现行版本内容相同，无需发布新版本"})
    return text


# --- 失信 ---


def add_years(day: date, years: int) -> date:
    """The corresponding day `years` later; the month's last day when it has none."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


@dataclass(frozen=True)
class DiscreditTerm:
    starts_on: date  # the first day barred
    years: int

    @property
    def last_day(self) -> date:
        """The last day barred: the day before the corresponding day `years` later."""
        return add_years(self.starts_on, self.years) - timedelta(days=1)

    @property
    def free_from(self) -> date:
        return self.last_day + timedelta(days=1)

    def bars(self, today: date) -> bool:
        return self.starts_on <= today <= self.last_day


@dataclass(frozen=True)
class Bar:
    """A 失信 entry as the check sees it: not ended early, with its first and last day."""

    starts_on: date
    last_day: date


class DeclarationBarred(DomainError):
    def __init__(self, last_day: date) -> None:
        self.last_day = last_day
        free = last_day + timedelta(days=1)
        super().__init__(
            f"您有尚在记录期内的职称申报失信记录，{cn_date(last_day)}（含当日）前不能申报职称，"
            f"{cn_date(free)}起方可申报"
        )


def barred_until(bars: Iterable[Bar], today: date) -> date | None:
    """The last day of the longest bar running today, if any."""
    running = [b.last_day for b in bars if b.starts_on <= today <= b.last_day]
    return max(running, default=None)


def check_not_barred(bars: Iterable[Bar], today: date) -> None:
    if (last_day := barred_until(bars, today)) is not None:
        raise DeclarationBarred(last_day)


def discredit_term(
    reason: str, starts_on: str, years: int | None, *, default_years: int, today: date
) -> tuple[str, DiscreditTerm]:
    """The reason and the term as typed, or InvalidInput naming each wrong field."""
    errors = {}
    reason = reason.strip()
    if not reason:
        errors["reason"] = "请填写失信原因"
    start = today
    if starts_on.strip():
        try:
            start = date.fromisoformat(starts_on.strip())
        except ValueError:
            errors["starts_on"] = "开始日期格式应为 YYYY-MM-DD"
    if "starts_on" not in errors and abs((start - today).days) > START_WINDOW_DAYS:
        errors["starts_on"] = "开始日期应在今天前后一年之内"
    years = default_years if years is None else years
    if not 1 <= years <= MAX_DISCREDIT_YEARS:
        errors["years"] = f"记录年限应为 1 至 {MAX_DISCREDIT_YEARS} 年"
    if errors:
        raise InvalidInput(errors)
    return reason, DiscreditTerm(start, years)


def check_end_reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput({"reason": "请填写终止原因"})
    return reason.strip()

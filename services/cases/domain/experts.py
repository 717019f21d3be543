"""The expert library's rules (评审专家库): what an entry must hold, its term and status, and
who may serve which committee. Pure: no I/O; today is an argument.

An entry is one expert in one committee's library. A person serving two committees has an
entry in each (the same ID number), kept by each committee's secretary on its own.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from shared.contracts.cases.experts import EXPERT_FIELD_LABELS, TITLE_LEVELS, ExpertStatus

MAX_TERM_YEARS = 3  # 《职称评审管理暂行规定》: a term (届) is at most three years
EARLIEST_BIRTH = date(1900, 1, 1)
LEVEL_RANK = {level: rank for rank, level in enumerate(reversed(TITLE_LEVELS), start=1)}
MOBILE = re.compile(r"1[3-9][0-9]{9}")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
NAME_LENGTH = 30
TEXT_LENGTH = 100


def id_number_problem(raw: str, today: date) -> str | None:
    """GB 11643 through python-stdnum's cn.ric: 18 characters, the check character and a
    real birth date. Not the birthplace: stdnum's table of county codes is not ours to keep,
    and the accounts service takes any region code too."""
    number = ric.compact(raw)
    if len(number) != 18:
        return "身份证号须为18位"
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return "身份证号前17位须为数字，最后一位须为数字或X"
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        return "身份证号出生日期无效"
    if not EARLIEST_BIRTH <= born <= today:
        return "身份证号出生日期无效"
    if number[17] != ric.calc_check_digit(number):
        return "身份证号校验位错误"
    return None


def latest_term_end(joined_on: date) -> date:
    """Three years after joining, to the day (29 February ends on 28 February)."""
    year = joined_on.year + MAX_TERM_YEARS
    try:
        return joined_on.replace(year=year)
    except ValueError:
        return joined_on.replace(year=year, day=28)


def term_problem(joined_on: date, term_ends_on: date) -> str | None:
    if term_ends_on <= joined_on:
        return "任期届满日期须晚于入库日期"
    if term_ends_on > latest_term_end(joined_on):
        return f"任期最长{MAX_TERM_YEARS}年：届满日期不能晚于 {latest_term_end(joined_on)}"
    return None


def status_on(term_ends_on: date, removed_on: date | None, today: date) -> ExpertStatus:
    if removed_on is not None:
        return ExpertStatus.REMOVED
    return ExpertStatus.EXPIRED if term_ends_on < today else ExpertStatus.ACTIVE


def serves_on(joined_on: date, term_ends_on: date, removed_on: date | None, day: date) -> bool:
    """Within the term on `day` and not removed: the draw takes only such experts."""
    return removed_on is None and joined_on <= day <= term_ends_on


@dataclass(frozen=True)
class CommitteeScope:
    """What a committee reviews, as its library sees it: the series of its qualifications
    and the lowest level among them (an expert must hold at least that level; a meeting
    seats an expert on a case only at or above the case's level, docs/committee.md)."""

    committee_id: str
    series: Mapping[str, str]  # id -> name, of the series it reviews
    level: str

    def problems(self, series_id: str, level: str) -> dict[str, str]:
        found = {}
        if series_id not in self.series:
            names = "、".join(self.series.values())
            found["series_id"] = f"本评委会评审的系列为：{names}"
        if LEVEL_RANK[level] < LEVEL_RANK[self.level]:
            found["title_level"] = f"职称级别须不低于本评委会评审的最低级别（{self.level}）"
        return found


def committee_scope(
    committee_id: str, qualifications: list[tuple[str, str, str]]
) -> CommitteeScope:
    """From the committee's qualifications as (series id, series name, level)."""
    levels = [level for _, _, level in qualifications]
    lowest = min(levels, key=LEVEL_RANK.__getitem__) if levels else TITLE_LEVELS[-1]
    return CommitteeScope(committee_id, {s: name for s, name, _ in qualifications}, lowest)


@dataclass(frozen=True)
class ExpertInput:
    name: str
    id_number: str
    mobile: str
    unit_name: str
    unit_id: str | None
    series_id: str
    speciality: str
    title_level: str
    joined_on: date
    term_ends_on: date


def check_expert(
    form: Mapping[str, str], today: date, scope: CommitteeScope
) -> tuple[ExpertInput | None, dict[str, str]]:
    """Every field of a form or an import row; the input, or None and a message per field."""
    values = {k: (form.get(k) or "").strip() for k in EXPERT_FIELD_LABELS}
    errors = _missing(values)
    _check_texts(values, today, errors)
    joined_on, ends_on = _date(values, "joined_on", errors), _date(values, "term_ends_on", errors)
    if joined_on and ends_on and (problem := term_problem(joined_on, ends_on)):
        errors["term_ends_on"] = problem
    if "series_id" not in errors and "title_level" not in errors:
        errors |= scope.problems(values["series_id"], values["title_level"])
    if errors:
        return None, errors
    return ExpertInput(
        name=values["name"],
        id_number=ric.compact(values["id_number"]),
        mobile=values["mobile"],
        unit_name=values["unit_name"],
        unit_id=values["unit_id"].lower() or None,
        series_id=values["series_id"],
        speciality=values["speciality"],
        title_level=values["title_level"],
        joined_on=joined_on,
        term_ends_on=ends_on,
    ), {}


OPTIONAL = frozenset({"unit_id"})
CHOSEN = frozenset({"series_id", "title_level"})


def _missing(values: dict[str, str]) -> dict[str, str]:
    return {
        k: f"请{'选择' if k in CHOSEN else '填写'}{EXPERT_FIELD_LABELS[k]}"
        for k, v in values.items()
        if not v and k not in OPTIONAL
    }


def _too_long(label: str, most: int):
    return lambda v: f"{label}不能超过{most}个字" if len(v) > most else None


TEXT_CHECKS = {
    "name": _too_long("姓名", NAME_LENGTH),
    "mobile": lambda v: None if MOBILE.fullmatch(v) else "手机号码须为1开头的11位数字",
    "unit_name": _too_long("工作单位", TEXT_LENGTH),
    "unit_id": lambda v: None if UUID.fullmatch(v) else "注册单位编号格式不正确",
    "speciality": _too_long("专业", TEXT_LENGTH),
    "title_level": lambda v: None if v in LEVEL_RANK else f"职称级别须为{'、'.join(TITLE_LEVELS)}",
}


def _check_texts(values: dict[str, str], today: date, errors: dict[str, str]) -> None:
    checks = {**TEXT_CHECKS, "id_number": lambda v: id_number_problem(v, today)}
    for name, check in checks.items():
        if values[name] and name not in errors and (problem := check(values[name])):
            errors[name] = problem


def _date(values: dict[str, str], name: str, errors: dict[str, str]) -> date | None:
    if name in errors:
        return None
    try:
        return date.fromisoformat(values[name])
    except ValueError:
        errors[name] = f"{EXPERT_FIELD_LABELS[name]}须为有效日期，格式为 YYYY-MM-DD"
        return None

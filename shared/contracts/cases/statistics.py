"""统计查询: the cases service's statistics for the department, the office, a committee and
the sysadmin, each over the cases it may see. Pure: no I/O.

Every figure, its definition and its denominator: docs/reports.md "Statistics".
"""

from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from shared.contracts.base import Method, Reply

STATISTICS_ROLES = ("department", "office", "committee", "sysadmin")
TOP_RETURNING_UNITS = 10


class StatisticsQuery(BaseModel):
    """The filters; empty means all. A department chooses among its own committees, a
    committee only the round and the dates; the office and the sysadmin choose all."""

    round_id: str = Field("", max_length=20)
    date_from: date | None = None  # days in Shenzhen, both included
    date_to: date | None = None
    committee_id: str = Field("", max_length=40)
    department_id: str = Field("", max_length=40)


class Choice(Reply):
    id: str
    name: str


class Choices(Reply):
    """What the asker may choose in each filter; an empty list: the filter is theirs fixed."""

    rounds: list[Choice]
    committees: list[Choice]
    departments: list[Choice]


class AppliedFilters(Reply):
    round_id: str
    date_from: str | None
    date_to: str | None
    committee_id: str
    department_id: str


class Count(Reply):
    key: str
    label: str
    count: int


class StateCount(Count):
    step: int | None  # its place on the unit home's ten-step flow (None: closed)


class CommitteeCount(Count):
    passed: int  # 评审通过 in the dates
    failed: int  # 评审不通过 in the dates
    pass_rate: float | None  # passed / (passed + failed); None without any


class PassRate(Reply):
    key: str  # committee, pre_publicity, post_publicity
    label: str
    passed: int
    failed: int
    total: int
    pass_rate: float | None


class StepDays(Reply):
    key: str  # the state the cases waited in
    label: str
    step: int | None
    stays: int  # stays that ended in the dates
    average_days: float | None  # rounded to two places
    p90_days: int | None  # whole days within which 90 % of those stays ended


class UnitReturns(Reply):
    unit_id: str
    unit_name: str
    returns: int
    at_acceptance: int  # 预受理 退回
    at_review: int  # 审核 退回


class Statistics(Reply):
    scope: str  # whose cases, as the page's heading says it
    filters: AppliedFilters
    choices: Choices
    total: int  # the cases opened in the dates
    by_state: list[StateCount]
    by_step: list[Count]
    by_outcome: list[Count]
    by_round: list[Count]
    by_qualification: list[Count]
    by_committee: list[CommitteeCount]
    by_department: list[Count]
    pass_rates: list[PassRate]
    step_days: list[StepDays]
    returns: list[UnitReturns]  # the units with the most returns, most first


class StatisticsWorkbook(Reply):
    filename: str
    content_type: str


# --- the tables, as the page shows them and the workbook has them (a sheet each) ---

# count: a whole number (cases, whole days); days: one decimal place; rate: a percentage
ColumnKind = Literal["text", "count", "rate", "days", "step"]


@dataclass(frozen=True)
class Column:
    field: str  # of the table's rows
    header: str
    kind: ColumnKind = "count"


@dataclass(frozen=True)
class Table:
    key: str  # the field of Statistics holding its rows
    title: str  # the page's heading and the sheet's name (at most 31 characters)
    columns: tuple[Column, ...]
    chart: str | None = None  # the column the page's chart draws, if any


COUNT = Column("count", "申报数")

TABLES = (
    Table(
        "by_state",
        "按业务状态",
        (Column("label", "业务状态", "text"), Column("step", "流程环节", "step"), COUNT),
        "count",
    ),
    Table("by_step", "按流程环节", (Column("label", "流程环节", "text"), COUNT), "count"),
    Table("by_outcome", "办结结果", (Column("label", "办结结果", "text"), COUNT), "count"),
    Table("by_round", "按评审年度", (Column("label", "评审年度", "text"), COUNT), "count"),
    Table(
        "by_qualification",
        "按专业技术资格",
        (Column("label", "专业技术资格", "text"), COUNT),
        "count",
    ),
    Table(
        "by_committee",
        "按评委会",
        (
            Column("label", "评委会", "text"),
            COUNT,
            Column("passed", "评审通过"),
            Column("failed", "评审不通过"),
            Column("pass_rate", "评审通过率", "rate"),
        ),
        "count",
    ),
    Table(
        "by_department", "按日常工作部门", (Column("label", "日常工作部门", "text"), COUNT), "count"
    ),
    Table(
        "pass_rates",
        "评审与公示通过率",
        (
            Column("label", "项目", "text"),
            Column("passed", "通过"),
            Column("failed", "不通过"),
            Column("total", "合计"),
            Column("pass_rate", "通过率", "rate"),
        ),
        "pass_rate",
    ),
    Table(
        "step_days",
        "各环节办理用时",
        (
            Column("label", "业务状态", "text"),
            Column("step", "流程环节", "step"),
            Column("stays", "办理次数"),
            Column("average_days", "平均天数", "days"),
            Column("p90_days", "90%在（天）内办结"),
        ),
        "average_days",
    ),
    Table(
        "returns",
        "退回最多的单位",
        (
            Column("unit_name", "单位", "text"),
            Column("returns", "退回次数"),
            Column("at_acceptance", "预受理退回"),
            Column("at_review", "审核退回"),
        ),
        "returns",
    ),
)


def step_label(step: int | None) -> str:
    return "办结" if step is None else f"第{step}步"


STATISTICS_GET = Method(
    "cases",
    "statistics.get",
    StatisticsQuery,
    Statistics,
    "统计查询: the figures over the cases the asker may see (department, office, committee,"
    " sysadmin)",
)
STATISTICS_EXPORT = Method(
    "cases",
    "statistics.export",
    StatisticsQuery,
    StatisticsWorkbook,
    "The same figures as an Excel workbook, a sheet per table; audited as an export",
    returns_file=True,
)
METHODS = (STATISTICS_GET, STATISTICS_EXPORT)

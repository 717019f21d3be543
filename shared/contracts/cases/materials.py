"""The applicant's materials (申报材料): their sections, the scan categories, and what a
complete case needs. Pure: no I/O.

Each section is checked on its own (so a half-filled form can be saved: the cases service
answers a Chinese message per field); `missing_parts` names everything still missing before
the case can be submitted, for the applicant's pages and for the service's check on 填报上报.
"""

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

SECTIONS = {
    "basic": "基本信息",
    "work_history": "工作经历",
    "achievements": "业绩成果",
    "education": "继续教育",
}

SCAN_CATEGORIES = {
    "id_card": "身份证",
    "diploma": "学历证书",
    "current_title": "现职称证书",
    "achievement": "业绩证明",
    "other": "其他材料",
}
REQUIRED_SCANS = ("id_card", "diploma", "achievement")

EDUCATION_LEVELS = ("博士研究生", "硕士研究生", "大学本科", "大学专科", "中专", "高中及以下")
EXEMPTIONS = {"computer": "计算机免考", "language": "外语免考"}
EXEMPTIONS_NEEDING_PRE_APPROVAL = ("computer",)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _text(title: str, max_length: int = 100, **kwargs) -> Any:
    return Field("", title=title, max_length=max_length, **kwargs)


class Basic(Section):
    name: str = _text("姓名", 30)
    gender: str = _text("性别", 1)
    birth_date: date | None = Field(None, title="出生日期")
    id_number: str = _text("身份证号", 18)
    education: str = _text("学历/学位", 20)
    school: str = _text("毕业院校")
    major: str = _text("专业")
    graduated_on: date | None = Field(None, title="毕业时间")
    current_title: str = _text("现专业技术资格", 50)
    current_title_on: date | None = Field(None, title="现资格取得时间")
    position: str = _text("现职务", 50)
    work_started_on: date | None = Field(None, title="参加工作时间")
    years_in_field: int | None = Field(None, title="从事本专业年限", ge=0, le=60)
    exemptions: list[str] = Field(default_factory=list, title="免考情况")

    @field_validator("gender")
    @classmethod
    def _gender(cls, value: str) -> str:
        if value and value not in ("男", "女"):
            raise ValueError("性别须为男或女")
        return value

    @field_validator("education")
    @classmethod
    def _education(cls, value: str) -> str:
        if value and value not in EDUCATION_LEVELS:
            raise ValueError(f"学历须为：{'、'.join(EDUCATION_LEVELS)}")
        return value

    @field_validator("exemptions")
    @classmethod
    def _exemptions(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in EXEMPTIONS]
        if unknown:
            raise ValueError(f"未知的免考情况：{'、'.join(unknown)}")
        return value


REQUIRED_BASIC = (
    "name",
    "gender",
    "birth_date",
    "id_number",
    "education",
    "school",
    "major",
    "graduated_on",
    "position",
    "work_started_on",
    "years_in_field",
)


class WorkEntry(Section):
    start: str = _text("起始年月", 7, pattern=r"^(\d{4}-\d{2})?$")
    end: str = _text("截止年月", 7, pattern=r"^(\d{4}-\d{2}|至今)?$")
    employer: str = _text("工作单位")
    role: str = _text("职务/岗位", 50)


class WorkHistory(Section):
    entries: list[WorkEntry] = Field(default_factory=list, max_length=30)


class Achievement(Section):
    kind: str = _text("类别", 10)
    title: str = _text("题目/名称", 200)
    year: int | None = Field(None, title="年份", ge=1950, le=2100)
    note: str = _text("说明", 500)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value and value not in ("论文", "项目", "获奖", "专利", "其他"):
            raise ValueError("类别须为论文、项目、获奖、专利或其他")
        return value


class Achievements(Section):
    entries: list[Achievement] = Field(default_factory=list, max_length=50)


class Education(Section):
    hours_by_year: dict[str, int] = Field(default_factory=dict, title="各年度继续教育学时")

    @field_validator("hours_by_year")
    @classmethod
    def _hours(cls, value: dict[str, int]) -> dict[str, int]:
        for year, hours in value.items():
            if not year.isdigit() or len(year) != 4:
                raise ValueError("年度须为四位数字")
            if not 0 <= hours <= 1000:
                raise ValueError("学时须在0到1000之间")
        return value


SECTION_MODELS: dict[str, type[Section]] = {
    "basic": Basic,
    "work_history": WorkHistory,
    "achievements": Achievements,
    "education": Education,
}


def missing_parts(sections: dict[str, dict], scan_categories: set[str]) -> list[str]:
    """What still keeps the case from being submitted, named for the applicant."""
    missing = []
    basic = sections.get("basic") or {}
    empty = [Basic.model_fields[f].title for f in REQUIRED_BASIC if basic.get(f) in (None, "")]
    if empty:
        missing.append(f"基本信息（{'、'.join(empty)}）")
    if not (sections.get("work_history") or {}).get("entries"):
        missing.append("工作经历（至少一条）")
    if not (sections.get("education") or {}).get("hours_by_year"):
        missing.append("继续教育（各年度学时）")
    scans = [SCAN_CATEGORIES[c] for c in REQUIRED_SCANS if c not in scan_categories]
    if basic.get("current_title") and "current_title" not in scan_categories:
        scans.append(SCAN_CATEGORIES["current_title"])
    if scans:
        missing.append(f"扫描件（{'、'.join(scans)}）")
    return missing

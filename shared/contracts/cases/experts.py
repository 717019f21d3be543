"""The expert library's vocabulary (评审专家库): title levels, an entry's status, the form's
fields and the import file's columns. Pure: no I/O.

The rules (ID number, term, what an expert must hold to serve a committee) are the cases
service's (services/cases/domain/experts.py); these names and labels cross the boundary so
the pages and the API show what the service means.
"""

from enum import StrEnum
from typing import Literal

TitleLevel = Literal["正高", "副高", "中级", "初级"]
TITLE_LEVELS: tuple[str, ...] = ("正高", "副高", "中级", "初级")  # highest first


class ExpertStatus(StrEnum):
    label: str

    def __new__(cls, value: str, label: str) -> "ExpertStatus":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    ACTIVE = "active", "在库"
    EXPIRED = "expired", "任期届满"
    REMOVED = "removed", "出库"


# The form's fields with their labels, in the form's order (also the keys of field errors).
EXPERT_FIELD_LABELS: dict[str, str] = {
    "name": "姓名",
    "id_number": "身份证号",
    "mobile": "手机号码",
    "unit_name": "工作单位",
    "unit_id": "注册单位编号",
    "series_id": "系列",
    "speciality": "专业",
    "title_level": "职称级别",
    "joined_on": "入库日期",
    "term_ends_on": "任期届满日期",
}

# The import file's header -> the field its column fills. 系列 is given by its name there.
IMPORT_COLUMNS: dict[str, str] = {
    "姓名": "name",
    "身份证号": "id_number",
    "手机号码": "mobile",
    "工作单位": "unit_name",
    "系列": "series_id",
    "专业": "speciality",
    "职称级别": "title_level",
    "入库日期": "joined_on",
    "任期届满日期": "term_ends_on",
}
IMPORT_MAX_ROWS = 500
IMPORT_TEMPLATE_NAME = "评审专家导入模板.xlsx"

"""The accounts' words that other parts use: roles and their labels, who manages whom,
what the person forms are called.

Pure: no I/O (the cases domain imports the roles).
"""

from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    label: str  # as the pages, the history and the messages name it

    def __new__(cls, value: str, label: str) -> "Role":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    SYSADMIN = "sysadmin", "系统管理员"
    UNIT_ADMIN = "unit_admin", "单位管理员"
    UNIT_OPERATOR = "unit_operator", "单位经办人"
    APPLICANT = "applicant", "申报个人"
    DEPARTMENT = "department", "日常工作部门"
    OFFICE = "office", "专技处"
    COMMITTEE = "committee", "评委会"
    EXPERT = "expert", "评审专家"  # opened when first drawn for a meeting (docs/committee.md)


UNIT_ROLES = (Role.UNIT_ADMIN, Role.UNIT_OPERATOR)
REVIEWER_ROLES = (Role.DEPARTMENT, Role.OFFICE, Role.COMMITTEE)
WORK_ROLES = (*UNIT_ROLES, *REVIEWER_ROLES)  # those with work lists of cases

ROLE_LABELS: dict[str, str] = {role.value: role.label for role in Role}

# The people a unit manages, the accounts a manager may reach, the reviewer accounts.
PersonRole = Literal["unit_operator", "applicant"]
ManagedRole = Literal["unit_operator", "applicant", "department", "office", "committee"]
ReviewerRole = Literal["department", "office", "committee"]
UserStatus = Literal["all", "active", "disabled"]
# register: a new unit admin; reset_password: a forgotten password (the code goes to the
# account's registered mobile); change_mobile: a signed-in person's new mobile; objection:
# the mobile of someone raising an objection during 评后公示 (docs/integrity.md).
SmsPurpose = Literal["register", "reset_password", "change_mobile", "objection"]
# What a code is sent for: the purposes a person may ask for, and login (a reviewer's second
# factor), which only a correct password sends.
CodePurpose = Literal["register", "reset_password", "change_mobile", "objection", "login"]
# The accounts that confirm each sign-in with a code to their registered mobile.
SECOND_FACTOR_ROLES = frozenset({"department", "office", "committee", "expert", "sysadmin"})

# The fields of an operator's or applicant's form (and of an import file's row), named.
PERSON_FIELD_LABELS: dict[str, str] = {
    "name": "姓名",
    "id_number": "身份证号",
    "gender": "性别",
    "mobile": "手机号码",
    "email": "电子邮箱",
    "username": "用户名",
    "password": "初始密码",
}

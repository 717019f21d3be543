"""The audit trail's contract, the same in every service (docs/audit.md).

Every service keeps its own trail (`audit_log` in its schema) and answers `audit.search`
(the sysadmin's search, shared/audit.py); cases and documents also answer
`audit.case_readers` (who read or printed one case's materials, for its applicant). The
actions, with the labels the pages show, are named here once. Pure: no I/O.
"""

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from shared.contracts.accounts.vocabulary import ROLE_LABELS
from shared.contracts.base import Reply
from shared.contracts.cases.vocabulary import Action

OK, REFUSED = "ok", "refused"

# What a row records. `case.<action>` is a workflow action (one of cases' Action values).
ACTIONS: dict[str, str] = {
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.code_sent": "发送登录验证码",
    "auth.logout": "退出登录",
    "session.end": "结束登录设备",
    "account.create": "新增账户",
    "account.update": "修改账户信息",
    "account.view": "查看账户信息",
    "account.disable": "停用账户",
    "account.enable": "启用账户",
    "account.delete": "删除账户",
    "account.password_set": "管理员重置密码",
    "account.password_reset": "短信找回密码",
    "account.password_change": "修改密码",
    "account.mobile_change": "修改手机号码",
    "unit.register": "单位注册",
    "unit.talent_sync": "人才引进系统同步单位",
    "case.view": "查看申报材料",
    "file.read": "查看扫描件",
    "document.read": "查看 PDF 文档",
    "print.request": "提交打印",
    "print.done": "打印完成",
    "export": "导出",  # a download of data as a file (the statistics' workbook, …)
    "audit.purge": "清理过期审计记录",
    # part 2 of issue 14 writes these (docs/audit.md)
    "personal.unmask": "显示完整号码",
    "auth.new_address": "新地址登录",
    # the expert library and the review meetings' own steps (issue 12; docs/audit.md)
    "expert.create": "新增评审专家",
    "expert.update": "修改评审专家信息",
    "expert.retire": "评审专家出库",
    "expert.import": "导入评审专家",
    "meeting.create": "新建评审会议",
    "meeting.assign": "分配申报到评审会议",
    "meeting.unassign": "从评审会议移出申报",
    "meeting.cancel": "取消评审会议",
    "meeting.draw": "抽取评审专家",
    "meeting.replace": "专家请假，候补专家递补",
    "meeting.conflict": "登记回避",
    "meeting.open_voting": "登记出席并开始表决",
    "meeting.close_voting": "结束表决",
    # the holiday calendar (docs/reports.md "Deadlines and reminders")
    "holiday.save_year": "保存节假日安排通知",
    "holiday.remove_year": "删除年度节假日安排",
    "holiday.add_day": "录入节假日",
    "holiday.remove_day": "删除节假日",
    **{f"case.{a.value}": f"办理：{a.verb}" for a in Action},
}

# What the applicant is shown of their case: reads and prints by anyone but themselves.
READER_ACTIONS: dict[str, str] = {
    "case.view": "查看申报材料",
    "file.read": "查看扫描件",
    "document.read": "查看 PDF 文档",
    "print.done": "打印",
    "personal.unmask": "显示完整号码",
}

OBJECT_TYPES: dict[str, str] = {
    "user": "账户",
    "session": "登录会话",
    "unit": "单位",
    "case": "申报业务",
    "file": "扫描件",
    "document": "PDF 文档",
    "print_job": "打印任务",
    "export": "导出任务",
    "audit_log": "审计日志",
    "enrolment": "参保登记",
    "expert": "评审专家",
    "expert_library": "评审专家库",
    "meeting": "评审会议",
    "meeting_member": "评审会议专家",
    "certificate": "职称电子证书",
    "discredit": "失信记录",
    "objection": "异议",
    "delivery": "短信",
    "holiday": "节假日安排",
    "statistics": "统计查询",
}


SERVICE_LABELS = {"accounts": "账户", "cases": "申报业务", "documents": "文档", "notify": "通知"}
OUTCOME_LABELS = {"ok": "成功", "refused": "被拒绝"}
ACTOR_LABELS = {  # who a row's actor was: a role, or one of those without an account
    **ROLE_LABELS,
    "anonymous": "未登录",
    "system": "系统命令",
    "talent": "人才引进系统",
}


def action_label(action: str) -> str:
    return ACTIONS.get(action, action)


class AuditSearch(BaseModel):
    """The sysadmin's search; every filter given must hold. Paging is by position: the rows
    before (`before_at`, `before_seq`) in the order (at, seq) descending."""

    person: str = Field("", max_length=64)  # a user id or a username: who acted, or was acted on
    object: str = Field("", max_length=100)  # an id, a case number or a username
    object_type: str = Field("", max_length=32)
    case_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)  # rows about these
    action: str = Field("", max_length=64)  # an action, or a prefix ending in "." (account.)
    outcome: Literal["", "ok", "refused"] = ""
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None  # exclusive
    before_at: AwareDatetime | None = None
    before_seq: int | None = Field(None, ge=0)
    limit: int = Field(50, ge=1, le=200)


class AuditRow(Reply):
    service: str
    seq: int
    at: str
    actor_id: str | None
    actor_username: str
    actor_name: str
    actor_role: str
    actor_unit_id: str | None
    actor_org_id: str | None
    actor_org_name: str
    session_id: str | None
    client_address: str
    request_id: str | None
    action: str
    action_label: str
    object_type: str
    object_id: str
    object_label: str
    case_ids: list[str]
    outcome: Literal["ok", "refused"]
    code: str | None
    details: dict


class AuditPage(Reply):
    service: str
    rows: list[AuditRow]
    more: bool  # rows beyond these match too
    cases: list[str]  # cases whose number is `object` (the cases service only)


class CaseReadersRef(BaseModel):
    case_id: uuid.UUID


class Reader(Reply):
    """Someone who read or printed the case's materials, as its applicant sees them: no
    address, no account name."""

    at: str
    action: str
    action_label: str
    name: str
    role: str
    organisation: str
    what: str  # the scan's or document's name, the print job's kind


class CaseReaders(Reply):
    readers: list[Reader]

"""What the case pages share and compute without I/O: list URLs, the unit's ten steps, which
buttons a list or a row gets, action forms to inputs and back, and batch result messages.

The vocabulary (state labels, action verbs, which action takes which inputs, the work
lists, the document kinds) is the contracts' (shared/contracts/), imported rather than
repeated.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from shared.contracts.cases.inputs import (
    ACTION_INPUTS,
    ApproveInput,
    NoInput,
    OptionalReasonInput,
    PublicityResultInput,
    ReasonInput,
    ReturnInput,
    StartPublicityInput,
)
from shared.contracts.cases.vocabulary import (
    SELECTION_ACTIONS,
    TRANSITIONS,
    Action,
    AssessmentResult,
    CaseState,
    return_targets_of,
)
from shared.contracts.cases.work_lists import LIST_FILTERS, LIST_SORTS, WorkList
from shared.contracts.documents.vocabulary import KINDS as DOCUMENT_KINDS

SHENZHEN = ZoneInfo("Asia/Shanghai")

# The actions a list offers on its ticked rows (功能按钮): what case.batch takes, printing the
# declaration form among them (manual §2.6: a selection prints as one document), but for
# 审核同意, which the 材料审核 list takes one case at a time: each applicant's form has their
# own 年度考核结果 (the API approves a selection with one form).
LIST_SELECTION_ACTIONS = SELECTION_ACTIONS - {Action.APPROVE}

# which form an action's inputs need
FORM_KINDS = {
    NoInput: "none",
    ApproveInput: "approve",
    ReasonInput: "reason",
    OptionalReasonInput: "optional_reason",
    ReturnInput: "return",
    StartPublicityInput: "publicity_start",
    PublicityResultInput: "publicity_result",
}
ASSESSMENT_CHOICES = tuple(result.value for result in AssessmentResult)
RETURN_TARGETS = {
    CaseState.DEPT_SUBMIT_READY: "退回单位（待上报日常工作部门）",
    CaseState.DRAFT: "退回申报人（待填报上报，需重新填报）",
    CaseState.FORM_PRINT_READY: "退回单位（待打印评审(申报)表）",
}
REASON_LABELS = {
    Action.REJECT: "审核不同意的原因",
    Action.REFUSE: "不予受理的原因",
    Action.DENY_PRE_APPROVAL: "前置审批不同意的原因",
    Action.RETURN: "退回原因",
    Action.FAIL_REVIEW: "评审不通过的说明",
    Action.WITHDRAW: "撤回说明",
    Action.CONFIRM: "确认说明",
    Action.CANCEL: "取消原因",
}


def form_kind(action: Action) -> str:
    return FORM_KINDS[ACTION_INPUTS[action]]


def parse_action(name: str) -> Action | None:
    try:
        return Action(name)
    except ValueError:
        return None


def valid_ids(values) -> list[str]:
    """The well-formed case ids among posted values, each once, in order."""
    ids = []
    for value in values:
        try:
            ids.append(str(uuid.UUID(str(value))))
        except ValueError:
            continue
    return list(dict.fromkeys(ids))


# --- work lists in URLs: unit:3 is /work/unit-3 ---


def slug_of(key: str) -> str:
    return key.replace(":", "-", 1)


def key_of(slug: str) -> str:
    return slug.replace("-", ":", 1)


def work_url(key: str, **query) -> str:
    shown = {k: v for k, v in query.items() if v not in ("", None)}
    return f"/work/{slug_of(key)}" + (f"?{urlencode(shown)}" if shown else "")


def list_heading(work: WorkList) -> str:
    if work.key.startswith("unit:"):
        return f"{work.key.split(':')[1]} {work.title}"
    return work.title


REVIEWER_NOTES = {
    "department:acceptance": "单位提交的申报：预受理通过、退回或不予受理",
    "department:review": "已打印评审(申报)表的申报：审核通过后提交评委会，或退回单位",
    "department:post_publicity": "评委会评审通过的申报：发起评后公示",
    "department:confirm": "单位已填写评后公示意见：确认办结",
    "office:approval": "需专技处前置审批的申报（破格申报、创新型人才、计算机免考等）",
    "committee:review": "日常工作部门提交评审的申报：评审通过或不通过",
}


# --- a work list's query string ---

FILTERS = LIST_FILTERS
SORTS = LIST_SORTS


def list_query(query) -> dict:
    """The list's query string, cleaned: anything odd falls back to its default."""
    params = {name: query.get(name, "").strip()[:50] for name in FILTERS}
    if params["state"] not in {s.value for s in CaseState}:
        params["state"] = ""
    params["overdue"] = "1" if params["overdue"] == "1" else ""
    params["tab"] = "done" if query.get("tab") == "done" else "todo"
    params["sort"] = query.get("sort") if query.get("sort") in SORTS else "updated"
    page = query.get("page", "")
    params["page"] = int(page) if page.isdecimal() and 0 < int(page) < 100_000 else 1
    size = query.get("page_size", "")
    params["page_size"] = int(size) if size.isdecimal() and 0 < int(size) <= 100 else 20
    return params


# --- the unit home's ten steps (manual §2.1) ---


@dataclass(frozen=True)
class Step:
    no: int
    title: str
    text: str
    list_key: str | None  # None for step 1, which is the applicants page
    counted: bool  # a step the unit acts on: its count shows as [n]

    @property
    def units(self) -> bool:
        """The unit's own step (2 and 8 are the applicant's and the committee's)."""
        return self.no not in (2, 8)


UNIT_FLOW = (
    Step(1, "新增申报人员", "增加、修改或停用申报人员账号", None, False),
    Step(2, "个人填报材料", "申报人填写材料并上报（非单位环节）", "unit:2", False),
    Step(3, "材料审核", "对申报人员的材料进行初核", "unit:3", True),
    Step(4, "打印评前公示材料", "确定公示时间，打印公示名单和登记表", "unit:4", True),
    Step(5, "填写评前公示意见", "公示期满后录入评前公示意见", "unit:5", True),
    Step(6, "提交日常工作部门", "提交日常工作部门审核，受理前可撤回", "unit:6", True),
    Step(7, "打印评审(申报)表", "打印评审(申报)表，盖章递交", "unit:7", True),
    Step(8, "评委评审", "评委会评审（非单位环节）", "unit:8", False),
    Step(9, "打印评后公示材料", "打印评审通过人员名单并公示", "unit:9", True),
    Step(10, "填写评后公示意见", "公示期满后录入评后公示意见", "unit:10", True),
)


def unit_flow(
    counts: dict[str, int] | None,
    current: str | None = None,
    overdue: dict[str, int] | None = None,
) -> list[dict]:
    """The steps for the template; counts None when the cases service did not answer;
    `overdue`: of each list's cases, those past their step time limit."""
    steps = []
    for step in UNIT_FLOW:
        count = None
        if counts is not None and step.list_key:
            count = counts.get(step.list_key, 0)
        late = (overdue or {}).get(step.list_key, 0) if step.list_key else 0
        steps.append(
            {
                "no": step.no,
                "title": step.title,
                "text": step.text,
                "url": work_url(step.list_key) if step.list_key else "/unit/applicants",
                "count": count,
                "overdue": late,
                "overdue_url": work_url(step.list_key, overdue="1") if late else "",
                "counted": step.counted,
                "units": step.units,
                "current": step.list_key is not None and step.list_key == current,
            }
        )
    return steps


# --- buttons ---


def selection_actions(work: WorkList, tab: str) -> list[Action]:
    if tab != "todo":
        return []
    return [a for a in work.actions if a in LIST_SELECTION_ACTIONS]


def row_actions(work: WorkList, state: str) -> list[Action]:
    """This step's single-case actions that the row's case allows now (撤回 in 已办 too)."""
    allowed = TRANSITIONS[CaseState(state)]
    return [a for a in work.actions if a not in LIST_SELECTION_ACTIONS and a in allowed]


# A committee decides by its meetings' votes; only one the sysadmin marked as recording
# results reached outside the system keeps these buttons, and they say so.
OUTSIDE_RESULT_LABELS = {
    Action.PASS_REVIEW: "评审通过（系统外评审结果）",
    Action.FAIL_REVIEW: "评审不通过（系统外评审结果）",
}


def button_label(action: Action) -> str:
    return OUTSIDE_RESULT_LABELS.get(action, action.verb)


def action_button(case_id: str, action: Action) -> dict:
    return {
        "value": action.value,
        "verb": button_label(action),
        "form": form_kind(action) != "none",
        "url": f"/cases/{case_id}/act/{action.value}",
        "danger": action in DANGEROUS,
    }


DANGEROUS = frozenset(
    {
        Action.REJECT,
        Action.REFUSE,
        Action.DENY_PRE_APPROVAL,
        Action.FAIL_REVIEW,
        Action.RETURN,
        Action.WITHDRAW,
        Action.CANCEL,
    }
)


# --- printing (manual §2.3-2.8): which list prints what, and what a start action prints ---

DOCUMENT_LABELS = {key: kind.label for key, kind in DOCUMENT_KINDS.items()}
LIST_DOCUMENTS = {
    "unit:4": ("pre_publicity_roster", "registration_form"),
    "unit:5": ("pre_publicity_report",),
    "unit:7": ("declaration_form", "registration_form"),
    "unit:9": ("post_publicity_roster",),
    "unit:10": ("post_publicity_report",),
}
# Starting a publicity fixes its dates; the roster to post up is printed right after.
PRINTED_AFTER = {
    Action.START_PRE_PUBLICITY: "pre_publicity_roster",
    Action.START_POST_PUBLICITY: "post_publicity_roster",
}
# The 评审(申报)表 is printed, not just marked: the documents service moves the case on
# once the PDF exists (manual §2.6).
PRINTED_BY = {Action.PRINT_DECLARATION_FORM: "declaration_form"}


def print_buttons(kinds) -> list[dict]:
    return [{"kind": k, "label": f"打印{DOCUMENT_LABELS[k]}"} for k in kinds]


def list_print_buttons(list_key: str) -> list[dict]:
    """The 已办业务 tab's 打印 buttons (reprints any time after the step)."""
    return print_buttons(LIST_DOCUMENTS.get(list_key, ()))


# --- action forms: typed values to the action's inputs, the service's errors to fields ---


def _text(values: dict, name: str) -> str:
    # A browser sends a textarea's line breaks as CRLF; count them as one character, as shown.
    return (values.get(name) or "").replace("\r\n", "\n").strip()


def year_field(year: int) -> str:
    return f"year_{year}"


def inputs_from(action: Action, values: dict, years: list[int] = ()) -> dict:
    kind = form_kind(action)
    if kind == "approve":
        return {
            "negative_situation": _text(values, "negative_situation"),
            "annual_assessments": {
                str(y): values[year_field(y)] for y in years if values.get(year_field(y))
            },
            "evaluation": _text(values, "evaluation"),
            "continuing_education_opinion": _text(values, "continuing_education_opinion"),
        }
    if kind in ("reason", "optional_reason"):
        return {"reason": _text(values, "reason")}
    if kind == "return":
        return {"reason": _text(values, "reason"), "target": values.get("target") or None}
    if kind == "publicity_start":
        return {
            "start": values.get("start") or None,
            "method": _text(values, "method"),
            "contact": _text(values, "contact"),
        }
    if kind == "publicity_result":
        inputs = {"feedback": _text(values, "feedback")}
        passed = {"1": True, "0": False}.get(values.get("passed", ""))
        if passed is not None:
            inputs["passed"] = passed
        return inputs
    return {}


def form_errors(fields: dict | None, values: dict, years: list[int] = ()) -> dict[str, str]:
    """The service's field messages under the form's field names."""
    errors = {}
    for key, message in (fields or {}).items():
        if key.startswith("annual_assessments."):
            errors[year_field(key.split(".", 1)[1])] = message
        else:
            errors[key] = message
    if "annual_assessments" in errors:
        for year in years:
            if not values.get(year_field(year)):
                errors.setdefault(year_field(year), f"请选择{year}年度考核结果")
    return errors


def return_targets(state: str) -> list[tuple[str, str]]:
    targets = return_targets_of(CaseState(state))
    return [(t.value, RETURN_TARGETS[t]) for t in RETURN_TARGETS if t in targets]


# --- messages ---

FLASH_LIMIT = 290


def done_message(action: Action, result: dict) -> str:
    return f"已办理“{action.verb}”：{result['name']}，当前业务状态：{result['status_label']}"


def history_note(entry: dict) -> str:
    """What a history row adds to its reason: a meeting's tally (for those who may see it; the
    unit and the applicant get the result only), or that a result was reached outside."""
    inputs = entry.get("inputs") or {}
    vote = inputs.get("vote")
    if vote is not None:
        if "agree" not in vote:
            return "评审会议表决结果"
        result = "通过" if vote["passed"] else "未通过"
        return (
            f"评审会议表决：出席 {vote['present']} 人，可表决 {vote['eligible']} 人，"
            f"同意 {vote['agree']}，不同意 {vote['disagree']}，弃权 {vote['abstain']}（{result}）"
        )
    if inputs.get("recorded_outside"):
        return "录入系统外评审结果"
    return ""


def batch_message(action: Action, result: dict) -> tuple[str, str]:
    """'开始打印评前公示材料：已办理 2 件；1 件未办理：张三（…）' and the flash kind."""
    failed = [r for r in result["results"] if not r["ok"]]
    text = f"{action.verb}：已办理 {result['done']} 件"
    if failed:
        by_reason: dict[str, list[str]] = {}
        for r in failed:
            name = r.get("name") or "无权办理的业务"
            by_reason.setdefault(r["error"]["message"], []).append(name)
        groups = [f"{'、'.join(names)}（{reason}）" for reason, names in by_reason.items()]
        text += f"；{len(failed)} 件未办理：" + "；".join(groups)
    if len(text) > FLASH_LIMIT:
        text = text[: FLASH_LIMIT - 1] + "…"
    kind = "success" if not failed else "error" if not result["done"] else "info"
    return text, kind


def same_input_problem(result: dict) -> dict | None:
    """When nothing moved and every case refused the same typed inputs: that error, for the form."""
    errors = [r["error"] for r in result["results"] if not r["ok"]]
    if result["done"] or not errors:
        return None
    if all(e["code"] == "invalid_input" and e.get("fields") for e in errors):
        if all(e["fields"] == errors[0]["fields"] for e in errors):
            return errors[0]
    return None


def local_time(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(SHENZHEN).strftime("%Y-%m-%d %H:%M")

"""The system administrator's reference data (基础数据): review rounds, review types,
committees, departments, series and their qualifications.

Read with ref.all and saved with ref.save_*; the cases service checks each value. The service
words its field errors in pydantic's English, so they are put into Chinese here, by field.
"""

import re
from dataclasses import dataclass

from aiohttp import web

from gateway.auth import login_required
from gateway.web import call, form_page, render, see_other, shows_on_form
from shared.contracts.base import Method
from shared.contracts.cases import rpc as cases_rpc
from shared.rpc import RpcError

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
REF_ID = "{ref_id:[A-Za-z0-9_-]{1,40}}"
KIND = "{kind:rounds|review-types|committees|departments|series|qualifications}"

sysadmin_only = login_required("sysadmin")


@dataclass(frozen=True)
class Kind:
    key: str  # the URL segment
    noun: str
    table: str  # its list in ref.all
    method: Method  # its ref.save_*
    labels: dict[str, str]  # every field the form posts, with its label
    flags: tuple[str, ...] = ()  # checkboxes
    optional: tuple[str, ...] = ()  # left empty: the service's default
    choices: tuple[str, ...] = ()  # picked from a list, not typed
    new_values: tuple[tuple[str, str], ...] = ()
    section: str = ""  # its part of the index page, if not named as its URL segment

    @property
    def anchor(self) -> str:
        return self.section or self.key


KINDS = {
    "rounds": Kind(
        "rounds",
        "评审年度",
        "rounds",
        cases_rpc.REF_SAVE_ROUND,
        {
            "id": "编号",
            "name": "名称",
            "opens_on": "申报开始日期",
            "closes_on": "申报截止日期",
            "pre_publicity_days": "评前公示工作日数",
            "post_publicity_days": "评后公示工作日数",
            "evaluation_max_length": "单位综合评价意见字数上限",
            "active": "启用",
        },
        flags=("active",),
        new_values=(
            ("pre_publicity_days", "5"),
            ("post_publicity_days", "5"),
            ("evaluation_max_length", "200"),
            ("active", "on"),
        ),
    ),
    "review-types": Kind(
        "review-types",
        "评审类型",
        "review_types",
        cases_rpc.REF_SAVE_REVIEW_TYPE,
        {"id": "编号", "name": "名称", "needs_pre_approval": "需专技处前置审批"},
        flags=("needs_pre_approval",),
    ),
    "committees": Kind(
        "committees",
        "评委会",
        "committees",
        cases_rpc.REF_SAVE_COMMITTEE,
        {
            "id": "编号",
            "name": "名称",
            "department_id": "日常工作部门",
            "qualification_ids": "评审的专业技术资格",
            "active": "启用",
        },
        flags=("active",),
        choices=("department_id", "qualification_ids"),
        new_values=(("active", "on"),),
    ),
    "departments": Kind(
        "departments",
        "日常工作部门",
        "departments",
        cases_rpc.REF_SAVE_DEPARTMENT,
        {"id": "编号", "name": "名称"},
    ),
    "series": Kind(
        "series",
        "系列",
        "series",
        cases_rpc.REF_SAVE_SERIES,
        {"id": "编号", "name": "名称", "position": "排序"},
        optional=("position",),
    ),
    "qualifications": Kind(
        "qualifications",
        "专业技术资格",
        "qualifications",
        cases_rpc.REF_SAVE_QUALIFICATION,
        {"id": "编号", "series_id": "系列", "name": "名称", "level": "级别", "position": "排序"},
        optional=("position",),
        choices=("series_id", "level"),
        section="series",
    ),
}
LEVELS = ("正高", "副高", "中级", "初级")

# pydantic's English messages -> Chinese, by what they say; {label} is the field's label
MESSAGES = (
    (re.compile(r"at least 1 character"), "请填写{label}"),
    (re.compile(r"at most (\d+) characters?"), "{label}不能超过{0}个字"),
    (re.compile(r"greater than or equal to (\d+)"), "{label}不能小于{0}"),
    (re.compile(r"less than or equal to (\d+)"), "{label}不能大于{0}"),
    (re.compile(r"valid integer"), "{label}须为整数"),
    (re.compile(r"date"), "{label}须为有效日期，格式为 YYYY-MM-DD"),
    (re.compile(r"at least 1 item"), "请至少选择一项{label}"),
    (re.compile(r"Field required"), "请填写{label}"),
    (re.compile(r"Input should be '"), "请选择{label}"),
)
CJK = re.compile(r"[\u4e00-\u9fff]")


@sysadmin_only
async def index(request: web.Request) -> web.Response:
    reference = await call(request, cases_rpc.REF_ALL)
    return render(request, "reference/index.html", _listing(reference))


def _listing(reference: dict) -> dict:
    departments = {d["id"]: d["name"] for d in reference["departments"]}
    qualifications = {q["id"]: q["name"] for q in reference["qualifications"]}
    committees = [
        {
            **c,
            "department": departments.get(c["department_id"], c["department_id"]),
            "qualification_names": [qualifications.get(q, q) for q in c["qualification_ids"] if q],
        }
        for c in reference["committees"]
    ]
    series = [
        {
            **one,
            "qualifications": [
                {
                    **q,
                    "committees": [
                        c["name"] for c in committees if q["id"] in c["qualification_ids"]
                    ],
                }
                for q in reference["qualifications"]
                if q["series_id"] == one["id"]
            ],
        }
        for one in reference["series"]
    ]
    departments_listed = [
        {**d, "committees": [c["name"] for c in committees if c["department_id"] == d["id"]]}
        for d in reference["departments"]
    ]
    return {
        **reference,
        "committees": committees,
        "series": series,
        "departments": departments_listed,
    }


@sysadmin_only
async def new_page(request: web.Request) -> web.Response:
    kind = KINDS[request.match_info["kind"]]
    reference = await call(request, cases_rpc.REF_ALL)
    # ?series_id=… from a series' 新增 link; lists (qualification_ids) are not preset
    singles = [name for name in kind.choices if not name.endswith("_ids")]
    preset = {name: request.query[name] for name in singles if name in request.query}
    return _form(request, kind, reference, dict(kind.new_values) | preset, None)


@sysadmin_only
async def edit_page(request: web.Request) -> web.Response:
    kind = KINDS[request.match_info["kind"]]
    reference = await call(request, cases_rpc.REF_ALL)
    item = _item(reference, kind, request.match_info["ref_id"])
    values = {name: _shown(item.get(name)) for name in kind.labels}
    return _form(request, kind, reference, values, item)


@sysadmin_only
async def save(request: web.Request) -> web.Response:
    kind = KINDS[request.match_info["kind"]]
    reference = await call(request, cases_rpc.REF_ALL)
    ref_id = request.match_info.get("ref_id")
    item = _item(reference, kind, ref_id) if ref_id else None
    posted = await request.post()
    values = _values(kind, posted, item)
    try:
        _check(kind, reference, values, item)
        await call(request, kind.method, _params(kind, values))
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return _form(request, kind, reference, values, item, _in_chinese(kind, error))
    done = "保存" if item else "新增"
    message = f"已{done}{kind.noun}：{values['name']}（编号 {values['id']}）"
    return see_other(request, f"/admin/reference#{kind.anchor}", message)


def _item(reference: dict, kind: Kind, ref_id: str) -> dict:
    for item in reference[kind.table]:
        if item["id"] == ref_id:
            return item
    raise RpcError("not_found", f"{kind.noun}不存在", 404)


def _shown(value) -> str | list:
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, list):
        return [v for v in value if v]
    return "" if value is None else str(value)


def _values(kind: Kind, posted, item: dict | None) -> dict:
    values: dict = {}
    for name in kind.labels:
        if name == "qualification_ids":
            values[name] = [str(v) for v in posted.getall(name, [])]
        elif name in kind.flags:
            values[name] = "on" if posted.get(name) else ""
        else:
            values[name] = str(posted.get(name, "")).strip()
    if item:
        values["id"] = item["id"]  # an edit never renames
    return values


def _check(kind: Kind, reference: dict, values: dict, item: dict | None) -> None:
    """What only the page knows: the id must be new and fit in a URL; nothing left empty."""
    errors = {}
    for name, label in kind.labels.items():
        if name not in kind.flags + kind.optional and not values[name]:
            errors[name] = f"请{'选择' if name in kind.choices else '填写'}{label}"
    if item is None and values["id"] and not errors.get("id"):
        if not ID_PATTERN.match(values["id"]):
            errors["id"] = "编号只能由字母、数字、“-”和“_”组成，不超过40个字符"
        elif any(other["id"] == values["id"] for other in reference[kind.table]):
            errors["id"] = f"编号 {values['id']} 已被使用，请换一个"
    if errors:
        raise RpcError("invalid_input", "信息有误，请按提示修改", 422, errors)


def _params(kind: Kind, values: dict) -> dict:
    params = {
        name: value == "on" if name in kind.flags else value for name, value in values.items()
    }
    return {name: v for name, v in params.items() if v != "" or name not in kind.optional}


def _in_chinese(kind: Kind, error: RpcError) -> RpcError:
    fields = {}
    for key, message in error.fields.items():
        name = key.split(".")[0]
        label = kind.labels.get(name, name)
        fields[name] = message if CJK.search(message) else _translate(message, label)
    message = error.message if CJK.search(error.message) else "信息有误，请按提示修改"
    return RpcError(error.code, message, error.status, fields)


def _translate(message: str, label: str) -> str:
    for pattern, text in MESSAGES:
        found = pattern.search(message)
        if found:
            return text.format(*found.groups(), label=label)
    return f"{label}填写有误"


def _form(
    request: web.Request,
    kind: Kind,
    reference: dict,
    values: dict,
    item: dict | None,
    error: RpcError | None = None,
) -> web.Response:
    context = {
        "kind": kind,
        "item": item,
        "departments": reference["departments"],
        "series": [
            {
                **s,
                "qualifications": [
                    q for q in reference["qualifications"] if q["series_id"] == s["id"]
                ],
            }
            for s in reference["series"]
        ],
        "chosen": set(values.get("qualification_ids") or []),
        "levels": LEVELS,
    }
    template = f"reference/{kind.key.replace('-', '_')}_form.html"
    return form_page(request, template, values, error, **context)


def setup_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/admin/reference", index, name="admin_reference")
    add("GET", f"/admin/reference/{KIND}/new", new_page, name="admin_reference_new")
    add("POST", f"/admin/reference/{KIND}/new", save)
    add("GET", f"/admin/reference/{KIND}/{REF_ID}/edit", edit_page, name="admin_reference_edit")
    add("POST", f"/admin/reference/{KIND}/{REF_ID}/edit", save)

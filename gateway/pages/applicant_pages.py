"""The applicant's pages (申报个人): my cases, a new case, one case, its four sections, scans.

The cases service decides what the applicant may see and change: every page first reads the
case through it (someone else's case is a 404), and a case no longer in draft answers 409 to
any change. The materials are checked there too; these pages only carry what was typed.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiMapping

from gateway.api_cases import open_for_applicant, upload_scan
from gateway.auth import login_required
from gateway.pages.case_forms import history_note
from gateway.pages.certificate_pages import certificate_of
from gateway.web import call, form_of, form_page, pick, render, see_other, shows_on_form
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.cases.materials import (
    EDUCATION_LEVELS,
    EXEMPTIONS,
    REQUIRED_BASIC,
    REQUIRED_SCANS,
    SCAN_CATEGORIES,
    SECTIONS,
    Achievement,
    Basic,
    WorkEntry,
    missing_parts,
)
from shared.contracts.documents.vocabulary import not_printable
from shared.rpc import RpcError

LOCAL = ZoneInfo("Asia/Shanghai")
CASE_ID = "{case_id:[0-9a-fA-F-]{36}}"
SECTION = "{section:" + "|".join(SECTIONS) + "}"
CHOICES = ("round_id", "review_type_id", "committee_id", "qualification_id")
BLANK_ROWS = 3  # without JavaScript: this many empty rows under the filled ones
EDUCATION_YEARS = 5  # continuing education: the years before the round's
DATE_FIELDS = {"birth_date", "graduated_on", "current_title_on", "work_started_on"}
INT_FIELDS = {"years_in_field"}
MAX_UPLOAD_MB = 10

applicant_only = login_required("applicant")


@dataclass(frozen=True)
class Column:
    name: str
    title: str
    kind: str = "text"  # text | select | int
    options: tuple[str, ...] = ()
    placeholder: str = ""  # its width is the stylesheet's (applicant.css, th.col-<name>)


TABLES = {
    "work_history": (
        Column("start", WorkEntry.model_fields["start"].title, placeholder="如 2015-07"),
        Column("end", WorkEntry.model_fields["end"].title, placeholder="如 至今"),
        Column("employer", WorkEntry.model_fields["employer"].title),
        Column("role", WorkEntry.model_fields["role"].title),
    ),
    "achievements": (
        Column(
            "kind",
            Achievement.model_fields["kind"].title,
            "select",
            ("论文", "项目", "获奖", "专利", "其他"),
        ),
        Column("title", Achievement.model_fields["title"].title),
        Column("year", Achievement.model_fields["year"].title, "int"),
        Column("note", Achievement.model_fields["note"].title),
    ),
}
TABLE_HINTS = {
    "work_history": (
        "从参加工作起按时间顺序填写，年月格式为 YYYY-MM（如 2015-07），至今任职的截止年月填“至今”。"
    ),
    "achievements": (
        "论文、项目、获奖、专利等，每项一行；年份为发表、立项或获奖的年份。"
        "业绩证明请在申报页上传扫描件。"
    ),
}
# a section on the case page: complete (None: optional), started, summary, what is missing
STATE_FIELDS = ("complete", "started", "summary", "missing")


# --- my cases and a new case ---


@applicant_only
async def my_cases(request: web.Request) -> web.Response:
    return render(request, "applicant/my_cases.html", {"items": await mine(request)})


async def mine(request: web.Request) -> list[dict]:
    """The applicant's cases, newest first."""
    items = (await call(request, cases_rpc.CASE_MINE))["items"]
    return [{**item, "updated": _local(item["updated_at"])} for item in items]


async def home_cases(request: web.Request) -> list[dict] | None:
    """For the home page, which still opens (saying so) when the cases service is away."""
    try:
        return await mine(request)
    except RpcError as error:
        if error.status < 500:
            raise
        return None


@applicant_only
async def new_case_page(request: web.Request) -> web.Response:
    reference = await call(request, cases_rpc.REF_ALL)
    values = {"round_id": _default_round(reference["rounds"])}
    return form_page(request, "applicant/new_case.html", values, **_choices(reference))


@applicant_only
async def new_case(request: web.Request) -> web.Response:
    form = await form_of(request)
    choices = pick(form, CHOICES)
    reference = await call(request, cases_rpc.REF_ALL)
    try:
        _check_choices(reference, choices)
        opened = await open_for_applicant(request, choices)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "applicant/new_case.html", form, error, **_choices(reference))
    names = _names(reference)
    message = (
        f"已新建申报：{names['qualifications'][choices['qualification_id']]}"
        f"（{names['rounds'][choices['round_id']]}），请填写申报材料并上传扫描件"
    )
    return see_other(request, f"/my/cases/{opened['case_id']}", message)


def _check_choices(reference: dict, choices: dict) -> None:
    """What the page can tell at once; the cases service checks again (and the dates)."""
    names = _names(reference)
    errors = {}
    for key, noun, table in (
        ("round_id", "评审年度", "rounds"),
        ("review_type_id", "评审类型", "review_types"),
        ("committee_id", "评委会", "committees"),
        ("qualification_id", "申报的专业技术资格", "qualifications"),
    ):
        if choices[key] not in names[table]:
            errors[key] = f"请选择{noun}"
    committee = next(
        (c for c in reference["committees"] if c["id"] == choices["committee_id"]), None
    )
    if committee and not errors.get("qualification_id"):
        if choices["qualification_id"] not in (committee["qualification_ids"] or []):
            errors["qualification_id"] = f"{committee['name']}不评审所选的专业技术资格"
    if errors:
        raise RpcError("invalid_input", "请按提示选择后再新建申报", 422, errors)


def _names(reference: dict) -> dict[str, dict[str, str]]:
    return {
        "rounds": {r["id"]: r["name"] for r in reference["rounds"] if r["active"]},
        "review_types": {t["id"]: t["name"] for t in reference["review_types"]},
        "committees": {c["id"]: c["name"] for c in reference["committees"] if c["active"]},
        "qualifications": {q["id"]: q["name"] for q in reference["qualifications"]},
    }


def _default_round(rounds: list[dict]) -> str:
    today = date.today().isoformat()
    active = [r for r in rounds if r["active"]]
    current = [r for r in active if r["opens_on"] <= today <= r["closes_on"]]
    return (current or active or [{"id": ""}])[0]["id"]


def _choices(reference: dict) -> dict:
    departments = {d["id"]: d["name"] for d in reference["departments"]}
    qualification_names = {q["id"]: q["name"] for q in reference["qualifications"]}
    committees = [
        {
            **c,
            "department": departments.get(c["department_id"], ""),
            "qualification_ids": [q for q in c["qualification_ids"] or [] if q],
            "qualification_names": [
                qualification_names.get(q, q) for q in c["qualification_ids"] or [] if q
            ],
        }
        for c in reference["committees"]
        if c["active"]
    ]
    reviewed_by: dict[str, list[str]] = {}
    for committee in committees:
        for qid in committee["qualification_ids"]:
            reviewed_by.setdefault(qid, []).append(committee["id"])
    # Only what some open committee reviews can be declared: the rest is not offered at all.
    series = [
        {
            "name": s["name"],
            "qualifications": [
                {**q, "committees": reviewed_by[q["id"]]}
                for q in reference["qualifications"]
                if q["series_id"] == s["id"] and q["id"] in reviewed_by
            ],
        }
        for s in reference["series"]
    ]
    return {
        "rounds": [r for r in reference["rounds"] if r["active"]],
        "review_types": reference["review_types"],
        "committees": committees,
        "series": [s for s in series if s["qualifications"]],
    }


# --- one case: the overview, scans, submit and cancel ---


async def _case(request: web.Request) -> dict:
    return await call(request, cases_rpc.CASE_GET, {"case_id": request.match_info["case_id"]})


@applicant_only
async def case_page(request: web.Request) -> web.Response:
    case = await _case(request)
    return _overview(request, case, certificate=await certificate_of(request, case, holder=True))


def _overview(
    request: web.Request,
    case: dict,
    error: RpcError | None = None,
    *,
    upload_error: tuple[str, str] | None = None,
    submit_error: str | None = None,
    cancel_error: tuple[str, str] | None = None,
    certificate: dict | None = None,
) -> web.Response:
    """The case; an error goes beside the upload, the submit button or the cancel reason it is
    about, else on top."""
    status = error.status if error else 200
    placed = upload_error or submit_error or cancel_error
    context = {
        "case": case,
        "editable": case["state"] == "draft",
        "sections": _section_states(case["sections"]),
        "scans": _scan_groups(case),
        "scan_usage": _scan_usage(case),
        "missing": missing_parts(case["sections"], {a["category"] for a in case["attachments"]}),
        "history": [_history_row(h) for h in case["history"]],
        "problem": error.message if error and not placed else None,
        "upload_error": upload_error,
        "submit_error": submit_error,
        "cancel_error": cancel_error,
        "max_upload_mb": MAX_UPLOAD_MB,
        "declaration": _declaration(case),
        "certificate": certificate,
    }
    return render(request, "applicant/case.html", context, status)


def _declaration(case: dict) -> dict | None:
    """The applicant prints their own 评审（申报）表 once the department accepted the case."""
    if not_printable("declaration_form", case) is not None:
        return None
    return {"first": case["state"] == "form_print_ready"}


def _section_states(sections: dict) -> list[dict]:
    basic = sections.get("basic") or {}
    empty = [Basic.model_fields[f].title for f in REQUIRED_BASIC if basic.get(f) in (None, "")]
    filled = len(REQUIRED_BASIC) - len(empty)
    work = len((sections.get("work_history") or {}).get("entries") or [])
    achievements = len((sections.get("achievements") or {}).get("entries") or [])
    years = len((sections.get("education") or {}).get("hours_by_year") or {})
    states = {
        "basic": (not empty, True, f"必填项已填 {filled}/{len(REQUIRED_BASIC)}", "、".join(empty)),
        "work_history": (work > 0, work > 0, f"{work} 条" if work else "尚未填写（至少一条）", ""),
        "achievements": (None, achievements > 0, f"{achievements} 项" if achievements else "", ""),
        "education": (
            years > 0,
            years > 0,
            f"{years} 个年度" if years else "尚未填写各年度学时",
            "",
        ),
    }
    return [
        {"key": key, "title": title, **dict(zip(STATE_FIELDS, states[key], strict=True))}
        for key, title in SECTIONS.items()
    ]


def _scan_groups(case: dict) -> list[dict]:
    has_title = bool((case["sections"].get("basic") or {}).get("current_title"))
    groups = []
    for key, title in SCAN_CATEGORIES.items():
        files = [a for a in case["attachments"] if a["category"] == key]
        groups.append(
            {
                "key": key,
                "title": title,
                "required": key in REQUIRED_SCANS or (key == "current_title" and has_title),
                "files": [
                    {**a, "size": _size(a["size_bytes"]), "at": _local(a["uploaded_at"])}
                    for a in files
                ],
                "used": _size(sum(a["size_bytes"] for a in files)),
            }
        )
    return groups


def _scan_usage(case: dict) -> dict:
    """The case's scans against the limits the cases service keeps (it counts the same)."""
    limits = case["scan_limits"]
    return {
        "files": len(case["attachments"]),
        "used": _size(sum(a["size_bytes"] for a in case["attachments"])),
        "files_per_category": limits["files_per_category"],
        "mb_per_category": _megabytes(limits["bytes_per_category"]),
        "files_per_case": limits["files_per_case"],
        "mb_per_case": _megabytes(limits["bytes_per_case"]),
    }


def _history_row(item: dict) -> dict:
    return {**item, "at": _local(item["at"]), "note": history_note(item)}


def _local(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


def _size(size: int) -> str:
    return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{max(1, round(size / 1024))} KB"


def _megabytes(size: int) -> str:
    """A limit: 50 MB, 0.5 MB."""
    return f"{round(size / 1048576, 1):g} MB"


@applicant_only
async def upload(request: web.Request) -> web.Response:
    case = await _case(request)
    form = await request.post()
    category = str(form.get("category", ""))
    file = form.get("file")
    title = SCAN_CATEGORIES.get(category, "扫描件")
    try:
        if not isinstance(file, web.FileField) or not file.filename:
            raise RpcError(
                "invalid_file", "请选择要上传的文件", 422, {"file": "请选择要上传的文件"}
            )
        await upload_scan(request, case["id"], category, file.filename, file.file.read())
    except RpcError as error:
        if not shows_on_form(error):
            raise
        slot = error.fields.get("file") or error.fields.get("category")
        where = (category, slot) if slot and category in SCAN_CATEGORIES else None
        return _overview(request, case, error, upload_error=where)
    return see_other(request, f"/my/cases/{case['id']}#scans", f"已上传{title}：{file.filename}")


@applicant_only
async def remove_scan(request: web.Request) -> web.Response:
    case = await _case(request)
    attachment_id = request.match_info["attachment_id"]
    scan = next((a for a in case["attachments"] if a["id"] == attachment_id), None)
    if scan is None:
        raise RpcError("not_found", "扫描件不存在或已删除", 404)
    back = f"/my/cases/{case['id']}#scans"
    try:
        await call(
            request,
            cases_rpc.CASE_REMOVE_ATTACHMENT,
            {"case_id": case["id"], "attachment_id": attachment_id},
        )
    except RpcError as error:
        if error.status != 409:
            raise
        return see_other(request, back, error.message, "error")
    return see_other(request, back, f"已删除{scan['category_name']}：{scan['filename']}")


@applicant_only
async def submit(request: web.Request) -> web.Response:
    case = await _case(request)
    form = await form_of(request)
    try:
        moved = await _act(request, case, "submit", {}, form.get("version"))
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return _overview(request, case, error, submit_error=error.message)
    message = f"已提交单位审核，业务状态：{moved['status_label']}"
    return see_other(request, f"/my/cases/{case['id']}", message)


@applicant_only
async def cancel(request: web.Request) -> web.Response:
    case = await _case(request)
    form = await form_of(request)
    inputs = {"reason": form.get("reason", "").strip()}
    try:
        await _act(request, case, "cancel", inputs, form.get("version"))
    except RpcError as error:
        if not shows_on_form(error):
            raise
        beside = error.fields.get("reason")
        typed = (form.get("reason", ""), beside) if beside else None
        return _overview(request, case, error, cancel_error=typed)
    return see_other(
        request, "/my/cases", f"已取消申报：{case['qualification']}（{case['round']}）"
    )


async def _act(request, case: dict, action: str, inputs: dict, version: str | None) -> dict:
    params = {"case_id": case["id"], "action": action, "inputs": inputs}
    if version and version.isdecimal():
        params["expected_version"] = int(version)
    return await call(request, cases_rpc.CASE_ACT, params)


# --- the four sections of the materials ---


@applicant_only
async def section_page(request: web.Request) -> web.Response:
    case = await _case(request)
    section = request.match_info["section"]
    return _section_form(request, case, section, case["sections"].get(section) or {})


@applicant_only
async def save_section(request: web.Request) -> web.Response:
    case = await _case(request)
    section = request.match_info["section"]
    data = section_data(section, await request.post())
    try:
        await call(
            request,
            cases_rpc.CASE_SAVE_SECTION,
            {"case_id": case["id"], "section": section, "data": data},
        )
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return _section_form(request, case, section, data, error)
    return see_other(request, f"/my/cases/{case['id']}#sections", f"已保存“{SECTIONS[section]}”")


def section_data(section: str, form: MultiMapping) -> dict:
    """The section as the cases service takes it, from the posted form (as typed)."""
    if section == "basic":
        data: dict = {}
        for name in Basic.model_fields:
            if name == "exemptions":
                data[name] = [v for v in form.getall(name, []) if isinstance(v, str)]
                continue
            value = str(form.get(name, "")).strip()
            data[name] = None if value == "" and name in DATE_FIELDS | INT_FIELDS else value
        return data
    if section == "education":
        prefix = "hours_by_year."
        return {
            "hours_by_year": {
                key[len(prefix) :]: str(value).strip()
                for key, value in form.items()
                if key.startswith(prefix) and str(value).strip()
            }
        }
    return {"entries": _rows(section, form)}


def _rows(section: str, form: MultiMapping) -> list[dict]:
    """Rows in their order on the page; empty rows are dropped, so the service's
    `entries.N` keys count the rows that were kept (the page is shown again that way)."""
    columns = TABLES[section]
    by_index: dict[int, dict] = {}
    for key, value in form.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "entries" and parts[1].isdecimal():
            by_index.setdefault(int(parts[1]), {})[parts[2]] = str(value).strip()
    rows = []
    for index in sorted(by_index):
        row = {c.name: by_index[index].get(c.name, "") for c in columns}
        if any(row.values()):
            if "year" in row and row["year"] == "":
                row["year"] = None
            rows.append(row)
    return rows


def _section_form(
    request: web.Request, case: dict, section: str, data: dict, error: RpcError | None = None
) -> web.Response:
    saved = case["sections"].get(section) or {}
    editable = case["state"] == "draft"
    errors = _titled(section, error.fields) if error else {}
    context = {
        "case": case,
        "section": section,
        "section_title": SECTIONS[section],
        "sections": SECTIONS,
        "editable": editable,
        "errors": errors,
        "problem": error.message if error else None,
        "rerendered": error is not None,
    }
    if section == "basic":
        values = {k: "" if v is None else v for k, v in data.items()}
        context |= {
            "values": values,
            "educations": EDUCATION_LEVELS,
            "exemptions": EXEMPTIONS,
            "checked": set(data.get("exemptions") or []),
        }
        shown = set(Basic.model_fields)
    elif section == "education":
        hours = {k: str(v) for k, v in (data.get("hours_by_year") or {}).items()}
        years = sorted(
            set(_education_years(case)) | set(hours) | set(saved.get("hours_by_year") or {})
        )
        context |= {"years": years, "hours": hours}
        shown = {"hours_by_year"} | {f"hours_by_year.{y}" for y in years}
    else:
        rows = [
            {k: "" if v is None else v for k, v in row.items()} for row in data.get("entries") or []
        ]
        columns = TABLES[section]
        blank = {c.name: "" for c in columns}
        padded = rows + [dict(blank) for _ in range(BLANK_ROWS if editable else 0)]
        context |= {
            "columns": columns,
            "rows": padded,
            "blank": blank,
            "hint": TABLE_HINTS[section],
            "max_rows": 30 if section == "work_history" else 50,
        }
        shown = {f"entries.{i}.{c.name}" for i in range(len(rows)) for c in columns}
    context["other_errors"] = [m for k, m in errors.items() if k not in shown]
    status = error.status if error else 200
    return render(request, f"applicant/section_{_layout(section)}.html", context, status)


def _titled(section: str, errors: dict[str, str]) -> dict[str, str]:
    """The service names a row's field by its key ("start格式…"): use the column's title."""
    titles = {c.name: c.title for c in TABLES.get(section, ())}
    fixed = {}
    for key, message in errors.items():
        name = key.rsplit(".", 1)[-1]
        if key.startswith("entries.") and name in titles and message.startswith(name):
            message = titles[name] + message[len(name) :]
        fixed[key] = message
    return fixed


def _layout(section: str) -> str:
    return "table" if section in TABLES else section


def _education_years(case: dict) -> list[str]:
    digits = "".join(ch for ch in case["round"] if ch.isdecimal())[:4]
    year = int(digits) if len(digits) == 4 else date.today().year
    return [str(y) for y in range(year - EDUCATION_YEARS, year)]


def setup_routes(app: web.Application) -> None:
    add = app.router.add_route
    case = f"/my/cases/{CASE_ID}"
    add("GET", "/my/cases", my_cases, name="my_cases")
    add("GET", "/my/cases/new", new_case_page, name="my_case_new")
    add("POST", "/my/cases/new", new_case)
    add("GET", case, case_page, name="my_case")
    add("GET", f"{case}/sections/{SECTION}", section_page, name="my_case_section")
    add("POST", f"{case}/sections/{SECTION}", save_section)
    add("POST", f"{case}/scans", upload, name="my_case_scans")
    add(
        "POST",
        f"{case}/scans/{{attachment_id:[0-9a-fA-F-]{{36}}}}/remove",
        remove_scan,
        name="my_case_scan_remove",
    )
    add("POST", f"{case}/submit", submit, name="my_case_submit")
    add("POST", f"{case}/cancel", cancel, name="my_case_cancel")

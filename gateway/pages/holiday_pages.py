"""The sysadmin's holiday calendar (节假日安排): each year's State Council notice and its 放假 /
调休上班 days, which the working-day calendar takes before the chinese-calendar package. What
is accepted is the cases service's decision (its messages are shown by field)."""

from aiohttp import web

from gateway.auth import login_required
from gateway.pages.case_forms import local_time
from gateway.web import call, form_of, form_page, render, see_other, shows_on_form
from shared.contracts.cases import holidays as contract
from shared.contracts.cases.holidays import FIRST_YEAR, LAST_YEAR
from shared.rpc import RpcError

YEAR = "{year:[0-9]{4}}"
NOTICE_FIELDS = ("notice_title", "notice_number", "notice_url")
DAY_FIELDS = ("day", "kind", "name")
KINDS = [("holiday", "放假"), ("workday", "调休上班")]
SOURCES = {"entered": "已录入国务院办公厅通知", "package": "系统内置（chinese-calendar）"}
LABELS = {
    "notice_title": "通知标题",
    "notice_number": "发文字号",
    "notice_url": "通知网址",
    "day": "日期",
    "kind": "类别",
    "name": "节日名称",
}

sysadmin_only = login_required("sysadmin")


async def warnings(request: web.Request) -> list[str]:
    """The banner's lines for the sysadmin's home page; none when the service is away (the
    home page still opens)."""
    try:
        return (await call(request, contract.HOLIDAY_STATUS))["warnings"]
    except RpcError as error:
        if error.status < 500:
            raise
        return []


@sysadmin_only
async def index(request: web.Request) -> web.Response:
    if "year" in request.query:  # 其他年度
        wanted = request.query["year"].strip()
        if wanted.isdecimal() and FIRST_YEAR <= int(wanted) <= LAST_YEAR:
            return see_other(request, f"/admin/holidays/{int(wanted)}")
        message = f"请填写{FIRST_YEAR}至{LAST_YEAR}之间的年份"
        return see_other(request, "/admin/holidays", message, "error")
    listing = await call(request, contract.HOLIDAY_YEARS)
    years = [
        {**y, "source_label": SOURCES.get(y["source"] or "", "未录入")} for y in listing["years"]
    ]
    return render(request, "holidays/index.html", {**listing, "years": years})


def _year_of(request: web.Request) -> int:
    year = int(request.match_info["year"])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise web.HTTPNotFound()
    return year


@sysadmin_only
async def year_page(request: web.Request) -> web.Response:
    return await _year(request, _year_of(request))


async def _year(
    request: web.Request,
    year: int,
    values: dict | None = None,
    error: RpcError | None = None,
    form: str = "",
) -> web.Response:
    found = await call(request, contract.HOLIDAY_YEAR, {"year": year})
    status = await call(request, contract.HOLIDAY_STATUS)
    notice = found["notice"] or {}
    shown = {name: notice.get(name, "") for name in NOTICE_FIELDS} | {"kind": "holiday"}
    context = {
        **found,
        "warnings": status["warnings"],
        "source_label": SOURCES.get(found["source"] or "", "未录入"),
        "updated": local_time(notice["updated_at"]) if notice else "",
        "kinds": KINDS,
        "form": form,  # the form the error is about: notice or day
    }
    return form_page(request, "holidays/year.html", shown | (values or {}), error, **context)


def _in_chinese(error: RpcError) -> RpcError:
    """pydantic's English, where the service left it, becomes a message per field."""
    fields = {}
    for key, message in error.fields.items():
        name = key.split(".")[0]
        chinese = any("\u4e00" <= ch <= "\u9fff" for ch in message)
        fields[name] = message if chinese else f"{LABELS.get(name, name)}填写有误"
    return RpcError(error.code, error.message, error.status, fields)


@sysadmin_only
async def save_notice(request: web.Request) -> web.Response:
    year = _year_of(request)
    form = await form_of(request)
    values = {name: form.get(name, "").strip() for name in NOTICE_FIELDS}
    empty = {n: f"请填写{LABELS[n]}" for n, v in values.items() if not v}
    try:
        if empty:
            raise RpcError("invalid_input", "信息有误，请按提示修改", 422, empty)
        await call(request, contract.HOLIDAY_SAVE_YEAR, {"year": year, **values})
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return await _year(request, year, values, _in_chinese(error), "notice")
    return see_other(request, f"/admin/holidays/{year}", f"已保存{year}年的国务院办公厅通知")


@sysadmin_only
async def add_day(request: web.Request) -> web.Response:
    year = _year_of(request)
    form = await form_of(request)
    values = {name: form.get(name, "").strip() for name in DAY_FIELDS}
    empty = {n: f"请填写{LABELS[n]}" for n, v in values.items() if not v}
    try:
        if empty:
            raise RpcError("invalid_input", "信息有误，请按提示修改", 422, empty)
        await call(request, contract.HOLIDAY_ADD_DAY, {"notice_year": year, **values})
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return await _year(request, year, values, _in_chinese(error), "day")
    kind = dict(KINDS).get(values["kind"], "")
    message = f"已录入 {values['day']} {values['name']}{kind}"
    return see_other(request, f"/admin/holidays/{year}#days", message)


@sysadmin_only
async def remove_day(request: web.Request) -> web.Response:
    year = _year_of(request)
    day = (await form_of(request)).get("day", "")
    try:
        await call(request, contract.HOLIDAY_REMOVE_DAY, {"day": day})
    except RpcError as error:
        if error.status >= 500:
            raise
        return see_other(request, f"/admin/holidays/{year}#days", error.message, "error")
    return see_other(request, f"/admin/holidays/{year}#days", f"已删除 {day}")


@sysadmin_only
async def remove_year(request: web.Request) -> web.Response:
    year = _year_of(request)
    try:
        await call(request, contract.HOLIDAY_REMOVE_YEAR, {"year": year})
    except RpcError as error:
        if error.status >= 500:
            raise
        return see_other(request, f"/admin/holidays/{year}", error.message, "error")
    return see_other(request, "/admin/holidays", f"已删除{year}年的节假日安排")


def setup_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/admin/holidays", index, name="admin_holidays")
    add("GET", f"/admin/holidays/{YEAR}", year_page, name="admin_holiday_year")
    add("POST", f"/admin/holidays/{YEAR}/notice", save_notice, name="admin_holiday_notice")
    add("POST", f"/admin/holidays/{YEAR}/days", add_day, name="admin_holiday_days")
    add("POST", f"/admin/holidays/{YEAR}/days/remove", remove_day, name="admin_holiday_remove_day")
    add("POST", f"/admin/holidays/{YEAR}/remove", remove_year, name="admin_holiday_remove")

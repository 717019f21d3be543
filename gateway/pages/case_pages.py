"""The case workflow pages: home counts, work lists with 待办/已办 tabs, filters, paging and the
step's 功能按钮 on the ticked rows. One case and single actions are in case_actions.py.

Who may see or move which case is the cases service's decision; these pages only ask.
"""

import asyncio
from urllib.parse import urlencode

from aiohttp import web

from gateway.api_cases import BATCH_TIMEOUT
from gateway.auth import CSRF_FIELD, current_user, login_required
from gateway.pages import case_actions, print_pages
from gateway.pages.case_forms import (
    FILTERS,
    PRINTED_AFTER,
    PRINTED_BY,
    REVIEWER_NOTES,
    SORTS,
    action_button,
    batch_message,
    button_label,
    form_errors,
    form_kind,
    inputs_from,
    key_of,
    list_heading,
    list_print_buttons,
    list_query,
    local_time,
    parse_action,
    row_actions,
    same_input_problem,
    selection_actions,
    slug_of,
    unit_flow,
    valid_ids,
    work_url,
)
from gateway.web import call, local_path, render, see_other
from shared.contracts.accounts.vocabulary import UNIT_ROLES, WORK_ROLES
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.cases.vocabulary import Action, CaseState
from shared.contracts.cases.work_lists import WorkList, lists_of_role
from shared.rpc import RpcError

PAGE_SIZES = (20, 50, 100)
BATCH_FORM_LIMIT = 100  # cases named on a batch form; a page holds at most this many

work_roles = login_required(*WORK_ROLES)


def setup_routes(app: web.Application) -> None:
    case_id = "{case_id:[0-9a-fA-F-]{36}}"
    add = app.router.add_route
    add("GET", "/work/{list}", work_list, name="work_list")
    add("POST", "/work/{list}/batch", work_batch, name="work_batch")
    add("GET", f"/cases/{case_id}", case_actions.case_view, name="case_view")
    add("GET", f"/cases/{case_id}/act/{{action}}", case_actions.action_page, name="case_act")
    add("POST", f"/cases/{case_id}/act/{{action}}", case_actions.act)


# --- home pages ---


async def home_context(request: web.Request) -> dict:
    """The unit's ten steps, or a reviewer's lists, with the number of cases waiting at each."""
    role = current_user(request)["role"]
    try:
        home = await call(request, cases_rpc.CASE_HOME)
        counts = {item["key"]: item["count"] for item in home["lists"]}
        overdue = {item["key"]: item["overdue"] for item in home["lists"]}
    except RpcError as error:
        if error.status < 500:
            raise
        counts, overdue = None, {}  # the page still opens; the counts say they are unavailable
    late = {"overdue_total": sum(overdue.values())}
    if role in UNIT_ROLES:
        return {
            "flow": unit_flow(counts, overdue=overdue),
            "counts_unavailable": counts is None,
        } | late
    lists = [
        {
            "title": w.title,
            "note": REVIEWER_NOTES.get(w.key, ""),
            "url": work_url(w.key),
            "count": None if counts is None else counts.get(w.key, 0),
            "overdue": overdue.get(w.key, 0),
            "overdue_url": work_url(w.key, overdue="1"),
        }
        for w in lists_of_role(role)
    ]
    return {"work_lists": lists, "counts_unavailable": counts is None} | late


# --- a work list ---


def work_of(request: web.Request) -> WorkList:
    key = key_of(request.match_info["list"])
    work = next((w for w in lists_of_role(current_user(request)["role"]) if w.key == key), None)
    if work is None:
        raise web.HTTPNotFound()
    return work


def _shown(params: dict) -> dict:
    """The query as a URL carries it: defaults left out."""
    defaults = {"tab": "todo", "sort": "updated", "page": 1, "page_size": 20}
    return {k: v for k, v in params.items() if v not in ("", None) and defaults.get(k) != v}


@work_roles
async def work_list(request: web.Request) -> web.Response:
    work = work_of(request)
    query = list_query(request.query)
    calls = [
        call(request, cases_rpc.CASE_LIST, {**_shown(query), "list": work.key}),
        call(request, cases_rpc.REF_ALL),
    ]
    unit = work.key.startswith("unit:")
    if unit:
        calls.append(call(request, cases_rpc.CASE_HOME))
    result, ref, *home = await asyncio.gather(*calls)
    pages = max(1, -(-result["total"] // query["page_size"]))
    shown = _shown(query)

    def url(**changes) -> str:
        return work_url(work.key, **(shown | changes))

    items = [_row(work, item, query["tab"], request.path_qs) for item in result["items"]]
    flow = None
    if unit:
        counts = {i["key"]: i["count"] for i in home[0]["lists"]}
        overdue = {i["key"]: i["overdue"] for i in home[0]["lists"]}
        flow = unit_flow(counts, current=work.key, overdue=overdue)
    context = {
        "work": work,
        "slug": slug_of(work.key),
        "heading": list_heading(work),
        "flow": flow,
        "query": query,
        "result": result,
        "pages": pages,
        "items": items,
        "selection": [_selection_button(a) for a in selection_actions(work, query["tab"])],
        "documents": list_print_buttons(work.key) if query["tab"] == "done" else [],
        "options": _options(ref, current_user(request)["role"]),
        "sorts": SORTS,
        "page_sizes": PAGE_SIZES,
        "select_all": request.query.get("select") == "all",
        "tab_url": lambda tab: work_url(work.key, **{**_filters_only(query), "tab": tab}),
        "page_url": lambda number: url(page=number),
        "sort_url": lambda sort: url(sort=sort, page=1),
        "select_url": lambda which: url(select=which) if which == "all" else url(),
        "clear_url": work_url(work.key, tab=query["tab"] if query["tab"] != "todo" else ""),
        "filtered": any(query[name] for name in FILTERS),
        "back": request.path_qs,
        "list_query": urlencode({"list": work.key, **_filters_only(query), "tab": query["tab"]}),
        "export_filters": {"list": work.key, "tab": query["tab"], **_filters_only(query)},
    }
    return render(request, "cases/work_list.html", context)


def _filters_only(query: dict) -> dict:
    return {name: query[name] for name in FILTERS if query[name]} | (
        {"sort": query["sort"]} if query["sort"] != "updated" else {}
    )


def _row(work: WorkList, item: dict, tab: str, back: str) -> dict:
    view = f"/cases/{item['id']}?" + urlencode({"back": back})
    actions = [action_button(item["id"], a) for a in row_actions(work, item["state"])]
    for button in actions:
        if button["form"]:
            button["url"] += "?" + urlencode({"back": back})
    return {
        **item,
        "view_url": view,
        "actions": actions,
        "prints": list_print_buttons(work.key) if tab == "done" else [],
        "updated": local_time(item["updated_at"]),
    }


def _selection_button(action: Action) -> dict:
    return {
        "value": action.value,
        "verb": button_label(action),
        "form": form_kind(action) != "none",
    }


def _options(ref: dict, own: str) -> dict:
    """Filter choices; a department (committee) is not asked to choose among departments."""
    series = {s["id"]: s["name"] for s in ref["series"]}
    groups: dict[str, list] = {}
    for q in ref["qualifications"]:
        groups.setdefault(series.get(q["series_id"], ""), []).append((q["id"], q["name"]))
    return {
        "review_types": [(t["id"], t["name"]) for t in ref["review_types"]],
        "qualifications": list(groups.items()),
        "departments": [(d["id"], d["name"]) for d in ref["departments"] if own != "department"],
        "committees": [(c["id"], c["name"]) for c in ref["committees"] if own != "committee"],
        "rounds": [(r["id"], r["name"]) for r in ref["rounds"]],
        "states": [(s.value, s.label) for s in CaseState],
    }


# --- the 功能按钮 on a selection ---


@work_roles
async def work_batch(request: web.Request) -> web.Response:
    work = work_of(request)
    data = await request.post()
    values = {k: v for k, v in data.items() if isinstance(v, str) and k != CSRF_FIELD}
    back = local_path(values.get("back")) or work_url(work.key)
    action = parse_action(values.get("action", ""))
    if action is None or action not in selection_actions(work, "todo"):
        return see_other(request, back, "本环节没有这个功能按钮，请刷新页面后重试", "error")
    case_ids = valid_ids(data.getall("case_id", []))
    if not case_ids:
        return see_other(request, back, f"请先勾选要“{action.verb}”的人员", "error")
    if action in PRINTED_BY:
        return await print_pages.start_job(request, PRINTED_BY[action], case_ids, back)
    needs_form = form_kind(action) != "none"
    if needs_form and values.get("step") != "confirm":
        return await batch_form(request, work, action, case_ids, {}, back)
    params = {"case_ids": case_ids, "action": action.value, "inputs": inputs_from(action, values)}
    try:
        result = await call(request, cases_rpc.CASE_BATCH, params, timeout=BATCH_TIMEOUT)
    except RpcError as error:
        if not (needs_form and error.status == 422 and error.fields):
            raise
        problem = {"message": error.message, "fields": error.fields}
        return await batch_form(request, work, action, case_ids, values, back, problem)
    problem = same_input_problem(result) if needs_form else None
    if problem:
        return await batch_form(request, work, action, case_ids, values, back, problem)
    text, kind = batch_message(action, result)
    moved = [r["case_id"] for r in result["results"] if r["ok"]]
    if action in PRINTED_AFTER and moved:
        done_tab = work_url(work.key, tab="done")
        return await print_pages.start_job(
            request, PRINTED_AFTER[action], moved, done_tab, text, kind
        )
    return see_other(request, back, text, kind)


async def batch_form(
    request: web.Request,
    work: WorkList,
    action: Action,
    case_ids: list[str],
    values: dict,
    back: str,
    problem: dict | None = None,
) -> web.Response:
    """The inputs a batch action needs (公示时间、公示意见…), for the ticked cases."""
    shown = case_ids[:BATCH_FORM_LIMIT]
    found = await call(request, cases_rpc.CASE_GET_MANY, {"case_ids": shown})
    chosen = [_batch_row(action, c) for c in found["cases"]]  # the others: not theirs to see
    context = {
        "work": work,
        "heading": list_heading(work),
        "action": action,
        "kind": form_kind(action),
        "chosen": chosen,
        "case_ids": case_ids,
        "values": values,
        "errors": form_errors(problem["fields"], values) if problem else {},
        "problem": problem["message"] if problem else None,
        "back": back,
        "batch_url": f"/work/{slug_of(work.key)}/batch",
    }
    return render(request, "cases/batch.html", context, status=422 if problem else 200)


def _batch_row(action: Action, case: dict) -> dict:
    period = None
    if action is Action.RECORD_PRE_PUBLICITY_RESULT:
        period = case.get("pre_publicity")
    elif action is Action.RECORD_POST_PUBLICITY_RESULT:
        period = case.get("post_publicity")
    return {**case, "period": period}

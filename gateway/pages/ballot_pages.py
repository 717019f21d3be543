"""The expert's pages (评审专家), made for a phone: their meetings, the ballot sheet of one,
one case with its 表决 form, and a confirmation before the vote goes (a secret vote cannot be
changed once cast, as nobody knows whose it is). Before the vote opens, a conflict with an
applicant is declared from the same sheet."""

from urllib.parse import urlencode

from aiohttp import web

from gateway.auth import login_required
from gateway.web import call, form_of, form_page, render, see_other, shows_on_form
from shared.contracts.cases import meetings as contract
from shared.contracts.cases.meetings import CHOICE_LABELS
from shared.rpc import RpcError

MEETING_ID = "{meeting_id:[0-9a-fA-F-]{36}}"
CASE_ID = "{case_id:[0-9a-fA-F-]{36}}"

experts = login_required("expert")


def ballot_url(meeting_id: str) -> str:
    return f"/meetings/{meeting_id}/ballot"


async def my_meetings(request: web.Request) -> list[dict]:
    """The expert's home: the meetings they sit or were told of."""
    return (await call(request, contract.MEETING_LIST, {}))["items"]


async def the_ballot(request: web.Request) -> dict:
    params = {"meeting_id": request.match_info["meeting_id"]}
    return await call(request, contract.MEETING_BALLOT, params)


def case_of(ballot: dict, case_id: str) -> dict:
    found = next((c for c in ballot["cases"] if c["case_id"] == case_id), None)
    if found is None:
        raise web.HTTPNotFound()
    return found


@experts
async def ballot_page(request: web.Request) -> web.Response:
    ballot = await the_ballot(request)
    here = request.path
    for case in ballot["cases"]:
        case["read_url"] = f"/cases/{case['case_id']}?" + urlencode({"back": here})
    return render(request, "meetings/ballot.html", {"ballot": ballot})


@experts
async def vote_page(request: web.Request) -> web.Response:
    ballot = await the_ballot(request)
    case = case_of(ballot, request.match_info["case_id"])
    return _vote_form(request, ballot, case, {})


def _vote_form(request, ballot, case, values, error: RpcError | None = None) -> web.Response:
    read = f"/cases/{case['case_id']}?" + urlencode({"back": request.path})
    return form_page(
        request,
        "meetings/vote.html",
        values,
        error,
        ballot=ballot,
        case=case,
        read_url=read,
        choices=CHOICE_LABELS,
    )


@experts
async def vote(request: web.Request) -> web.Response:
    """First the choice comes back to be confirmed; only a confirmed choice is cast."""
    ballot = await the_ballot(request)
    case = case_of(ballot, request.match_info["case_id"])
    form = await form_of(request)
    choice = form.get("choice", "")
    if choice not in CHOICE_LABELS:
        error = RpcError("invalid_input", "请选择表决意见", 422, {"choice": "请选择表决意见"})
        return _vote_form(request, ballot, case, form, error)
    if form.get("confirmed") != "1":
        context = {"ballot": ballot, "case": case, "choice": choice, "label": CHOICE_LABELS[choice]}
        return render(request, "meetings/confirm.html", context)
    params = {"meeting_id": ballot["meeting"]["id"], "case_id": case["case_id"], "choice": choice}
    try:
        cast = await call(request, contract.MEETING_VOTE, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return see_other(request, ballot_url(ballot["meeting"]["id"]), error.message, "error")
    left = f"，还有 {cast['remaining']} 件待表决" if cast["remaining"] else "，您已完成全部表决"
    return see_other(
        request, ballot_url(ballot["meeting"]["id"]), f"已对 {case['name']} 投票{left}"
    )


@experts
async def conflict_page(request: web.Request) -> web.Response:
    ballot = await the_ballot(request)
    case = case_of(ballot, request.match_info["case_id"])
    return form_page(request, "meetings/conflict.html", {}, ballot=ballot, case=case)


@experts
async def declare_conflict(request: web.Request) -> web.Response:
    ballot = await the_ballot(request)
    case = case_of(ballot, request.match_info["case_id"])
    form = await form_of(request)
    params = {
        "meeting_id": ballot["meeting"]["id"],
        "case_id": case["case_id"],
        "reason": form.get("reason", ""),
    }
    try:
        await call(request, contract.MEETING_CONFLICT, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "meetings/conflict.html", form, error, ballot=ballot, case=case)
    done = f"已申报对 {case['name']} 回避，表决时您不参与对其表决"
    return see_other(request, ballot_url(ballot["meeting"]["id"]), done)


def setup_routes(app: web.Application) -> None:
    add = app.router.add_route
    one = f"/meetings/{MEETING_ID}/ballot"
    add("GET", one, ballot_page, name="ballot")
    add("GET", f"{one}/{CASE_ID}", vote_page, name="ballot_vote")
    add("POST", f"{one}/{CASE_ID}", vote)
    add("GET", f"{one}/{CASE_ID}/conflict", conflict_page, name="ballot_conflict")
    add("POST", f"{one}/{CASE_ID}/conflict", declare_conflict)

"""Each role's home page after login."""

from aiohttp import web

from gateway.auth import current_user, login_required
from gateway.pages import applicant_pages, ballot_pages, case_pages, holiday_pages
from gateway.web import render
from shared.contracts.accounts.vocabulary import WORK_ROLES

TEMPLATES = {
    "unit_admin": "home/unit.html",
    "unit_operator": "home/unit.html",
    "applicant": "home/applicant.html",
    "department": "home/reviewer.html",
    "office": "home/reviewer.html",
    "committee": "home/reviewer.html",
    "sysadmin": "home/sysadmin.html",
    "expert": "home/expert.html",
}


@login_required()
async def home(request: web.Request) -> web.Response:
    user = current_user(request)
    context = {}
    if user["role"] == "applicant":
        context["cases"] = await applicant_pages.home_cases(request)
    if user["role"] == "expert":
        context["meetings"] = await ballot_pages.my_meetings(request)
    if user["role"] == "sysadmin":  # a year's holidays missing: publicity cannot be timed
        context["holiday_warnings"] = await holiday_pages.warnings(request)
    if user["role"] in WORK_ROLES:  # the unit's ten steps, a reviewer's lists: with counts
        context |= await case_pages.home_context(request)
    return render(request, TEMPLATES[user["role"]], context)

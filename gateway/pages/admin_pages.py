"""The system administrator's pages: department, office and committee accounts."""

from aiohttp import web

from gateway.auth import login_required
from gateway.web import accounts, form_of, form_page, pick, render, see_other, shows_on_form
from shared.rpc import RpcError

REVIEWER_ROLES = {"department": "日常工作部门", "office": "专技处", "committee": "评委会"}
REVIEWER_FIELDS = ("role", "org_id", "org_name", "name", "username", "password", "mobile")


@login_required("sysadmin")
async def reviewers(request: web.Request) -> web.Response:
    role = request.query.get("role", "")
    params = {"role": role} if role in REVIEWER_ROLES else {}
    result = await accounts(request, "reviewers.list", params)
    context = {"items": result["items"], "role": role, "roles": REVIEWER_ROLES}
    return render(request, "admin/reviewers.html", context)


@login_required("sysadmin")
async def new_reviewer_page(request: web.Request) -> web.Response:
    values = {"role": request.query.get("role", "department")}
    return form_page(request, "admin/reviewer_form.html", values, roles=REVIEWER_ROLES)


@login_required("sysadmin")
async def new_reviewer(request: web.Request) -> web.Response:
    form = await form_of(request)
    try:
        created = await accounts(request, "reviewers.create", pick(form, REVIEWER_FIELDS))
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, "admin/reviewer_form.html", form, error, roles=REVIEWER_ROLES)
    label = REVIEWER_ROLES.get(form["role"], "")
    message = f"已新增{label}账户 {form['org_name'].strip()}（用户名 {created['username']}）"
    return see_other(request, "/admin/reviewers", message)

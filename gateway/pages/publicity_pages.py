"""The public 评后公示 page (no login): who is under publicity today, names masked, and a form
to raise an objection against one of them, the mobile confirmed by an SMS code (purpose
objection). Rate-limited per client address in the cases service (`objection`)."""

from urllib.parse import urlencode

from aiohttp import web

from gateway.api_integrity import PublicObjectionBody, public_people, submit_public_objection
from gateway.pages.integrity_pages import page_number
from gateway.web import call, form_of, form_page, render, shows_on_form, with_client
from shared.contracts.accounts import rpc as accounts_rpc
from shared.rpc import RpcError

CASE_ID = "{case_id:[0-9a-fA-F-]{36}}"
FORM = "publicity/objection.html"


async def list_page(request: web.Request) -> web.Response:
    query = {"name": request.query.get("name", "").strip()}
    page = page_number(request.query.get("page"))
    result = await public_people(request, {**query, "page": page})
    pages = max(1, -(-result["total"] // result["page_size"]))
    shown = {k: v for k, v in query.items() if v}
    context = {
        "query": query,
        "result": result,
        "pages": pages,
        "page_url": lambda n: "/publicity?" + urlencode(shown | {"page": n}),
    }
    return render(request, "publicity/list.html", context)


async def _person(request: web.Request) -> dict:
    """The person under publicity the form is about; 404 once they are not."""
    case_id = request.match_info["case_id"]
    found = await public_people(request, {"case_id": case_id})
    if not found["items"]:
        raise RpcError("not_found", "该人员不在评后公示期内，或公示已结束", 404)
    return found["items"][0]


async def objection_page(request: web.Request) -> web.Response:
    return form_page(request, FORM, {}, person=await _person(request))


async def submit_objection(request: web.Request) -> web.Response:
    person = await _person(request)
    form = await form_of(request)
    if form.get("action") == "send_code":
        return await _send_code(request, form, person)
    body = PublicObjectionBody.model_validate(form)
    try:
        received = await submit_public_objection(request, person["case_id"], body)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, FORM, form, error, person=person)
    context = {"person": person, "received": received}
    return render(request, "publicity/objection_done.html", context)


async def _send_code(request: web.Request, form: dict, person: dict) -> web.Response:
    """Without JavaScript the 获取验证码 button posts the form here and it comes back."""
    params = with_client(request, {"mobile": form.get("mobile", ""), "purpose": "objection"})
    try:
        sent = await call(request, accounts_rpc.SMS_REQUEST_CODE, params)
    except RpcError as error:
        if not shows_on_form(error):
            raise
        return form_page(request, FORM, form, error, person=person)
    minutes = sent["expires_in_seconds"] // 60
    note = f"验证码已发送，{minutes} 分钟内有效；{sent['cooldown_seconds']} 秒后可重新获取"
    return form_page(request, FORM, form, person=person, notes={"mobile": note})


def setup_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/publicity", list_page, name="publicity")
    add("GET", f"/publicity/{CASE_ID}/objection", objection_page, name="publicity_objection")
    add("POST", f"/publicity/{CASE_ID}/objection", submit_objection)

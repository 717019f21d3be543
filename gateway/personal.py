"""显示完整号码: the full ID number or mobile behind a mask, one value at a time.

`POST /api/personal/unmask` (JSON, what the page's button calls) and `POST /personal/unmask`
(the same as a form, for a browser without JavaScript: a small page with the value). The
gateway only routes: the service that keeps the object decides whether the caller may see
it and writes the audit row (shared/contracts/personal.py).
"""

from aiohttp import web
from pydantic import ValidationError

from gateway.api import spec
from gateway.api_identity import body_of
from gateway.auth import login_required
from gateway.http import json_response
from gateway.web import call, form_of, local_path, render
from shared.contracts.personal import OWNERS, UNMASK_METHOD, Unmask, Unmasked
from shared.contracts.registry import method
from shared.rpc import RpcError


async def _unmask(request: web.Request, wanted: Unmask) -> dict:
    return await call(request, method(OWNERS[wanted.object_type], UNMASK_METHOD), wanted)


@spec.operation(
    "post",
    "/api/personal/unmask",
    "显示完整号码: one full ID number or mobile (object_type, object_id, field), for a role"
    " that may see it; every answer and refusal is in the audit trail",
    "me",
    body=Unmask,
    response=Unmasked,
    errors=(401, 403, 404, 422),
)
@login_required()
async def unmask_api(request: web.Request) -> web.Response:
    wanted = await body_of(request, Unmask)
    return json_response(await _unmask(request, wanted))


@login_required()
async def unmask_page(request: web.Request) -> web.Response:
    form = await form_of(request)
    back = local_path(form.get("back")) or "/"
    try:
        wanted = Unmask.model_validate(form)
    except ValidationError:
        raise RpcError("bad_request", "要显示的号码不明确", 422) from None
    shown = await _unmask(request, wanted)
    context = {"field": wanted.field, "value": shown["value"], "back": back}
    return render(request, "personal/unmasked.html", context)


def setup_personal(app: web.Application) -> None:
    app.router.add_post("/api/personal/unmask", unmask_api, name="api_personal_unmask")
    app.router.add_post("/personal/unmask", unmask_page, name="personal_unmask")

"""The SMS not settled yet over the JSON API (notify's sms.unsettled): the sysadmin's page's
data, mobiles masked (显示完整号码: POST /api/personal/unmask, object_type delivery)."""

from aiohttp import web

from gateway.api import spec
from gateway.auth import login_required
from gateway.http import json_response
from gateway.web import call
from shared.contracts.notify import rpc as notify_rpc

UNCONFIRMED_MINUTES = 10


async def unsettled(request: web.Request) -> dict:
    params = {"unconfirmed_minutes": UNCONFIRMED_MINUTES}
    return await call(request, notify_rpc.SMS_UNSETTLED, params)


@spec.operation(
    "get",
    "/api/admin/sms",
    "SMS left sending, or handed to the provider without a receipt for"
    f" {UNCONFIRMED_MINUTES} minutes; mobiles masked (system administrator)",
    "admin",
    response=notify_rpc.Unsettled,
    errors=(401, 403),
)
@login_required("sysadmin")
async def sms_unsettled(request: web.Request) -> web.Response:
    return json_response(await unsettled(request))


def setup_sms_api(app: web.Application) -> None:
    app.router.add_get("/api/admin/sms", sms_unsettled, name="api_admin_sms")

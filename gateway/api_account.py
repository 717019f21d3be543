"""The signed-in person's own account over the JSON API: their sessions (登录设备) and their
mobile. Errors are RpcErrors left to the error middleware, as in api_identity."""

from aiohttp import web

from gateway.api import spec
from gateway.api_identity import body_of
from gateway.auth import login_required
from gateway.http import json_response
from gateway.web import call
from shared.contracts.accounts import rpc as accounts_rpc
from shared.contracts.accounts.rpc import ChangeMobile, MobileChanged, SessionList, SessionsEnded


@spec.operation(
    "get",
    "/api/me/sessions",
    "The user's active sessions (登录设备), this one marked current",
    "me",
    response=SessionList,
    errors=(401,),
)
@login_required()
async def list_sessions(request: web.Request) -> web.Response:
    return json_response(await call(request, accounts_rpc.SESSIONS_LIST))


@spec.operation(
    "delete",
    "/api/me/sessions/{id}",
    "End another session of the user's (404 if none such; 409 for this one: log out instead)",
    "me",
    response=SessionsEnded,
    errors=(401, 404, 409),
)
@login_required()
async def end_session(request: web.Request) -> web.Response:
    params = {"session_id": request.match_info["id"]}
    return json_response(await call(request, accounts_rpc.SESSIONS_END, params))


@spec.operation(
    "post",
    "/api/me/sessions/end-others",
    "End every session of the user's but this one",
    "me",
    response=SessionsEnded,
    errors=(401,),
)
@login_required()
async def end_other_sessions(request: web.Request) -> web.Response:
    return json_response(await call(request, accounts_rpc.SESSIONS_END_OTHERS))


@spec.operation(
    "post",
    "/api/me/mobile",
    "Change one's mobile: the current password and the code sent to the new mobile"
    " (POST /api/sms-codes, purpose change_mobile); every other session ends",
    "me",
    body=ChangeMobile,
    response=MobileChanged,
    errors=(401, 409, 422),
)
@login_required()
async def change_mobile(request: web.Request) -> web.Response:
    body = await body_of(request, ChangeMobile)
    return json_response(await call(request, accounts_rpc.AUTH_CHANGE_MOBILE, body.model_dump()))

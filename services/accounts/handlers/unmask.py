"""显示完整号码 for the numbers accounts keeps: a user's ID number or mobile, an enrolment's
ID number. The sysadmin may see any; a unit's admin those of their unit's people; a person
their own. Every answer and every refusal is in the audit trail, written in the transaction
that read the value."""

import uuid

from services.accounts import trail
from services.accounts.access import forbidden, not_found
from services.accounts.personal import unseal
from shared.audit import Entry
from shared.contracts.personal import Unmask
from shared.rpc import Actor, CallContext, RpcError


async def unmask(params: Unmask, ctx: CallContext) -> dict:
    entry = Entry(
        "personal.unmask", params.object_type, params.object_id, details={"field": params.field}
    )
    refused = None
    async with ctx.pool.acquire() as conn, conn.transaction():
        try:
            value = await _read(conn, ctx.actor, params)
        except RpcError as error:
            refused, entry = error, entry.refusal(error.code)
        await trail.changed(conn, ctx, entry)
    if refused is not None:
        raise refused
    return {"value": value}


async def _read(conn, actor: Actor, params: Unmask) -> str:
    object_id = _uuid(params.object_id)
    if params.object_type == "user":
        value = await _user_value(conn, actor, object_id, params.field)
    elif params.object_type == "enrolment" and params.field == "id_number":
        value = await _enrolment_value(conn, actor, object_id)
    else:
        raise not_found("号码")
    if value is None:
        raise not_found("号码")
    return value


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise not_found("号码") from None


async def _user_value(conn, actor: Actor, user_id: uuid.UUID, field: str) -> str | None:
    row = await conn.fetchrow(
        "SELECT id, unit_id, id_number, mobile FROM users WHERE id = $1", user_id
    )
    if row is None:
        raise not_found()
    if not _may_see(actor, row):
        raise forbidden("您无权查看该号码")
    return unseal(row[field], "users", field)


def _may_see(actor: Actor, user) -> bool:
    if actor.user_id is None:
        return False
    own_unit = actor.unit_id is not None and user["unit_id"] == actor.unit_id
    return (
        actor.role == "sysadmin"
        or actor.user_id == user["id"]
        or (actor.role == "unit_admin" and own_unit)
    )


async def _enrolment_value(conn, actor: Actor, enrolment_id: uuid.UUID) -> str | None:
    if actor.role != "sysadmin" or actor.user_id is None:
        raise forbidden("您无权查看该号码")
    token = await conn.fetchval("SELECT id_number FROM si_enrolments WHERE id = $1", enrolment_id)
    if token is None:
        raise not_found("参保登记")
    return unseal(token, "si_enrolments", "id_number")

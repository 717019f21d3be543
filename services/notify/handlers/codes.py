"""Verification codes: sent at once, ahead of notices, and never once expired."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.notify.deliveries import create_delivery, send_now
from services.notify.provider import CODE_PRIORITY
from services.notify.templates import render
from shared.rpc import CallContext, RpcError


class SendCode(BaseModel):
    mobile: str = Field(pattern=r"^1[3-9]\d{9}$")
    code: str = Field(pattern=r"^\d{6}$")
    purpose: Literal["register", "reset_password"]
    expires_at: datetime
    reference: str = ""


async def send_code(params: SendCode, ctx: CallContext) -> dict:
    deps = ctx.deps
    now = deps.clock.now()
    if params.expires_at <= now:
        raise RpcError("expired", "验证码已过期，未发送", 410)
    minutes = max(1, round((params.expires_at - now).total_seconds() / 60))
    body = render(f"code.{params.purpose}", code=params.code, minutes=minutes)
    async with ctx.pool.acquire() as conn:
        # Committed before the send: a receipt racing back must find the row and then
        # wait on its lock until the send is recorded.
        async with conn.transaction():
            delivery_id = await create_delivery(
                conn,
                kind="code",
                mobile=params.mobile,
                template=f"code.{params.purpose}",
                body=body,
                priority=CODE_PRIORITY,
                expires_at=params.expires_at,
                reference=params.reference or None,
                now=now,
            )
        async with conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM deliveries WHERE id = $1 FOR UPDATE", delivery_id
            )
            status = await send_now(conn, deps.gateway, row, now, deps.settings)
    if status != "sent":
        raise RpcError("sms_send_failed", "短信发送失败，请稍后重试", 503)
    return {"delivery_id": str(delivery_id), "status": status}


class DeliveryQuery(BaseModel):
    reference: str


async def delivery_status(params: DeliveryQuery, ctx: CallContext) -> dict:
    rows = await ctx.pool.fetch(
        "SELECT id, status, attempts, updated_at FROM deliveries WHERE reference = $1"
        " ORDER BY created_at",
        params.reference,
    )
    return {"deliveries": [{**dict(r), "id": str(r["id"])} for r in rows]}

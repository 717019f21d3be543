"""Verification codes: sent at once, ahead of notices, and never once expired."""

from services.notify.deliveries import claim, create_delivery, hand_over
from services.notify.provider import CODE_PRIORITY
from services.notify.templates import render
from shared.contracts.notify.rpc import DeliveryQuery, SendCode
from shared.rpc import CallContext, RpcError


async def send_code(params: SendCode, ctx: CallContext) -> dict:
    deps = ctx.deps
    now = deps.clock.now()
    if params.expires_at <= now:
        raise RpcError("expired", "验证码已过期，未发送", 410)
    minutes = max(1, round((params.expires_at - now).total_seconds() / 60))
    template_params = {"code": params.code, "minutes": str(minutes)}
    body = render(f"code.{params.purpose}", **template_params)
    async with ctx.pool.acquire() as conn:
        # Recorded `sending` and committed before the publish, like every SMS: a crash
        # after the publish leaves it to a receipt or the reconciler, never to a resend.
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
                params=template_params,
            )
            row = await conn.fetchrow("SELECT * FROM deliveries WHERE id = $1", delivery_id)
            outgoing = await claim(conn, row, now)
        # A code the broker surely did not take is failed at once, not retried: its caller
        # is told so and drops it. One the broker may have taken stays `sending` and is
        # answered as on its way (the reconciler finishes it, or lets it expire).
        [status] = await hand_over(
            conn, deps.gateway, [outgoing], now, deps.settings, deps.in_flight, retry=False
        )
    if status in ("failed", "expired"):  # else on its way (queued: a failure receipt raced in)
        raise RpcError("sms_send_failed", "短信发送失败，请稍后重试", 503)
    return {"delivery_id": str(delivery_id), "status": status}


async def delivery_status(params: DeliveryQuery, ctx: CallContext) -> dict:
    rows = await ctx.pool.fetch(
        "SELECT id, status, attempts, updated_at FROM deliveries WHERE reference = $1"
        " ORDER BY created_at",
        params.reference,
    )
    return {"deliveries": [{**dict(r), "id": str(r["id"])} for r in rows]}

"""The system administrator's view of SMS that are not settled: `sms.unsettled`.

- `sending`: committed as sending, the send never recorded (a notify process died between
  the publish and its record, or the broker did not confirm). The reconciler republishes
  each after its lease; `reconciliations` counts how often. One past
  ZC_SMS_RECONCILE_ALERT_AFTER is `stuck`: notify cannot get it to the broker, or keeps dying.
- `sent`: handed to the provider with no receipt for `unconfirmed_minutes` or more: no adapter
  is consuming `<prefix>.sms.provider`, or it lost the message (a code that expired in the
  queue is dropped by the broker and stays here).
"""

from datetime import timedelta

from services.notify.sealed import DELIVERY_MOBILE, opened
from shared.contracts.notify.rpc import UnsettledQuery
from shared.masks import mask_mobile
from shared.rpc import CallContext, RpcError

# The page's rows and its export's: unsettled deliveries, the stuck ones first.
UNSETTLED = (
    "SELECT id, kind, mobile, status, attempts, reconciliations, sending_since,"
    " updated_at, created_at, expires_at, last_error FROM deliveries"
    " WHERE status = 'sending' OR (status = 'sent' AND updated_at <= $1)"
    " ORDER BY status, reconciliations DESC, updated_at LIMIT $2"
)


def unsettled_args(params: UnsettledQuery, now) -> list:
    return [now - timedelta(minutes=params.unconfirmed_minutes), params.limit]


def require_sysadmin(ctx: CallContext) -> None:
    if ctx.actor.role != "sysadmin" or ctx.actor.user_id is None:
        raise RpcError("forbidden", "只有系统管理员可以查看短信发送情况", 403)


async def unsettled(params: UnsettledQuery, ctx: CallContext) -> dict:
    require_sysadmin(ctx)
    deps = ctx.deps
    now = deps.clock.now()
    settings = deps.settings
    rows = await ctx.pool.fetch(UNSETTLED, *unsettled_args(params, now))
    counts = await ctx.pool.fetch(
        "SELECT status, count(*) AS n, count(*) FILTER (WHERE reconciliations > $2) AS stuck"
        " FROM deliveries WHERE status = 'sending' OR (status = 'sent' AND updated_at <= $1)"
        " GROUP BY status",
        now - timedelta(minutes=params.unconfirmed_minutes),
        settings.sms_reconcile_alert_after,
    )
    by_status = {r["status"]: r for r in counts}
    return {
        "sending": by_status["sending"]["n"] if "sending" in by_status else 0,
        "stuck": by_status["sending"]["stuck"] if "sending" in by_status else 0,
        "sent_unconfirmed": by_status["sent"]["n"] if "sent" in by_status else 0,
        "reconcile_lease_seconds": settings.sms_reconcile_lease_seconds,
        "deliveries": [
            {
                **dict(r),
                "id": str(r["id"]),
                "mobile": mask_mobile(opened(r["mobile"], DELIVERY_MOBILE)),
                "stuck": r["status"] == "sending"
                and r["reconciliations"] > settings.sms_reconcile_alert_after,
            }
            for r in rows
        ],
    }

"""Delivery records: create, send, retry with backoff, settle from receipts."""

import logging
import re
import uuid
from datetime import datetime, timedelta

from services.notify.sms_gateway import ProviderUnreachable, SmsGateway
from services.notify.templates import redact

log = logging.getLogger(__name__)


async def create_delivery(
    conn,
    *,
    kind: str,
    mobile: str,
    template: str,
    body: str,
    priority: int,
    expires_at: datetime | None,
    reference: str | None,
    now: datetime,
) -> uuid.UUID:
    delivery_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO deliveries (id, kind, mobile, template, body, priority, status,"
        " next_attempt_at, expires_at, reference, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $7, $7)",
        delivery_id,
        kind,
        mobile,
        template,
        body,
        priority,
        now,
        expires_at,
        reference,
    )
    await record(conn, delivery_id, "queued", now)
    return delivery_id


async def record(conn, delivery_id, status: str, now: datetime, detail: str | None = None):
    await conn.execute(
        "INSERT INTO delivery_events (delivery_id, status, at, detail) VALUES ($1, $2, $3, $4)",
        delivery_id,
        status,
        now,
        detail,
    )


async def send_now(conn, gateway: SmsGateway, row, now: datetime, settings) -> str:
    """Try one send of a locked, queued delivery; returns its new status."""
    if row["expires_at"] is not None and row["expires_at"] <= now:
        await _settle(conn, row, "expired", now, "已过期，不再发送")
        return "expired"
    attempt = row["attempts"] + 1
    try:
        await gateway.publish(
            row["id"], row["mobile"], row["body"], row["priority"], attempt, row["expires_at"], now
        )
    except ProviderUnreachable as error:
        return await _retry_or_fail(
            conn, row, attempt, now, f"provider unreachable: {error}", settings
        )
    await conn.execute(
        "UPDATE deliveries SET status = 'sent', attempts = $2, next_attempt_at = NULL,"
        " updated_at = $3 WHERE id = $1",
        row["id"],
        attempt,
        now,
    )
    await record(conn, row["id"], "sent", now, f"attempt {attempt}")
    return "sent"


async def _retry_or_fail(conn, row, attempt: int, now, error: str, settings) -> str:
    delay = timedelta(seconds=settings.sms_retry_base_seconds * 2 ** (attempt - 1))
    out_of_time = row["expires_at"] is not None and now + delay >= row["expires_at"]
    if attempt >= settings.sms_max_attempts or out_of_time:
        await _settle(conn, row, "failed", now, error, attempts=attempt)
        return "failed"
    await conn.execute(
        "UPDATE deliveries SET status = 'queued', attempts = $2, next_attempt_at = $3,"
        " last_error = $4, updated_at = $5 WHERE id = $1",
        row["id"],
        attempt,
        now + delay,
        error,
        now,
    )
    await record(conn, row["id"], "queued", now, f"retry after {delay.total_seconds():g}s: {error}")
    return "queued"


async def _settle(conn, row, status: str, now, detail: str, attempts: int | None = None):
    body = row["body"]
    if row["kind"] == "code":
        body = _redacted_code_body(body)
    await conn.execute(
        "UPDATE deliveries SET status = $2, body = $3, last_error = $4, updated_at = $5,"
        " next_attempt_at = NULL, attempts = COALESCE($6, attempts) WHERE id = $1",
        row["id"],
        status,
        body,
        detail,
        now,
        attempts,
    )
    await record(conn, row["id"], status, now, detail)


def _redacted_code_body(body: str) -> str:
    match = re.search(r"\d{6}", body)
    return redact(body, match.group()) if match else body


async def apply_receipt(
    conn,
    delivery_id: uuid.UUID,
    attempt: int,
    status: str,
    error: str | None,
    now: datetime,
    settings,
) -> None:
    row = await conn.fetchrow("SELECT * FROM deliveries WHERE id = $1 FOR UPDATE", delivery_id)
    if row is None or row["status"] != "sent" or row["attempts"] != attempt:
        log.info("receipt for %s attempt %s ignored (stale or unknown)", delivery_id, attempt)
        return
    if status == "delivered":
        await _settle(conn, row, "delivered", now, "provider delivered")
    else:
        await _retry_or_fail(conn, row, attempt, now, error or "provider failed", settings)


async def dispatch_due(pool, gateway: SmsGateway, now: datetime, settings, limit: int = 100) -> int:
    """Send every queued delivery that is due; codes first."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT * FROM deliveries WHERE status = 'queued' AND next_attempt_at <= $1"
            " ORDER BY priority DESC, next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        for row in rows:
            await send_now(conn, gateway, row, now, settings)
    return len(rows)

"""Delivery records: create, send in two transactions, reconcile, retry, settle from receipts.

One attempt of an SMS is handed to the providers between two transactions:

1. `claim`: the delivery becomes `sending` as attempt n (out-id `<id>:<n>`, `sending_since`
   = now), and that is committed;
2. the SMS is published to the provider exchange and the broker confirms it;
3. `record_outcome`: a confirmed attempt becomes `sent` (handed to the provider).

A process that dies between 1 and 3 leaves the delivery `sending`, never `queued`, so nothing
makes a second attempt blindly. It is settled by the receipt of the provider that got it, or,
once its lease is over, `reconcile_due` republishes the same attempt (the same out-id)
flagged as a reconciliation; the provider adapter sends it only if that out-id never went
out (services/notify/adapter.py). docs/sms-delivery.md tells the whole story.
"""

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.notify.metrics import SMS_DELIVERIES
from services.notify.provider import out_id
from services.notify.sealed import DELIVERY_MOBILE, opened, received, sealed
from services.notify.sms_gateway import ProviderUnreachable, PublishUncertain, SmsGateway
from services.notify.templates import redact
from shared import correlation
from shared.metrics import count

log = logging.getLogger(__name__)

PUBLISHED, UNREACHABLE, UNCERTAIN = "published", "unreachable", "uncertain"
DELIVERIES_CHANNEL = "notify.deliveries"  # NOTIFY at each new delivery's commit


@dataclass(frozen=True)
class Outgoing:
    """One attempt of one delivery, committed as `sending`, on its way to the providers."""

    id: uuid.UUID
    mobile: str
    body: str
    priority: int
    attempt: int
    expires_at: datetime | None
    reconciliation: int = 0  # 0: the attempt's first publish; n: its n-th republish
    template: str | None = None
    params: dict | None = None
    route: str = "primary"  # the provider this attempt goes to: primary or fallback

    @classmethod
    def of(cls, row, attempt: int, reconciliation: int = 0) -> "Outgoing":
        return cls(
            row["id"],
            opened(row["mobile"], DELIVERY_MOBILE),
            row["body"],
            row["priority"],
            attempt,
            row["expires_at"],
            reconciliation,
            row["template"],
            dict(row["params"] or {}),
            row["route"],
        )

    @property
    def out_id(self) -> str:
        return out_id(self.id, self.attempt)


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
    params: dict[str, str] | None = None,
) -> uuid.UUID:
    """A queued delivery of `template` (a key of templates.py) with `params`; `body` is the
    text the person reads (templates.render of the same). `mobile` as a caller or an event
    gave it (sealed in transit or plain): kept sealed."""
    delivery_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO deliveries (id, kind, mobile, template, body, priority, status,"
        " next_attempt_at, expires_at, reference, created_at, updated_at, correlation_id,"
        " params) VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $7, $7, $10, $11)",
        delivery_id,
        kind,
        sealed(received(mobile), DELIVERY_MOBILE),
        template,
        body,
        priority,
        now,
        expires_at,
        reference,
        correlation.current(),
        params or {},
    )
    await record(conn, delivery_id, "queued", now)
    log.info("SMS %s queued: %s %s", delivery_id, kind, reference or "")
    # Sent by PostgreSQL at the commit: the dispatcher wakes for it.
    await conn.execute("SELECT pg_notify($1, '')", DELIVERIES_CHANNEL)
    return delivery_id


async def record(conn, delivery_id, status: str, now: datetime, detail: str | None = None):
    await conn.execute(
        "INSERT INTO delivery_events (delivery_id, status, at, detail) VALUES ($1, $2, $3, $4)",
        delivery_id,
        status,
        now,
        detail,
    )
    count(SMS_DELIVERIES, status)


def _expired(row, now: datetime) -> bool:
    return row["expires_at"] is not None and row["expires_at"] <= now


async def claim(conn, row, now: datetime) -> Outgoing | None:
    """Make a locked, queued delivery `sending` as its next attempt (the caller commits).

    None when it has expired instead: then it is settled `expired` and never sent.
    """
    if _expired(row, now):
        await _settle(conn, row, "expired", now, "已过期，不再发送")
        return None
    attempt = row["attempts"] + 1
    await conn.execute(
        "UPDATE deliveries SET status = 'sending', attempts = $2, sending_since = $3,"
        " next_attempt_at = NULL, updated_at = $3 WHERE id = $1",
        row["id"],
        attempt,
        now,
    )
    await record(conn, row["id"], "sending", now, f"attempt {attempt}")
    return Outgoing.of(row, attempt)


async def hand_over(
    conn,
    gateway: SmsGateway,
    outgoing: list[Outgoing],
    now: datetime,
    settings,
    in_flight: set[uuid.UUID],
    retry: bool = True,
) -> list[str]:
    """Publish committed `sending` attempts, then record each outcome in a new transaction.

    Returns the deliveries' statuses after that. While they are published their ids are in
    `in_flight`, so this process's reconciler leaves them alone however slow the broker is.
    """
    if not outgoing:
        return []
    ids = {o.id for o in outgoing}
    in_flight |= ids
    try:
        # One channel, confirms awaited together: a batch costs one round trip, not one each.
        results = await asyncio.gather(*(_publish(gateway, o, now) for o in outgoing))
        async with conn.transaction():
            return [
                await record_outcome(conn, o, result, error, now, settings, retry)
                for o, (result, error) in zip(outgoing, results, strict=True)
            ]
    finally:
        in_flight -= ids


async def _publish(gateway: SmsGateway, o: Outgoing, now: datetime) -> tuple[str, str | None]:
    try:
        await gateway.publish(
            o.id,
            o.mobile,
            o.body,
            o.priority,
            o.attempt,
            o.expires_at,
            now,
            o.reconciliation,
            template=o.template,
            params=o.params,
            route=o.route,
        )
    except ProviderUnreachable as error:
        return UNREACHABLE, f"provider unreachable: {error}"
    except PublishUncertain as error:
        return UNCERTAIN, f"publish unconfirmed: {error}"
    return PUBLISHED, None


async def record_outcome(
    conn, o: Outgoing, result: str, error: str | None, now: datetime, settings, retry: bool = True
) -> str:
    """The second transaction of a send: what became of one published attempt."""
    row = await conn.fetchrow("SELECT * FROM deliveries WHERE id = $1 FOR UPDATE", o.id)
    if row["status"] != "sending" or row["attempts"] != o.attempt:
        return row["status"]  # its receipt came first, or another notify copy recorded it
    if result == PUBLISHED:
        await conn.execute(
            "UPDATE deliveries SET status = 'sent', updated_at = $2 WHERE id = $1", o.id, now
        )
        again = f", reconciliation {o.reconciliation}" if o.reconciliation else ""
        await record(conn, o.id, "sent", now, f"attempt {o.attempt}{again}")
        return "sent"
    if result == UNREACHABLE and o.reconciliation == 0:
        # It certainly never left: a new attempt (or, for a code its caller is told
        # failed and gives up on, none) cannot make a second SMS.
        if retry:
            return await _retry_or_fail(conn, row, o.attempt, now, error, settings)
        await _settle(conn, row, "failed", now, error)
        return "failed"
    # It may have left: only a receipt or a reconciliation of this same out-id may settle it.
    await record(conn, o.id, "sending", now, f"attempt {o.attempt}: {error}; left to reconcile")
    return "sending"


async def _retry_or_fail(
    conn,
    row,
    attempt: int,
    now,
    error: str,
    settings,
    *,
    delay: timedelta | None = None,
    route: str | None = None,
    route_failures: int | None = None,
) -> str:
    """A new attempt after `delay` (default: the backoff), on `route` (default: the same)."""
    if delay is None:
        delay = timedelta(seconds=settings.sms_retry_base_seconds * 2 ** (attempt - 1))
    out_of_time = row["expires_at"] is not None and now + delay >= row["expires_at"]
    if attempt >= settings.sms_max_attempts or out_of_time:
        await _settle(conn, row, "failed", now, error, attempts=attempt)
        return "failed"
    route = route or row["route"]
    await conn.execute(
        "UPDATE deliveries SET status = 'queued', attempts = $2, next_attempt_at = $3,"
        " last_error = $4, sending_since = NULL, updated_at = $5, route = $6,"
        " route_failures = COALESCE($7, route_failures) WHERE id = $1",
        row["id"],
        attempt,
        now + delay,
        error,
        now,
        route,
        route_failures,
    )
    where = f" on the {route} provider" if route != row["route"] else ""
    await record(
        conn, row["id"], "queued", now, f"retry after {delay.total_seconds():g}s{where}: {error}"
    )
    return "queued"


async def _settle(
    conn,
    row,
    status: str,
    now,
    detail: str,
    attempts: int | None = None,
    receipt: "Receipt | None" = None,
):
    """A final status; with the provider's name, id and code when a receipt says them."""
    body, params = row["body"], row["params"]
    if row["kind"] == "code":
        body = _redacted_code_body(body)
        if params and "code" in params:
            params = {**params, "code": "*" * len(str(params["code"]))}
    await conn.execute(
        "UPDATE deliveries SET status = $2, body = $3, last_error = $4, updated_at = $5,"
        " next_attempt_at = NULL, sending_since = NULL, attempts = COALESCE($6, attempts),"
        " params = $7, provider = COALESCE($8, provider), provider_ref = COALESCE($9,"
        " provider_ref), provider_code = COALESCE($10, provider_code) WHERE id = $1",
        row["id"],
        status,
        body,
        detail,
        now,
        attempts,
        params,
        receipt.provider if receipt else None,
        receipt.ref if receipt else None,
        receipt.code if receipt else None,
    )
    await record(conn, row["id"], status, now, detail)


def _redacted_code_body(body: str) -> str:
    match = re.search(r"\d{6}", body)
    return redact(body, match.group()) if match else body


@dataclass(frozen=True)
class Receipt:
    """What an adapter reports of one attempt (services/notify/provider.py)."""

    delivery_id: uuid.UUID
    attempt: int
    status: str  # sent, delivered, failed, unsettled
    error: str | None = None
    duplicate: bool = False
    provider: str | None = None
    code: str | None = None  # the provider's code of a refusal or report
    error_class: str | None = None  # permanent, throttled, transient
    retry_after: float | None = None
    ref: str | None = None  # the provider's id of the SMS
    report: bool = False  # a delivery report, not the answer to the send

    @classmethod
    def of(cls, receipt: dict) -> "Receipt":
        retry_after = receipt.get("retry_after")
        return cls(
            delivery_id=uuid.UUID(receipt["delivery_id"]),
            attempt=int(receipt["attempt"]),
            status=str(receipt["status"]),
            error=receipt.get("error"),
            duplicate=bool(receipt.get("duplicate")),
            provider=receipt.get("provider"),
            code=receipt.get("code"),
            error_class=receipt.get("class"),
            retry_after=float(retry_after) if retry_after is not None else None,
            ref=receipt.get("ref"),
            report=bool(receipt.get("report")),
        )


async def apply_receipt(
    conn,
    delivery_id: uuid.UUID,
    attempt: int,
    status: str,
    error: str | None,
    now: datetime,
    settings,
    duplicate: bool = False,
    **more,
) -> str | None:
    """Settle a delivery from its provider's receipt; returns the new status (None: ignored).

    A receipt settles a `sent` attempt, and a `sending` one too: the provider got it, so
    the process that published it died (or is still recording it) — nothing to reconcile.
    `more` are the other fields of a `Receipt`.
    """
    receipt = Receipt(delivery_id, attempt, status, error, duplicate, **more)
    row = await conn.fetchrow("SELECT * FROM deliveries WHERE id = $1 FOR UPDATE", delivery_id)
    if row is None or row["status"] not in ("sending", "sent") or row["attempts"] != attempt:
        log.info("receipt for %s attempt %s ignored (stale or unknown)", delivery_id, attempt)
        return None
    unrecorded = " (its send was not yet recorded)" if row["status"] == "sending" else ""
    who = receipt.provider or "provider"
    this = out_id(delivery_id, attempt)
    if status == "sent":  # accepted by the provider; its report comes later
        await conn.execute(
            "UPDATE deliveries SET status = 'sent', accepted_at = $2, updated_at = $2,"
            " sending_since = NULL, provider = COALESCE($3, provider),"
            " provider_ref = COALESCE($4, provider_ref) WHERE id = $1",
            delivery_id,
            now,
            receipt.provider,
            receipt.ref,
        )
        ref = f" ({receipt.ref})" if receipt.ref else ""
        again = f", already had {this}: not sent again" if duplicate else ""
        await record(conn, delivery_id, "sent", now, f"accepted by {who}{ref}{again}{unrecorded}")
        return "sent"
    if status == "delivered":
        if receipt.report:
            detail = f"{who} report: delivered" + (f" ({receipt.code})" if receipt.code else "")
        elif duplicate:
            detail = f"{who} already had {this}: not sent again"
        else:
            detail = f"{who} delivered"
        await _settle(conn, row, "delivered", now, detail + unrecorded, receipt=receipt)
        return "delivered"
    if status == "unsettled":
        # The provider cannot tell yet whether this out-id went out: never sent again
        # blindly. The adapter's report query settles it (or an operator); a code, which
        # expires in minutes, goes to the other provider at once when there is one.
        detail = f"{who} cannot tell yet whether {this} went out: {error or 'no answer'}"
        if row["kind"] == "code" and settings.sms_fallback_provider:
            return await _retry_or_fail(
                conn, row, attempt, now, detail, settings, delay=timedelta(0), **_other(row)
            )
        await conn.execute("UPDATE deliveries SET last_error = $2 WHERE id = $1", row["id"], detail)
        await record(conn, delivery_id, row["status"], now, detail)
        return row["status"]
    return await _failed(conn, row, receipt, now, settings, unrecorded)


def _other(row) -> dict:
    """Keyword arguments of `_retry_or_fail` that move the next attempt to the other route."""
    return {"route": "fallback" if row["route"] == "primary" else "primary", "route_failures": 0}


async def _failed(conn, row, receipt: Receipt, now, settings, unrecorded: str) -> str:
    """A failure receipt: a report (final), or a refusal by its class (docs/sms.md)."""
    who = receipt.provider or "provider"
    code = f" {receipt.code}" if receipt.code else ""
    error = (receipt.error or "provider failed") + unrecorded
    attempt = receipt.attempt
    if receipt.report or receipt.error_class == "permanent":
        # A report: the SMS went out and did not reach the phone; a permanent refusal: it
        # never will. Either way not sent again.
        what = "report" if receipt.report else "refused"
        detail = f"{who} {what}:{code} {error}"
        await _settle(conn, row, "failed", now, detail, attempts=attempt, receipt=receipt)
        return "failed"
    if receipt.provider or receipt.code:
        await conn.execute(
            "UPDATE deliveries SET provider = COALESCE($2, provider),"
            " provider_code = COALESCE($3, provider_code) WHERE id = $1",
            row["id"],
            receipt.provider,
            receipt.code,
        )
    fallback = bool(settings.sms_fallback_provider)
    if receipt.error_class == "throttled":
        wait = timedelta(seconds=receipt.retry_after or settings.sms_retry_base_seconds)
        detail = f"{who} throttled:{code} {error}"
        late = row["expires_at"] is not None and now + wait >= row["expires_at"]
        if late and fallback:  # a code cannot wait out the window: the other provider now
            return await _retry_or_fail(
                conn, row, attempt, now, detail, settings, delay=timedelta(0), **_other(row)
            )
        return await _retry_or_fail(conn, row, attempt, now, detail, settings, delay=wait)
    # Transient (a timeout, a 5xx, no connection, the account): retry with backoff; once a
    # notice failed so on one provider ZC_SMS_FALLBACK_AFTER times, and a code at once, the
    # next attempt goes to the other provider.
    detail = f"{who} failed:{code} {error}" if receipt.provider else error
    failures = row["route_failures"] + 1
    if fallback and (row["kind"] == "code" or failures >= settings.sms_fallback_after):
        return await _retry_or_fail(
            conn, row, attempt, now, detail, settings, delay=timedelta(0), **_other(row)
        )
    return await _retry_or_fail(conn, row, attempt, now, detail, settings, route_failures=failures)


async def dispatch_due(
    pool, gateway: SmsGateway, now: datetime, settings, in_flight: set | None = None
) -> int:
    """Send queued deliveries that are due, codes first; returns how many were taken."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            rows = await conn.fetch(
                "SELECT * FROM deliveries WHERE status = 'queued' AND next_attempt_at <= $1"
                " ORDER BY priority DESC, next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                now,
                settings.sms_dispatch_batch,
            )
            outgoing = [o for row in rows if (o := await claim(conn, row, now)) is not None]
        # Committed `sending` before anything is published.
        in_flight = set() if in_flight is None else in_flight
        await hand_over(conn, gateway, outgoing, now, settings, in_flight)
    return len(rows)


async def reconcile_due(
    pool, gateway: SmsGateway, now: datetime, settings, in_flight: set | None = None
) -> int:
    """Republish attempts left `sending` past their lease; returns how many were taken.

    Each goes out as the same attempt (same out-id) with the reconciliation header, so
    an adapter whose provider already took that out-id answers with a receipt only. Several
    notify copies may run this at once: SKIP LOCKED gives each delivery to one of them.
    """
    in_flight = set() if in_flight is None else in_flight
    lease = timedelta(seconds=settings.sms_reconcile_lease_seconds)
    async with pool.acquire() as conn:
        async with conn.transaction():
            rows = await conn.fetch(
                "SELECT * FROM deliveries WHERE status = 'sending' AND sending_since <= $1"
                " AND NOT (id = ANY($2::uuid[]))"
                " ORDER BY priority DESC, sending_since LIMIT $3 FOR UPDATE SKIP LOCKED",
                now - lease,
                list(in_flight),
                settings.sms_dispatch_batch,
            )
            outgoing = []
            for row in rows:
                attempt = row["attempts"]
                if _expired(row, now):
                    await _settle(
                        conn,
                        row,
                        "expired",
                        now,
                        f"attempt {attempt} unconfirmed and now expired: not sent again",
                    )
                    continue
                n = row["reconciliations"] + 1
                await conn.execute(
                    "UPDATE deliveries SET reconciliations = $2, sending_since = $3,"
                    " updated_at = $3 WHERE id = $1",
                    row["id"],
                    n,
                    now,
                )
                o = Outgoing.of(row, attempt, reconciliation=n)
                await record(
                    conn,
                    row["id"],
                    "sending",
                    now,
                    f"reconciliation {n}: attempt {attempt} republished; the provider sends"
                    f" it only if {o.out_id} has not gone out",
                )
                stuck = n > settings.sms_reconcile_alert_after
                log.log(
                    logging.ERROR if stuck else logging.WARNING,
                    "SMS %s unconfirmed since %s: reconciliation %d%s",
                    o.out_id,
                    row["sending_since"].isoformat(),
                    n,
                    " (stuck: see sms.unsettled)" if stuck else "",
                )
                outgoing.append(o)
        await hand_over(conn, gateway, outgoing, now, settings, in_flight)
    return len(rows)

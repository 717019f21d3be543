"""Security notices: the owner of an account locked after many failed logins is told."""

from datetime import datetime, timedelta

from services.notify.deliveries import create_delivery
from services.notify.provider import NOTICE_PRIORITY
from services.notify.templates import render
from shared.clock import SHENZHEN
from shared.contracts.accounts.events import AccountLocked

TEMPLATE = "account.locked"


def account_locked_handler(deps):
    async def on_account_locked(conn, envelope, event: AccountLocked) -> None:
        if not event.mobile or not event.notify_owner:
            return
        until = datetime.fromisoformat(event.locked_until).astimezone(SHENZHEN)
        params = {
            "username": event.username,
            "failures": str(event.failures),
            "until": until.strftime("%H:%M"),
        }
        now = deps.clock.now()
        await create_delivery(
            conn,
            kind="notice",
            mobile=event.mobile,
            template=TEMPLATE,
            body=render(TEMPLATE, **params),
            params=params,
            priority=NOTICE_PRIORITY,
            # Worth sending while the lock lasts; after that it would only alarm.
            expires_at=max(until, now + timedelta(minutes=5)),
            reference=f"account:{event.user_id}:{envelope.id}",
            now=now,
        )

    return on_account_locked

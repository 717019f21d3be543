"""Reminders of cases about to pass their step time limit: one SMS to each person accounts
addressed (docs/reports.md "Deadlines and reminders"). Worth sending on its day only."""

from datetime import date, datetime, time, timedelta

from services.notify.deliveries import create_delivery
from services.notify.provider import NOTICE_PRIORITY
from services.notify.templates import render
from shared.clock import SHENZHEN
from shared.contracts.accounts.events import DeadlineReminderAddressed
from shared.envelope import Envelope

TEMPLATE = "deadline.reminder"


def reminder_handler(deps):
    async def on_reminder(conn, envelope: Envelope, event: DeadlineReminderAddressed) -> None:
        due = date.fromisoformat(event.due_on)
        params = {"count": str(event.cases), "date": f"{due.month}月{due.day}日"}
        now = deps.clock.now()
        day_ends = datetime.combine(date.fromisoformat(event.on_day), time(), SHENZHEN)
        await create_delivery(
            conn,
            kind="notice",
            mobile=event.mobile,
            template=TEMPLATE,
            body=render(TEMPLATE, **params),
            params=params,
            priority=NOTICE_PRIORITY,
            expires_at=max(day_ends + timedelta(days=1), now + timedelta(minutes=5)),
            reference=f"reminder:{event.user_id}:{event.on_day}:{envelope.id}",
            now=now,
        )

    return on_reminder

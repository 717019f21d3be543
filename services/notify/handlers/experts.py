"""Review experts' SMS: the meeting they were drawn for (date, time, place), and the username
of their account once opened, with how to set its password (no password is sent)."""

from datetime import datetime, timedelta

from services.notify.deliveries import create_delivery
from services.notify.provider import NOTICE_PRIORITY
from services.notify.templates import render
from shared.clock import SHENZHEN
from shared.contracts.accounts.events import ExpertAccountOpened
from shared.contracts.cases.meetings import ExpertReplaced, MeetingDrawn
from shared.envelope import Envelope

DRAWN = "meeting.drawn"
OPENED = "expert.account_opened"
ACCOUNT_NOTICE_TTL = timedelta(days=7)


def drawn_handler(deps):
    async def on_drawn(conn, envelope: Envelope, event: MeetingDrawn | ExpertReplaced) -> None:
        params = {"date": _cn_date(event.meets_on), "time": event.starts_at, "place": event.place}
        now = deps.clock.now()
        # Of no use once the meeting has begun.
        starts = datetime.fromisoformat(f"{event.meets_on}T{event.starts_at}").replace(
            tzinfo=SHENZHEN
        )
        for expert in event.seated:
            await create_delivery(
                conn,
                kind="notice",
                mobile=expert.mobile,
                template=DRAWN,
                body=render(DRAWN, **params),
                params=params,
                priority=NOTICE_PRIORITY,
                expires_at=max(starts, now + timedelta(minutes=5)),
                reference=f"meeting:{event.meeting_id}:{expert.expert_id}:{envelope.id}",
                now=now,
            )

    return on_drawn


def account_opened_handler(deps):
    async def on_opened(conn, envelope: Envelope, event: ExpertAccountOpened) -> None:
        params = {"username": event.username}
        now = deps.clock.now()
        await create_delivery(
            conn,
            kind="notice",
            mobile=event.mobile,
            template=OPENED,
            body=render(OPENED, **params),
            params=params,
            priority=NOTICE_PRIORITY,
            expires_at=now + ACCOUNT_NOTICE_TTL,
            reference=f"expert:{event.user_id}:{envelope.id}",
            now=now,
        )

    return on_opened


def _cn_date(iso: str) -> str:
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{year}年{month}月{day}日"

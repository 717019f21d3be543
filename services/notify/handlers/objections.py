"""A public objector is told the finding of their objection by SMS (the mobile they confirmed
with a code when they raised it). Objections taken in by the unit or the department are not:
those objectors are reached by whoever took them in."""

from datetime import timedelta

from services.notify.deliveries import create_delivery
from services.notify.provider import NOTICE_PRIORITY
from services.notify.templates import render
from shared.contracts.cases.integrity import ObjectionFound


def objection_found_handler(deps):
    async def on_objection_found(conn, envelope, event: ObjectionFound) -> None:
        if not event.objector_mobile:
            return
        template = f"objection.{event.finding}"
        now = deps.clock.now()
        await create_delivery(
            conn,
            kind="notice",
            mobile=event.objector_mobile,
            template=template,
            body=render(template),
            params={},
            priority=NOTICE_PRIORITY,
            expires_at=now + timedelta(hours=deps.settings.sms_notice_ttl_hours),
            reference=f"objection:{event.objection_id}:{envelope.id}",
            now=now,
        )

    return on_objection_found

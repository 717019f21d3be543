"""Workflow notices: an SMS to the applicant on the case moves that concern them."""

from datetime import timedelta

from services.notify.deliveries import create_delivery
from services.notify.provider import NOTICE_PRIORITY
from services.notify.templates import notice_template, render
from shared.contracts.cases.events import CaseApplicantNotice


def notice_handler(deps):
    async def on_applicant_notice(conn, envelope, event: CaseApplicantNotice) -> None:
        if not event.applicant_mobile:
            return
        # An approved template, not free text (templates.py): the reason stays in the system.
        template, params = notice_template(event.notice, event.case_no, event.case_id)
        now = deps.clock.now()
        await create_delivery(
            conn,
            kind="notice",
            mobile=event.applicant_mobile,
            template=template,
            body=render(template, **params),
            params=params,
            priority=NOTICE_PRIORITY,
            expires_at=now + timedelta(hours=deps.settings.sms_notice_ttl_hours),
            reference=f"case:{event.case_id}:{envelope.id}",
            now=now,
        )

    return on_applicant_notice

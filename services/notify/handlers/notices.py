"""Workflow notices: an SMS to the applicant on the case moves that concern them."""

from datetime import timedelta

from services.notify.deliveries import create_delivery
from services.notify.provider import NOTICE_PRIORITY
from services.notify.templates import render
from shared.contracts.cases.events import CaseApplicantNotice


def notice_handler(deps):
    async def on_applicant_notice(conn, envelope, event: CaseApplicantNotice) -> None:
        if not event.applicant_mobile:
            return
        text = event.notice
        if event.reason:
            text += f"原因：{event.reason[:60]}"
        now = deps.clock.now()
        await create_delivery(
            conn,
            kind="notice",
            mobile=event.applicant_mobile,
            template="case.notice",
            body=render(
                "case.notice",
                name=event.applicant_name,
                round=event.round_name,
                qualification=event.qualification_name,
                text=text,
            ),
            priority=NOTICE_PRIORITY,
            expires_at=now + timedelta(hours=deps.settings.sms_notice_ttl_hours),
            reference=f"case:{event.case_id}:{envelope.id}",
            now=now,
        )

    return on_applicant_notice

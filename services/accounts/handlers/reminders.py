"""case.deadline_reminder: who is told of cases about to pass their step time limit.

A unit's cases remind its admin (单位管理员); a reviewer organisation's, its active accounts
(each is one of its contact people, 联系人, with a mobile the sysadmin entered), the first
MAX_PER_ORGANISATION of them. One accounts.deadline_reminder.addressed per person goes to
notify in this transaction; nobody with a mobile: nothing is sent, and it is logged.
"""

import logging

import asyncpg

from services.accounts.personal import for_transit, unseal
from shared.contracts.accounts.events import DEADLINE_REMINDER_ADDRESSED, DeadlineReminderAddressed
from shared.contracts.cases.holidays import DeadlineReminder
from shared.envelope import Envelope, new_event
from shared.outbox import add_to_outbox

log = logging.getLogger(__name__)

MAX_PER_ORGANISATION = 5

RECIPIENTS = {
    "unit": "role = 'unit_admin' AND unit_id = $1::uuid",
    "department": "role = 'department' AND org_id = $1",
    "committee": "role = 'committee' AND org_id = $1",
    "office": "role = 'office' AND $1::text IS NOT NULL",  # the city's one office: all of it
}


async def address_reminder(
    conn: asyncpg.Connection, envelope: Envelope, reminder: DeadlineReminder
) -> None:
    rows = await conn.fetch(
        f"SELECT id, mobile FROM users WHERE {RECIPIENTS[reminder.party_role]}"
        " AND active AND mobile IS NOT NULL ORDER BY created_at, id LIMIT $2",
        reminder.party_id,
        MAX_PER_ORGANISATION,
    )
    if not rows:
        log.warning(
            "deadline reminder for %s %s: nobody with a mobile to tell",
            reminder.party_role,
            reminder.party_id,
        )
    events = [
        new_event(
            DEADLINE_REMINDER_ADDRESSED.type,
            DeadlineReminderAddressed(
                user_id=str(row["id"]),
                mobile=for_transit(unseal(row["mobile"], "users", "mobile")),
                on_day=reminder.on_day,
                due_on=reminder.due_on,
                cases=reminder.cases,
            ),
            "accounts",
            correlation_id=envelope.correlation_id,
        )
        for row in rows
    ]
    await add_to_outbox(conn, *events)

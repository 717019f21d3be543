"""The daily reminders of cases about to pass their step time limit (docs/reports.md).

A sweep (shared/periodic.py, every ZC_DEADLINE_SWEEP_SECONDS in every copy of the service)
finds, on a working day from ZC_DEADLINE_REMINDER_HOUR on, the cases due for a reminder today
(domain/deadlines.py) that have none yet, records one row per case and day and, in the same
transaction, one `case.deadline_reminder` per unit or organisation to remind. The row's key
(case, day) is what keeps a second copy of the sweep, or the same one after a restart, from
reminding a case twice on one day: its insert waits for the first one's commit and then finds
the row there. Each run takes at most ZC_DEADLINE_REMINDER_BATCH cases; the next takes the
rest. accounts turns each event into one per person to tell, notify texts them.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from services.cases.domain.calendar import CHINA_TZ, local_date, start_of_day
from services.cases.domain.deadlines import RESPONSIBLE, due_on, entered_range_due_soon
from services.cases.holidays import load_calendar
from shared.contracts.cases.holidays import DEADLINE_REMINDER, DeadlineReminder
from shared.contracts.cases.vocabulary import CaseState
from shared.envelope import new_event
from shared.outbox import add_to_outbox

log = logging.getLogger(__name__)

CASE_NOS_NAMED = 5  # of a party's cases, the event names the first few

DUE_SOON = """
SELECT c.id, c.case_no, c.state, c.state_since, c.unit_id, c.department_id, c.committee_id
FROM cases c
JOIN unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS r (state, first, until)
    ON r.state = c.state
WHERE c.state_since >= r.first AND c.state_since < r.until
    AND NOT EXISTS (SELECT 1 FROM deadline_reminders d WHERE d.case_id = c.id AND d.on_day = $4)
ORDER BY c.state_since, c.id
LIMIT $5
"""

RECORD = """
INSERT INTO deadline_reminders (case_id, on_day, state, due_on, party, sent_at)
SELECT case_id, $1, state, due_on, party, $2
FROM unnest($3::uuid[], $4::text[], $5::date[], $6::text[]) AS r (case_id, state, due_on, party)
ON CONFLICT (case_id, on_day) DO NOTHING
RETURNING case_id
"""


@dataclass(frozen=True)
class Due:
    case_id: object
    case_no: str
    state: CaseState
    due_on: date
    party_role: str
    party_id: str

    @property
    def party(self) -> str:
        return f"{self.party_role}:{self.party_id}"


def _party_id(row, role: str) -> str:
    if role == "unit":
        return str(row["unit_id"])
    if role == "department":
        return row["department_id"]
    if role == "committee":
        return row["committee_id"]
    return ""  # the office: one for the whole city, every office account sees every case


async def send_reminders(pool, deps) -> int:
    """One run of the sweep: the number of cases reminded now."""
    now, settings = deps.clock.now(), deps.settings
    if now.astimezone(CHINA_TZ).hour < settings.deadline_reminder_hour:
        return 0
    today, limits = local_date(now), settings.limits()
    async with pool.acquire() as conn:
        calendar = await load_calendar(conn)
        ranges = {s: entered_range_due_soon(today, s, limits, calendar) for s in limits.days}
        ranges = {state: found for state, found in ranges.items() if found}
        if not ranges:
            return 0
        async with conn.transaction():
            rows = await conn.fetch(
                DUE_SOON,
                [s.value for s in ranges],
                [start_of_day(first) for first, _ in ranges.values()],
                [start_of_day(end) for _, end in ranges.values()],
                today,
                settings.deadline_reminder_batch,
            )
            due = [_due(row, limits.of(CaseState(row["state"])), calendar) for row in rows]
            reminded = await _record(conn, today, now, due)
            await add_to_outbox(conn, *_events(today, reminded))
    if reminded:
        log.info("deadline reminders: %d cases reminded for %s", len(reminded), today)
    return len(reminded)


def _due(row, limit: int, calendar) -> Due:
    state = CaseState(row["state"])
    role = RESPONSIBLE[state]
    last = due_on(local_date(row["state_since"]), limit, calendar)
    return Due(row["id"], row["case_no"], state, last, role, _party_id(row, role))


async def _record(conn, today: date, now, due: list[Due]) -> list[Due]:
    """The reminders of `due` this run recorded: those no other run recorded today."""
    if not due:
        return []
    inserted = await conn.fetch(
        RECORD,
        today,
        now,
        [d.case_id for d in due],
        [d.state.value for d in due],
        [d.due_on for d in due],
        [d.party for d in due],
    )
    kept = {row["case_id"] for row in inserted}
    return [d for d in due if d.case_id in kept]


def _events(today: date, reminded: list[Due]) -> list:
    by_party: dict[tuple[str, str], list[Due]] = defaultdict(list)
    for d in reminded:
        by_party[(d.party_role, d.party_id)].append(d)
    return [
        new_event(
            DEADLINE_REMINDER.type,
            DeadlineReminder(
                party_role=role,
                party_id=party_id,
                on_day=today.isoformat(),
                due_on=min(d.due_on for d in cases).isoformat(),
                cases=len(cases),
                case_nos=[d.case_no for d in cases[:CASE_NOS_NAMED]],
            ),
            "cases",
        )
        for (role, party_id), cases in by_party.items()
    ]

"""The bare 审核同意: the statements the cases service runs for an approval, with asyncpg and
nothing else (no domain, no RPC, no audit row, no event sent). bench.workflow runs it from
its own process as the limit of an approval; bench._floor_service runs it behind aiohttp and
RabbitMQ, for the least the design card's path can cost (the `floor` phase).
"""

import uuid
from datetime import UTC, datetime

import asyncpg

from services.cases import statistics_store
from services.cases.domain.calendar import local_date
from services.cases.domain.model import Action, CaseState
from services.cases.domain.statistics import CASE, MOVES, REACH, STAY, whole_days
from services.cases.handlers.workflow import GENERIC_PLANS
from services.cases.repository import CASE_COLUMNS, SAVE_MOVES_SENT_AT_COMMIT
from services.cases.scope import visibility
from shared.db import array_args, transaction_begun_with
from shared.rpc import Actor

TODO_LIST = "unit:3"  # 材料审核: the list whose 已办 an approval writes
APPROVED_FROM, APPROVED_TO = CaseState.UNIT_REVIEW.value, CaseState.PRE_PUBLICITY_READY.value


async def approve(
    pool: asyncpg.Pool, actor: Actor, cases: list[tuple[uuid.UUID, int]], stored_inputs: dict
) -> str | None:
    """workflow.move_cases + repository.save for action approve by a unit operator, without
    the Python domain: one transaction, the load, then SAVE_MOVES. What went wrong, or None."""
    condition, args = visibility(actor, 2)
    to, label = CaseState.PRE_PUBLICITY_READY, f"{Action.APPROVE.done}-->"
    label += CaseState.PRE_PUBLICITY_READY.label
    party, actor_id = str(actor.unit_id), actor.user_id
    error = None
    async with pool.acquire() as conn, transaction_begun_with(conn, GENERIC_PLANS):
        rows = await conn.fetch(
            f"SELECT {CASE_COLUMNS}, r.evaluation_max_length, r.pre_publicity_days,"
            " r.post_publicity_days, r.name AS round_name, q.name AS qualification_name,"
            f" {statistics_store.HISTORY_JSON}"
            " FROM cases c JOIN rounds r ON r.id = c.round_id"
            " JOIN qualifications q ON q.id = c.qualification_id"
            f" WHERE c.id = ANY($1::uuid[]) AND {condition} ORDER BY c.id FOR UPDATE OF c",
            [case_id for case_id, _ in cases],
            *args,
        )
        if len(rows) != len(cases) or any(r["state"] != APPROVED_FROM for r in rows):
            error = f"bare approve: {len(rows)} of {len(cases)} cases to approve"
        at = datetime.now(UTC)
        updates, history, done, outbox = [], [], [], []
        for row in rows:
            case_id, version = str(row["id"]), row["version"] + 1
            updates.append(
                (case_id, row["version"], to.value, None, version, "approve", None, label,
                 stored_inputs, row["pre_publicity"], row["post_publicity"],
                 row["form_printed_at"], False, False, False)
            )  # fmt: skip
            history.append(
                (case_id, "approve", actor_id, "unit_operator", "", APPROVED_FROM, to.value,
                 None, label, stored_inputs, None, at)
            )  # fmt: skip
            done.append((case_id, party, TODO_LIST, at))
            event_id = uuid.uuid4()
            outbox.append((event_id, "case.transitioned", _envelope(event_id, row, at, actor_id)))
        # the writes as the service makes them: one statement for the five tables
        await conn.execute(
            SAVE_MOVES_SENT_AT_COMMIT, *array_args(updates, 15), at, *array_args(history, 12),
            *array_args(done, 4), *statistics_changes(rows, at), *array_args(outbox, 3),
        )  # fmt: skip
    return error


def statistics_changes(rows, at: datetime) -> list[list]:
    """statistics_store.move_changes for approvals, without the Python domain: from the
    cases loaded with their histories (HISTORY_JSON), the arrays of what the moves change
    (case_statistics_changes), for SAVE_MOVES. An approval counts its case in
    pre_publicity_ready instead of unit_review, and its stay in unit_review (since its last
    move) on today."""
    delta: dict[tuple, list[int]] = {}
    today = local_date(at)
    for r in rows:
        done = [m for m in r["history"] or () if m["action"] in MOVES]  # notes move nothing
        reached = tuple(any(m["to_state"] == s.value for m in done) for s in REACH)
        where = (r["round_id"], r["department_id"], r["committee_id"])
        opened = (CASE, local_date(r["created_at"]), *where, r["qualification_id"], *reached)
        entered = datetime.fromisoformat(done[-1]["at"]) if done else r["created_at"]
        seconds = max(0, round((at - entered).total_seconds()))
        stay = (STAY, today, *where, "", *reached, APPROVED_FROM, str(whole_days(seconds)))
        for cell, n, spent in (
            ((*opened, APPROVED_FROM, ""), -1, 0),
            ((*opened, APPROVED_TO, ""), 1, 0),
            (stay, 1, seconds),
        ):
            amount = delta.setdefault(cell, [0, 0])
            amount[0] += n
            amount[1] += spent
    changes = [(*cell, n, spent) for cell, (n, spent) in delta.items() if n or spent]
    return array_args(changes, statistics_store.CHANGE_COLUMNS)


def _envelope(event_id: uuid.UUID, row, at: datetime, actor_id) -> dict:
    """The same JSON as workflow._event in shared.envelope's Envelope."""
    return {
        "id": str(event_id),
        "type": "case.transitioned",
        "version": 1,
        "occurred_at": at.isoformat(),
        "producer": "cases",
        "correlation_id": None,
        "payload": {
            "case_id": str(row["id"]),
            "case_no": row["case_no"],
            "name": "CaseApproved",
            "action": "approve",
            "from_state": APPROVED_FROM,
            "to_state": APPROVED_TO,
            "outcome": None,
            "status_label": "单位审核同意-->待打印评前公示",
            "reason": None,
            "at": at.isoformat(),
            "version": row["version"] + 1,
            "actor_id": str(actor_id),
            "actor_role": "unit_operator",
            "unit_id": str(row["unit_id"]),
            "applicant_id": str(row["applicant_id"]),
            "applicant_name": row["applicant_name"],
            "applicant_mobile": row["applicant_mobile"],
            "round_name": row["round_name"],
            "qualification_name": row["qualification_name"],
            "applicant_notice": None,
        },
    }

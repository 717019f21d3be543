"""Moving cases: one action on one case, or the same action on a selection.

Each case is locked and checked inside the transaction (state, and version when the caller
saw one): of two people acting at once, one wins and the other gets a conflict, and the
history shows one transition. In a batch every case gets its own result; a case that moved
meanwhile is a conflict and the others still go through.
"""

import logging
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.cases.domain.model import (
    ACTION_ROLES,
    BATCH_ACTIONS,
    Action,
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotAllowed,
    Role,
)
from services.cases.repository import (
    CASE_COLUMNS,
    UPDATE_CASE,
    case_from_row,
    case_update_args,
    rules_from_row,
)
from services.cases.scope import done_entry, visibility
from shared.contracts.cases.materials import missing_parts
from shared.envelope import new_event
from shared.outbox import add_to_outbox
from shared.rpc import Actor, CallContext, RpcError

MAX_BATCH = 500
# What a list may do to a selection: DOMAIN.md's batch steps, plus approving with one form
# and printing the 评审(申报)表 of several people (manual §2.6).
SELECTION_ACTIONS = BATCH_ACTIONS | {Action.APPROVE, Action.PRINT_DECLARATION_FORM}

log = logging.getLogger(__name__)


class Act(BaseModel):
    case_id: uuid.UUID
    action: str
    inputs: dict[str, Any] = {}
    expected_version: int | None = None


class BatchAct(BaseModel):
    case_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BATCH)
    action: str
    inputs: dict[str, Any] = {}


def _action(name: str) -> Action:
    try:
        return Action(name)
    except ValueError:
        raise RpcError(
            "invalid_input", f"未知的操作：{name}", 422, {"action": "未知的操作"}
        ) from None


def _check_role(actor, action: Action) -> Role:
    try:
        role = Role(actor.role)
    except ValueError:
        raise RpcError("forbidden", "您没有权限进行此操作", 403) from None
    if role not in ACTION_ROLES[action] or actor.user_id is None:
        raise RpcError("forbidden", f"您没有权限进行“{action.verb}”操作", 403)
    return role


async def act(params: Act, ctx: CallContext) -> dict:
    # Sent means compared, whatever the number (0 included): only an absent one is not.
    expected = {} if params.expected_version is None else {params.case_id: params.expected_version}
    [result] = await move_cases(ctx, [params.case_id], params.action, params.inputs, expected)
    if not result["ok"]:
        error = result["error"]
        raise RpcError(error["code"], error["message"], error["status"], error.get("fields"))
    return result


async def batch(params: BatchAct, ctx: CallContext) -> dict:
    action = _action(params.action)
    _check_role(ctx.actor, action)  # who asks comes before what they ask
    if action not in SELECTION_ACTIONS:
        message = f"“{action.verb}”须逐件办理，不能批量办理"
        raise RpcError("invalid_input", message, 422, {"action": message})
    case_ids = list(dict.fromkeys(params.case_ids))  # the same case twice is one request
    results = await move_cases(ctx, case_ids, params.action, params.inputs, {})
    done = sum(1 for r in results if r["ok"])
    log.info(
        "batch %s by %s %s: %d done, %d failed",
        action.value,
        ctx.actor.role,
        ctx.actor.user_id,
        done,
        len(results) - done,
    )
    return {"done": done, "failed": len(results) - done, "results": results}


async def move_cases(
    ctx: CallContext, case_ids: list[uuid.UUID], action_name: str, inputs: dict, expected: dict
) -> list[dict]:
    action = _action(action_name)
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await move_as(conn, ctx.actor, now, case_ids, action, inputs, expected)


async def move_as(
    conn,
    actor: Actor,
    now: datetime,
    case_ids: list[uuid.UUID],
    action: Action,
    inputs: dict,
    expected: dict | None = None,
) -> list[dict]:
    """Move these cases as `actor` at `now`, in the caller's transaction on `conn`.

    One result per case id, in order; raises RpcError only when the actor may not take this
    action at all.
    """
    role = _check_role(actor, action)
    condition, args = visibility(actor, 2)
    # Locks in id order, so two batches over the same cases cannot deadlock.
    rows = await conn.fetch(
        f"SELECT {CASE_COLUMNS}, r.evaluation_max_length, r.pre_publicity_days,"
        " r.post_publicity_days, r.name AS round_name, q.name AS qualification_name"
        " FROM cases c JOIN rounds r ON r.id = c.round_id"
        " JOIN qualifications q ON q.id = c.qualification_id"
        f" WHERE c.id = ANY($1::uuid[]) AND {condition} ORDER BY c.id FOR UPDATE OF c",
        case_ids,
        *args,
    )
    by_id = {row["id"]: row for row in rows}
    expected = expected or {}
    results, moved = [], []
    for case_id in case_ids:
        row = by_id.get(case_id)
        if row is None:
            results.append(_failure(case_id, "not_found", "申报业务不存在或无权访问", 404))
            continue
        result, move = await _move_one(
            conn, actor, row, action, role, inputs, now, expected.get(case_id)
        )
        results.append(result)
        if move:
            moved.append(move)
    await _record(conn, actor, moved, now)
    return results


async def _move_one(conn, actor, row, action, role, inputs, now, expected_version):
    case = case_from_row(row)
    base = {"case_id": str(row["id"]), "name": row["applicant_name"]}
    if expected_version is not None and expected_version != case.version:
        return _failure(row["id"], "conflict", "该业务已被他人办理，请刷新后查看", 409, base), None
    if action is Action.SUBMIT:
        missing = await _missing(conn, row["id"])
        if missing:
            message = "申报材料不完整，缺少：" + "；".join(missing)
            return _failure(
                row["id"], "incomplete", message, 422, base, {"materials": message}
            ), None
    old_version, from_state = case.version, case.state
    try:
        [event] = case.act(
            action, role, inputs, now, actor_id=str(actor.user_id), rules=rules_from_row(row)
        )
    except IllegalTransition as error:
        return _failure(row["id"], "conflict", error.message, 409, base), None
    except NotAllowed as error:
        return _failure(row["id"], "forbidden", error.message, 403, base), None
    except InvalidInput as error:
        return _failure(
            row["id"], "invalid_input", error.message, 422, base, dict(error.errors)
        ), None
    except DomainError as error:
        return _failure(row["id"], "invalid", error.message, 422, base), None
    result = {
        **base,
        "ok": True,
        "state": case.state.value,
        "status_label": case.status_label,
        "version": case.version,
    }
    return result, (row, case, event, old_version, from_state)


async def _missing(conn, case_id) -> list[str]:
    sections = {
        r["section"]: r["data"]
        for r in await conn.fetch(
            "SELECT section, data FROM case_sections WHERE case_id = $1", case_id
        )
    }
    scans = {
        r["category"]
        for r in await conn.fetch(
            "SELECT DISTINCT category FROM case_attachments WHERE case_id = $1"
            " AND removed_at IS NULL",
            case_id,
        )
    }
    return missing_parts(sections, scans)


def _failure(case_id, code, message, status, base=None, fields=None) -> dict:
    error = {"code": code, "message": message, "status": status}
    if fields:
        error["fields"] = fields
    return {**(base or {"case_id": str(case_id)}), "ok": False, "error": error}


async def _record(conn, actor: Actor, moved: list, now: datetime) -> None:
    """Write every move at once: the cases, their history, the 已办 lists, the events."""
    if not moved:
        return
    await conn.executemany(
        UPDATE_CASE, [case_update_args(case, old, now) for _, case, _, old, _ in moved]
    )
    await conn.executemany(
        "INSERT INTO case_history (case_id, action, actor_id, actor_role, actor_name, from_state,"
        " to_state, outcome, status_label, inputs, reason, at)"
        " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        [
            (
                e.case_id,
                e.action.value,
                actor.user_id,
                e.actor_role.value,
                actor.name,
                e.from_state.value,
                e.to_state.value,
                e.outcome.value if e.outcome else None,
                e.status_label,
                e.inputs,
                e.reason,
                e.at,
            )
            for _, _, e, _, _ in moved
        ],
    )
    done = [
        (e.case_id, *entry, now)
        for row, _, e, _, from_state in moved
        if (entry := done_entry(actor, e.action, from_state, row["unit_id"]))
    ]
    if done:
        await conn.executemany(
            "INSERT INTO case_done (case_id, party_id, list, at) VALUES ($1::uuid, $2, $3, $4)"
            " ON CONFLICT (case_id, party_id, list) DO UPDATE SET at = EXCLUDED.at",
            done,
        )
    events = [_event(row, e, actor) for row, _, e, _, _ in moved]
    notices = [_notice(row, e) for row, _, e, _, _ in moved if e.applicant_notice]
    await add_to_outbox(conn, *events, *notices)


def _event(row, e, actor: Actor):
    payload = {
        "case_id": e.case_id,
        "case_no": row["case_no"],
        "name": e.name,
        "action": e.action.value,
        "from_state": e.from_state.value,
        "to_state": e.to_state.value,
        "outcome": e.outcome.value if e.outcome else None,
        "status_label": e.status_label,
        "reason": e.reason,
        "at": e.at.isoformat(),
        "version": e.version,
        "actor_id": str(actor.user_id),
        "actor_role": e.actor_role.value,
        "unit_id": str(row["unit_id"]),
        "applicant_id": str(row["applicant_id"]),
        "applicant_name": row["applicant_name"],
        "applicant_mobile": row["applicant_mobile"],
        "round_name": row["round_name"],
        "qualification_name": row["qualification_name"],
        "applicant_notice": e.applicant_notice,
    }
    return new_event("case.transitioned", payload, "cases", correlation_id=None)


def _notice(row, e):
    """What the applicant is told of this move: only the moves that concern them have one,
    so notify consumes these few instead of every transition (a batch approval has none)."""
    payload = {
        "case_id": e.case_id,
        "case_no": row["case_no"],
        "action": e.action.value,
        "applicant_id": str(row["applicant_id"]),
        "applicant_name": row["applicant_name"],
        "applicant_mobile": row["applicant_mobile"],
        "round_name": row["round_name"],
        "qualification_name": row["qualification_name"],
        "notice": e.applicant_notice,
        "reason": e.reason,
        "at": e.at.isoformat(),
    }
    return new_event("case.applicant_notice", payload, "cases", correlation_id=None)

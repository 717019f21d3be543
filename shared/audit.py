"""The audit trail: who did what to which object, when, from where, and how it ended.

One append-only table per service schema (`audit_log`, shared/migrations/0003_audit.sql).
A row is written in the transaction of the change it records, so the trail never shows a
change that was rolled back and never misses one that was committed. Each row carries the
hash of the row before it: its own hash is SHA-256 of "<previous hash>:<seq>:<body>", the
body being its other columns in a canonical serialisation made here (`body`). The database
function `audit_append` (the migration) numbers, links and inserts the rows in one
statement, with the chain's head (`audit_chain`, one row) locked until the transaction ends:
concurrent writers queue there, one after the other, instead of forking the chain. The head
is taken last in a transaction, so waiting for it never closes a cycle of locks.

Verifying and purging the chain: shared/audit_chain.py (`python -m tools.audit`). What is
recorded, and why: docs/audit.md.
"""

import getpass
import hashlib
import json
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from shared import correlation
from shared.contracts.audit import OK, READER_ACTIONS, REFUSED, AuditSearch, action_label
from shared.rpc import Actor, CallContext, RpcError

GENESIS = "0" * 64  # the previous hash of the first row ever written
FORMAT = 1  # of the canonical serialisation; part of every hash

# A row's body: every column but its place in the chain (seq, prev_hash, hash), in the order
# rows are read back for verifying.
BODY = (
    "at",
    "actor_id",
    "actor_username",
    "actor_name",
    "actor_role",
    "actor_unit_id",
    "actor_org_id",
    "actor_org_name",
    "session_id",
    "client_address",
    "request_id",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "case_ids",
    "outcome",
    "code",
    "details",
)
COLUMNS = ("seq", *BODY, "prev_hash", "hash")


@dataclass(frozen=True)
class Entry:
    """One thing to record, besides who did it (the actor) and when."""

    action: str
    object_type: str = ""
    object_id: Any = ""
    object_label: str = ""
    case_ids: Sequence[Any] = ()  # the cases whose materials this touched
    outcome: str = OK
    code: str | None = None  # why it was refused
    details: Mapping[str, Any] = field(default_factory=dict)  # small: no personal data

    def refusal(self, code: str) -> "Entry":
        """The same entry, refused with `code`."""
        return replace(self, outcome=REFUSED, code=code)


def command_line(command: str) -> Actor:
    """Who a command run by an operator is recorded as: their account on this host."""
    return Actor(
        role="system", name=command, username=getpass.getuser(), client_address=socket.gethostname()
    )


# --- the canonical row and its hash ---


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _instant(at: datetime) -> str:
    """UTC to the microsecond, as PostgreSQL keeps a timestamptz: the same text either way."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    """Details as JSON that jsonb gives back unchanged: no floats (jsonb may write them
    otherwise), keys as text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


ID_COLUMNS = ("actor_id", "actor_unit_id", "session_id")


def _body_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row's body as canonical JSON values: times in UTC to the microsecond, ids as text,
    details without floats. A row written here holds them so already; a row read back from
    PostgreSQL is turned into them."""
    values = {name: row[name] for name in BODY}
    if not isinstance(values["at"], str):
        values["at"] = _instant(values["at"])
    for name in ID_COLUMNS:
        values[name] = _text(values[name])
    values["case_ids"] = [str(c) for c in values["case_ids"]]
    values["details"] = _plain(_details(values["details"]))
    return values


def _serialised(values: dict[str, Any]) -> str:
    """JSON with sorted keys and no spaces, the format number included."""
    return json.dumps(
        {**values, "format": FORMAT}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def body(row: Mapping[str, Any]) -> str:
    """A row's canonical body: what its hash covers besides its place in the chain."""
    return _serialised(_body_values(row))


def linked_hash(prev_hash: str, seq: int, row_body: str) -> str:
    """SHA-256 of "<previous hash>:<seq>:<body>" in UTF-8, as audit_append() computes it."""
    return hashlib.sha256(f"{prev_hash}:{seq}:{row_body}".encode()).hexdigest()


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash is taken over: the previous row's hash, its number, its body."""
    return f"{row['prev_hash']}:{row['seq']}:{body(row)}".encode()


def row_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def _id(value: Any) -> str | None:
    """An id as PostgreSQL gives a uuid back: lower case, with hyphens."""
    if value is None or isinstance(value, uuid.UUID):
        return None if value is None else str(value)
    return str(uuid.UUID(value)) if value else None


def _who(actor: Actor, at: datetime, request_id: str | None) -> dict[str, Any]:
    """The columns saying who, when and in which request: the same for every entry of a write."""
    return {
        "at": _instant(at),
        "actor_id": _id(actor.user_id),
        "actor_username": actor.username,
        "actor_name": actor.name,
        "actor_role": actor.role,
        "actor_unit_id": _id(actor.unit_id),
        "actor_org_id": actor.org_id,
        "actor_org_name": actor.organisation,
        "session_id": _id(actor.session_id),
        "client_address": actor.client_address,
        "request_id": request_id,
    }


def _what(entry: Entry) -> dict[str, Any]:
    return {
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": str(entry.object_id or ""),
        "object_label": entry.object_label,
        "case_ids": [_id(c) for c in entry.case_ids],
        "outcome": entry.outcome,
        "code": entry.code,
        "details": _plain(entry.details),
    }


def new_row(actor: Actor, entry: Entry, at: datetime, request_id: str | None) -> dict[str, Any]:
    """The columns of one entry by `actor`, as canonical values, before it is chained."""
    return {**_who(actor, at, request_id), **_what(entry)}


def chain(last_seq: int, last_hash: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """New rows numbered on from the head, linked and hashed as audit_append() does it."""
    chained = []
    for offset, row in enumerate(rows, start=1):
        seq = last_seq + offset
        linked = {**row, "seq": seq, "prev_hash": last_hash}
        last_hash = linked["hash"] = linked_hash(last_hash, seq, _serialised(row))
        chained.append(linked)
    return chained


# --- writing ---

APPEND = "SELECT audit_append($1::text[])"  # shared/migrations/0003_audit.sql


async def record(conn, actor: Actor, *entries: Entry, at: datetime | None = None) -> None:
    """Append `entries` by `actor` to this schema's trail, in the caller's transaction (or,
    outside one, as a statement of its own). Call it last in a transaction: it holds the
    chain's head until the commit."""
    if not entries:
        return
    who = _who(actor, at or datetime.now(UTC), correlation.current())
    await conn.execute(APPEND, [_serialised({**who, **_what(entry)}) for entry in entries])


# --- reading: the sysadmin's search, an applicant's readers ---

SELECTED = ", ".join(COLUMNS)


def _escaped_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _person(person: str, args: list) -> str:
    args.append(person)
    n = len(args)
    if _as_uuid(person):
        # typed as text first: a bare ${n} beside ${n}::uuid made it a uuid, and text = uuid
        return f"(actor_id = ${n}::text::uuid OR (object_type = 'user' AND object_id = ${n}::text))"
    return (
        f"(lower(actor_username) = lower(${n})"
        f" OR (object_type = 'user' AND lower(object_label) = lower(${n})))"
    )


def _object(text: str, numbered: Sequence[uuid.UUID], args: list) -> str:
    args.append(text)
    n = len(args)
    if _as_uuid(text):
        return f"(object_id = ${n}::text OR ${n}::text::uuid = ANY(case_ids))"
    if not numbered:
        return f"(object_id = ${n} OR object_label = ${n})"
    args.append(list(numbered))
    return f"(object_id = ${n} OR object_label = ${n} OR case_ids && ${n + 1}::uuid[])"


def search_conditions(params: AuditSearch, args: list, numbered=()) -> list[str]:
    """The WHERE conditions of a search, its values appended to `args`; `numbered` are the
    cases whose number is the object searched for (the cases service knows them)."""
    where = []
    if params.person.strip():
        where.append(_person(params.person.strip(), args))
    if params.object.strip():
        where.append(_object(params.object.strip(), numbered, args))
    for column, value in (("object_type", params.object_type), ("outcome", params.outcome)):
        if value:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    if params.case_ids:
        args.append(params.case_ids)
        where.append(f"case_ids && ${len(args)}::uuid[]")
    if params.action:
        prefix = params.action.endswith(".")
        args.append(_escaped_prefix(params.action) if prefix else params.action)
        where.append(f"action {'LIKE' if prefix else '='} ${len(args)}")
    for column, value, op in (("at", params.since, ">="), ("at", params.until, "<")):
        if value is not None:
            args.append(value)
            where.append(f"{column} {op} ${len(args)}")
    if params.before_at is not None:
        args.append(params.before_at)
        if params.before_seq is None:
            where.append(f"at < ${len(args)}")
        else:
            args.append(params.before_seq)
            where.append(f"(at, seq) < (${len(args) - 1}, ${len(args)})")
    return where


async def search_rows(conn, service: str, params: AuditSearch, numbered=()) -> dict:
    """A page of the rows matching `params`, newest first."""
    args: list = []
    where = search_conditions(params, args, numbered)
    clause = " AND ".join(where) or "true"
    rows = await conn.fetch(
        f"SELECT {SELECTED} FROM audit_log WHERE {clause}"
        f" ORDER BY at DESC, seq DESC LIMIT {params.limit + 1}",
        *args,
    )
    return {
        "service": service,
        "rows": [row_view(service, r) for r in rows[: params.limit]],
        "more": len(rows) > params.limit,
        "cases": [str(c) for c in numbered],
    }


def _details(value: Any) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def row_view(service: str, row) -> dict:
    return {
        "service": service,
        "seq": row["seq"],
        "at": row["at"].isoformat(),
        "actor_id": _text(row["actor_id"]),
        "actor_username": row["actor_username"],
        "actor_name": row["actor_name"],
        "actor_role": row["actor_role"],
        "actor_unit_id": _text(row["actor_unit_id"]),
        "actor_org_id": row["actor_org_id"],
        "actor_org_name": row["actor_org_name"],
        "session_id": _text(row["session_id"]),
        "client_address": row["client_address"],
        "request_id": row["request_id"],
        "action": row["action"],
        "action_label": action_label(row["action"]),
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "object_label": row["object_label"],
        "case_ids": [str(c) for c in row["case_ids"]],
        "outcome": row["outcome"],
        "code": row["code"],
        "details": _details(row["details"]),
    }


def require_sysadmin(actor: Actor) -> None:
    if actor.role != "sysadmin" or actor.user_id is None:
        raise RpcError("forbidden", "只有系统管理员可以查询审计日志", 403)


async def search(params: AuditSearch, ctx: CallContext) -> dict:
    """audit.search, as every service answers it (shared/rpc.py RpcRouter)."""
    require_sysadmin(ctx.actor)
    async with ctx.pool.acquire() as conn:
        return await search_rows(conn, ctx.service, params)


READERS_LIMIT = 200


async def case_readers(conn, case_id: uuid.UUID, applicant_id: uuid.UUID | None) -> list[dict]:
    """Who read or printed this case's materials, newest first: the applicant's own reads
    left out, and nothing of the reader's address or account."""
    rows = await conn.fetch(
        "SELECT at, action, actor_name, actor_role, actor_org_name, object_label"
        " FROM audit_log WHERE case_ids && ARRAY[$1::uuid] AND action = ANY($2::text[])"
        " AND outcome = 'ok' AND actor_id IS DISTINCT FROM $3"
        f" ORDER BY at DESC, seq DESC LIMIT {READERS_LIMIT}",
        case_id,
        list(READER_ACTIONS),
        applicant_id,
    )
    return [
        {
            "at": r["at"].isoformat(),
            "action": r["action"],
            "action_label": READER_ACTIONS[r["action"]],
            "name": r["actor_name"],
            "role": r["actor_role"],
            "organisation": r["actor_org_name"],
            "what": r["object_label"],
        }
        for r in rows
    ]

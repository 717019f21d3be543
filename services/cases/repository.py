"""Cases as rows and rows as cases: the only place that knows both shapes.

The workflow loads the cases it moves with `load_for_update` (locked in id order, only those
the actor may see) and writes what moved with `save` (each case, its history row, its 已办
entry, the events for the outbox, and its audit row), in the caller's transaction.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from services.cases import statistics_store
from services.cases.domain.deadlines import DeclarationWindow
from services.cases.domain.events import CaseTransitioned
from services.cases.domain.model import (
    Action,
    ApproveInput,
    AssessmentResult,
    Case,
    CaseState,
    Outcome,
    Publicity,
    RoundRules,
)
from services.cases.domain.objections import Objection
from services.cases.domain.statistics import HistoryRow
from services.cases.metrics import count_transitions
from services.cases.scope import done_entry, visibility
from services.cases.sealed import CASE_MOBILE, opened_section, unseal
from shared.audit import Entry, record
from shared.contracts.cases.integrity import CaseNote, Finding, ObjectionSource, PublicityPhase
from shared.contracts.cases.materials import missing_parts
from shared.db import array_args
from shared.envelope import Envelope
from shared.outbox import SendAtCommit, outbox_columns, outbox_insert
from shared.rpc import Actor

# What lists and views show of a case; the sealed mobile is left out: lists never show it,
# and a sealed value six times the width of the number slows the sort of every page.
VIEW_COLUMNS = (
    "c.id, c.case_no, c.unit_id, c.applicant_id, c.applicant_name,"
    " c.round_id, c.review_type_id, c.qualification_id, c.committee_id, c.department_id,"
    " c.needs_pre_approval, c.exemptions, c.state, c.outcome, c.version, c.last_action,"
    " c.last_reason, c.status_label, c.unit_approval, c.pre_publicity, c.post_publicity,"
    " c.form_printed_at, c.created_at, c.updated_at, c.state_since"
)
CASE_COLUMNS = f"{VIEW_COLUMNS}, c.applicant_mobile"  # what the workflow loads


def _publicity(data: dict | None) -> Publicity | None:
    if not data:
        return None
    return Publicity(
        start=date.fromisoformat(data["start"]),
        end=date.fromisoformat(data["end"]),
        method=data.get("method"),
        contact=data.get("contact"),
        passed=data.get("passed"),
        feedback=data.get("feedback"),
    )


def publicity_json(period: Publicity | None) -> dict | None:
    if period is None:
        return None
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "method": period.method,
        "contact": period.contact,
        "passed": period.passed,
        "feedback": period.feedback,
    }


def _approval(data: dict | None) -> ApproveInput | None:
    if not data:
        return None
    years = {int(y): AssessmentResult(r) for y, r in data["annual_assessments"].items()}
    return ApproveInput.model_construct(**{**data, "annual_assessments": years})


def case_from_row(row) -> Case:
    approval = row["unit_approval"]
    return Case(
        id=str(row["id"]),
        needs_pre_approval=row["needs_pre_approval"],
        state=CaseState(row["state"]),
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        version=row["version"],
        last_action=Action(row["last_action"]) if row["last_action"] else None,
        last_reason=row["last_reason"],
        # Stored approvals were validated when given; the five years they cover move on.
        unit_approval=_approval(approval),
        pre_publicity=_publicity(row["pre_publicity"]),
        post_publicity=_publicity(row["post_publicity"]),
        form_printed_at=row["form_printed_at"],
    )


def window_of(round_row) -> DeclarationWindow:
    """The declaration window of a rounds row (its columns, or LOAD_FOR_UPDATE's)."""
    name = round_row.get("round_name") or round_row["name"]
    return DeclarationWindow(name, round_row["opens_on"], round_row["closes_on"])


def rules_from_row(row) -> RoundRules:
    return RoundRules(
        evaluation_max_length=row["evaluation_max_length"],
        pre_publicity_working_days=row["pre_publicity_days"],
        post_publicity_working_days=row["post_publicity_days"],
        window=window_of(row),
    )


def case_update_row(case: Case, old_version: int) -> tuple:
    """A moved case as SAVE_MOVES writes it ($1-$15)."""
    approval = case.unit_approval.model_dump(mode="json") if case.unit_approval else None
    return (
        case.id,
        old_version,
        case.state.value,
        case.outcome.value if case.outcome else None,
        case.version,
        case.last_action.value if case.last_action else None,
        case.last_reason,
        case.status_label,
        approval,
        publicity_json(case.pre_publicity),
        publicity_json(case.post_publicity),
        case.form_printed_at,
        case.state is CaseState.DEPT_ACCEPTANCE,
        case.state is CaseState.OFFICE_APPROVAL,
        case.state is CaseState.COMMITTEE_REVIEW,
    )


# --- the workflow's cases: loaded for update, saved once moved ---


@dataclass(frozen=True)
class CaseFacts:
    """What a move's events and 已办 entry tell of a case besides its state; no action
    changes them."""

    case_no: str
    unit_id: uuid.UUID
    applicant_id: uuid.UUID
    applicant_name: str
    applicant_mobile: str | None
    round_name: str
    qualification_name: str


@dataclass(frozen=True)
class LoadedCase:
    """A case locked in the caller's transaction: the aggregate to act on, as loaded."""

    id: uuid.UUID
    case: Case  # acted on in place
    rules: RoundRules  # of its round
    facts: CaseFacts
    loaded_version: int  # the version it had when loaded: the UPDATE's guard
    statistics: tuple = ()  # (facts, history) as loaded: what its moves change (statistics_store)


@dataclass(frozen=True)
class MovedCase:
    """A loaded case after one action, and the transition it made: what `save` writes."""

    loaded: LoadedCase
    event: CaseTransitioned


LOAD_FOR_UPDATE = (
    f"SELECT {CASE_COLUMNS}, r.evaluation_max_length, r.pre_publicity_days,"
    " r.post_publicity_days, r.name AS round_name, r.opens_on, r.closes_on,"
    " q.name AS qualification_name,"
    # its history with it, for the statistics of its moves (statistics_store.move_changes)
    f" {statistics_store.HISTORY_JSON},"
    # its objections with it: one round trip, not two (most cases have none)
    " (SELECT json_agg(json_build_object('id', o.id, 'seq', o.seq, 'phase', o.phase,"
    "   'source', o.source, 'received_at', o.received_at, 'finding', o.finding) ORDER BY o.seq)"
    "  FROM objections o WHERE o.case_id = c.id) AS objections"
    " FROM cases c JOIN rounds r ON r.id = c.round_id"
    " JOIN qualifications q ON q.id = c.qualification_id"
    " WHERE c.id = ANY($1::uuid[]) AND {visible} ORDER BY c.id FOR UPDATE OF c"
)


async def load_for_update(
    conn, actor: Actor, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, LoadedCase]:
    """Those of `case_ids` that `actor` may see, by id, locked until the transaction ends.

    Locked in id order, so two transactions over the same cases cannot deadlock. A case the
    actor may not see is left out, as one that does not exist.
    """
    visible, args = visibility(actor, 2)
    rows = await conn.fetch(LOAD_FOR_UPDATE.format(visible=visible), list(case_ids), *args)
    return {
        row["id"]: _loaded(row, tuple(map(_objection_from_json, row["objections"] or ())))
        for row in rows
    }


def _objection_from_json(item: dict) -> Objection:
    return objection_from_row({**item, "received_at": datetime.fromisoformat(item["received_at"])})


def objection_from_row(row) -> Objection:
    return Objection(
        id=str(row["id"]),
        seq=row["seq"],
        phase=PublicityPhase(row["phase"]),
        source=ObjectionSource(row["source"]),
        received_at=row["received_at"],
        finding=Finding(row["finding"]) if row["finding"] else None,
    )


def _loaded(row, objections: tuple = ()) -> LoadedCase:
    facts = CaseFacts(
        case_no=row["case_no"],
        unit_id=row["unit_id"],
        applicant_id=row["applicant_id"],
        applicant_name=row["applicant_name"],
        applicant_mobile=unseal(row["applicant_mobile"], CASE_MOBILE),
        round_name=row["round_name"],
        qualification_name=row["qualification_name"],
    )
    case = case_from_row(row)
    case.objections = objections
    return LoadedCase(
        row["id"], case, rules_from_row(row), facts, row["version"],
        statistics_store.loaded_history(row),
    )  # fmt: skip


async def missing_materials(conn, case_id: uuid.UUID) -> list[str]:
    """What the case's materials still lack before it can be submitted (none: complete)."""
    sections = {
        r["section"]: opened_section(r["section"], r["data"])
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


INSERT_HISTORY = (  # the notes' (save_notes); the moves' go in SAVE_MOVES
    "INSERT INTO case_history (case_id, action, actor_id, actor_role, actor_name, from_state,"
    " to_state, outcome, status_label, inputs, reason, at)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
)


async def save(
    conn,
    actor: Actor,
    moved: Sequence[MovedCase],
    now: datetime,
    events: Iterable[Envelope],
    refused: Sequence[Entry] = (),
    at_commit: SendAtCommit | None = None,
) -> None:
    """Write these moves by `actor` at `now` and their events (to be sent at commit, with
    `at_commit`), in the caller's transaction.

    What the moves change in the statistics (from the history loaded with the cases), each
    case, its history row, its 已办 entry (if the move belongs to a list of the party that
    made it), `events` into the outbox, and an audit row for each move and for each of the
    `refused` worth recording, however many cases: the statistics' changes, the cases,
    history, 已办 and outbox in one statement (SAVE_MOVES), then the audit rows, last: they
    hold the chain's head until the commit (shared/audit.py).
    """
    if not moved:
        await record(conn, actor, *refused, at=now)
        return
    changes = statistics_store.move_changes(
        (m.loaded.id, m.loaded.statistics, _history_row(m.event)) for m in moved
    )
    updates = [case_update_row(m.loaded.case, m.loaded.loaded_version) for m in moved]
    done = {
        (m.event.case_id, *entry): now
        for m in moved
        if (entry := done_entry(actor, m.event.action, m.event.from_state, m.loaded.facts.unit_id))
    }
    await conn.execute(
        SAVE_MOVES_SENT_AT_COMMIT if at_commit else SAVE_MOVES,
        *array_args(updates, 15),
        now,
        *array_args([_history_args(actor, m.event) for m in moved], 12),
        *array_args([(*key, at) for key, at in done.items()], 4),
        *changes,
        *outbox_columns(events, at_commit),
    )
    await record(conn, actor, *[_audit_entry(m) for m in moved], *refused, at=now)
    count_transitions(moved)


# The moves' writes in one statement (one round trip, where a statement a table took four):
# the cases (each guarded by the version it was loaded at), their history rows, their 已办
# entries, and their events into the outbox. $1-$15: case_update_row; $16: now; $17-$28:
# _history_args; $29-$32: case_done rows (their lists also set the cases' done_lists bits);
# $33-$35: outbox_columns.
# The case's columns its 已办 rows carry, copied by the move that writes one (migrations 019,
# 020): a 已办 tab filtered or sorted by them reads case_done alone (handlers/queries.py). All
# but the name are fixed when the case is opened; the name changes with the case's (applicant).
DONE_CASE_COLUMNS = (
    "applicant_name", "case_no", "review_type_id", "qualification_id", "department_id",
    "committee_id", "round_id",
)  # fmt: skip

# The 已办 lists a case has a case_done row in, as bits of `cases.done_lists` (migration 022):
# the party's index of cases then says, beside the state, whether the party has done the
# case, and a 已办 tab filtered by the state (超期) is counted from that index alone
# (handlers/queries.py). A list's party is the case's own (its unit, department, committee;
# the office), so the bit is enough. Stored: a list's number never changes.
DONE_LIST_BITS = {
    "unit:2": 0, "unit:3": 1, "unit:4": 2, "unit:5": 3, "unit:6": 4, "unit:7": 5,
    "unit:8": 6, "unit:9": 7, "unit:10": 8, "department:acceptance": 9,
    "department:review": 10, "department:post_publicity": 11, "department:confirm": 12,
    "office:approval": 13, "committee:review": 14,
}  # fmt: skip


def done_list_bit(key: str) -> int:
    return 1 << DONE_LIST_BITS[key]


def done_lists_of(keys) -> int:
    """cases.done_lists of a case with case_done rows in these lists."""
    bits = 0
    for key in keys:
        bits |= done_list_bit(key)
    return bits


def done_bit_sql(list_key: str) -> str:
    """The SQL of the bit of the list `list_key` (an expression) names."""
    cases = " ".join(f"WHEN '{key}' THEN {done_list_bit(key)}" for key in DONE_LIST_BITS)
    return f"CASE {list_key} {cases} ELSE 0 END"


def _save_moves(direct: bool) -> str:
    return f"""
WITH moved AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::int[], $6::text[],
        $7::text[], $8::text[], $9::jsonb[], $10::jsonb[], $11::jsonb[], $12::timestamptz[],
        $13::bool[], $14::bool[], $15::bool[])
    AS m(id, loaded_version, state, outcome, version, last_action, last_reason, status_label,
        unit_approval, pre_publicity, post_publicity, form_printed_at, reached_department,
        reached_office, reached_committee)
), updated AS (
    UPDATE cases c SET state = m.state, outcome = m.outcome, version = m.version,
        last_action = m.last_action, last_reason = m.last_reason,
        state_since = CASE WHEN c.state = m.state THEN c.state_since ELSE $16 END,
        status_label = m.status_label, unit_approval = m.unit_approval,
        pre_publicity = m.pre_publicity, post_publicity = m.post_publicity,
        form_printed_at = m.form_printed_at, updated_at = $16,
        reached_department = c.reached_department OR m.reached_department,
        reached_office = c.reached_office OR m.reached_office,
        reached_committee = c.reached_committee OR m.reached_committee,
        done_lists = c.done_lists | coalesce(dd.bit, 0)
    FROM moved m LEFT JOIN (
        SELECT d.case_id, {done_bit_sql("d.list")} AS bit
        FROM unnest($29::uuid[], $31::text[]) AS d (case_id, list)
    ) dd ON dd.case_id = m.id
    WHERE c.id = m.id AND c.version = m.loaded_version
), history AS (
    INSERT INTO case_history (case_id, action, actor_id, actor_role, actor_name, from_state,
        to_state, outcome, status_label, inputs, reason, at)
    SELECT * FROM unnest($17::uuid[], $18::text[], $19::uuid[], $20::text[], $21::text[],
        $22::text[], $23::text[], $24::text[], $25::text[], $26::jsonb[], $27::text[],
        $28::timestamptz[])
), done AS (
    INSERT INTO case_done (case_id, party_id, list, at, {", ".join(DONE_CASE_COLUMNS)})
    SELECT d.case_id, d.party_id, d.list, d.at, {", ".join(f"c.{n}" for n in DONE_CASE_COLUMNS)}
    FROM unnest($29::uuid[], $30::text[], $31::text[], $32::timestamptz[])
        AS d (case_id, party_id, list, at)
    JOIN cases c ON c.id = d.case_id
    ON CONFLICT (case_id, party_id, list) DO UPDATE SET at = EXCLUDED.at
), statistics AS (
    {statistics_store.changes_insert(33)}
)
{outbox_insert(33 + statistics_store.CHANGE_COLUMNS, direct)}
"""


SAVE_MOVES = _save_moves(direct=False)
SAVE_MOVES_SENT_AT_COMMIT = _save_moves(direct=True)  # its events: SendAtCommit


def _history_row(e: CaseTransitioned) -> HistoryRow:
    return HistoryRow(e.action.value, e.from_state, e.to_state, e.outcome, e.at)


def _audit_entry(m: MovedCase) -> Entry:
    e = m.event
    details = {"from": e.from_state.value, "to": e.to_state.value}
    if e.outcome:
        details["outcome"] = e.outcome.value
    case_no = m.loaded.facts.case_no
    return Entry(f"case.{e.action.value}", "case", e.case_id, case_no, [e.case_id], details=details)


def _history_args(actor: Actor, e: CaseTransitioned) -> tuple:
    return (
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


# --- what the history records beside the moves (docs/integrity.md) ---


@dataclass(frozen=True)
class Note:
    """A history row of something done to a case that does not move it: an objection taken
    in or found, a certificate revoked, a 失信 entry recorded or ended."""

    case_id: uuid.UUID
    note: CaseNote
    state: str  # the case's, before and after
    status_label: str
    outcome: str | None
    at: datetime
    inputs: dict
    reason: str | None = None
    actor_role: str | None = None  # the actor's own role, unless someone else's (the public)


async def save_notes(conn, actor: Actor, notes: Iterable[Note]) -> None:
    """Write these notes by `actor` into the case history, in the caller's transaction."""
    await conn.executemany(
        INSERT_HISTORY,
        [
            (
                n.case_id,
                n.note.value,
                actor.user_id,
                n.actor_role or actor.role,
                actor.name,
                n.state,
                n.state,
                n.outcome,
                n.status_label,
                n.inputs,
                n.reason,
                n.at,
            )
            for n in notes
        ],
    )

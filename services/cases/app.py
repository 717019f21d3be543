"""The cases service: the workflow's RPC methods and consumed events, in one process."""

from datetime import UTC, datetime

from services.cases import statistics_store
from services.cases.deps import CasesDeps
from services.cases.handlers import (
    applicant,
    audit_trail,
    certificates,
    committee_rules,
    expert_import,
    experts,
    exports,
    holidays,
    integrity,
    meeting_draw,
    meeting_vote,
    meetings,
    objections,
    personal,
    printing,
    queries,
    reference,
    statistics,
    workflow,
)
from services.cases.reminders import send_reminders
from shared.consumer import EventConsumer
from shared.contracts.cases import certificates as certificate_contract
from shared.contracts.cases import holidays as holiday_contract
from shared.contracts.cases import integrity as integrity_contract
from shared.contracts.cases import meetings as meeting_contract
from shared.contracts.cases import rpc as contract
from shared.contracts.cases import statistics as statistics_contract
from shared.contracts.documents.events import DECLARATION_FORM_PRINTED
from shared.periodic import service_hooks
from shared.rate_limit import sweep
from shared.rpc import RpcClient, RpcRouter
from shared.service import Service
from shared.settings import Settings
from shared.topology import Names


def build_rpc(deps: CasesDeps) -> RpcRouter:
    rpc = RpcRouter("cases", deps=deps)
    rpc.serve(contract.PERSONAL_UNMASK, personal.unmask)
    rpc.serve(contract.EXPORT_COUNT, exports.count)
    rpc.serve(contract.EXPORT_BUILD, exports.build_export)
    rpc.serve(contract.REF_ALL, reference.all_reference)
    rpc.serve(contract.REF_SAVE_ROUND, reference.save_round)
    rpc.serve(contract.REF_SAVE_REVIEW_TYPE, reference.save_review_type)
    rpc.serve(contract.REF_SAVE_COMMITTEE, reference.save_committee)
    rpc.serve(contract.REF_SAVE_DEPARTMENT, reference.save_department)
    rpc.serve(contract.REF_SAVE_SERIES, reference.save_series)
    rpc.serve(contract.REF_SAVE_QUALIFICATION, reference.save_qualification)
    rpc.serve(contract.CASE_OPEN, applicant.open_case)
    rpc.serve(contract.CASE_SAVE_SECTION, applicant.save_section)
    rpc.serve(contract.CASE_CHECK_UPLOAD, applicant.check_upload)
    rpc.serve(contract.CASE_ATTACH, applicant.attach)
    rpc.serve(contract.CASE_REMOVE_ATTACHMENT, applicant.remove_attachment)
    rpc.serve(contract.CASE_MINE, queries.my_cases)
    rpc.serve(contract.CASE_GET, queries.get_case)
    rpc.serve(contract.CASE_GET_MANY, queries.get_many)
    rpc.serve(contract.CASE_CAN_VIEW, queries.can_view)
    rpc.serve(contract.CASE_APPLICANT_CASE_COUNT, queries.applicant_case_count)
    rpc.serve(contract.CASE_CAN_VIEW_MANY, queries.can_view_many)
    rpc.serve(contract.CASE_LIST, queries.list_cases)
    rpc.serve(contract.CASE_LIST_IDS, queries.list_ids)
    rpc.serve(contract.CASE_HOME, queries.home_counts)
    rpc.serve(contract.CASE_ACT, workflow.act)
    rpc.serve(contract.CASE_BATCH, workflow.batch)
    serve_certificates(rpc)
    serve_integrity(rpc)
    rpc.serve(contract.AUDIT_SEARCH, audit_trail.search)
    rpc.serve(contract.CASE_READERS, audit_trail.readers)
    rpc.serve(contract.EXPERT_LIST, experts.list_experts)
    rpc.serve(contract.EXPERT_GET, experts.get_expert)
    rpc.serve(contract.EXPERT_CREATE, experts.create_expert)
    rpc.serve(contract.EXPERT_UPDATE, experts.update_expert)
    rpc.serve(contract.EXPERT_REMOVE, experts.remove_expert)
    rpc.serve(contract.EXPERT_IMPORT, expert_import.import_experts)
    rpc.serve(contract.EXPERT_IMPORT_TEMPLATE, expert_import.import_template)
    serve_meetings(rpc)
    serve_holidays(rpc)
    rpc.serve(statistics_contract.STATISTICS_GET, statistics.statistics)
    rpc.serve(statistics_contract.STATISTICS_EXPORT, statistics.export)
    return rpc


def serve_holidays(rpc: RpcRouter) -> None:
    h = holiday_contract
    rpc.serve(h.HOLIDAY_STATUS, holidays.status)
    rpc.serve(h.HOLIDAY_YEARS, holidays.years)
    rpc.serve(h.HOLIDAY_YEAR, holidays.year)
    rpc.serve(h.HOLIDAY_SAVE_YEAR, holidays.save_year)
    rpc.serve(h.HOLIDAY_REMOVE_YEAR, holidays.remove_year)
    rpc.serve(h.HOLIDAY_ADD_DAY, holidays.add_day)
    rpc.serve(h.HOLIDAY_REMOVE_DAY, holidays.remove_day)


def serve_meetings(rpc: RpcRouter) -> None:
    m = meeting_contract
    rpc.serve(m.COMMITTEE_RULES, committee_rules.list_rules)
    rpc.serve(m.COMMITTEE_SAVE_RULES, committee_rules.save_rules)
    rpc.serve(m.MEETING_LIST, meetings.list_meetings)
    rpc.serve(m.MEETING_CREATE, meetings.create_meeting)
    rpc.serve(m.MEETING_GET, meetings.get_meeting)
    rpc.serve(m.MEETING_CANDIDATES, meetings.candidates)
    rpc.serve(m.MEETING_ASSIGN, meetings.assign)
    rpc.serve(m.MEETING_UNASSIGN, meetings.unassign)
    rpc.serve(m.MEETING_CANCEL, meetings.cancel)
    rpc.serve(m.MEETING_RECORD, meetings.record)
    rpc.serve(m.MEETING_DRAW, meeting_draw.draw_members)
    rpc.serve(m.MEETING_DECLINE, meeting_draw.decline)
    rpc.serve(m.MEETING_CONFLICT, meeting_draw.record_conflict)
    rpc.serve(m.MEETING_OPEN, meeting_vote.open_voting)
    rpc.serve(m.MEETING_CLOSE, meeting_vote.close_voting)
    rpc.serve(m.MEETING_BALLOT, meeting_vote.ballot)
    rpc.serve(m.MEETING_VOTE, meeting_vote.cast_vote)


def serve_certificates(rpc: RpcRouter) -> None:
    rpc.serve(certificate_contract.CERTIFICATE_GET, certificates.get_certificate)
    rpc.serve(certificate_contract.CERTIFICATE_VERIFY, certificates.verify)
    rpc.serve(certificate_contract.CERTIFICATE_QUERIES, certificates.queries)
    rpc.serve(certificate_contract.CERTIFICATE_REVOKE, certificates.revoke)
    rpc.serve(certificate_contract.CERTIFICATE_LIST, certificates.register)


def serve_integrity(rpc: RpcRouter) -> None:
    """诚信承诺, objections, 失信 records (docs/integrity.md)."""
    c = integrity_contract
    rpc.serve(c.PLEDGE_CURRENT, integrity.pledge_current)
    rpc.serve(c.PLEDGE_VERSIONS, integrity.pledge_versions)
    rpc.serve(c.PLEDGE_PUBLISH, integrity.pledge_publish)
    rpc.serve(c.OBJECTION_RECORD, objections.record)
    rpc.serve(c.OBJECTION_SUBMIT_PUBLIC, objections.submit_public)
    rpc.serve(c.OBJECTION_FIND, objections.find)
    rpc.serve(c.OBJECTION_OF_CASE, objections.of_case)
    rpc.serve(c.OBJECTION_PUBLICITY_CASES, objections.publicity_cases)
    rpc.serve(c.PUBLICITY_LIST, objections.public_list)
    rpc.serve(c.DISCREDIT_RECORD, integrity.discredit_record)
    rpc.serve(c.DISCREDIT_LIST, integrity.discredit_list)
    rpc.serve(c.DISCREDIT_END, integrity.discredit_end)


SWEEP_INTERVAL = 300.0  # seconds between purges of the rate counters (verification, objections)
FOLD_INTERVAL = 2.0  # seconds between foldings of the statistics' changes into their sums


async def sweep_rate_counts(pool, deps: CasesDeps) -> int:
    async with pool.acquire() as conn:
        return await sweep(conn, datetime.now(UTC), deps.rate_limits.table)


async def fold_statistics(pool) -> int:
    async with pool.acquire() as conn, conn.transaction():
        return await statistics_store.fold(conn)


def build_events(deps: CasesDeps) -> EventConsumer:
    events = EventConsumer("cases")
    printed = DECLARATION_FORM_PRINTED
    events.on(printed.type, printed.payload)(printing.declaration_form_printed_handler(deps))
    return events


def build_service(settings: Settings | None = None, deps: CasesDeps | None = None) -> Service:
    deps = deps or CasesDeps()

    async def connect(service: Service) -> None:
        deps.relay = service.relay
        if deps.peers is None:  # accounts: the names of the applicants' units (meetings)
            deps.peers = RpcClient(
                service.settings.amqp_url,
                Names(service.settings).rpc_queue,
                service.settings.rpc_timeout,
            )
            await deps.peers.start()

    async def close(_service: Service) -> None:
        deps.relay = None  # the requests are over: what they committed was sent or is kept
        if deps.peers is not None:
            await deps.peers.close()
            deps.peers = None

    start_sweep, stop_sweep = service_hooks(
        "cases-sweep", SWEEP_INTERVAL, lambda service: sweep_rate_counts(service.pool, deps)
    )
    start_reminders, stop_reminders = service_hooks(
        "cases-deadline-reminders",
        deps.settings.deadline_sweep_seconds,
        lambda service: send_reminders(service.pool, deps),
    )
    start_fold, stop_fold = service_hooks(
        "cases-statistics-fold", FOLD_INTERVAL, lambda service: fold_statistics(service.pool)
    )
    return Service(
        "cases",
        build_rpc(deps),
        build_events(deps),
        settings=settings,
        on_start=[connect, start_sweep, start_reminders, start_fold],
        on_stop=[stop_fold, stop_reminders, stop_sweep, close],
    )

"""The cases service: the workflow's RPC methods and consumed events, in one process."""

from datetime import UTC, datetime

from services.cases.deps import CasesDeps
from services.cases.handlers import (
    applicant,
    audit_trail,
    certificates,
    expert_import,
    experts,
    printing,
    queries,
    reference,
    workflow,
)
from shared.consumer import EventConsumer
from shared.contracts.cases import certificates as certificate_contract
from shared.contracts.cases import rpc as contract
from shared.contracts.documents.events import DECLARATION_FORM_PRINTED
from shared.periodic import service_hooks
from shared.rate_limit import sweep
from shared.rpc import RpcRouter
from shared.service import Service
from shared.settings import Settings


def build_rpc(deps: CasesDeps) -> RpcRouter:
    rpc = RpcRouter("cases", deps=deps)
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
    rpc.serve(contract.AUDIT_SEARCH, audit_trail.search)
    rpc.serve(contract.CASE_READERS, audit_trail.readers)
    rpc.serve(contract.EXPERT_LIST, experts.list_experts)
    rpc.serve(contract.EXPERT_GET, experts.get_expert)
    rpc.serve(contract.EXPERT_CREATE, experts.create_expert)
    rpc.serve(contract.EXPERT_UPDATE, experts.update_expert)
    rpc.serve(contract.EXPERT_REMOVE, experts.remove_expert)
    rpc.serve(contract.EXPERT_IMPORT, expert_import.import_experts)
    rpc.serve(contract.EXPERT_IMPORT_TEMPLATE, expert_import.import_template)
    return rpc


def serve_certificates(rpc: RpcRouter) -> None:
    rpc.serve(certificate_contract.CERTIFICATE_GET, certificates.get_certificate)
    rpc.serve(certificate_contract.CERTIFICATE_VERIFY, certificates.verify)
    rpc.serve(certificate_contract.CERTIFICATE_QUERIES, certificates.queries)


SWEEP_INTERVAL = 300.0  # seconds between purges of the verification rate counters


async def sweep_rate_counts(pool, deps: CasesDeps) -> int:
    async with pool.acquire() as conn:
        return await sweep(conn, datetime.now(UTC), deps.rate_limits.table)


def build_events(deps: CasesDeps) -> EventConsumer:
    events = EventConsumer("cases")
    printed = DECLARATION_FORM_PRINTED
    events.on(printed.type, printed.payload)(printing.declaration_form_printed_handler(deps))
    return events


def build_service(settings: Settings | None = None, deps: CasesDeps | None = None) -> Service:
    deps = deps or CasesDeps()
    start_sweep, stop_sweep = service_hooks(
        "cases-sweep", SWEEP_INTERVAL, lambda service: sweep_rate_counts(service.pool, deps)
    )
    return Service(
        "cases",
        build_rpc(deps),
        build_events(deps),
        settings=settings,
        on_start=[start_sweep],
        on_stop=[stop_sweep],
    )

"""The documents service: stored scans, and the PDFs it renders from snapshots."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.documents.exports import ExportJobRunner, ExportSettings, purge_expired
from services.documents.handlers import (
    audit_export,
    audit_trail,
    certificates,
    exports,
    files,
    meetings,
    print_jobs,
    printing,
)
from services.documents.jobs import JobSettings, PrintJobRunner
from services.documents.metrics import observe_print_jobs, observe_render_pool
from services.documents.render.engine import DocumentRenderer
from services.documents.render.pool import RenderPool, RenderSettings
from services.documents.signing import CertificateSettings, SigningKeys, check_keys
from shared.consumer import EventConsumer
from shared.contracts.cases.certificates import CERTIFICATE_ISSUED
from shared.contracts.documents import rpc as contract
from shared.periodic import service_hooks
from shared.rate_limit import RateLimiter, sweep
from shared.rpc import RpcClient, RpcRouter
from shared.service import Service
from shared.settings import Settings
from shared.topology import Names


@dataclass
class DocumentsDeps:
    peers: RpcClient | None = None  # calls cases (who may see a case) and accounts (unit names)
    render: RenderSettings | None = None  # workers, time and memory limits (ZC_RENDER_*)
    renderer: DocumentRenderer | None = None  # started with the service: a worker pool
    in_flight: dict[tuple[str, str], asyncio.Future] = field(default_factory=dict)
    jobs: JobSettings | None = None  # print jobs at once, lease, attempts (ZC_PRINT_*)
    runner: PrintJobRunner | None = None
    exports: ExportSettings | None = None  # Excel exports at once, lease, keeping (ZC_EXPORT_*)
    export_runner: ExportJobRunner | None = None
    rate_limits: RateLimiter = field(default_factory=RateLimiter)  # print jobs per user
    certificates: CertificateSettings = field(default_factory=CertificateSettings)
    signing_keys: SigningKeys | None = None  # checked at start (ZC_SIGNING_*)


SWEEP_INTERVAL = 300.0  # seconds between purges of the rate counters and of expired exports


async def sweep_rate_counts(pool, deps: DocumentsDeps) -> int:
    await purge_expired(pool, (deps.exports or ExportSettings()).keep_hours)
    async with pool.acquire() as conn:
        return await sweep(conn, datetime.now(UTC), deps.rate_limits.table)


def build_rpc(deps: DocumentsDeps) -> RpcRouter:
    rpc = RpcRouter("documents", deps=deps)
    rpc.serve(contract.FILES_UPLOAD, files.upload)
    rpc.serve(contract.FILES_READ, files.read)
    rpc.serve(contract.DOCUMENTS_RENDER, printing.render)
    rpc.serve(contract.DOCUMENTS_READ, printing.read)
    rpc.serve(contract.DOCUMENTS_PRINT, print_jobs.start_print)
    rpc.serve(contract.DOCUMENTS_JOB, print_jobs.get_job)
    rpc.serve(contract.DOCUMENTS_READERS, audit_trail.readers)
    rpc.serve(contract.MEETINGS_PDF, meetings.meeting_pdf)
    rpc.serve(contract.CERTIFICATES_READ, certificates.read_certificate)
    rpc.serve(contract.EXPORTS_START, exports.start)
    rpc.serve(contract.EXPORTS_JOB, exports.get_job)
    rpc.serve(contract.EXPORTS_READ, exports.read)
    rpc.serve(contract.EXPORTS_PROGRESS, exports.progress)
    rpc.serve(contract.EXPORTS_PART, exports.part)
    rpc.serve(contract.EXPORT_COUNT, audit_export.count)
    rpc.serve(contract.EXPORT_BUILD, audit_export.build_export)
    return rpc


def build_events(deps: DocumentsDeps) -> EventConsumer:
    events = EventConsumer("documents")
    issued = CERTIFICATE_ISSUED
    events.on(issued.type, issued.payload)(certificates.certificate_issued_handler(deps))
    return events


def build_service(settings: Settings | None = None, deps: DocumentsDeps | None = None) -> Service:
    deps = deps or DocumentsDeps()

    async def check_signing(service: Service) -> None:
        if deps.signing_keys is None:
            deps.signing_keys = check_keys(deps.certificates, service.settings.var_dir)

    async def connect(service: Service) -> None:
        if deps.peers is None:
            deps.peers = RpcClient(
                service.settings.amqp_url,
                Names(service.settings).rpc_queue,
                service.settings.rpc_timeout,
            )
            await deps.peers.start()

    async def start_workers(_service: Service) -> None:
        if deps.renderer is None:
            pool = RenderPool(deps.render)
            await pool.start()
            deps.renderer = DocumentRenderer(pool)

    async def close(_service: Service) -> None:
        if deps.peers is not None:
            await deps.peers.close()
            deps.peers = None

    async def start_jobs(service: Service) -> None:
        deps.runner = PrintJobRunner(
            service.pool,
            service.settings.database_url,
            service.name,
            deps,
            deps.jobs or JobSettings(),
        )
        await deps.runner.start()
        deps.export_runner = ExportJobRunner(
            service.pool,
            service.settings.database_url,
            service.name,
            deps,
            deps.exports or ExportSettings(),
        )
        await deps.export_runner.start()

    async def stop_jobs(_service: Service) -> None:
        if deps.export_runner is not None:
            await deps.export_runner.stop()
            deps.export_runner = None
        if deps.runner is not None:
            await deps.runner.stop()
            deps.runner = None

    async def stop_workers(_service: Service) -> None:
        if deps.renderer is not None:
            await deps.renderer.pool.close()
            deps.renderer = None

    async def scrape(service: Service) -> None:
        if deps.renderer is not None:
            observe_render_pool(deps.renderer.pool)
        await observe_print_jobs(service.pool)

    start_sweep, stop_sweep = service_hooks(
        "documents-sweep",
        SWEEP_INTERVAL,
        lambda service: sweep_rate_counts(service.pool, deps),
    )

    return Service(
        "documents",
        build_rpc(deps),
        build_events(deps),
        settings=settings,
        on_start=[check_signing, connect, start_workers, start_jobs, start_sweep],
        on_stop=[stop_sweep, stop_jobs, close, stop_workers],
        on_scrape=[scrape],
    )

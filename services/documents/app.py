"""The documents service: stored scans, and the PDFs it renders from snapshots."""

import asyncio
from dataclasses import dataclass, field

from services.documents.handlers import files, printing
from services.documents.render.engine import DocumentRenderer
from services.documents.render.pool import RenderPool, RenderSettings
from shared.consumer import EventConsumer
from shared.rpc import RpcClient, RpcRouter
from shared.service import Service
from shared.settings import Settings
from shared.topology import Names


@dataclass
class DocumentsDeps:
    cases: RpcClient | None = None  # asks the cases service who may see a case
    render: RenderSettings | None = None  # workers, time and memory limits (ZC_RENDER_*)
    renderer: DocumentRenderer | None = None  # started with the service: a worker pool
    in_flight: dict[tuple[str, str], asyncio.Future] = field(default_factory=dict)


def build_rpc(deps: DocumentsDeps) -> RpcRouter:
    rpc = RpcRouter("documents", deps=deps)
    rpc.method("files.upload", files.Upload)(files.upload)
    rpc.method("files.read", files.FileRef)(files.read)
    rpc.method("documents.render", printing.RenderDocuments)(printing.render)
    rpc.method("documents.read", printing.DocumentRef)(printing.read)
    return rpc


def build_service(settings: Settings | None = None, deps: DocumentsDeps | None = None) -> Service:
    deps = deps or DocumentsDeps()

    async def connect(service: Service) -> None:
        if deps.cases is None:
            deps.cases = RpcClient(
                service.settings.amqp_url,
                Names(service.settings).rpc_queue,
                service.settings.rpc_timeout,
            )
            await deps.cases.start()

    async def start_workers(_service: Service) -> None:
        if deps.renderer is None:
            pool = RenderPool(deps.render)
            await pool.start()
            deps.renderer = DocumentRenderer(pool)

    async def close(_service: Service) -> None:
        if deps.cases is not None:
            await deps.cases.close()
            deps.cases = None

    async def stop_workers(_service: Service) -> None:
        if deps.renderer is not None:
            await deps.renderer.pool.close()
            deps.renderer = None

    return Service(
        "documents",
        build_rpc(deps),
        EventConsumer("documents"),
        settings=settings,
        on_start=[connect, start_workers],
        on_stop=[close, stop_workers],
    )

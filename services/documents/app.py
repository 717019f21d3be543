"""The documents service: stored scans (and, with the documents issue, the PDFs)."""

from dataclasses import dataclass

from services.documents.handlers import files
from shared.consumer import EventConsumer
from shared.rpc import RpcClient, RpcRouter
from shared.service import Service
from shared.settings import Settings
from shared.topology import Names


@dataclass
class DocumentsDeps:
    cases: RpcClient | None = None  # asks the cases service who may see a case


def build_rpc(deps: DocumentsDeps) -> RpcRouter:
    rpc = RpcRouter("documents", deps=deps)
    rpc.method("files.upload", files.Upload)(files.upload)
    rpc.method("files.read", files.FileRef)(files.read)
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

    async def close(_service: Service) -> None:
        if deps.cases is not None:
            await deps.cases.close()
            deps.cases = None

    return Service(
        "documents",
        build_rpc(deps),
        EventConsumer("documents"),
        settings=settings,
        on_start=[connect],
        on_stop=[close],
    )

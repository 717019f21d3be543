"""The cases service: its RPC methods and the events it consumes, wired into one process."""

from shared.consumer import EventConsumer
from shared.rpc import RpcRouter
from shared.service import Service
from shared.settings import Settings


def build_service(settings: Settings | None = None) -> Service:
    return Service("cases", RpcRouter("cases"), EventConsumer("cases"), settings=settings)

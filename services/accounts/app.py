"""The accounts service: its RPC methods and the events it consumes, wired into one process."""

from shared.consumer import EventConsumer
from shared.rpc import RpcRouter
from shared.service import Service
from shared.settings import Settings

rpc = RpcRouter("accounts")
events = EventConsumer("accounts")


def build_service(settings: Settings | None = None) -> Service:
    return Service("accounts", rpc, events, settings=settings)

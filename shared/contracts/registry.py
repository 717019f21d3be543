"""Every event and every RPC queue of the system, in one place: the AsyncAPI document
(shared/asyncapi.py) is built from it, and tests check that every event a service writes or
consumes and every RPC method it answers is here."""

from shared.contracts import external
from shared.contracts.accounts import events as accounts_events
from shared.contracts.accounts import rpc as accounts_rpc
from shared.contracts.base import Event, Method, ServiceApi
from shared.contracts.cases import events as cases_events
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.documents import events as documents_events
from shared.contracts.documents import rpc as documents_rpc
from shared.contracts.notify import events as notify_events
from shared.contracts.notify import rpc as notify_rpc

SERVICES: dict[str, ServiceApi] = {
    api.service: api for api in (accounts_rpc.API, cases_rpc.API, documents_rpc.API, notify_rpc.API)
}

EVENTS: dict[str, Event] = {}
for _event in (
    *accounts_events.EVENTS,
    *cases_events.EVENTS,
    *documents_events.EVENTS,
    *notify_events.EVENTS,
    *external.EVENTS,
):
    if _event.type in EVENTS:
        raise ValueError(f"event type {_event.type} is defined twice")
    EVENTS[_event.type] = _event


def event(event_type: str) -> Event | None:
    return EVENTS.get(event_type)


def method(service: str, name: str) -> Method | None:
    api = SERVICES.get(service)
    return api.get(name) if api is not None else None

"""What a contract is made of: RPC methods and events, each named once with its models.

- `Method`: one RPC method of one service: its name, the pydantic model of its params (what
  the service validates with and its callers send with) and of its result (what it answers
  with; `Reply` models forbid unknown keys, so an answer that grows a key the contract does
  not name fails the tests, which check every answer: `ZC_RPC_CHECK_RESULTS`).
- `ServiceApi`: the methods one service answers on its queue `<prefix>.rpc.<service>`, with
  the three every service has (`ping`, `stats`, `audit.search`).
- `Event`: one event type with its payload model, producer, consumers and a one-line summary.
  Producers build the payload with the model, consumers validate with it (and may add checks
  of their own on top); a consumer ignores keys it does not know, so a producer may add one
  before its consumers know it.

Pure: pydantic and the standard library only, no I/O (a service's domain imports contracts).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Reply(BaseModel):
    """An RPC result: exactly the keys the contract names."""

    model_config = ConfigDict(extra="forbid")


class Payload(BaseModel):
    """An event payload. Consumers ignore keys they do not know (a newer producer's); our
    producers may not send any (shared/envelope.py refuses them)."""


@dataclass(frozen=True)
class Method:
    service: str
    name: str
    params: type[BaseModel] | None
    result: type[BaseModel] | None
    summary: str
    # models a params field takes by case, which the params model cannot name itself
    # (documents.render's snapshots: one model per document kind), for the AsyncAPI document
    by_case: tuple[tuple[str, type[BaseModel]], ...] = ()
    # a file crosses beside the JSON, as bytes (shared/rpc.py ATTACHED): sent with the params
    # (the handler reads CallContext.attachment) or answered with the result (Attached)
    takes_file: bool = False
    returns_file: bool = False

    def __str__(self) -> str:
        return f"{self.service}:{self.name}"


class Pong(Reply):
    service: str
    pid: int


class Stats(Reply):
    """The answering process's figures since it started (shared/metrics.py), for the
    sysadmin's 系统运行状况 page; docs/operations.md says what each means."""

    service: str
    pid: int
    in_flight: int
    peak_in_flight: int
    handled: int  # RPC requests answered
    expired: int = 0  # RPC requests dropped unrun: their turn came after their caller gave up
    rpc_errors: int = 0  # of those, answered internal, contract_broken or database_unavailable
    events_handled: int = 0
    events_failed: int = 0  # handler raised (retried later) or unreadable (dead-lettered)
    events_dead_lettered: int = 0
    inbox_duplicates: int = 0
    outbox_unsent: int = 0
    outbox_oldest_seconds: float = 0.0
    db_pool_in_use: int = 0
    db_pool_size: int = 0
    db_pool_max: int = 0


def common_methods(service: str) -> tuple[Method, ...]:
    """What every service answers (shared/rpc.py RpcRouter)."""
    from shared.contracts.audit import AuditPage, AuditSearch  # it builds on this module

    return (
        Method(
            service,
            "ping",
            None,
            Pong,
            "Readiness: answers only when the process and its database can serve",
        ),
        Method(service, "stats", None, Stats, "Request counters of the answering process"),
        Method(
            service,
            "audit.search",
            AuditSearch,
            AuditPage,
            "The sysadmin's search of this service's audit trail (docs/audit.md)",
        ),
    )


class ServiceApi:
    """The methods of one service, by name."""

    def __init__(self, service: str, methods: Iterable[Method]) -> None:
        self.service = service
        self._methods: dict[str, Method] = {}
        for method in (*common_methods(service), *methods):
            if method.service != service:
                raise ValueError(f"{method} is not a method of {service}")
            if method.name in self._methods:
                raise ValueError(f"{method} is named twice")
            self._methods[method.name] = method

    def __getitem__(self, name: str) -> Method:
        return self._methods[name]

    def __contains__(self, name: object) -> bool:
        return name in self._methods

    def __iter__(self) -> Iterator[Method]:
        return iter(self._methods.values())

    def get(self, name: str) -> Method | None:
        return self._methods.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._methods)


@dataclass(frozen=True)
class Event:
    type: str
    payload: type[Payload]
    producer: str  # a service of ours, or an outside system (talent, si)
    consumers: tuple[str, ...]
    summary: str
    version: int = 1


class RpcErrorBody(Reply):
    """What a refused call answers with (shared/rpc.py RpcError)."""

    code: str
    message: str
    status: int
    fields: dict[str, str] = Field(default_factory=dict)
    details: Any = None


# A personal number (an ID number, a mobile) inside an event: sealed with the TRANSIT label of
# shared/personal_data.py, so a message at rest in the broker or the dead-letter table shows
# nothing. The consumer opens it with the keyring when it must use the number.
SEALED_PATTERN = r"^pd1\.[A-Za-z0-9]+\.[A-Za-z0-9_-]+$"

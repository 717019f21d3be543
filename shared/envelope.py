"""The envelope every integration event travels in.

An event of a type the contracts name (shared/contracts/registry.py) is built with its
payload model: `new_event` refuses a payload that does not fit it, or that carries a key
it does not name, so no service of ours writes an event its consumers cannot read.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.registry import event as registered
from shared.correlation import current as current_request_id


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
    version: int = Field(1, ge=1)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str = Field(min_length=1)
    # The request id of what caused it (shared/correlation.py); older events carry a UUID.
    correlation_id: str | None = Field(None, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def new_event(
    type: str,
    payload: BaseModel | dict[str, Any],
    producer: str,
    correlation_id: uuid.UUID | str | None = None,
    version: int = 1,
) -> Envelope:
    """An event; its correlation id is the current request's unless one is given.

    Raises ValueError when the type is in the contracts and the payload does not fit its
    model (pydantic's ValidationError is one)."""
    spec = registered(type)
    if spec is not None:
        payload = _as_contracted(type, spec.payload, payload)
    elif isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    correlation_id = str(correlation_id) if correlation_id else current_request_id()
    return Envelope(
        type=type,
        payload=payload,
        producer=producer,
        correlation_id=correlation_id,
        version=version,
    )


def _as_contracted(
    event_type: str, model: type[BaseModel], payload: BaseModel | dict[str, Any]
) -> dict[str, Any]:
    if isinstance(payload, BaseModel):
        if not isinstance(payload, model):
            raise ValueError(f"{event_type} takes a {model.__name__}, not {type(payload).__name__}")
        return payload.model_dump(mode="json")
    unknown = sorted(set(payload) - set(model.model_fields))
    if unknown:
        raise ValueError(f"{event_type} has no {', '.join(unknown)} in its contract")
    return model.model_validate(payload).model_dump(mode="json")

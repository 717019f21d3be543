"""The envelope every integration event travels in."""

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
    """An event; its correlation id is the current request's unless one is given."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    correlation_id = str(correlation_id) if correlation_id else current_request_id()
    return Envelope(
        type=type,
        payload=payload,
        producer=producer,
        correlation_id=correlation_id,
        version=version,
    )

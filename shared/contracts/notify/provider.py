"""The SMS provider contract: what notify publishes to the providers' adapters, and the
receipts they answer with. Pure: no I/O.

- notify publishes each SMS to the direct exchange `<prefix>.sms.outbound` as an
  `OutboundSms`, persistent, with a priority (codes 9, notices 1), message id = out-id, and an
  AMQP expiry for codes. Routing key `sms` goes to the primary provider's queue
  `<prefix>.sms.provider`, `sms.fallback` to `<prefix>.sms.provider.fallback`; both are
  priority queues, so codes overtake a backlog of notices. `template` and `params` are what a
  real provider sends (approved templates only); `body` is the text as the person reads it.
- The out-id `<delivery_id>:<attempt>` names one attempt of one SMS. notify publishes an
  attempt once; after a crash it may publish the same attempt again with the header
  `x-reconciliation: <n>`. The adapter passes the out-id to its provider as the client-side
  id and never sends one out-id twice.
- An adapter reports each outcome to the queue `<prefix>.sms.receipts` as an `SmsReceipt`;
  `duplicate: true` says the provider already had that out-id and nothing was sent now.
  status: `sent` (accepted, `ref` the provider's id), `delivered` / `failed` (`report: true`:
  the provider's delivery report, with its `code`), `failed` with `class` permanent,
  throttled (`retry_after` seconds) or transient, `unsettled` (the provider cannot tell yet).
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

CODE_PRIORITY = 9
NOTICE_PRIORITY = 1
RECONCILIATION_HEADER = "x-reconciliation"
ROUTING_KEY = "sms"  # the primary route's
ROUTES = ("primary", "fallback")
ROUTING_KEYS = {"primary": ROUTING_KEY, "fallback": "sms.fallback"}


def out_id(delivery_id: object, attempt: int) -> str:
    return f"{delivery_id}:{attempt}"


class OutboundSms(BaseModel):
    delivery_id: str
    attempt: int
    out_id: str  # <delivery_id>:<attempt>
    mobile: str  # sealed with TRANSIT (shared/personal_data.py); plain from an older notify
    body: str
    expires_at: datetime | None = None
    template: str | None = None  # a key of services/notify/templates.py
    params: dict[str, str | int | float] = {}


class SmsReceipt(BaseModel):
    delivery_id: str
    attempt: int
    out_id: str | None = None
    status: Literal["sent", "delivered", "failed", "unsettled"]
    error: str | None = None
    duplicate: bool = False
    provider: str | None = None
    code: str | None = None
    error_class: Literal["permanent", "throttled", "transient"] | None = Field(None, alias="class")
    retry_after: float | None = None
    ref: str | None = None
    report: bool | None = None

"""The SMS provider contract: what notify publishes to the providers' adapters, and the
receipts they answer with. Pure: no I/O.

- notify publishes each SMS to the direct exchange `<prefix>.sms.outbound` (routing key
  `sms`) as an `OutboundSms`, persistent, with a priority (codes 9, notices 1), message id =
  out-id, and an AMQP expiry for codes. Adapters consume `<prefix>.sms.provider`, a priority
  queue, so codes overtake a backlog of notices.
- The out-id `<delivery_id>:<attempt>` names one attempt of one SMS. notify publishes an
  attempt once; after a crash it may publish the same attempt again with the header
  `x-reconciliation: <n>`. The adapter passes the out-id to its provider as the client-side
  id and never sends one out-id twice.
- An adapter reports each outcome to the queue `<prefix>.sms.receipts` as an `SmsReceipt`;
  `duplicate: true` says the provider already had that out-id and nothing was sent now.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

CODE_PRIORITY = 9
NOTICE_PRIORITY = 1
RECONCILIATION_HEADER = "x-reconciliation"
ROUTING_KEY = "sms"


def out_id(delivery_id: object, attempt: int) -> str:
    return f"{delivery_id}:{attempt}"


class OutboundSms(BaseModel):
    delivery_id: str
    attempt: int
    out_id: str  # <delivery_id>:<attempt>
    mobile: str
    body: str
    expires_at: datetime | None = None


class SmsReceipt(BaseModel):
    delivery_id: str
    attempt: int
    out_id: str | None = None
    status: Literal["delivered", "failed"]
    error: str | None = None
    duplicate: bool = False

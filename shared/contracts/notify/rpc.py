"""The notify service's RPC methods on `<prefix>.rpc.notify`, with their models."""

from datetime import datetime

from pydantic import BaseModel, Field

from shared.contracts.accounts.vocabulary import CodePurpose
from shared.contracts.base import Method, Reply, ServiceApi
from shared.contracts.exports import owner_methods
from shared.contracts.personal import unmask_method

SERVICE = "notify"


class SendCode(BaseModel):
    mobile: str = Field(pattern=r"^1[3-9]\d{9}$")
    code: str = Field(pattern=r"^\d{6}$")
    purpose: CodePurpose
    expires_at: datetime
    reference: str = ""  # the caller's id of the code, to ask about its deliveries


class DeliveryQuery(BaseModel):
    reference: str


class UnsettledQuery(BaseModel):
    unconfirmed_minutes: int = Field(10, ge=0, le=7 * 24 * 60)
    limit: int = Field(100, ge=1, le=1000)


class CodeSending(Reply):
    delivery_id: str
    status: str  # sending, sent or queued: on its way


class DeliveryState(Reply):
    id: str
    status: str
    attempts: int
    updated_at: datetime


class Deliveries(Reply):
    deliveries: list[DeliveryState]


class UnsettledDelivery(Reply):
    id: str
    kind: str  # code or notice
    mobile: str  # masked
    status: str  # sending or sent
    attempts: int
    reconciliations: int
    sending_since: datetime | None
    updated_at: datetime
    created_at: datetime
    expires_at: datetime | None
    last_error: str | None
    stuck: bool


class Unsettled(Reply):
    sending: int
    stuck: int
    sent_unconfirmed: int
    reconcile_lease_seconds: float
    deliveries: list[UnsettledDelivery]


def _method(name, params, result, summary) -> Method:
    return Method(SERVICE, name, params, result, summary)


SMS_SEND_CODE = _method(
    "sms.send_code", SendCode, CodeSending, "Send a verification code now, ahead of notices"
)
SMS_DELIVERY_STATUS = _method(
    "sms.delivery_status", DeliveryQuery, Deliveries, "The deliveries of a reference"
)
SMS_UNSETTLED = _method(
    "sms.unsettled",
    UnsettledQuery,
    Unsettled,
    "SMS left sending or sent without a receipt (system administrator)",
)

PERSONAL_UNMASK = unmask_method(SERVICE)
EXPORT_COUNT, EXPORT_BUILD = owner_methods(SERVICE)

API = ServiceApi(
    SERVICE,
    (
        SMS_SEND_CODE,
        SMS_DELIVERY_STATUS,
        SMS_UNSETTLED,
        PERSONAL_UNMASK,
        EXPORT_COUNT,
        EXPORT_BUILD,
    ),
)

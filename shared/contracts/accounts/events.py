"""The events the accounts service publishes (no service consumes them yet)."""

from shared.contracts.base import Event, Payload


class UnitRegistered(Payload):
    unit_id: str
    org_code: str
    name: str
    admin_user_id: str
    admin_username: str


class UserCreated(Payload):
    user_id: str
    unit_id: str
    role: str
    name: str
    id_number: str | None = None


UNIT_REGISTERED = Event(
    "accounts.unit.registered",
    UnitRegistered,
    "accounts",
    (),
    "A unit registered here (单位用户注册) with its unit admin",
)
USER_CREATED = Event(
    "accounts.user.created",
    UserCreated,
    "accounts",
    (),
    "A unit created an operator or applicant account (one by one or by import)",
)

EVENTS = (UNIT_REGISTERED, USER_CREATED)

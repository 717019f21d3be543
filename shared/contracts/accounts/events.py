"""The events the accounts service publishes."""

from pydantic import Field

from shared.contracts.base import SEALED_PATTERN, Event, Payload

# ID numbers and mobiles travel sealed with shared.personal_data.TRANSIT: the consumer opens
# them with keyring().open(value, TRANSIT).


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
    id_number: str | None = Field(None, pattern=SEALED_PATTERN)


class AccountLocked(Payload):
    """Too many wrong passwords from many addresses: the account takes no logins from
    addresses it was never used from until `locked_until`; its owner is told by SMS."""

    user_id: str
    username: str
    mobile: str | None = Field(None, pattern=SEALED_PATTERN)  # none: nobody to tell
    locked_until: str  # ISO time
    failures: int  # wrong passwords within the window that counted them
    addresses: int  # how many client addresses they came from
    notify_owner: bool  # False when the owner was told of a lock within the last day


class SessionsChanged(Payload):
    """Sessions of these people, or of everyone of these units, ended or changed (a logout,
    a password change, an account or unit disabled, a name or role changed): a gateway drops
    what it cached of them and asks again. Written by database triggers on accounts' tables
    (migration 013), so no code path that changes them can forget it."""

    user_ids: list[str] = Field(default_factory=list)
    unit_ids: list[str] = Field(default_factory=list)


class ExpertAccountOpened(Payload):
    """A review expert's account, opened when they were first drawn for a meeting. It has no
    password anybody knows: the expert sets one with a code sent to this mobile (忘记密码), so
    no password travels in any message (docs/committee.md)."""

    user_id: str
    username: str
    name: str
    mobile: str = Field(pattern=SEALED_PATTERN)


class DeadlineReminderAddressed(Payload):
    """A case.deadline_reminder for one person who must act: the unit's admin, or an account
    of the reviewer organisation. notify texts them."""

    user_id: str
    mobile: str = Field(pattern=SEALED_PATTERN)
    on_day: str  # ISO date in China: the SMS is of no use after it
    due_on: str  # ISO date: the earliest last day among the cases
    cases: int = Field(ge=1)


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

ACCOUNT_LOCKED = Event(
    "accounts.account.locked",
    AccountLocked,
    "accounts",
    ("notify",),
    "An account was locked after many failed logins from many addresses (ASVS 2.2.1)",
)

EXPERT_ACCOUNT_OPENED = Event(
    "accounts.expert_account.opened",
    ExpertAccountOpened,
    "accounts",
    ("notify",),
    "A review expert's account was opened: notify tells them its username and how to set a"
    " password",
)

DEADLINE_REMINDER_ADDRESSED = Event(
    "accounts.deadline_reminder.addressed",
    DeadlineReminderAddressed,
    "accounts",
    ("notify",),
    "A reminder of cases near their step time limit, for one person with a mobile: notify"
    " texts them",
)

SESSIONS_CHANGED = Event(
    "accounts.sessions.changed",
    SessionsChanged,
    "accounts",
    ("gateway",),
    "Sessions ended or their user changed: every gateway copy drops them from its session"
    " cache (on an exclusive queue of its own, not a shared one)",
)

EVENTS = (
    UNIT_REGISTERED,
    USER_CREATED,
    ACCOUNT_LOCKED,
    EXPERT_ACCOUNT_OPENED,
    DEADLINE_REMINDER_ADDRESSED,
    SESSIONS_CHANGED,
)

"""The accounts service's RPC methods on `<prefix>.rpc.accounts`, with their models.

The JSON API's bodies are the params the gateway passes on (`Credentials`, `NewPassword`,
…); the RPC params add what the gateway adds itself (the client's address, the role).
"""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, RootModel

from shared.contracts.accounts.vocabulary import (
    ManagedRole,
    PersonRole,
    ReviewerRole,
    SmsPurpose,
    UserStatus,
)
from shared.contracts.base import Method, Reply, ServiceApi
from shared.contracts.exports import owner_methods
from shared.contracts.personal import unmask_method

SERVICE = "accounts"
MAX_UNIT_NAMES = 500

# --- what a person sends (the JSON API's bodies, the pages' forms) ---


class SmsCodeRequest(BaseModel):
    mobile: str = ""
    purpose: SmsPurpose
    username: str = ""  # reset_password: the account whose registered mobile gets the code


class UnitRegistration(BaseModel):
    """单位用户注册 (manual §1.1): the unit and its one unit admin."""

    org_code: str = ""
    si_unit_no: str = ""
    admin_name: str = ""
    admin_id_number: str = ""
    admin_si_no: str = ""
    email: str = ""
    username: str = ""
    password: str = ""
    password_confirm: str = ""
    phone: str = ""
    mobile: str = ""
    sms_code: str = ""


class Credentials(BaseModel):
    username: str = ""
    password: str = ""
    captcha_id: str = ""
    captcha_answer: str = ""


class ChangePassword(BaseModel):
    old_password: str = ""
    new_password: str = ""
    new_password_confirm: str = ""


class ResetPassword(BaseModel):
    """A forgotten password, reset with an SMS code sent to the registered mobile."""

    username: str = ""
    mobile: str = ""
    sms_code: str = ""
    new_password: str = ""
    new_password_confirm: str = ""


class NewPassword(BaseModel):
    new_password: str = ""
    new_password_confirm: str = ""


class ChangeMobile(BaseModel):
    """修改手机号码: the current password again, and a code sent to the new mobile."""

    password: str = ""
    mobile: str = ""  # the new one
    sms_code: str = ""


class OperatorForm(BaseModel):
    """A unit operator's (经办人) account: the `fields` of users.create for unit_operator."""

    name: str = ""
    mobile: str = ""
    email: str = ""
    username: str = ""
    password: str = ""


class OperatorUpdate(BaseModel):
    name: str | None = None
    mobile: str | None = None
    email: str | None = None


class ApplicantForm(BaseModel):
    """An applicant's (申报人员) account: the `fields` of users.create for applicant."""

    name: str = ""
    id_number: str = ""
    gender: str = ""  # 男 or 女
    mobile: str = ""
    email: str = ""
    username: str = ""
    password: str = ""


class ApplicantUpdate(BaseModel):
    name: str | None = None
    id_number: str | None = None
    gender: str | None = None
    mobile: str | None = None
    email: str | None = None


PERSON_FORMS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "unit_operator": (OperatorForm, OperatorUpdate),
    "applicant": (ApplicantForm, ApplicantUpdate),
}


class StatusChange(BaseModel):
    active: bool


class ReviewerForm(BaseModel):
    """org_id: a department's or committee's id from the reference data (cases' ref.all),
    or the office's; the organisation's name is taken from there."""

    role: ReviewerRole
    org_id: str = ""
    name: str = ""
    username: str = ""
    password: str = ""
    mobile: str = ""


# --- params ---


class RequestCode(SmsCodeRequest):
    client_ip: str = ""


class ConfirmCode(BaseModel):
    """A code that only confirms a mobile (purpose objection): used up when right."""

    mobile: str = ""
    purpose: Literal["objection"] = "objection"
    sms_code: str = ""


class RegisterUnit(BaseModel):
    form: UnitRegistration
    client_ip: str = ""


class Login(Credentials):
    client_ip: str = ""
    user_agent: str = ""


class LoginCode(BaseModel):
    """The second step of a reviewer's sign-in: the code sent to their registered mobile."""

    challenge_id: str = ""
    sms_code: str = ""


class ConfirmLogin(LoginCode):
    client_ip: str = ""
    user_agent: str = ""


class LoginChallenge(BaseModel):
    challenge_id: str = ""


class ResendLoginCode(LoginChallenge):
    client_ip: str = ""


class NewCaptcha(BaseModel):
    client_ip: str = ""  # captchas are rate-limited per client address


class ResetRequest(ResetPassword):
    client_ip: str = ""


class Token(BaseModel):
    token: str


class SessionLookup(Token):
    """A session token, and when the asking gateway last served it from its cache: that use
    counts as activity, so a session in use is not ended as idle (docs/security.md)."""

    last_active: datetime | None = None


class UnitIds(BaseModel):
    unit_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_UNIT_NAMES)


class ListUsers(BaseModel):
    role: PersonRole
    q: str = ""
    status: UserStatus = "all"
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=200)


class UserForm(BaseModel):
    """`fields`: an OperatorForm or ApplicantForm, by role."""

    role: PersonRole
    fields: dict[str, str]


class UpdateUser(BaseModel):
    """`fields`: every field of the role's form but username and password."""

    role: PersonRole
    user_id: uuid.UUID
    fields: dict[str, str]


class UserRef(BaseModel):
    role: ManagedRole | None = None  # None: any role the caller manages
    user_id: uuid.UUID


class SetActive(UserRef, StatusChange):
    pass


class SetPassword(UserRef, NewPassword):
    pass


class SessionRef(BaseModel):
    session_id: uuid.UUID


class ImportApplicants(BaseModel):
    """Nothing but the .xlsx, which comes as the call's file (takes_file)."""


class CreateReviewer(ReviewerForm):
    org_name: str = ""
    check_only: bool = False  # validate and answer, create nothing


class ListReviewers(BaseModel):
    role: ReviewerRole | None = None
    status: UserStatus = "all"


# --- results ---


class UserView(Reply):
    """An account as others are shown it; id_number masked but to those who manage it."""

    id: str
    username: str
    role: str
    name: str
    unit_id: str | None
    unit_name: str | None
    org_id: str | None
    org_name: str | None
    active: bool
    gender: str | None
    mobile: str | None
    email: str | None
    id_number: str | None
    created_at: str


class Captcha(Reply):
    captcha_id: str
    image: str  # PNG, base64


class CodeSent(Reply):
    sent: bool
    mobile: str
    cooldown_seconds: int
    expires_in_seconds: int


class CodeConfirmed(Reply):
    mobile: str


class RegisteredUnit(Reply):
    unit_id: str
    unit_name: str
    user_id: str
    username: str


class Session(Reply):
    csrf_token: str
    session_id: str  # the session's public id (never the token): 登录设备 marks it 当前设备
    user: UserView


class ResolvedSession(Session):
    """What a gateway may cache: the session's end and idle limit let it refuse an expired
    session by itself; revocations reach it as accounts.sessions.changed."""

    expires_at: datetime
    idle_seconds: int


class LoggedIn(Session):
    token: str


class SecondFactor(Reply):
    """A code went to the account's mobile (masked here); no session until it is typed."""

    challenge_id: str
    mobile: str
    expires_in_seconds: int
    cooldown_seconds: int


class CodeNeeded(Reply):
    second_factor: SecondFactor


class LoginAnswer(RootModel[LoggedIn | CodeNeeded]):
    """A session, or (reviewer accounts) the code to type first."""


class LoggedOut(Reply):
    logged_out: bool


class Changed(Reply):
    changed: bool


class PasswordSet(Reply):
    reset: bool


class MobileChanged(Reply):
    mobile: str


class SessionView(Reply):
    """One active session of the caller, as 登录设备 lists it."""

    id: str
    current: bool  # the session the call was made in
    created_at: str
    last_seen_at: str
    expires_at: str  # the absolute limit; idleness may end it sooner
    client_ip: str | None
    user_agent: str | None
    browser: str  # short and readable, e.g. "Chrome 120 / Windows"


class SessionList(Reply):
    items: list[SessionView]


class SessionsEnded(Reply):
    ended: int


class UnitNames(Reply):
    names: dict[str, str]  # unit id -> name, of the units that exist


class UserPage(Reply):
    total: int
    page: int
    page_size: int
    items: list[UserView]


class Created(Reply):
    user_id: str
    username: str


class Updated(Reply):
    updated: bool


class ActiveSet(Reply):
    active: bool


class Deleted(Reply):
    deleted: bool
    name: str
    username: str


class ImportedRow(Reply):
    row: int
    name: str
    username: str


class RefusedRow(ImportedRow):
    reasons: dict[str, str]


class ImportReport(Reply):
    created: list[ImportedRow]
    refused: list[RefusedRow]


class ImportTemplate(Reply):
    filename: str
    content_type: str


class ReviewerChecked(Reply):
    valid: bool


class ReviewerCreated(RootModel[Created | ReviewerChecked]):
    """The new account, or (check_only) that the form is valid."""


class ReviewerList(Reply):
    items: list[UserView]


def _method(name, params, result, summary, **files: bool) -> Method:
    return Method(SERVICE, name, params, result, summary, **files)


CAPTCHA_NEW = _method("captcha.new", NewCaptcha, Captcha, "A new image captcha for the login form")
SMS_REQUEST_CODE = _method(
    "sms.request_code", RequestCode, CodeSent, "Send an SMS code (cooldown, daily caps)"
)
SMS_CONFIRM_CODE = _method(
    "sms.confirm_code",
    ConfirmCode,
    CodeConfirmed,
    "Confirm a mobile by its SMS code (purpose objection; the code is used up)",
)
UNIT_REGISTER = _method(
    "unit.register", RegisterUnit, RegisteredUnit, "Register a unit and its unit admin"
)
AUTH_LOGIN = _method(
    "auth.login",
    Login,
    LoginAnswer,
    "Log in (captcha, lockout): a new session, or for a reviewer the SMS code to type first",
)
AUTH_CONFIRM_LOGIN = _method(
    "auth.confirm_login", ConfirmLogin, LoggedIn, "A reviewer's login code: a new session"
)
AUTH_RESEND_LOGIN_CODE = _method(
    "auth.resend_login_code", ResendLoginCode, SecondFactor, "Send a login code again"
)
AUTH_SESSION = _method(
    "auth.session", SessionLookup, ResolvedSession, "The user of a session token, or 401"
)
AUTH_LOGOUT = _method("auth.logout", Token, LoggedOut, "End a session")
AUTH_CHANGE_PASSWORD = _method(
    "auth.change_password",
    ChangePassword,
    Changed,
    "Change one's own password; the caller's other sessions end",
)
AUTH_RESET_PASSWORD = _method(
    "auth.reset_password", ResetRequest, PasswordSet, "Reset a password with an SMS code"
)
AUTH_CHANGE_MOBILE = _method(
    "auth.change_mobile",
    ChangeMobile,
    MobileChanged,
    "Change one's own mobile (password and a code to the new mobile); other sessions end",
)
SESSIONS_LIST = _method("sessions.list", None, SessionList, "The caller's active sessions")
SESSIONS_END = _method(
    "sessions.end", SessionRef, SessionsEnded, "End another session of the caller's, or 404"
)
SESSIONS_END_OTHERS = _method(
    "sessions.end_others", None, SessionsEnded, "End every session of the caller's but this one"
)
UNITS_NAMES = _method("units.names", UnitIds, UnitNames, "The names of these units")
USERS_ME = _method("users.me", None, UserView, "The caller's own account, unmasked")
USERS_LIST = _method("users.list", ListUsers, UserPage, "A page of the unit's people of a role")
USERS_GET = _method("users.get", UserRef, UserView, "One account the caller manages, masked")
USERS_CREATE = _method("users.create", UserForm, Created, "Create an operator or applicant")
USERS_UPDATE = _method("users.update", UpdateUser, Updated, "Change a person's details")
USERS_SET_ACTIVE = _method(
    "users.set_active", SetActive, ActiveSet, "Disable (ending its sessions) or enable"
)
USERS_DELETE = _method(
    "users.delete", UserRef, Deleted, "Delete an applicant account (the caller checked cases)"
)
USERS_SET_PASSWORD = _method(
    "users.set_password", SetPassword, PasswordSet, "Set a new password for someone managed"
)
APPLICANTS_IMPORT = _method(
    "applicants.import",
    ImportApplicants,
    ImportReport,
    "Import applicants from .xlsx",
    takes_file=True,
)
APPLICANTS_IMPORT_TEMPLATE = _method(
    "applicants.import_template",
    None,
    ImportTemplate,
    "The empty .xlsx an import reads (its header row)",
    returns_file=True,
)
REVIEWERS_CREATE = _method(
    "reviewers.create",
    CreateReviewer,
    ReviewerCreated,
    "Create a department, office or committee account (or only check the form)",
)
REVIEWERS_LIST = _method("reviewers.list", ListReviewers, ReviewerList, "The reviewer accounts")

PERSONAL_UNMASK = unmask_method(SERVICE)
EXPORT_COUNT, EXPORT_BUILD = owner_methods(SERVICE)

API = ServiceApi(
    SERVICE,
    (
        PERSONAL_UNMASK,
        EXPORT_COUNT,
        EXPORT_BUILD,
        CAPTCHA_NEW,
        SMS_REQUEST_CODE,
        SMS_CONFIRM_CODE,
        UNIT_REGISTER,
        AUTH_LOGIN,
        AUTH_CONFIRM_LOGIN,
        AUTH_RESEND_LOGIN_CODE,
        AUTH_SESSION,
        AUTH_LOGOUT,
        AUTH_CHANGE_PASSWORD,
        AUTH_RESET_PASSWORD,
        AUTH_CHANGE_MOBILE,
        SESSIONS_LIST,
        SESSIONS_END,
        SESSIONS_END_OTHERS,
        UNITS_NAMES,
        USERS_ME,
        USERS_LIST,
        USERS_GET,
        USERS_CREATE,
        USERS_UPDATE,
        USERS_SET_ACTIVE,
        USERS_DELETE,
        USERS_SET_PASSWORD,
        APPLICANTS_IMPORT,
        APPLICANTS_IMPORT_TEMPLATE,
        REVIEWERS_CREATE,
        REVIEWERS_LIST,
    ),
)

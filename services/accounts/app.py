"""The accounts service: every RPC method and consumed event, wired into one process."""

from services.accounts.deps import AccountsDeps
from services.accounts.handlers import (
    applicant_import,
    auth,
    captchas,
    enrolments,
    experts,
    exports,
    mobile,
    organisations,
    registration,
    reminders,
    reviewers,
    second_factor,
    sessions,
    sms,
    talent,
    units,
    unmask,
    users,
)
from services.accounts.sweep import sweep
from shared.consumer import EventConsumer
from shared.contracts import external
from shared.contracts.accounts import rpc as contract
from shared.contracts.cases.events import ORGANISATION_RENAMED
from shared.contracts.cases.holidays import DEADLINE_REMINDER
from shared.contracts.cases.meetings import EXPERT_REPLACED, MEETING_DRAWN
from shared.periodic import service_hooks
from shared.rpc import RpcClient, RpcRouter
from shared.service import Service
from shared.settings import Settings
from shared.topology import Names


def build_rpc(deps: AccountsDeps) -> RpcRouter:
    rpc = RpcRouter("accounts", deps=deps)
    rpc.serve(contract.PERSONAL_UNMASK, unmask.unmask)
    rpc.serve(contract.EXPORT_COUNT, exports.count)
    rpc.serve(contract.EXPORT_BUILD, exports.build_export)
    rpc.serve(contract.CAPTCHA_NEW, captchas.new_captcha)
    rpc.serve(contract.SMS_REQUEST_CODE, sms.request_code)
    rpc.serve(contract.SMS_CONFIRM_CODE, sms.confirm_code)
    rpc.serve(contract.UNIT_REGISTER, registration.register_unit)
    rpc.serve(contract.AUTH_LOGIN, auth.login)
    rpc.serve(contract.AUTH_CONFIRM_LOGIN, second_factor.confirm)
    rpc.serve(contract.AUTH_RESEND_LOGIN_CODE, second_factor.resend_code)
    rpc.serve(contract.AUTH_SESSION, auth.resolve_session)
    rpc.serve(contract.AUTH_LOGOUT, auth.logout)
    rpc.serve(contract.AUTH_CHANGE_PASSWORD, auth.change_password)
    rpc.serve(contract.AUTH_RESET_PASSWORD, auth.reset_password)
    rpc.serve(contract.AUTH_CHANGE_MOBILE, mobile.change_mobile)
    rpc.serve(contract.SESSIONS_LIST, sessions.list_sessions)
    rpc.serve(contract.SESSIONS_END, sessions.end_session)
    rpc.serve(contract.SESSIONS_END_OTHERS, sessions.end_other_sessions)
    rpc.serve(contract.UNITS_NAMES, units.unit_names)
    rpc.serve(contract.USERS_ME, users.me)
    rpc.serve(contract.USERS_LIST, users.list_users)
    rpc.serve(contract.USERS_GET, users.get_user)
    rpc.serve(contract.USERS_CREATE, users.create_user)
    rpc.serve(contract.USERS_UPDATE, users.update_user)
    rpc.serve(contract.USERS_SET_ACTIVE, users.set_active)
    rpc.serve(contract.USERS_DELETE, users.delete_user)
    rpc.serve(contract.USERS_SET_PASSWORD, users.set_password)
    rpc.serve(contract.APPLICANTS_IMPORT, applicant_import.import_applicants)
    rpc.serve(contract.APPLICANTS_IMPORT_TEMPLATE, applicant_import.import_template)
    rpc.serve(contract.REVIEWERS_CREATE, reviewers.create_reviewer)
    rpc.serve(contract.REVIEWERS_LIST, reviewers.list_reviewers)
    return rpc


def build_events() -> EventConsumer:
    events = EventConsumer("accounts")
    for talent_event in external.TALENT_EVENTS:
        events.on(talent_event.type, talent.TalentUnit)(talent.apply_talent_unit)
    enrolment = external.ENROLMENT_CHANGED
    events.on(enrolment.type, enrolment.payload)(enrolments.apply_enrolment)
    renamed = ORGANISATION_RENAMED
    events.on(renamed.type, renamed.payload)(organisations.apply_organisation_renamed)
    for seated in (MEETING_DRAWN, EXPERT_REPLACED):
        events.on(seated.type, seated.payload)(experts.open_expert_accounts)
    reminder = DEADLINE_REMINDER
    events.on(reminder.type, reminder.payload)(reminders.address_reminder)
    return events


def build_service(settings: Settings | None = None, deps: AccountsDeps | None = None) -> Service:
    deps = deps or AccountsDeps()

    async def connect_notify(service: Service) -> None:
        if deps.notify is None:
            deps.notify = RpcClient(
                service.settings.amqp_url,
                Names(service.settings).rpc_queue,
                service.settings.rpc_timeout,
            )
            await deps.notify.start()

    async def close_notify(_service: Service) -> None:
        if deps.notify is not None:
            await deps.notify.close()
            deps.notify = None

    start_sweep, stop_sweep = service_hooks(
        "accounts-sweep",
        deps.settings.sweep_interval_seconds,
        lambda service: sweep(service.pool, deps),
    )

    return Service(
        "accounts",
        build_rpc(deps),
        build_events(),
        settings=settings,
        on_start=[connect_notify, start_sweep],
        on_stop=[stop_sweep, close_notify],
    )

"""The accounts service: every RPC method and consumed event, wired into one process."""

from services.accounts.deps import AccountsDeps
from services.accounts.handlers import (
    applicant_import,
    auth,
    captchas,
    enrolments,
    organisations,
    registration,
    reviewers,
    sms,
    talent,
    units,
    users,
)
from shared.consumer import EventConsumer
from shared.rpc import RpcClient, RpcRouter
from shared.service import Service
from shared.settings import Settings
from shared.topology import Names


def build_rpc(deps: AccountsDeps) -> RpcRouter:
    rpc = RpcRouter("accounts", deps=deps)
    rpc.method("captcha.new")(captchas.new_captcha)
    rpc.method("sms.request_code", sms.RequestCode)(sms.request_code)
    rpc.method("unit.register", registration.RegisterUnit)(registration.register_unit)
    rpc.method("auth.login", auth.Login)(auth.login)
    rpc.method("auth.session", auth.Token)(auth.resolve_session)
    rpc.method("auth.logout", auth.Token)(auth.logout)
    rpc.method("auth.change_password", auth.ChangePassword)(auth.change_password)
    rpc.method("auth.reset_password", auth.ResetPassword)(auth.reset_password)
    rpc.method("units.names", units.UnitIds)(units.unit_names)
    rpc.method("users.me")(users.me)
    rpc.method("users.list", users.ListUsers)(users.list_users)
    rpc.method("users.get", users.UserRef)(users.get_user)
    rpc.method("users.create", users.UserForm)(users.create_user)
    rpc.method("users.update", users.UpdateUser)(users.update_user)
    rpc.method("users.set_active", users.SetActive)(users.set_active)
    rpc.method("users.delete", users.UserRef)(users.delete_user)
    rpc.method("users.set_password", users.SetPassword)(users.set_password)
    rpc.method("applicants.import", applicant_import.ImportApplicants)(
        applicant_import.import_applicants
    )
    rpc.method("reviewers.create", reviewers.CreateReviewer)(reviewers.create_reviewer)
    rpc.method("reviewers.list", reviewers.ListReviewers)(reviewers.list_reviewers)
    return rpc


def build_events() -> EventConsumer:
    events = EventConsumer("accounts")
    for event_type in talent.TALENT_EVENTS:
        events.on(event_type, talent.TalentUnit)(talent.apply_talent_unit)
    events.on("si.enrolment.changed", enrolments.EnrolmentChanged)(enrolments.apply_enrolment)
    events.on("reference.organisation_renamed", organisations.OrganisationRenamed)(
        organisations.apply_organisation_renamed
    )
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

    return Service(
        "accounts",
        build_rpc(deps),
        build_events(),
        settings=settings,
        on_start=[connect_notify],
        on_stop=[close_notify],
    )

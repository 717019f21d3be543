"""Every URL of the gateway, by name."""

from pathlib import Path

from aiohttp import web

from gateway import (
    api,
    api_account,
    api_audit,
    api_cases,
    api_certificates,
    api_documents,
    api_experts,
    api_exports,
    api_identity,
    api_integrity,
    api_meetings,
    api_sms,
    api_statistics,
    health,
    personal,
)
from gateway import web as page_helpers
from gateway.pages import (
    account_pages,
    admin_pages,
    applicant_pages,
    audit_pages,
    auth_pages,
    ballot_pages,
    case_pages,
    certificate_pages,
    expert_pages,
    export_pages,
    holiday_pages,
    home_pages,
    integrity_pages,
    meeting_pages,
    print_pages,
    public,
    publicity_pages,
    reference_pages,
    service_pages,
    statistics_pages,
    unit_pages,
)
from gateway.security_headers import add_security_headers

PEOPLE = "{kind:operators|applicants}"
USER_ID = "{user_id:[0-9a-fA-F-]{36}}"
API_ID = "{id:[0-9a-fA-F-]{36}}"
PERSON = f"/unit/{PEOPLE}/{USER_ID}"
REVIEWER = f"/admin/reviewers/{USER_ID}"
SESSION_ID = "{session_id:[0-9a-fA-F-]{36}}"


def setup(app: web.Application, static_dir: Path) -> None:
    app.on_response_prepare.append(page_helpers.drop_shown_flash)
    app.on_response_prepare.append(add_security_headers)
    add = app.router.add_route
    add("GET", "/healthz", health.healthz, name="healthz")
    add("GET", "/readyz", health.readyz, name="readyz")

    add("GET", "/", public.index, name="index")
    add("GET", "/login", auth_pages.login_page, name="login")
    add("POST", "/login", auth_pages.login)
    add("POST", "/login/code", auth_pages.login_code, name="login_code")
    add("POST", "/logout", auth_pages.logout, name="logout")
    add("GET", "/register", auth_pages.register_page, name="register")
    add("POST", "/register", auth_pages.register)
    add("GET", "/password/forgot", auth_pages.forgot_page, name="password_forgot")
    add("POST", "/password/forgot", auth_pages.forgot)
    add("GET", "/password/change", auth_pages.change_page, name="password_change")
    add("POST", "/password/change", auth_pages.change)
    add("GET", "/home", home_pages.home, name="home")
    _account_pages(add)

    add("GET", "/unit/applicants/import", unit_pages.import_page, name="applicants_import")
    add("POST", "/unit/applicants/import", unit_pages.import_upload)
    add(
        "GET",
        "/unit/applicants/import/template.xlsx",
        unit_pages.import_template,
        name="applicants_import_template",
    )
    add("GET", f"/unit/{PEOPLE}", unit_pages.people_list, name="unit_people")
    add("GET", f"/unit/{PEOPLE}/new", unit_pages.new_person_page, name="unit_person_new")
    add("POST", f"/unit/{PEOPLE}/new", unit_pages.new_person)
    add("GET", f"{PERSON}/edit", unit_pages.edit_person_page, name="unit_person_edit")
    add("POST", f"{PERSON}/edit", unit_pages.edit_person)
    add("POST", f"{PERSON}/status", unit_pages.set_status, name="unit_person_status")
    add("POST", f"{PERSON}/delete", unit_pages.delete_person, name="unit_person_delete")
    add("GET", f"{PERSON}/password", unit_pages.password_page, name="unit_person_password")
    add("POST", f"{PERSON}/password", unit_pages.set_password)

    add("GET", "/admin/reviewers", admin_pages.reviewers, name="admin_reviewers")
    add("GET", "/admin/reviewers/new", admin_pages.new_reviewer_page, name="admin_reviewer_new")
    add("POST", "/admin/reviewers/new", admin_pages.new_reviewer)
    add("POST", f"{REVIEWER}/status", admin_pages.set_status, name="admin_reviewer_status")
    add("GET", f"{REVIEWER}/password", admin_pages.password_page, name="admin_reviewer_password")
    add("POST", f"{REVIEWER}/password", admin_pages.set_password)
    add("GET", "/admin/sms", admin_pages.sms_deliveries, name="admin_sms")
    add("GET", "/admin/services", service_pages.services_status, name="admin_services")

    add("GET", "/api/openapi.json", api.openapi_document, name="openapi")
    add("GET", "/api/asyncapi.json", api.asyncapi, name="asyncapi")
    add("GET", "/api/services/{service}/stats", api.service_stats, name="service_stats")
    _api_identity(add)
    _api_account(add)
    api_cases.setup_case_api(app)
    api_documents.setup_documents_api(app)
    api_certificates.setup_certificate_api(app)
    api_experts.setup_experts_api(app)
    api_integrity.setup_integrity_api(app)
    api_audit.setup_audit_api(app)
    api_sms.setup_sms_api(app)
    api_meetings.setup_meetings_api(app)
    api_exports.setup_exports_api(app)
    api_statistics.setup_statistics_api(app)
    case_pages.setup_routes(app)
    applicant_pages.setup_routes(app)
    reference_pages.setup_routes(app)
    print_pages.setup_routes(app)
    export_pages.setup_routes(app)
    certificate_pages.setup_routes(app)
    expert_pages.setup_routes(app)
    integrity_pages.setup_routes(app)
    holiday_pages.setup_routes(app)
    publicity_pages.setup_routes(app)
    audit_pages.setup_routes(app)
    personal.setup_personal(app)
    meeting_pages.setup_routes(app)
    ballot_pages.setup_routes(app)
    statistics_pages.setup_routes(app)
    app.router.add_static("/static/", static_dir, name="static")


def _account_pages(add) -> None:
    pages = account_pages
    add("GET", "/account/sessions", pages.sessions_page, name="account_sessions")
    add(
        "POST",
        "/account/sessions/end-others",
        pages.end_other_sessions,
        name="account_sessions_end_others",
    )
    add(
        "POST",
        f"/account/sessions/{SESSION_ID}/end",
        pages.end_session,
        name="account_session_end",
    )
    add("GET", "/account/mobile", pages.mobile_page, name="account_mobile")
    add("POST", "/account/mobile", pages.change_mobile)


def _api_account(add) -> None:
    add("GET", "/api/me/sessions", api_account.list_sessions, name="api_me_sessions")
    add("POST", "/api/me/sessions/end-others", api_account.end_other_sessions)
    add("DELETE", f"/api/me/sessions/{API_ID}", api_account.end_session, name="api_me_session")
    add("POST", "/api/me/mobile", api_account.change_mobile, name="api_me_mobile")


def _api_identity(add) -> None:
    ident = api_identity
    add("POST", "/api/captcha", ident.new_captcha, name="api_captcha")
    add("POST", "/api/sms-codes", ident.request_sms_code, name="api_sms_codes")
    add("POST", "/api/units", ident.register_unit, name="api_units")
    add("GET", "/api/session", ident.session_state, name="api_session")
    add("POST", "/api/session", ident.login)
    add("POST", "/api/session/confirm", ident.confirm_login)
    add("POST", "/api/session/code", ident.resend_login_code)
    add("DELETE", "/api/session", ident.logout)
    add("GET", "/api/me", ident.me, name="api_me")
    add("POST", "/api/me/password", ident.change_password, name="api_me_password")
    add("POST", "/api/password-reset", ident.reset_password, name="api_password_reset")
    add("POST", "/api/applicants/import", ident.import_applicants, name="api_applicants_import")
    add("GET", f"/api/{PEOPLE}", ident.list_people, name="api_people")
    add("POST", f"/api/{PEOPLE}", ident.create_person)
    add("GET", f"/api/{PEOPLE}/{API_ID}", ident.get_person, name="api_person")
    add("PATCH", f"/api/{PEOPLE}/{API_ID}", ident.update_person)
    add("DELETE", f"/api/applicants/{API_ID}", ident.delete_person)
    add("POST", f"/api/{PEOPLE}/{API_ID}/status", ident.set_person_status, name="api_person_status")
    add(
        "POST",
        f"/api/{PEOPLE}/{API_ID}/password",
        ident.set_person_password,
        name="api_person_password",
    )
    add("GET", "/api/reviewers", ident.list_reviewers, name="api_reviewers")
    add("POST", "/api/reviewers", ident.create_reviewer)
    add("GET", f"/api/reviewers/{API_ID}", ident.get_reviewer, name="api_reviewer")
    add(
        "POST",
        f"/api/reviewers/{API_ID}/status",
        ident.set_reviewer_status,
        name="api_reviewer_status",
    )
    add(
        "POST",
        f"/api/reviewers/{API_ID}/password",
        ident.set_reviewer_password,
        name="api_reviewer_password",
    )

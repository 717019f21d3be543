"""The whole system in the test's event loop: four services and the gateway on a free port.

Package-scoped: the services stop when the e2e tests are done, so no other test package ever
shares their outbox tables with a second copy of a service.
"""

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from gateway.app import create_app
from services.accounts.app import build_service as accounts
from services.accounts.deps import AccountsDeps
from services.accounts.settings import AccountsSettings
from services.cases.app import build_service as build_cases
from services.cases.deps import CasesDeps
from services.cases.reference_seed import seed_reference
from services.documents.app import build_service as documents
from services.documents.signing import ensure_development_keys
from services.notify.app import build_service as notify
from services.notify.dev_provider import DevSmsProvider
from tests.support.rate_limits import out_of_reach
from tools.demo_data import demo_reference

CAPTCHA = "AB12"  # what every captcha image shows in these tests


def accounts_for_tests(settings):
    # Every request comes from 127.0.0.1, so the per-client daily SMS cap is lifted. Reviewers
    # sign in with their password alone here, as the workflow tests have other things to
    # test; the tests of the second factor turn it on (the `second_factor` fixture).
    deps = AccountsDeps(
        settings=AccountsSettings(sms_daily_cap_per_client=1_000_000, second_factor=False),
        captcha_text=lambda: CAPTCHA,
        rate_limits=out_of_reach(),
    )
    return accounts(settings, deps)


CASES_DEPS = CasesDeps()  # its clock is the one the `clock` fixture moves


def cases(settings):
    return build_cases(settings, CASES_DEPS)


@pytest.fixture(scope="package")
async def services(settings):
    ensure_development_keys(settings.var_dir)  # as tools.setup does: e-certificates get signed
    started = {}
    for build in (accounts_for_tests, cases, documents, notify):
        service = build(settings)
        await service.start()
        started[service.name] = service
    async with started["cases"].pool.acquire() as conn:
        await seed_reference(conn, demo_reference())
    yield started
    for service in started.values():
        await service.stop()


@pytest.fixture(scope="package")
async def gateway(settings, services):
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def http(gateway):
    async with aiohttp.ClientSession(base_url=str(gateway.make_url(""))) as session:
        yield session


@pytest.fixture
async def new_client(gateway):
    """Clients that each behave like one browser of their own, closed after the test."""
    from tests.e2e.identity_helpers import Client  # imports this module's CAPTCHA

    made = []

    def make() -> Client:
        made.append(Client(str(gateway.make_url(""))))
        return made[-1]

    yield make
    for client in made:
        await client.close()


@pytest.fixture
def second_factor(services):
    """The running accounts service asks reviewers for their SMS code during the test."""
    settings = services["accounts"].rpc.deps.settings
    settings.second_factor = True
    yield settings
    settings.second_factor = False


@pytest.fixture(scope="package")
async def sms_outbox(settings, services, tmp_path_factory):
    """The development SMS provider's log (one JSON line per SMS), fresh for this run."""
    var_dir = str(tmp_path_factory.mktemp("sms"))
    provider = DevSmsProvider(settings.model_copy(update={"var_dir": var_dir}))
    await provider.start()
    yield provider.log_path
    await provider.close()


WORKFLOW_TODAY = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # inside the seeded 2026 round


@pytest.fixture
async def clock(services):
    """The cases service's clock, set to a fixed working day; tests move it forward."""
    CASES_DEPS.clock.offset = WORKFLOW_TODAY - datetime.now(UTC)
    yield CASES_DEPS.clock
    CASES_DEPS.clock.offset = timedelta()


# --- the browser: Debian's chromium driven by Playwright (no downloaded browser build) ---

BROWSER_SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
async def chromium():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        await browser.close()


# What the browser refused under the pages' Content-Security-Policy during the current test.
CSP_VIOLATIONS: list[str] = []


async def new_browser_context(chromium, gateway, size: str = "desktop"):
    """A fresh browser context on the test gateway, at a desktop or phone size; any CSP
    violation on its pages fails the test (`no_csp_violations`)."""
    context = await chromium.new_context(
        base_url=str(gateway.make_url("")).rstrip("/"),
        viewport=BROWSER_SIZES[size],
        locale="zh-CN",
        is_mobile=size == "phone",
        has_touch=size == "phone",
    )

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            CSP_VIOLATIONS.append(f"{message.location.get('url', '')}: {message.text}")

    context.on("console", on_console)
    return context


@pytest.fixture(autouse=True)
def no_csp_violations():
    CSP_VIOLATIONS.clear()
    yield
    assert CSP_VIOLATIONS == [], "the pages broke their Content-Security-Policy"


@pytest.fixture
async def unit(gateway, services, clock):
    """A unit's operator and applicant, each signed in."""
    from tests.e2e.people import unit_people  # imported here: it needs CAPTCHA from this module

    people = await unit_people(gateway, services)
    yield people
    for client in (people["operator"], people["applicant"]):
        await client.close()

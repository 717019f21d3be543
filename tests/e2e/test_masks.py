"""Personal numbers are masked for everyone but their owner (issue 14, docs/personal-data.md):
every GET operation of /api/openapi.json, walked as every role with real ids, and a handful
of list pages, scanned for full ID numbers and mobiles the caller is not entitled to.

Entitled: the caller's own numbers (what GET /api/me answers them) and, for an applicant,
the numbers in their own case's basic section. Everyone else, the sysadmin included, sees
masks (440301********123X, 138****5678); a full value only comes from
POST /api/personal/unmask, which is audited and checked on its own below.

Every GET operation is called by every caller (eleven: anonymous, each role, a second
committee that holds the meeting, a seated expert, another unit's admin), not only those its
x-roles name: a refusal carries no number, and a role the document forgot is walked too.
Binary answers (PDFs, the xlsx template) are skipped by their content type.

The first test fails on main until the pd-accounts, pd-cases and pd-notify branches mask the
lists; the second until the services serve personal.unmask. Do not weaken either to pass.
"""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.sealed import DELIVERY_MOBILE, sealed
from tests.e2e.case_steps import (
    Cast,
    at_department,
    complete,
    in_post_publicity,
    new_cast,
    open_case,
    passed,
)
from tests.e2e.identity_helpers import (
    PASSWORD,
    Client,
    applicant_fields,
    create_person,
    operator_fields,
    register_admin,
    sms_code,
)
from tests.e2e.meeting_helpers import drawn_meeting, expert_accounts, expert_client, setting
from tests.e2e.people import new_unit, reviewers, signed_in
from tests.support.experts import expert_form
from tests.support.experts import mobile as random_mobile
from tests.support.meetings import results_outside
from tests.support.plain_numbers import ID_NUMBER, MOBILE, is_id_number

# Not personal numbers, but runs of digits inside them could look like one: a UUID's groups,
# a hash or a token in hex (with a letter in it: a run of digits alone is what we look for).
# Blanked before the scan, so the walk never flakes on them.
HEX = "[0-9a-fA-F]"
NOT_NUMBERS = re.compile(
    rf"{HEX}{{8}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{12}}"
    rf"|(?<![0-9a-zA-Z])(?={HEX}*[a-fA-F]){HEX}{{16,}}(?![0-9a-zA-Z])"
)
JSON_TYPES = ("application/json", "application/problem+json")
SKIPPED = {"/api/personal/unmask"}  # the audited way to a full value: checked on its own


def plain_numbers(text: str) -> set[str]:
    """Every full mobile and ID number (with a valid check character) in a text."""
    text = NOT_NUMBERS.sub(" ", text)
    found = {m.group(2) for m in re.finditer(MOBILE, text)}
    found |= {m.group(2).upper() for m in re.finditer(ID_NUMBER, text) if is_id_number(m.group(2))}
    return found


class Caller:
    def __init__(self, role: str | None, label: str, client: Client) -> None:
        self.role, self.label, self.client = role, label, client
        self.entitled: set[str] = set()


async def own_numbers(caller: Caller, case_ids: list[str]) -> set[str]:
    """What the caller may see in full: their account as GET /api/me answers them, and for an
    applicant the ID number and mobile in the basic section of their own cases."""
    if caller.role is None:
        return set()
    async with caller.client.http.get("/api/me") as response:
        assert response.status == 200, await response.text()
        me = await response.json()
    own = {str(me.get(k)) for k in ("id_number", "mobile") if me.get(k)}
    own |= {
        str(v) for k, v in me.items() if isinstance(v, str) and k.endswith(("mobile", "id_number"))
    }
    if caller.role == "applicant":
        for case_id in case_ids:
            async with caller.client.http.get(f"/api/cases/{case_id}") as response:
                if response.status != 200:
                    continue
                case = await response.json()
            basic = case.get("sections", {}).get("basic", {})
            own |= {str(basic[k]) for k in ("id_number", "mobile") if basic.get(k)}
    return {n.upper() for n in own if plain_numbers(n)}


# --- the world: one of each thing that carries a personal number ---


class World:
    def __init__(self) -> None:
        self.clients: list[Client] = []
        self.callers: list[Caller] = []
        self.ids: dict[str, list[str]] = {}
        self.people: dict[str, str] = {}
        self.pages: list[tuple[Caller, str]] = []
        self.notes: list[str] = []
        self.queries: dict[str, dict] = {}
        self.cleanup = []

    def caller(self, role: str | None, label: str, client: Client) -> Caller:
        made = Caller(role, label, client)
        self.callers.append(made)
        if client not in self.clients:
            self.clients.append(client)
        return made

    async def close(self) -> None:
        for job in self.cleanup:
            await job()
        for client in self.clients:
            await client.close()


async def login_as(gateway, name: str, person: dict) -> Client:
    client = Client(str(gateway.make_url("")))
    status, _, where = await client.login(name, PASSWORD)
    assert status == 200 and where != "/login", f"login failed for {name}"
    client.person = person
    return client


async def registered_unit(gateway, services, sms_outbox) -> tuple[Cast, Client]:
    """A unit registered over the API with an SMS code (an SMS delivery with a mobile): its
    admin (ID number, mobile), an operator and an applicant the admin creates."""
    anonymous = Client(str(gateway.make_url("")))
    try:
        form = await register_admin(anonymous, services, sms_outbox)
    finally:
        await anonymous.close()
    admin = await login_as(
        gateway,
        form["username"],
        {
            "name": form["admin_name"],
            "id_number": form["admin_id_number"],
            "mobile": form["mobile"],
        },
    )
    unit_id = (await (await admin.http.get("/api/me")).json())["unit_id"]
    made = {}
    for kind, fields in (
        ("operators", operator_fields()),
        ("applicants", applicant_fields(name="张三")),
    ):
        status, body = await create_person(admin, kind, fields)
        assert status == 201, body
        made[kind] = await login_as(gateway, fields["username"], fields | {"id": body["id"]})
    cast = Cast(
        unit_id, made["operators"], made["applicants"], **await reviewers(gateway, services)
    )
    return cast, admin


async def public_objection(gateway, case_id: str, sms_outbox) -> str:
    """An objection from the public page: the objector's mobile, confirmed by an SMS code."""
    anonymous = Client(str(gateway.make_url("")))
    try:
        form = f"/publicity/{case_id}/objection"
        objector = random_mobile()
        status, page, _ = await anonymous.submit(form, {"mobile": objector, "action": "send_code"})
        assert status == 200, page[-500:]
        code = await sms_code(sms_outbox, objector, "objection")
        data = {
            "objector_name": "赵六",
            "mobile": objector,
            "sms_code": code,
            "content": "获奖证书系伪造",
        }
        status, page, _ = await anonymous.submit(form, data)
        assert status == 200 and "异议已提交" in page, page[-500:]
    finally:
        await anonymous.close()
    return objector


async def build(gateway, services, clock, sms_outbox) -> World:
    world = World()
    cases_pool = services["cases"].pool
    cast, admin = await registered_unit(gateway, services, sms_outbox)
    sysadmin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    other_admin = await signed_in(
        gateway, services, "unit_admin", unit_id=await new_unit(services, "深圳市无关科技有限公司")
    )

    # cases: one passed with its certificate (revoked at the end, with a 失信 entry), one in
    # 评后公示 with objections (the unit's, with a mobile as contact, and the public's), a draft
    async with results_outside(cases_pool):
        certified = await passed(cast, clock)
        public = await in_post_publicity(cast, clock)
    draft = await open_case(cast.applicant)
    await complete(cast.applicant, draft)
    contact = random_mobile()
    status, body = await cast.operator.api(
        "POST",
        f"/api/cases/{public}/objections",
        {"objector_name": "王五", "objector_contact": contact, "content": "论文造假"},
    )
    assert status == 201, body
    objections = [body["objection_id"]]
    await public_objection(gateway, public, sms_outbox)
    status, certificate = await cast.applicant.api("GET", f"/api/cases/{certified}/certificate")
    assert status == 200, certificate

    # an expert in the committee's library
    status, body = await cast.committee.api("POST", "/api/experts", expert_form(name="库内专家"))
    assert status == 201, body
    expert_id = body["expert_id"]

    # a review meeting of a committee of its own, drawn: its members, a seated expert
    meeting_world = await setting(gateway, services)
    world.clients += [meeting_world.department, meeting_world.operator, meeting_world.applicant]
    meeting_id = await drawn_meeting(meeting_world.secretary, clock.today())
    users = await expert_accounts(services, meeting_id)
    expert = await expert_client(gateway, services, next(iter(users.values())))

    # 失信: the certificate revoked with a discredit, as the department does
    form = {
        "reason": "伪造业绩材料",
        "record_discredit": "1",
        "discredit_reason": "伪造业绩材料骗取职称",
        "discredit_starts_on": "",
        "discredit_years": "3",
    }
    status, page, _ = await cast.department.submit(f"/cases/{certified}/revoke", form)
    assert status == 200 and "已撤销电子证书" in page, page[-500:]
    status, body = await sysadmin.api("GET", "/api/discredits")
    assert status == 200, body
    entries = [e["id"] for e in body["items"]]
    assert entries, body

    # an SMS left sending: the sysadmin's SMS page lists it (registration codes settle at once)
    stuck, now = uuid.uuid4(), datetime.now(UTC)
    await services["notify"].pool.execute(
        "INSERT INTO deliveries (id, kind, mobile, template, body, priority, status, attempts,"
        " reconciliations, sending_since, expires_at, created_at, updated_at)"
        " VALUES ($1, 'notice', $2, 'case.notice', '【测试】', 1, 'sending', 1, 9, $3, $4, $3, $3)",
        stuck,
        sealed(random_mobile(), DELIVERY_MOBILE),  # notify keeps no plain mobile
        now,
        now + timedelta(hours=1),
    )

    async def forget_stuck() -> None:
        pool = services["notify"].pool
        await pool.execute("DELETE FROM delivery_events WHERE delivery_id = $1", stuck)
        await pool.execute("DELETE FROM deliveries WHERE id = $1", stuck)

    world.cleanup.append(forget_stuck)

    anonymous = Client(str(gateway.make_url("")))
    world.caller(None, "anonymous", anonymous)
    applicant = world.caller("applicant", "applicant", cast.applicant)
    unit_admin = world.caller("unit_admin", "unit_admin", admin)
    operator = world.caller("unit_operator", "unit_operator", cast.operator)
    department = world.caller("department", "department", cast.department)
    world.caller("office", "office", cast.office)
    committee = world.caller("committee", "committee", cast.committee)
    secretary = world.caller("committee", "committee(meeting)", meeting_world.secretary)
    admin_caller = world.caller("sysadmin", "sysadmin", sysadmin)
    world.caller("unit_admin", "unit_admin(other unit)", other_admin)
    world.caller("expert", "expert", expert)
    for caller in world.callers:
        caller.entitled = await own_numbers(caller, [certified, public, draft])
    # the scan sees what it looks for: the applicant's own numbers in their own answers
    own = {cast.applicant.person["id_number"], cast.applicant.person["mobile"]}
    assert own <= applicant.entitled, (own, applicant.entitled)
    assert {admin.person["id_number"], admin.person["mobile"]} <= unit_admin.entitled

    world.ids = {
        "case_id": [certified, public, draft, meeting_world.cases[0]],
        "expert_id": [expert_id, str(meeting_world.experts[0]["id"])],
        "meeting_id": [meeting_id],
        "objection_id": objections,
        "entry_id": entries[:1],
        "committee_id": ["cmte-qg-gj", meeting_world.committee],
        "service": ["cases"],
        "kind": ["meeting_members"],
        "job_id": [str(uuid.uuid4())],
        "file_id": [str(uuid.uuid4())],
        "document_id": [str(uuid.uuid4())],
    }
    world.people = {
        "/api/operators/{id}": [cast.operator.person["id"]],
        "/api/applicants/{id}": [cast.applicant.person["id"]],
        "/api/reviewers/{id}": [
            cast.department.person["id"],
            cast.committee.person["id"],
            meeting_world.secretary.person["id"],
        ],
    }
    world.queries = {
        "/api/verify": {
            "no": certificate["certificate_no"],
            "code": certificate["verification_code"],
        },
    }
    world.pages = [
        (unit_admin, "/unit/applicants"),
        (unit_admin, "/unit/operators"),
        (unit_admin, f"/unit/applicants/{cast.applicant.person['id']}/edit"),
        (operator, "/unit/applicants"),
        (operator, f"/cases/{public}"),
        (operator, f"/cases/{public}/objections"),
        (department, f"/cases/{public}"),
        (department, f"/cases/{certified}"),
        (department, f"/cases/{public}/objections"),
        (department, "/objections?phase=post"),
        (committee, "/experts"),
        (secretary, "/experts"),
        (secretary, f"/meetings/{meeting_id}"),
        (secretary, f"/meetings/{meeting_id}/draw"),
        (admin_caller, "/admin/sms"),
        (admin_caller, "/admin/discredits"),
        (department, "/discredits"),  # the entry it recorded with the revocation
        (admin_caller, "/certificates"),
        (department, "/certificates"),
        (admin_caller, "/admin/reviewers"),
        (admin_caller, f"/experts?committee_id={meeting_world.committee}"),
        (committee, f"/cases/{public}"),
        (world.callers[0], "/publicity"),
        (
            world.callers[0],
            f"/verify?no={certificate['certificate_no']}&code={certificate['verification_code']}",
        ),
        (applicant, f"/my/cases/{public}"),
    ]
    return world


# --- the walk ---


def filled(template: str, world: World) -> list[str]:
    """The template with every path parameter filled, once for each real id of its kind."""
    paths = [template]
    for prefix, values in world.people.items():
        if template == prefix:
            return [prefix.replace("{id}", str(v)) for v in values]
    for name in re.findall(r"\{(\w+)\}", template):
        values = world.ids.get(name) or [str(uuid.uuid4())]
        paths = [p.replace(f"{{{name}}}", v) for p in paths for v in values]
    return paths


async def _get(client: Client, path: str, params=None) -> tuple[int, str, str]:
    async with client.http.get(path, params=params, allow_redirects=False) as response:
        if response.content_type not in JSON_TYPES and not response.content_type.startswith(
            "text/"
        ):
            return response.status, response.content_type, ""
        return response.status, response.content_type, await response.text()


@pytest.fixture
async def world(gateway, services, clock, sms_outbox):
    made = await build(gateway, services, clock, sms_outbox)
    yield made
    await made.close()


async def test_no_answer_or_list_page_shows_a_full_number_its_caller_is_not_entitled_to(world):
    anonymous = world.callers[0].client
    async with anonymous.http.get("/api/openapi.json") as response:
        document = await response.json()

    leaks: list[str] = []
    walked: dict[tuple[str, str], int] = {}  # (template, caller) -> best status
    binary: set[str] = set()
    unreachable: list[str] = []

    def scan(label: str, caller: Caller, text: str) -> None:
        for number in sorted(plain_numbers(text) - caller.entitled):
            leaks.append(f"{label} [{caller.label}]: {number}")

    for template, operations in document["paths"].items():
        if "get" not in operations or template in SKIPPED:
            continue
        for caller in world.callers:
            if template == "/api/cases":  # every work list the caller has
                params = [{"list": key} for key in await _lists(caller)] or [{}]
            else:
                params = [world.queries.get(template, {})]
            for path in filled(template, world):
                for query in params:
                    status, content_type, text = await _get(caller.client, path, query)
                    key = (template, caller.label)
                    walked[key] = status if status == 200 else walked.get(key, status)
                    if status == 200 and not text:
                        binary.add(f"{template} ({content_type})")
                        continue
                    shown = path + (f"?list={query['list']}" if "list" in query else "")
                    scan(f"GET {shown} ({status})", caller, text)

    pages = 0
    for caller, path in world.pages:
        status, _, text = await _get(caller.client, path)
        if status != 200:
            unreachable.append(f"PAGE {path} [{caller.label}]: {status}")
            continue
        pages += 1
        scan(f"PAGE {path}", caller, text)

    ok = sorted(k for k, s in walked.items() if s == 200)
    print(
        f"walked {len({t for t, _ in walked})} GET operations x {len(world.callers)} callers:"
        f" {len(ok)} (operation, caller) pairs answered 200; {pages} pages;"
        f" binary answers skipped: {sorted(binary)}"
    )
    # the walk reached the content it was built for (a walk of 404s would pass vacuously)
    must_answer = {
        ("/api/me", "unit_admin"),
        ("/api/operators", "unit_admin"),
        ("/api/operators/{id}", "unit_admin"),
        ("/api/applicants", "unit_operator"),
        ("/api/applicants/{id}", "unit_admin"),
        ("/api/reviewers", "sysadmin"),
        ("/api/reviewers/{id}", "sysadmin"),
        ("/api/cases", "department"),
        ("/api/cases/{case_id}", "department"),
        ("/api/cases/{case_id}", "committee"),
        ("/api/cases/{case_id}", "unit_operator"),
        ("/api/cases/{case_id}/certificate", "unit_operator"),
        ("/api/cases/{case_id}/objections", "department"),
        ("/api/objections", "department"),
        ("/api/publicity", "anonymous"),
        ("/api/verify", "anonymous"),
        ("/api/experts", "committee"),
        ("/api/experts/{expert_id}", "committee"),
        ("/api/discredits", "sysadmin"),
        ("/api/discredits", "department"),
        ("/api/certificates", "sysadmin"),
        ("/api/certificates", "department"),
        ("/api/meetings/{meeting_id}", "committee(meeting)"),
        ("/api/meetings/{meeting_id}/candidates", "committee(meeting)"),
        ("/api/meetings", "expert"),
        ("/api/audit", "sysadmin"),
    }
    assert must_answer <= set(ok) and not unreachable, (sorted(must_answer - set(ok)), unreachable)
    assert not leaks, (
        f"{len(leaks)} full numbers shown to callers not entitled to them:\n" + "\n".join(leaks)
    )


async def _lists(caller: Caller) -> list[str]:
    if caller.role is None:
        return []
    async with caller.client.http.get("/api/cases/home") as response:
        if response.status != 200:
            return []
        return [item["key"] for item in (await response.json())["lists"]]


# --- 显示完整号码: NOT YET IMPLEMENTED on main (fails until the services serve personal.unmask) ---


async def test_unmask_gives_the_department_the_full_mobile_audited_and_refuses_another_unit(
    gateway, services, clock
):
    """POST /api/personal/unmask on a case's applicant mobile. Expected to fail on main:
    no service serves personal.unmask yet (branches pd-accounts, pd-cases, pd-notify)."""
    cast = await new_cast(gateway, services)
    sysadmin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    stranger = await signed_in(
        gateway, services, "unit_admin", unit_id=await new_unit(services, "深圳市无关科技有限公司")
    )
    cast.extra += [sysadmin, stranger]
    try:
        case_id = await at_department(cast, clock)
        wanted = {"object_type": "case", "object_id": case_id, "field": "mobile"}
        status, body = await cast.department.api("POST", "/api/personal/unmask", wanted)
        assert status == 200, body
        assert body["value"] == cast.applicant.person["mobile"]

        status, body = await sysadmin.api("GET", "/api/audit?action=personal.unmask")
        assert status == 200, body
        rows = [
            r
            for r in body["rows"]
            if case_id in json.dumps(r) and str(cast.department.person["id"]) in json.dumps(r)
        ]
        assert rows, body
        assert cast.applicant.person["mobile"] not in json.dumps(body)  # no value in the trail

        status, body = await stranger.api("POST", "/api/personal/unmask", wanted)
        assert status == 403, body
        assert cast.applicant.person["mobile"] not in json.dumps(body)
    finally:
        await cast.close()

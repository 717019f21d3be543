"""Bad input is a clear 4xx, never a 500 (issue 10): the input rule at the edge, walked over
every JSON property, form field and query parameter that /api/openapi.json describes and
over every form of the web pages; LIKE wildcards; expected_version 0; service statistics."""

import itertools
import uuid
from collections import Counter

import aiohttp
import pytest

from gateway.web import SECRET_FIELDS
from shared.text import CONTROLS, visible
from tests.e2e.case_steps import (
    PASSED,
    PNG,
    PUBLICITY_OVER,
    approval,
    at_department,
    case_of,
    in_post_publicity,
    must,
    new_cast,
    open_case,
    passed,
    submit_form,
    submitted,
)
from tests.e2e.forms import Form, forms_of, multipart, shown
from tests.e2e.identity_helpers import Client, applicant_fields, create_person, xlsx
from tests.e2e.meeting_helpers import drawn_meeting, expert_accounts, expert_client, setting
from tests.e2e.people import signed_in
from tests.support.meetings import results_outside

NUL = "甲\x00乙"
LONG = "长" * 5001  # over every limit of the rule
# the same, within what one line of HTTP carries (8 KB): a URL, a file name in a part header
LONG_IN_A_LINE = {"query": "x" * 2001, "file": "长" * 256}
WILDCARD = "%_"
# every refused control character but NUL (which has its own payload), in a fixed order
OTHER_CONTROLS = sorted(CONTROLS - {"\x00"})
ROLES = ("applicant", "unit_admin", "unit_operator", "department", "office", "committee")


@pytest.fixture
async def cast(gateway, services, clock):
    made = await new_cast(gateway, services)
    made.unit_admin = await signed_in(
        gateway, services, "unit_admin", unit_id=made.unit_id, name="王管理"
    )
    made.sysadmin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    made.expert = await signed_in(gateway, services, "expert", name="评审专家")
    made.extra += [made.unit_admin, made.sysadmin, made.expert]
    yield made
    await made.close()


@pytest.fixture
async def anonymous(gateway):
    client = Client(str(gateway.make_url("")))
    yield client
    await client.close()


# --- walking the OpenAPI document ---


class Schemas:
    def __init__(self, document: dict) -> None:
        self.components = document["components"]["schemas"]

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def slots(self, schema: dict, path: tuple = ()) -> list[tuple]:
        """The path of every text a body can carry: string values, and the names of a map's
        keys (a path ending in KEY). Integers in a path are list indexes."""
        schema = self.resolve(schema)
        found: list[tuple] = []
        for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
            found += self.slots(alternative, path)
        types = schema.get("type")
        types = types if isinstance(types, list) else [types]
        if "object" in types or "properties" in schema:
            for name, sub in schema.get("properties", {}).items():
                found += self.slots(sub, (*path, name))
            extra = schema.get("additionalProperties")
            extra = {} if extra is True else extra  # any value: a text among them
            if isinstance(extra, dict):
                found.append((*path, KEY))
                found += self.slots(extra, (*path, "k2024"))
        elif "array" in types:
            found += self.slots(schema.get("items", {}), (*path, 0))
        elif "string" in types or "enum" in schema or not schema:
            found.append(path)
        return list(dict.fromkeys(found))


KEY = object()  # a slot that is a map's key


def body_for(slot: tuple, payload: str):
    """The smallest JSON body carrying `payload` at `slot`."""
    value = payload
    for index, part in reversed(list(enumerate(slot))):
        if part is KEY:
            value = {payload: 1}
        elif isinstance(part, int):
            value = [value]
        elif index + 1 < len(slot) and slot[index + 1] is KEY:
            value = {part: value}
        else:
            value = {part: value}
    return value


def named(slot: tuple, payload: str) -> tuple[str, bool]:
    """How the rule names the slot in its answer: (name, a key's name only starts so)."""
    if slot and slot[-1] is KEY:
        return ".".join(str(p) for p in slot[:-1]) + "." + visible(payload[:10]), True
    return ".".join(str(p) for p in slot), False


class Caller:
    """Requests with a signed-in client's cookies and its CSRF token (read once)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.token: str | None = None

    async def send(
        self, method: str, path: str, headers: dict | None = None, **kwargs
    ) -> tuple[int, dict | str]:
        if self.token is None:
            self.token = await self.client.csrf()
        headers = {"X-CSRF-Token": self.token, **(headers or {})}
        async with self.client.http.request(method, path, headers=headers, **kwargs) as r:
            if r.content_type == "application/json":
                return r.status, await r.json()
            return r.status, await r.text()


async def test_bad_text_in_every_field_the_openapi_document_describes_is_a_4xx_naming_it(
    cast, anonymous, gateway
):
    async with anonymous.http.get("/api/openapi.json") as response:
        document = await response.json()
    schemas = Schemas(document)
    draft = await open_case(cast.applicant)
    clients = {
        None: anonymous,
        "applicant": cast.applicant,
        "unit_admin": cast.unit_admin,
        "unit_operator": cast.operator,
        "department": cast.department,
        "office": cast.office,
        "committee": cast.committee,
        "sysadmin": cast.sysadmin,
        "expert": cast.expert,
    }
    callers = {role: Caller(client) for role, client in clients.items()}
    ids = {
        "case_id": draft,
        "action": "reject",
        "service": "cases",
        "attachment_id": str(uuid.uuid4()),
        "file_id": str(uuid.uuid4()),
        "job_id": str(uuid.uuid4()),
        "document_id": str(uuid.uuid4()),
        "expert_id": str(uuid.uuid4()),
        "objection_id": str(uuid.uuid4()),
        "entry_id": str(uuid.uuid4()),
        "meeting_id": str(uuid.uuid4()),
        "committee_id": "cmte-qg-gj",
        "kind": "meeting_result",
    }
    people = {
        "/api/operators/": cast.operator.person["id"],
        "/api/applicants/": cast.applicant.person["id"],
        "/api/reviewers/": cast.department.person["id"],
    }
    controls = itertools.cycle(OTHER_CONTROLS)
    used_controls: set[str] = set()
    failures, answers, checked, walked = [], Counter(), Counter(), set()

    for template, operations in document["paths"].items():
        for method, op in operations.items():
            roles = op.get("x-roles") or ([*ROLES, "sysadmin"] if "security" in op else [None])
            path = template
            for name, value in ids.items():
                path = path.replace(f"{{{name}}}", value)
            for prefix, person in people.items():
                path = path.replace(prefix + "{id}", f"{prefix}{person}")
            slots = [("query", p["name"]) for p in op.get("parameters", []) if p["in"] == "query"]
            body = op.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                slots += [("json", s) for s in schemas.slots(body["application/json"]["schema"])]
            if "multipart/form-data" in body:
                form = schemas.resolve(body["multipart/form-data"]["schema"])
                for name, sub in form["properties"].items():
                    kind = "file" if sub.get("format") == "binary" else "form"
                    slots.append((kind, name))
            for n, (where, slot) in enumerate(slots):
                shown_slot = ".".join("KEY" if p is KEY else str(p) for p in slot)
                walked.add(f"{method.upper()} {template} {shown_slot if where == 'json' else slot}")
                control = next(controls)
                used_controls.add(control)
                payloads = {
                    "nul": NUL,
                    "control": f"甲{control}乙",
                    "long": LONG_IN_A_LINE.get(where, LONG),
                    "wildcard": WILDCARD,
                }
                for k, (kind, payload) in enumerate(payloads.items()):
                    role = roles[(n + k) % len(roles)]
                    status, answer = await _send(callers[role], method, path, where, slot, payload)
                    label = f"{method.upper()} {template} {where}:{slot} [{kind}, {role}]"
                    answers[status // 100] += 1
                    if status >= 500:
                        failures.append(f"{label}: {status} {answer}")
                        continue
                    if kind == "wildcard":
                        continue
                    checked[where] += 1
                    if where == "json":
                        name, prefix = named(slot, payload)
                    else:
                        name, prefix = slot, False
                    fields = (answer.get("error") or {}).get("fields", {}) if answer else {}
                    found = any(f.startswith(name) if prefix else f == name for f in fields)
                    if not (400 <= status < 500 and found):
                        failures.append(f"{label}: {status} {str(answer)[:300]}")
    assert not failures, "\n".join(failures)
    assert used_controls == set(OTHER_CONTROLS), "some control characters were never sent"
    assert answers[5] == 0
    # every kind of input was walked (a document that lost its bodies would pass vacuously)
    assert checked["json"] > 250 and checked["query"] >= 30 and checked["file"] >= 6, checked
    # the places users found: e-mail, 专业, 毕业院校, reasons, the people search, a work-list
    # filter, an operator's e-mail, a material's note and a batch's inputs
    assert {
        "POST /api/units email",
        "PUT /api/cases/{case_id}/sections/basic major",
        "PUT /api/cases/{case_id}/sections/basic school",
        "PUT /api/cases/{case_id}/sections/achievements entries.0.note",
        "POST /api/cases/{case_id}/actions/{action} inputs.reason",
        "POST /api/cases/{case_id}/actions/{action} inputs.evaluation",
        "GET /api/applicants q",
        "GET /api/cases name",
        "POST /api/operators email",
        "PATCH /api/applicants/{id} email",
        "POST /api/cases/batch inputs.k2024",
        "POST /api/cases/{case_id}/attachments file",
        "POST /api/publicity/{case_id}/objections content",
        "POST /api/cases/{case_id}/certificate/revoke discredit.reason",
    } <= walked
    print(f"sent {sum(answers.values())} requests: {dict(checked)} checked, answers {answers}")


async def _send(caller: Caller, method: str, path: str, where: str, slot, payload: str):
    if where == "query":
        return await caller.send(method, path, params={slot: payload})
    if where == "json":
        return await caller.send(method, path, json=body_for(slot, payload))
    if where == "form":
        body, headers = multipart([(slot, payload)], [("file", "scan.png", PNG)])
    else:
        body, headers = multipart([("category", "id_card")], [(slot, f"{payload}.png", PNG)])
    return await caller.send(method, path, data=body, headers=headers)


# --- walking the web pages' forms ---


async def _meeting_pages(cast, gateway, services, clock) -> list[tuple[Client, str]]:
    """A drawn meeting of a committee of its own: its secretary's forms, an expert's."""
    world = await setting(gateway, services)
    cast.extra += [world.secretary, world.department, world.operator, world.applicant]
    meeting = await drawn_meeting(world.secretary, clock.today())
    users = await expert_accounts(services, meeting)
    seated, user = next(iter(users.items()))
    expert = await expert_client(gateway, services, user)
    cast.extra.append(expert)
    return [
        (world.secretary, f"/meetings/{meeting}"),
        (world.secretary, f"/meetings/{meeting}/members/{seated}/decline"),
        (world.secretary, f"/meetings/{meeting}/cancel"),
        (expert, f"/meetings/{meeting}/ballot/{world.cases[0]}/conflict"),
    ]


async def _pages(cast, clock, cases_pool) -> list[tuple[Client, str]]:
    draft = await open_case(cast.applicant)
    review = await submitted(cast.applicant)  # 材料审核: the unit's approve and reject forms
    accepting = await at_department(cast, clock)  # 预受理: the department's return form
    async with results_outside(cases_pool):  # step 8 by the committee's buttons
        certified = await passed(cast, clock)  # 撤销电子证书: the department's revoke form
        public = await in_post_publicity(cast, clock)  # the public's objection form
    await must_object(cast.operator, public)  # …and a finding form on the objections page
    reference = [
        f"/admin/reference/{kind}/new"
        for kind in ("rounds", "review-types", "committees", "departments", "series")
    ]
    return [
        (None, "/login"),
        (None, "/register"),
        (None, "/password/forgot"),
        (cast.applicant, "/my/cases/new"),
        *[
            (cast.applicant, f"/my/cases/{draft}/sections/{section}")
            for section in ("basic", "work_history", "achievements", "education")
        ],
        (cast.applicant, f"/my/cases/{draft}"),
        (cast.unit_admin, "/unit/operators/new"),
        (cast.unit_admin, "/unit/applicants/new"),
        (cast.unit_admin, f"/unit/operators/{cast.operator.person['id']}/edit"),
        (cast.unit_admin, f"/unit/applicants/{cast.applicant.person['id']}/edit"),
        (cast.unit_admin, f"/unit/applicants/{cast.applicant.person['id']}/password"),
        (cast.unit_admin, "/unit/applicants/import"),
        (cast.unit_admin, "/unit/applicants"),
        (cast.operator, "/work/unit-3"),
        (cast.operator, f"/cases/{review}/act/approve"),
        (cast.operator, f"/cases/{review}/act/reject"),
        (cast.department, f"/cases/{accepting}/act/return"),
        (cast.department, f"/cases/{accepting}/act/refuse"),
        (cast.department, "/work/department-acceptance"),
        (cast.sysadmin, "/admin/reviewers/new"),
        (cast.sysadmin, f"/admin/reviewers/{cast.department.person['id']}/password"),
        (cast.sysadmin, "/admin/reviewers"),
        *[(cast.sysadmin, path) for path in reference],
        (cast.sysadmin, "/admin/reference/qualifications/new?series_id=gc"),
        (cast.applicant, "/password/change"),
        (cast.applicant, "/account/mobile"),
        (cast.committee, "/experts/new"),
        (cast.committee, "/meetings/new"),
        (cast.sysadmin, "/meetings"),
        (cast.sysadmin, "/admin/committee-rules/cmte-qg-gj"),
        (cast.committee, "/experts"),
        (cast.sysadmin, "/experts/import"),
        (cast.sysadmin, "/admin/pledge"),
        (cast.sysadmin, "/admin/holidays"),
        (cast.sysadmin, "/admin/holidays/2030"),
        (cast.sysadmin, "/admin/discredits"),
        (cast.department, "/discredits"),
        (cast.operator, "/objections"),
        (cast.operator, f"/cases/{public}/objections"),
        (cast.department, f"/cases/{certified}/revoke"),
        (cast.department, f"/cases/{accepting}/discredit"),
        (None, "/publicity"),
        (None, f"/publicity/{public}/objection"),
    ]


async def must_object(client: Client, case_id: str) -> None:
    body = {"objector_name": "王五", "objector_contact": "0755-88880000", "content": "反映情况"}
    status, answer = await client.api("POST", f"/api/cases/{case_id}/objections", body)
    assert status == 201, answer


async def _post(client: Client, form: Form, pairs, file_name: str | None) -> tuple[int, str]:
    if form.method == "get":
        async with client.http.get(form.action, params=pairs, allow_redirects=False) as r:
            return r.status, await r.text()
    pairs = [("_csrf", await client.csrf())] + [(n, v) for n, v in pairs if n != "_csrf"]
    if form.multipart:
        files = [(f.name, file_name or "scan.png", PNG) for f in form.fields if f.kind == "file"]
        body, headers = multipart(pairs, files)
        async with client.http.post(form.action, data=body, headers=headers) as r:
            return r.status, await r.text()
    async with client.http.post(form.action, data=pairs, allow_redirects=False) as r:
        return r.status, await r.text()


async def test_a_nul_in_any_field_of_any_web_form_is_a_4xx_with_the_form_kept(
    cast, anonymous, clock, gateway, services
):
    failures, sent = [], Counter()
    pages = await _pages(cast, clock, services["cases"].pool) + await _meeting_pages(
        cast, gateway, services, clock
    )
    for client, page_path in pages:
        client = client or anonymous
        status, page, _ = await client.page(page_path)
        assert status == 200, (page_path, status)
        forms = [f for f in forms_of(page) if f.action and f.action != "/logout" and f.fields]
        assert forms, f"no form on {page_path}"
        for form in forms:
            for field in form.fields:
                if not field.typed:
                    continue  # hidden fields and buttons: the page's own, never typed
                label = f"{page_path} → {form.method.upper()} {form.action} {field.name}"
                if field.kind == "file":
                    status, answer = await _post(client, form, form.pairs(), NUL)
                else:
                    status, answer = await _post(client, form, form.pairs(field.name, NUL), None)
                sent[form.method] += 1
                if not 400 <= status < 500:
                    failures.append(f"{label}: {status}")
                    continue
                kept = field.kind in ("text", "textarea", "email", "tel")
                if form.method == "post" and kept and field.name not in SECRET_FIELDS:
                    if NUL not in shown(answer):
                        failures.append(f"{label}: {status} but what was typed is not shown")
    assert not failures, "\n".join(failures)
    assert sent["post"] > 80 and sent["get"] > 5, sent
    print(f"sent a NUL into {sum(sent.values())} fields: {dict(sent)}")


# --- the rule's answers, one by one ---


async def test_a_reason_with_crlf_is_kept_with_lf_and_an_overlong_one_is_refused_beside_it(
    cast, clock
):
    case_id = await submitted(cast.applicant)
    form = f"/cases/{case_id}/act/reject"
    version = str((await case_of(cast.operator, case_id))["version"])
    status, page, _ = await submit_form(
        cast.operator, form, {"reason": "原" * 27_000, "expected_version": version}
    )
    assert status == 422
    assert "不能超过 2000 个字" in page and "原" * 27_000 in page  # beside it, as typed
    assert (await case_of(cast.operator, case_id))["state"] == "unit_review"

    status, page, _ = await submit_form(
        cast.operator, form, {"reason": "第一条\r\n第二条", "expected_version": version}
    )
    assert status == 200, page
    case = await case_of(cast.applicant, case_id)
    assert case["state"] == "draft" and case["history"][-1]["reason"] == "第一条\n第二条"


async def test_control_characters_never_reach_the_materials(cast, clock):
    case_id = await open_case(cast.applicant)
    for text in ("深圳大学\x1b[1m", "机械\x07工程", "a\x85b", "x\x7fy"):
        status, body = await cast.applicant.api(
            "PUT", f"/api/cases/{case_id}/sections/basic", {"school": "深圳大学", "major": text}
        )
        assert status == 422 and body["error"]["fields"] == {"major": "不能包含控制字符"}
    status, page, _ = await submit_form(
        cast.applicant, f"/my/cases/{case_id}/sections/basic", {"school": "深圳\x00大学"}
    )
    assert status == 422 and "不能包含控制字符" in page and "深圳\x00大学" in page
    basic = (await case_of(cast.applicant, case_id))["sections"]["basic"]
    assert "school" not in basic and "major" not in basic


async def test_a_decomposed_name_is_kept_in_nfc(cast, clock):
    case_id = await open_case(cast.applicant)
    status, body = await cast.applicant.api(
        "PUT", f"/api/cases/{case_id}/sections/basic", {"school": "E\u0301cole 深圳"}
    )
    assert status == 200, body
    sections = (await case_of(cast.applicant, case_id))["sections"]
    assert sections["basic"]["school"] == "\u00c9cole 深圳"


async def test_a_path_parameter_with_a_control_character_is_a_4xx(cast):
    status, body = await cast.applicant.api("GET", "/api/cases/%00")
    assert status == 422 and body["error"]["fields"] == {"case_id": "不能包含控制字符"}


async def test_a_bad_file_name_is_refused_beside_the_upload(cast, clock):
    case_id = await open_case(cast.applicant)
    body, headers = multipart(
        [("_csrf", await cast.applicant.csrf()), ("category", "id_card")],
        [("file", "身份证\x1b.png", PNG)],
    )
    path = f"/my/cases/{case_id}/scans"
    async with cast.applicant.http.post(path, data=body, headers=headers) as response:
        page = await response.text()
    assert response.status == 422 and "文件名不能包含控制字符" in page
    assert (await case_of(cast.applicant, case_id))["attachments"] == []


async def test_the_batch_form_shows_a_refused_input_beside_its_field(cast, clock):
    case_id = await submitted(cast.applicant)
    await must(cast.operator, case_id, "approve", **approval(clock.today()))
    data = {
        "action": "start_pre_publicity",
        "case_id": [case_id],
        "back": "/work/unit-4",
        "step": "confirm",
        "method": "单位公告栏\x00",
        "contact": "人事科",
    }
    status, page, _ = await submit_form(cast.operator, "/work/unit-4/batch", data)
    assert status == 422 and "不能包含控制字符" in page and "单位公告栏\x00" in page
    assert (await case_of(cast.operator, case_id))["state"] == "pre_publicity_ready"


async def test_the_excel_import_reports_each_bad_cell_in_its_row(cast):
    good = applicant_fields()
    bad = applicant_fields(name="王\x85五", mobile="13800\x9b13800")
    long = applicant_fields(email="a" * 300 + "@example.cn")
    form = aiohttp.FormData()
    form.add_field("file", xlsx([good, bad, long]), filename="申报人员.xlsx")
    status, report = await cast.unit_admin.api("POST", "/api/applicants/import", data=form)
    assert status == 200, report
    assert [r["row"] for r in report["created"]] == [2]
    refused = {r["row"]: r for r in report["refused"]}
    assert refused[3]["reasons"]["name"] == "不能包含控制字符"
    assert refused[3]["reasons"]["mobile"] == "不能包含控制字符"
    assert refused[3]["name"] == "王\\x85五"  # shown visibly in the report
    assert refused[4]["reasons"]["email"] == "不能超过 254 个字"


@pytest.mark.parametrize("email", ["<b>x</b>@example.cn", "x@例子.中国", "a@b", "a b@x.cn"])
async def test_an_email_address_is_checked_for_real(cast, email):
    status, body = await create_person(cast.unit_admin, "applicants", applicant_fields(email=email))
    assert status == 422 and body["error"]["fields"] == {"email": "电子邮箱格式不正确"}
    fields = {"name": "赵经办", "mobile": "13800000000", "email": email}
    status, page, _ = await cast.unit_admin.submit("/unit/operators/new", fields)
    assert status == 422 and "电子邮箱格式不正确" in page


# --- LIKE wildcards ---


async def test_a_search_for_a_wildcard_finds_only_names_containing_it(cast, services, clock):
    pool = services["accounts"].pool
    names = {"percent": "王%五", "underscore": "李_四", "plain": "赵六"}
    ids = {}
    for key, name in names.items():
        status, body = await create_person(
            cast.unit_admin, "applicants", applicant_fields(name="测试人")
        )
        assert status == 201, body
        ids[key] = body["id"]
        await pool.execute("UPDATE users SET name = $2 WHERE id = $1", uuid.UUID(body["id"]), name)

    async def people(q: str) -> set[str]:
        status, body = await cast.unit_admin.api("GET", f"/api/applicants?q={q}")
        assert status == 200, body
        return {item["name"] for item in body["items"]}

    assert await people("%25") == {"王%五"}
    assert await people("_") == {"李_四"}
    assert await people("\\") == set()
    status, page, _ = await cast.unit_admin.page("/unit/applicants?q=%25")
    assert status == 200 and "王%五" in page and "赵六" not in page

    cases = [await submitted(cast.applicant) for _ in range(3)]
    for case_id, name in zip(cases, names.values(), strict=True):
        await services["cases"].pool.execute(
            "UPDATE cases SET applicant_name = $2 WHERE id = $1", uuid.UUID(case_id), name
        )

    async def listed(name: str) -> set[str]:
        status, body = await cast.operator.api("GET", f"/api/cases?list=unit:3&name={name}")
        assert status == 200, body
        return {item["name"] for item in body["items"]}

    assert await listed("%25") == {"王%五"}
    assert await listed("_") == {"李_四"}
    assert await listed("") == set(names.values())
    status, page, _ = await cast.operator.page("/work/unit-3?name=_")
    assert status == 200 and "李_四" in page and "赵六" not in page and "王%五" not in page


# --- expected_version, statistics, the OpenAPI document, the applicant's print ---


async def test_an_expected_version_of_zero_is_compared_like_any_other(cast, clock):
    case_id = await submitted(cast.applicant)
    await must(cast.operator, case_id, "approve", **approval(clock.today()))
    await must(cast.operator, case_id, "start_pre_publicity")
    clock.offset += PUBLICITY_OVER
    version = (await case_of(cast.operator, case_id))["version"]
    assert version == 3
    path = f"/api/cases/{case_id}/actions/record_pre_publicity_result"
    body = {"inputs": PASSED, "expected_version": 0}
    status, answer = await cast.operator.api("POST", path, body)
    assert status == 409, answer
    assert (await case_of(cast.operator, case_id))["version"] == 3
    status, answer = await cast.operator.api("POST", path, {"inputs": PASSED})  # not sent
    assert status == 200 and answer["version"] == 4, answer


async def test_service_statistics_are_for_the_system_administrator_only(cast, anonymous):
    async with anonymous.http.get("/api/services/cases/stats") as response:
        assert response.status == 401
    for client in (cast.applicant, cast.unit_admin, cast.operator, cast.department):
        status, body = await client.api("GET", "/api/services/cases/stats")
        assert status == 403, body
    status, body = await cast.sysadmin.api("GET", "/api/services/cases/stats")
    assert status == 200 and body["service"] == "cases" and "pid" in body


async def test_the_openapi_document_declares_the_real_types_of_file_answers(anonymous):
    async with anonymous.http.get("/api/openapi.json") as response:
        document = await response.json()
    paths = document["paths"]

    def types(path: str) -> set[str]:
        return set(paths[path]["get"]["responses"]["200"]["content"])

    assert types("/api/documents/{document_id}") == {"application/pdf"}
    assert types("/api/files/{file_id}") == {"application/pdf", "image/jpeg", "image/png"}
    assert types("/api/reference") == {"application/json"}
    stats = paths["/api/services/{service}/stats"]["get"]
    assert stats["x-roles"] == ["sysadmin"] and "401" in stats["responses"]


async def test_a_refused_search_is_a_page_that_names_the_box_and_keeps_the_person_signed_in(
    cast,
):
    status, page, _ = await cast.unit_admin.page("/unit/applicants?q=a%00b")
    assert status == 422
    assert "查询内容不能包含控制字符" in page  # the box as a person calls it, not "q"
    assert "王管理" in page and "退出" in page  # the header of a signed-in person

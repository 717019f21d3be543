"""What the documents service needs from cases to print: many cases at once, whole lists, and
the case moving on once its 评审（申报）表 has been printed (the declaration_form.printed event
through the real broker)."""

import asyncio
import logging
import uuid
from contextlib import asynccontextmanager, contextmanager

import aio_pika
import pytest

from services.cases.handlers import queries
from shared.envelope import Envelope, new_event
from shared.rpc import Actor, RpcError
from shared.topology import Names
from tests.support.cases_driver import DEPARTMENT, approval, new_unit, reviewer
from tests.support.probes import publish_raw, wait_until

PRINTED = "declaration_form.printed"
STATEMENTS = ("fetch", "fetchrow", "fetchval", "execute", "executemany")


async def open_case(driver, unit, name: str = "张三", review_type: str = "ptsb") -> str:
    opened = await driver.call(
        "case.open",
        {
            "round_id": "2026",
            "review_type_id": review_type,
            "qualification_id": "gc-fg",
            "committee_id": "cmte-qg-gj",
            "applicant_name": name,
            "applicant_mobile": "13900000000",
            "id_number": "11010519491231002X",
            "gender": "女",
        },
        unit.applicant,
    )
    return opened["case_id"]


async def open_many(driver, unit, count: int) -> list[str]:
    opened = []
    for start in range(0, count, 50):
        opened += await asyncio.gather(
            *(open_case(driver, unit) for _ in range(start, min(count, start + 50)))
        )
    return opened


# --- case.get_many ---------------------------------------------------------------------


async def test_get_many_answers_what_case_get_does_in_the_order_asked_and_each_once(driver):
    unit, stranger = new_unit(), new_unit()
    submitted = await driver.submitted(unit)  # sections, scans and history
    draft = await driver.open(unit)
    foreign = await driver.open(stranger)
    ghost = str(uuid.uuid4())
    asked = [draft, submitted, draft, foreign, ghost, submitted]
    for actor in (unit.operator, unit.applicant):
        answer = await driver.call("case.get_many", {"case_ids": asked}, actor)
        assert [case["id"] for case in answer["cases"]] == [draft, submitted]
        assert answer["missing"] == [foreign, ghost]
        for case in answer["cases"]:
            assert case == await driver.call("case.get", {"case_id": case["id"]}, actor)
    full = answer["cases"][1]
    assert [h["action"] for h in full["history"]] == ["submit"]
    assert {a["category"] for a in full["attachments"]} == {"id_card", "diploma", "achievement"}
    assert full["sections"]["basic"]["school"] == "深圳大学"


@pytest.mark.parametrize(
    "outsider",
    [
        lambda unit: new_unit().operator,
        lambda unit: Actor(user_id=uuid.uuid4(), role="applicant", unit_id=unit.unit_id),
        lambda unit: DEPARTMENT,  # before the case was submitted to it
    ],
    ids=["other unit", "same unit, other applicant", "department"],
)
async def test_get_many_reports_cases_an_outsider_may_not_see_as_missing(driver, outsider):
    unit = new_unit()
    case_id = await driver.submitted(unit)
    answer = await driver.call("case.get_many", {"case_ids": [case_id]}, outsider(unit))
    assert answer == {"cases": [], "missing": [case_id]}


@pytest.mark.parametrize("actor", [Actor(), Actor(role="applicant"), reviewer("sysadmin", "")])
async def test_get_many_refuses_whom_case_get_refuses(driver, actor):
    case_id = await driver.open(new_unit())
    for method, params in (
        ("case.get", {"case_id": case_id}),
        ("case.get_many", {"case_ids": [case_id]}),
    ):
        with pytest.raises(RpcError) as refused:
            await driver.call(method, params, actor)
        assert refused.value.status == 403


async def test_get_many_takes_between_one_and_two_thousand_cases(driver):
    unit = new_unit()
    for case_ids in ([], [str(uuid.uuid4()) for _ in range(2001)]):
        with pytest.raises(RpcError) as refused:
            await driver.call("case.get_many", {"case_ids": case_ids}, unit.operator)
        assert refused.value.status == 422 and "case_ids" in refused.value.fields


class CountingPool:
    """Stands in for a service's pool and counts the statements its handlers send; not those
    of the service's periodic loops (shared/periodic.py: tasks named after the service, e.g.
    cases-statistics-fold every 2 s), which may run while a call is measured."""

    def __init__(self, pool) -> None:
        self.pool = pool
        self.statements = 0

    def __getattr__(self, name):
        return self._counted(getattr(self.pool, name), name)

    @asynccontextmanager
    async def acquire(self):
        async with self.pool.acquire() as conn:
            yield CountingConnection(conn, self)

    def _counted(self, attribute, name):
        if name not in STATEMENTS:
            return attribute

        async def counted(*args, **kwargs):
            if not asyncio.current_task().get_name().startswith("cases-"):
                self.statements += 1
            return await attribute(*args, **kwargs)

        return counted


class CountingConnection:
    def __init__(self, conn, counter: CountingPool) -> None:
        self.conn = conn
        self.counter = counter

    def __getattr__(self, name):
        return self.counter._counted(getattr(self.conn, name), name)


@contextmanager
def counting_statements(service):
    counting = CountingPool(service.pool)
    service.pool = counting
    try:
        yield counting
    finally:
        service.pool = counting.pool


async def statements_of(driver, method: str, params: dict, actor) -> tuple[int, dict]:
    with counting_statements(driver.service) as counting:
        answer = await driver.call(method, params, actor)
    return counting.statements, answer


async def test_300_cases_come_back_in_one_call_with_as_many_queries_as_one_case(driver):
    unit = new_unit()
    with_history = [await driver.submitted(unit) for _ in range(2)]
    case_ids = [with_history[0], *await open_many(driver, unit, 298), with_history[1]]
    one, _ = await statements_of(driver, "case.get_many", {"case_ids": case_ids[:1]}, unit.operator)
    many, answer = await statements_of(
        driver, "case.get_many", {"case_ids": case_ids}, unit.operator
    )
    # cases (with their 诚信承诺), sections, scans, history, objections, and the holiday
    # calendar's notices and entries (the 超期 marks), one statement
    assert one == many == 6
    assert [case["id"] for case in answer["cases"]] == case_ids and answer["missing"] == []
    for case_id in with_history:
        [case] = [c for c in answer["cases"] if c["id"] == case_id]
        assert case == await driver.call("case.get", {"case_id": case_id}, unit.operator)
    assert all(c["history"] == [] for c in answer["cases"][1:-1])


# --- case.can_view_many ----------------------------------------------------------------


async def can_view_many(driver, case_ids: list[str], actor) -> dict:
    return await driver.call("case.can_view_many", {"case_ids": case_ids}, actor)


async def test_can_view_many_for_the_unit_and_for_another_unit(driver):
    unit, stranger = new_unit(), new_unit()
    ours = [await driver.open(unit), await driver.open(unit)]
    theirs = await driver.open(stranger)
    assert await can_view_many(driver, [*ours, ours[0]], unit.operator) == {
        "allowed": True,
        "denied": [],
    }
    assert await can_view_many(driver, ours, stranger.operator) == {
        "allowed": False,
        "denied": ours,
    }
    ghost = str(uuid.uuid4())
    assert await can_view_many(driver, [ours[0], theirs, ghost], unit.operator) == {
        "allowed": False,
        "denied": [theirs, ghost],
    }


async def test_can_view_many_for_applicants_sees_only_their_own(driver):
    unit = new_unit()
    own = await driver.open(unit)
    colleague = Actor(user_id=uuid.uuid4(), role="applicant", unit_id=unit.unit_id)
    assert (await can_view_many(driver, [own], unit.applicant))["allowed"]
    assert await can_view_many(driver, [own], colleague) == {"allowed": False, "denied": [own]}


async def test_can_view_many_for_a_department_once_the_case_reached_it(driver):
    unit = new_unit()
    reached = await driver.at_department(unit)
    draft = await driver.open(unit)
    assert await can_view_many(driver, [reached], DEPARTMENT) == {"allowed": True, "denied": []}
    assert await can_view_many(driver, [reached, draft], DEPARTMENT) == {
        "allowed": False,
        "denied": [draft],
    }
    other_department = reviewer("department", "dept-daj")
    assert not (await can_view_many(driver, [reached], other_department))["allowed"]


async def test_can_view_many_refuses_the_anonymous_and_takes_up_to_five_thousand(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    with pytest.raises(RpcError) as anonymous:
        await can_view_many(driver, [case_id], Actor())
    assert anonymous.value.status == 403
    checked, answer = await statements_of(
        driver,
        "case.can_view_many",
        {"case_ids": [case_id] + [str(uuid.uuid4()) for _ in range(4999)]},
        unit.operator,
    )
    assert checked == 1 and len(answer["denied"]) == 4999
    with pytest.raises(RpcError) as too_many:
        await can_view_many(driver, [str(uuid.uuid4()) for _ in range(5001)], unit.operator)
    assert too_many.value.status == 422


# --- case.list_ids ---------------------------------------------------------------------


async def listed(driver, actor, **params) -> list[str]:
    page = await driver.call("case.list", {**params, "page_size": 200}, actor)
    return [item["id"] for item in page["items"]]


async def test_list_ids_follow_the_lists_order_for_every_sort(driver):
    unit = new_unit()
    for name in ("王五", "李四", "赵六", "李四", "张三"):
        await open_case(driver, unit, name)
    for sort in queries.SORTS:
        answer = await driver.call("case.list_ids", {"list": "unit:2", "sort": sort}, unit.operator)
        assert answer["ids"] == await listed(driver, unit.operator, list="unit:2", sort=sort)
        assert (answer["total"], answer["limit"]) == (5, 2000)


async def test_list_ids_apply_the_lists_filters_and_tabs(driver):
    unit = new_unit()
    lis = [await open_case(driver, unit, "李四"), await open_case(driver, unit, "李四")]
    await open_case(driver, unit, "王五")
    innovative = await open_case(driver, unit, "王五", review_type="cxxrc")
    by_name = await driver.call("case.list_ids", {"list": "unit:2", "name": "李"}, unit.operator)
    assert sorted(by_name["ids"]) == sorted(lis) and by_name["total"] == 2
    by_type = await driver.call(
        "case.list_ids", {"list": "unit:2", "review_type_id": "cxxrc"}, unit.operator
    )
    assert by_type["ids"] == [innovative]

    approved = [await driver.submitted(unit) for _ in range(2)]
    for case_id in approved:
        await driver.act(unit.operator, case_id, "approve", **approval(driver.clock.today()))
    done = await driver.call("case.list_ids", {"list": "unit:3", "tab": "done"}, unit.operator)
    assert done["ids"] == await listed(driver, unit.operator, list="unit:3", tab="done")
    assert sorted(done["ids"]) == sorted(approved)


async def test_list_ids_stop_at_the_limit_and_count_them_all(driver, monkeypatch):
    unit = new_unit()
    for _ in range(5):
        await driver.open(unit)
    monkeypatch.setattr(queries, "MAX_LISTED_IDS", 3)
    answer = await driver.call("case.list_ids", {"list": "unit:2"}, unit.operator)
    assert answer["ids"] == (await listed(driver, unit.operator, list="unit:2"))[:3]
    assert (answer["total"], answer["limit"]) == (5, 3)


async def test_list_ids_of_a_list_that_is_not_yours_is_not_found(driver):
    with pytest.raises(RpcError) as refused:
        await driver.call("case.list_ids", {"list": "department:review"}, new_unit().operator)
    assert refused.value.status == 404


# --- declaration_form.printed ----------------------------------------------------------


def printed_event(case_ids: list[str], actor: Actor, changes: dict | None = None):
    payload = {
        "document_id": str(uuid.uuid4()),
        "case_ids": case_ids,
        "actor": actor.model_dump(mode="json"),
        "printed_at": "2026-06-13T10:00:00+08:00",
    }
    if changes:  # a producer that breaks the contract: new_event would refuse to build it
        return Envelope(type=PRINTED, payload=payload | changes, producer="documents")
    return new_event(PRINTED, payload, producer="documents")


async def deliver(driver, body: bytes) -> None:
    """Publish as the documents service's relay would, and wait until cases consumed it."""
    events = driver.service.events
    seen = events.handled + events.duplicates
    await publish_raw(driver.service.settings, body, PRINTED)
    await wait_until(lambda: events.handled + events.duplicates > seen)


async def form_print_ready(driver, unit) -> str:
    case_id = await driver.at_department(unit)
    await driver.act(DEPARTMENT, case_id, "accept")
    assert await driver.state(unit.operator, case_id) == "form_print_ready"
    return case_id


async def transitions_sent(driver, case_id: str) -> list[dict]:
    rows = await driver.service.pool.fetch(
        "SELECT envelope FROM outbox WHERE routing_key = 'case.transitioned'"
        " AND envelope->'payload'->>'case_id' = $1"
        " AND envelope->'payload'->>'action' = 'print_declaration_form'",
        case_id,
    )
    return [r["envelope"]["payload"] for r in rows]


@pytest.mark.parametrize("who", ["operator", "applicant"])
async def test_a_printed_form_moves_its_waiting_case_on_to_the_department(driver, who, caplog):
    unit, stranger = new_unit(), new_unit()
    printer = getattr(unit, who)
    waiting = await form_print_ready(driver, unit)
    printed_before = await form_print_ready(driver, unit)
    await driver.act(unit.applicant, printed_before, "print_declaration_form")
    before = await driver.call("case.get", {"case_id": printed_before}, unit.operator)
    foreign = await form_print_ready(driver, stranger)
    event = printed_event([waiting, printed_before, foreign, waiting], printer)

    with caplog.at_level(logging.WARNING, logger="services.cases.handlers.printing"):
        await deliver(driver, event.to_bytes())

    case = await driver.call("case.get", {"case_id": waiting}, unit.operator)
    assert case["state"] == "dept_review"
    last = case["history"][-1]
    assert (last["action"], last["actor_role"]) == ("print_declaration_form", printer.role)
    [sent] = await transitions_sent(driver, waiting)
    assert (sent["actor_id"], sent["to_state"]) == (str(printer.user_id), "dept_review")
    done = await driver.call("case.list_ids", {"list": "unit:7", "tab": "done"}, unit.operator)
    # 已办 is the unit's list, and a print by the applicant counts there as the unit's own
    # (issue 10): this one, and the one the applicant printed before
    assert set(done["ids"]) == {waiting, printed_before}
    assert await driver.call("case.get", {"case_id": printed_before}, unit.operator) == before
    assert await driver.state(stranger.operator, foreign) == "form_print_ready"
    assert foreign in caplog.text and printed_before not in caplog.text


async def test_the_same_event_delivered_twice_moves_the_case_once(driver):
    unit = new_unit()
    case_id = await form_print_ready(driver, unit)
    event = printed_event([case_id], unit.operator)
    duplicates = driver.service.events.duplicates
    await deliver(driver, event.to_bytes())
    await deliver(driver, event.to_bytes())
    assert driver.service.events.duplicates == duplicates + 1
    case = await driver.call("case.get", {"case_id": case_id}, unit.operator)
    assert [h["action"] for h in case["history"]].count("print_declaration_form") == 1
    assert len(await transitions_sent(driver, case_id)) == 1


async def test_a_party_that_may_not_print_moves_nothing(driver, caplog):
    unit = new_unit()
    case_id = await form_print_ready(driver, unit)
    with caplog.at_level(logging.INFO, logger="services.cases.handlers.printing"):
        await deliver(driver, printed_event([case_id], DEPARTMENT).to_bytes())
    assert await driver.state(unit.operator, case_id) == "form_print_ready"
    assert "may not print" in caplog.text


async def dead_letters(settings, expected: int) -> list:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(Names(settings).dead_letter_queue("cases"))
        found = []

        async def collect():
            while (message := await queue.get(fail=False)) is not None:
                await message.ack()
                found.append(message.body)
            return len(found) >= expected

        await wait_until(collect)
        return found


@pytest.mark.parametrize(
    "payload",
    [
        {"case_ids": []},
        {"printed_at": "2026-06-13T10:00:00"},  # no time zone
        {"actor": {"role": "unit_operator"}},  # nobody printed it
        {"document_id": "not-a-uuid"},
    ],
    ids=["no cases", "naive time", "no user", "bad document id"],
)
async def test_a_malformed_event_is_dead_lettered_with_its_reason(driver, caplog, payload):
    unit = new_unit()
    case_id = await form_print_ready(driver, unit)
    event = printed_event([case_id], unit.operator, payload)
    with caplog.at_level(logging.ERROR, logger="shared.consumer"):
        await publish_raw(driver.service.settings, event.to_bytes(), PRINTED)
        assert await dead_letters(driver.service.settings, 1) == [event.to_bytes()]
    assert f"payload of {PRINTED}" in caplog.text
    assert await driver.state(unit.operator, case_id) == "form_print_ready"

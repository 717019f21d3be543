"""证书登记簿 against the real services over RPC (`certificate.list`): the sysadmin sees every
certificate, a department those of its own cases (as its case lists: services/cases/scope.py),
nobody else any; newest first; the filters a person uses (number or name, committee, year of
issue, status) and paging; a bad filter is a 422 naming it in words.

Each test issues its certificates through the department's real 确认办结, in a department and
committee of its own, so the other modules' certificates in the same database never match."""

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest

from services.accounts.domain.validation import id_check_char
from shared.masks import mask_id_number
from shared.rpc import Actor, RpcError
from tests.support import certificates as support
from tests.support.cases_driver import COMMITTEE, OFFICE, new_unit

SYSADMIN = Actor(user_id=uuid.uuid4(), role="sysadmin", name="系统管理员")


def new_id_number() -> str:
    first17 = f"{random.randint(110000, 659999)}19{random.randint(60, 99)}0101"
    first17 += f"{random.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


@dataclass
class Issued:
    department: Actor
    committee: str
    committee_name: str
    case_ids: list[str]
    numbers: list[str]  # in the order they were issued
    id_numbers: list[str]


async def issued(driver, names: list[str]) -> Issued:
    """A department and committee of their own, and a certificate for each name, confirmed
    one a minute apart so that their order of issue is plain."""
    department, committee, committee_name = await support.new_committee(driver.service.pool)
    confirmer = Actor(user_id=uuid.uuid4(), role="department", org_id=department, name="部门经办")
    id_numbers = [new_id_number() for _ in names]
    holders = list(zip(names, id_numbers, strict=True))
    case_ids = await support.awaiting_confirmation(
        driver.service.pool, department, committee, holders, driver.clock.now()
    )
    numbers = []
    for case_id in map(str, case_ids):
        driver.clock.offset += timedelta(minutes=1)
        await driver.act(confirmer, case_id, "confirm")
        certificate = await driver.call("certificate.get", {"case_id": case_id}, confirmer)
        numbers.append(certificate["certificate_no"])
    return Issued(
        confirmer, committee, committee_name, list(map(str, case_ids)), numbers, id_numbers
    )


async def register(driver, actor: Actor, **filters) -> dict:
    return await driver.call("certificate.list", filters, actor)


def numbers(listed: dict) -> list[str]:
    return [row["certificate_no"] for row in listed["items"]]


async def refused(call) -> RpcError:
    with pytest.raises(RpcError) as refusal:
        await call
    return refusal.value


async def test_the_sysadmin_sees_every_certificate_and_a_department_its_own(driver):
    first = await issued(driver, ["赵一", "钱二", "孙三"])
    second = await issued(driver, ["李四"])

    everything = await register(driver, SYSADMIN, page_size=200)
    assert set(first.numbers + second.numbers) <= set(numbers(everything))
    narrowed = await register(driver, SYSADMIN, committee_id=first.committee)
    assert narrowed["total"] == 3 and numbers(narrowed) == first.numbers[::-1]  # newest first
    row = narrowed["items"][-1]
    assert row == {
        "certificate_id": row["certificate_id"],
        "case_id": first.case_ids[0],
        "case_no": f"T{uuid.UUID(first.case_ids[0]).hex[:12]}",
        "certificate_no": first.numbers[0],
        "holder_name": "赵一",
        "id_number": mask_id_number(first.id_numbers[0]),  # 显示完整号码 opens it
        "qualification": "高级工程师",
        "series": "工程",
        "level": "副高",
        "committee": first.committee_name,
        "department": f"部门{first.committee.removeprefix('cmte-')}",
        "passed_on": row["passed_on"],
        "issued_on": driver.clock.today().isoformat(),
        "status": "valid",
        "status_label": "有效",
        "revoked_on": None,
    }

    # a department: the certificates of its own cases, whatever it filters by
    own = await register(driver, first.department)
    assert (own["total"], numbers(own)) == (3, first.numbers[::-1])
    assert numbers(await register(driver, second.department)) == second.numbers
    assert (await register(driver, first.department, committee_id=second.committee))["total"] == 0

    # nobody else keeps a register
    unit = new_unit()
    for actor in (unit.operator, unit.applicant, COMMITTEE, OFFICE, Actor()):
        refusal = await refused(register(driver, actor))
        assert (refusal.status, refusal.code) == (403, "forbidden"), actor.role


async def test_the_register_is_found_by_number_name_year_and_status_and_paged(driver):
    made = await issued(driver, ["周五", "吴六", "郑七"])
    department = made.department

    # a number as people type it: lower case, spaces, a part of it
    typed = " " + made.numbers[1].lower()[:-2] + " " + made.numbers[1][-2:]
    assert numbers(await register(driver, department, q=typed)) == [made.numbers[1]]
    assert numbers(await register(driver, department, q="郑")) == [made.numbers[2]]
    assert (await register(driver, department, q="王"))["total"] == 0

    # the year of issue: one confirmed a year later
    driver.clock.offset += timedelta(days=365)
    later = await issued_in(driver, made, "王八")
    this_year, next_year = driver.clock.today().year - 1, driver.clock.today().year
    assert later.startswith(f"SZZC-{next_year}-")
    assert numbers(await register(driver, department, year=next_year)) == [later]
    assert numbers(await register(driver, department, year=str(this_year))) == made.numbers[::-1]

    # the status: one revoked shows 已撤销 with its day, and is still in the register
    await driver.call(
        "certificate.revoke", {"case_id": made.case_ids[0], "reason": "业绩材料造假"}, department
    )
    revoked = await register(driver, department, status="revoked")
    assert numbers(revoked) == [made.numbers[0]]
    assert revoked["items"][0]["status_label"] == "已撤销"
    assert revoked["items"][0]["revoked_on"] == driver.clock.today().isoformat()
    valid = await register(driver, department, status="valid")
    assert numbers(valid) == [later, made.numbers[2], made.numbers[1]]

    # oldest first, and paging
    assert numbers(await register(driver, department, sort="oldest")) == [*made.numbers, later]
    second_page = await register(driver, department, page=2, page_size=3)
    assert (second_page["total"], numbers(second_page)) == (4, [made.numbers[0]])


async def issued_in(driver, made: Issued, name: str) -> str:
    """Another certificate of `made`'s department and committee, issued now."""
    [case_id] = await support.awaiting_confirmation(
        driver.service.pool,
        made.department.org_id,
        made.committee,
        [(name, new_id_number())],
        driver.clock.now(),
    )
    await driver.act(made.department, str(case_id), "confirm")
    return (await driver.call("certificate.get", {"case_id": str(case_id)}, made.department))[
        "certificate_no"
    ]


async def test_a_bad_filter_is_a_422_that_names_it_in_words(driver):
    refusal = await refused(
        register(driver, SYSADMIN, year="20x6", status="lost", sort="by_name", page=0)
    )
    assert (refusal.status, refusal.code) == (422, "invalid_input")
    assert refusal.fields["year"] == "发证年度须为四位年份，如 2026"
    assert refusal.fields["status"] == "状态须为有效（valid）或已撤销（revoked）"
    assert "newest" in refusal.fields["sort"] and set(refusal.fields) >= {"page"}
    for year in ("1999", "12026", "-2026"):
        refusal = await refused(register(driver, SYSADMIN, year=year))
        assert set(refusal.fields) == {"year"}, year
    refusal = await refused(register(driver, SYSADMIN, q="证" * 51))
    assert set(refusal.fields) == {"q"}
    assert (await register(driver, SYSADMIN, year="", status=""))["page"] == 1  # blanks: no filter

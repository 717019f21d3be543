"""Review meetings for the tests and the bench: cases waiting for a committee, the units they
come from, and experts in its library, written straight into the services' tables (the
workflow up to committee_review and the library's forms have tests of their own)."""

import contextlib
import random
import uuid
from datetime import date, datetime, timedelta

from services.accounts.domain.validation import id_check_char
from services.cases.sealed import CASE_MOBILE, EXPERT_ID_NUMBER, EXPERT_MOBILE, blind_id, seal

COMMITTEE = "cmte-qg-gj"  # 轻工 高级: 工程 正高 (gc-zg) and 副高 (gc-fg)
DEPARTMENT = "dept-gcslh"
ROUND = "2026"


def id_number(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    birth = f"{rng.randint(1950, 1985)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"{rng.randint(110000, 659999)}{birth}{rng.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def mobile() -> str:
    return "139" + str(uuid.uuid4().int)[-8:].zfill(8)


async def new_unit(accounts_pool, name: str) -> uuid.UUID:
    """A unit registered in accounts: the meeting asks it for the applicants' unit names."""
    unit_id = uuid.uuid4()
    await accounts_pool.execute(
        "INSERT INTO units (id, org_code, name, si_unit_no, source)"
        " VALUES ($1, $2, $3, '4403000000', 'local')",
        unit_id,
        uuid.uuid4().hex[:9].upper(),
        name,
    )
    return unit_id


PUBLICITY = {
    "start": "2026-04-01", "end": "2026-04-08", "method": "单位公示栏", "contact": "人事科",
    "passed": True, "feedback": "无异议",
}  # fmt: skip
INSERT_CASE = (
    "INSERT INTO cases (id, case_no, unit_id, applicant_id, applicant_name, applicant_mobile,"
    " round_id, review_type_id, qualification_id, committee_id, department_id,"
    " needs_pre_approval, state, version, last_action, status_label, pre_publicity,"
    " form_printed_at, reached_department, reached_committee, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, 'ptsb', $8, $9, $10, false, 'committee_review', 9,"
    " 'forward_to_committee', '日常工作部门审核通过-->待评委会评审', $11, $12, true, true,"
    " $12, $12)"
)


async def cases_for_committee(
    cases_pool,
    unit_id: uuid.UUID,
    count: int,
    qualification: str = "gc-fg",
    committee: str = COMMITTEE,
    department: str = DEPARTMENT,
    applicant_id: uuid.UUID | None = None,
    names: list[str] | None = None,
) -> list[str]:
    """`count` cases of this unit waiting in committee_review; their ids, in `names` order."""
    now = datetime.now().astimezone()
    rows = []
    for n in range(count):
        case_id = uuid.uuid4()
        rows.append(
            (
                case_id,
                f"M{case_id.hex[:11].upper()}",
                unit_id,
                applicant_id or uuid.uuid4(),
                names[n] if names else f"申报人{n + 1:03d}",
                seal(mobile(), CASE_MOBILE),
                ROUND,
                qualification,
                committee,
                department,
                PUBLICITY,
                now,
            )
        )
    await cases_pool.executemany(INSERT_CASE, rows)
    # the department's acceptance: the 评审（申报）表 prints the day of it
    await cases_pool.executemany(
        "INSERT INTO case_history (case_id, action, actor_role, from_state, to_state,"
        " status_label, inputs, at) VALUES ($1, 'accept', 'department', 'dept_acceptance',"
        " 'form_print_ready', '日常工作部门预受理通过-->待打印评审(申报)表', '{}', $2)",
        [(r[0], now) for r in rows],
    )
    return [str(r[0]) for r in rows]


INSERT_EXPERT = (
    "INSERT INTO experts (id, committee_id, name, id_number, mobile, unit_id, unit_name,"
    " series_id, speciality, title_level, joined_on, term_ends_on, created_at, updated_at,"
    " id_number_index)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, 'gc', '轻工机械', $8, $9, $10, now(), now(), $11)"
)


async def experts_for_committee(
    cases_pool,
    count: int,
    committee: str = COMMITTEE,
    level: str = "正高",
    unit_name: str | None = None,
    unit_id: uuid.UUID | None = None,
    names: list[str] | None = None,
    today: date = date(2026, 6, 1),
    seed: int | None = None,
) -> list[dict]:
    """`count` experts in the committee's library, in their term; each a dict of its entry."""
    rng = random.Random(seed)
    joined = today - timedelta(days=30)
    made = []
    for n in range(count):
        expert = {
            "id": uuid.uuid4(),
            "name": names[n] if names else f"专家{n + 1:03d}",
            "id_number": id_number(rng),
            "mobile": mobile(),
            "unit_id": unit_id,
            "unit_name": unit_name or f"深圳市第{n + 1}研究院",
            "title_level": level,
        }
        made.append(expert)
    await cases_pool.executemany(
        INSERT_EXPERT,
        [
            (
                e["id"],
                committee,
                e["name"],
                seal(e["id_number"], EXPERT_ID_NUMBER),
                seal(e["mobile"], EXPERT_MOBILE),
                e["unit_id"],
                e["unit_name"],
                e["title_level"],
                joined,
                joined + timedelta(days=700),
                blind_id(e["id_number"]),
            )
            for e in made
        ],
    )
    return made


async def meeting_rules(cases_pool, committee: str = COMMITTEE, **rules) -> None:
    """Set a committee's meeting rules straight in the table (the sysadmin's page has tests)."""
    values = {"basis": "speciality", "min_members": None, "max_members": None} | rules
    values.setdefault("outside_results", False)
    await cases_pool.execute(
        "INSERT INTO committee_meeting_rules (committee_id, basis, min_members, max_members,"
        " outside_results) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (committee_id) DO UPDATE"
        " SET basis = $2, min_members = $3, max_members = $4, outside_results = $5",
        committee,
        values["basis"],
        values["min_members"],
        values["max_members"],
        values["outside_results"],
    )


async def expert_user_ids(cases_pool, meeting_id: str) -> dict[str, uuid.UUID]:
    """Library entry id -> the user id of that expert's account, for the seated of a meeting."""
    rows = await cases_pool.fetch(
        "SELECT mm.expert_id, a.user_id FROM meeting_members mm"
        " JOIN expert_accounts a ON a.id_number_index = mm.id_number_index"
        " WHERE mm.meeting_id = $1",
        uuid.UUID(meeting_id),
    )
    return {str(r["expert_id"]): r["user_id"] for r in rows}


@contextlib.asynccontextmanager
async def results_outside(cases_pool, committee: str = COMMITTEE):
    """The committee records results reached outside the system (its 评审通过 buttons), for
    the tests of the workflow that take that step by hand; back to voting after."""
    await meeting_rules(cases_pool, committee, basis="series", outside_results=True)
    try:
        yield
    finally:
        await cases_pool.execute(
            "DELETE FROM committee_meeting_rules WHERE committee_id = $1", committee
        )

"""A committee of its own with experts and waiting cases, and the people around it signed in
through the gateway: its secretary, its department, a unit's operator and applicant, and the
experts once drawn (their accounts are opened by the accounts service from meeting.drawn)."""

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from tests.e2e.identity_helpers import Client
from tests.e2e.people import PASSWORD_HASH, new_unit, signed_in
from tests.support.meetings import cases_for_committee, experts_for_committee, meeting_rules


@dataclass
class Setting:
    committee: str
    committee_name: str
    secretary: Client
    department: Client
    operator: Client
    applicant: Client
    unit_id: uuid.UUID
    cases: list[str]
    names: list[str]
    experts: list[dict]
    clients: list[Client] = field(default_factory=list)

    async def close(self) -> None:
        for client in (self.secretary, self.department, self.operator, self.applicant):
            await client.close()
        for client in self.clients:
            await client.close()


async def new_committee(services) -> tuple[str, str]:
    """A 高级 committee of 工程 (正高, 副高) under 深圳市工程师联合会, for one test."""
    committee = f"cmte-e-{uuid.uuid4().hex[:8]}"
    name = f"深圳市测试工程高级评审委员会{committee[-4:]}"
    pool = services["cases"].pool
    await pool.execute(
        "INSERT INTO committees (id, name, department_id) VALUES ($1, $2, 'dept-gcslh')",
        committee,
        name,
    )
    await pool.executemany(
        "INSERT INTO committee_qualifications VALUES ($1, $2)",
        [(committee, "gc-zg"), (committee, "gc-fg")],
    )
    return committee, name


async def setting(gateway, services, cases: int = 3, experts: int = 6, minimum: int = 3):
    committee, name = await new_committee(services)
    await meeting_rules(services["cases"].pool, committee, basis="speciality", min_members=minimum)
    unit_id = await new_unit(services, "深圳市会议测试科技有限公司")
    applicant = await signed_in(gateway, services, "applicant", unit_id=unit_id, name="李申报")
    names = [f"{'赵钱孙李周吴郑王冯陈'[n % 10]}申报{n + 1}" for n in range(cases)]
    case_ids = await cases_for_committee(
        services["cases"].pool,
        unit_id,
        cases,
        committee=committee,
        applicant_id=applicant.person["id"],
        names=names,
    )
    library = await experts_for_committee(services["cases"].pool, experts, committee=committee)
    return Setting(
        committee=committee,
        committee_name=name,
        secretary=await signed_in(
            gateway, services, "committee", org_id=committee, org_name=name, name="王秘书"
        ),
        department=await signed_in(
            gateway, services, "department", org_id="dept-gcslh", org_name="深圳市工程师联合会"
        ),
        operator=await signed_in(gateway, services, "unit_operator", unit_id=unit_id),
        applicant=applicant,
        unit_id=unit_id,
        cases=case_ids,
        names=names,
        experts=library,
    )


async def drawn_meeting(secretary: Client, today: date) -> str:
    """A meeting of the secretary's committee a week on, with all its cases, drawn."""
    status, body = await secretary.api(
        "POST",
        "/api/meetings",
        {"round_id": "2026", "meets_on": (today + timedelta(days=7)).isoformat(),
         "starts_at": "09:00", "place": "会议室", "size": "3"},
    )  # fmt: skip
    assert status == 201, body
    meeting_id = body["meeting_id"]
    status, body = await secretary.api(
        "POST", f"/api/meetings/{meeting_id}/cases", {"everything": True}
    )
    assert status == 200, body
    status, body = await secretary.api("POST", f"/api/meetings/{meeting_id}/draw")
    assert status == 200, body
    return meeting_id


async def expert_accounts(services, meeting_id: str) -> dict[str, dict]:
    """The seated experts' accounts once accounts opened them: entry id -> user row."""
    rows = await services["cases"].pool.fetch(
        "SELECT mm.expert_id, a.user_id FROM meeting_members mm"
        " JOIN expert_accounts a ON a.id_number_index = mm.id_number_index"
        " WHERE mm.meeting_id = $1 AND mm.seated",
        uuid.UUID(meeting_id),
    )
    wanted = {r["user_id"]: str(r["expert_id"]) for r in rows}
    for _ in range(150):
        users = await services["accounts"].pool.fetch(
            "SELECT id, username, name FROM users WHERE id = ANY($1::uuid[])", list(wanted)
        )
        if len(users) == len(wanted):
            return {wanted[u["id"]]: dict(u) for u in users}
        await asyncio.sleep(0.1)
    raise AssertionError("the experts' accounts were not opened")


async def expert_client(gateway, services, user: dict) -> Client:
    """An expert signed in: the test sets the password they would set by 忘记密码."""
    await services["accounts"].pool.execute(
        "UPDATE users SET password_hash = $2 WHERE id = $1", user["id"], PASSWORD_HASH
    )
    client = Client(str(gateway.make_url("")))
    status, _, where = await client.login(user["username"])
    assert status == 200 and where != "/login", "the expert could not sign in"
    return client


def meeting_id_in(path: str) -> str:
    return re.search(r"/meetings/([0-9a-f-]{36})", path).group(1)

"""Review meetings against the real services (accounts, cases, documents, notify): a meeting
of 25 drawn experts deciding 40 cases with everyone voting at once, the tallies exact and each
case moved once; the quorum; no vote after the close, no second vote even at once; recusal
and the title rule per case; expert accounts opened once and the drawn told by SMS."""

import asyncio
import json
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from services.accounts.app import build_service as build_accounts
from services.accounts.deps import AccountsDeps
from services.accounts.personal import index
from services.accounts.settings import AccountsSettings
from services.cases.app import build_service as build_cases
from services.cases.deps import CasesDeps
from services.cases.reference_seed import seed_reference
from services.documents.app import build_service as build_documents
from services.notify.app import build_service as build_notify
from services.notify.dev_provider import DevSmsProvider
from services.notify.sealed import DELIVERY_MOBILE
from services.notify.sealed import opened as opened_mobile
from shared.rpc import Actor, RpcClient, RpcError
from shared.topology import Names
from tests.integration.conftest import WORKFLOW_TODAY
from tests.support.accounts_driver import CAPTCHA
from tests.support.meetings import (
    COMMITTEE,
    cases_for_committee,
    expert_user_ids,
    experts_for_committee,
    meeting_rules,
    new_unit,
)
from tests.support.rate_limits import out_of_reach
from tools.demo_data import demo_reference

SYSADMIN = Actor(user_id=uuid.uuid4(), role="sysadmin", name="管理员")
DEPARTMENT = Actor(user_id=uuid.uuid4(), role="department", org_id="dept-gcslh", name="部门")
CHOICES = ("agree", "disagree", "abstain")


class System:
    def __init__(self, client: RpcClient, services: dict, clock) -> None:
        self.client = client
        self.services = services
        self.clock = clock
        self.committee = COMMITTEE
        self.secretary = Actor()

    async def new_committee(self) -> None:
        """A committee of its own for each test (轻工 高级's department and qualifications), so
        no test draws another's experts."""
        self.committee = f"cmte-t-{uuid.uuid4().hex[:8]}"
        await self.cases.execute(
            "INSERT INTO committees (id, name, department_id) VALUES ($1, $2, 'dept-gcslh')",
            self.committee,
            f"测试高级评审委员会{self.committee[-8:]}",
        )
        await self.cases.executemany(
            "INSERT INTO committee_qualifications VALUES ($1, $2)",
            [(self.committee, "gc-zg"), (self.committee, "gc-fg")],
        )
        self.secretary = Actor(
            user_id=uuid.uuid4(), role="committee", org_id=self.committee, name="秘书甲"
        )

    async def rules(self, **rules) -> None:
        await meeting_rules(self.cases, committee=self.committee, **rules)

    async def waiting(self, unit, count: int, **kwargs) -> list[str]:
        return await cases_for_committee(
            self.cases, unit, count, committee=self.committee, **kwargs
        )

    async def experts(self, count: int, **kwargs) -> list[dict]:
        return await experts_for_committee(self.cases, count, committee=self.committee, **kwargs)

    @property
    def cases(self):
        return self.services["cases"].pool

    @property
    def accounts(self):
        return self.services["accounts"].pool

    async def call(self, method: str, params: dict, actor: Actor, service: str = "cases"):
        return await self.client.call(service, method, params, actor=actor)

    async def refused(self, method: str, params: dict, actor: Actor) -> RpcError:
        with pytest.raises(RpcError) as caught:
            await self.call(method, params, actor)
        return caught.value

    async def meeting(self, size: int, actor: Actor | None = None, **changes) -> str:
        form = {"round_id": "2026", "meets_on": "2026-06-10", "starts_at": "09:00"}
        form |= {"place": "市人才大厦 3 楼会议室", "size": str(size)} | changes
        return (await self.call("meeting.create", form, actor or self.secretary))["meeting_id"]

    async def drawn_meeting(self, size: int, cases: list[str]) -> str:
        meeting_id = await self.meeting(size)
        await self.call(
            "meeting.assign", {"meeting_id": meeting_id, "case_ids": cases}, self.secretary
        )
        await self.call("meeting.draw", {"meeting_id": meeting_id}, self.secretary)
        return meeting_id

    async def view(self, meeting_id: str) -> dict:
        return await self.call("meeting.get", {"meeting_id": meeting_id}, self.secretary)

    async def seated(self, meeting_id: str) -> dict[str, Actor]:
        """Each seated member as an expert signed in: library entry id -> actor."""
        users = await expert_user_ids(self.cases, meeting_id)
        view = await self.view(meeting_id)
        return {
            m["expert_id"]: Actor(user_id=users[m["expert_id"]], role="expert", name=m["name"])
            for m in view["members"]
            if m["seated"]
        }

    async def vote(self, expert: Actor, meeting_id: str, case_id: str, choice: str):
        params = {"meeting_id": meeting_id, "case_id": case_id, "choice": choice}
        return await self.call("meeting.vote", params, expert)


@pytest.fixture(scope="module")
async def system(own_database):
    own_settings = own_database
    accounts_deps = AccountsDeps(
        settings=AccountsSettings(second_factor=False),  # experts sign in by password here
        captcha_text=lambda: CAPTCHA,
        rate_limits=out_of_reach(),
    )
    cases_deps = CasesDeps()
    services = {
        "accounts": build_accounts(own_settings, accounts_deps),
        "cases": build_cases(own_settings, cases_deps),
        "documents": build_documents(own_settings),
        "notify": build_notify(own_settings),
    }
    provider = DevSmsProvider(own_settings)
    for part in (*services.values(), provider):
        await part.start()
    async with services["cases"].pool.acquire() as conn:
        await seed_reference(conn, demo_reference())
    client = RpcClient(own_settings.amqp_url, Names(own_settings).rpc_queue, 30)
    await client.start()
    yield System(client, services, cases_deps.clock)
    await client.close()
    await provider.close()
    for part in services.values():
        await part.stop()


@pytest.fixture
async def meetings(system):
    system.clock.offset = WORKFLOW_TODAY - datetime.now(UTC)
    await system.new_committee()
    await system.rules(basis="speciality")
    yield system
    system.clock.offset = timedelta()


async def _eventually(check, seconds: float = 15.0):
    for _ in range(int(seconds / 0.1)):
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("not within the time")


# --- the meeting the issue asks for: 25 experts, 40 cases, everyone voting at once ---


async def test_twenty_five_drawn_experts_decide_forty_cases_voting_at_once(meetings):
    unit_a = await new_unit(meetings.accounts, "深圳市甲科技有限公司")
    unit_b = await new_unit(meetings.accounts, "深圳市乙科技有限公司")
    cases = await meetings.waiting(unit_a, 20)
    cases += await meetings.waiting(unit_b, 20)
    # 30 experts elsewhere, 4 at unit A (recused on A's cases: by id and by the name typed)
    await meetings.experts(30, seed=1)
    await meetings.experts(2, unit_id=unit_a, unit_name="深圳市甲科技有限公司")
    await meetings.experts(2, unit_name="深圳市甲科技 有限公司")

    meeting_id = await meetings.drawn_meeting(25, cases)
    view = await meetings.view(meeting_id)
    assert view["phase"] == "drawn" and len(view["draw"]["pool"]) >= 25
    assert sum(m["drawn_as"] == "member" for m in view["members"]) == 25
    seated = await meetings.seated(meeting_id)
    absent = sorted(seated)[:2]
    present = [e for e in seated if e not in absent]
    await meetings.call(
        "meeting.open", {"meeting_id": meeting_id, "present": present}, meetings.secretary
    )
    view = await meetings.view(meeting_id)
    excluded = {(x["case_id"], x["expert_id"]) for x in view["exclusions"]}
    assert all(x["reason"] == "same_unit" for x in view["exclusions"])

    rng = random.Random(25)
    planned = {
        (e, c): rng.choice(CHOICES) for e in present for c in cases if (c, e) not in excluded
    }

    async def expert_votes(expert_id: str) -> None:
        mine = [(c, choice) for (e, c), choice in planned.items() if e == expert_id]
        rng.shuffle(mine)
        for case_id, choice in mine:
            await meetings.vote(seated[expert_id], meeting_id, case_id, choice)

    await asyncio.gather(*(expert_votes(e) for e in present))
    closed = await meetings.call("meeting.close", {"meeting_id": meeting_id}, meetings.secretary)
    assert closed["cases"] == 40

    view = await meetings.view(meeting_id)
    for case in view["cases_before"]:
        counts = Counter(choice for (e, c), choice in planned.items() if c == case["case_id"])
        tally = case["tally"]
        eligible = sum(1 for (e, c) in planned if c == case["case_id"])
        assert (tally["agree"], tally["disagree"], tally["abstain"]) == (
            counts["agree"],
            counts["disagree"],
            counts["abstain"],
        )
        assert tally["eligible"] == eligible and tally["present"] == 23
        assert tally["passed"] == (3 * counts["agree"] >= 2 * eligible)
        assert case["state"] == ("post_publicity_launch" if tally["passed"] else "closed")
    moves = await meetings.cases.fetch(
        "SELECT case_id, count(*) AS n FROM case_history WHERE case_id = ANY($1::uuid[])"
        " AND action IN ('pass_review', 'fail_review') GROUP BY case_id",
        [uuid.UUID(c) for c in cases],
    )
    assert len(moves) == 40 and {r["n"] for r in moves} == {1}  # each case moved once
    decided = await meetings.cases.fetchval(
        "SELECT count(*) FROM outbox WHERE routing_key = 'meeting.case_decided'"
        " AND envelope->'payload'->>'meeting_id' = $1",
        meeting_id,
    )
    assert decided == 40


# --- the quorum ---


async def test_voting_cannot_open_without_two_thirds_present_and_says_so(meetings):
    await meetings.rules(min_members=5)
    unit = await new_unit(meetings.accounts, "深圳市丙公司")
    cases = await meetings.waiting(unit, 2)
    await meetings.experts(10)
    meeting_id = await meetings.drawn_meeting(5, cases)
    seated = sorted(await meetings.seated(meeting_id))
    error = await meetings.refused(
        "meeting.open", {"meeting_id": meeting_id, "present": seated[:3]}, meetings.secretary
    )
    assert error.status == 422 and error.code == "no_quorum"
    assert error.message == "出席专家 3 人，不足应到 5 人的三分之二（至少 4 人），不能开始表决"
    assert (await meetings.view(meeting_id))["phase"] == "drawn"
    opened = await meetings.call(
        "meeting.open", {"meeting_id": meeting_id, "present": seated[:4]}, meetings.secretary
    )
    assert opened == {"present": 4, "members": 5}


# --- no vote after the close, no second vote even at once, no absent voter ---


async def test_a_second_vote_is_refused_even_when_sent_at_once_and_none_after_the_close(meetings):
    await meetings.rules(min_members=3)
    unit = await new_unit(meetings.accounts, "深圳市丁公司")
    [case_id] = await meetings.waiting(unit, 1)
    await meetings.experts(6)
    meeting_id = await meetings.drawn_meeting(3, [case_id])
    seated = await meetings.seated(meeting_id)
    first, second, absent = sorted(seated)
    params = {"meeting_id": meeting_id, "present": [first, second]}
    await meetings.call("meeting.open", params, meetings.secretary)

    attempts = await asyncio.gather(
        *(meetings.vote(seated[first], meeting_id, case_id, "agree") for _ in range(12)),
        return_exceptions=True,
    )
    assert sum(1 for a in attempts if not isinstance(a, Exception)) == 1
    refusals = [a for a in attempts if isinstance(a, RpcError)]
    assert len(refusals) == 11 and {(r.code, r.status) for r in refusals} == {
        ("already_voted", 409)
    }
    with pytest.raises(RpcError) as caught:
        await meetings.vote(seated[absent], meeting_id, case_id, "agree")
    assert caught.value.code == "not_eligible" and "未出席" in caught.value.message

    error = await meetings.refused("meeting.close", {"meeting_id": meeting_id}, meetings.secretary)
    assert error.code == "votes_missing" and "还有 1 票未投" in error.message
    await meetings.vote(seated[second], meeting_id, case_id, "disagree")
    await meetings.call("meeting.close", {"meeting_id": meeting_id}, meetings.secretary)
    with pytest.raises(RpcError) as caught:
        await meetings.vote(seated[second], meeting_id, case_id, "agree")
    assert (caught.value.code, caught.value.status) == ("voting_not_open", 409)
    [case] = (await meetings.view(meeting_id))["cases_before"]
    assert (case["tally"]["agree"], case["tally"]["disagree"]) == (1, 1)
    assert case["tally"]["passed"] is False and case["state"] == "closed"


async def test_a_vote_racing_the_close_is_counted_before_it_or_refused_after_it(meetings):
    await meetings.rules(min_members=3)
    unit = await new_unit(meetings.accounts, "深圳市戊公司")
    cases = await meetings.waiting(unit, 2)
    await meetings.experts(6)
    meeting_id = await meetings.drawn_meeting(3, cases)
    seated = await meetings.seated(meeting_id)
    await meetings.call(
        "meeting.open", {"meeting_id": meeting_id, "present": list(seated)}, meetings.secretary
    )
    for expert in seated.values():
        for case_id in cases:
            await meetings.vote(expert, meeting_id, case_id, "agree")
    late = next(iter(seated.values()))
    close, vote = await asyncio.gather(
        meetings.call("meeting.close", {"meeting_id": meeting_id}, meetings.secretary),
        meetings.vote(late, meeting_id, cases[0], "agree"),
        return_exceptions=True,
    )
    assert close["passed"] == 2
    assert isinstance(vote, RpcError) and vote.code in ("already_voted", "voting_not_open")


# --- recusal and the title rule, per case ---


async def test_recused_and_lower_titled_experts_vote_on_the_other_cases_only(meetings):
    await meetings.rules(min_members=3)
    unit = await new_unit(meetings.accounts, "深圳市己公司")
    [senior] = await meetings.waiting(unit, 1, qualification="gc-zg")
    [deputy, other] = await meetings.waiting(unit, 2)
    [colleague] = await meetings.experts(1, unit_id=unit, unit_name="深圳市己公司", names=["同事"])
    [lower] = await meetings.experts(1, level="副高", names=["副高专家"])
    [plain] = await meetings.experts(1, names=["正高专家"])
    meeting_id = await meetings.meeting(3)
    await meetings.call(
        "meeting.assign", {"meeting_id": meeting_id, "everything": False,
                           "case_ids": [senior, deputy, other]}, meetings.secretary
    )  # fmt: skip
    await meetings.call(
        "meeting.conflict",
        {"meeting_id": meeting_id, "case_id": deputy, "expert_id": str(plain["id"]),
         "reason": "近亲属"},
        meetings.secretary,
    )  # fmt: skip
    error = await meetings.refused("meeting.draw", {"meeting_id": meeting_id}, meetings.secretary)
    assert error.code == "not_enough_experts"  # the colleague votes on none: not in the pool
    [extra] = await meetings.experts(1, names=["另一正高专家"])
    await meetings.call("meeting.draw", {"meeting_id": meeting_id}, meetings.secretary)
    view = await meetings.view(meeting_id)
    names = {m["name"] for m in view["members"] if m["seated"]}
    assert names == {"副高专家", "正高专家", "另一正高专家"}
    seated = await meetings.seated(meeting_id)
    await meetings.call(
        "meeting.open", {"meeting_id": meeting_id, "present": list(seated)}, meetings.secretary
    )
    view = await meetings.view(meeting_id)
    reasons = {(x["case_id"], x["expert_name"]): x["reason"] for x in view["exclusions"]}
    assert reasons == {(senior, "副高专家"): "not_qualified", (deputy, "正高专家"): "declared"}
    eligible = {c["case_id"]: c["eligible"] for c in view["cases_before"]}
    assert eligible == {senior: 2, deputy: 2, other: 3}

    lower_actor = seated[str(lower["id"])]
    with pytest.raises(RpcError) as caught:
        await meetings.vote(lower_actor, meeting_id, senior, "agree")
    assert caught.value.code == "not_eligible"
    with pytest.raises(RpcError):  # not theirs to read either
        await meetings.call("case.get", {"case_id": senior}, lower_actor)
    assert (await meetings.call("case.get", {"case_id": other}, lower_actor))["id"] == other
    ballot = await meetings.call("meeting.ballot", {"meeting_id": meeting_id}, lower_actor)
    shown = {c["case_id"]: (c["may_vote"], c["excluded"]) for c in ballot["cases"]}
    assert shown[senior] == (False, "not_qualified") and shown[other] == (True, None)
    del extra


# --- accounts, SMS and the manual buttons ---


async def test_the_drawn_get_one_account_each_and_an_sms_and_no_password_travels(meetings):
    await meetings.rules(min_members=3)
    unit = await new_unit(meetings.accounts, "深圳市庚公司")
    cases = await meetings.waiting(unit, 2)
    experts = await meetings.experts(3)
    first = await meetings.drawn_meeting(3, cases[:1])
    users = await expert_user_ids(meetings.cases, first)

    async def opened():
        rows = await meetings.accounts.fetch(
            "SELECT id, username, role, id_number_index FROM users WHERE id = ANY($1::uuid[])",
            list(users.values()),
        )
        return rows if len(rows) == 3 else None

    accounts = await _eventually(opened)
    assert {r["role"] for r in accounts} == {"expert"}
    expected = {index(e["id_number"], "id_number") for e in experts}
    assert {r["id_number_index"] for r in accounts} == expected
    await meetings.call(
        "meeting.cancel", {"meeting_id": first, "reason": "改期"}, meetings.secretary
    )
    second = await meetings.drawn_meeting(3, cases)  # the first one's cases are free again
    assert await expert_user_ids(meetings.cases, second) == users  # the same accounts

    async def told():
        rows = await meetings.services["notify"].pool.fetch(
            "SELECT template, mobile, body FROM deliveries"
        )
        to = {e["mobile"] for e in experts}  # sealed at rest: opened to pick the experts'
        rows = [r for r in rows if opened_mobile(r["mobile"], DELIVERY_MOBILE) in to]
        kinds = Counter(r["template"] for r in rows)
        return rows if kinds["meeting.drawn"] == 6 and kinds["expert.account_opened"] == 3 else None

    rows = await _eventually(told)
    usernames = {r["username"] for r in accounts}
    for row in rows:
        if row["template"] == "expert.account_opened":
            assert any(u in row["body"] for u in usernames) and "忘记密码" in row["body"]
        else:
            assert "2026年6月10日 09:00" in row["body"] and "市人才大厦" in row["body"]
    events = await meetings.cases.fetch(
        "SELECT envelope AS payload FROM outbox WHERE routing_key = 'meeting.drawn'"
    )
    assert all("password" not in json.dumps(e["payload"]) for e in events)


async def test_a_reserve_replaces_a_member_who_declines_in_drawn_order(meetings):
    await meetings.rules(min_members=3)
    unit = await new_unit(meetings.accounts, "深圳市辛公司")
    cases = await meetings.waiting(unit, 1)
    await meetings.experts(8)
    meeting_id = await meetings.drawn_meeting(3, cases)
    view = await meetings.view(meeting_id)
    members = [m for m in view["members"] if m["drawn_as"] == "member"]
    reserves = [m for m in view["members"] if m["drawn_as"] == "reserve"]
    assert len(reserves) == 3  # ratio 2: as many reserves as seats
    declined = await meetings.call(
        "meeting.decline",
        {"meeting_id": meeting_id, "expert_id": members[1]["expert_id"], "reason": "出差"},
        meetings.secretary,
    )
    assert declined == {"replaced_by": reserves[0]["name"]}
    view = await meetings.view(meeting_id)
    seated = {m["name"] for m in view["members"] if m["seated"]}
    assert seated == {members[0]["name"], members[2]["name"], reserves[0]["name"]}
    replacing = next(m for m in view["members"] if m["name"] == reserves[0]["name"])
    assert replacing["replaces"] == members[1]["name"]


async def test_the_tally_is_for_reviewers_and_the_unit_sees_the_result_only(meetings):
    await meetings.rules(min_members=3)
    unit = await new_unit(meetings.accounts, "深圳市壬公司")
    applicant = Actor(user_id=uuid.uuid4(), role="applicant", unit_id=unit)
    [case_id] = await meetings.waiting(unit, 1, applicant_id=applicant.user_id)
    await meetings.experts(3)
    meeting_id = await meetings.drawn_meeting(3, [case_id])
    seated = await meetings.seated(meeting_id)
    await meetings.call(
        "meeting.open", {"meeting_id": meeting_id, "present": list(seated)}, meetings.secretary
    )
    for expert, choice in zip(seated.values(), ("agree", "agree", "abstain"), strict=True):
        await meetings.vote(expert, meeting_id, case_id, choice)
    await meetings.call("meeting.close", {"meeting_id": meeting_id}, SYSADMIN)

    def vote_of(case: dict) -> dict:
        return next(h for h in case["history"] if h["action"] == "pass_review")["inputs"]["vote"]

    reviewer = vote_of(await meetings.call("case.get", {"case_id": case_id}, DEPARTMENT))
    assert (reviewer["agree"], reviewer["abstain"], reviewer["eligible"]) == (2, 1, 3)
    unit_actor = Actor(user_id=uuid.uuid4(), role="unit_operator", unit_id=unit)
    for actor in (unit_actor, applicant):
        case = await meetings.call("case.get", {"case_id": case_id}, actor)
        assert set(vote_of(case)) == {"meeting_id", "meeting", "passed"}
        assert case["state"] == "post_publicity_launch"
    notice = await meetings.cases.fetchval(
        "SELECT envelope->'payload'->>'notice' FROM outbox"
        " WHERE routing_key = 'case.applicant_notice'"
        " AND envelope->'payload'->>'case_id' = $1",
        case_id,
    )
    assert notice == "您的职称申报已通过评委会评审，将进行评后公示。"


async def test_the_buttons_decide_only_for_a_committee_recording_results_reached_outside(
    meetings,
):
    unit = await new_unit(meetings.accounts, "深圳市癸公司")
    [case_id] = await meetings.waiting(unit, 1)
    params = {"case_id": case_id, "action": "pass_review", "inputs": {}}
    error = await meetings.refused("case.act", params, meetings.secretary)
    assert error.status == 403 and "评审会议" in error.message
    assert (
        "pass_review"
        not in (await meetings.call("case.get", {"case_id": case_id}, meetings.secretary))[
            "actions"
        ]
    )
    await meetings.rules(outside_results=True)
    case = await meetings.call("case.get", {"case_id": case_id}, meetings.secretary)
    assert {"pass_review", "fail_review"} <= set(case["actions"])
    moved = await meetings.call("case.act", params, meetings.secretary)
    assert moved["state"] == "post_publicity_launch"
    history = (await meetings.call("case.get", {"case_id": case_id}, DEPARTMENT))["history"]
    assert history[-1]["inputs"]["recorded_outside"] is True


async def test_the_meetings_pdfs_print_from_its_page_once_each_is_due(meetings):
    await meetings.rules(min_members=3)
    unit = await new_unit(meetings.accounts, "深圳市子公司")
    [case_id] = await meetings.waiting(unit, 1)
    await meetings.experts(3)
    meeting_id = await meetings.drawn_meeting(3, [case_id])
    params = {"meeting_id": meeting_id, "kind": "meeting_result"}
    with pytest.raises(RpcError) as caught:
        await meetings.call("meetings.pdf", params, meetings.secretary, service="documents")
    assert caught.value.status == 409
    members = await meetings.call(
        "meetings.pdf",
        {**params, "kind": "meeting_members"},
        meetings.secretary,
        service="documents",
    )
    assert members.value["pages"] >= 1 and "抽取名单" in members.value["title"]
    assert members.content.startswith(b"%PDF-")
    seated = await meetings.seated(meeting_id)
    await meetings.call(
        "meeting.open", {"meeting_id": meeting_id, "present": list(seated)}, meetings.secretary
    )
    for expert in seated.values():
        await meetings.vote(expert, meeting_id, case_id, "agree")
    await meetings.call("meeting.close", {"meeting_id": meeting_id}, meetings.secretary)
    result = await meetings.call("meetings.pdf", params, meetings.secretary, service="documents")
    assert result.value["content_type"] == "application/pdf" and "表决结果" in result.value["title"]
    assert len(result.content) == result.value["size_bytes"]
    other = Actor(user_id=uuid.uuid4(), role="committee", org_id="cmte-sl-zj", name="他会秘书")
    with pytest.raises(RpcError) as caught:
        await meetings.call("meetings.pdf", params, other, service="documents")
    assert caught.value.status == 404


# --- the audit trail (docs/audit.md): every step, never a ballot ---


async def test_each_step_of_a_meeting_is_in_the_trail_and_no_ballot_is(meetings):
    await meetings.rules(min_members=3)
    unit = await new_unit(meetings.accounts, "深圳市癸公司")
    [case_id] = await meetings.waiting(unit, 1)
    library = await meetings.experts(9)
    meeting_id = await meetings.meeting(3)
    ref = {"meeting_id": meeting_id}
    await meetings.call("meeting.assign", ref | {"case_ids": [case_id]}, meetings.secretary)
    conflict = {"case_id": case_id, "expert_id": str(library[0]["id"]), "reason": "亲属关系"}
    await meetings.call("meeting.conflict", ref | conflict, meetings.secretary)
    await meetings.call("meeting.draw", ref, meetings.secretary)
    view = await meetings.view(meeting_id)
    member = next(m for m in view["members"] if m["drawn_as"] == "member")
    decline = {"expert_id": member["expert_id"], "reason": "出差"}
    await meetings.call("meeting.decline", ref | decline, meetings.secretary)
    seated = await meetings.seated(meeting_id)
    await meetings.call("meeting.open", ref | {"present": list(seated)}, meetings.secretary)
    for expert, choice in zip(seated.values(), ("agree", "disagree", "abstain"), strict=True):
        await meetings.vote(expert, meeting_id, case_id, choice)
    await meetings.call("meeting.close", ref, meetings.secretary)

    query = {"object": meeting_id, "action": "meeting.", "limit": 200}
    page = await meetings.call("audit.search", query, SYSADMIN)
    rows = list(reversed(page["rows"]))
    assert [r["action"] for r in rows] == [
        "meeting.create",
        "meeting.assign",
        "meeting.conflict",
        "meeting.draw",
        "meeting.replace",
        "meeting.open_voting",
        "meeting.close_voting",
    ]
    assert {r["object_type"] for r in rows} == {"meeting"}
    assert {r["actor_id"] for r in rows} == {str(meetings.secretary.user_id)}
    assert all("评审会议" in r["object_label"] for r in rows)
    by = {r["action"]: r for r in rows}
    assert by["meeting.assign"]["case_ids"] == [case_id]
    assert by["meeting.conflict"]["details"] == {"expert_id": conflict["expert_id"]}
    draw = by["meeting.draw"]["details"]
    assert draw["seed"] == view["draw"]["seed"] and draw["size"] == 3
    assert (draw["members"], draw["reserves"]) == (3, 3)
    replace = by["meeting.replace"]["details"]
    assert replace["declined"] == member["expert_id"] and len(replace["seated"]) == 1
    opened = by["meeting.open_voting"]["details"]
    assert (opened["members"], opened["present"], opened["absent"]) == (3, 3, [])
    closed = by["meeting.close_voting"]
    [case_no] = closed["details"]["tally"]
    assert closed["details"]["tally"][case_no] == {
        "present": 3,
        "eligible": 3,
        "agree": 1,
        "disagree": 1,
        "abstain": 1,
        "passed": False,
    }
    assert (closed["details"]["passed"], closed["details"]["failed"]) == (0, 1)

    # no ballot anywhere: no row by a voter, no choice, no name, no reason
    everything = await meetings.call("audit.search", {"object": meeting_id, "limit": 200}, SYSADMIN)
    assert not [r for r in everything["rows"] if r["actor_role"] == "expert"]
    assert not [r for r in everything["rows"] if "vote" in r["action"].replace("voting", "")]
    for expert in seated.values():
        mine = await meetings.call("audit.search", {"person": str(expert.user_id)}, SYSADMIN)
        assert mine["rows"] == []
    text = json.dumps(rows, ensure_ascii=False)
    assert '"choice"' not in text and "亲属关系" not in text and "出差" not in text
    assert not any(e["name"] in text for e in library)
    assert not any(e["id_number"] in text or e["mobile"] in text for e in library)

"""评审会议 through the gateway: the secretary's pages (plan, add cases, draw, attendance, the
quorum's refusal, progress, close, print), the experts' ballot and vote with its confirmation
step, the JSON API, the sysadmin's rules, and who reads which case and tally."""

import asyncio
import json
import re

import pytest

from tests.e2e.identity_helpers import text_of
from tests.e2e.meeting_helpers import (
    expert_accounts,
    expert_client,
    meeting_id_in,
    setting,
)
from tests.e2e.people import signed_in


@pytest.fixture
async def world(gateway, services, clock):
    made = await setting(gateway, services)
    yield made
    await made.close()


def plain(page: str) -> str:
    return " ".join(text_of(page).split())


async def planned(world) -> str:
    form = {
        "round_id": "2026",
        "meets_on": "2026-06-10",
        "starts_at": "14:30",
        "place": "市民中心 B 区 201",
        "size": "3",
    }
    status, page, where = await world.secretary.submit("/meetings/new", form)
    assert status == 200 and "已新建评审会议" in page, plain(page)[-500:]
    return meeting_id_in(where)


async def drawn(world) -> str:
    meeting_id = await planned(world)
    status, page, _ = await world.secretary.submit(
        f"/meetings/{meeting_id}/cases", {"everything": "1"}
    )
    assert status == 200 and f"已添加 {len(world.cases)} 件申报" in page, plain(page)[-400:]
    status, page, _ = await world.secretary.submit(f"/meetings/{meeting_id}/draw", {})
    assert status == 200 and "已抽取评审专家" in page, plain(page)[-400:]
    return meeting_id


async def experts_of(world, gateway, services, meeting_id: str) -> dict:
    users = await expert_accounts(services, meeting_id)
    clients = {}
    for expert_id, user in users.items():
        clients[expert_id] = await expert_client(gateway, services, user)
    world.clients += list(clients.values())
    return clients


async def test_a_meeting_from_plan_to_result_over_the_pages(world, gateway, services):
    meeting_id = await drawn(world)
    _, page, _ = await world.secretary.page(f"/meetings/{meeting_id}")
    assert "已抽取专家" in page and "开始表决" in page and "打印抽取名单" in page
    _, record, _ = await world.secretary.page(f"/meetings/{meeting_id}/draw")
    seed = re.search(r'id="seed">([0-9a-f]{32})<', record).group(1)
    assert "SHA-256" in record and len(re.findall(r"评审专家</td>", record)) == 3

    experts = await experts_of(world, gateway, services, meeting_id)
    present = list(experts)
    status, page, _ = await world.secretary.submit(
        f"/meetings/{meeting_id}/opening", {"present": present[:1]}
    )
    assert "出席专家 1 人，不足应到 3 人的三分之二（至少 2 人），不能开始表决" in plain(page)
    await world.secretary.submit(f"/meetings/{meeting_id}/opening", {"present": present})

    first = experts[present[0]]
    _, ballot, _ = await first.page(f"/meetings/{meeting_id}/ballot")
    assert f"待表决 {len(world.cases)} 件" in ballot and "无记名投票" in ballot
    case_id = world.cases[0]
    vote_page = f"/meetings/{meeting_id}/ballot/{case_id}"
    status, confirm, _ = await first.submit(vote_page, {"choice": "disagree"})
    assert status == 200 and "请确认您的表决意见" in confirm and ">不同意<" in confirm
    _, ballot, _ = await first.page(f"/meetings/{meeting_id}/ballot")
    assert f"待表决 {len(world.cases)} 件" in ballot  # nothing cast before confirming
    status, ballot, _ = await first.submit(vote_page, {"choice": "disagree", "confirmed": "1"})
    assert f"已对 {world.names[0]} 投票，还有 {len(world.cases) - 1} 件待表决" in plain(ballot)
    status, ballot, _ = await first.submit(vote_page, {"choice": "agree", "confirmed": "1"})
    assert "您已对该申报人投过票，不能再次投票" in plain(ballot)

    _, page, _ = await world.secretary.page(f"/meetings/{meeting_id}")
    assert "1 / 3" in page and "还有" in page  # progress: counts only
    status, page, _ = await world.secretary.submit(f"/meetings/{meeting_id}/closing", {})
    assert "票未投，不能结束表决" in plain(page)
    for n, client in enumerate(experts.values()):
        for case_id in world.cases:
            if client is first and case_id == world.cases[0]:
                continue
            choice = "agree" if n < 2 else "abstain"
            status, body = await client.api(
                "POST", f"/api/meetings/{meeting_id}/votes", {"case_id": case_id, "choice": choice}
            )
            assert status == 200, body
    status, page, _ = await world.secretary.submit(f"/meetings/{meeting_id}/closing", {})
    assert "表决已结束" in page and "已结束" in page
    assert "通过" in page and "未通过" in page  # 甲: 1 agree of 3 fails; the others 2 of 3 pass
    async with world.secretary.http.get(
        f"/meetings/{meeting_id}/documents/meeting_result"
    ) as response:
        assert response.status == 200 and response.content_type == "application/pdf"
    status, body = await world.secretary.api("GET", f"/api/meetings/{meeting_id}")
    assert body["draw"]["seed"] == seed and body["phase"] == "closed"


async def test_the_department_sees_the_tally_and_the_unit_and_applicant_the_result(
    world, gateway, services
):
    meeting_id = await drawn(world)
    experts = await experts_of(world, gateway, services, meeting_id)
    await world.secretary.api(
        "POST", f"/api/meetings/{meeting_id}/opening", {"present": list(experts)}
    )
    for client in experts.values():
        for case_id in world.cases:
            await client.api(
                "POST", f"/api/meetings/{meeting_id}/votes", {"case_id": case_id, "choice": "agree"}
            )
    status, body = await world.secretary.api("POST", f"/api/meetings/{meeting_id}/closing")
    assert status == 200 and body == {"cases": 3, "passed": 3, "failed": 0}
    case_id = world.cases[0]
    _, page, _ = await world.department.page(f"/cases/{case_id}")
    assert "评审会议表决：出席 3 人，可表决 3 人，同意 3，不同意 0，弃权 0（通过）" in plain(page)
    for client in (world.operator, world.applicant):
        status, body = await client.api("GET", f"/api/cases/{case_id}")
        vote = next(h for h in body["history"] if h["action"] == "pass_review")["inputs"]["vote"]
        assert set(vote) == {"meeting_id", "meeting", "passed"}
    _, page, _ = await world.operator.page(f"/cases/{case_id}")
    assert "评审会议表决结果" in page and "同意 3" not in page
    _, page, _ = await world.applicant.page(f"/my/cases/{case_id}")
    assert "评审会议表决结果" in page and "同意 3" not in page


async def test_an_expert_reads_only_the_cases_of_meetings_they_sit(world, gateway, services):
    meeting_id = await drawn(world)
    experts = await experts_of(world, gateway, services, meeting_id)
    client = next(iter(experts.values()))
    status, _ = await client.api("GET", f"/api/cases/{world.cases[0]}")
    assert status == 404  # drawn, not yet sitting
    status, body = await client.api(
        "POST", f"/api/meetings/{meeting_id}/conflicts",
        {"case_id": world.cases[1], "reason": "近亲属"},
    )  # fmt: skip
    assert status == 200, body
    await world.secretary.api(
        "POST", f"/api/meetings/{meeting_id}/opening", {"present": list(experts)}
    )
    status, body = await client.api("GET", f"/api/cases/{world.cases[0]}")
    assert status == 200 and body["actions"] == []
    status, _ = await client.api("GET", f"/api/cases/{world.cases[1]}")
    assert status == 404  # recused on it: its materials are not theirs to read
    _, page, _ = await client.page(f"/cases/{world.cases[0]}")
    assert "评审(申报)表" in page  # the declaration form, to read
    status, job = await client.api(
        "POST", "/api/print-jobs", {"kind": "declaration_form", "case_ids": [world.cases[0]]}
    )
    assert status in (200, 201, 202), job
    for _ in range(300):
        status, job = await client.api("GET", f"/api/print-jobs/{job['job_id']}")
        if job["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "done", json.dumps(job, ensure_ascii=False)
    async with client.http.get(f"/api/documents/{job['document_id']}") as response:
        assert response.status == 200 and response.content_type == "application/pdf"
    status, body = await client.api(
        "POST", f"/api/meetings/{meeting_id}/votes", {"case_id": world.cases[1], "choice": "agree"}
    )
    assert status == 422 and "回避" in body["error"]["message"]
    for path in ("/meetings", f"/meetings/{meeting_id}", "/experts"):
        status, _, _ = await client.page(path)
        assert status == 403, path


async def test_another_committee_sees_neither_the_meeting_nor_its_pdfs(world, gateway, services):
    meeting_id = await drawn(world)
    stranger = await signed_in(
        gateway,
        services,
        "committee",
        org_id="cmte-sl-zj",
        org_name="深圳市水利水电专业中级专业技术资格评审委员会",
    )
    world.clients.append(stranger)
    for path in (
        f"/api/meetings/{meeting_id}",
        f"/api/meetings/{meeting_id}/documents/meeting_members",
    ):
        status, body = await stranger.api("GET", path)
        assert status == 404, body
    status, body = await world.secretary.api("GET", "/api/meetings")
    assert [m["id"] for m in body["items"]] == [meeting_id]


async def test_the_sysadmin_sets_a_committees_meeting_rules(world, gateway, services):
    sysadmin = await signed_in(gateway, services, "sysadmin", name="管理员")
    world.clients.append(sysadmin)
    path = f"/admin/committee-rules/{world.committee}"
    status, page, _ = await sysadmin.submit(
        path, {"basis": "series", "min_members": "8", "max_members": "5"}
    )
    assert status == 422 and "最多人数不能少于最少人数" in plain(page)
    status, page, _ = await sysadmin.submit(
        path, {"basis": "series", "min_members": "", "max_members": "", "outside_results": "1"}
    )
    assert status == 200 and "已保存" in page
    status, body = await sysadmin.api("GET", "/api/committee-rules")
    rules = next(r for r in body["items"] if r["committee_id"] == world.committee)
    assert (rules["minimum"], rules["outside_results"], rules["basis"]) == (25, True, "series")
    status, page, _ = await world.secretary.submit(
        "/meetings/new",
        {
            "round_id": "2026",
            "meets_on": "2026-06-10",
            "starts_at": "9:00",
            "place": "x",
            "size": "3",
        },
    )
    assert status == 422 and "评审会议人数不得少于 25 人" in plain(page)
    status, body = await world.secretary.api(
        "PUT", f"/api/committee-rules/{world.committee}", {"basis": "series"}
    )
    assert status == 403

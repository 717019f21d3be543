"""The whole system as `make run` starts it, with real SMS providers: Tencent Cloud SMS the
primary, Alibaba Cloud SMS the fallback, each adapter a process of its own
(`python -m services.notify.sms_adapter`, as tools.runall starts them when ZC_SMS_PROVIDER /
ZC_SMS_FALLBACK_PROVIDER are set), their credentials in secret files, their SDKs pointed at
the local fakes of the two providers' HTTP APIs.

A unit admin registers over the JSON API with the code that reached the Tencent fake; then
Tencent Cloud goes down, a unit operator of the demo data refuses an applicant's case
(审核不同意), and the applicant's notice goes out through the Alibaba fake. The credentials
are in no process's log.
"""

import asyncio
import socket
import sys
import uuid

import aiohttp
import asyncpg
import pytest

from bench._processes import ROOT, Processes, service_env
from services.accounts.domain.credentials import keyed_hash
from services.accounts.enrolment import Enrolment, upsert_enrolment
from services.cases.sealed import CASE_MOBILE, unseal
from services.notify.sealed import DELIVERY_MOBILE, opened
from shared.topology import delete_prefix
from tests.conftest import drop_database
from tests.e2e.identity_helpers import Client, registration_form
from tests.support.probes import wait_until
from tests.support.sms_providers import (
    ALIYUN_TEMPLATES,
    SECRETS,
    TENCENT_SECRET_ID,
    TENCENT_TEMPLATES,
    adapter_env,
    fake_aliyun,
    fake_tencent,
)

SERVICES = ("accounts", "cases", "documents", "notify")
SECRET = "sms-e2e-secret"
CAPTCHA = "AB12"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class System:
    def __init__(self, settings, base_url, var_dir, processes, db, passwords, fakes):
        self.settings = settings
        self.base_url = base_url
        self.var_dir = var_dir
        self.processes = processes
        self.db = db
        self.passwords = passwords
        self.fakes = fakes

    async def ready(self) -> bool:
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(self.base_url + "/readyz") as response:
                    return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def login(self, username: str) -> Client:
        client = Client(self.base_url)
        status, captcha = await client.api("POST", "/api/captcha")
        assert status == 200, captcha
        await self.db.execute(  # the test knows the server's secret: it sets the answer
            "UPDATE accounts.captchas SET answer_hash = $2 WHERE id = $1",
            uuid.UUID(captcha["captcha_id"]),
            keyed_hash(SECRET, captcha["captcha_id"], CAPTCHA).encode(),
        )
        status, body = await client.api(
            "POST",
            "/api/session",
            {
                "username": username,
                "password": self.passwords[username],
                "captcha_id": captcha["captcha_id"],
                "captcha_answer": CAPTCHA,
            },
        )
        assert status == 200, body
        return client


@pytest.fixture(scope="module")
async def system(settings, tmp_path_factory):
    run = uuid.uuid4().hex[:6]
    own = settings.model_copy(
        update={
            "database_url": f"{settings.database_url}_s{run}",
            "broker_prefix": f"{settings.broker_prefix}-s{run}",
        }
    )
    var_dir = tmp_path_factory.mktemp("sms-e2e")
    secrets_dir = var_dir / "secrets"
    secrets_dir.mkdir()
    fakes = {"aliyun": fake_aliyun(report_delay=0.2), "tencent": fake_tencent(report_delay=0.2)}
    for fake in fakes.values():
        await fake.start()
    env = service_env(
        own,
        var_dir,
        ZC_SECRET_KEY=SECRET,
        ZC_GATEWAY_PORT=str(free_port()),
        ZC_SMS_PROVIDER="tencent",
        ZC_SMS_FALLBACK_PROVIDER="aliyun",
        ZC_SMS_FALLBACK_AFTER="1",
        ZC_SMS_RETRY_BASE_SECONDS="0.5",
        ZC_SMS_DISPATCH_INTERVAL="0.2",
        ZC_SMS_PROVIDER_TIMEOUT="2",
        ZC_SMS_REPORT_POLL_INTERVAL="0.2",
        ZC_SMS_REPORT_CHECK_AFTER_SECONDS="1",
        ZC_LOG_LEVEL="DEBUG",  # every line the SDKs log too: none may hold a credential
        **adapter_env(fakes["aliyun"].port, fakes["tencent"].port, secrets_dir),
    )
    setup = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tools.setup", "--demo", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(setup.communicate(), 180)
    assert setup.returncode == 0, output.decode(errors="replace")
    passwords = dict(
        line.split()[1:3]
        for line in (var_dir / "demo-accounts.txt").read_text(encoding="utf-8").splitlines()[1:]
        if line.strip()
    )
    logs = var_dir / "logs"
    # The modules tools.runall starts for these settings (sms_processes), the fallback's
    # route given by ZC_SMS_ROUTE instead of its --route argument.
    groups = [
        Processes({s: f"services.{s}" for s in SERVICES}, env, logs),
        Processes({"sms-tencent": "services.notify.sms_adapter"}, env, logs),
        Processes(
            {"sms-aliyun-fallback": "services.notify.sms_adapter"},
            {**env, "ZC_SMS_ROUTE": "fallback"},
            logs,
        ),
        Processes({"gateway": "gateway"}, env, logs),
    ]
    everything = Processes({}, env, logs)
    for group in groups:
        await group.spawn()
        everything.running.update(group.running)
    db = await asyncpg.create_pool(own.database_url, min_size=1, max_size=4)
    base_url = f"http://127.0.0.1:{env['ZC_GATEWAY_PORT']}"
    system = System(own, base_url, var_dir, everything, db, passwords, fakes)
    try:
        await wait_until(system.ready, timeout=120, interval=0.5)
        yield system
    finally:
        await everything.stop()
        await db.close()
        for fake in fakes.values():
            await fake.close()
        await delete_prefix(own)
        await drop_database(own.database_url)


async def delivery_to(db, to: str, template: str, since):
    """The delivery of `template` to `to` made after `since`, once it is delivered."""

    async def delivered():
        rows = await db.fetch(
            "SELECT * FROM notify.deliveries WHERE template = $1"
            " AND created_at >= $2 AND status = 'delivered'",
            template,
            since,
        )  # mobiles are sealed at rest: opened to find the one to `to`
        return next((r for r in rows if opened(r["mobile"], DELIVERY_MOBILE) == to), None)

    return await wait_until(delivered, timeout=60, interval=0.2)


@pytest.mark.timeout(300)
async def test_registration_code_through_tencent_and_a_notice_through_alibaba(system):
    tencent, aliyun = system.fakes["tencent"], system.fakes["aliyun"]

    # A unit admin registers with the code that reached Tencent Cloud.
    form = registration_form()
    conn = await asyncpg.connect(
        system.settings.database_url, server_settings={"search_path": "accounts"}
    )
    try:
        await upsert_enrolment(
            conn,
            Enrolment(
                id_number=form["admin_id_number"],
                si_unit_no=form["si_unit_no"],
                si_no=form["admin_si_no"],
                unit_name="深圳市短信测试有限公司",
                person_name=form["admin_name"],
                active=True,
            ),
        )
    finally:
        await conn.close()
    began = await system.db.fetchval("SELECT now()")
    client = Client(system.base_url)
    try:
        ask = {"mobile": form["mobile"], "purpose": "register"}
        status, body = await client.api("POST", "/api/sms-codes", ask)
        assert status == 200, body
        [sms] = await wait_until(lambda: tencent.sent_to(form["mobile"]), timeout=30)
        assert sms.template == TENCENT_TEMPLATES["code.register"]
        assert sms.params["minutes"] == "5" and sms.sign_name == "深圳职称申报"
        form["sms_code"] = sms.params["code"]
        status, body = await client.api("POST", "/api/units", form)
        assert status == 201, body
    finally:
        await client.close()
    code = await delivery_to(system.db, form["mobile"], "code.register", began)
    assert (code["provider"], code["provider_ref"]) == ("tencent", sms.ref)
    assert sms.params["code"] not in code["body"]

    # Tencent Cloud goes down; a unit operator refuses a case; its notice goes by Alibaba.
    await tencent.stop()
    case = await system.db.fetchrow(
        "SELECT c.id, c.case_no, c.applicant_mobile FROM cases.cases c"
        " JOIN accounts.users u ON u.unit_id = c.unit_id"
        " WHERE u.username = 'nsjingban' AND c.state = 'unit_review'"
        " AND coalesce(c.applicant_mobile, '') <> '' ORDER BY c.created_at LIMIT 1"
    )
    assert case is not None
    to = unseal(case["applicant_mobile"], CASE_MOBILE)  # sealed at rest
    by_tencent = len(tencent.sent_to(to))  # demo notices may have reached it at the start
    refused_at = await system.db.fetchval("SELECT now()")
    operator = await system.login("nsjingban")
    try:
        status, body = await operator.api(
            "POST",
            f"/api/cases/{case['id']}/actions/reject",
            {"inputs": {"reason": "请补充近五年继续教育学时证明"}},
        )
        assert status == 200, body
    finally:
        await operator.close()
    notice = await delivery_to(system.db, to, "case.unit_rejected", refused_at)
    [sent] = [s for s in aliyun.sent_to(to) if s.template == ALIYUN_TEMPLATES["case.unit_rejected"]]
    assert sent.template == ALIYUN_TEMPLATES["case.unit_rejected"]
    assert sent.params == {"case_no": case["case_no"]}
    assert notice["provider"] == "aliyun" and notice["attempts"] == 2
    assert notice["body"] == (
        f"【深圳职称申报】您的职称申报（申报编号 {case['case_no']}）未通过单位审核，"
        "请登录系统查看原因，修改后重新上报。"
    )
    assert len(tencent.sent_to(to)) == by_tencent
    history = await system.db.fetch(
        "SELECT status, detail FROM notify.delivery_events WHERE delivery_id = $1 ORDER BY at",
        notice["id"],
    )
    details = [r["detail"] or "" for r in history]
    assert any("tencent failed: ConnectionError" in d for d in details)
    assert any(d.startswith("retry after 0s on the fallback provider") for d in details)
    assert details[-1].startswith("aliyun report: delivered")
    await tencent.start()

    # No credential in any process's log (DEBUG, the SDKs' request lines included).
    logs = {p.name: p.read_text(encoding="utf-8") for p in (system.var_dir / "logs").iterdir()}
    assert "SendRequest" in logs["sms-tencent.log"]  # the SDK logged its request
    assert {n: [s for s in SECRETS if s in text] for n, text in logs.items()} == {
        n: [] for n in logs
    }
    # The scan can fail: the key id was on the wire, in every Authorization header.
    assert all(TENCENT_SECRET_ID in a for a in tencent.seen_authorizations)

"""The whole system as separate processes, each service's database and the broker behind a
TCP proxy of the test's own that can reset or blackhole them, as a normal day's faults do.

One system for the module: demo data loaded by `tools.setup --demo` (as `make run` does),
then the four services, the development SMS provider and the gateway started as
`python -m ...` processes. Events are committed into the cases service's outbox directly (as
its own commits would be, also while its connections are cut), so a test knows exactly which
events must arrive, and checks that each arrives once: in notify's inbox, as one delivery,
as one line of the SMS log.

Every process serves its /metrics, /healthz and /readyz on a free port of its own
(`System.metrics_ports`); a module gives all of them more settings by overriding the
`system_env` fixture (tests/faults/test_observability.py: JSON logs).
"""

import asyncio
import json
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import aiohttp
import asyncpg
import pytest

from bench._processes import ROOT, Processes, service_env
from services.accounts.domain.credentials import keyed_hash
from shared.envelope import new_event
from shared.personal_data import TRANSIT, keyring
from shared.settings import Settings
from shared.topology import Names, delete_prefix
from tests.conftest import drop_database
from tests.support.probes import wait_until
from tests.support.tcp_proxy import TcpProxy

SERVICES = ("accounts", "cases", "documents", "notify")
CONSUMERS = ("accounts", "cases", "notify")  # the services with an event queue
SECRET = "fault-tests-secret"
CAPTCHA = "AB12"
# Short enough for a test, long enough (about 2 minutes in all) to outlast a 60 s outage.
RETRY_DELAYS = [1, 2, 5, 10, 20, 30, 60]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def through(url: str, proxy: TcpProxy, default_port: int) -> str:
    parts = urlsplit(url)
    return url.replace(f"{parts.hostname}:{parts.port or default_port}", f"127.0.0.1:{proxy.port}")


async def new_proxy(url: str, default_port: int) -> TcpProxy:
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname, parts.port or default_port)
    await proxy.start()
    return proxy


class Browser:
    """One signed-in person over HTTP, as the pages and the JSON API see them."""

    def __init__(self, system: "System") -> None:
        self.system = system
        self.http = aiohttp.ClientSession(
            base_url=system.base_url,
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        self.csrf = ""

    async def close(self) -> None:
        await self.http.close()

    async def login(self, username: str) -> None:
        async with self.http.get("/api/session") as response:
            self.csrf = (await response.json())["csrf_token"]
        status, captcha = await self.api("POST", "/api/captcha")
        assert status == 200, captcha
        await self.system.solve_captcha(captcha["captcha_id"])
        status, body = await self.api(
            "POST",
            "/api/session",
            {
                "username": username,
                "password": self.system.passwords[username],
                "captcha_id": captcha["captcha_id"],
                "captcha_answer": CAPTCHA,
            },
        )
        assert status == 200, body
        async with self.http.get("/api/session") as response:
            self.csrf = (await response.json())["csrf_token"]

    async def api(self, method: str, path: str, body=None) -> tuple[int, dict]:
        headers = {"X-CSRF-Token": self.csrf}
        async with self.http.request(method, path, json=body, headers=headers) as response:
            return response.status, await response.json()

    async def page(self, path: str) -> tuple[int, str]:
        async with self.http.get(path) as response:
            return response.status, await response.text()

    async def timed(self, method: str, path: str) -> tuple[int, float]:
        started = time.monotonic()
        async with self.http.request(method, path, headers={"X-CSRF-Token": self.csrf}) as r:
            await r.read()
            return r.status, time.monotonic() - started

    async def print_and_wait(self, kind: str, case_ids: list[str], timeout: float = 60) -> dict:
        status, job = await self.api(
            "POST", "/api/print-jobs", {"kind": kind, "case_ids": case_ids}
        )
        assert status == 202, job

        async def done():
            _, state = await self.api("GET", f"/api/print-jobs/{job['job_id']}")
            return state if state.get("status") in ("done", "failed") else None

        return await wait_until(done, timeout=timeout, interval=0.3)


@dataclass
class System:
    settings: Settings  # direct URLs, for the test's own look at the database and broker
    base_url: str
    var_dir: Path
    broker: TcpProxy
    databases: dict[str, TcpProxy]
    processes: Processes
    passwords: dict[str, str]
    db: asyncpg.Pool
    produced: list = field(default_factory=list)
    metrics_ports: dict[str, int] = field(default_factory=dict)  # by process name
    services: dict[str, Processes] = field(default_factory=dict)  # each service's own group

    async def restart(self, service: str) -> None:
        """SIGKILL a service (no chance to tidy up) and start it again."""
        group = self.services[service]
        await group.kill(service)
        self.processes.running[service] = await group.start(service)

    async def browser(self, username: str) -> Browser:
        browser = Browser(self)
        await browser.login(username)
        return browser

    async def solve_captcha(self, captcha_id: str) -> None:
        """The test knows the server's secret: it sets the captcha's answer to CAPTCHA."""
        await self.db.execute(
            "UPDATE accounts.captchas SET answer_hash = $2 WHERE id = $1",
            uuid.UUID(captcha_id),
            keyed_hash(SECRET, captcha_id, CAPTCHA).encode(),
        )

    async def ready(self) -> bool:
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(
                    self.base_url + "/readyz", timeout=aiohttp.ClientTimeout(3)
                ) as r:
                    return r.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def commit_notices(self, count: int) -> list[dict]:
        """`count` applicant notices committed in the cases service's outbox, one transaction
        each, straight to the database (its commits do not need the broker)."""
        notices = []
        async with self.db.acquire() as conn:
            for _ in range(count):
                n = len(self.produced) + 1
                notice = {
                    "case_id": str(uuid.uuid4()),
                    "applicant_name": f"测试{n}",
                    "applicant_mobile": keyring().seal(f"139{n:08d}", TRANSIT),
                    "round_name": "2026年度",
                    "qualification_name": "工程师",
                    "notice": f"您的申报已通过材料审核（第{n}条）。",
                }
                event = new_event("case.applicant_notice", notice, producer="cases")
                await conn.execute(
                    "INSERT INTO cases.outbox (id, routing_key, envelope) VALUES ($1, $2, $3)",
                    event.id,
                    event.type,
                    event.model_dump_json(),
                )
                self.produced.append(event)
                notices.append(event)
        return notices

    async def delivered_once(self, events: list, timeout: float = 60) -> None:
        """Each event handled by notify once, one delivery each, one SMS each, all delivered."""

        async def all_delivered():
            delivered = await self.db.fetchval(
                "SELECT count(*) FROM notify.deliveries WHERE reference = ANY($1::text[])"
                " AND status = 'delivered'",
                [f"case:{e.payload['case_id']}:{e.id}" for e in events],
            )
            return delivered >= len(events)

        await wait_until(all_delivered, timeout=timeout, interval=0.5)
        ids = [e.id for e in events]
        handled = await self.db.fetchval(
            "SELECT count(*) FROM notify.inbox WHERE consumer = 'notify'"
            " AND message_id = ANY($1::uuid[])",
            ids,
        )
        assert handled == len(events)
        per_event = await self.db.fetch(
            "SELECT reference, count(*) AS n FROM notify.deliveries"
            " WHERE reference = ANY($1::text[]) GROUP BY reference HAVING count(*) > 1",
            [f"case:{e.payload['case_id']}:{e.id}" for e in events],
        )
        assert per_event == []
        texts = self.sms_per_mobile()
        mobiles = [keyring().open(e.payload["applicant_mobile"], TRANSIT) for e in events]
        assert {m: texts.get(m, 0) for m in mobiles if texts.get(m, 0) != 1} == {}

    def sms_per_mobile(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        log = self.var_dir / "sms.log"
        if log.exists():
            for line in log.read_text(encoding="utf-8").splitlines():
                mobile = json.loads(line)["mobile"]
                counts[mobile] = counts.get(mobile, 0) + 1
        return counts

    async def dead_letters(self) -> int:
        """Messages in the dead-letter queues of every service that consumes events."""
        names = Names(self.settings)
        count = 0
        connection = await aio_pika.connect(self.settings.amqp_url)
        async with connection:
            channel = await connection.channel()
            for consumer in CONSUMERS:
                queue = await channel.declare_queue(names.dead_letter_queue(consumer), passive=True)
                count += queue.declaration_result.message_count
        return count

    def assert_alive(self, pids: dict[str, int]) -> None:
        """Every process still the one that was started: nothing died, nothing restarted."""
        self.processes.check_alive()
        assert self.processes.pids() == pids

    async def a_case_of(self, username: str) -> str:
        return str(
            await self.db.fetchval(
                "SELECT c.id FROM cases.cases c JOIN accounts.users u ON u.unit_id = c.unit_id"
                " WHERE u.username = $1 AND c.state <> 'draft' ORDER BY c.created_at LIMIT 1",
                username,
            )
        )


@pytest.fixture(scope="module")
def system_env() -> dict[str, str]:
    """More settings for every process of the module's system."""
    return {}


@pytest.fixture(scope="module")
async def system(settings, tmp_path_factory, system_env):
    run = uuid.uuid4().hex[:6]
    own = settings.model_copy(
        update={
            "database_url": f"{settings.database_url}_f{run}",
            "broker_prefix": f"{settings.broker_prefix}-f{run}",
            "event_retry_delays": RETRY_DELAYS,
        }
    )
    var_dir = tmp_path_factory.mktemp("faults")
    direct_env = service_env(own, var_dir, ZC_SECRET_KEY=SECRET)
    direct_env["ZC_EVENT_RETRY_DELAYS"] = json.dumps(RETRY_DELAYS)
    setup = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tools.setup", "--demo", cwd=ROOT, env=direct_env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(setup.communicate(), 120)
    assert setup.returncode == 0, output.decode(errors="replace")
    passwords = dict(
        line.split()[1:3]
        for line in (var_dir / "demo-accounts.txt").read_text(encoding="utf-8").splitlines()[1:]
        if line.strip()
    )

    broker = await new_proxy(own.amqp_url, 5672)
    databases = {s: await new_proxy(own.database_url, 5432) for s in SERVICES}
    port = free_port()
    env = {
        **direct_env,
        "ZC_AMQP_URL": through(own.amqp_url, broker, 5672),
        "ZC_GATEWAY_PORT": str(port),
        "ZC_RPC_TIMEOUT": "5",
        "ZC_OUTBOX_POLL_INTERVAL": "0.5",
        "ZC_RPC_CHECK_RESULTS": "true",  # every answer against its contract, as in the tests
        **system_env,
    }
    metrics_ports = {name: free_port() for name in (*SERVICES, "gateway")}
    processes = {}
    for service in SERVICES:
        processes[service] = Processes(
            {service: f"services.{service}"},
            {
                **env,
                "ZC_DATABASE_URL": through(own.database_url, databases[service], 5432),
                "ZC_METRICS_PORT": str(metrics_ports[service]),
            },
            var_dir / "logs",
        )
    others = Processes({"sms-dev": "services.notify.dev_provider"}, env, var_dir / "logs")
    gateway = Processes(
        {"gateway": "gateway"},
        {**env, "ZC_METRICS_PORT": str(metrics_ports["gateway"])},
        var_dir / "logs",
    )
    everything = Processes({}, env, var_dir / "logs")
    for group in (*processes.values(), others, gateway):
        await group.spawn()
        everything.running.update(group.running)
    db = await asyncpg.create_pool(own.database_url, min_size=1, max_size=4)
    system = System(
        own, f"http://127.0.0.1:{port}", var_dir, broker, databases, everything, passwords, db,
        metrics_ports=metrics_ports, services=processes,
    )  # fmt: skip
    try:
        await wait_until(system.ready, timeout=90, interval=0.5)
        yield system
    finally:
        await everything.stop()
        await db.close()
        await broker.close()
        for proxy in databases.values():
            await proxy.close()
        await delete_prefix(own)
        await drop_database(own.database_url)


async def seconds_since(started: float, total: float) -> None:
    """Sleep out what is left of `total` seconds since `started`."""
    await asyncio.sleep(max(0.0, total - (time.monotonic() - started)))

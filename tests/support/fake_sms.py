"""Local fakes of the SMS providers' HTTP APIs, for tests and benches: real HTTP servers that
the official SDKs talk to (pointed at them by their endpoint setting), checking each request's
signature as the real service does, answering with the documented shapes and error codes, and
serving the report queries. No real SMS goes anywhere.

Alibaba Cloud: tests/support/fake_aliyun.py; Tencent Cloud: tests/support/fake_tencent.py.
What both share is here: the record of what was sent, the delivery reports (due
`report_delay` seconds after the acceptance, delivered unless the number is in
`report_failures`), the knobs a test turns (a number invalid or blacklisted, the next sends to
a number throttled, the next sends failing with a 5xx, or answered after the client gave up),
and start/stop (a stopped fake refuses connections: the provider is down).

As a process (the bench):

    python -m tests.support.fake_sms aliyun --port 18001 --log var/fake.jsonl \
        --credential AKID:SECRET --templates '{"SMS_1": ["code", "minutes"]}'
"""

import argparse
import asyncio
import json
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web


@dataclass
class Sent:
    """One SMS the fake accepted."""

    ref: str  # BizId / SerialNo
    out_id: str | None  # OutId / SessionContext
    mobile: str
    template: str
    params: dict[str, str]
    sign_name: str
    at: float  # time.time() when accepted
    monotonic: float  # time.monotonic() when the request came in
    report_status: str = "delivered"  # what the report will say
    report_code: str = ""
    report_delay: float = 0.0  # seconds after `at` the report is there
    pulled: bool = False  # handed over by a bulk pull

    @property
    def report_due(self) -> float:
        return self.at + self.report_delay


@dataclass
class Knobs:
    invalid_numbers: set[str] = field(default_factory=set)
    blacklisted: set[str] = field(default_factory=set)
    report_failures: dict[str, str] = field(default_factory=dict)  # mobile -> report code
    throttle_next: dict[str, int] = field(default_factory=dict)  # mobile -> sends refused
    fail_next: int = 0  # sends answered with a server error
    stall_next: int = 0  # sends accepted but answered only after `stall_seconds`
    stall_seconds: float = 10.0


class FakeProvider:
    """Common part of the two fakes: the HTTP server, the record, the knobs."""

    name = "fake"

    def __init__(
        self,
        credentials: dict[str, str],
        sign_names: set[str],
        templates: dict[str, tuple[str, ...]],
        report_delay: float = 0.05,
        port: int = 0,
        log_path: Path | None = None,
    ) -> None:
        self.credentials = credentials
        self.sign_names = sign_names
        self.templates = templates
        self.report_delay = report_delay
        self.port = port
        self.log_path = log_path
        self.knobs = Knobs()
        self.sent: list[Sent] = []
        # (action, params, time.monotonic()) of every request whose signature was right
        self.requests: list[tuple[str, dict, float]] = []
        self.refused_signatures: list[str] = []  # codes of requests refused at the door
        self.seen_authorizations: list[str] = []
        self._runner: web.AppRunner | None = None
        self._log = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        if self.log_path is not None and self._log is None:
            self._log = self.log_path.open("a", encoding="utf-8")

    async def stop(self) -> None:
        """Down: connections to its port are refused until `start` again."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def close(self) -> None:
        await self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError

    # --- what tests look at ---------------------------------------------------------------

    def sent_to(self, mobile: str) -> list[Sent]:
        return [s for s in self.sent if s.mobile == mobile]

    def with_out_id(self, out_id: str) -> list[Sent]:
        return [s for s in self.sent if s.out_id == out_id]

    def calls(self, action: str) -> list[dict]:
        return [params for name, params, _ in self.requests if name == action]

    def timed_calls(self, action: str) -> list[tuple[str, dict, float]]:
        return [call for call in self.requests if call[0] == action]

    # --- shared behaviour -----------------------------------------------------------------

    def accept(self, ref: str, out_id, mobile, template, params, sign_name, began) -> Sent:
        failure = self.report_failures_for(mobile)
        sent = Sent(
            ref=ref,
            out_id=out_id,
            mobile=mobile,
            template=template,
            params=params,
            sign_name=sign_name,
            at=time.time(),
            monotonic=began,
            report_status="failed" if failure else "delivered",
            report_code=failure or self.delivered_code,
            report_delay=self.report_delay,
        )
        self.sent.append(sent)
        if self._log is not None:
            line = {
                "ref": ref,
                "out_id": out_id,
                "mobile": mobile,
                "template": template,
                "params": params,
                "monotonic": began,
            }
            self._log.write(json.dumps(line, ensure_ascii=False) + "\n")
            self._log.flush()
        return sent

    delivered_code = "DELIVERED"

    def report_failures_for(self, mobile: str) -> str | None:
        return self.knobs.report_failures.get(mobile)

    def reported(self, now: float | None = None) -> list[Sent]:
        now = time.time() if now is None else now
        return [s for s in self.sent if s.report_due <= now]

    def take(self, knob: str, mobile: str | None = None) -> bool:
        """Use up one of a counted knob (throttle_next per mobile, fail_next, stall_next)."""
        if mobile is not None:
            left = self.knobs.throttle_next.get(mobile, 0)
            if left > 0:
                self.knobs.throttle_next[mobile] = left - 1
                return True
            return False
        left = getattr(self.knobs, knob)
        if left > 0:
            setattr(self.knobs, knob, left - 1)
            return True
        return False


def new_ref(digits: int = 18) -> str:
    return "".join(random.choice("0123456789") for _ in range(digits))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fake_sms")
    parser.add_argument("provider", choices=("aliyun", "tencent"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--credential", required=True, help="ID:SECRET")
    parser.add_argument("--templates", required=True, help="JSON: template id -> [params]")
    parser.add_argument("--sign-name", default="深圳职称申报")
    parser.add_argument("--app-id", default="1400000001")
    parser.add_argument("--report-delay", type=float, default=0.05)
    args = parser.parse_args()
    key_id, secret = args.credential.split(":", 1)
    templates = {k: tuple(v) for k, v in json.loads(args.templates).items()}
    common = {
        "credentials": {key_id: secret},
        "sign_names": {args.sign_name},
        "templates": templates,
        "report_delay": args.report_delay,
        "port": args.port,
        "log_path": args.log,
    }
    if args.provider == "aliyun":
        from tests.support.fake_aliyun import FakeAliyunSms

        fake = FakeAliyunSms(**common)
    else:
        from tests.support.fake_tencent import FakeTencentSms

        fake = FakeTencentSms(app_id=args.app_id, **common)

    async def run() -> None:
        await fake.start()
        print(f"ready {fake.port}", flush=True)
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await stop.wait()
        await fake.close()

    asyncio.run(run())


if __name__ == "__main__":
    main()

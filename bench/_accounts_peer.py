"""A service process for bench.accounts, in a schema of its own.

    python -m bench._accounts_peer accounts <schema>
    python -m bench._accounts_peer cases|documents|notify <schema>

Each builds the service exactly as `python -m services.<name>` does and runs it like
`Service.run`, with two differences: its tables live in `<schema>` (so the bench drops them
afterwards and two runs never share an outbox or a deliveries table), and it prints `ready`
on stdout once it consumes. Settings come from the ZC_* environment the bench passes.

The accounts process differs in what a test would change too:

- every captcha shows CAPTCHA, so the bench answers it as a person reading the image would;
- the SMS cooldown and daily caps are lifted (every request comes from 127.0.0.1);
- `credentials.verify_password` is wrapped to count how many verifications run at once
  (a lock and two counters around the ~100 ms of argon2; login calls it unchanged through
  `verify_password_async`, i.e. `asyncio.to_thread`), and two RPC methods are added:
  `bench.verify_stats` (those counts; `reset` starts afresh) and `bench.verify_burst`
  (`concurrency` tasks calling `verify_password_async` for `seconds`: the hashes per second
  this process can do through the very path login uses, with nothing else around it).
"""

import asyncio
import sys
import threading
import time

from shared.service import Service

CAPTCHA = "AB12"
SERVICES = ("accounts", "cases", "documents", "notify")


class VerifyMeter:
    """How many argon2 verifications run at once in this process, and for how long."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.running = 0
            self.peak = 0
            self.calls = 0
            self.busy_seconds = 0.0  # time with at least one verification running
            self.running_seconds = 0.0  # integral of `running` over time
            self.since = self.changed = time.monotonic()

    def _advance(self, at: float) -> None:
        span = at - self.changed
        self.running_seconds += self.running * span
        if self.running:
            self.busy_seconds += span
        self.changed = at

    def enter(self) -> None:
        with self.lock:
            self._advance(time.monotonic())
            self.running += 1
            self.peak = max(self.peak, self.running)

    def leave(self) -> None:
        with self.lock:
            self._advance(time.monotonic())
            self.running -= 1
            self.calls += 1

    def figures(self) -> dict:
        with self.lock:
            at = time.monotonic()
            self._advance(at)
            wall = max(at - self.since, 1e-9)
            return {
                "verifies": self.calls,
                "peak_at_once": self.peak,
                # mean number running while at least one ran, and over the whole span
                "mean_at_once_when_busy": round(self.running_seconds / self.busy_seconds, 2)
                if self.busy_seconds
                else 0.0,
                "busy_share": round(self.busy_seconds / wall, 3),
                "seconds": round(wall, 3),
            }


def count_verifications(meter: VerifyMeter) -> None:
    from services.accounts.domain import credentials

    verify = credentials.verify_password

    def counted(password_hash: str, password: str) -> bool:
        meter.enter()
        try:
            return verify(password_hash, password)
        finally:
            meter.leave()

    # verify_password_async looks the name up in the module on every call.
    credentials.verify_password = counted


def build_accounts() -> Service:
    from pydantic import BaseModel

    from services.accounts.app import build_service
    from services.accounts.deps import AccountsDeps
    from services.accounts.domain.credentials import verify_password_async
    from services.accounts.settings import AccountsSettings
    from shared.rate_limit import LIMITS, RateLimiter, RateLimitSettings

    meter = VerifyMeter()
    count_verifications(meter)
    deps = AccountsDeps(
        captcha_text=lambda: CAPTCHA,
        settings=AccountsSettings(
            sms_daily_cap_per_client=10**9, sms_cooldown_seconds=0, sms_daily_cap_per_mobile=10**9
        ),
        # Every bench browser is 127.0.0.1: the limits are out of reach, but still counted,
        # so a login pays for its rate-limit rows as in production.
        rate_limits=RateLimiter(
            RateLimitSettings(rate_limits={what: "1000000000/60" for what in LIMITS})
        ),
    )
    service = build_service(deps=deps)

    class Stats(BaseModel):
        reset: bool = False

    class Burst(BaseModel):
        password_hash: str
        password: str
        concurrency: int = 1
        seconds: float = 3.0

    async def verify_stats(params: Stats, _ctx) -> dict:
        figures = meter.figures()
        if params.reset:
            meter.reset()
        return figures

    async def verify_burst(params: Burst, _ctx) -> dict:
        """Hashes/s through verify_password_async with `concurrency` callers, nothing else."""
        latencies: list[float] = []
        deadline = time.monotonic() + params.seconds
        cpu_before, started = time.process_time(), time.monotonic()

        async def caller() -> None:
            while time.monotonic() < deadline:
                began = time.monotonic()
                if not await verify_password_async(params.password_hash, params.password):
                    raise RuntimeError("the bench password does not verify")
                latencies.append(time.monotonic() - began)

        meter.reset()
        await asyncio.gather(*(caller() for _ in range(params.concurrency)))
        wall = time.monotonic() - started
        default = getattr(asyncio.get_running_loop(), "_default_executor", None)
        return {
            "latencies": latencies,
            "seconds": wall,
            "cpu_seconds": time.process_time() - cpu_before,
            "at_once": meter.figures(),
            # asyncio.to_thread's pool: min(32, cores + 4) threads unless set otherwise
            "default_executor_threads": getattr(default, "_max_workers", None),
        }

    service.rpc.method("bench.verify_stats", Stats)(verify_stats)
    service.rpc.method("bench.verify_burst", Burst)(verify_burst)
    return service


def build(name: str) -> Service:
    if name == "accounts":
        return build_accounts()
    if name == "cases":
        from services.cases.app import build_service
    elif name == "documents":
        from services.documents.app import build_service
    else:
        from services.notify.app import build_service
    return build_service()


async def say_ready(_service: Service) -> None:
    print("ready", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in SERVICES:
        sys.exit(f"usage: python -m bench._accounts_peer {{{'|'.join(SERVICES)}}} <schema>")
    peer = build(sys.argv[1])
    peer.schema = sys.argv[2]  # read by start(): migrations, pool and outbox relay
    peer.on_start.append(say_ready)
    peer.run()

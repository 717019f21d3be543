"""RabbitMQ away for 10 s (its connections reset, then silently dropping traffic): the site
answers 503 at once meanwhile, heals by itself within seconds after, and no event is lost
or handled twice."""

import asyncio
import time

from tests.faults.conftest import System, seconds_since
from tests.support.probes import wait_until

OUTAGE = 10.0
RPC_TIMEOUT = 5.0  # the gateway's, as the system fixture sets it


async def test_a_broker_outage_fails_fast_and_heals_with_every_event_delivered_once(
    system: System,
):
    unit = await system.browser("nsadmin")
    try:
        before = await system.commit_notices(20)
        await system.delivered_once(before)
        pids = system.processes.pids()

        during = []
        for cut in (reset, blackhole):
            started = time.monotonic()
            await cut(system)
            during += await system.commit_notices(10)
            answers = [await unit.timed("GET", "/api/cases/home") for _ in range(6)]
            assert {status for status, _ in answers} == {503}
            # Fail fast: never the 5 s a call may wait for its reply. When the connection is
            # known gone (reset) every call fails at once; when the broker went silent
            # (blackhole) the first call waits 3 s and its probe of the broker 1 s, the rest
            # do not.
            times = sorted(seconds for _, seconds in answers)
            slow_allowed = 0 if cut is reset else 1
            assert all(t < RPC_TIMEOUT / 2 for t in times[: len(times) - slow_allowed]), times
            assert times[-1] < RPC_TIMEOUT - 0.5, times
            status, html = await unit.page("/home")
            assert status == 503 and "请稍后再试" in html
            await seconds_since(started, OUTAGE)
            await restore(system)
            back = time.monotonic()
            await wait_until(system.ready, timeout=10, interval=0.2)
            print(f"{cut.__name__}: ready {time.monotonic() - back:.1f}s after the broker was back")

        # Pages, API calls and a print job work, with no restart.
        status, html = await unit.page("/home")
        assert status == 200 and "单位管理员" in html
        status, counts = await unit.api("GET", "/api/cases/home")
        assert status == 200, counts
        job = await unit.print_and_wait("registration_form", [await system.a_case_of("nsadmin")])
        assert job["status"] == "done", job

        after = await system.commit_notices(20)
        await system.delivered_once(before + during + after)
        assert await system.dead_letters() == 0
        system.assert_alive(pids)
    finally:
        await restore(system)
        await unit.close()


async def reset(system: System) -> None:
    await system.broker.cut()


async def blackhole(system: System) -> None:
    system.broker.blackhole()


async def restore(system: System) -> None:
    system.broker.restore()
    await system.broker.start()
    await asyncio.sleep(0)

"""The event loop every process runs on: uvloop's (libuv) unless `ZC_EVENT_LOOP=asyncio`.

uvloop was measured to cut the CPU each request costs in every process (bench/README.md,
"Event loop"); the standard loop stays one setting away should a library misbehave on it.
"""

import asyncio
from collections.abc import Coroutine

from shared.settings import Settings


def new_event_loop(settings: Settings) -> asyncio.AbstractEventLoop:
    if settings.event_loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main: Coroutine, settings: Settings) -> None:
    """asyncio.run(main) on the configured loop."""
    with asyncio.Runner(loop_factory=lambda: new_event_loop(settings)) as runner:
        runner.run(main)

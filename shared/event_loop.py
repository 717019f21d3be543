"""The event loop every process runs on: uvloop's (libuv) unless `ZC_EVENT_LOOP=asyncio`.

uvloop was measured to cut the CPU each request costs in every process (bench/README.md,
"Event loop"); the standard loop stays one setting away should a library misbehave on it.
"""

import asyncio
import gc
from collections.abc import Coroutine

from shared import metrics
from shared.settings import Settings

# Python collects its youngest objects every 700 allocations: a request allocates thousands,
# so several collections ran per request, and the rare full ones paused a process for tens of
# ms while others waited on it. Collected every 50,000 (and the oldest generation seldom),
# the vote's p99 in bench/committee.py fell from 91–97 ms to 66–77 ms (bench/README.md).
# Since no request is a reference cycle any more, only what a page's template leaves (Jinja's
# macros) comes to a collection, and a collection's pause grows with what it frees: every
# 10,000 the gateway pauses a fifth as long, five times as often, and the /verify page's p99
# at 50 in flight was 92-135 ms against 130-192 ms (four runs each, in turn; bench/README.md).
GC_THRESHOLDS = (10_000, 50, 1_000)


def tune_garbage_collector() -> None:
    """Rarer collections, what is loaded at start-up kept out of them (gc.freeze), and each
    collection's pause timed (zc_gc_pause_seconds)."""
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()
    metrics.time_garbage_collections()


def new_event_loop(settings: Settings) -> asyncio.AbstractEventLoop:
    if settings.event_loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main: Coroutine, settings: Settings) -> None:
    """asyncio.run(main) on the configured loop."""
    tune_garbage_collector()
    with asyncio.Runner(loop_factory=lambda: new_event_loop(settings)) as runner:
        runner.run(main)

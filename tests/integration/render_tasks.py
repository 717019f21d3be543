"""Tasks for the render pool's tests; a module of its own so that workers can import it."""

import time


def large_result(size: int, time_limit: float | None = None) -> bytes:
    time.sleep(0.01)
    return b"%" * size


def lost_allocation_failure(time_limit: float | None = None) -> bytes:
    """What a C library whose allocation failed under RLIMIT_AS sometimes raises instead of
    MemoryError (seen from WeasyPrint's writer in a 3,000-person roster)."""
    raise SystemError("error return without exception set")

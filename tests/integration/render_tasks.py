"""Tasks for the render pool's tests; a module of its own so that workers can import it."""

import time


def large_result(size: int, time_limit: float | None = None) -> bytes:
    time.sleep(0.01)
    return b"%" * size

"""Whether a process is still there, by its pid."""

import os


def is_running(pid: int) -> bool:
    """True for a live process, ours or another user's (signal 0 only asks)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process
    return True

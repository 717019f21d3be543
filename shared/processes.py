"""Whether a process is still there, by its pid; and what names this one among the copies."""

import os
import socket


def is_running(pid: int) -> bool:
    """True for a live process, ours or another user's (signal 0 only asks)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process
    return True


def identity() -> str:
    """`host:pid` of this process: which copy of a service did a piece of work (a pod's
    host name is the pod's name)."""
    return f"{socket.gethostname()}:{os.getpid()}"

"""Whether a process is still there, by its pid; what names this one among the copies; and a
pool worker that ends with the service that made it."""

import os
import socket
import threading
import time

WATCH_SECONDS = 1.0  # how often a pool's worker looks whether its service is still there


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


def is_alive(pid: int) -> bool:
    """is_running, and not a zombie: a killed process its parent has not yet waited for."""
    if not is_running(pid):
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False  # gone since
    except OSError:
        return True  # no /proc (not Linux): the signal said enough


def end_with(service: int) -> None:
    """For a process pool's worker (the export worker, a render worker): exit once the process
    `service` is gone. A service killed (SIGKILL, a crash) never tells its pool to stop, and
    its workers would otherwise wait for work for ever, orphans of every crash."""

    def watch() -> None:
        while is_alive(service):
            time.sleep(WATCH_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="end-with-service", daemon=True).start()

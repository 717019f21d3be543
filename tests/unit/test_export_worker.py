"""The export worker process (shared/exports.py, `_Worker`) does not outlive its service: a
service killed with SIGKILL never tells its pool to stop, so the worker watches its parent
(export_render.watch_parent). Real processes, killed for real."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# a stand-in for the service: starts the worker, says its pid, then waits to be killed
SERVICE = """
import asyncio, os, sys
from shared.exports import _Worker

async def main():
    pid = await asyncio.get_running_loop().run_in_executor(_Worker.start(), os.getpid)
    print(pid, flush=True)
    await asyncio.sleep(60)

if __name__ == "__main__":
    asyncio.run(main())
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is gone but for its parent's wait
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_the_worker_ends_when_its_service_is_killed(tmp_path):
    script = tmp_path / "service.py"
    script.write_text(SERVICE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, env=env
    ) as service:
        worker = int(service.stdout.readline())
        assert alive(worker)
        service.send_signal(signal.SIGKILL)
        service.wait(10)
        deadline = time.monotonic() + 10
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
    orphan = alive(worker)
    if orphan:  # not left behind by a failing run
        os.kill(worker, signal.SIGKILL)
    assert not orphan, "the export worker outlived its killed service"

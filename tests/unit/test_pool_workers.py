"""A pool's workers do not outlive their service: a service killed with SIGKILL never tells its
pool to stop, so each worker watches the service (shared.processes.end_with). The export worker
(shared/exports.py) is the service's child; a render worker (services/documents/render/pool.py)
its grandchild, forked by multiprocessing's fork server. Real processes, killed for real."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.processes import is_alive

ROOT = Path(__file__).resolve().parents[2]
# stand-ins for the services: each starts its pool, says its workers' pids, then waits
EXPORTS = """
import asyncio, os
from shared.exports import _Worker

async def main():
    pid = await asyncio.get_running_loop().run_in_executor(_Worker.start(), os.getpid)
    print(pid, flush=True)
    await asyncio.sleep(60)
"""
RENDERS = """
import asyncio, os
from services.documents.render.pool import RenderPool, _processes

async def main():
    pool = RenderPool()
    await pool.start()
    while len(_processes(pool._executor)) < pool.workers:
        await asyncio.sleep(0.1)
    print(" ".join(str(p.pid) for p in _processes(pool._executor)), flush=True)
    await asyncio.sleep(60)
"""
RUN = '\nif __name__ == "__main__":\n    asyncio.run(main())\n'


@pytest.mark.parametrize("service", [EXPORTS, RENDERS], ids=["export worker", "render workers"])
def test_the_workers_end_when_their_service_is_killed(tmp_path, service):
    script = tmp_path / "service.py"
    script.write_text(service + RUN)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env) as run:
        workers = [int(pid) for pid in run.stdout.readline().split()]
        assert workers and all(is_alive(pid) for pid in workers)
        run.send_signal(signal.SIGKILL)
        run.wait(10)
        deadline = time.monotonic() + 15
        while any(is_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
    orphans = [pid for pid in workers if is_alive(pid)]
    for pid in orphans:  # not left behind by a failing run
        os.kill(pid, signal.SIGKILL)
    assert not orphans, "workers outlived their killed service"

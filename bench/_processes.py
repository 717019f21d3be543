"""The benches' service processes: each `python -m <module>` a process of its own, with the
bench's settings in its environment, its output in a log file, and no way to outlive the
bench (a dying bench sends it SIGTERM). How a bench knows they are ready is its own affair
(a ping for each service, the gateway's /readyz).
"""

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from pathlib import Path

from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def die_with_parent() -> None:
    """In a child: get SIGTERM if the bench dies, so no process is left behind."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


def service_env(settings: Settings, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a service process: the bench's database, broker prefix and logs."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
        "ZC_DATABASE_URL": settings.database_url,
        "ZC_AMQP_URL": settings.amqp_url,
        "ZC_BROKER_PREFIX": settings.broker_prefix,
        "ZC_LOG_LEVEL": settings.log_level,
        "ZC_VAR_DIR": str(var_dir),
        **extra,
    }


class Processes:
    """Processes by name, started in order, each logging to <log_dir>/<name>.log."""

    def __init__(self, modules: dict[str, str], env: dict[str, str], log_dir: Path) -> None:
        self.modules = modules
        self.env = env
        self.log_dir = log_dir
        self.running: dict[str, asyncio.subprocess.Process] = {}

    async def spawn(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in self.modules:
            await self.start(name, fresh_log=True)

    async def start(self, name: str, fresh_log: bool = False) -> asyncio.subprocess.Process:
        """Start one of them (again, after `kill`): a restart appends to its log."""
        with (self.log_dir / f"{name}.log").open("wb" if fresh_log else "ab") as log:
            self.running[name] = await asyncio.create_subprocess_exec(
                sys.executable, "-m", self.modules[name], cwd=ROOT, env=self.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True, preexec_fn=die_with_parent,
            )  # fmt: skip
        return self.running[name]

    async def kill(self, name: str, signum: int = signal.SIGKILL) -> int:
        """Signal one of them (SIGKILL: no chance to tidy up) and wait until it is gone."""
        process = self.running[name]
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
        return await process.wait()

    def check_alive(self, *names: str) -> None:
        """RuntimeError naming the log of any of these (all by default) that has exited."""
        dead = [n for n in names or self.running if self.running[n].returncode is not None]
        if dead:
            logs = ", ".join(str(self.log_dir / f"{n}.log") for n in dead)
            raise RuntimeError(f"{', '.join(dead)} exited; see {logs}")

    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.running.items()}

    async def stop(self, grace: float = 20.0) -> None:
        alive = [p for p in self.running.values() if p.returncode is None]
        for process in alive:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in alive:
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                process.kill()
                await process.wait()

"""Run the whole system on this machine: `python -m tools.runall [NAME ...]`.

Applies migrations (tools.setup), then starts the four services and the gateway as child
processes with this Python and this environment, each output line prefixed with the process
name. Ctrl-C or SIGTERM stops them all (each gets ZC_STOP_GRACE seconds to finish what it is
handling); if one dies on its own, everything stops and the exit code is 1. Once the
gateway's /readyz answers 200 the URL is printed.

Each process serves /metrics, /healthz and /readyz on a port of its own (`metrics_port`: 9100
the gateway, 9101-9104 the services, each further copy 10 higher; the SMS adapters none;
ZC_METRICS_PORT moves the 9100, and 0 turns them off).

`--replicas 2` starts two copies of each service and of the gateway (`cases`, `cases-2`, ...;
the gateway copies share its port with SO_REUSEPORT); `--replicas 1,documents=3,cases=2`
sets them per process (docs/operations.md, "Several copies"). The SMS provider adapters
stay one each.

`python -m tools.runall accounts cases` starts only those; `--wait-ready SECONDS [--pid PID]`
only waits until a system started elsewhere is ready (exit 0) or not in time (exit 1).
"""

import argparse
import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from typing import NamedTuple

from shared.processes import is_running
from shared.settings import get_settings


def sms_processes() -> dict[str, str]:
    """The SMS provider adapters the settings choose (ZC_SMS_PROVIDER, by default the
    development one writing var/sms.log; ZC_SMS_FALLBACK_PROVIDER); docs/sms.md."""
    from services.notify.settings import NotifySettings

    notify = NotifySettings()
    if notify.sms_provider == "dev":
        chosen = {"sms-dev": "services.notify.dev_provider"}
    else:
        chosen = {f"sms-{notify.sms_provider}": "services.notify.sms_adapter"}
    if notify.sms_fallback_provider:
        name = f"sms-{notify.sms_fallback_provider}-fallback"
        chosen[name] = "services.notify.sms_adapter --route fallback"
    return chosen


PROCESSES = {
    "accounts": "services.accounts",
    "cases": "services.cases",
    "documents": "services.documents",
    "notify": "services.notify",
    **sms_processes(),
    "gateway": "gateway",
}
# What may run as several copies: the services and the gateway. An SMS adapter is the
# provider's stand-in (or its client): one per provider route is what the design has.
REPLICABLE = ("accounts", "cases", "documents", "notify", "gateway")
MAX_COPIES = 9
WIDTH = max(map(len, PROCESSES)) + 2  # room for a copy's suffix, -2 ... -9
STOP_MARGIN = 10.0  # seconds past ZC_STOP_GRACE a process may take to close its connections


# Each process's /metrics, /healthz and /readyz (ZC_METRICS_PORT): the base + its place here.
# A ZC_METRICS_PORT given to runall moves the base; 0 gives the processes none.
METRICS_ORDER = ("gateway", "accounts", "cases", "documents", "notify")
METRICS_BASE_PORT = int(os.environ.get("ZC_METRICS_PORT") or 9100)


def metrics_port(service_index: int, copy: int = 0) -> int:
    """The metrics port of one copy (0-based) of a process: copies are 10 apart."""
    return METRICS_BASE_PORT + service_index + 10 * copy


def metrics_env(name: str, copy: int = 0) -> dict[str, str]:
    if name not in METRICS_ORDER or not METRICS_BASE_PORT:
        return {}  # the SMS provider adapters keep none
    return {"ZC_METRICS_PORT": str(metrics_port(METRICS_ORDER.index(name), copy))}


def copy_name(name: str, copy: int) -> str:
    """The label of a copy (0-based): the first keeps the process's name, then -2, -3 ..."""
    return name if copy == 0 else f"{name}-{copy + 1}"


def parse_replicas(spec: str) -> dict[str, int]:
    """`2` (every replicable process), `cases=2,documents=3`, or both: `1,documents=3`."""
    copies = dict.fromkeys(REPLICABLE, 1)
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = item.rpartition("=")
        if name and name not in REPLICABLE:
            raise ValueError(
                f"{name} cannot run as several copies; these can: {', '.join(REPLICABLE)}"
            )
        if not count.isdigit() or not 1 <= int(count) <= MAX_COPIES:
            raise ValueError(f"{item!r}: a number of copies from 1 to {MAX_COPIES}")
        for target in [name] if name else REPLICABLE:
            copies[target] = int(count)
    return copies


def say(name: str, text: str) -> None:
    sys.stdout.buffer.write(f"{name:<{WIDTH}} | {text}\n".encode())
    sys.stdout.flush()


def gateway_url() -> str:
    settings = get_settings()
    host = settings.gateway_host
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.gateway_port}"


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _die_with_parent() -> None:
    """In the child: get SIGTERM if runall itself is killed, so no process is left behind."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


async def _pump(name: str, stream: asyncio.StreamReader) -> None:
    prefix = f"{name:<{WIDTH}} | ".encode()
    out = sys.stdout.buffer
    while True:
        try:
            line = await stream.readline()
        except ValueError:  # a line longer than the limit: pass on what there is
            line = await stream.read(1 << 20)
        if not line:
            return
        out.write(prefix + line.rstrip(b"\n") + b"\n")
        out.flush()


async def _spawn(
    name: str, module: str, tasks: list, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *module.split(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        limit=1 << 20,
        start_new_session=True,  # Ctrl-C reaches runall only; it forwards it once
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    tasks.append(asyncio.create_task(_pump(name, process.stdout)))
    return process


async def _announce_when_ready(url: str) -> None:
    started = time.monotonic()
    hinted = False
    while not await asyncio.to_thread(is_ready, url):
        if not hinted and time.monotonic() - started > 60:
            say("runall", f"still waiting for {url}/readyz to answer 200 ...")
            hinted = True
        await asyncio.sleep(0.5)
    bar = "=" * 60
    say("runall", bar)
    say("runall", f"  Ready: {url}   (Ctrl-C stops everything)")
    say("runall", bar)


async def _stop(processes: dict[str, asyncio.subprocess.Process]) -> None:
    running = {n: p for n, p in processes.items() if p.returncode is None}
    for process in running.values():
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    waits = {n: asyncio.create_task(p.wait()) for n, p in running.items()}
    grace = get_settings().stop_grace + STOP_MARGIN
    if waits:
        await asyncio.wait(waits.values(), timeout=grace)
    for name, process in running.items():
        if process.returncode is None:
            say("runall", f"{name} did not stop within {grace:.0f}s: killing it")
            with contextlib.suppress(ProcessLookupError):
                process.kill()
    if waits:
        await asyncio.wait(waits.values())


class Copy(NamedTuple):
    label: str  # cases, cases-2, ...
    name: str  # cases
    copy: int  # 0, 1, ...
    module: str
    env: dict[str, str]  # what this copy's environment adds


def copies_to_start(names: list[str], replicas: dict[str, int]) -> list[Copy]:
    """Every process to start, in start order."""
    started = []
    for name in names:
        count = replicas.get(name, 1)
        env = {"ZC_GATEWAY_REUSE_PORT": "true"} if name == "gateway" and count > 1 else {}
        started += [
            Copy(copy_name(name, copy), name, copy, PROCESSES[name], env | metrics_env(name, copy))
            for copy in range(count)
        ]
    return started


async def run(names: list[str], replicas: dict[str, int] | None = None) -> int:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    pumps: list[asyncio.Task] = []

    say("runall", "applying migrations and loading demo data (python -m tools.setup --demo)")
    setup = await _spawn("setup", "tools.setup --demo", pumps)
    setup_done = asyncio.create_task(setup.wait())
    stop_wait = asyncio.create_task(stopping.wait())
    await asyncio.wait({setup_done, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    if stopping.is_set():
        await _stop({"setup": setup})
        return 0
    if setup.returncode != 0:
        await asyncio.gather(*pumps)
        say("runall", f"tools.setup failed (exit {setup.returncode}); nothing started")
        return 1

    processes = {}
    for started in copies_to_start(names, replicas or {}):
        label = started.label
        processes[label] = await _spawn(label, started.module, pumps, started.env)
        port = started.env.get("ZC_METRICS_PORT")
        metrics = f", metrics on :{port}" if port else ""
        say("runall", f"started {label} (pid {processes[label].pid}{metrics})")
    exits = {asyncio.create_task(p.wait()): n for n, p in processes.items()}
    announce = None
    if "gateway" in names:
        announce = asyncio.create_task(_announce_when_ready(gateway_url()))

    done, _ = await asyncio.wait({*exits, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if stop_wait in done:
        say("runall", "stopping everything")
    else:
        for task in done:
            name = exits[task]
            say("runall", f"{name} exited unexpectedly (code {task.result()}): stopping everything")
        code = 1
    if announce is not None:
        announce.cancel()
    await _stop(processes)
    await asyncio.gather(*pumps, return_exceptions=True)
    for name, process in processes.items():
        say("runall", f"{name} exited with code {process.returncode}")
    return code


def wait_ready(seconds: float, pid: int | None) -> int:
    url = gateway_url()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if is_ready(url):
            print(f"Ready: {url}")
            return 0
        if pid is not None and not is_running(pid):
            print(f"runall (pid {pid}) is no longer running", file=sys.stderr)
            return 1
        time.sleep(0.5)
    print(f"{url}/readyz did not answer 200 within {seconds:.0f}s", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.runall", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"start only these of: {', '.join(PROCESSES)}"
    )
    parser.add_argument(
        "--wait-ready", type=float, metavar="SECONDS", help="only wait until /readyz answers 200"
    )
    parser.add_argument("--pid", type=int, help="with --wait-ready: give up once PID is gone")
    parser.add_argument(
        "--replicas",
        default="1",
        metavar="SPEC",
        help="copies of each service and the gateway: N, or NAME=N,... (e.g. 2, or 1,documents=3)",
    )
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(PROCESSES))
    if unknown:
        parser.error(f"unknown process {', '.join(unknown)}; choose from {', '.join(PROCESSES)}")
    try:
        replicas = parse_replicas(args.replicas)
    except ValueError as error:
        parser.error(f"--replicas: {error}")
    if args.wait_ready is not None:
        return wait_ready(args.wait_ready, args.pid)
    names = [name for name in PROCESSES if not args.names or name in args.names]
    return asyncio.run(run(names, replicas))


if __name__ == "__main__":
    sys.exit(main())

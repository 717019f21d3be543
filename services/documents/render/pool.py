"""Render workers: processes of their own, with a time and memory limit per render.

WeasyPrint is synchronous and memory-hungry, so it never runs in the service's event loop.
A ProcessPoolExecutor (one worker per core) runs the renders; a semaphore admits only as
many tasks as there are workers, so a task submitted is a task started, its time limit
counts from its start, and a worker killed takes down nothing that was merely queued.
A worker that dies (segfault, OOM killer) breaks the executor: the pool replaces it, and
the renders it was running fail with a RenderFailed (503) that the caller reports.
Results come back as files (worker.run_task says why), in a folder the pool owns.
"""

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.documents.render import worker
from shared.processes import is_running
from shared.rpc import RpcError

log = logging.getLogger(__name__)

HARD_LIMIT_GRACE = 5.0  # seconds past the worker's own limit before the pool kills it
OUTCOMES_PREFIX = "zc-render-"  # + the service's pid: the folder of its workers' outcomes


class RenderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_RENDER_", extra="ignore")

    workers: int = 0  # 0: one per CPU core
    time_limit: float = 120.0  # seconds per task (one document, roster chunk or merge)
    memory_limit_mb: int = 2048  # address space per worker (RLIMIT_AS)
    chunk_pages: int = 12  # at most, the roster pages a worker renders at a time
    warm: bool = True  # start the workers and load the fonts when the service starts

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


class RenderFailed(RpcError):
    """A render that did not finish, in words for the person who asked for it."""


def timed_out(seconds: float) -> RenderFailed:
    return RenderFailed(
        "render_timeout", f"文档生成超时（超过 {seconds:g} 秒），请减少一次打印的份数后重试", 503
    )


def out_of_memory() -> RenderFailed:
    return RenderFailed(
        "render_out_of_memory", "文档生成所需内存超出限制，请减少一次打印的份数后重试", 503
    )


def worker_died() -> RenderFailed:
    # Under the address-space limit, a failed allocation in GLib (Pango) aborts the worker
    # instead of raising MemoryError: a large print is the likely cause of either.
    return RenderFailed(
        "render_worker_died",
        "文档生成进程意外退出，请稍后重试；如反复出现，请减少一次打印的份数",
        503,
    )


def _forkserver() -> multiprocessing.context.BaseContext:
    # Not fork: the service process has threads and open connections. The fork server
    # imports WeasyPrint once; every worker is forked from it.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([worker.__name__])
    return context


class RenderPool:
    def __init__(self, settings: RenderSettings | None = None) -> None:
        self.settings = settings or RenderSettings()
        self.workers = self.settings.worker_count
        self.replacements = 0  # executors replaced after a crash or a hard timeout
        self.running = 0  # tasks in the workers now
        self.waiting = 0  # tasks waiting for a free worker
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._slots = asyncio.Semaphore(self.workers)
        self._outcomes = ""  # the folder where workers leave what came of their tasks

    async def start(self) -> None:
        remove_orphaned_outcome_folders()
        self._outcomes = tempfile.mkdtemp(prefix=f"{OUTCOMES_PREFIX}{os.getpid()}-")
        self._executor = self._new_executor()
        if self.settings.warm:
            # Each submit finds no idle worker and starts one, whose initializer loads fonts.
            for _ in range(self.workers):
                self._executor.submit(os.getpid)

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(_stop, executor, 5.0)
        if self._outcomes:
            shutil.rmtree(self._outcomes, ignore_errors=True)

    def worker_pids(self) -> list[int]:
        return [p.pid for p in _processes(self._executor)]

    async def run(self, fn: Callable[..., Any], *args: Any, time_limit: float | None = None) -> Any:
        """fn(*args, time_limit=...) in a worker. Fails with RenderFailed when the worker runs
        out of time or memory or dies; other exceptions from fn are raised as they are."""
        limit = time_limit or self.settings.time_limit
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            executor, future = self._submit(fn, args, limit)
            self.running += 1
            try:
                path = await asyncio.wait_for(asyncio.wrap_future(future), limit + HARD_LIMIT_GRACE)
                return worker.take_outcome(path)
            except worker.RenderTimeout:
                raise timed_out(limit) from None
            except (MemoryError, SystemError):
                # SystemError ("error return without exception set"): C code of a font or
                # image library whose allocation failed under the worker's address-space limit
                # and lost the MemoryError on the way. Its worker may still hold the address
                # space it ran out of: new tasks go to new workers, and the old ones exit once
                # their running tasks are done.
                self._replace(executor, kill=False)
                raise out_of_memory() from None
            except TimeoutError:
                log.error("render worker stuck past %.0f s: replacing the workers", limit)
                self._replace(executor)
                raise timed_out(limit) from None
            except BrokenProcessPool:
                codes = [p.exitcode for p in _processes(executor)]
                log.error("a render worker died (exit codes %s): replacing the workers", codes)
                self._replace(executor)
                raise worker_died() from None
            finally:
                self.running -= 1
        finally:
            self._slots.release()

    def _submit(self, fn, args, limit: float):
        for _attempt in range(2):
            executor = self._executor
            if executor is None:
                raise RenderFailed("render_stopped", "文档服务正在停止，请稍后重试", 503)
            try:
                task = executor.submit(worker.run_task, self._outcomes, fn, args, limit)
                return executor, task
            except BrokenProcessPool:  # a worker died while idle: nothing of ours ran there
                log.error("a render worker died while idle: replacing the workers")
                self._replace(executor)
        raise worker_died()

    def _new_executor(self) -> concurrent.futures.ProcessPoolExecutor:
        limit = self.settings.memory_limit_mb * 1024 * 1024
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_forkserver(),
            initializer=worker.initialize,
            initargs=(limit, self.settings.warm, os.getpid()),
        )

    def _replace(self, old: concurrent.futures.ProcessPoolExecutor, kill: bool = True) -> None:
        if self._executor is not old:
            return  # another task has replaced it already
        self._executor = self._new_executor()
        self.replacements += 1
        if kill:
            _kill(old)
        else:
            old.shutdown(wait=False, cancel_futures=False)


def _processes(executor: concurrent.futures.ProcessPoolExecutor | None) -> list:
    # The executor keeps its processes in a private dict, and offers no other way to stop
    # a worker that is running a task.
    return list((getattr(executor, "_processes", None) or {}).values())


def _kill(executor: concurrent.futures.ProcessPoolExecutor) -> None:
    processes, results = _processes(executor), _result_writer(executor)
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    # Waiting for the killed workers to be gone is not for the event loop's thread.
    threading.Thread(target=_release_manager, args=(processes, results), daemon=True).start()


def _stop(executor: concurrent.futures.ProcessPoolExecutor, grace: float) -> None:
    processes, results = _processes(executor), _result_writer(executor)
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(grace)
        if process.is_alive():
            process.kill()
    # Waiting for the killed workers to be gone is not for the event loop's thread.
    threading.Thread(target=_release_manager, args=(processes, results), daemon=True).start()


def _result_writer(executor: concurrent.futures.ProcessPoolExecutor):
    # Taken before shutdown(), which lets go of the executor's queues.
    return getattr(getattr(executor, "_result_queue", None), "_writer", None)


def _release_manager(processes: list, results_writer) -> None:
    # Should the executor's manager thread still be reading a result that will never be
    # finished, closing our end of the result pipe once every worker is gone ends its read
    # (end of file); otherwise it would block the service's exit for ever.
    for process in processes:
        process.join(1.0)
    if results_writer is not None and not any(p.is_alive() for p in processes):
        results_writer.close()


def remove_orphaned_outcome_folders(root: str | None = None) -> list[str]:
    """Outcome folders of documents processes that are gone (killed, so they could not
    clean up): removed; answers their paths."""
    root = root or tempfile.gettempdir()
    removed = []
    for name in os.listdir(root):
        if not name.startswith(OUTCOMES_PREFIX):
            continue
        pid = name.removeprefix(OUTCOMES_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or is_running(int(pid)):
            continue
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        removed.append(os.path.join(root, name))
    return removed

"""A pool of worker processes for layout, one per core unless QUIRE_WORKERS says otherwise."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, as_completed, wait
from typing import Any

WORKERS_VARIABLE = "QUIRE_WORKERS"
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def worker_count() -> int:
    """How many worker processes to use: QUIRE_WORKERS, or one per core this process may use."""
    setting = os.environ.get(WORKERS_VARIABLE, "").strip()
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Workers:
    """Runs jobs in worker processes (or here, with one worker); the pool starts when needed."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if self.pool is None:
            return
        if kind is not None:  # a failed or interrupted build: its layouts are of no use
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.kill()
        # Wait even then (the killed workers end at once): left running, the pool's manager
        # thread closes its wake-up pipe while Python 3.11's exit hook may write to it, which
        # printed an "OSError: Bad file descriptor" traceback after a failed build's error.
        self.pool.shutdown(wait=True, cancel_futures=True)

    def map(
        self, func: Callable[[Any], Any], jobs: Iterable[Any], done: Callable[[Any], None]
    ) -> list[Any]:
        """func(job) for each job, in the jobs' order; done(result) as each one finishes."""
        jobs = list(jobs)
        if self.count <= 1 or len(jobs) <= 1:
            results = []
            for job in jobs:
                results.append(func(job))
                done(results[-1])
            return results
        futures: dict[Future, int] = {
            self._pool().submit(func, job): n for n, job in enumerate(jobs)
        }
        results: list[Any] = [None] * len(jobs)
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done(results[futures[future]])
        return results

    def run(
        self,
        func: Callable[[Any], Any],
        take: Callable[[], tuple[Any, Any] | None],
        done: Callable[[Any, Any], None],
    ) -> None:
        """func(job) for each (tag, job) that take() gives, as workers come free; done(tag,
        result) as each finishes. take() returns None when no job is ready yet: it is asked
        again after the next one finishes, and the run ends when none is ready and none runs.
        A job that would run alone while no pool is up runs here, saving the pool's start."""
        pending: list[tuple[Any, Any]] = []
        running: dict[Future, Any] = {}
        while True:
            while len(running) + len(pending) < self.count and (job := take()) is not None:
                pending.append(job)
            if len(pending) == 1 and not running and (self.pool is None or self.count <= 1):
                tag, payload = pending.pop()
                done(tag, func(payload))
                continue
            for tag, payload in pending:
                running[self._pool().submit(func, payload)] = tag
            pending = []
            if not running:
                return
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: str(running[f])):
                done(running.pop(future), future.result())

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            # fork: the workers start with Quire and WeasyPrint already imported.
            context = multiprocessing.get_context("fork")
            self.pool = ProcessPoolExecutor(
                self.count, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),)
            )
        return self.pool


def _worker_start(parent: int) -> None:
    """A worker leaves Ctrl-C to the build, and ends when the build is killed (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the build was gone before the line above took effect
        os._exit(1)

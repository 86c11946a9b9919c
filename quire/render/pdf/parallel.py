"""A pool of worker processes for layout, one per core unless QUIRE_WORKERS says otherwise."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
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
        self.pool.shutdown(wait=kind is None, cancel_futures=True)

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
        if self.pool is None:
            # fork: the workers start with Quire and WeasyPrint already imported.
            context = multiprocessing.get_context("fork")
            self.pool = ProcessPoolExecutor(
                self.count, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),)
            )
        futures: dict[Future, int] = {self.pool.submit(func, job): n for n, job in enumerate(jobs)}
        results: list[Any] = [None] * len(jobs)
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done(results[futures[future]])
        return results


def _worker_start(parent: int) -> None:
    """A worker leaves Ctrl-C to the build, and ends when the build is killed (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the build was gone before the line above took effect
        os._exit(1)

"""A pool of worker processes for layout, one per core unless QUIRE_WORKERS says otherwise.

The workers are forked from a server process started at the beginning of the build
(start_layout_server), which imports WeasyPrint while the build parses the manuscript, on
the other core. They are not forked from the build itself: by layout time it holds the whole
book (the pandoc AST and the chapters' HTML), which every worker would then carry, a few
hundred MiB each for a long book; and the imports would compete with the transform for the
build's interpreter lock. A worker takes the build's environment and folder when it starts,
since the server may have been started by an earlier build in the same process (the tests).

A long-lived process (--watch, --serve) keeps its pools from one build to the next
(keep_workers_between_builds): a worker's first unit costs a quarter of a second more than the
next, to read the style sheets, load the fonts and the hyphenation dictionaries. A pool is
kept only after a build that succeeded, and taken again only by a build with the same
environment and folder; the parsed styles a worker keeps are keyed by the styles' contents.

A step that needs much memory and nothing of the book but its arguments (the PDF's join) runs
in a process started afresh instead (Workers.apart): a forked one starts as big as its parent.
"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.forkserver
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, as_completed, wait
from typing import Any

WORKERS_VARIABLE = "QUIRE_WORKERS"
# What the server imports before it forks the first worker: what a layout needs.
LAYOUT_MODULES = (
    "quire.render.pdf.layout",
    "quire.render.pdf.folios",
    "weasyprint",
    "weasyprint.layout",
    "weasyprint.draw",
    "weasyprint.pdf",
    "pymupdf",  # the workers read their PDFs back for the nothing-lost check
)


# (workers, environment, folder) -> the pools a build that succeeded left: see
# keep_workers_between_builds. Empty unless a long-lived process asked for it.
_kept: dict[tuple, tuple[ProcessPoolExecutor | None, ProcessPoolExecutor | None]] = {}
_keeping: list[bool] = []


def keep_workers_between_builds() -> None:
    """Keep the layout workers (and the join's process) for the next build of this process."""
    _keeping[:] = [True]


def worker_count() -> int:
    """How many worker processes to use: QUIRE_WORKERS, or one per core this process may use."""
    setting = os.environ.get(WORKERS_VARIABLE, "").strip()
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def start_layout_server() -> None:
    """Start the process the layout workers are forked from, importing WeasyPrint there now
    (the first build of a process starts it; it ends when the process does)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(LAYOUT_MODULES))
    multiprocessing.forkserver.ensure_running()


class Workers:
    """Runs jobs in worker processes (or here, with one worker); the pool starts when needed."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.kept_as = (count, tuple(sorted(os.environ.items())), os.getcwd())
        self.pool: ProcessPoolExecutor | None
        self.apart_pool: ProcessPoolExecutor | None  # see apart()
        self.pool, self.apart_pool = _take_kept(self.kept_as)
        self.closed = False

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close(failed=kind is not None)

    def close(self, failed: bool) -> None:
        """End the workers (or keep them for the next build, see keep_workers_between_builds),
        once: a failed or interrupted build's are killed, its work being of no use."""
        if self.closed:
            return
        self.closed, pools = True, (self.pool, self.apart_pool)
        if not failed and _keeping:
            _kept[self.kept_as] = pools
            return
        for pool in pools:
            if pool is None:
                continue
            if failed:
                _stop_now(pool)
            # Wait even then (the killed workers end at once): left running, the pool's manager
            # thread closes its wake-up pipe while Python 3.11's exit hook may write to it, which
            # printed an "OSError: Bad file descriptor" traceback after a failed build's error.
            pool.shutdown(wait=True, cancel_futures=True)

    def start_apart(self, module: str) -> None:
        """Start the process apart() runs in, importing `module` there, while other work goes
        on (nothing to start with one worker, which runs everything here)."""
        if self.count > 1 and self.apart_pool is None:
            self.apart_pool = _new_pool(1, "spawn")
            _submit(self.apart_pool, importlib.import_module, module)

    def apart(self, func: Callable[..., Any], *args: Any) -> Future:
        """func(*args) started in a process of its own, started afresh (spawn), that holds
        nothing but what func takes and imports; here, now, with one worker.

        For a step whose memory would add to the build's: the build holds the whole book,
        and a forked process starts with a copy of its parent's memory (the layout server's
        holds WeasyPrint). The process takes its calls one at a time, in the order they were
        made, so a step may keep what one call made for the next (the PDF's join, fed unit by
        unit while the others are laid out)."""
        if self.count > 1:
            self.start_apart(func.__module__)
            return _submit(self.apart_pool, func, *args)
        done: Future = Future()
        try:
            done.set_result(func(*args))
        except Exception as exc:  # raised where the result is asked for, as from a process
            done.set_exception(exc)
        return done

    def map(
        self, func: Callable[[Any], Any], jobs: Iterable[Any], done: Callable[[Any], None]
    ) -> list[Any]:
        """func(job) for each job, in the jobs' order; done(result) as each one finishes."""
        jobs = list(jobs)
        if self.count <= 1:
            results = []
            for job in jobs:
                results.append(func(job))
                done(results[-1])
            return results
        futures: dict[Future, int] = {
            _submit(self._pool(), func, job): n for n, job in enumerate(jobs)
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
        With one worker, every job runs here. Otherwise each job is sent to a worker as soon
        as take() gives it, before take() is asked for the next: a rebuild's take() goes
        through the units the cache has before it gives the next one to lay out."""
        running: dict[Future, Any] = {}
        while True:
            while len(running) < self.count and (job := take()) is not None:
                tag, payload = job
                if self.count <= 1:
                    done(tag, func(payload))
                else:
                    running[_submit(self._pool(), func, payload)] = tag
            if not running:
                return
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: str(running[f])):
                done(running.pop(future), future.result())

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            start_layout_server()  # started already, unless this build did not ask for it
            self.pool = _new_pool(self.count, "forkserver")
        return self.pool


def _take_kept(key: tuple) -> tuple[ProcessPoolExecutor | None, ProcessPoolExecutor | None]:
    """The pools the last build left, if it ran with the same environment and folder and none
    of their workers died since (a broken pool is of no use); any others are shut down."""
    pools = _kept.pop(key, (None, None))
    unused = [pool for other in _kept.values() for pool in other]
    _kept.clear()
    usable = tuple(None if p is None or getattr(p, "_broken", False) else p for p in pools)
    for pool in [*unused, *(p for p in pools if p not in usable)]:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return usable  # type: ignore[return-value] - two items, as given


def _new_pool(count: int, start_method: str) -> ProcessPoolExecutor:
    """A pool whose workers start as _worker_start sets them up (the build's environment and
    folder; ended with the build)."""
    return ProcessPoolExecutor(
        count, mp_context=multiprocessing.get_context(start_method), initializer=_worker_start,
        initargs=(os.getpid(), dict(os.environ), os.getcwd()),
    )  # fmt: skip


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers, and let its manager thread see that they are gone.

    A worker killed while it sent a result (a unit's PDF takes a while) left the manager
    thread reading the rest of it for ever, and the build's end waiting for that thread: the
    read ends only when no process holds the pipe's writing end, and this one held it too
    (the pool's result queue has both ends here). It is closed here: the workers were its
    only writers."""
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        writer.close()


def _submit(pool: ProcessPoolExecutor, func: Callable[..., Any], *args: Any) -> Future:
    """pool.submit(func, *args), with Ctrl-C held back until it returns.

    A submit may start a worker process. Interrupted halfway, the pool did not yet know of a
    worker already forked: the build's cleanup did not kill it, and it printed a traceback
    when it found the pool's queues gone. (Signals are handled in the main thread only; from
    another thread this is a plain submit.)"""
    if threading.current_thread() is not threading.main_thread():
        return pool.submit(func, *args)
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, _frame: held.append(number))
    try:
        return pool.submit(func, *args)
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:  # now, as it would have been: KeyboardInterrupt (or whatever was set)
            signal.raise_signal(signal.SIGINT)


def _worker_start(build: int, environment: dict[str, str], folder: str) -> None:
    """A worker takes the build's environment and folder, leaves Ctrl-C to the build, and
    ends when the build does."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(folder)
    _end_with(build)


def _end_with(build: int) -> None:
    """Exit when the build's process ends, however it ends (killed too).

    The worker's parent is the server, not the build, so the parent-death signal would not
    do: a killed build's workers would wait for work forever, and the server, which ends when
    no process holds its end of a pipe that every worker is given, with them."""
    try:
        handle = os.pidfd_open(build)
    except ProcessLookupError:  # the build ended before this worker started
        os._exit(1)
    except (OSError, AttributeError):  # no pidfd (not Linux, or an old kernel): poll instead
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            while _alive(build):
                time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="quire-build-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True

"""Work started ahead, on a background thread, while the build mostly waits for pandoc.

The build's process spends the parse stage (and the writing of the chapters' HTML) waiting for
pandoc's processes. A step that needs only what the load stage read (the style sheets' check,
the drawn cover) is started then with `ahead(func, *args)`, and the stage that needs it takes
it with `when_needed(func, *args)`: the result, or the exception it raised, where it would have
come had it been called there. A call not started ahead is made there, and kept for the rest of
the build (the EPUB and the web edition draw the same cover).

Results last one build (`begin_build`): by the next, the files they were made from may have
changed. The arguments are the key, so a step started with arguments that the build later
corrects (a title the transform reads from a chapter's metadata) is simply not used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any

_results: dict[tuple[Callable[..., Any], tuple[Hashable, ...]], Future] = {}
_lock = threading.Lock()


def begin_build() -> None:
    """Forget what earlier builds of this process started or made."""
    with _lock:
        _results.clear()


def ahead(func: Callable[..., Any], *args: Hashable) -> None:
    """Start func(*args) on a background thread, for when_needed(func, *args) to take."""
    future: Future = Future()
    with _lock:
        _results[(func, args)] = future
    thread = threading.Thread(
        target=_settle, args=(future, func, args), name=f"quire-ahead-{func.__name__}", daemon=True
    )
    thread.start()


def when_needed(func: Callable[..., Any], *args: Hashable) -> Any:
    """func(*args), as started ahead in this build (waiting for it if need be) or made now."""
    with _lock:
        future = _results.get((func, args))
        if future is None:
            future = _results[(func, args)] = Future()
            made_here = True
        else:
            made_here = False
    if made_here:
        _settle(future, func, args)
    return future.result()


def _settle(future: Future, func: Callable[..., Any], args: tuple[Hashable, ...]) -> None:
    """Run func(*args) into the future: its result, or the exception it raised (a Ctrl-C is
    raised on here too, and stays in the future for anyone waiting on it)."""
    try:
        result = func(*args)
    except BaseException as exc:  # handed on, raised where the result is taken
        future.set_exception(exc)
        if not isinstance(exc, Exception):
            raise
    else:
        future.set_result(result)

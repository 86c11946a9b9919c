"""Renderers: EPUB and PDF are two implementations of one small protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from quire.transform import Book


@dataclass(frozen=True)
class PageStart:
    """Where a printed page begins: the page's label, the element it opens in, and how far in."""

    label: str
    element_id: str
    chars: int = 0  # visible characters of that element laid out on earlier pages


class Pending:
    """An output's bytes still being made while the build goes on (the PDF's join, in a
    process of its own): result() waits for them, once; cancel() stops the making, when
    the build fails before it asked for them."""

    def __init__(self, wait: Callable[[], bytes], cancel: Callable[[], None] = lambda: None):
        self._wait, self._cancel = wait, cancel
        self._data: bytes | None = None

    def result(self) -> bytes:
        """The bytes, waited for the first time they are asked for."""
        if self._data is None:
            self._data = self._wait()
        return self._data

    @property
    def done(self) -> bool:
        """True once the bytes were waited for."""
        return self._data is not None

    def cancel(self) -> None:
        """Stop the making, unless it is done."""
        if self._data is None:
            self._cancel()


@dataclass(frozen=True)
class Output:
    """What a renderer made: the file's bytes (or a site's files), and facts about it for the report."""

    format: str
    data: bytes
    pages: int | None = None
    page_starts: tuple[PageStart, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())  # things the user should know about this file
    files: dict[str, bytes] = field(default_factory=dict)  # a site: relative path → bytes
    laid_out: tuple[str, ...] | None = None  # the parts laid out again (None: not reported)
    cache_files: tuple[tuple[str, bytes], ...] = field(default=())  # for the build cache
    cache_kept: frozenset[str] = field(default=frozenset())  # cache entries still in use
    cache_kinds: tuple[str, ...] = field(default=())  # the cache's folders these belong to
    # The bytes, if still being made: `data` is empty until then. A renderer that needs an
    # earlier output's bytes (not only its pages) takes them from ready().
    pending: Pending | None = None

    def ready(self) -> Output:
        """This output with its bytes, waiting for them if they are still being made."""
        if self.pending is None:
            return self
        return replace(self, data=self.pending.result(), pending=None)


class Renderer(Protocol):
    """Turns a Book into the bytes of one output file."""

    format: str  # "epub" or "pdf": also the file suffix; "html": the folder dist/<slug>/

    def render(self, book: Book, earlier: dict[str, Output]) -> Output:
        """Render the book; `earlier` holds outputs already made in this build, by format."""
        ...

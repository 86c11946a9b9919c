"""Renderers: EPUB and PDF are two implementations of one small protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from quire.transform import Book


@dataclass(frozen=True)
class PageStart:
    """Where a printed page begins: the page's label, the element it opens in, and how far in."""

    label: str
    element_id: str
    chars: int = 0  # visible characters of that element laid out on earlier pages


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


class Renderer(Protocol):
    """Turns a Book into the bytes of one output file."""

    format: str  # "epub" or "pdf": also the file suffix; "html": the folder dist/<slug>/

    def render(self, book: Book, earlier: dict[str, Output]) -> Output:
        """Render the book; `earlier` holds outputs already made in this build, by format."""
        ...

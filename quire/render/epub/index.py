"""The EPUB's index document (EPUB Indexes 1.0): each locator named by the printed page its
mark falls on, read from the print edition's page-break markers in the chapters; without a
print layout, by the chapter it is in (see render/index_page.py)."""

from __future__ import annotations

import copy
from dataclasses import replace

from lxml import etree

from quire.render import PageStart
from quire.render.epub.content import _starts_by_chapter, chapter_page, link_owners
from quire.render.epub.document import Page
from quire.render.index_page import mark_pages, mark_targets, write_locators
from quire.transform import Book


def index_page_of(pages: list[Page]) -> int | None:
    """The position of the index document among the pages, if the book has an index."""
    return next(
        (n for n, p in enumerate(pages) if p.chapter is not None and p.chapter.kind == "index"),
        None,
    )


def with_page_locators(book: Book, pages: list[Page], starts: tuple[PageStart, ...]) -> list[Page]:
    """The pages, the index's locators named by the printed pages of their marks."""
    position = index_page_of(pages)
    if position is None:
        return pages
    chapter = pages[position].chapter
    body = copy.deepcopy(chapter.body)
    wanted = set(mark_targets(body))
    labels = _mark_pages(pages, wanted) if any(p.page_labels for p in pages) else {}
    write_locators(body, labels.get)
    own_starts = _starts_by_chapter(book, starts).get(chapter.id, [])
    page = chapter_page(book, replace(chapter, body=body), link_owners(book), own_starts)
    return [*pages[:position], page, *pages[position + 1 :]]


def _mark_pages(pages: list[Page], wanted: set[str]) -> dict[str, str]:
    """The printed page of each wanted id, from the chapters' page-break markers."""
    trees = (
        etree.fromstring(page.xhtml.encode("utf-8"))
        for page in pages
        if page.chapter is not None and page.chapter.kind != "index"
        and (page.page_labels or any(w in page.xhtml for w in wanted))
    )  # fmt: skip
    return mark_pages(trees, wanted)

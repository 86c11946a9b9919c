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
from quire.render.index_page import mark_targets, write_locators
from quire.transform import Book

EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


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
    """The printed page of each wanted id: the label of the last page-break marker before it."""
    labels: dict[str, str] = {}
    current = ""
    for page in pages:
        if page.chapter is None or page.chapter.kind == "index":
            continue
        text = page.xhtml
        if not page.page_labels and not any(w in text for w in wanted):
            continue
        for element in etree.fromstring(text.encode("utf-8")).iter():
            if not isinstance(element.tag, str):
                continue
            if element.get(EPUB_TYPE) == "pagebreak":
                current = element.get("aria-label") or current
            ident = element.get("id")
            if ident in wanted and current:
                labels[ident] = _opening_label(element, current)
    return labels


def _opening_label(mark: etree._Element, current: str) -> str:
    """The page a mark's text begins on: a page's marker may stand inside the mark, before
    its first letter (a page that begins with the marked word)."""
    for node in mark.iter():
        if node is not mark and node.get(EPUB_TYPE) == "pagebreak":
            return node.get("aria-label") or current
        if (node.text or "").strip() or (node is not mark and (node.tail or "").strip()):
            return current
    return current

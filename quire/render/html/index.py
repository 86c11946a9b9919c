"""The web edition's index page: each locator named by the printed page its mark falls on (the
page markers the web edition shows), or by its chapter without a print layout; the terms are
the page's text, so the site's search finds them (render/index_page.py)."""

from __future__ import annotations

import copy
from dataclasses import replace

from quire.render import PageStart
from quire.render.epub import insert_page_breaks
from quire.render.index_page import mark_pages, mark_targets, write_locators
from quire.transform import Book, Chapter


def web_index(book: Book, starts_in: dict[str, list[PageStart]]) -> dict[str, Chapter]:
    """The index chapter (by its id) with its locators written, or nothing for no index."""
    index = next((c for c in book.chapters if c.kind == "index"), None)
    if index is None:
        return {}
    body = copy.deepcopy(index.body)
    wanted = set(mark_targets(body))
    labels: dict[str, str] = {}
    if any(starts_in.values()):
        trees = []
        for chapter in book.chapters:
            starts = starts_in.get(chapter.id)
            if chapter is index:
                continue
            if not starts:  # no marker in it: the last one before still counts
                trees.append(chapter.body)
                continue
            marked = copy.deepcopy(chapter.body)
            insert_page_breaks(marked, starts)
            trees.append(marked)
        labels = mark_pages(trees, wanted)
    write_locators(body, labels.get)
    return {index.id: replace(index, body=body)}

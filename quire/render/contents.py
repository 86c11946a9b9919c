"""The contents as nested lists, shared by the print, EPUB and web renderers."""

from __future__ import annotations

from html import escape

from quire.transform import LIST_TITLES, Book, Chapter, list_entries
from quire.transform.lists import Entry


def sections(chapter: Chapter, depth: int, href: str = "") -> list[tuple[str, str, int]]:
    """(href, title, level) of a chapter's headings down to `depth` (the chapter is level 1)."""
    return [(f"{href}#{h.id}", h.title, h.level) for h in chapter.headings if h.level <= depth]


def nested_list(entries: list[tuple[str, str, int]], level: int = 2) -> str:
    """(href, title, level) entries as nested <ol>s, one list deeper for each heading level."""
    if not entries:
        return ""
    parts, index = ["<ol>"], 0
    while index < len(entries):
        href, title, own = entries[index]
        deeper = index + 1
        while deeper < len(entries) and entries[deeper][2] > max(own, level):
            deeper += 1
        link = f'<a href="{escape(href)}">{escape(title)}</a>'
        parts.append(f"<li>{link}{nested_list(entries[index + 1 : deeper], own + 1)}</li>")
        index = deeper
    return "".join(parts) + "</ol>"


def book_lists(book: Book) -> list[tuple[str, str, list[Entry]]]:
    """(kind, title, entries) of each list of figures or tables the book asks for (`lof: true`,
    `lot: true`) and has entries for, in the order print sets them."""
    lists = []
    for kind, wanted in (("list-of-figures", book.config.lof), ("list-of-tables", book.config.lot)):
        entries = list_entries(book.chapters, kind) if wanted else []
        if entries:
            lists.append((kind, LIST_TITLES[kind], entries))
    return lists


def chapter_of_ids(book: Book) -> dict[str, Chapter]:
    """The chapter each element id of the book is in (ids are unique across the book)."""
    return {
        element.get("id"): chapter
        for chapter in book.chapters
        for element in chapter.body.iter()
        if isinstance(element.tag, str) and element.get("id")
    }

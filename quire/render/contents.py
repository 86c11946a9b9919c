"""The contents as nested lists, shared by the print, EPUB and web renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from quire.language.words import book_words
from quire.transform import Book, Chapter, list_entries
from quire.transform.lists import Entry

# The words (words.py) that title each list of figures or tables.
LIST_WORDS = {"list-of-figures": "ListOfFigures", "list-of-tables": "ListOfTables"}


def sections(chapter: Chapter, depth: int, href: str = "") -> list[tuple[str, str, int]]:
    """(href, title, level) of a chapter's headings down to `depth` (the chapter is level 1),
    and the sections its project file lists (SUMMARY.md's nested entries) at any depth."""
    return [
        (f"{href}#{h.id}", h.title, h.level)
        for h in chapter.headings
        if h.level <= depth or h.listed
    ]


def entries_listed(book: Book) -> bool:
    """True when a project file (SUMMARY.md) lists the book's entries: its contents are
    those entries, not every heading."""
    return any(c.source.title is not None or c.source.depth for c in book.chapters)


@dataclass
class TocEntry:
    """An entry of the contents: a part, a chapter or a section, with those under it."""

    href: str
    title: str
    role: str = ""  # a chapter's front, body or back (print sets front matter's numbers roman)
    children: list[TocEntry] = field(default_factory=list)


def section_tree(entries: list[tuple[str, str, int]]) -> list[TocEntry]:
    """(href, title, level) entries as a tree: each under the last one of a lower level."""
    roots: list[TocEntry] = []
    stack: list[tuple[int, TocEntry]] = []
    for href, title, level in entries:
        entry = TocEntry(href, title)
        while stack and stack[-1][0] >= level:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(entry)
        stack.append((level, entry))
    return roots


def contents_tree(chapters: list[tuple[Chapter, str, str]], depth: int) -> list[TocEntry]:
    """The contents from (chapter, its href, the base of its sections' hrefs): each titled
    chapter with its sections, and the chapters of a part under it (until the next part or
    the back matter)."""
    roots: list[TocEntry] = []
    part: TocEntry | None = None
    for chapter, href, base in chapters:
        if not chapter.title:
            continue  # untitled front matter, as pandoc has it: in the spine, not the contents
        entry = TocEntry(
            href, chapter.title, chapter.role, section_tree(sections(chapter, depth, base))
        )
        if chapter.kind == "part":
            part = entry
            roots.append(entry)
        elif part is not None and chapter.role == "body":
            part.children.append(entry)
        else:
            part = None
            roots.append(entry)
    return roots


def tree_html(entries: list[TocEntry], classes: bool = False) -> str:
    """The contents as nested <ol>s; with `classes`, each chapter's <li> says its role."""
    if not entries:
        return ""
    items = []
    for e in entries:
        cls = f' class="toc-{e.role}"' if classes and e.role else ""
        link = f'<a href="{escape(e.href)}">{escape(e.title)}</a>'
        items.append(f"<li{cls}>{link}{tree_html(e.children, classes)}</li>")
    return "<ol>\n" + "\n".join(items) + "\n</ol>"  # a line each: words never run together


def tree_depth(entries: list[TocEntry]) -> int:
    """How many levels deep the contents go."""
    return max((1 + tree_depth(e.children) for e in entries), default=0)


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
            lists.append((kind, book_words(book.config)[LIST_WORDS[kind]], entries))
    return lists


def contents_title(book: Book) -> str:
    """The contents' title: the book's `toc-title`, else "Contents" in the book's language."""
    return book.config.toc_title or book_words(book.config)["Contents"]


def chapter_of_ids(book: Book) -> dict[str, Chapter]:
    """The chapter each element id of the book is in (ids are unique across the book)."""
    return {
        element.get("id"): chapter
        for chapter in book.chapters
        for element in chapter.body.iter()
        if isinstance(element.tag, str) and element.get("id")
    }

"""The navigation document (contents, lists, landmarks, page list) and the EPUB 2 NCX."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from quire.language.words import Words, book_words
from quire.render import PageStart
from quire.render.contents import (
    TocEntry,
    book_lists,
    contents_title,
    contents_tree,
    entries_listed,
    tree_depth,
    tree_html,
)
from quire.render.epub.document import PRINT_FRONT, Page, marker_html, x, xhtml_page
from quire.render.pages import roman
from quire.transform import Book

BEFORE_CONTENTS = {"copyright-page", "dedication", "epigraph"}

EPUB_LIST_TYPES = {"list-of-figures": "lof", "list-of-tables": "lot"}
NAV_DEPTH = 2  # without `toc-depth`, the nav lists chapters and their sections


def _contents_position(pages: list[Page]) -> int:
    """The contents follow the title page and the copyright-like pages, before the preface."""
    position = 0
    for index, page in enumerate(pages):
        if page.chapter is None or (
            page.chapter.role == "front" and page.chapter.kind in BEFORE_CONTENTS
        ):
            position = index + 1
        else:
            break
    return position


def nav_depth(book: Book) -> int:
    """How deep the nav goes: `toc-depth`, else chapters and their sections, or only the
    entries a project file lists (SUMMARY.md: the contents are its entries)."""
    return book.config.toc_depth or (1 if entries_listed(book) else NAV_DEPTH)


def _toc_tree(book: Book, pages: list[Page], depth: int) -> list[TocEntry]:
    """The contents of the chapter pages; never empty (EPUBCheck refuses an empty nav): a
    book with no titled chapter gets one entry, its first page, under the book's title."""
    chapters = [(p.chapter, p.href, p.href) for p in pages if p.chapter is not None]
    tree = contents_tree(chapters, depth)
    if not tree and chapters:
        tree = [TocEntry(chapters[0][1], book.config.title or contents_title(book))]
    return tree


def _toc_html(book: Book, pages: list[Page], depth: int) -> str:
    """The contents as nested lists: parts, their chapters, their sections down to `depth`."""
    return (
        tree_html(_toc_tree(book, pages, depth))
        or f'<ol><li><a href="nav.xhtml">{x(contents_title(book))}</a></li></ol>'
    )


def _list_navs(book: Book, starts: tuple[PageStart, ...]) -> list[str]:
    """The lists of figures and tables (epub:type lof, lot), each after the markers of the
    printed pages it fills."""
    navs = []
    for kind, title, entries in book_lists(book):
        items = "".join(
            f'<li><a href="text/{e.chapter.file_name}#{x(e.id)}">{x(e.text)}</a></li>'
            for e in entries
        )
        navs += [marker_html(label) for label in _front_labels(starts, kind)]
        navs.append(
            # Each <nav> is a landmark: its own name keeps the landmarks unique (Ace).
            f'<nav epub:type="{EPUB_LIST_TYPES[kind]}" id="{kind}" aria-label="{x(title)}">'
            f"<h2>{x(title)}</h2><ol>{items}</ol></nav>"
        )
    return navs


def _landmarks_html(pages: list[Page], words: Words, contents: str) -> str:
    """Landmarks: cover, title page, contents, start of the body, back matter."""
    marks = [
        ("cover", "text/cover.xhtml", words["Cover"]),
        ("titlepage", "text/title.xhtml", words["TitlePage"]),
        ("toc", "nav.xhtml#toc", contents),
    ]
    body = next((p for p in pages if p.chapter and p.chapter.role == "body"), None)
    if body:
        marks.append(("bodymatter", body.href, words["StartOfContent"]))
    back = next((p for p in pages if p.chapter and p.chapter.role == "back"), None)
    if back:
        marks.append(("backmatter", back.href, words["BackMatter"]))
    index = next((p for p in pages if p.chapter and p.chapter.kind == "index"), None)
    if index:  # the back-of-book index (transform/index.py), titled in the book's words
        marks.append(("index", index.href, index.title))
    return "".join(f'<li><a epub:type="{t}" href="{h}">{x(n)}</a></li>' for t, h, n in marks)


def page_targets(pages: list[Page]) -> list[tuple[str, str]]:
    """(label, href) of every printed page with a marker, in reading order."""
    return [(label, f"{p.href}#page-{label}") for p in pages for label in p.page_labels]


def _front_labels(starts: tuple[PageStart, ...], element_id: str) -> list[str]:
    """The labels of the printed pages that open in one front-matter element (a blank page
    counts with the element after it)."""
    return [s.label for s in starts if s.element_id == element_id and not s.chars]


def nav_page(book: Book, pages: list[Page], starts: tuple[PageStart, ...]) -> Page:
    """The EPUB 3 navigation document: contents, landmarks and the print edition's page list."""
    labels = tuple(
        s.label for s in starts if PRINT_FRONT.get(s.element_id) == "contents" and not s.chars
    )
    contents_labels = _front_labels(starts, "contents")
    words, title = book_words(book.config), contents_title(book)
    # The nav is not in `pages` yet; its markers go first, as in print (after the title pages).
    nav = Page("nav.xhtml", title, "", "nav", page_labels=labels)
    position = _contents_position(pages)
    targets = page_targets([*pages[:position], nav, *pages[position:]])
    parts = [
        '<body epub:type="frontmatter">',
        *(marker_html(label) for label in contents_labels),
        f'<nav epub:type="toc" id="toc" role="doc-toc"><h1>{x(title)}</h1>',
        _toc_html(book, pages, nav_depth(book)) + "</nav>",
        *_list_navs(book, starts),
        f'<nav epub:type="landmarks" id="landmarks" aria-label="{x(words["Landmarks"])}"'
        f' hidden=""><h2>{x(words["Landmarks"])}</h2>'
        f"<ol>{_landmarks_html(pages, words, title)}</ol></nav>",
    ]
    if targets:
        entries = "".join(f'<li><a href="{h}">{x(label)}</a></li>' for label, h in targets)
        parts.append(
            '<nav epub:type="page-list" id="page-list" role="doc-pagelist"'
            f' aria-label="{x(words["PageList"])}" hidden=""><h2>{x(words["PageList"])}</h2>'
            f"<ol>{entries}</ol></nav>"
        )
    parts.append("</body>")
    xhtml = xhtml_page(book, title, "\n".join(parts), css="styles/epub.css")
    return Page("nav.xhtml", title, xhtml, "nav", page_labels=labels)


def _nav_points(entries: list[TocEntry], order: list[int]) -> str:
    """The NCX navMap's points, nested as the contents are, numbered in play order."""
    points = []
    for entry in entries:
        order[0] += 1
        own = order[0]
        inner = _nav_points(entry.children, order)
        points.append(
            f'<navPoint id="np-{own}" playOrder="{own}"><navLabel><text>{x(entry.title)}'
            f'</text></navLabel><content src="{entry.href}"/>{inner}</navPoint>'
        )
    return "\n".join(points)


def _page_value(label: str) -> int:
    """The number a page label stands for: 7 for "7", 4 for "iv"."""
    if label.isdigit():
        return int(label)
    return next((n for n in range(1, 400) if roman(n) == label), 0)


def _page_list_ncx(targets: list[tuple[str, str]], first_order: int, name: str) -> str:
    """The NCX pageList: one pageTarget per printed page, front matter typed as such."""
    items = []
    for n, (label, href) in enumerate(targets):
        kind = "normal" if label.isdigit() else "front"
        items.append(
            f'<pageTarget id="pt-{n + 1}" type="{kind}" value="{_page_value(label)}"'
            f' playOrder="{first_order + n}"><navLabel><text>{x(label)}</text></navLabel>'
            f'<content src="{href}"/></pageTarget>'
        )
    head = f"<pageList><navLabel><text>{x(name)}</text></navLabel>"
    return head + "".join(items) + "</pageList>\n"


def ncx_document(book: Book, pages: list[Page]) -> str:
    """The EPUB 2 NCX, for older reading systems: contents and, with a print edition, its pages."""
    tree = _toc_tree(book, pages, nav_depth(book))
    played = [0]
    points = _nav_points(tree, played)
    order = played[0]
    targets = page_targets(pages)
    numbers = [int(label) for label, _ in targets if label.isdigit()]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">\n'
        f'<head><meta name="dtb:uid" content={quoteattr(book.config.identifier or "")}/>'
        f'<meta name="dtb:depth" content="{max(1, tree_depth(tree))}"/>'
        f'<meta name="dtb:totalPageCount" content="{len(targets)}"/>'
        f'<meta name="dtb:maxPageNumber" content="{max(numbers, default=0)}"/></head>\n'
        f"<docTitle><text>{x(book.config.title)}</text></docTitle>\n"
        "<navMap>\n"
        + points
        + "\n</navMap>\n"
        + (
            _page_list_ncx(targets, order + 1, book_words(book.config)["PageList"])
            if targets
            else ""
        )
        + "</ncx>\n"
    )

"""The reading edition's chapter pages: the transformed chapters with web notes and page markers."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from quire.language.words import book_words, page_parts
from quire.render import PageStart
from quire.render.epub import _epub_notes, _rewrite_links, insert_page_breaks, link_owners
from quire.render.html.index import web_index
from quire.render.html.layout import SiteLink, page_html
from quire.transform import SECTION_TYPES, Book, Chapter

EPUB_TYPE = "epub:type"
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# A page that begins with one of these: its marker goes inside, before the first word, so it
# reads with the text it marks (as markers within a paragraph do) rather than above it.
MARKER_INTO = (*HEADINGS, "p")


@dataclass(frozen=True)
class WebPage:
    """One HTML page of the site."""

    href: str
    title: str
    html: str
    page_labels: tuple[str, ...] = ()


def web_name(chapter: Chapter) -> str:
    """A chapter's file name in the site: its EPUB file name with .html."""
    return chapter.file_name.rsplit(".", 1)[0] + ".html"


def chapter_pages(
    book: Book,
    starts_in: dict[str, list[PageStart]],
    contents: list[SiteLink],
    files: list[SiteLink],
) -> list[WebPage]:
    """One page per chapter, in reading order, each with the contents and previous/next links."""
    pages = []
    chapters = list(book.chapters)
    owners = link_owners(book)
    indexed = web_index(book, starts_in)  # the index with its locators named (html/index.py)
    for n, chapter in enumerate(chapters):
        prev = _link(chapters[n - 1]) if n else None
        after = _link(chapters[n + 1]) if n + 1 < len(chapters) else None
        chapter = indexed.get(chapter.id, chapter)
        main, labels = chapter_main(book, chapter, starts_in.get(chapter.id, []), owners)
        html = page_html(book, chapter.title, main, contents, web_name(chapter), prev, after, files)
        pages.append(WebPage(web_name(chapter), chapter.title, html, labels))
    return pages


def _link(chapter: Chapter) -> SiteLink:
    return SiteLink(web_name(chapter), chapter.title)


def chapter_main(
    book: Book, chapter: Chapter, starts: list[PageStart], owners: dict[str, str]
) -> tuple[etree._Element, tuple[str, ...]]:
    """The chapter's section as the EPUB has it (notes, markers, links), then made HTML."""
    body = copy.deepcopy(chapter.body)
    classes = [*body.get("class", "").split(), chapter.kind]
    body.set("class", " ".join(dict.fromkeys(classes)))
    if SECTION_TYPES.get(chapter.kind):
        body.set("role", SECTION_TYPES[chapter.kind])
    _rewrite_links(owners, chapter, body)
    _epub_notes(body, book_words(book.config)["Notes"])
    labels = insert_page_breaks(body, starts)
    to_web(book, body)
    return body, labels


def to_web(book: Book, body: etree._Element) -> None:
    """EPUB-isms out: no epub:type, links to .html files, visible page labels, note controls,
    tables that scroll in a box of their own, ids on section headings for search results."""
    names = {c.file_name: web_name(c) for c in book.chapters}
    words = book_words(book.config)
    markers = []
    for element in list(body.iter()):
        if not isinstance(element.tag, str):
            continue
        element.attrib.pop(EPUB_TYPE, None)
        href = element.get("href", "") if element.tag == "a" else ""
        name, hash_, fragment = href.partition("#")
        if name in names:
            element.set("href", names[name] + hash_ + fragment)
        if element.get("role") == "doc-pagebreak":
            page_marker(element, page_parts(words))
            markers.append(element)
        elif element.tag == "table":
            scroll_box(element, words["Table"])
        elif element.tag == "section" and element.get("id"):
            heading_id(element)
        elif element.get("role") == "doc-footnote":
            back = element.find(".//a[@role='doc-backlink']")
            number = (back.text or "").rstrip(".") if back is not None else ""
            # each note a landmark of its own name
            element.set("aria-label", words["Note"].format(n=number))
    for marker in reversed(markers):  # a blank page's marker follows the next page's inside
        marker_into_block(marker)


def page_marker(marker: etree._Element, words: tuple[str, str] = ("page ", "")) -> None:
    """A print page's marker as visible text, "page" said only to screen readers (`words`:
    what the language says before and after a page's number, "page " or "第" and "页").

    Not role="doc-pagebreak": axe-core does not allow it on a span with a label, and a
    reader on the web needs to see the page number to cite it.
    """
    label = marker.attrib.pop("aria-label", "")
    del marker.attrib["role"]
    marker.set("class", "page-marker")
    marker.set("data-page", label)
    # Not a word of the book for search, nor of a heading's title in the results.
    marker.set("data-pagefind-ignore", "all")
    marker.text = None
    before, after = words
    for text in (before, after):
        if text:
            hidden = etree.SubElement(marker, "span")
            hidden.set("class", "visually-hidden")
            hidden.text = text
    marker[0].tail = label if before else None
    if not before:
        marker.text = label


def marker_into_block(marker: etree._Element) -> None:
    """A marker just before a paragraph moves inside it, before its first word; one before a
    heading moves into the paragraph under the heading (the heading's name stays its own), or
    into the heading when no paragraph follows it."""
    block = marker.getnext()
    if block is None or block.tag not in MARKER_INTO or (marker.tail or "").strip():
        return
    if block.tag in HEADINGS and block.getnext() is not None and block.getnext().tag == "p":
        block = block.getnext()
    parent = marker.getparent()
    previous = marker.getprevious()
    if previous is not None:  # the whitespace after the marker stays where it was
        previous.tail = (previous.tail or "") + (marker.tail or "")
    else:
        parent.text = (parent.text or "") + (marker.tail or "")
    marker.tail = block.text
    block.text = None
    block.insert(0, marker)


def scroll_box(table: etree._Element, word: str = "Table") -> None:
    """A table in a box that scrolls sideways when the table is wider than the text, never the
    page; the box takes keyboard focus so that it can be scrolled without a mouse."""
    caption = table.find("caption")
    name = " ".join(caption.text_content().split()) if caption is not None else ""
    box = etree.Element("div", {"class": "table-scroll", "tabindex": "0", "role": "region"})
    box.set("aria-label", name or word)
    table.addprevious(box)
    box.tail, table.tail = table.tail, None
    box.append(table)


def heading_id(section: etree._Element) -> None:
    """The section's heading gets an id, so that Pagefind's results can link to the section."""
    heading = next((child for child in section if child.tag in HEADINGS), None)
    if heading is not None and not heading.get("id"):
        heading.set("id", f"{section.get('id')}-title")

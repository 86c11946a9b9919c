"""The print edition's page-break markers, put where each printed page begins."""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
from lxml import etree

from quire.render import PageStart
from quire.render.epub.document import marker_html
from quire.render.pages import SOFT_HYPHEN, counts

# Blocks a page-break marker goes before (not into) when the printed page begins with them.
HOISTED = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "figure", "table", "dl"}

# What pages.counts() does not count (str.isspace's characters, the last of which is U+3000,
# and the soft hyphen), as a str.translate table that deletes them.
NOT_COUNTED = dict.fromkeys([c for c in range(0x3001) if chr(c).isspace()] + [ord(SOFT_HYPHEN)])

HOIST_INTO = {"section", "div", "aside", "blockquote", "li", "td", "th", "dd", "figure", "body"}


def insert_page_breaks(body: etree._Element, starts: list[PageStart]) -> tuple[str, ...]:
    """Put a page-break marker where each printed page begins, in a chapter's body; the labels
    of the pages that begin in it."""
    ids: dict[str, etree._Element] = {}  # made once: a search of the body per page was slow
    for element in [*body.iterdescendants(etree.Element), body]:  # the body's own id last
        if element.get("id"):
            ids.setdefault(element.get("id"), element)
    return tuple(start.label for start in starts if _insert_page_break(ids, start))


def _insert_page_break(ids: dict[str, etree._Element], start: PageStart) -> bool:
    """Put a page-break marker where the printed page begins; False if that place is not here."""
    element = ids.get(start.element_id) if start.element_id else None
    place = _locate(element, start.chars) if element is not None else None
    if place is None:
        return False
    node, attr, index = place
    marker = lxml.html.fromstring(marker_html(start.label))
    marker.text = ""  # written <span ...></span>: some older readers mishandle <span/>
    text = getattr(node, attr)
    if attr == "text" and index == 0 and node.tag in HOISTED:
        parent = node.getparent()
        if parent is not None and parent.tag in HOIST_INTO:
            node.addprevious(marker)  # the page begins with this block: mark it before the block
            return True
    setattr(node, attr, text[:index])
    marker.tail = text[index:]
    if attr == "text":
        node.insert(0, marker)
    else:
        node.addnext(marker)
    return True


def _skipped(node: etree._Element) -> bool:
    """True for what print does not lay out in the flow: notes, note calls, formulas, comments."""
    if not isinstance(node.tag, str):
        return True
    if node.tag in ("math", "script", "style"):
        return True
    classes = node.get("class", "").split()
    return "noteref" in classes or "footnotes" in classes or node.get("epub:type") == "pagebreak"


def _text_slots(element: etree._Element, top: bool = True) -> Iterator[tuple[etree._Element, str]]:
    """(node, "text" or "tail") for each piece of an element's printed text, in reading order."""
    if not top and _skipped(element):
        return
    yield element, "text"
    for child in element:
        yield from _text_slots(child, top=False)
        yield child, "tail"


def _locate(element: etree._Element, chars: int) -> tuple[etree._Element, str, int] | None:
    """Where the element's visible character number `chars` is: (node, attribute, offset)."""
    seen = 0
    for node, attr in _text_slots(element):
        text = getattr(node, attr) or ""
        here = len(text.translate(NOT_COUNTED))  # counts(), for a whole text at once
        if seen + here <= chars:  # a page begins far into a long section: skip whole texts
            seen += here
            continue
        for index, char in enumerate(text):
            if not counts(char):
                continue
            if seen == chars:
                return node, attr, _word_start(text, index)
            seen += 1
    return None


def _word_start(text: str, index: int) -> int:
    """Back from the middle of a word (a page that begins after a hyphenated break) to its start."""
    while index > 0 and text[index - 1].isalpha() and text[index].isalpha():
        index -= 1
    return index

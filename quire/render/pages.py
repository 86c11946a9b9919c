"""Where the printed pages begin: read from WeasyPrint's layout, for the EPUB's page-list.

A page start is an element id and the number of *visible characters* of that element that were
laid out on earlier pages (PageStart.chars). The EPUB renderer counts
the same characters in the same element to put its page-break marker in the same place, so both
sides must agree on what counts: no whitespace, no soft hyphens, no hyphens added at a line end,
no generated content (::before, ::after, ::marker, ::footnote-call, "(page N)"), no note text
(floated to the page foot in print, gathered at the chapter's end in the EPUB), no formulas
(drawn as images in print) and no table header repeated on a continuation page.
"""

from __future__ import annotations

from collections.abc import Iterator

from quire.render import PageStart

HYPHENATION_MARK = "\u2010"  # WeasyPrint's default hyphenate-character
SOFT_HYPHEN = "\u00ad"
REPEATED_GROUPS = ("thead", "tfoot")  # drawn again on each page a table continues on
# What a PageStart's offset means; a cached page map made under another version is stale.
PAGE_MAP_VERSION = "3: PageStart.chars, visible characters of the element and its descendants"


def roman(number: int) -> str:
    """A lower-case roman numeral, as front matter is numbered."""
    values = (
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    )
    result = ""
    for value, letters in values:
        count, number = divmod(number, value)
        result += letters * count
    return result


def page_label(index: int, body_start: int) -> str:
    """The printed number of the page at this index: roman before the body, arabic from it."""
    return roman(index + 1) if index < body_start else str(index - body_start + 1)


def counts(char: str) -> bool:
    """True for a character that counts for page positions (the EPUB side uses this too)."""
    return not char.isspace() and char != SOFT_HYPHEN


def visible_chars(text: str) -> int:
    """Characters that count for page positions: no spaces, soft hyphens or added hyphens."""
    return sum(1 for c in text.removesuffix(HYPHENATION_MARK) if counts(c))


Run = tuple[tuple[str, ...], str]  # (ids of the enclosing elements, nearest last; text)


def _text_runs(box, ids: tuple[str, ...], repeated: set) -> Iterator[Run]:  # noqa: ANN001
    """(ids of the enclosing elements, nearest last; text) for each run of text in a box."""
    if "::" in getattr(box, "element_tag", ""):
        return  # generated content (chapter labels, note calls, page references)
    element = getattr(box, "element", None)
    if element is not None and getattr(box, "element_tag", "") in REPEATED_GROUPS:
        if id(element) in repeated:
            return  # a table header drawn again where the table goes on to a new page
        repeated.add(id(element))
    if element is not None and element.get("id") and (not ids or ids[-1] != element.get("id")):
        ids = (*ids, element.get("id"))
    text = getattr(box, "text", None)
    if text is not None and ids:
        yield ids, text
    for child in getattr(box, "children", ()):
        yield from _text_runs(child, ids, repeated)


def page_starts(document, body_start: int) -> tuple[PageStart, ...]:  # noqa: ANN001
    """Where each printed page begins, as an element id and a character offset in it."""
    firsts = page_firsts(document)
    return starts_from_firsts(firsts, [page_label(i, body_start) for i in range(len(firsts))])


def page_firsts(document) -> list[tuple[str, int] | None]:  # noqa: ANN001
    """For each page, the element its text begins in and that element's characters on earlier
    pages; None for a page with no text of its own."""
    laid_out: dict[str, int] = {}  # visible characters of each element on earlier pages
    repeated: set[int] = set()
    firsts: list[tuple[str, int] | None] = []
    for page in document.pages:
        first = None
        root = page._page_box.children[0]  # the page's flow; notes and margin boxes follow it
        for ids, text in _text_runs(root, (), repeated):
            count = visible_chars(text)
            if first is None and count:
                first = (ids[-1], laid_out.get(ids[-1], 0))
            for element_id in ids:  # an element's count includes its descendants' text
                laid_out[element_id] = laid_out.get(element_id, 0) + count
        firsts.append(first)
    return firsts


def starts_from_firsts(
    firsts: list[tuple[str, int] | None], labels: list[str]
) -> tuple[PageStart, ...]:
    """Page starts from each page's first text; a page with no text of its own (a blank verso)
    begins where the next page with text does."""
    starts: list[PageStart] = []
    blank: list[str] = []
    for first, label in zip(firsts, labels, strict=True):
        if first is None:
            blank.append(label)
            continue
        starts += [PageStart(lab, *first) for lab in (*blank, label)]
        blank = []
    return tuple(starts)

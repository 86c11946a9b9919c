"""Where the printed pages begin: read from WeasyPrint's layout, for the EPUB's page-list."""

from __future__ import annotations

from collections.abc import Iterator

from quire.render import PageStart

HYPHENATION_MARK = "\u2010"


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


def _text_runs(box, element_id: str | None) -> Iterator[tuple[str, str]]:  # noqa: ANN001
    """(nearest element id, text) for each run of text laid out in a box, in reading order."""
    if "::" in getattr(box, "element_tag", ""):
        return  # generated content (note calls, page references) is not in the EPUB's text
    element = getattr(box, "element", None)
    if element is not None and element.get("id"):
        element_id = element.get("id")
    text = getattr(box, "text", None)
    if text is not None and element_id:
        yield element_id, text
    for child in getattr(box, "children", ()):
        yield from _text_runs(child, element_id)


def visible_chars(text: str) -> int:
    """Characters that count for page positions: no spaces, soft hyphens or added hyphens."""
    text = text.removesuffix(HYPHENATION_MARK)
    return sum(1 for c in text if not c.isspace() and c != "\u00ad")


def page_starts(document, body_start: int) -> tuple[PageStart, ...]:  # noqa: ANN001
    """Where each printed page begins, as an element id and a character offset in it."""
    laid_out: dict[str, int] = {}
    starts = []
    for index, page in enumerate(document.pages):
        first = None
        for element_id, text in _text_runs(page._page_box.children[0], None):
            count = visible_chars(text)
            if first is None and count:
                first = PageStart(
                    page_label(index, body_start), element_id, laid_out.get(element_id, 0)
                )
            laid_out[element_id] = laid_out.get(element_id, 0) + count
        if first is not None:
            starts.append(first)
    return tuple(starts)

"""What a project file lists besides chapters, as entries of the contents: parts (a title
page of their own), files listed as sections of the chapter before (SUMMARY.md's nested
entries), and headings a project file names (GitBook's `file.md#heading`); and the headings
of a chapter that the contents and the PDF's bookmarks list."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from lxml import etree

from quire.errors import warn
from quire.load.confine import resolved
from quire.load.manuscript import SourceFile
from quire.parse.pandoc import Parsed, stringify
from quire.transform.model import Chapter, Draft, Heading

# Headings kept for the contents (toc-depth) and the bookmarks; level 1 is the chapter.
SECTION_HEADINGS = ("h2", "h3", "h4", "h5", "h6")


PART_CLASS = "part"


def part_draft(parsed: Parsed, title: str) -> Draft:
    """A part's title page: a chapter of its own holding only the part's heading."""
    ident = "part-" + (ascii_slug(title) or "untitled")
    heading = {
        "t": "Header",
        "c": [1, [ident, [PART_CLASS, "unnumbered"], []], [{"t": "Str", "c": title}]],
    }
    return Draft(parsed, [heading], [], heading, title, listed=True)


def is_part(draft: Draft) -> bool:
    """True for a part's title page (see part_draft)."""
    return draft.heading is not None and PART_CLASS in draft.heading["c"][1][1]


ENTRY_TITLE = "data-toc-title"  # on a listed section's heading: its title in the contents
ENTRY_LEVEL = "data-toc-level"  # and its level there: 1 + its depth in the project file


def listed_section(parsed: Parsed, blocks: list[Any]) -> dict[str, Any]:
    """A file listed as a section of the chapter before, in a Div that marks its entry."""
    source = parsed.source
    title = source.title or stringify(parsed.meta.get("title", "")).strip()
    ident = "section-" + ascii_slug(title or Path(source.name).stem)
    attributes = [["level", str(source.depth + 1)]] + ([[ENTRY_TITLE, title]] if title else [])
    return {"t": "Div", "c": [[ident, ["listed-section"], attributes], blocks]}


def entry_anchor(chapter: Chapter, path: Path) -> str | None:
    """The id of the section a file listed under this chapter makes in it (SUMMARY.md's
    nested entry), for a link to the file: its sections come in the order of its files."""
    files = [s for s in chapter.more_sources if s.depth]
    divs = chapter.body.xpath(".//div[contains(concat(' ', @class, ' '), ' listed-section ')]")
    stem = path.with_suffix("")  # `x.md`, or the `x.html` an mdBook made of it
    return next(
        (
            d.get("id")
            for s, d in zip(files, divs, strict=False)
            if resolved(s.path).with_suffix("") == stem
        ),
        None,
    )


def page_break_block() -> dict[str, Any]:
    """An empty block that print.css turns into a page break (div.page-break)."""
    return {"t": "Div", "c": [["", ["page-break"], []], []]}


def ascii_slug(text: str) -> str:
    """A file-name-safe ASCII slug of a title or id, at most 40 characters, ending in a
    letter or digit (cut at 40, it may not end in the hyphen between two words)."""
    text = re.sub(r"['’]", "", text).replace("–", "-").replace("—", "-")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].rstrip("-")


def chapter_headings(body: etree._Element) -> tuple[Heading, ...]:
    """The headings under a chapter's own, with the sections its project file lists."""
    headings = []
    for element in body.iter(*SECTION_HEADINGS, "div"):
        if element.tag == "div":
            if "listed-section" in element.get("class", "").split():
                headings += _listed_entry(element)
            continue
        ident = element.getparent().get("id") or element.get("id", "")
        title = element.get(ENTRY_TITLE) or element.text_content().strip()
        level = int(element.get(ENTRY_LEVEL) or element.tag[1])  # a listed one: its depth's
        if ident:
            headings.append(Heading(ident, title, level, bool(element.get(ENTRY_TITLE))))
    return tuple(headings)


def mark_listed_headings(body: etree._Element, source: SourceFile, more: list[SourceFile]) -> None:
    """Mark the headings a project file lists as entries of their own (GitBook's
    `ch01.md#introductions`): the contents list them with the entry's title and depth."""
    files = [s for s in more if s.depth]
    divs = body.xpath(".//div[contains(concat(' ', @class, ' '), ' listed-section ')]")
    places = [(source, body), *zip(files, divs, strict=False)]
    for file, element in places:
        for entry in file.sections:
            found = element.xpath(".//*[@id=$id]", id=entry.fragment)
            heading = _heading_of(found[0]) if found else None
            if heading is None:
                warn(
                    f"`{Path(file.name).name}#{entry.fragment}` is no heading of {file.name}",
                    file=entry.listing,
                    line=entry.line,
                    hint="Quire left the entry out of the contents; the chapter has its text",
                    group="entries naming no heading",
                )
            elif heading.tag != "h1":  # the chapter's own heading: its entry is the chapter
                heading.set(ENTRY_TITLE, entry.title or heading.text_content().strip())
                heading.set(ENTRY_LEVEL, str(entry.depth + 1))


def _heading_of(element: etree._Element) -> etree._Element | None:
    """The heading an id names: itself, or the first heading of the section it opens."""
    if element.tag in ("h1", *SECTION_HEADINGS):
        return element
    if element.tag == "section":
        return next(element.iterchildren("h1", *SECTION_HEADINGS), None)
    return None


def _listed_entry(div: etree._Element) -> list[Heading]:
    """A listed section's entry, when it has no heading of its own to carry it."""
    first = next(div.iter(*SECTION_HEADINGS), None)
    title = div.get(ENTRY_TITLE, "")
    level = div.get("data-level", "2")
    if first is not None:
        if not first.get(ENTRY_TITLE):
            first.set(ENTRY_TITLE, title or first.text_content().strip())
            first.set(ENTRY_LEVEL, level)  # the entry's, whatever its heading's level
        return []  # its heading comes next in the walk, marked as listed
    return [Heading(div.get("id"), title, int(level), True)] if title and div.get("id") else []

"""Units of layout and their place in the book.

A unit is laid out on its own: the title pages with what precedes the contents, the contents,
and each chapter (front, body and back matter). Each opens on a recto (print.css breaks before
every level-1 section to a right page), so where a unit falls in the book changes only its
numbers, never its pages: the folios are printed at assembly (folios.py), and the numbers a
unit prints itself ("(page N)" and the contents) are written into its HTML from the best
knowledge at hand and checked after assembly (see PdfRenderer.render).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from quire.render.index_page import mark_targets
from quire.render.pages import page_label, roman
from quire.render.pdf.html import BEFORE_CONTENTS, contents_sections, xref_target
from quire.render.pdf.layout import UnitLayout
from quire.transform import Book
from quire.transform.index import INDEX_ID

OPENING, CONTENTS = "opening", "contents"
CHARS_PER_SQUARE_INCH = 70  # visible characters of 10.5 pt text, for a first guess at pages
LIST_ENTRY_POINTS = 24  # an entry of the contents with its spacing (a long title wraps)


@dataclass(frozen=True)
class Unit:
    """A part of the book laid out on its own."""

    name: str  # "opening", "contents" or the id of its chapter
    label: str  # as the build's report names it
    chapters: tuple[int, ...]  # positions in book.chapters
    chapters_before: int  # numbered chapters before it ("Chapter N" counts on from here)
    # Its place in the PDF's outline: "part" (a part's title page), "in-part" (a chapter
    # whose bookmarks go under its part's) or "" (at the top).
    outline: str = ""

    @property
    def opening(self) -> bool:
        return self.name == OPENING

    @property
    def contents(self) -> bool:
        return self.name == CONTENTS

    @property
    def last(self) -> bool:
        """True for a unit laid out once every chapter is: the contents and the index, which
        print the pages of the others."""
        return self.contents or self.name == INDEX_ID

    def references(self, book: Book) -> set[str]:
        """The ids this unit prints a page number for: its chapters' "(page N)" links, and
        the index's marks."""
        targets = (
            xref_target(link) for i in self.chapters for link in book.chapters[i].body.iter("a")
        )
        marks = (m for i in self.chapters for m in mark_targets(book.chapters[i].body))
        return {target for target in targets if target} | set(marks)

    def ids(self, book: Book, layout: UnitLayout | None) -> set[str]:
        """The chapter ids in this unit (from its layout when there is one)."""
        if layout is not None:
            return set(layout.anchors)
        return {book.chapters[i].id for i in self.chapters}


def plan_units(book: Book) -> list[Unit]:
    """The units in reading order, as book_html orders the sections."""
    chapters = book.chapters
    early = tuple(
        i for i, c in enumerate(chapters) if c.role == "front" and c.kind in BEFORE_CONTENTS
    )
    units = [Unit(OPENING, "title pages", early, 0)]
    if contents_sections(book):  # `toc: false` and no lists: no contents unit
        units.append(Unit(CONTENTS, "contents", (), 0))
    numbered = 0
    in_part = False
    for i, chapter in enumerate(chapters):
        if i in early:
            continue
        in_part = chapter.kind == "part" or (in_part and chapter.role == "body")
        outline = "part" if chapter.kind == "part" else "in-part" if in_part else ""
        units.append(Unit(chapter.id, Path(chapter.source.name).name, (i,), numbered, outline))
        # print.css counts a body section unless it is unnumbered (Quire's class or pandoc's)
        classes = chapter.body.get("class", "").split()
        numbered += (
            chapter.role == "body" and chapter.kind == "chapter" and "unnumbered" not in classes
        )
    names = [u.label for u in units]
    return [
        Unit(u.name, f"{u.label} ({u.name})" if names.count(u.label) > 1 else u.label,
             u.chapters, u.chapters_before, u.outline)
        for u in units
    ]  # fmt: skip


def estimate_pages(book: Book, unit: Unit) -> float:
    """A first guess at a unit's page count, from its text and the page size (not rounded:
    the composer scales it by what the chapters laid out so far took, then rounds it)."""
    if unit.opening:
        return 3 + max(1.0, sum(_text_pages(book, i) for i in unit.chapters))
    if unit.contents:
        return sum(_list_pages(book, part) for part in contents_sections(book))
    return sum(_text_pages(book, i) for i in unit.chapters)


def _list_pages(book: Book, part: str) -> float:
    """A first guess at the pages of the contents (or a list of figures or tables): its
    entries, at LIST_ENTRY_POINTS each, after its title, which takes a third of the first page.

    Guessed from the chapter count alone, a long contents came out short (52 chapters: two
    pages for three), and the number it printed for the preface after it was wrong: the
    contents, laid out last of all, was laid out a second time."""
    lines_per_page = max(1.0, _text_area(book)[1] * 72 / LIST_ENTRY_POINTS)
    entries = part.count("<li")
    return 1 + max(0.0, entries - lines_per_page * 2 / 3) / lines_per_page


def _text_area(book: Book) -> tuple[float, float]:
    """The text block's width and height in inches, about, for the guesses: the trim less
    its margins."""
    trim = book.config.trim
    return trim.width - 2.0, trim.height - 1.55


def _text_pages(book: Book, index: int) -> float:
    width, height = _text_area(book)
    area = max(1.0, width * height)
    chars = sum(len(t.strip()) for t in book.chapters[index].body.itertext())
    figures = len(book.chapters[index].body.findall(".//img")) * 0.4
    opening = 0.4  # of a page: the space above a chapter's title
    return max(1.0, chars / (area * CHARS_PER_SQUARE_INCH) + figures + opening)


@dataclass
class Placement:
    """Where every page of every unit falls in the book, and the numbers that follow."""

    sequence: list[tuple[int, int] | None]  # (unit, page in unit), None for a blank verso
    starts: list[int]  # index of each unit's first page
    body_start: int  # index of arabic page 1
    labels: list[str]

    def number(self, unit: int, page: int) -> str:
        """The printed number of a unit's page."""
        return self.labels[self.starts[unit] + page]

    def folio(self, index: int, style: str) -> str:
        """The folio text of the page at this index, in the style its unit printed it."""
        counter = index + 1 if index < self.body_start else index - self.body_start + 1
        return roman(counter) if style == "roman" else str(counter)


def place(book: Book, units: list[Unit], layouts: list[UnitLayout | None],
          guesses: list[int]) -> Placement:  # fmt: skip
    """Put the units in sequence, each first page on its side, a blank verso where needed.

    A unit not laid out yet (None) takes its guessed page count, opening on a recto.
    """
    body = next((c.id for c in book.chapters if c.role == "body"), None)
    sequence: list[tuple[int, int] | None] = []
    starts = []
    body_start = 0
    for u, layout in enumerate(layouts):
        sides = (
            [p.side for p in layout.pages]
            if layout is not None
            else ["right" if k % 2 == 0 else "left" for k in range(guesses[u])]
        )
        wanted = "right" if len(sequence) % 2 == 0 else "left"
        if sides and sides[0] != wanted:
            sequence.append(None)
        starts.append(len(sequence))
        if not body_start and body is not None and body in units[u].ids(book, layout):
            body_start = len(sequence) + (layout.anchors[body] if layout else 0)
        sequence += [(u, k) for k in range(len(sides))]
    labels = [page_label(i, body_start) for i in range(len(sequence))]
    return Placement(sequence, starts, body_start, labels)


def anchor_numbers(placement: Placement, layouts: list[UnitLayout | None]) -> dict[str, str]:
    """The printed page number of every element id of the units laid out."""
    numbers: dict[str, str] = {}
    for u, layout in enumerate(layouts):
        for name, page in (layout.anchors if layout else {}).items():
            numbers.setdefault(name, placement.number(u, page))
    return numbers


class NumbersNow:
    """The number a unit prints for an element id, worked out when asked: a unit refers to a
    few ids, and a long book has tens of thousands (a table of them all, made for each unit,
    cost a second at 300,000 words)."""

    def __init__(
        self, placement: Placement, layouts: list[UnitLayout | None],
        unit_of_id: dict[str, int], known: dict[str, str],
    ) -> None:  # fmt: skip
        self.placement, self.layouts, self.unit_of_id, self.known = (
            placement, layouts, unit_of_id, known
        )  # fmt: skip

    def get(self, target: str, default: str | None = None) -> str | None:
        """Its page in the units laid out, else as known before, else its unit's first page."""
        placed = self.placed(target)
        if placed is not None:
            return placed
        if target in self.known:
            return self.known[target]
        u = self.unit_of_id.get(target)
        return self.placement.number(u, 0) if u is not None else default

    def placed(self, target: str) -> str | None:
        """Its page in the units laid out, or None if its unit is not laid out yet."""
        u = self.unit_of_id.get(target)
        layout = self.layouts[u] if u is not None else None
        if layout is not None and target in layout.anchors:
            return self.placement.number(u, layout.anchors[target])
        if u is None:  # an id Quire made, outside the chapters: looked for in every unit
            for v, other in enumerate(self.layouts):
                if other is not None and target in other.anchors:
                    return self.placement.number(v, other.anchors[target])
        return None

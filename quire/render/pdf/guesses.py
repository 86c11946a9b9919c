"""What the print layout knows of page numbers while units are still being laid out.

A unit's page count is its layout's once it is laid out, else the last build's, else a guess
from its text scaled by how the chapters laid out so far filled their pages. A number a unit
prints is settled once no unit still to be laid out can move it. compose.py asks these to
choose the next unit to lay out, to write numbers into a unit as it starts, and to find a unit
that printed a number now known wrong.
"""

from __future__ import annotations

from collections.abc import Callable

from quire.render.pdf.layout import UnitLayout
from quire.render.pdf.units import NumbersNow, Unit, estimate_pages, place
from quire.transform import Book

CALIBRATE_FROM = 4  # estimated pages: a shorter unit says little of how the text fills pages


class PageGuesses:
    """Each unit's page count and the numbers that follow from it, as layouts come in."""

    def __init__(self, book: Book, units: list[Unit], unit_of_id: dict[str, int]) -> None:
        self.book, self.units, self.unit_of_id = book, units, unit_of_id
        self.estimates = [estimate_pages(book, u) for u in units]
        self.references = [u.references(book) for u in units]
        self.stated: dict[str, int] = {}  # unit name -> its pages in the last build or round
        self.latest: list[int] = []  # the page counts page_counts() gave last

    def page_counts(self, layouts: list[UnitLayout | None]) -> list[int]:
        """Each unit's page count: laid out, the last build's, or estimated from its text with
        the ratio of pages to estimate of the chapters laid out so far in this build.

        Why: a chapter that prints "(page N)" for the next one needs its own page count before
        it is laid out, and every chapter opens on a recto, so one page too many or too few
        can move all that follow by two. The text's own ratio gets that right far more often.
        """
        made = [(len(x.pages), e) for x, e, u in zip(layouts, self.estimates, self.units,
                strict=True) if x is not None and u.chapters and e >= CALIBRATE_FROM]  # fmt: skip
        ratio = sum(m for m, _ in made) / sum(e for _, e in made) if made else 1.0
        self.latest = [
            len(x.pages) if x is not None
            else self.stated.get(u.name) or max(1, round(e * (ratio if u.chapters else 1)))
            for x, e, u in zip(layouts, self.estimates, self.units, strict=True)
        ]  # fmt: skip
        return self.latest

    def numbers_now(self, layouts: list[UnitLayout | None], known: dict[str, str]) -> NumbersNow:
        """The best numbers at hand for every element id: from the units laid out so far, else
        the last build's (or last round's), else the guessed first page of its unit."""
        placement = place(self.book, self.units, layouts, self.page_counts(layouts))
        return NumbersNow(placement, layouts, self.unit_of_id, known)

    def settled(self, layouts: list[UnitLayout | None]) -> Callable[[str], str | None]:
        """The number of an id if no unit still to be laid out can move it, else None.

        It is settled when it comes out the same whether those units take their guessed page
        counts or one page more (which moves every page after them)."""
        counts = self.page_counts(layouts)
        longer = [n + (x is None) for n, x in zip(counts, layouts, strict=True)]
        short, long = (
            NumbersNow(place(self.book, self.units, layouts, n), layouts, self.unit_of_id, {})
            for n in (counts, longer)
        )

        def settled(target: str) -> str | None:
            now = short.placed(target)
            return now if now is not None and now == long.placed(target) else None

        return settled

    def wrong_now(
        self, layouts: list[UnitLayout | None], printed: list[dict[str, str]], busy: set[int]
    ) -> list[int]:
        """The units laid out (not in `busy`: waiting or running) that printed a number now
        settled at another."""
        settled = self.settled(layouts)
        return [
            v for v, shown in enumerate(printed)
            if v not in busy and layouts[v] is not None and any(
                (now := settled(target)) is not None and now != number
                for target, number in shown.items()
            )
        ]  # fmt: skip

    def settled_first(self, waiting: list[int], layouts: list[UnitLayout | None]) -> int:
        """Where in `waiting` the first unit is whose printed numbers are all settled, or 0.

        A chapter that refers ahead ("see page N" of a later chapter) is laid out after
        another whose numbers are known, if there is one: by then the pages before its
        target may be laid out, and it need not be laid out twice. The contents and the
        index are left where they are, last."""
        settled = self.settled(layouts)
        for position, u in enumerate(waiting):
            if not self.units[u].last and all(map(settled, self.references[u])):
                return position
        return 0

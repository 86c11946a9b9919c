"""Folios printed at assembly: a "folio sheet" laid out by WeasyPrint with the same @page rules.

Units are laid out without their folios (layout.py removes the margin box that shows the page
counter), because a unit does not know where in the book it will begin. Once every unit's
page count is known, each folio is laid out on a sheet page of its own, in the margin box
and on the side (left or right page, so the mirrored margins match) where the unit printed
it, and drawn over the book's page as an artifact. A sheet page costs a few milliseconds, far
less than laying a chapter out again because an earlier chapter grew by a page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from quire.render.pdf.layout import (
    MARGIN_BOXES,
    PrintStyle,
    UnitJob,
    UnitLayout,
    capture_weasyprint_log,
    lay_out_unit,
)
from quire.render.pdf.units import Placement, Unit

FOLIO_PAGE = "quire-folio"
SHEET_FOLIOS = 64  # folios laid out on one sheet (fixed, so that the PDF is the same for any
# number of workers)


@dataclass(frozen=True)
class Stamp:
    """A folio to print: its text, the side of the page, and the margin box it goes in."""

    text: str
    side: str
    box: str


@dataclass(frozen=True)
class SheetJob:
    """Folios to lay out, one per sheet page; or, with none, the blank verso of the book."""

    name: str
    stamps: tuple[Stamp, ...]
    style: PrintStyle


def sheet_css(boxes: set[str]) -> str:
    """@page rules that print only the folio, from the string each sheet page sets."""
    rules = []
    for box in sorted(boxes):
        clear = " ".join(f"@{b} {{ content: none; }}" for b in MARGIN_BOXES if b != box)
        rules.append(
            f"@page {FOLIO_PAGE}-{box} {{ {clear} @{box} {{ content: string({FOLIO_PAGE}); }} }}"
        )
    return "\n".join(rules) + f"\ndiv.{FOLIO_PAGE} {{ string-set: {FOLIO_PAGE} attr(data-folio); }}"


def sheet_html(stamps: tuple[Stamp, ...]) -> str:
    """One page per folio, each forced onto the side of the page it is for."""
    divs = []
    for stamp in stamps:  # WeasyPrint puts a blank page in where two follow on one side
        divs.append(
            f'<div class="{FOLIO_PAGE}" data-folio="{html.escape(stamp.text)}" '
            f'style="page: {FOLIO_PAGE}-{stamp.box}; break-before: {stamp.side}"></div>'
        )
    return '<!DOCTYPE html><html lang="und"><body>' + "".join(divs) + "</body></html>"


def lay_out_sheet(job: SheetJob) -> tuple[bytes, list[int]]:
    """The sheet's PDF and, for each stamp, the index of its page (worker process)."""
    if not job.stamps:
        return _blank_verso(job.style), [1]
    document, messages = job.style.render(
        sheet_html(job.stamps), sheet_css({s.box for s in job.stamps})
    )
    pages = [i for i, p in enumerate(document.pages) if not p._page_box.page_type.blank]
    sides = [document.pages[i]._page_box.page_type.side for i in pages]
    if sides != [s.side for s in job.stamps] or messages:
        raise RuntimeError(f"folio sheet {job.name}: pages on {sides}, messages {messages}")
    with capture_weasyprint_log():
        return document.write_pdf(), pages


def lay_out_unit_or_sheet(job: UnitJob | SheetJob) -> UnitLayout | tuple[bytes, list[int]]:
    """A unit or a folio sheet, as the job is (worker process): a round lays out both."""
    return lay_out_sheet(job) if isinstance(job, SheetJob) else lay_out_unit(job)


def _blank_verso(style: PrintStyle) -> bytes:
    """A document whose second page is a blank left page, with crop marks if the book has them."""
    markup = '<!DOCTYPE html><html lang="und"><body><div></div><div style="break-before: right"></div></body></html>'
    document, _messages = style.render(markup)
    if not document.pages[1]._page_box.page_type.blank:
        raise RuntimeError("the blank verso sheet has no blank page")
    with capture_weasyprint_log():
        return document.write_pdf(pdf_variant=style.variant)


def sheet_chunks(
    units: list[Unit], layouts: list[UnitLayout | None], placement: Placement
) -> dict[str, list[tuple[int, Stamp]]]:
    """The folios of the units laid out, as (page index, stamp), by sheet, in reading order.

    A sheet begins on a right page, as a document does; the body's first folio begins one, so
    that the body's sheets do not depend on the length of the front matter (the contents' above
    all), and the contents' folios have one of their own, so that the others can be laid out
    while the contents is.
    """
    folios = [
        (i, units[u].contents, Stamp(placement.folio(i, page.folio[1]), _side(i), page.folio[0]))
        for u, layout in enumerate(layouts) if layout is not None
        for i, page in enumerate(layout.pages, placement.starts[u])
        if page.folio
    ]  # fmt: skip
    chunks: dict[str, list[tuple[int, Stamp]]] = {}
    last, in_contents = "", False
    for index, contents, stamp in folios:
        body_begins = chunks and chunks[last][-1][0] < placement.body_start <= index
        full = chunks and len(chunks[last]) >= SHEET_FOLIOS and stamp.side == "right"
        if not chunks or body_begins or full or contents != in_contents:
            last, in_contents = f"folios-{len(chunks)}", contents
            chunks[last] = []
        chunks[last].append((index, stamp))
    return chunks


def _side(index: int) -> str:
    return "right" if index % 2 == 0 else "left"

"""Single-document mode: the whole book laid out as one HTML document, as Quire first did.

Kept as the reference the chapter-parallel layout is compared with (QUIRE_PDF_LAYOUT=single).
"""

from __future__ import annotations

import hashlib

import lxml.html
import pydyf

from quire.language.scripts import direction
from quire.render import Output
from quire.render.index_page import mark_targets, write_locators
from quire.render.pages import page_label, page_starts
from quire.render.pdf.html import book_html
from quire.render.pdf.layout import (
    MAX_LAYOUTS,
    PrintStyle,
    capture_weasyprint_log,
    fitted_gutter,
    page_css,
    printed_losses,
    report_layout_messages,
)
from quire.render.print_checks import check_tables_fit, loss_error, pdf_text, wide_table_faults
from quire.transform import Book


def render_single(book: Book, style_of) -> Output:  # noqa: ANN001
    """Lay the book out until the gutter fits the page count and every note sits with its call
    (each page that ends badly is made again with a fix as it is made, as a unit's are)."""
    gutter = fitted_gutter(book.config, 0)
    fixes: dict[str, str] = {}  # tables set smaller or split
    pages: dict[str, str] = {}  # the index's marks -> their pages in the last layout
    for _ in range(MAX_LAYOUTS):
        style: PrintStyle = style_of(page_css(book, gutter))
        document, messages = style.render(_indexed(book_html(book, fixes), pages), "", {})
        report_layout_messages(book, messages)
        fitted = fitted_gutter(book.config, len(document.pages))
        faults = wide_table_faults(document, fixes)
        found = _mark_pages(book, document)
        if fitted == gutter and not faults and found == pages:
            break
        gutter, fixes, pages = fitted, {**fixes, **faults}, found
    check_tables_fit(book, document)
    body_start = _body_start(book, document)
    with capture_weasyprint_log() as messages:
        data = document.write_pdf(
            pdf_variant=style.variant,
            pdf_identifier=hashlib.sha256((book.config.identifier or "").encode())
            .hexdigest()[:32]
            .encode(),
            finisher=lambda _doc, pdf: add_page_labels(pdf, body_start, direction(book.config)),
        )
    report_layout_messages(book, messages)
    lost = printed_losses(document, pdf_text(data))  # as each unit's is (layout.py)
    error = loss_error(book, lost) if lost else None
    if error:
        raise error
    return Output(
        "pdf", data, pages=len(document.pages), page_starts=page_starts(document, body_start)
    )


def _mark_pages(book: Book, document) -> dict[str, str]:  # noqa: ANN001
    """The printed page of each mark the index links to (none for a book without one)."""
    index = next((c for c in book.chapters if c.kind == "index"), None)
    if index is None:
        return {}
    wanted, body_start = set(mark_targets(index.body)), _body_start(book, document)
    pages: dict[str, str] = {}
    for number, page in enumerate(document.pages):
        for name in wanted.intersection(page.anchors):
            pages.setdefault(name, page_label(number, body_start))
    return pages


def _indexed(markup: str, pages: dict[str, str]) -> str:
    """The book's HTML with the index's locators named by their pages (render/index_page.py)."""
    if not pages:
        return markup
    root = lxml.html.document_fromstring(markup)
    write_locators(root, pages.get)
    return lxml.html.tostring(root, doctype="<!DOCTYPE html>", encoding="unicode", method="html")


def _body_start(book: Book, document) -> int:  # noqa: ANN001
    """The index of the page where the body (arabic page 1) begins."""
    first = next((c for c in book.chapters if c.role == "body"), None)
    if first is None:
        return 0
    for index, page in enumerate(document.pages):
        if first.id in page.anchors:
            return index
    return 0


def add_page_labels(pdf: pydyf.PDF, body_start: int, text_direction: str = "ltr") -> None:
    """PDF page labels that match the printed folios: i, ii, ... then 1, 2, ...; and a
    right-to-left book's viewer preferences (as assembly.set_right_to_left writes them)."""
    nums = pydyf.Array([0, pydyf.Dictionary({"S": "/r"})])
    if body_start:
        nums.extend([body_start, pydyf.Dictionary({"S": "/D", "St": 1})])
    pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": nums})
    if text_direction == "rtl":
        prefs = pdf.catalog.get("ViewerPreferences") or pydyf.Dictionary()
        prefs["Direction"] = "/R2L"
        pdf.catalog["ViewerPreferences"] = prefs

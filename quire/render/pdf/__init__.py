"""PDF renderer: the book laid out by WeasyPrint with print.css, unit by unit, in parallel.

html.py makes the print HTML, layout.py lays a unit out (in a worker), units.py places units
in the book, folios.py prints the folios, assembly.py joins the units with pikepdf, cache.py
keeps layouts between builds and compose.py runs it all. single.py is the whole book as one
document, the reference the joined book is tested against (QUIRE_PDF_LAYOUT=single).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from quire.fonts import book_fonts
from quire.load.fetch import download_folders
from quire.render import Output, Pending
from quire.render.pdf.cache import LayoutCache
from quire.render.pdf.compose import Composer, Progress
from quire.render.pdf.html import BEFORE_CONTENTS, book_html
from quire.render.pdf.layout import (
    PrintStyle,
    capture_weasyprint_log,
    check_coverage,
    confined_fetcher,
    effective_bleed,
    gutter_for,
    layout_faults,
    page_css,
)
from quire.render.pdf.parallel import Workers, worker_count
from quire.render.pdf.single import render_single
from quire.render.print_checks import check_metadata_coverage
from quire.svg_fonts import SvgFonts, check_svg_text, svg_fonts
from quire.transform import Book

LAYOUT_VARIABLE = "QUIRE_PDF_LAYOUT"  # "single": the whole book as one document

__all__ = [
    "BEFORE_CONTENTS",
    "PdfRenderer",
    "book_html",
    "capture_weasyprint_log",
    "confined_fetcher",
    "effective_bleed",
    "gutter_for",
    "layout_faults",
    "page_css",
]


def single_document() -> bool:
    """True when the book is to be laid out as one document (QUIRE_PDF_LAYOUT=single)."""
    return os.environ.get(LAYOUT_VARIABLE, "").strip().lower() == "single"


class PdfRenderer:
    """Lays the book out as a print PDF with WeasyPrint."""

    format = "pdf"

    def __init__(self, cache: Path | None = None, progress: Progress | None = None) -> None:
        self.cache = cache  # the layout cache folder, or None for no cache
        self.progress = progress

    def render(self, book: Book, earlier: dict[str, Output]) -> Output:
        """Lay the book out: each unit until its notes sit with their calls, with the gutter
        the page count asks for, then joined into one PDF."""
        fonts = book_fonts(book)
        check_coverage(book, fonts)
        check_metadata_coverage(book, fonts)
        check_svg_text([asset.path for asset in book.assets], fonts)
        font_css = fonts.font_face_css(stand_ins=True) + fonts.language_css(book.config.lang)
        style_of = _style_maker(book, font_css, svg_fonts(fonts), fonts.page_css(book.config.lang))
        if single_document():
            return _fatal_fetch_is_an_error(lambda: render_single(book, style_of))
        workers = Workers(worker_count())
        try:
            composer = Composer(book, style_of, LayoutCache(self.cache), workers, self.progress)
            output = composer.render()
        except BaseException:
            workers.close(failed=True)
            raise
        return replace(output, pending=_closing(output.pending, workers))


def _closing(joined: Pending | None, workers: Workers) -> Pending:
    """The PDF's bytes, still being joined while the build renders its other formats (the
    EPUB needs only the pages): the workers end once they are made, or the build failed."""

    def wait() -> bytes:
        try:
            data = joined.result() if joined else b""
        except BaseException:
            workers.close(failed=True)
            raise
        workers.close(failed=False)
        return data

    return Pending(wait, cancel=lambda: workers.close(failed=True))


def _style_maker(
    book: Book, font_css: str, svg: SvgFonts, page_fonts: str = ""
) -> Callable[[str], PrintStyle]:
    variant = None if book.config.pdf_variant == "none" else book.config.pdf_variant
    downloaded = download_folders(asset.path for asset in book.assets)  # allow-remote images

    def style_of(css: str) -> PrintStyle:
        return PrintStyle(
            font_css, str(book.styles / "print.css"), css + page_fonts,
            tuple(str(p) for p in (book.root, book.styles, *book.generated, *downloaded)),
            str(book.root) + "/", variant, tuple(str(p) for p in book.print_css), svg_fonts=svg,
        )  # fmt: skip

    return style_of


def _fatal_fetch_is_an_error(layout: Callable[[], Output]) -> Output:
    from weasyprint.urls import FatalURLFetchingError

    from quire.errors import BuildError

    try:
        return layout()
    except FatalURLFetchingError as exc:
        raise BuildError(
            "the print layout refers to a file outside the book: "
            + (str(exc.args[0]) if exc.args else "?"),
            hint="keep fonts, images and CSS files inside the book's folder or styles/",
        ) from None

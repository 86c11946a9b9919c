"""The printer's interior: the reading PDF's own pages, made PDF/X-4 (see pdfx.py)."""

from __future__ import annotations

from quire.press.pdfx import to_pdfx4
from quire.render import Output
from quire.render.pdf import effective_bleed
from quire.transform import Book


class InteriorRenderer:
    """`<slug>-interior.pdf`: the same pages as the reading PDF, for the printer."""

    format = "interior"

    def render(self, book: Book, earlier: dict[str, Output]) -> Output:
        """PDF/X-4 from the bytes of the PDF laid out earlier in this build."""
        reading = earlier["pdf"].ready()
        # Single pages are trimmed on three sides: the spine edge has no bleed to carry.
        data = to_pdfx4(
            reading.data, book.config.identifier or "", inside_bleed=effective_bleed(book.config)
        )
        return Output("interior", data, pages=reading.pages)

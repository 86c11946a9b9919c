"""The print kit: a PDF/X interior and a full-wrap cover for a print-on-demand service.

Both are made from the reading PDF that the PDF renderer laid out (the pages are not laid out
twice), and only when the book names a `printer:`. `--check` preflights them against that
printer's profile (profiles.py).
"""

from __future__ import annotations

from quire.load.config import BookConfig

PRESS_FORMATS = ("interior", "cover")  # made after the reading PDF, from its pages


def press_formats(config: BookConfig, formats: tuple[str, ...]) -> tuple[str, ...]:
    """The print kit's outputs to add to a build: both when a printer is set and a PDF is made."""
    return PRESS_FORMATS if config.printer and "pdf" in formats else ()


def check_settings(config: BookConfig) -> None:
    """Refuse, before any layout, what would make a wrong cover (an ISBN's check digit)."""
    from quire.press.isbn import book_isbn

    if config.printer:
        book_isbn(config)


def file_name(slug: str, fmt: str) -> str:
    """The output file's name: `<slug>-interior.pdf`, `<slug>-cover.pdf`."""
    return f"{slug}-{fmt}.pdf"

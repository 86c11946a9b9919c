"""The schema.org accessibility metadata that is true of the book, and its summary."""

from __future__ import annotations

from quire.render.epub.document import Page, x
from quire.transform import Book, Chapter
from quire.transform.sources import UNDESCRIBED

MAX_NAMED = 20  # images without a description named in the summary; the rest are counted


def _features(book: Book, pages: list[Page], page_list: bool) -> list[str]:
    """The schema.org accessibilityFeature values that are true of this book."""
    features = [
        "structuralNavigation",
        "tableOfContents",
        "readingOrder",
        "displayTransformability",
    ]
    if _described_images(book) and not undescribed_images(book):
        features.append("alternativeText")
    if _has_mathml(pages):
        features.append("MathML")
    if page_list:
        features += ["pageBreakMarkers", "pageNavigation"]
    return features


def _has_mathml(pages: list[Page]) -> bool:
    """True if some page of the package carries MathML."""
    return any("mathml" in p.properties.split() for p in pages)


def _described_images(book: Book) -> bool:
    """True if some image in the text carries information (has alt text, so is not decorative)."""
    return any(image.get("alt", "").strip() for c in book.chapters for image in c.body.iter("img"))


def undescribed_images(book: Book) -> list[tuple[Chapter, str]]:
    """Each image the author gave no alt text (transform/sources.py), with its chapter."""
    return [
        (chapter, image.get("src", ""))
        for chapter in book.chapters
        for image in chapter.body.iter("img")
        if UNDESCRIBED in image.get("class", "").split()
    ]


def _undescribed_sentence(book: Book) -> str:
    """The summary's sentence naming the images without a description, or ""."""
    found = undescribed_images(book)
    if not found:
        return ""
    named = [f"{src} (in “{chapter.title or chapter.file_name}”)" for chapter, src in found]
    listed = "; ".join(named[:MAX_NAMED])
    if len(named) > MAX_NAMED:
        listed += f"; and {len(named) - MAX_NAMED} more"
    images = "image has" if len(found) == 1 else "images have"
    return (
        f"This publication does not meet WCAG 2.2 Level AA: {len(found)} {images} no text"
        f" description, so readers who cannot see them miss what they show: {listed}."
    )


def accessibility_summary(book: Book, pages: list[Page], page_list: bool) -> str:
    """A plain-language summary of what the book offers readers who use assistive technology."""
    parts = [
        "a table of contents with its sections",
        "headings in order",
        "a logical reading order",
    ]
    missing = _undescribed_sentence(book)
    if _described_images(book):
        every = "some images" if missing else "every image that carries information"
        parts.append(f"a text alternative for {every}")
    if _has_mathml(pages):
        parts.append("formulas in MathML")
    if any(c.note_count for c in book.chapters):
        parts.append("notes at the end of each chapter, linked to and from the text")
    if page_list:
        parts.append("the page numbers of the print edition, with a page list")
    listed = ", ".join(parts[:-1]) + ", and " + parts[-1]
    claim = f"{missing} It has" if missing else "This publication meets WCAG 2.2 Level AA. It has"
    return (
        f"{claim} {listed}. Readers can change the type,"
        " size and colours. It contains no flashing, motion or sound hazards."
    )


def accessibility_metadata(book: Book, pages: list[Page], page_list: bool) -> list[str]:
    """schema.org accessibility metadata (EPUB Accessibility 1.1) that is true of this book.

    With an image the author gave no description, text alone is not enough to read the book,
    and no conformance is claimed.
    """
    described, undescribed = _described_images(book), bool(undescribed_images(book))
    lines = ['<meta property="schema:accessMode">textual</meta>']
    if described or undescribed:
        lines.append('<meta property="schema:accessMode">visual</meta>')
    if not undescribed:
        lines.append('<meta property="schema:accessModeSufficient">textual</meta>')
    if described or undescribed:
        lines.append('<meta property="schema:accessModeSufficient">textual,visual</meta>')
    lines += [
        f'<meta property="schema:accessibilityFeature">{f}</meta>'
        for f in _features(book, pages, page_list)
    ]
    lines.append('<meta property="schema:accessibilityHazard">none</meta>')
    summary = accessibility_summary(book, pages, page_list)
    lines.append(f'<meta property="schema:accessibilitySummary">{x(summary)}</meta>')
    if not undescribed:
        lines.append(
            '<meta property="dcterms:conformsTo">EPUB Accessibility 1.1 - WCAG 2.2 Level AA</meta>'
        )
        certifier = x(book.config.publisher or "Quire")
        lines.append(f'<meta property="a11y:certifiedBy">{certifier}</meta>')
    if page_list:
        lines.append(f'<meta property="pageBreakSource">{x(print_source(book))}</meta>')
    return lines


def print_source(book: Book) -> str:
    """What the page-list's pages are: this book's print edition, named well enough to find it."""
    config = book.config
    by = f" by {', '.join(config.authors)}" if config.authors else ""
    size = f"{config.trim.width:g} × {config.trim.height:g} in"
    return (
        f"{config.title}{by}, print edition (PDF, {size}) built by Quire from the same sources,"
        f" {config.identifier}"
    )

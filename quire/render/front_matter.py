"""Front matter Quire writes itself: the copyright page behind the title page, from the settings."""

from __future__ import annotations

from html import escape

from quire.language.words import Words, book_words
from quire.load.metadata import ROLE_WORDS
from quire.transform import Book

# How a credit reads for the roles books usually name (words.py, in the book's language);
# other roles read "Role: name".
CREDIT_WORDS = {
    "edt": "EditedBy",
    "trl": "TranslatedBy",
    "ill": "IllustratedBy",
    "pht": "PhotographsBy",
    "dsr": "DesignedBy",
    "nrt": "ReadBy",
}
COPYRIGHT_ID = "quire-copyright"


def has_own_copyright_page(book: Book) -> bool:
    """True when the book's text brings its own copyright page."""
    return any(c.kind == "copyright-page" for c in book.chapters)


def copyright_lines(book: Book) -> list[str]:
    """The copyright page's paragraphs (escaped HTML), or none when there is nothing to say."""
    config = book.config
    words = book_words(config)
    lines = []
    if config.rights:
        lines.append(escape(config.rights))
    published = ", ".join(t for t in (config.publisher, config.date_text) if t)
    if published:
        by = words["PublishedBy"].format(name=published) if config.publisher else published
        lines.append(escape(by))
    lines += [_credit(name, role, words) for name, role in config.contributors]
    lines += [f"{escape(scheme)} {escape(value)}" for scheme, value in config.identifiers if scheme]
    if config.collection:
        number = f", {escape(config.group_position)}" if config.group_position else ""
        lines.append(f"{escape(config.collection)}{number}")
    if not (config.rights or config.publisher or config.contributors or config.identifiers):
        return []
    return lines


def _credit(name: str, role: str, words: Words) -> str:
    if role in CREDIT_WORDS:
        return escape(words[CREDIT_WORDS[role]].format(name=name))
    word = ROLE_WORDS.get(role, role or "contributor")
    return f"{escape(word.capitalize())}: {escape(name)}"


def copyright_page(book: Book, *, epub: bool = False, start: str = "") -> str:
    """The copyright page as HTML (XHTML with `epub`), or "" when the book needs none.

    The print edition sets it on the verso of the title page (print.css: .copyright-page);
    the EPUB puts it on its title page, with `start` (the print page's marker) at its top.
    """
    if has_own_copyright_page(book):
        return ""
    lines = copyright_lines(book)
    if not lines:
        return ""
    paragraphs = "".join(f"<p>{line}</p>" for line in lines)
    kind = ' epub:type="copyright-page"' if epub else ""
    return (
        f'<section class="copyright-page front" id="{COPYRIGHT_ID}"{kind}>'
        f"{start}{paragraphs}</section>"
    )

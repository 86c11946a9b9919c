"""The pieces every XHTML file of the EPUB shares: its head, escaping, page-break markers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from quire.language.scripts import dir_attribute
from quire.render.front_matter import COPYRIGHT_ID
from quire.transform import Book, Chapter
from quire.transform.structure import EPUB_PREFIXES

XHTML_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" \
lang={lang} xml:lang={lang}{dir}>
<head>
<meta charset="utf-8"/>
<title>{title}</title>
{links}</head>
"""

# Pages the print edition adds before the chapters, and the EPUB page that stands for each.
PRINT_FRONT = {
    "half-title": "title-page",
    "title-page": "title-page",
    COPYRIGHT_ID: "title-page",  # the generated copyright page is part of the EPUB's title page
    "contents": "contents",
    "list-of-figures": "contents",  # `lof`/`lot`: the EPUB's lists are in its nav too
    "list-of-tables": "contents",
}


@dataclass(frozen=True)
class CoverImage:
    """The cover picture: the book's own, or one drawn from its title and authors."""

    href: str
    media_type: str
    data: bytes
    generated: bool


@dataclass(frozen=True)
class Page:
    """One XHTML file of the package and its place in the spine and the contents."""

    href: str  # inside EPUB/, e.g. text/01-preface.xhtml
    title: str
    xhtml: str
    properties: str = ""
    chapter: Chapter | None = None
    page_labels: tuple[str, ...] = ()  # the printed pages whose markers this file holds


def x(text: str | None) -> str:
    """Text escaped for XML content and for a double-quoted attribute (some are written so)."""
    return escape(text or "", {'"': "&quot;"})


def xhtml_page(book: Book, title: str, body: str, css: str = "../styles/epub.css") -> str:
    """A complete XHTML document in the book's language with the EPUB style sheet.

    With embed-fonts on, the fonts' style sheet comes first, so epub.css can name the families.
    """
    lang = quoteattr(book.config.lang or "und")
    sheets = [css.rsplit("/", 1)[0] + "/fonts.css"] if book.config.embed_fonts else []
    sheets.append(css)
    folder = css.rsplit("/", 1)[0]
    sheets += [f"{folder}/{name}" for name in author_sheets(book)]
    links = "".join(f'<link rel="stylesheet" type="text/css" href="{href}"/>\n' for href in sheets)
    head = XHTML_HEAD.format(lang=lang, dir=dir_attribute(book.config), title=x(title), links=links)
    used = [
        f"{prefix}: {uri}"
        for prefix, uri in EPUB_PREFIXES.items()
        if re.search(f'epub:type="(?:[^"]* )?{prefix}:', body)
    ]
    if used:  # the vocabularies of Standard Ebooks' epub:type values, declared where used
        head = head.replace(" lang=", f" epub:prefix={quoteattr(', '.join(used))} lang=", 1)
    return head + body + "\n</html>\n"


def author_sheets(book: Book) -> list[str]:
    """The names of the book's own style sheets in the package, after epub.css."""
    return [f"book-{n}.css" for n in range(1, len(book.epub_css) + 1)]


def marker_html(label: str) -> str:
    """A page-break marker as XHTML: empty, labelled, and announced as a page break."""
    return (
        f'<span epub:type="pagebreak" role="doc-pagebreak" id="page-{x(label)}" '
        f"aria-label={quoteattr(label)}></span>"
    )

"""What the pages need beside them: subset WOFF2 fonts and a favicon."""

from __future__ import annotations

import functools
import io

import lxml.html
from fontTools.ttLib import TTFont
from lxml import etree
from PIL import Image

from quire.ahead import when_needed
from quire.fonts import FontSet, load_fonts
from quire.render.epub import Page, family_text, xhtml_page
from quire.transform import Book


# Kept per subset for a rebuild in the same process (--serve, --watch): the encoding is most of
# what the web edition's fonts cost (half Brotli at quality 11, half fontTools' glyf transform),
# and a subset changes only when the text gains or loses a character.
@functools.lru_cache(maxsize=32)
def woff2(data: bytes) -> bytes:
    """An OpenType font's bytes recompressed as WOFF2 (smaller, and the web's own format)."""
    with TTFont(io.BytesIO(data), recalcTimestamp=False) as font:
        font.flavor = "woff2"
        out = io.BytesIO()
        font.save(out)
    return out.getvalue()


def web_fonts(book: Book, pages: list[str]) -> tuple[dict[str, bytes], str]:
    """The shipped fonts subset to the characters of the pages, as WOFF2, and their CSS.

    The same split as the EPUB's embedded fonts: prose in the text family, code in the
    monospaced one, and the CJK family for what the text family lacks.
    """
    as_xhtml = []
    for page in pages:
        body = lxml.html.document_fromstring(page).find("body")
        markup = etree.tostring(body, method="xml", encoding="unicode")
        as_xhtml.append(Page("", "", xhtml_page(book, "", markup)))
    fonts = when_needed(load_fonts, book.styles / "fonts")
    files: dict[str, bytes] = {}
    used = []
    for family, text in family_text(fonts, as_xhtml):
        for file in family.files:
            face = FontSet((file,))
            if not any(face.maps(c) for c in text if not c.isspace()):
                continue
            name = f"fonts/{file.path.stem}.woff2"
            files[name] = woff2(face.subset(text)[file.path.name])
            used.append(file)
    css = FontSet(tuple(used)).font_face_css(lambda f: f"fonts/{f.path.stem}.woff2")
    css = css.replace('format("truetype")', 'format("woff2")')
    css = css.replace('format("opentype")', 'format("woff2")')
    return files, css


def favicon(cover: bytes) -> bytes:
    """A small PNG of the cover for the browser's tab (browsers ask for one anyway)."""
    with Image.open(io.BytesIO(cover)) as image:
        image = image.convert("RGB")
        image.thumbnail((64, 64))
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
    return out.getvalue()

"""What the pages need beside them: subset WOFF2 fonts and a favicon."""

from __future__ import annotations

import io
from pathlib import Path

import fontTools
import lxml.html
from fontTools.ttLib import TTFont
from lxml import etree
from PIL import Image

from quire.cache_store import CacheStore, digest
from quire.fonts import FontSet, book_fonts
from quire.render.epub import Page, family_text, xhtml_page
from quire.render.epub.fonts import fallback_text
from quire.transform import Book

# The encoding is most of what the web edition's fonts cost (half Brotli at quality 11, half
# fontTools' glyf transform), and a subset changes only when the text gains or loses a
# character: each one is kept in the build cache (font_cache), which a rebuild in the same
# process (--serve, --watch) reads too.
FONT_CACHE_FORMAT = "quire-web-font-cache 1"
WOFF2 = "woff2"  # the cache's folder of encoded fonts


def font_cache(folder: Path | None) -> CacheStore:
    """The cache of WOFF2 fonts in the build cache folder (None: none is read)."""
    return CacheStore(folder, FONT_CACHE_FORMAT, "web font", "it will be encoded again")


def cached_woff2(data: bytes, cache: CacheStore) -> bytes:
    """woff2(data), from the cache if an earlier build encoded the same font (it is a function
    of the font's bytes and fontTools' version alone: the module's, as importlib.metadata
    searches every installed package at each call)."""
    key = digest(FONT_CACHE_FORMAT, fontTools.version, data)
    found = cache.read(WOFF2, key, ".woff2")
    if found is not None:
        cache.use(WOFF2, key)
        return found[1]
    encoded = woff2(data)
    cache.store(WOFF2, key, {}, encoded, ".woff2")
    return encoded


def woff2(data: bytes) -> bytes:
    """An OpenType font's bytes recompressed as WOFF2 (smaller, and the web's own format)."""
    with TTFont(io.BytesIO(data), recalcTimestamp=False) as font:
        font.flavor = "woff2"
        out = io.BytesIO()
        font.save(out)
    return out.getvalue()


def web_fonts(book: Book, pages: list[str], cache: CacheStore) -> tuple[dict[str, bytes], str]:
    """The shipped fonts subset to the characters of the pages, as WOFF2 (from `cache` when an
    earlier build encoded the same subset), and their CSS.

    The same split as the EPUB's embedded fonts: prose in the text family, code in the
    monospaced one, and the CJK family for what the text family lacks.
    """
    as_xhtml = []
    for page in pages:
        body = lxml.html.document_fromstring(page).find("body")
        markup = etree.tostring(body, method="xml", encoding="unicode")
        as_xhtml.append(Page("", "", xhtml_page(book, "", markup)))
    fonts = book_fonts(book)
    files: dict[str, bytes] = {}
    used = []
    families = family_text(fonts, as_xhtml)
    for family, text in families:
        for file in family.files:
            face = FontSet((file,))
            if not any(face.maps(c) for c in text if not c.isspace()):
                continue
            name = f"fonts/{file.path.stem}.woff2"
            files[name] = cached_woff2(face.subset(text)[file.path.name], cache)
            used.append(file)
    woff2_url = lambda f: f"fonts/{f.path.stem}.woff2"  # noqa: E731
    css = FontSet(tuple(used)).font_face_css(woff2_url, used=fallback_text(families))
    css += fonts.language_css(book.config.lang)
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

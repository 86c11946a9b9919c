"""What the pages need beside them: subset WOFF2 fonts and the static search index."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import lxml.html
from fontTools.ttLib import TTFont
from lxml import etree
from PIL import Image

from quire.errors import BuildError
from quire.fonts import FontSet, load_fonts
from quire.render.epub import Page, family_text, xhtml_page
from quire.transform import Book

PAGEFIND_FOLDER = "pagefind"
PAGEFIND_SECONDS = 120
# Pagefind's ready-made interfaces: the site has its own search box, on the pagefind.js API.
PAGEFIND_UNUSED = (
    "pagefind-ui",
    "pagefind-modular-ui",
    "pagefind-component-ui",
    "pagefind-highlight",
)


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
    fonts = load_fonts(book.styles / "fonts")
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


def pagefind_executable() -> Path:
    """The Pagefind binary that the `pagefind-bin` package ships."""
    try:
        from pagefind_bin import get_executable
    except ModuleNotFoundError:
        raise BuildError(
            "the web edition's search needs Pagefind, which is not installed",
            hint="install Quire with its dependencies: pip install -e .",
        ) from None
    return Path(get_executable())


def search_index(pages: dict[str, bytes], lang: str) -> dict[str, bytes]:
    """Pagefind's static index of the pages, built in a temporary copy: {path: bytes}."""
    with tempfile.TemporaryDirectory(prefix="quire-search-") as temp:
        site = Path(temp) / "site"
        for name, data in pages.items():
            path = site / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        command = [str(pagefind_executable()), "--site", str(site), "--silent"]
        if lang:
            command += ["--force-language", lang.split("-")[0]]
        try:
            subprocess.run(
                command, check=True, capture_output=True, text=True, timeout=PAGEFIND_SECONDS
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise BuildError(
                f"internal error: Pagefind could not index the web edition: {detail.strip()}",
                kind="bug",
            ) from None
        bundle = site / PAGEFIND_FOLDER
        index = {
            f"{PAGEFIND_FOLDER}/{p.relative_to(bundle).as_posix()}": p.read_bytes()
            for p in sorted(bundle.rglob("*"))
            if p.is_file() and not p.name.startswith(PAGEFIND_UNUSED)
        }
        shutil.rmtree(site, ignore_errors=True)
    return index

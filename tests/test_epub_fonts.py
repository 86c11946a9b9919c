"""`embed-fonts: true` puts subsets of the shipped fonts in the EPUB; off, the EPUB has none."""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from lxml import etree

from quire.fonts import _cached_subset
from quire.pipeline import build

ROOT = Path(__file__).resolve().parent.parent
FONTS_DIR = ROOT / "styles" / "fonts"
NS = {"h": "http://www.w3.org/1999/xhtml", "opf": "http://www.idpf.org/2007/opf"}
MEDIA_TYPES = {".ttf": "font/ttf", ".otf": "font/otf"}
MONO = "ancestor::h:code or ancestor::h:pre or ancestor::h:kbd or ancestor::h:samp"
TEXT_FAMILY, MONO_FAMILY, CJK_FAMILY = "CharisSIL", "DejaVuSansMono", "NotoSerifCJK"
MOST_OF_ORIGINAL = 0.25  # a subset is at most this share of the shipped file's size

TINY_BOOK = """---
title: Fonts
author: A. Tester
lang: en
date: 2025-01-01
{setting}---

# One

Plain text with *italic*, **bold** and ***both***, a name in Chinese (北京, 中国) and Пекин.

Inline `code → x` and a block:

```
print("Ωmega ≠ %d" % 42)
```
"""


# ---------- reading the built EPUB ----------


def epub_files(path: Path) -> dict[str, bytes]:
    """Every file in the EPUB by its name in the zip."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest(path: Path) -> dict[str, str]:
    """Manifest items: href (inside EPUB/) → media type."""
    opf = etree.fromstring(epub_files(path)["EPUB/package.opf"])
    return {i.get("href"): i.get("media-type") for i in opf.iterfind(".//opf:item", NS)}


def xhtml_documents(path: Path) -> dict[str, etree._Element]:
    """The XHTML files, parsed, by their name inside EPUB/."""
    return {
        name.removeprefix("EPUB/"): etree.fromstring(data)
        for name, data in epub_files(path).items()
        if name.endswith(".xhtml")
    }


def family_text(path: Path) -> tuple[set[str], set[str]]:
    """Characters of the pages' text: (outside code, inside code/pre/kbd/samp), no spaces."""
    prose: set[str] = set()
    code: set[str] = set()
    for root in xhtml_documents(path).values():
        for text in root.xpath(f"//h:body//text()[not({MONO})]", namespaces=NS):
            prose.update(text)
        for text in root.xpath(f"//h:body//text()[{MONO}]", namespaces=NS):
            code.update(text)
    return {c for c in prose if not c.isspace()}, {c for c in code if not c.isspace()}


def shipped(name: str) -> Path:
    """The shipped font file of that name."""
    [path] = FONTS_DIR.rglob(name)
    return path


def cmap(data_or_path: bytes | Path) -> set[int]:
    """The code points a font file maps."""
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    with TTFont(source) as font:
        return set(font.getBestCmap())


def deobfuscate(data: bytes, identifier: str) -> bytes:
    """Undo OCF's IDPF font obfuscation, as a reading system does (written here from the spec)."""
    key = hashlib.sha1("".join(c for c in identifier if c not in " \t\r\n").encode()).digest()
    return bytes(b ^ key[i % 20] for i, b in enumerate(data[:1040])) + data[1040:]


def embedded(path: Path) -> dict[str, bytes]:
    """The font files of the package by file name, de-obfuscated with the book's identifier."""
    files = epub_files(path)
    opf = etree.fromstring(files["EPUB/package.opf"])
    identifier = opf.findtext(".//{http://purl.org/dc/elements/1.1/}identifier")
    encryption = etree.fromstring(files["META-INF/encryption.xml"])
    obfuscated = {
        ref.get("URI")
        for ref in encryption.iter("{http://www.w3.org/2001/04/xmlenc#}CipherReference")
    }
    fonts = {}
    for href, kind in manifest(path).items():
        if kind.startswith("font/"):
            assert "EPUB/" + href in obfuscated, f"{href} is not obfuscated"
            fonts[href.rsplit("/", 1)[-1]] = deobfuscate(files["EPUB/" + href], identifier)
    return fonts


def check_coverage(path: Path) -> dict[str, bytes]:
    """Each embedded font maps every character of its family's text that the shipped file maps."""
    prose, code = family_text(path)
    fonts = embedded(path)
    regular_text = cmap(shipped("CharisSIL-Regular.ttf"))
    for name, data in fonts.items():
        original = cmap(shipped(name))
        if name.startswith(TEXT_FAMILY):
            wanted = prose
        elif name.startswith(MONO_FAMILY):
            wanted = code
        else:
            assert name.startswith(CJK_FAMILY), name
            wanted = {c for c in prose if ord(c) not in regular_text}
        needed = {ord(c) for c in wanted} & original
        assert needed, f"{name}: embedded but the text uses none of its characters"
        missing = needed - cmap(data)
        assert not missing, f"{name} lacks {''.join(map(chr, sorted(missing)))!r}"
        assert len(data) < MOST_OF_ORIGINAL * shipped(name).stat().st_size, name
    return fonts


def tiny_book(tmp_path: Path, setting: str) -> Path:
    """A one-chapter book with code, Chinese and Cyrillic, built to an EPUB only."""
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "book.md").write_text(TINY_BOOK.format(setting=setting), encoding="utf-8")
    [written] = build(folder / "book.md", tmp_path / "out", ("epub",), lambda *a: None)
    return written.path


# ---------- the sample book (embed-fonts: true) ----------


def test_sample_book_embeds_its_fonts_with_core_media_types(build_case):
    epub = build_case("sample").epub
    items = manifest(epub)
    files = epub_files(epub)
    fonts = {href: kind for href, kind in items.items() if href.startswith("fonts/")}
    assert fonts, "no fonts in the manifest"
    for href, kind in fonts.items():
        assert kind == MEDIA_TYPES[Path(href).suffix], href
        assert "EPUB/" + href in files
    assert {n.rsplit("/", 1)[-1] for n in files if n.startswith("EPUB/fonts/")} == {
        h.rsplit("/", 1)[-1] for h in fonts
    }
    names = {Path(h).name for h in fonts}
    assert {"CharisSIL-Regular.ttf", "CharisSIL-Italic.ttf"} <= names
    assert "NotoSerifCJKsc-GB2312-Regular.ttf" in names  # the sample has Chinese names
    assert not any(n.startswith(MONO_FAMILY) for n in names)  # and no code
    assert items["styles/fonts.css"] == "text/css"


def test_fonts_css_comes_before_epub_css_on_every_page(build_case):
    epub = build_case("sample").epub
    for name, root in xhtml_documents(epub).items():
        links = [link.get("href") for link in root.iterfind(".//h:head/h:link", NS)]
        resolved = [posixpath.normpath(posixpath.join(posixpath.dirname(name), h)) for h in links]
        assert resolved == ["styles/fonts.css", "styles/epub.css"], name


def test_fonts_css_names_each_embedded_file_once(build_case):
    epub = build_case("sample").epub
    css = epub_files(epub)["EPUB/styles/fonts.css"].decode()
    urls = re.findall(r'url\("([^"]+)"\)', css)
    hrefs = sorted(posixpath.normpath(posixpath.join("styles", u)) for u in urls)
    assert hrefs == sorted(h for h in manifest(epub) if h.startswith("fonts/"))
    families = set(re.findall(r'@font-face \{\s*font-family: "([^"]+)"', css))
    assert families == {"Charis SIL", "Noto Serif CJK SC"}
    epub_css = epub_files(epub)["EPUB/styles/epub.css"].decode()
    assert '"Charis SIL", "Noto Serif CJK SC", "Quire Fallback", serif' in epub_css


def test_each_sample_font_covers_its_text_and_is_small(build_case):
    check_coverage(build_case("sample").epub)


def test_subsets_keep_their_names_and_licence(build_case):
    for name, data in embedded(build_case("sample").epub).items():
        with TTFont(io.BytesIO(data)) as subset, TTFont(shipped(name)) as original:
            for name_id in (0, 1, 13, 14):  # copyright, family, licence, licence URL
                assert subset["name"].getDebugName(name_id) == original["name"].getDebugName(
                    name_id
                ), (name, name_id)


# ---------- a tiny book with code ----------


def test_a_book_with_code_embeds_the_mono_family(tmp_path):
    epub = tiny_book(tmp_path, "embed-fonts: true\n")
    fonts = check_coverage(epub)
    prose, code = family_text(epub)
    assert {"→", "Ω", "≠"} <= code and {"北", "П"} <= prose
    names = set(fonts)
    assert "DejaVuSansMono.ttf" in names
    assert "NotoSerifCJKsc-GB2312-Regular.ttf" in names
    assert {"CharisSIL-Bold.ttf", "CharisSIL-BoldItalic.ttf"} <= names
    css = epub_files(epub)["EPUB/styles/fonts.css"].decode()
    assert 'font-family: "DejaVu Sans Mono"' in css


def test_embedding_is_reproducible_and_subsets_once_per_run(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = tiny_book(tmp_path / "a", "embed-fonts: true\n")
    hits = _cached_subset.cache_info().hits
    second = tiny_book(tmp_path / "b", "embed-fonts: true\n")
    assert first.read_bytes() == second.read_bytes()
    assert _cached_subset.cache_info().hits - hits >= len(embedded(second))


@pytest.mark.parametrize("setting", ["", "embed-fonts: false\n"])
def test_without_embed_fonts_there_are_no_fonts(tmp_path, setting):
    epub = tiny_book(tmp_path, setting)
    files = epub_files(epub)
    assert not any(n.startswith("EPUB/fonts/") or n.endswith("fonts.css") for n in files)
    assert not any(kind.startswith("font/") for kind in manifest(epub).values())
    assert "styles/fonts.css" not in manifest(epub)
    for name, root in xhtml_documents(epub).items():
        links = [link.get("href") for link in root.iterfind(".//h:head/h:link", NS)]
        assert not any("fonts" in h for h in links), name

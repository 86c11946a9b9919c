"""Fallback fonts and SVG text: emoji, Devanagari and a book's own fonts print with real glyphs,
SVGs as editors write them build, and nothing comes from the machine's fonts.

Issue 22: 🦀, 🚨 and Devanagari stopped the build ("no font has the character"), an SVG in
`sans-serif` or with a DOCTYPE or a data: PNG was refused, and a book could not bring a font.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import zipfile
from pathlib import Path

import pymupdf
import pytest
from conftest import run_build
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
HIEROGLYPH = "\U00013000"  # no shipped face has it: the book's own font does
# The faces a PDF of the book may embed (WeasyPrint names them after their CSS family).
BOOK_FACES = (
    "Charis-SIL",
    "DejaVu-Sans-Mono",
    "Noto-Serif-CJK-SC",
    "Quire-Fallback",
    "Test-Glyphs",
)
DEVANAGARI = "नमस्ते"
CHAPTER = f"""# One

The crab 🦀 and the siren 🚨 walk by.

{DEVANAGARI} दुनिया, **{DEVANAGARI}**.

The seated man {HIEROGLYPH} is drawn by the book's own font.

A line\u2028broken by a line separator.

![A map in sans-serif](sans.svg)

![A map with a DOCTYPE](doctype.svg)

![A map with an embedded PNG](raster.svg)
"""
SANS_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="220" height="60">'
    "<style>.t { font: 12px Arial, Helvetica; }</style>"
    '<text x="5" y="20" font-family="sans-serif">Sans label ☺ 🦀</text>'
    '<text x="5" y="40" class="t">Arial label</text>'
    '<text x="5" y="55" style="font-family: Courier New">Mono label</text></svg>'
)
DOCTYPE_SVG = (
    '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="30">'
    '<text x="5" y="20" font-family="Times New Roman">Doctype label</text></svg>'
)


def png_base64(size: int = 16) -> str:
    """A small red PNG, base64."""
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 0, 0)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def glyph_font(path: Path, family: str, char: str) -> Path:
    """A tiny TrueType font with one glyph, a filled square, for `char` (and the space)."""
    name = f"u{ord(char):04X}"
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "space", name])
    builder.setupCharacterMap({0x20: "space", ord(char): name})
    pen = TTGlyphPen(None)
    for x, y in ((100, 0), (100, 700), (800, 700), (800, 0)):
        (pen.lineTo if x != 100 or y != 0 else pen.moveTo)((x, y))
    pen.closePath()
    square = pen.glyph()
    builder.setupGlyf({".notdef": square, "space": TTGlyphPen(None).glyph(), name: square})
    builder.setupHorizontalMetrics({".notdef": (900, 100), "space": (300, 0), name: (900, 100)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    builder.save(str(path))
    return path


def make_book(folder: Path, *, own_font: str = "folder") -> Path:
    """The book of CHAPTER, its SVGs, and its own font in fonts/ or listed in `fonts:`."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = "title: Fallbacks\nauthor: T. Ester\nlang: en\nchapters: [one.md]\n"
    if own_font == "folder":
        (folder / "fonts").mkdir()
        glyph_font(folder / "fonts" / "glyphs.ttf", "Test Glyphs", HIEROGLYPH)
    elif own_font == "setting":
        (folder / "type").mkdir()
        glyph_font(folder / "type" / "glyphs.ttf", "Test Glyphs", HIEROGLYPH)
        settings += "fonts: [type/glyphs.ttf]\n"
    (folder / "book.yaml").write_text(settings, encoding="utf-8")
    (folder / "one.md").write_text(CHAPTER, encoding="utf-8")
    (folder / "sans.svg").write_text(SANS_SVG, encoding="utf-8")
    (folder / "doctype.svg").write_text(DOCTYPE_SVG, encoding="utf-8")
    (folder / "raster.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="40" height="40"><image xlink:href="data:image/png;base64,{png_base64()}" '
        'width="16" height="16"/></svg>',
        encoding="utf-8",
    )
    return folder


def build(
    source: Path, out: Path, *args: str, env: dict | None = None
) -> subprocess.CompletedProcess:
    """`python build.py SOURCE --out OUT ARGS` with one worker."""
    return run_build(source, out, *args, env={"QUIRE_WORKERS": "1", **(env or {})}, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The book built in all three formats: (its source, the out folder, stderr)."""
    base = tmp_path_factory.mktemp("fallback-fonts")
    source = make_book(base / "book")
    proc = build(source, base / "out")
    assert proc.returncode == 0, proc.stderr
    return source, base / "out", proc.stderr


def drawn_glyphs(pdf: Path) -> dict[str, list[tuple[str, int]]]:
    """Each character the PDF draws: the (font, glyph id) pairs it is drawn with."""
    found: dict[str, list[tuple[str, int]]] = {}
    with pymupdf.open(pdf) as doc:
        for page in doc:
            for span in page.get_texttrace():
                for char in span["chars"]:
                    found.setdefault(chr(char[0]), []).append((span["font"], char[1]))
    return found


def test_emoji_and_devanagari_print_from_the_fallback_faces(built) -> None:
    """🦀, 🚨 and a Devanagari word are drawn with glyphs of the fallback faces, not .notdef,
    and the build names no missing character."""
    _source, out, stderr = built
    glyphs = drawn_glyphs(out / "fallbacks.pdf")
    for char in ("🦀", "🚨", "न", "म", "त"):
        assert char in glyphs, f"{char!r} is not in the PDF's text"
        for font, gid in glyphs[char]:
            assert "Quire-Fallback" in font, (char, font)
            assert gid != 0, f"{char!r} is drawn as .notdef"
    assert "no font has" not in stderr


def test_the_books_own_font_is_embedded_and_used(built) -> None:
    """A character only the book's fonts/ font has is drawn from it in the PDF, and the EPUB
    and the web edition carry a subset of it for that character."""
    _source, out, stderr = built
    drawn = drawn_glyphs(out / "fallbacks.pdf")[HIEROGLYPH]
    assert drawn and all("Quire-Fallback" in font and gid != 0 for font, gid in drawn), drawn
    with pymupdf.open(out / "fallbacks.pdf") as doc:
        names = {f[3] for page in doc for f in page.get_fonts()}
    assert all(n.split("+")[-1].startswith(BOOK_FACES) for n in names), names
    site_css = (out / "fallbacks" / "fonts.css").read_text(encoding="utf-8")
    rules = re.findall(r"@font-face \{[^}]*glyphs\.woff2[^}]*\}", site_css)
    assert any('"Quire Fallback"' in r and "unicode-range: U+13000;" in r for r in rules), rules
    assert (out / "fallbacks" / "fonts" / "glyphs.woff2").is_file()
    assert "no font has" not in stderr


def test_svgs_as_editors_write_them_build_in_the_books_fonts(built) -> None:
    """SVG text in sans-serif, Arial (in <style>) and Courier New prints in the book's faces; an
    SVG with a DOCTYPE and one with a data: PNG are in the EPUB and the PDF."""
    _source, out, _stderr = built
    glyphs = drawn_glyphs(out / "fallbacks.pdf")
    with pymupdf.open(out / "fallbacks.pdf") as doc:
        text = "".join(page.get_text() for page in doc)
        images = sum(len(page.get_images()) for page in doc)
        spans = [s for page in doc for s in page.get_texttrace()]
    for label in ("Sans label", "Arial label", "Mono label", "Doctype label"):
        assert label in text
    fonts = {s["font"] for s in spans if "label" in "".join(chr(c[0]) for c in s["chars"])}
    assert fonts and all("Charis-SIL" in f or "DejaVu-Sans-Mono" in f for f in fonts), fonts
    assert any("DejaVu-Sans-Mono" in f for f in fonts)  # Courier New: the monospaced face
    # what the first face lacks comes from the book's other faces, never the system's
    for char in "☺🦀":
        drawn = glyphs[char]
        assert all(f.split("+")[-1].startswith(BOOK_FACES) and gid for f, gid in drawn), drawn
    assert all(gid != 0 for font, gid in glyphs["S"])
    assert images >= 1  # the embedded PNG
    with zipfile.ZipFile(out / "fallbacks.epub") as epub:
        names = epub.namelist()
    assert {"EPUB/images/doctype.svg", "EPUB/images/raster.svg", "EPUB/images/sans.svg"} <= set(
        names
    )


def test_line_separator_becomes_a_line_break(built) -> None:
    """U+2028 is a line break in print, not a box."""
    _source, out, _stderr = built
    with pymupdf.open(out / "fallbacks.pdf") as doc:
        lines = [line for page in doc for line in page.get_text().splitlines()]
    assert "A line" in lines and any(line.startswith("broken by a line") for line in lines)
    assert "\u2028" not in drawn_glyphs(out / "fallbacks.pdf")


def test_no_system_font_is_used(built, tmp_path: Path) -> None:
    """Built where fontconfig has no fonts at all, the PDF is the same, byte for byte."""
    source, out, _stderr = built
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    proc = build(source, tmp_path / "out", "--to", "pdf", env={"FONTCONFIG_FILE": str(conf)})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "fallbacks.pdf").read_bytes() == (out / "fallbacks.pdf").read_bytes()


def test_fonts_setting_lists_the_books_fonts(tmp_path: Path) -> None:
    """`fonts:` names font files anywhere inside the book; the character prints from it."""
    source = make_book(tmp_path / "book", own_font="setting")
    proc = build(source, tmp_path / "out", "--to", "pdf")
    assert proc.returncode == 0, proc.stderr
    drawn = drawn_glyphs(tmp_path / "out" / "fallbacks.pdf")[HIEROGLYPH]
    assert drawn and all(gid != 0 for _font, gid in drawn)


@pytest.mark.parametrize(
    ("listed", "message"),
    [
        ("../outside.ttf", "points outside the book's folder"),
        ("one.md", "book.yaml:5: `fonts:` lists one.md, which is not a font Quire can read"),
    ],
)
def test_fonts_setting_is_confined(tmp_path: Path, listed: str, message: str) -> None:
    """A `fonts:` entry outside the book, or that is no font, is refused with book.yaml's line."""
    source = make_book(tmp_path / "book", own_font="none")
    glyph_font(tmp_path / "outside.ttf", "Outside", HIEROGLYPH)
    with (source / "book.yaml").open("a", encoding="utf-8") as settings:
        settings.write(f"fonts: [{listed}]\n")
    proc = build(source, tmp_path / "out", "--to", "pdf")
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "fallbacks.pdf").exists()


# ---------- the checks themselves ----------


def test_svg_with_a_doctype_builds_and_entities_stay_refused(tmp_path: Path) -> None:
    """A DOCTYPE as editors write it is accepted; one that declares an entity is not."""
    from quire.errors import BuildError
    from quire.images import check_svg

    plain = tmp_path / "plain.svg"
    plain.write_text(DOCTYPE_SVG, encoding="utf-8")
    check_svg(plain, file="one.md", line=3)
    entity = tmp_path / "entity.svg"
    entity.write_text(
        '<!DOCTYPE svg [<!ENTITY word "x">]><svg xmlns="http://www.w3.org/2000/svg">'
        "<text>&word;</text></svg>",
        encoding="utf-8",
    )
    with pytest.raises(BuildError, match="declares a DTD with entities"):
        check_svg(entity, file="one.md", line=3)


def test_svg_data_images_are_checked_as_images_and_never_printed(tmp_path: Path) -> None:
    """An embedded PNG is accepted; a damaged one or another type is refused with a short
    message that quotes no base64."""
    from quire.errors import BuildError
    from quire.images import check_svg

    good = png_base64()
    template = '<svg xmlns="http://www.w3.org/2000/svg"><image href="data:{}" width="9"/></svg>'
    svg = tmp_path / "map.svg"
    svg.write_text(template.format(f"image/png;base64,{good}"), encoding="utf-8")
    check_svg(svg, file="one.md", line=3)
    big = Image.new("1", (9000, 9000))  # 81 megapixels, a few KB as PNG
    out = io.BytesIO()
    big.save(out, "PNG")
    bomb = base64.b64encode(out.getvalue()).decode()
    for data, message in [
        (f"image/png;base64,{good[:30]}AAAA{good[30:]}", "corrupt"),
        (f"image/png;base64,{bomb}", "too large"),
        (f"text/html;base64,{good * 40}", "`text/html`"),
    ]:
        svg.write_text(template.format(data), encoding="utf-8")
        with pytest.raises(BuildError) as error:
            check_svg(svg, file="one.md", line=3)
        assert message in str(error.value)
        assert len(str(error.value)) < 300 and good[:20] not in str(error.value)
    link = '<svg xmlns="http://www.w3.org/2000/svg"><a href="data:text/html;base64,{}"/></svg>'
    svg.write_text(link.format(good * 40), encoding="utf-8")
    with pytest.raises(BuildError) as error:
        check_svg(svg, file="one.md", line=3)
    assert "characters)" in str(error.value) and good[:20] not in str(error.value)


def test_format_characters_need_a_glyph() -> None:
    """Format characters that are not default-ignorable (U+070F, U+110BD) print as a box without
    a glyph, so the check counts them; ZWJ, soft hyphen and the separators it does not. (U+0600,
    the Arabic number sign, has a glyph in the shipped Naskh face.)"""
    from quire.fonts import load_fonts

    fonts = load_fonts(ROOT / "styles" / "fonts")
    assert fonts.uncovered("a\u0600\u070fb\U000110bd") == ["\u070f", "\U000110bd"]
    assert fonts.uncovered("a\u200d\u00ad\u2028\u2029\u2060b") == []


def test_separators_become_line_breaks() -> None:
    """U+2028 and U+2029 in text and tails become <br>, the text around them kept in order."""
    from lxml import etree

    from quire.render.print_checks import separators_as_breaks

    body = etree.fromstring("<body><p>a\u2028b<em>c\u2029d</em>e\u2028f</p></body>")
    separators_as_breaks(body)
    assert etree.tostring(body, encoding="unicode") == (
        "<body><p>a<br/>b<em>c<br/>d</em>e<br/>f</p></body>"
    )


def test_the_books_own_font_is_embedded_in_the_epub(tmp_path: Path) -> None:
    """With embed-fonts, the EPUB carries the book's font (apart from the shipped ones, whose
    names it may share) and names it as a fallback face for its characters."""
    source = make_book(tmp_path / "book")
    with (source / "book.yaml").open("a", encoding="utf-8") as settings:
        settings.write("embed-fonts: true\n")
    proc = build(source, tmp_path / "out", "--to", "epub")
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(tmp_path / "out" / "fallbacks.epub") as epub:
        names = set(epub.namelist())
        css = epub.read("EPUB/styles/fonts.css").decode()
    assert {"EPUB/fonts/book/glyphs.ttf", "EPUB/fonts/NotoEmoji-Regular.ttf"} <= names
    rules = re.findall(r"@font-face \{[^}]*\}", css)
    assert any(
        "../fonts/book/glyphs.ttf" in r and '"Quire Fallback"' in r and "U+13000;" in r
        for r in rules
    ), css


@pytest.mark.parametrize("name", ["broken.ttf", "web.woff2"])
def test_a_font_the_build_cannot_use_in_fonts_is_left_out_with_a_warning(
    tmp_path: Path, name: str
) -> None:
    """A damaged font, or a format Quire does not read, in fonts/ is a warning; the book builds
    with its other fonts (and is refused under --strict)."""
    source = make_book(tmp_path / "book")
    (source / "fonts" / name).write_bytes(b"not a font at all")
    proc = build(source, tmp_path / "out", "--to", "pdf")
    assert proc.returncode == 0, proc.stderr
    assert f"fonts/{name}:" in proc.stderr and "left out" in proc.stderr
    drawn = drawn_glyphs(tmp_path / "out" / "fallbacks.pdf")[HIEROGLYPH]
    assert drawn and all(gid != 0 for _font, gid in drawn)  # glyphs.ttf still used
    strict = build(source, tmp_path / "strict", "--to", "pdf", "--strict")
    assert strict.returncode == 1 and f"fonts/{name}" in strict.stderr

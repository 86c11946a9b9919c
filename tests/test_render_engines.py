"""The same book in every PDF engine and on every machine: four-engine render-check, builds
under a fontconfig without fonts, Ace under that fontconfig, and no system fonts in SVG text."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pymupdf
import pytest
from lxml import etree
from render_engines import disagreements
from test_validators import require_ace

from quire.fonts import load_fonts
from quire.svg_fonts import check_svg_text, for_print, svg_fonts
from quire.validate import run_ace

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "styles" / "fonts"
CFF_FONT = Path(__file__).resolve().parent / "data" / "cff-cjk" / "NotoSerifCJKsc-CFF-test.otf"
CFF_TEXT = "边界地图中国与俄罗斯的关系。黑龙江和乌苏里江，"
SPECIMEN_CHARS = 240  # characters of each shipped face drawn in its specimen


def _report(found: list) -> str:
    return "\n".join(str(d) for d in found[:20])


def test_engines_agree_on_every_case(case) -> None:
    """Every page of the book's PDF looks the same in MuPDF, PDFium, Poppler and Ghostscript."""
    found = disagreements(case.pdf)
    assert not found, f"{case.name}: the PDF engines disagree:\n{_report(found)}"


def _specimen_pdf(font: Path, text: str, out: Path) -> Path:
    """A one-page PDF that WeasyPrint sets in one font file alone."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    config = FontConfiguration()
    css = CSS(
        string=f'@font-face {{ font-family: "Specimen"; src: url("{font.as_uri()}"); }}\n'
        'body { font: 16pt/1.5 "Specimen"; } @page { size: 6in 9in; margin: 0.5in; }',
        font_config=config,
    )
    html = f'<html lang="zh"><body><p>{text}</p></body></html>'
    HTML(string=html).write_pdf(out, stylesheets=[css], font_config=config)
    return out


def _sample_of(font: Path) -> str:
    """An even spread of the printable characters that a font maps, space-separated in tens.

    Combining marks are left out: drawn without a base letter, engines place them differently.
    """
    from fontTools.ttLib import TTFont

    with TTFont(font, lazy=True) as face:
        mapped = sorted(
            cp
            for cp in face.getBestCmap()
            if chr(cp).isprintable()
            and cp > 0x20
            and not unicodedata.category(chr(cp)).startswith("M")
        )
    step = max(1, len(mapped) // SPECIMEN_CHARS)
    chars = [chr(cp) for cp in mapped[::step] if chr(cp) not in "<>&"]
    return " ".join("".join(chars[i : i + 10]) for i in range(0, len(chars), 10))


@pytest.mark.parametrize("font", sorted(FONTS.rglob("*.ttf")), ids=lambda p: p.name)
def test_every_shipped_font_draws_alike(font: Path, tmp_path: Path) -> None:
    """Each shipped face, embedded by WeasyPrint, draws the same in all four engines."""
    found = disagreements(_specimen_pdf(font, _sample_of(font), tmp_path / "specimen.pdf"))
    assert not found, f"{font.name}: the PDF engines disagree:\n{_report(found)}"


def test_render_check_catches_cff_cjk_font(tmp_path: Path) -> None:
    """The CFF (CID-keyed) face Quire shipped before draws nothing in MuPDF and boxes in
    Ghostscript; the check must say so, naming page, engine and text."""
    pdf = _specimen_pdf(CFF_FONT, CFF_TEXT, tmp_path / "cff.pdf")
    found = disagreements(pdf)
    engines = {d.engine for d in found if d.text}
    assert {"mupdf", "ghostscript"} <= engines, _report(found)
    assert all(d.page == 1 and set(d.text) <= set(CFF_TEXT + " ") for d in found if d.text)
    assert "pdfium" not in engines and "poppler" not in engines


def test_shipped_fonts_are_truetype() -> None:
    """No shipped face has CFF outlines (see tools/make_fonts.py for why)."""
    from fontTools.ttLib import TTFont

    for font in sorted(p for p in FONTS.rglob("*") if p.suffix in (".otf", ".ttf")):
        with TTFont(font, lazy=True) as face:
            assert "glyf" in face and "CFF " not in face, font.name


# ---------- Nothing from the system ----------


@pytest.fixture(scope="session")
def empty_fontconfig(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fontconfig file with no font folders: the machine has no fonts at all."""
    folder = tmp_path_factory.mktemp("fontconfig")
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><cachedir>{folder / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return conf


def _build_without_fonts(source: Path, fontconfig: Path, out: Path) -> tuple[Path, Path]:
    """Build a book in a process whose fontconfig is the given file: (pdf, epub)."""
    env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), str(source), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    (pdf,) = out.glob("*.pdf")
    (epub,) = out.glob("*.epub")
    return pdf, epub


@pytest.fixture(scope="session")
def sample_without_fonts(empty_fontconfig: Path, tmp_path_factory: pytest.TempPathFactory):
    """The sample built in a process whose fontconfig holds no fonts: (pdf, epub)."""
    out = tmp_path_factory.mktemp("no-system-fonts")
    return _build_without_fonts(ROOT / "manuscript", empty_fontconfig, out)


def test_build_without_system_fonts_is_byte_identical(sample_without_fonts, build_case) -> None:
    """The machine's fonts change nothing: the same bytes with no fonts and with the usual ones."""
    pdf, epub = sample_without_fonts
    normal = build_case("sample")
    assert pdf.read_bytes() == normal.pdf.read_bytes()
    assert epub.read_bytes() == normal.epub.read_bytes()


def test_chinese_book_without_system_fonts_is_byte_identical(
    empty_fontconfig: Path, build_case, tmp_path: Path
) -> None:
    """Latin words inside Chinese text, bold, italic and code also need no system font."""
    normal = build_case("chinese-single-file")
    pdf, epub = _build_without_fonts(normal.source, empty_fontconfig, tmp_path)
    assert pdf.read_bytes() == normal.pdf.read_bytes()
    assert epub.read_bytes() == normal.epub.read_bytes()


def test_pdf_embeds_only_shipped_fonts(case) -> None:
    """Every font in the PDF is a subset of a face from styles/fonts/."""
    # WeasyPrint names an embedded face after its family, spaces made hyphens.
    shipped = {f.family.replace(" ", "-") for f in load_fonts(FONTS).files} | {"Quire-Fallback"}
    with pymupdf.open(case.pdf) as doc:
        names = {font[3].split("+", 1)[-1] for page in doc for font in page.get_fonts()}
    foreign = {n for n in names if not any(n.startswith(family) for family in shipped)}
    assert not foreign, f"{case.name}: fonts from outside styles/fonts/: {sorted(foreign)}"


DEJAVU = Path("/usr/share/fonts/truetype/dejavu")  # Debian fonts-dejavu-core


@pytest.fixture(scope="session")
def dejavu_fontconfig(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fontconfig whose only fonts are DejaVu: the machine where Ace first complained."""
    if not DEJAVU.is_dir():
        pytest.skip(f"no {DEJAVU} (Debian fonts-dejavu-core)")
    folder = tmp_path_factory.mktemp("fontconfig-dejavu")
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><dir>{DEJAVU}</dir><cachedir>{folder / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return conf


def _ace_with_fonts(epub: Path, fontconfig: Path, monkeypatch: pytest.MonkeyPatch) -> list:
    """Ace's findings on an EPUB, with Chromium seeing only the fonts of a fontconfig file."""
    require_ace()
    monkeypatch.setenv("FONTCONFIG_FILE", str(fontconfig))
    return list(run_ace(epub).findings)


def test_ace_clean_without_system_fonts(
    sample_without_fonts, empty_fontconfig: Path, monkeypatch
) -> None:
    """Ace finds nothing in the sample's EPUB, built and checked on a machine without fonts."""
    findings = _ace_with_fonts(sample_without_fonts[1], empty_fontconfig, monkeypatch)
    assert not findings, "\n".join(str(f) for f in findings)


def test_ace_clean_with_only_dejavu(build_case, dejavu_fontconfig: Path, monkeypatch) -> None:
    """Ace finds nothing when Chromium's only fonts are DejaVu (note references are underlined)."""
    findings = _ace_with_fonts(build_case("sample").epub, dejavu_fontconfig, monkeypatch)
    assert not findings, "\n".join(str(f) for f in findings)


def test_ace_catches_note_references_told_by_colour_alone(
    build_case, dejavu_fontconfig: Path, monkeypatch, tmp_path: Path
) -> None:
    """Without the underline (the old epub.css), Ace reports link-in-text-block on that machine."""
    epub = tmp_path / "colour-only.epub"
    with zipfile.ZipFile(build_case("sample").epub) as source, zipfile.ZipFile(epub, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("/epub.css"):
                data = re.sub(
                    rb"a\.noteref \{[^}]*\}", b"a.noteref { text-decoration: none; }", data
                )
            out.writestr(item, data)
    findings = _ace_with_fonts(epub, dejavu_fontconfig, monkeypatch)
    assert any("link-in-text-block" in str(f) for f in findings), findings


# ---------- SVG text ----------

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40">{}</svg>'


def _families_for_print(svg: str) -> set[str]:
    """Every family name the print layout's reading of an SVG names (for_print)."""
    fonts = load_fonts(FONTS)
    out = etree.fromstring(for_print(svg.encode(), svg_fonts(fonts)))
    values = [e.get("font-family") for e in out.iter() if e.get("font-family")]
    css = [e.get("style", "") for e in out.iter()] + [e.text or "" for e in out.iter("{*}style")]
    values += [v for c in css for v in re.findall(r"font-family:\s*([^;}]+)", c)]
    return {n.strip().strip("\"'") for v in values for n in v.split(",")}


@pytest.mark.parametrize(
    "body",
    [
        '<g font-family="DejaVu Sans, sans-serif"><text>Harbin</text></g>',
        "<text>Harbin</text>",
        '<text style="font-family: serif">Harbin</text>',
        '<text style="font: bold 12px Arial, Helvetica">Harbin</text>',
        "<style>text { font-family: Times New Roman; }</style><text>Harbin</text>",
        '<text font-family="Courier New, monospace">x = 1</text>',
    ],
)
def test_svg_text_is_printed_in_the_books_fonts(body: str) -> None:
    """Whatever family SVG text names (or none), print names only the book's, so fontconfig
    never picks a system font for it."""
    shipped = set(load_fonts(FONTS).main().families()) | {"Quire Fallback"}
    names = _families_for_print(SVG.format(body))
    assert names and names <= shipped, names


@pytest.mark.expect_warnings
def test_svg_text_in_an_unknown_font_or_without_glyphs_warns(tmp_path: Path, caplog) -> None:
    """A family that is no common name, and a character no font has, are warnings (with the
    line); the common names and what the fallback faces draw are not."""
    svg = tmp_path / "map.svg"
    body = '<text font-family="Papyrus">Harbin \U00013000</text>\n<text font-family="Arial">哈尔滨 🦀</text>'
    svg.write_text(SVG.format(body), encoding="utf-8")
    with caplog.at_level("WARNING", logger="quire"):
        check_svg_text([svg], load_fonts(FONTS))
    messages = [r.getMessage() for r in caplog.records]
    assert any("`Papyrus`" in m and "map.svg:1" in m for m in messages), messages
    assert any("U+13000" in m for m in messages), messages
    assert len(messages) == 2, messages


def test_svg_text_in_shipped_fonts_stays_as_it_is() -> None:
    body = '<g font-family="Charis SIL, Noto Serif CJK SC, serif"><text>Harbin <tspan>哈尔滨</tspan></text></g>'
    assert _families_for_print(SVG.format(body)) >= {"Charis SIL", "Noto Serif CJK SC"}
    check_svg_text([ROOT / "manuscript" / "border-map.svg"], load_fonts(FONTS))

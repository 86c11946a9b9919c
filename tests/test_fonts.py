"""The shipped fonts and quire.fonts: coverage, discovery, CSS, subsetting, speed."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from quire import fonts
from quire.errors import BuildError
from quire.fonts import FontFile, FontSet, load_fonts

REPO = Path(__file__).resolve().parents[1]
FONTS_DIR = REPO / "styles" / "fonts"
TEXT_FAMILY = "Charis SIL"
CJK_FAMILY = "Noto Serif CJK SC"
# Japanese, traditional Chinese and Korean, after SC in a book in another language.
OTHER_CJK = ("Noto Serif CJK JP", "Noto Serif CJK TC", "Noto Serif CJK KR")

CYRILLIC = "".join(chr(c) for c in range(0x410, 0x450)) + "Ёё"
PINYIN = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü" + "ĀÁǍÀĒÉĚÈĪÍǏÌŌÓǑÒŪÚǓÙǕǗǙǛÜ"
PUNCTUATION = "‘’“”«»–—…№×°→′″„"
CJK_PUNCTUATION = "、。，：；？！「」『』《》〈〉（）—…·〇　～￥"


def gb2312_repertoire() -> list[str]:
    """Every character a valid two-byte GB 2312 code decodes to, in code order."""
    chars: list[str] = []
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


@pytest.fixture(scope="module")
def fontset() -> FontSet:
    return load_fonts(FONTS_DIR)


def only(fontset: FontSet, family: str, weight: int, style: str = "normal") -> FontSet:
    """A FontSet of the one file of fontset with this family, weight and style."""
    found = [f for f in fontset.files if (f.family, f.weight, f.style) == (family, weight, style)]
    assert len(found) == 1, found
    return FontSet((found[0],))


# --- the shipped files -------------------------------------------------------


def test_text_family_has_four_styles(fontset: FontSet) -> None:
    styles = {(f.weight, f.style) for f in fontset.files if f.family == TEXT_FAMILY}
    assert styles == {(400, "normal"), (400, "italic"), (700, "normal"), (700, "italic")}


def test_families_text_first_cjk_last(fontset: FontSet) -> None:
    """The book's families, then the fallback faces (styles/fonts/fallback/) after them."""
    assert fontset.families() == (
        TEXT_FAMILY,
        "DejaVu Sans Mono",
        CJK_FAMILY,
        *OTHER_CJK,
        "Noto Emoji",
        "Noto Naskh Arabic",
        "Noto Serif Devanagari",
        "Noto Serif Hebrew",
    )
    assert fontset.main().families() == (TEXT_FAMILY, "DejaVu Sans Mono", CJK_FAMILY, *OTHER_CJK)
    assert fontset.files[0].family == TEXT_FAMILY
    assert (fontset.files[0].weight, fontset.files[0].style) == (400, "normal")


@pytest.mark.parametrize(
    "weight,style", [(400, "normal"), (400, "italic"), (700, "normal"), (700, "italic")]
)
def test_every_text_style_covers_cyrillic_pinyin_punctuation(
    fontset: FontSet, weight: int, style: str
) -> None:
    single = only(fontset, TEXT_FAMILY, weight, style)
    assert single.uncovered(CYRILLIC + PINYIN + PUNCTUATION) == []
    assert single.uncovered("Hēilóng Jiāng, Амур, «Нерчинск»") == []


@pytest.mark.parametrize("weight", [400, 700])
def test_every_gb2312_character_covered_by_each_cjk_weight(fontset: FontSet, weight: int) -> None:
    repertoire = gb2312_repertoire()
    hanzi = [c for c in repertoire if "\u4e00" <= c <= "\u9fff"]
    assert len(repertoire) == 7445 and len(hanzi) == 6763
    single = only(fontset, CJK_FAMILY, weight)
    assert single.uncovered("".join(repertoire)) == []
    assert single.uncovered(CJK_PUNCTUATION) == []
    assert single.uncovered("".join(chr(c) for c in range(0xFF01, 0xFF5F))) == []


def test_folder_has_licences_readme_and_no_collections() -> None:
    files = [p for p in FONTS_DIR.rglob("*") if p.is_file()]
    fonts_found = [p for p in files if p.suffix in (".otf", ".ttf")]
    # 4 text, 4 monospace, 8 CJK (SC, JP, TC, KR); 1 emoji, 2 Devanagari, 2 Arabic, 2 Hebrew
    assert len(fonts_found) == 23
    assert not [p for p in files if p.suffix.lower() in (".ttc", ".otc")]
    assert sum(p.stat().st_size for p in files) < 30_000_000
    assert max(p.stat().st_size for p in fonts_found) < 4_000_000
    readme = (FONTS_DIR / "README.md").read_text(encoding="utf-8")
    for path in fonts_found:
        ofl, other = path.parent / "OFL.txt", path.parent / "LICENSE.txt"
        if ofl.exists():
            assert "SIL OPEN FONT LICENSE Version 1.1" in ofl.read_text(encoding="utf-8")
        else:  # DejaVu: the Bitstream Vera licence
            assert "Bitstream" in other.read_text(encoding="utf-8")
        assert path.relative_to(FONTS_DIR).as_posix() in readme
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest in readme, f"README.md has a stale SHA-256 for {path.name}"


# --- coverage -------------------------------------------------------------------


def test_mixed_text_is_covered(fontset: FontSet) -> None:
    assert fontset.uncovered("黑龙江 Hēilóng Jiāng — река Амур, «Благовещенск» № 3 × 2 …") == []
    assert fontset.covers("黑") and fontset.covers("ǚ") and fontset.covers("ё")


def test_unusual_characters_uncovered(fontset: FontSet) -> None:
    assert fontset.covers("\U0001f600") and fontset.covers("\u0928")  # the fallback faces
    assert not fontset.main().covers("\U0001f600")
    assert not fontset.covers("\U00013000")
    assert not fontset.covers("\U00020000")  # CJK extension B, outside GB 2312


def test_invisible_characters_count_as_covered(fontset: FontSet) -> None:
    for char in "\u200d\u200c\u200b\u00ad\ufe0f\ufe0e\U000e0100\u00a0\u3000\u2009\n\t\u2028\u2060":
        assert fontset.covers(char), f"U+{ord(char):04X}"


def test_uncovered_is_distinct_in_order_of_appearance(fontset: FontSet) -> None:
    text = "a\U00013000b\U0001f600\U00013000c\U0001f600\u200d\U0001f914\U00010900\U00013000"
    assert fontset.uncovered(text) == ["\U00013000", "\U00010900"]
    assert fontset.main().uncovered(text) == [
        "\U00013000",
        "\U0001f600",
        "\U0001f914",
        "\U00010900",
    ]
    assert fontset.uncovered("") == []


def test_covers_takes_one_character(fontset: FontSet) -> None:
    with pytest.raises(ValueError):
        fontset.covers("ab")


# --- loading --------------------------------------------------------------------


def test_file_attributes_come_from_the_font_tables(fontset: FontSet) -> None:
    by_name = {f.path.name: f for f in fontset.files}
    assert by_name["CharisSIL-BoldItalic.ttf"] == FontFile(
        FONTS_DIR.resolve() / "charis-sil" / "CharisSIL-BoldItalic.ttf", TEXT_FAMILY, 700, "italic"
    )
    bold_cjk = by_name["NotoSerifCJKsc-GB2312-Bold.ttf"]
    assert (bold_cjk.family, bold_cjk.weight, bold_cjk.style) == (CJK_FAMILY, 700, "normal")


def test_empty_folder_is_a_build_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("no fonts here")
    with pytest.raises(BuildError):
        load_fonts(tmp_path)


def test_broken_font_is_a_build_error(tmp_path: Path) -> None:
    (tmp_path / "Broken.ttf").write_bytes(b"not a font at all")
    with pytest.raises(BuildError) as caught:
        load_fonts(tmp_path)
    assert "Broken.ttf" in str(caught.value)


def test_cmap_read_once_and_again_after_the_file_changes(tmp_path: Path) -> None:
    copy = tmp_path / "CharisSIL-Regular.ttf"
    shutil.copyfile(FONTS_DIR / "charis-sil" / "CharisSIL-Regular.ttf", copy)
    load_fonts(tmp_path)
    misses = fonts._read_face.cache_info().misses
    load_fonts(tmp_path)
    assert fonts._read_face.cache_info().misses == misses
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    load_fonts(tmp_path)
    assert fonts._read_face.cache_info().misses == misses + 1


def test_load_and_check_50k_characters_is_fast() -> None:
    sample = (
        "The Treaty of Nerchinsk (1689) — «Нерчинский договор» — fixed the border "
        "along the Argun and the Hēilóng Jiāng (黑龙江, Amur). "
    )
    text = (sample * (50_000 // len(sample) + 1))[:50_000]
    fonts._read_face.cache_clear()
    start = time.perf_counter()
    fontset = load_fonts(FONTS_DIR)
    assert fontset.uncovered(text) == []
    cold = time.perf_counter() - start
    assert fonts._read_face.cache_info().misses == len(fontset.files), "a file was read twice"
    start = time.perf_counter()
    load_fonts(FONTS_DIR).uncovered(text)
    warm = time.perf_counter() - start
    assert cold < 1.0, cold
    assert warm < 0.2, warm


# --- CSS ------------------------------------------------------------------------


def test_font_face_css_names_every_file(fontset: FontSet) -> None:
    css = fontset.font_face_css()
    main = fontset.main().files
    # each file of the book's families once, each fallback family as four faces of one family
    assert css.count("@font-face") == len(main) + 4 * len(fontset.fallback_ranges())
    assert css.count('font-family: "Quire Fallback";') == 4 * len(fontset.fallback_ranges())
    for f in fontset.files:
        assert f'url("{f.path.as_uri()}")' in css
        assert f.path.as_uri().startswith("file:///")
    assert f'font-family: "{TEXT_FAMILY}";' in css and f'font-family: "{CJK_FAMILY}";' in css
    kinds = {
        'format("opentype")' if f.path.suffix == ".otf" else 'format("truetype")'
        for f in fontset.files
    }
    assert all(kind in css for kind in kinds)
    assert "font-style: italic;" in css and "font-weight: 700;" in css


def test_weasyprint_draws_with_the_shipped_fonts(fontset: FontSet, tmp_path: Path) -> None:
    weasyprint = pytest.importorskip("weasyprint")
    pikepdf = pytest.importorskip("pikepdf")
    stack = ", ".join(f'"{family}"' for family in fontset.families())
    html = (
        f"<html><head><meta charset='utf-8'><style>{fontset.font_face_css()}"
        f"body {{ font-family: {stack}; }}</style></head><body>"
        "<p>黑龙江 Hēilóng Jiāng Амур</p><p><b>黑龙江 <i>Амур</i></b></p></body></html>"
    )
    target = tmp_path / "fonts.pdf"
    weasyprint.HTML(string=html).write_pdf(target)
    with pikepdf.open(target) as pdf:
        used = {str(font.BaseFont).split("+")[-1] for font in pdf.pages[0].Resources.Font.values()}
    assert {"Charis-SIL", "Charis-SIL-Bold-Italic", "Noto-Serif-CJK-SC"} <= used
    assert "Noto-Serif-CJK-SC-Bold" in used


# --- subsetting -----------------------------------------------------------------

SUBSET_TEXT = "Hēilóng Jiāng 黑龙江 Амур — “Nerchinsk” ǖ…"


@pytest.fixture(scope="module")
def subsets(fontset: FontSet) -> dict[str, bytes]:
    return fontset.subset(SUBSET_TEXT)


def test_subset_has_an_entry_per_file(fontset: FontSet, subsets: dict[str, bytes]) -> None:
    assert set(subsets) == {f.path.name for f in fontset.files}


def test_subset_holds_the_glyphs_and_is_small(fontset: FontSet, subsets: dict[str, bytes]) -> None:
    for f in fontset.files:
        data = subsets[f.path.name]
        font = TTFont(io.BytesIO(data))
        cmap = font.getBestCmap()
        wanted = {ord(c) for c in SUBSET_TEXT} & set(TTFont(f.path, lazy=True).getBestCmap())
        assert wanted and wanted <= set(cmap), f.path.name
        # A tenth of the face at most; of a small one (Hebrew: 31 KB), a few kilobytes.
        assert len(data) * 10 < f.path.stat().st_size or len(data) < 8_000, f.path.name
        original = TTFont(f.path, lazy=True)
        assert font["head"].modified == original["head"].modified
        assert font["head"].created == original["head"].created
        assert font["name"].getDebugName(13), "licence field dropped"
    text_font = TTFont(io.BytesIO(subsets["CharisSIL-Regular.ttf"]))
    assert ord("黑") not in text_font.getBestCmap()
    cjk = TTFont(io.BytesIO(subsets["NotoSerifCJKsc-GB2312-Regular.ttf"]))
    assert {ord(c) for c in "黑龙江"} <= set(cjk.getBestCmap())
    assert len(cjk.getGlyphOrder()) < 200


def test_subset_is_the_same_in_another_process(subsets: dict[str, bytes]) -> None:
    code = (
        "import hashlib, sys; from pathlib import Path; from quire.fonts import load_fonts; "
        f"out = load_fonts(Path({str(FONTS_DIR)!r})).subset({SUBSET_TEXT!r}); "
        "print({k: hashlib.sha256(v).hexdigest() for k, v in sorted(out.items())})"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO, env=env
    )
    expected = {k: hashlib.sha256(v).hexdigest() for k, v in sorted(subsets.items())}
    assert result.stdout.strip() == str(expected)

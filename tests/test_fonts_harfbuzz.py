"""HarfBuzz reads and subsets the fonts: what a subset keeps, and what reading a face finds."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import uharfbuzz as hb
from fontTools.ttLib import TTFont

from quire import fonts
from quire.errors import BuildError
from quire.fonts import FontSet, load_fonts

FONTS_DIR = Path(__file__).resolve().parents[1] / "styles" / "fonts"
CHARIS = FONTS_DIR / "charis-sil" / "CharisSIL-Regular.ttf"
MONO = FONTS_DIR / "dejavu-sans-mono" / "DejaVuSansMono.ttf"
# Latin with ligatures (office, Affix), combining and precomposed marks, Cyrillic, Chinese.
TEXT = "office Affix ǘ ё́ Амур 黑龙江 “Nerchinsk”"
LICENCE_IDS = (0, 13, 14)  # copyright, licence description, licence URL


@pytest.fixture(scope="module")
def fontset() -> FontSet:
    return load_fonts(FONTS_DIR)


def subset_of(fontset: FontSet, text: str) -> dict[str, bytes]:
    """A fresh subset of every file, not one the in-process cache kept."""
    fonts._cached_subset.cache_clear()
    return fontset.subset(text)


def name_records(font: TTFont, ids: tuple[int, ...]) -> set[tuple[int, int, int, int, str]]:
    """The Unicode name records of the given IDs: (id, platform, encoding, language, text).

    Not the Macintosh (platform 1) ones: legacy copies of the same text, which subsets drop
    (so did fontTools').
    """
    return {
        (n.nameID, n.platformID, n.platEncID, n.langID, n.toUnicode())
        for n in font["name"].names
        if n.nameID in ids and n.platformID != 1
    }


def shaped(data: bytes, text: str, features: dict[str, bool]) -> list[tuple[int, tuple]]:
    """What HarfBuzz draws for text with a font: each glyph's advance and outline extents."""
    font = hb.Font(hb.Face(data))
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(font, buffer, features)
    return [
        (pos.x_advance, tuple(font.get_glyph_extents(info.codepoint) or ()))
        for info, pos in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True)
    ]


def test_subset_keeps_the_licence_name_records_of_every_file(fontset: FontSet) -> None:
    subsets = subset_of(fontset, TEXT)
    for f in fontset.files:
        source = name_records(TTFont(f.path, lazy=True), LICENCE_IDS)
        assert {record[0] for record in source} >= {0, 13}, f.path.name
        assert source <= name_records(TTFont(io.BytesIO(subsets[f.path.name])), LICENCE_IDS)


def test_subset_maps_every_wanted_character_and_drops_the_rest(fontset: FontSet) -> None:
    subsets = subset_of(fontset, TEXT)
    for f in fontset.files:
        source = TTFont(f.path, lazy=True).getBestCmap()
        subset = TTFont(io.BytesIO(subsets[f.path.name])).getBestCmap()
        assert set(subset) == ({ord(c) for c in TEXT} | {0x20}) & set(source), f.path.name
    charis = TTFont(io.BytesIO(subsets[CHARIS.name]))
    assert ord("黑") not in charis.getBestCmap() and ord("Z") not in charis.getBestCmap()
    # The characters, their small caps, ligatures and alternates (GSUB closure): not 3,600.
    assert len(charis.getGlyphOrder()) < 100, "glyphs the text does not need were kept"


@pytest.mark.parametrize("features", [{}, {"smcp": True}, {"liga": False}], ids=str)
def test_subset_draws_the_text_as_the_whole_font_does(
    fontset: FontSet, features: dict[str, bool]
) -> None:
    subsets = subset_of(fontset, TEXT)
    for path in (CHARIS, MONO, FONTS_DIR / "noto-serif-cjk-sc" / "NotoSerifCJKsc-GB2312-Bold.ttf"):
        # What the face is asked to draw: the characters it has (a reading system draws the
        # rest with another face).
        text = "".join(c for c in TEXT if FontSet((fonts.FontFile(path, "", 400, ""),)).maps(c))
        whole = shaped(path.read_bytes(), text, features)
        assert shaped(subsets[path.name], text, features) == whole, path.name
    ligatures = shaped(subsets[CHARIS.name], "office", {})
    assert len(ligatures) < len("office"), "the ffi ligature (GSUB liga) was lost"


def test_subset_keeps_hinting_and_notdef_and_the_source_dates(fontset: FontSet) -> None:
    subsets = subset_of(fontset, TEXT)
    source, subset = TTFont(CHARIS, lazy=True), TTFont(io.BytesIO(subsets[CHARIS.name]))
    assert {"fpgm", "prep", "cvt "} <= set(subset.keys())
    assert "Silt" in source and "Silt" not in subset  # a private SIL table, dropped
    assert subset["glyf"][subset.getGlyphOrder()[0]].numberOfContours > 0  # .notdef drawn
    assert (subset["head"].created, subset["head"].modified) == (
        source["head"].created,
        source["head"].modified,
    )


def test_two_subsets_of_the_same_input_are_byte_identical(fontset: FontSet) -> None:
    first = subset_of(fontset, TEXT)
    second = subset_of(fontset, TEXT)
    assert first == second
    assert all(first[name] is not second[name] for name in first), "the cache answered"
    assert subset_of(fontset, TEXT + "Z") != first


def test_faces_read_as_fonttools_reads_them(fontset: FontSet) -> None:
    fonts._read_face.cache_clear()
    for f in fontset.files:
        face = fonts._face(f.path)
        with TTFont(f.path, lazy=True) as font:
            assert face.family == font["name"].getDebugName(16) or font["name"].getDebugName(1)
            assert face.weight == font["OS/2"].usWeightClass
            assert face.codepoints == frozenset(font.getBestCmap())
            assert face.monospaced == bool(font["post"].isFixedPitch)
            assert (face.style == "italic") == bool(font["head"].macStyle & 2)


def test_an_oblique_only_face_is_italic_and_a_face_without_os2_is_regular(
    tmp_path: Path,
) -> None:
    font = TTFont(MONO)
    font["OS/2"].fsSelection = 0x200  # OBLIQUE, not ITALIC
    font["head"].macStyle = 0
    font.save(tmp_path / "Oblique.ttf")
    del font["OS/2"]
    font.save(tmp_path / "NoOS2.ttf")
    faces = {f.path.name: f for f in load_fonts(tmp_path).files}
    assert faces["Oblique.ttf"].style == "italic"
    assert (faces["NoOS2.ttf"].weight, faces["NoOS2.ttf"].style) == (400, "normal")


@pytest.mark.parametrize("damage", ["truncated", "no cmap"])
def test_a_damaged_font_is_a_build_error(tmp_path: Path, damage: str) -> None:
    target = tmp_path / "Damaged.ttf"
    if damage == "truncated":
        target.write_bytes(CHARIS.read_bytes()[:4096])
    else:
        shutil.copyfile(MONO, target)
        font = TTFont(target)
        del font["cmap"]
        font.save(target)
    with pytest.raises(BuildError) as caught:
        load_fonts(tmp_path)
    assert "Damaged.ttf" in str(caught.value)

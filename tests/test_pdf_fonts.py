"""The assembled PDF carries one font program per face, and it draws what each unit drew."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pymupdf
import pytest
from weasyprint import HTML

from quire.render.pdf.shared_fonts import read_subsets, share_font_programs

FONTS = Path(__file__).resolve().parent.parent / "styles" / "fonts" / "charis-sil"
# "office" sets Charis SIL's f_f_i ligature, a composite of its ffi: in a subset whose last
# glyph is f_f_i, HarfBuzz puts that component at another id than the font file has it.
TEXTS = ("office affine", "the quick brown fox jumps over the lazy dog; ÉCOLE façade naïve")


def _programs(pdf: pikepdf.Pdf) -> dict[str, set[tuple[int, int]]]:
    """The font programs each face's font dictionaries point to, by face name."""
    faces: dict[str, set[tuple[int, int]]] = {}
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Subtype") == "/Type0":
            descriptor = obj.DescendantFonts[0].FontDescriptor
            faces.setdefault(str(obj.BaseFont), set()).add(descriptor.FontFile2.objgen)
    return faces


def _joined(*texts_and_fonts: tuple[str, str]) -> pikepdf.Pdf:
    """One PDF of a page per (text, font file): each page laid out on its own, as units are."""
    joined = pikepdf.new()
    for text, font_file in texts_and_fonts:
        url = (FONTS / font_file).as_uri()
        css = f"@font-face {{ font-family: Text; src: url({url}); }} body {{ font: 40px Text; }}"
        unit = pikepdf.open(io.BytesIO(HTML(string=f"<style>{css}</style><p>{text}").write_pdf()))
        joined.pages.extend(unit.pages)
    return joined


def _saved(pdf: pikepdf.Pdf) -> bytes:
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True)
    return buffer.getvalue()


def _pixels(pdf: pikepdf.Pdf) -> list[bytes]:
    document = pymupdf.open(stream=_saved(pdf), filetype="pdf")
    return [page.get_pixmap(dpi=72).samples for page in document]


def test_the_joined_sample_has_one_font_program_per_face(build_case):
    pdf = pikepdf.open(build_case("sample").pdf)
    faces = _programs(pdf)
    dictionaries = sum(
        1
        for obj in pdf.objects
        if isinstance(obj, pikepdf.Dictionary)
        and str(obj.get("/BaseFont", "")).endswith("+Charis-SIL")
    )
    assert dictionaries > 2, (
        "the sample's units should each have a font dictionary of the text face"
    )
    assert {name: len(programs) for name, programs in faces.items()} == dict.fromkeys(faces, 1)


def test_merged_subsets_draw_what_each_unit_drew():
    pdf = _joined(*((text, "CharisSIL-Regular.ttf") for text in TEXTS))
    assert [len(programs) for programs in _programs(pdf).values()] == [2]
    before = _pixels(pdf)
    share_font_programs(pdf)
    assert [len(programs) for programs in _programs(pdf).values()] == [1]
    assert _pixels(pdf) == before


def test_subsets_read_ahead_merge_as_those_read_at_the_end():
    # The join's process reads each unit's subsets as the unit comes (assembly.add_unit).
    texts = [(text, "CharisSIL-Regular.ttf") for text in TEXTS]
    at_the_end, ahead = _joined(*texts), _joined(*texts)
    parsed: dict = {}
    read_subsets(ahead, parsed)
    assert len(parsed) == 2  # one face, two subsets
    share_font_programs(at_the_end)
    share_font_programs(ahead, parsed)
    assert not parsed, "the merge should have taken the subsets read ahead"
    assert _saved(ahead) == _saved(at_the_end)
    assert [len(programs) for programs in _programs(ahead).values()] == [1]


@pytest.mark.parametrize("other", ["CharisSIL-Bold.ttf", "CharisSIL-Italic.ttf"])
def test_subsets_of_different_font_files_are_left_apart(other):
    # Two faces under one name (forced here) disagree at the same glyph ids: not merged.
    pdf = _joined((TEXTS[1], "CharisSIL-Regular.ttf"), (TEXTS[1], other))
    fonts = [
        o
        for o in pdf.objects
        if isinstance(o, pikepdf.Dictionary) and o.get("/Subtype") == "/Type0"
    ]
    for font in fonts:
        font.BaseFont = fonts[0].BaseFont
        font.DescendantFonts[0].BaseFont = fonts[0].BaseFont
    before = _pixels(pdf)
    share_font_programs(pdf)
    assert [len(programs) for programs in _programs(pdf).values()] == [2]
    assert _pixels(pdf) == before

"""The print kit: the PDF/X-4 interior, the full-wrap cover, and the printer's preflight.

The interior and cover of the cases `press-kdp` (ISBN barcode, cream paper) and `press-ingram`
(bleed, back-cover.md, white paper) are read back with pikepdf and PyMuPDF; the cover's barcode is
read with zbar. Each preflight rule is broken on purpose by a folder in tests/preflight/.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pikepdf
import pymupdf
import pytest
import yaml
from conftest import build_with_check, require_tool
from PIL import Image

from quire.errors import BuildError
from quire.load import load as load_book
from quire.load.config import BookConfig, Trim
from quire.parse import pandoc
from quire.press.cover import cover_pdf, wrap_for
from quire.press.isbn import book_isbn
from quire.press.preflight import preflight_cover, preflight_interior, trim_rect
from quire.press.profiles import KDP, PROFILES
from quire.render.pdf.layout import (
    BASE_MARGINS,
    FOLIO_REACH,
    HEAD_REACH,
    INSIDE_MARGIN,
    fitted_gutter,
    page_css,
    printer_margins,
)
from quire.transform import transform

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"
PREFLIGHT = Path(__file__).resolve().parent / "preflight"
EXAMPLE_ISBN = "9780306406157"  # the well-known example ISBN of the press-kdp case


def kit(built) -> tuple[Path, Path]:
    """The interior and cover written beside a case's reading PDF."""
    stem = built.pdf.stem
    return built.pdf.with_name(f"{stem}-interior.pdf"), built.pdf.with_name(f"{stem}-cover.pdf")


@pytest.fixture(scope="module")
def kdp(build_case):
    return build_case("press-kdp")


@pytest.fixture(scope="module")
def ingram(build_case):
    return build_case("press-ingram")


@pytest.fixture(scope="module")
def kdp_book():
    """The press-kdp case as a transformed Book, to lay covers out at any page count."""
    loaded = load_book(CASES / "press-kdp")
    return transform(loaded, pandoc.parse_all(loaded.files))


def box(page: pikepdf.Page, name: str) -> list[float]:
    return [float(v) for v in page.obj[name]]


# ---------- the profiles ----------


def test_kdp_profile_has_kdps_published_figures():
    assert KDP.paper_per_page == {"white": 0.002252, "cream": 0.0025, "colour": 0.002347}
    assert [KDP.inside_margin(n) for n in (24, 150, 151, 300, 301, 500, 501, 700, 701, 828)] == [
        0.375, 0.375, 0.5, 0.5, 0.625, 0.625, 0.75, 0.75, 0.875, 0.875,
    ]  # fmt: skip
    assert KDP.spine_width(200, "white") == pytest.approx(0.4504)
    assert (KDP.min_pages, KDP.max_pages, KDP.spine_text_pages, KDP.bleed) == (24, 828, 79, 0.125)
    assert KDP.has_trim(6, 9) and KDP.has_trim(5.5, 8.5) and not KDP.has_trim(7, 7)
    assert PROFILES["ingramspark"].has_trim(148 / 25.4, 210 / 25.4)  # A5, listed as 5.83 × 8.27


def test_an_epub_only_build_makes_no_print_kit(tmp_path):
    from quire.pipeline import build

    written = build(CASES / "press-kdp", tmp_path, ("epub",), lambda *a: None)
    assert [w.format for w in written] == ["epub"]
    outputs = [p for p in tmp_path.iterdir() if p.is_file() and p.name != ".quire-manifest.json"]
    assert sorted(p.suffix for p in outputs) == [".epub"]


# ---------- the interior ----------


@pytest.mark.parametrize("name", ["kdp", "ingram"])
def test_interior_is_pdf_x_4(name, request):
    interior, _cover = kit(request.getfixturevalue(name))
    with pikepdf.open(interior) as pdf:
        assert pdf.pdf_version <= "1.6"
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFX"
        assert str(intent.OutputConditionIdentifier) == "CGATS TR 006"
        icc = intent.DestOutputProfile.read_bytes()
        assert icc[36:40] == b"acsp" and icc[12:16] == b"prtr" and icc[16:20] == b"CMYK"
        assert intent.DestOutputProfile.N == 4
        assert str(pdf.docinfo["/GTS_PDFXVersion"]) == "PDF/X-4"
        assert pdf.docinfo["/Trapped"] == "/False"
        with pdf.open_metadata() as meta:
            assert meta["pdfxid:GTS_PDFXVersion"] == "PDF/X-4"
            assert "pdfuaid:part" not in meta  # the tags are gone, so it no longer claims UA
        assert "/StructTreeRoot" not in pdf.Root
        for page in pdf.pages:
            assert "/Annots" not in page.obj
            trim, bleed, media = (
                box(page, "/TrimBox"),
                box(page, "/BleedBox"),
                box(page, "/MediaBox"),
            )
            assert media[0] <= bleed[0] <= trim[0] and trim[2] <= bleed[2] <= media[2]
            assert "/DefaultRGB" in page.Resources.ColorSpace  # RGB has an ICC meaning


def test_interior_passes_qpdfs_structure_check(kdp):
    interior, cover = kit(kdp)
    for path in (interior, cover):
        with pikepdf.open(path) as pdf:
            assert pdf.check_pdf_syntax() == []


def test_interior_has_the_reading_pdfs_pages(kdp):
    interior, _cover = kit(kdp)
    with pymupdf.open(kdp.pdf) as reading, pymupdf.open(interior) as printed:
        assert printed.page_count == reading.page_count
        for a, b in zip(reading, printed, strict=True):
            assert a.get_text() == b.get_text()
        assert any(page.get_links() for page in reading)  # links in the reading edition only
        assert not any(page.get_links() for page in printed)


def test_interior_bleeds_on_three_sides(ingram):
    interior, _cover = kit(ingram)
    with pikepdf.open(interior) as pdf:
        for index, page in enumerate(pdf.pages):
            trim, media = box(page, "/TrimBox"), box(page, "/MediaBox")
            assert trim[2] - trim[0] == pytest.approx(6 * 72)
            assert (trim[1] - media[1], media[3] - trim[3]) == pytest.approx((9, 9))
            spine, outside = (trim[0] - media[0], media[2] - trim[2])
            if index % 2:  # a verso: the spine is on its right
                spine, outside = outside, spine
            assert (spine, outside) == pytest.approx((0, 9)), f"page {index + 1}"


def test_no_printer_no_print_kit(build_case):
    sample = build_case("sample")
    assert not list(sample.pdf.parent.glob("*-interior.pdf"))
    assert not list(sample.pdf.parent.glob("*-cover.pdf"))


# ---------- the cover ----------


@pytest.mark.parametrize("pages", [80, 212, 436])
@pytest.mark.parametrize("paper", ["white", "cream"])
def test_cover_size_is_the_formula(kdp_book, pages, paper):
    book = replace(kdp_book, config=replace(kdp_book.config, paper=paper))
    with pymupdf.open(stream=cover_pdf(book, wrap_for(book, pages))) as doc:
        page = doc[0]
        spine = pages * {"white": 0.002252, "cream": 0.0025}[paper]
        assert page.mediabox.width / 72 == pytest.approx(
            0.125 + 5.5 + spine + 5.5 + 0.125, abs=1e-3
        )
        assert page.mediabox.height / 72 == pytest.approx(8.5 + 2 * 0.125, abs=1e-3)
        assert page.trimbox.width / 72 == pytest.approx(5.5 + spine + 5.5, abs=1e-3)


def spine_words(page: pymupdf.Page, trim_width: float, spine: float) -> list[tuple]:
    """The words whose boxes touch the spine (between the two folds)."""
    left = trim_rect(page).x0 + trim_width * 72
    return [w for w in page.get_text("words") if w[2] > left and w[0] < left + spine * 72]


def test_spine_text_sits_inside_the_spine(kdp_book):
    wrap = wrap_for(kdp_book, 240)
    with pymupdf.open(stream=cover_pdf(kdp_book, wrap)) as doc:
        page = doc[0]
        words = spine_words(page, 5.5, wrap.spine)
        assert [w[4] for w in words][:2] == ["Twelve", "Harbours"]
        assert {"Nell", "Tarrant", "Lantern", "Row", "Books"} <= {w[4] for w in words}
        trim = trim_rect(page)
        left = trim.x0 + (5.5 + KDP.spine_clearance) * 72
        right = trim.x0 + (5.5 + wrap.spine - KDP.spine_clearance) * 72
        for x0, y0, x1, y1, word, *_ in words:
            assert left <= x0 and x1 <= right, word  # clear of both folds
            assert trim.y0 < y0 and y1 < trim.y1, word
        lines = [
            line
            for block in page.get_text("dict")["blocks"]
            for line in block.get("lines", [])
            if left <= line["bbox"][0] and line["bbox"][2] <= right
        ]
        assert lines[0]["dir"] == pytest.approx((0, 1))  # rotated to read top to bottom


@pytest.mark.parametrize(("pages", "has_text"), [(78, False), (79, True)])
def test_spine_text_only_from_the_threshold(kdp_book, pages, has_text):
    wrap = wrap_for(kdp_book, pages)
    with pymupdf.open(stream=cover_pdf(kdp_book, wrap)) as doc:
        assert bool(spine_words(doc[0], 5.5, wrap.spine)) is has_text


def test_the_built_cover_has_no_spine_text_under_the_threshold(kdp):
    _interior, cover = kit(kdp)
    with pymupdf.open(cover) as doc, pymupdf.open(kdp.pdf) as reading:
        assert reading.page_count < KDP.spine_text_pages
        spine = KDP.spine_width(reading.page_count, "cream")
        assert doc[0].mediabox.width / 72 == pytest.approx(11.25 + spine, abs=1e-3)
        assert not spine_words(doc[0], 5.5, spine)


def test_barcode_reads_back_as_the_isbn(kdp):
    try:
        from pyzbar.pyzbar import decode
    except ImportError:  # pyzbar loads Debian's libzbar0 when imported
        decode = None
    require_tool(decode is not None, "zbar", "apt-get install libzbar0")

    _interior, cover = kit(kdp)
    with pymupdf.open(cover) as doc:
        back = pymupdf.Rect(0, 0, (0.125 + 5.5) * 72, doc[0].rect.height)
        png = doc[0].get_pixmap(dpi=400, clip=back).tobytes("png")
        assert "ISBN 978-0-306-40615-7" in doc[0].get_text()  # hyphenated as book.yaml has it
    found = decode(Image.open(io.BytesIO(png)))
    assert [(f.type, f.data.decode()) for f in found] == [("EAN13", EXAMPLE_ISBN)]


def test_barcode_box_is_where_the_printer_wants_it(ingram):
    _interior, cover = kit(ingram)
    with pymupdf.open(cover) as doc:
        page = doc[0]
        boxes = [d["rect"] for d in page.get_drawings() if d.get("fill") == (1.0, 1.0, 1.0)]
        trim = trim_rect(page)
    width, height = PROFILES["ingramspark"].barcode_box
    (white,) = [b for b in boxes if b.width == pytest.approx(width * 72, abs=0.5)]
    assert white.height == pytest.approx(height * 72, abs=0.5)
    assert trim.x0 + 6 * 72 - white.x1 == pytest.approx(0.25 * 72, abs=0.5)  # from the spine
    assert trim.y1 - white.y1 == pytest.approx(0.25 * 72, abs=0.5)  # from the bottom trim


def cover_with_image(book, folder: Path, size: tuple[int, int]):
    """The book with a plain cover image of this many pixels, kept in `folder`."""
    from quire.images import Asset

    path = folder / "cover.png"
    Image.new("RGB", size, (24, 70, 60)).save(path)
    return replace(book, root=folder, cover=Asset(path, "images/cover.png", "image/png", *size))


def test_front_image_fills_the_front_and_its_bleed(kdp_book, tmp_path):
    book = cover_with_image(kdp_book, tmp_path, (1700, 2700))  # over 300 dpi at 5.625 × 8.75 in
    wrap = wrap_for(book, 100)
    with pymupdf.open(stream=cover_pdf(book, wrap)) as doc:
        page = doc[0]
        (image,) = page.get_image_info()
        front_left = trim_rect(page).x0 + (5.5 + wrap.spine) * 72
        sheet = page.rect
    x0, y0, x1, y1 = image["bbox"]
    assert x0 <= front_left + 1 and x1 >= sheet.x1 - 1  # to the outer edge of the bleed
    assert y0 <= sheet.y0 + 1 and y1 >= sheet.y1 - 1


def test_a_long_title_is_set_to_fit_the_spine(kdp_book):
    title = "The Extraordinarily Long and Winding Account of Twelve Small Harbours on the Coast"
    book = replace(kdp_book, config=replace(kdp_book.config, title=title))
    wrap = wrap_for(book, 120)
    with pymupdf.open(stream=cover_pdf(book, wrap)) as doc:
        page = doc[0]
        words = spine_words(page, 5.5, wrap.spine)
        trim = trim_rect(page)
    assert " ".join(w[4] for w in words).startswith(title)
    assert all(trim.y0 + 9 <= w[1] and w[3] <= trim.y1 - 9 for w in words)  # 0.125 in safe


def test_the_cover_is_the_same_bytes_every_time(kdp_book):
    wrap = wrap_for(kdp_book, 100)
    assert cover_pdf(kdp_book, wrap) == cover_pdf(kdp_book, wrap)


def test_back_cover_text_comes_from_back_cover_md(ingram):
    _interior, cover = kit(ingram)
    with pymupdf.open(cover) as doc:
        page = doc[0]
        back = pymupdf.Rect(0, 0, trim_rect(page).x0 + 6 * 72, page.rect.height)
        text = " ".join(page.get_text("text", clip=back).split())
    assert "A year among the apple trees" in text and "The Orchard Year follows" in text
    assert "A year in an old orchard" not in text  # the description is not used then


@pytest.mark.expect_warnings
def test_a_small_cover_image_is_warned_about(kdp_book, tmp_path, caplog):
    book = cover_with_image(kdp_book, tmp_path, (1600, 2560))
    cover_pdf(book, wrap_for(book, 100))
    # 1600 px over the 5.5 in front and its 0.125 in bleed: 284 dpi.
    assert any("1600×2560 px, 284 dpi" in r.getMessage() for r in caplog.records)


# ---------- ISBNs ----------


@pytest.mark.parametrize(
    ("identifier", "isbn"),
    [
        ("urn:isbn:978-0-306-40615-7", EXAMPLE_ISBN),
        ("isbn:0-306-40615-2", EXAMPLE_ISBN),  # the same book's ISBN-10
        ("978 0 306 40615 7", EXAMPLE_ISBN),
        ("urn:uuid:a1c28109-a58c-4654-a8a9-8bfe0d9f5744", None),
    ],
)
def test_isbn_from_the_identifier(identifier, isbn):
    assert book_isbn(BookConfig(identifier=identifier)) == isbn


@pytest.mark.parametrize(
    ("identifier", "needle"),
    [
        ("urn:isbn:978-0-306-40615-8", "check digit should be 7, not 8"),
        ("isbn:0-306-40615-3", "check digit should be 2, not 3"),
        ("urn:isbn:978-0-306-4061", "is not an ISBN"),
    ],
)
def test_a_wrong_isbn_is_refused(identifier, needle):
    config = BookConfig(identifier=identifier, lines=(("identifier", 4),))
    with pytest.raises(BuildError) as raised:
        book_isbn(config)
    assert needle in str(raised.value) and "book.yaml:4: `identifier`" in str(raised.value)


# ---------- the printer's preflight (--check) ----------


def test_preflight_catches_a_file_that_is_not_pdf_x(kdp):
    report = preflight_interior(kdp.pdf, Trim(5.5, 8.5), 0.0, "kdp")  # the reading PDF
    assert [f.code for f in report.findings if f.severity == "error"] == ["PDFX"]


def test_preflight_catches_a_cover_for_another_page_count(kdp):
    _interior, cover = kit(kdp)
    report = preflight_cover(cover, Trim(5.5, 8.5), 200, "cream", "kdp")
    (error,) = [f for f in report.findings if f.severity == "error"]
    assert error.code == "COVER-SIZE" and "200 pages of cream paper" in error.text


def test_check_passes_a_book_made_for_kdp(tmp_path):
    proc = build_with_check(CASES / "press-kdp", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    codes = re.findall(r"preflight (\w+) (\S+) \S+-(interior|cover)\.pdf", proc.stdout)
    assert {severity for severity, _code, _file in codes} == {"INFO"}
    assert {code for _s, code, file in codes if file == "interior"} >= {
        "TRIM", "PAGE-COUNT", "PAGE-SIZE", "MARGIN", "FONTS", "IMAGE-DPI", "PDFX",
    }  # fmt: skip
    assert {code for _s, code, file in codes if file == "cover"} >= {
        "COVER-SIZE", "SPINE-TEXT", "FONTS", "PDFX",
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(p.parent.name for p in PREFLIGHT.glob("*/expect.yaml")))
def test_check_catches_each_broken_rule(name, tmp_path):
    expect = yaml.safe_load((PREFLIGHT / name / "expect.yaml").read_text())
    proc = build_with_check(PREFLIGHT / name, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for pattern in expect["findings"]:
        assert re.search(pattern, proc.stdout), f"{pattern!r} not in:\n{proc.stdout}"


# ---------- a layout made for the printer ----------


def test_page_css_without_a_printer_is_unchanged(kdp_book):
    book = replace(kdp_book, config=replace(kdp_book.config, printer=None, bleed=0.125))
    assert page_css(book, 0.375) == (
        "@page { size: 5.5in 8.5in; }\n"
        "@page :left { margin-right: 0.875in; }\n"
        "@page :right { margin-left: 0.875in; }\n"
        "@page { bleed: 0.125in; }"
    )


@pytest.mark.parametrize(
    ("printer", "bleed", "least"),
    [("ingramspark", 0.0, 0.5), ("ingramspark", 0.125, 0.5), ("kdp", 0.0, 0.25),
     ("kdp", 0.125, 0.375)],
)  # fmt: skip
def test_printer_margins_are_the_profiles(kdp_book, printer, bleed, least):
    config = replace(kdp_book.config, printer=printer, bleed=bleed)
    top, outside, bottom = printer_margins(config, bleed)
    # Each margin is print.css's, raised only as far as the heads and folios need.
    assert top == max(BASE_MARGINS[0], least + HEAD_REACH)
    assert outside == max(BASE_MARGINS[1], least)
    assert bottom == max(BASE_MARGINS[2], least + FOLIO_REACH)
    css = page_css(replace(kdp_book, config=config), 0.375)
    assert f"margin-top: {top:g}in; margin-bottom: {bottom:g}in;" in css


def test_the_gutter_meets_the_printers_inside_minimum(kdp_book):
    config = replace(kdp_book.config, printer="kdp", gutter=0.0)
    assert INSIDE_MARGIN + fitted_gutter(config, 600) == KDP.inside_margin(600) == 0.75
    assert fitted_gutter(replace(config, printer=None), 600) == 0.0  # no printer: the setting


def margin_errors(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stdout.splitlines() if "ERROR MARGIN" in line]


def test_check_keeps_ingramsparks_margins_with_bleed(tmp_path):
    proc = build_with_check(CASES / "press-ingram", tmp_path)
    assert "preflight INFO MARGIN" in proc.stdout, proc.stdout + proc.stderr
    assert margin_errors(proc) == []


def test_check_keeps_kdps_margins_with_bleed(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(CASES / "press-kdp", book)
    with (book / "book.yaml").open("a") as stream:
        stream.write("bleed: 0.125in\n")  # KDP's bottom minimum grows to 0.375 in
    proc = build_with_check(book, tmp_path / "out")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "KDP Print: bottom margin at least 0.375 in: kept" in proc.stdout
    assert margin_errors(proc) == []

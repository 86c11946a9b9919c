"""Right-to-left books (issue 25): tests/cases/arabic-rtl, an Arabic book written for the
project, in print, EPUB and on the web.

Its PDF is bound on the right (the gutter on the recto's right, the running heads at the outside,
/Direction /R2L), its Arabic is set in the shipped Naskh face with its letters joined in MuPDF
and PDFium alike, and its pages draw alike in four engines; its EPUB reads right to left and
passes EPUBCheck and Ace; its web pages set dir and axe finds nothing on them in Chromium.
"""

# ruff: noqa: F811 - `browser` is a fixture imported from web_site
from __future__ import annotations

import io
import logging
import re
import shutil
import zipfile
from collections import deque
from pathlib import Path
from types import SimpleNamespace

import lxml.html
import numpy as np
import pikepdf
import pymupdf
import pypdfium2
import pytest
import yaml
from conftest import CASES_DIR
from PIL import Image
from render_engines import disagreements
from test_validators import require_ace
from web_site import browser, reading_order, serve_folder  # noqa: F401

from quire.pipeline import build
from quire.validate import run_ace, run_epubcheck

CASE = CASES_DIR / "arabic-rtl"
INCH = 72.0
OUTSIDE = 0.625 * INCH  # print.css's outside margin
HEADING = "العجين"  # the first chapter's title: ا, then ل ع ج ي ن joined in one stroke
DPI = 200
BODY_SHARE = 0.05  # an ink component this share of the word's ink is a letter's body, not a dot


@pytest.fixture(scope="module")
def rtl(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The Arabic case built once in all three formats, with what the build warned about."""
    out = tmp_path_factory.mktemp("rtl")
    warned: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warned.append(record.getMessage())
    logging.getLogger("quire").addHandler(handler)
    try:
        written = build(CASE, out, ("pdf", "epub", "html"), lambda *a: None)
    finally:
        logging.getLogger("quire").removeHandler(handler)
    # A letter no shipped face has would be a warning (and a box on the page).
    assert warned == [], warned
    paths = {w.format: w.path for w in written}
    expect = yaml.safe_load((CASE / "expect.yaml").read_text(encoding="utf-8"))
    return SimpleNamespace(pdf=paths["pdf"], epub=paths["epub"], site=paths["html"], expect=expect)


def test_direction_comes_from_dir_or_from_the_language() -> None:
    from quire.language.scripts import direction

    cases = {
        ("ar", None): "rtl",
        ("he-IL", None): "rtl",
        ("fa", None): "rtl",
        ("ur", None): "rtl",
        ("az-Arab", None): "rtl",
        ("ku-Latn", None): "ltr",
        ("en", None): "ltr",
        (None, None): "ltr",
        ("en", "rtl"): "rtl",
        ("ar", "ltr"): "ltr",
    }
    for (lang, chosen), wanted in cases.items():
        assert direction(SimpleNamespace(lang=lang, dir=chosen)) == wanted, (lang, chosen)


def _first_body_page(pdf: Path) -> int:
    """The index of the page labelled arabic 1: the first chapter's opening, a recto."""
    with pymupdf.open(pdf) as doc:
        return next(i for i, page in enumerate(doc) if page.get_label() == "1")


def _lines(page: pymupdf.Page) -> list[tuple[float, float, float, float]]:
    """The bounding boxes of the text lines of a page's body (running heads and folios out)."""
    height = page.rect.height
    return [
        line["bbox"]
        for block in page.get_text("dict")["blocks"]
        for line in block.get("lines", ())
        if INCH < line["bbox"][1] < height - INCH
    ]


def test_the_recto_has_its_gutter_on_the_right_and_the_verso_on_the_left(rtl) -> None:
    """Bound on the right: the recto's inside margin (the wider one) is its right one, the
    verso's its left one; and no line runs into a margin (WeasyPrint set justified
    right-to-left lines a few points too wide)."""
    first = _first_body_page(rtl.pdf)
    with pymupdf.open(rtl.pdf) as doc:
        for index, gutter_side in ((first, "right"), (first + 1, "left")):
            page = doc[index]
            lines = _lines(page)
            left = min(b[0] for b in lines)
            right = page.rect.width - max(b[2] for b in lines)
            assert abs(min(left, right) - OUTSIDE) < 1.5, (index, left, right)
            wider = "right" if right > left + 0.1 * INCH else "left" if left > right else None
            assert wider == gutter_side, (index, left, right)


def test_running_heads_stand_at_the_outside(rtl) -> None:
    """The verso's head (the book's title) at its right, the outside of a right-bound verso."""
    first = _first_body_page(rtl.pdf)
    with pymupdf.open(rtl.pdf) as doc:
        page = doc[first + 1]
        heads = [
            s
            for b in page.get_text("dict")["blocks"]
            for line in b.get("lines", ())
            for s in line["spans"]
            if s["bbox"][3] < INCH and s["text"].strip()
        ]
        width = page.rect.width
    assert [s["text"].strip() for s in heads] == [rtl.expect["title"]]
    assert heads[0]["bbox"][0] > width / 2, heads[0]["bbox"]


def test_the_pdf_reads_right_to_left_with_labels_and_outline_in_order(rtl) -> None:
    with pikepdf.open(rtl.pdf) as pdf:
        assert pdf.Root.ViewerPreferences.Direction == pikepdf.Name.R2L
    with pymupdf.open(rtl.pdf) as doc:
        labels = [page.get_label() for page in doc]
        outline = [(title, page) for level, title, page in doc.get_toc() if level == 1]
    first = labels.index("1")
    assert labels[first:] == [str(n) for n in range(1, len(labels) - first + 1)]
    assert all(re.fullmatch(r"[ivxl]+", label) for label in labels[:first]), labels
    chapters = [(title, page) for title, page in outline if title in rtl.expect["chapters"]]
    assert [title for title, _ in chapters] == rtl.expect["chapters"]
    pages = [page for _, page in chapters]
    assert pages == sorted(pages) and pages[0] == first + 1, outline


def test_the_one_document_layout_is_bound_on_the_right_too(monkeypatch, tmp_path: Path) -> None:
    """QUIRE_PDF_LAYOUT=single, the reference layout, mirrors its pages and says R2L as well."""
    monkeypatch.setenv("QUIRE_PDF_LAYOUT", "single")
    (written,) = build(CASE, tmp_path, ("pdf",), lambda *a: None)
    with pikepdf.open(written.path) as pdf:
        assert pdf.Root.ViewerPreferences.Direction == pikepdf.Name.R2L
    with pymupdf.open(written.path) as doc:
        page = doc[_first_body_page(written.path)]
        lines = _lines(page)
        left, right = min(b[0] for b in lines), page.rect.width - max(b[2] for b in lines)
    assert right > left + 0.1 * INCH, (left, right)


def _letter_bodies(ink: np.ndarray) -> int:
    """The connected shapes of ink in an image that are more than a dot (8-connected)."""
    mask = ink > 0.5
    seen = np.zeros_like(mask)
    sizes = []
    rows, cols = mask.shape
    for y, x in zip(*np.nonzero(mask), strict=True):
        if seen[y, x]:
            continue
        queue, size = deque([(y, x)]), 0
        seen[y, x] = True
        while queue:
            a, b = queue.popleft()
            size += 1
            for yy in range(max(a - 1, 0), min(a + 2, rows)):
                for xx in range(max(b - 1, 0), min(b + 2, cols)):
                    if mask[yy, xx] and not seen[yy, xx]:
                        seen[yy, xx] = True
                        queue.append((yy, xx))
        sizes.append(size)
    return sum(1 for size in sizes if size > BODY_SHARE * sum(sizes))


def test_arabic_letters_are_joined_in_mupdf_and_pdfium(rtl) -> None:
    """The chapter title is drawn as two shapes (ا and the joined لعجين) plus dots in both
    engines; the letters' isolated forms, unshaped, would be six."""
    index = _first_body_page(rtl.pdf)
    with pymupdf.open(rtl.pdf) as doc:
        page = doc[index]
        spans = [
            s
            for b in page.get_text("dict")["blocks"]
            for line in b.get("lines", ())
            for s in line["spans"]
            if s["text"].strip() == HEADING
        ]
        bbox = max(spans, key=lambda s: s["size"])["bbox"]  # the title, not a word of the text
        fonts = {f[3].split("+", 1)[-1] for f in page.get_fonts()}
        mupdf = page.get_pixmap(dpi=DPI, colorspace=pymupdf.csGRAY).pil_image()
    assert any(name.startswith("Quire-Fallback") for name in fonts), fonts
    pdfium_doc = pypdfium2.PdfDocument(str(rtl.pdf))
    try:
        pdfium = pdfium_doc[index].render(scale=DPI / 72, grayscale=True).to_pil()
    finally:
        pdfium_doc.close()
    x0, y0, x1, y1 = (round(v * DPI / 72) for v in bbox)
    for engine, image in (("mupdf", mupdf), ("pdfium", pdfium)):
        ink = 1.0 - np.asarray(image.convert("L"), dtype=np.float32)[y0:y1, x0:x1] / 255.0
        assert _letter_bodies(ink) == 2, engine


def test_the_drawn_cover_sets_the_arabic_title_joined(rtl) -> None:
    """The EPUB's drawn cover sets دفتر الخبّازة in the Naskh face, shaped: six letter shapes
    (د فتر ا لخبا ز ة) and their dots, where Charis SIL drew twelve boxes."""
    with zipfile.ZipFile(rtl.epub) as epub:
        cover = Image.open(io.BytesIO(epub.read("EPUB/images/cover.png"))).convert("L")
    light = np.asarray(cover.resize((400, 640)), dtype=np.float32) / 255.0  # light on dark
    assert _letter_bodies(light[120:220, 40:360]) == 6


def test_engines_draw_the_pages_alike(rtl) -> None:
    found = disagreements(rtl.pdf)
    assert not found, "\n".join(str(d) for d in found[:20])


def test_every_epub_document_runs_right_to_left(rtl) -> None:
    with zipfile.ZipFile(rtl.epub) as epub:
        opf = epub.read("EPUB/package.opf").decode()
        documents = [n for n in epub.namelist() if n.endswith(".xhtml")]
        roots = {n: re.search(r"<html[^>]*>", epub.read(n).decode()).group() for n in documents}
    assert 'page-progression-direction="rtl"' in opf
    assert all('dir="rtl"' in root for root in roots.values()), roots


def test_the_epub_passes_epubcheck_and_ace(rtl) -> None:
    report = run_epubcheck(rtl.epub)
    assert [report.count(s) for s in ("fatal", "error", "warning")] == [0, 0, 0], [
        str(f) for f in report.findings
    ]
    require_ace()
    findings = list(run_ace(rtl.epub).findings)
    assert not findings, "\n".join(str(f) for f in findings)


def test_an_epub_with_embedded_fonts_carries_the_arabic_face(tmp_path: Path) -> None:
    """With embed-fonts, the Naskh face is embedded (subset) for the Arabic text: the monospaced
    face has Arabic letters too, but prose never takes them from it."""
    book = tmp_path / "book"
    shutil.copytree(CASE, book)
    with (book / "book.yaml").open("a", encoding="utf-8") as settings:
        settings.write("embed-fonts: true\n")
    written = build(book, tmp_path / "out", ("epub",), lambda *a: None)
    epub = next(w.path for w in written if w.format == "epub")
    with zipfile.ZipFile(epub) as archive:
        names = archive.namelist()
        css = archive.read("EPUB/styles/fonts.css").decode()
    assert "EPUB/fonts/NotoNaskhArabic-Regular.ttf" in names, names
    assert re.search(r'"Quire Fallback";\s*src: url\("\.\./fonts/NotoNaskhArabic', css), css


def test_web_pages_run_right_to_left_and_carry_the_arabic_face(rtl) -> None:
    pages = reading_order(rtl.site)
    for name in pages:
        root = lxml.html.parse(str(rtl.site / name)).getroot()
        assert root.get("dir") == "rtl" and root.get("lang") == "ar", name
    assert sorted(p.name for p in (rtl.site / "fonts").glob("NotoNaskhArabic-*.woff2"))
    assert "Quire Fallback" in (rtl.site / "fonts.css").read_text(encoding="utf-8")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation_on_the_web_pages(rtl, browser, scheme) -> None:
    axe_api = pytest.importorskip("axe_playwright_python.sync_playwright")
    server, base = serve_folder(rtl.site)
    found = {}
    try:
        page = browser.new_page(color_scheme=scheme)
        axe = axe_api.Axe()
        for name in reading_order(rtl.site):
            page.goto(base + name, wait_until="networkidle")
            result = axe.run(page)
            if result.violations_count:
                found[name] = result.generate_report()
        page.close()
    finally:
        server.shutdown()
        server.server_close()
    assert not found, "\n".join(f"{p}:\n{r}" for p, r in found.items())


def test_inline_code_runs_left_to_right_in_arabic_text(tmp_path: Path) -> None:
    """`ls -l /tmp;` inside Arabic text keeps its semicolon at its end: print sets the code
    apart with Unicode's isolates, the EPUB and the web edition give it dir="ltr" (without,
    the bidi algorithm puts the semicolon at the code's left, where the Arabic resumes)."""
    book = tmp_path / "book.md"
    book.write_text(
        "---\ntitle: أوامر\nlang: ar\n---\n\n# الأوامر\n\nاكتب الأمر `ls -l /tmp;` ثم اضغط.\n",
        encoding="utf-8",
    )
    written = {w.format: w.path for w in build(book, tmp_path / "out", ("pdf", "epub", "html"),
                                                lambda *a: None)}  # fmt: skip
    with pymupdf.open(written["pdf"]) as doc:
        chars = [
            (c["c"], c["origin"][0])
            for page in doc
            for block in page.get_text("rawdict")["blocks"]
            for line in block.get("lines", ())
            for span in line["spans"]
            for c in span["chars"]
        ]
    x = {c: at for c, at in chars if c in ";p"}
    assert x[";"] > x["p"], chars
    assert '<code dir="ltr">ls -l /tmp;</code>' in _epub_text(written["epub"])
    pages = " ".join(p.read_text(encoding="utf-8") for p in written["html"].glob("*.html"))
    assert '<code dir="ltr">ls -l /tmp;</code>' in pages


def _epub_text(epub: Path) -> str:
    with zipfile.ZipFile(epub) as archive:
        return " ".join(
            archive.read(n).decode() for n in archive.namelist() if n.startswith("EPUB/text/")
        )


# ---------- Script rules: the search index splits Chinese into words ----------


@pytest.mark.expect_warnings  # the case's own build, with whatever the load stage says of it
def test_search_finds_a_two_character_chinese_word(browser, tmp_path: Path) -> None:
    """冲突 ("conflict") stands inside a run of hanzi (发生过冲突。): Pagefind finds it only when
    it splits Chinese into words (pagefind-bin-extended); the plain binary indexes the run whole."""
    written = build(CASES_DIR / "chinese-single-file", tmp_path, ("html",), lambda *a: None)
    site = next(w.path for w in written if w.format == "html")
    server, base = serve_folder(site)
    try:
        page = browser.new_page()
        page.goto(base + "index.html", wait_until="networkidle")
        found = page.evaluate(
            """async (word) => {
                const pagefind = await import('./pagefind/pagefind.js');
                const search = await pagefind.search(word);
                return Promise.all(search.results.map(async (r) => (await r.data()).url));
            }""",
            "冲突",
        )
        page.close()
    finally:
        server.shutdown()
        server.server_close()
    assert [url.rsplit("/", 1)[-1] for url in found] == ["02-section.html"], found


# ---------- Script rules: quotation marks as the language writes them ----------

QUOTED = "Sie sagte \"Guten Tag, 'mein' Freund\" und ging."


def _quoted_book(folder: Path, lang: str) -> Path:
    """A one-chapter book in `lang` whose paragraph quotes, with a quote inside."""
    folder.mkdir()
    book = folder / "book.md"
    book.write_text(f"---\ntitle: Q\nlang: {lang}\n---\n\n# Q\n\n{QUOTED}\n", encoding="utf-8")
    return book


def _epub_paragraph(epub: Path) -> str:
    return re.search(r"Sie sagte[^<]*", _epub_text(epub)).group()


def test_quotes_are_the_languages_own_in_every_output(tmp_path: Path) -> None:
    """Smart quotes in a German book print „…“ and ‚…‘ (pandoc's writers give “…” and ‘…’)."""
    source = _quoted_book(tmp_path / "de", "de-DE")
    written = {w.format: w.path for w in build(source, tmp_path / "out", ("pdf", "epub", "html"),
                                                lambda *a: None)}  # fmt: skip
    wanted = "Sie sagte „Guten Tag, ‚mein‘ Freund“ und ging."
    with pymupdf.open(written["pdf"]) as doc:
        assert wanted in " ".join(page.get_text() for page in doc)
    assert _epub_paragraph(written["epub"]) == wanted
    pages = " ".join(p.read_text(encoding="utf-8") for p in written["html"].glob("*.html"))
    assert wanted in pages


@pytest.mark.parametrize(
    "lang,wanted",
    [
        ("fr", "Sie sagte «\u202fGuten Tag, “mein” Freund\u202f» und ging."),
        ("ja", "Sie sagte 「Guten Tag, 『mein』 Freund」 und ging."),
        ("zh-TW", "Sie sagte 「Guten Tag, 『mein』 Freund」 und ging."),
    ],
)
def test_quotes_by_language(lang: str, wanted: str, tmp_path: Path) -> None:
    source = _quoted_book(tmp_path / "book", lang)
    (written,) = build(source, tmp_path / "out", ("epub",), lambda *a: None)
    assert _epub_paragraph(written.path) == wanted


def test_quote_marks_by_tag() -> None:
    """Traditional Chinese by script or region; Swiss German's guillemets; English, simplified
    Chinese and the languages not listed keep pandoc's marks (None)."""
    from quire.transform.quotes import quote_marks

    assert quote_marks("zh-Hant")[:2] == quote_marks("zh-HK")[:2] == ("「", "」")
    assert quote_marks("de-CH")[:2] == ("«", "»") and quote_marks("de-AT")[:2] == ("„", "“")
    assert quote_marks("ru_RU")[2:] == ("„", "“")
    assert [quote_marks(t) for t in ("en", "zh-Hans", "zh-Hans-TW", "nl", "", None)] == [None] * 6

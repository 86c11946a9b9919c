"""The print PDF as a printer and a reader get it: every property read back from the file itself."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pymupdf
import pytest
from conftest import build_with_check
from PIL import Image
from test_outputs import chapter_titles, sorted_sources, with_index

from quire.load.config import Trim
from quire.press.preflight import preflight

ROOT = Path(__file__).resolve().parent.parent
BAD = Path(__file__).resolve().parent / "bad"
HEAD_ZONE = 0.7 * 72  # running heads sit above this (the text block starts 0.75 in down)
FOOT_ZONE = 0.6 * 72  # folios sit in the bottom 0.6 in of the page
NOTE_SIZE = 8.5  # points: the size of footnote text (print.css)
HYPHEN = "\u2010"  # the hyphen WeasyPrint adds where it breaks a word
ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii"]


@dataclass
class PrintedPage:
    """One page as read back: its label, running head, folio, and the lines of its text block."""

    index: int
    label: str
    head: str
    folio: str
    body: list[str]
    calls: list[int]  # footnote calls (superscript numbers) in the text
    notes: list[int]  # numbers of the notes printed at the foot


def read_page(page: pymupdf.Page) -> PrintedPage:
    """Sort a page's lines into head, folio, body, note calls and notes."""
    head, folio, body, calls, notes = [], [], [], [], []
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            spans = line["spans"]
            text = "".join(s["text"] for s in spans).strip()
            top, bottom = line["bbox"][1], line["bbox"][3]
            if bottom < HEAD_ZONE:
                head.append(text)
            elif top > page.rect.height - FOOT_ZONE:
                folio.append(text)
            elif text:
                body.append(text)
                calls += [int(s["text"]) for s in spans if s["flags"] & 1 and s["text"].isdigit()]
                marker = re.fullmatch(r"(\d+)\.", spans[0]["text"].strip())
                if marker and abs(spans[0]["size"] - NOTE_SIZE) < 0.2:
                    notes.append(int(marker[1]))
    return PrintedPage(
        page.number, page.get_label(), " ".join(head), " ".join(folio), body, calls, notes
    )


@pytest.fixture(scope="module")
def sample(build_case):
    """The sample book, built once per session."""
    return build_case("sample")


@pytest.fixture(scope="module")
def pages(sample) -> list[PrintedPage]:
    """Every page of the sample book's PDF, read back."""
    with pymupdf.open(sample.pdf) as doc:
        return [read_page(page) for page in doc]


@pytest.fixture(scope="module")
def openings(sample) -> dict[str, int]:
    """Each top-level bookmark's title and the index of the page it points at."""
    with pymupdf.open(sample.pdf) as doc:
        return {title: page - 1 for level, title, page in doc.get_toc() if level == 1}


def book_title(built) -> str:
    """The title in the book's settings."""
    with pikepdf.open(built.pdf) as pdf:
        return str(pdf.docinfo["/Title"])


def starts_with_title(page: PrintedPage, title: str) -> bool:
    """True if the page's text block opens with the title (after a 'Chapter N' label)."""
    top = " ".join(page.body[:3])
    return title in top


def test_page_labels_are_roman_then_arabic(pages, openings, sample):
    first_body = openings[chapter_titles(sample)[2]]  # after the copyright page and the preface
    assert pages[first_body].label == "1"
    expected = ROMAN[:first_body] + [str(n) for n in range(1, len(pages) - first_body + 1)]
    assert [p.label for p in pages] == expected
    with pikepdf.open(sample.pdf) as pdf:
        assert "/PageLabels" in pdf.Root
    printed = [p for p in pages if p.folio]
    assert len(printed) > len(pages) // 2
    assert all(p.folio == p.label for p in printed), [(p.label, p.folio) for p in printed]


def test_bookmarks_point_at_their_openings(openings, pages, sample):
    titles = [t for t in openings if t != "Contents"]
    assert titles == with_index(sample, chapter_titles(sample))
    for title, index in openings.items():
        assert starts_with_title(pages[index], title), (title, pages[index].body[:3])


def test_chapters_open_on_rectos_after_a_bare_blank_verso(openings, pages):
    blanks = 0
    for title, index in openings.items():
        if title == "Copyright":
            assert index == 3  # the verso of the title page
            continue
        assert index % 2 == 0, f"{title} opens on a verso"
        if pages[index].label.isdigit():
            assert int(pages[index].label) % 2 == 1
        before = pages[index - 1]
        if not before.body:
            blanks += 1
            assert (before.head, before.folio) == ("", ""), f"blank page {before.label}"
    assert blanks >= 2


def test_running_heads(openings, pages, sample):
    title = book_title(sample)
    starts = sorted((index, name) for name, index in openings.items())
    checked = 0
    for page in pages:
        current = [name for index, name in starts if index <= page.index]
        if page.index < 3 or page.index in openings.values() or not page.body:
            assert page.head == "", f"page {page.label} has the head {page.head!r}"
            continue
        expected = title if page.index % 2 else current[-1]
        assert page.head == expected, f"page {page.label}"
        checked += 1
    assert checked > 30


def contents_entries(page: PrintedPage) -> list[tuple[str, str]]:
    """(title, page number) for each line of the contents, leaders dropped."""
    items = [line for line in page.body if line.strip(". ") and line != "Contents"]
    return list(zip(items[::2], items[1::2], strict=True))


def test_contents_numbers_match_the_real_pages(openings, pages, sample):
    entries = contents_entries(pages[openings["Contents"]])
    assert [t for t, _ in entries] == with_index(sample, chapter_titles(sample))[1:]
    by_label = {p.label: p for p in pages}
    for title, number in entries:
        assert starts_with_title(by_label[number], title), (title, number)


def notes_in_source(path: Path) -> int:
    """How many notes a chapter's Markdown defines ([^id]: ...) or writes inline (^[...])."""
    text = path.read_text(encoding="utf-8")
    return len(re.findall(r"^\[\^[^\]]+\]:", text, re.M)) + text.count("^[")


def test_notes_sit_on_the_page_that_cites_them(openings, pages, sample):
    for page in pages:
        assert page.calls == page.notes, (
            f"page {page.label}: calls {page.calls}, notes {page.notes}"
        )
    starts = sorted(openings.values())
    per_chapter = Counter()
    for page in pages:
        chapter = max((i for i in starts if i <= page.index), default=-1)
        assert page.notes == sorted(page.notes)
        per_chapter[chapter] += len(page.notes)
        if page.notes:
            assert page.notes[0] == per_chapter[chapter] - len(page.notes) + 1  # numbered on
    counts = {
        openings[title]: notes_in_source(path)
        for title, path in zip(chapter_titles(sample), sorted_sources(sample), strict=True)
    }
    assert {k: v for k, v in per_chapter.items() if v} == {k: v for k, v in counts.items() if v}
    assert sum(counts.values()) >= 10


def line_ends(page: pymupdf.Page, size: float = 10.5) -> list[float]:
    """The right edge of each printed line of body text (spans in the text size, by baseline)."""
    ends: dict[int, float] = {}
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            for span in line["spans"]:
                if abs(span["size"] - size) < 0.1 and span["text"].strip():
                    baseline = round(span["origin"][1])
                    ends[baseline] = max(ends.get(baseline, 0), span["bbox"][2])
    return list(ends.values())


def test_text_is_justified_and_hyphenated(sample):
    with pymupdf.open(sample.pdf) as doc:
        text = "".join(page.get_text() for page in doc)
        assert text.count(HYPHEN + "\n") >= 10  # words broken by the English patterns
        flush = total = 0
        for page in doc:
            ends = line_ends(page)
            if len(ends) > 20:
                flush += sum(1 for x in ends if max(ends) - x < 1)
                total += len(ends)
    assert flush / total > 0.75  # all but the last line of each paragraph reach the margin


def test_no_word_is_broken_over_a_page_turn(sample):
    with pymupdf.open(sample.pdf) as doc:
        for page in doc:
            lines = [
                (span["origin"][1], span["text"])
                for block in page.get_text("dict")["blocks"]
                for line in block.get("lines", [])
                for span in line["spans"]
                if abs(span["size"] - 10.5) < 0.1 and span["text"].strip()
            ]
            if lines:
                assert not max(lines)[1].rstrip().endswith(HYPHEN), page.get_label()


def test_no_notdef_glyph_anywhere(sample):
    with pymupdf.open(sample.pdf) as doc:
        glyphs = [
            (page.number, span["font"], char[0], char[1])
            for page in doc
            for span in page.get_texttrace()
            for char in span["chars"]
        ]
    assert len(glyphs) > 10_000
    assert [g for g in glyphs if g[3] == 0 or g[2] == 0xFFFD] == []  # glyph 0 is .notdef
    assert not any("notdef" in w for w in sample.warnings)


def test_cjk_and_cyrillic_print_in_the_shipped_fonts(sample):
    with pymupdf.open(sample.pdf) as doc:
        fonts = {f[3].split("+")[-1] for page in doc for f in page.get_fonts()}
        text = "".join(page.get_text() for page in doc)
    assert any("Noto-Serif-CJK" in f for f in fonts)
    assert "大庆" in text and "Дацин" in text


def test_missing_font_is_a_warning_that_says_what_to_do_and_strict_stops(tmp_path):
    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "build.py", str(BAD / "missing-glyph"), "--out", str(tmp_path / "out"),
             *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    strict = run("--strict")
    assert strict.returncode == 1
    assert "U+13000" in strict.stderr and "one.md:5" in strict.stderr
    assert "add a .ttf or .otf font that has it to the book's fonts/ folder" in strict.stderr
    assert "Traceback" not in strict.stderr + strict.stdout
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    built = run()
    assert built.returncode == 0 and "prints as a box in the PDF" in built.stderr


def test_tagged_accessible_pdf(sample):
    with pikepdf.open(sample.pdf) as pdf:
        root = pdf.Root
        assert root.ViewerPreferences.DisplayDocTitle is True
        assert str(root.Lang) == "en"
        assert root.MarkInfo.Marked is True
        assert str(pdf.docinfo["/Title"]) == "Russia–China Relations"
        figures = [alt for kind, alt in structure(root.StructTreeRoot) if kind == "/Figure"]
        assert figures and all(alt and len(alt) > 20 for alt in figures)
        with pdf.open_metadata() as meta:
            assert meta.get("pdfuaid:part") == "1"


def structure(node: object) -> list[tuple[str, str | None]]:
    """(structure type, alt text) of every element of a structure tree."""
    found = []
    if isinstance(node, pikepdf.Dictionary):
        if "/S" in node:
            alt = node.get("/Alt")
            found.append((str(node.S), str(alt) if alt is not None else None))
        if "/K" in node:
            found += structure(node.K)
    elif isinstance(node, pikepdf.Array):
        for item in node:
            found += structure(item)
    return found


def test_the_figure_is_whole_on_one_page_with_its_caption(sample):
    with pymupdf.open(sample.pdf) as doc:
        caption = [p for p in doc if "A schematic map of the eastern section" in p.get_text()]
        assert len(caption) == 1
        page = caption[0]
        line = page.search_for("A schematic map of the eastern section")[0]
        drawn = pymupdf.Rect()
        for drawing in page.get_drawings():  # the map is drawn as vectors
            drawn |= drawing["rect"]
        assert drawn.height > 2.5 * 72 and drawn.y1 <= line.y0 + 1  # whole, above its caption


# ---------- print options, preflight and --check ----------

PRINT_BOOK = {
    "book.yaml": (
        "title: Print Options\nauthor: Quire Test Suite\nlang: en\ntrim: A5\n"
        "bleed: 0.125in\ncrop-marks: true\npdf-variant: pdf/a-3b\n"
    ),
    "one.md": "# One\n\nA short chapter, printed to the edge.\n\n![A teal square](square.png)\n",
}


def write_book(folder: Path, files: dict[str, str], image_px: int) -> Path:
    """A small manuscript with one square image of image_px pixels a side."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    Image.new("RGB", (image_px, image_px), "teal").save(folder / "square.png")
    return folder


@pytest.fixture(scope="module")
def print_options(tmp_path_factory):
    """A5 with bleed, crop marks and PDF/A-3b, built and preflighted with --check."""
    folder = tmp_path_factory.mktemp("print-options")
    source = write_book(folder / "book", PRINT_BOOK, image_px=1600)
    proc = build_with_check(source, folder / "out")
    return proc, folder / "out" / "print-options.pdf"


def test_bleed_and_crop_marks(print_options):
    proc, pdf_path = print_options
    assert proc.returncode == 0, proc.stderr
    a5 = (148 / 25.4 * 72, 210 / 25.4 * 72)
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            trim = [float(v) for v in page.obj.TrimBox]
            bleed = [float(v) for v in page.obj.BleedBox]
            media = [float(v) for v in page.obj.MediaBox]
            assert (trim[2] - trim[0], trim[3] - trim[1]) == pytest.approx(a5, abs=0.5)
            assert bleed == pytest.approx(media)
            assert bleed == pytest.approx([trim[0] - 9, trim[1] - 9, trim[2] + 9, trim[3] + 9])
    with pymupdf.open(pdf_path) as doc:
        page = doc[0]
        outside = [d for d in page.get_drawings() if not d["rect"].intersects(page.trimbox)]
        assert outside, "no crop marks in the bleed"


def test_pdf_a_3b_on_request(print_options):
    _proc, pdf_path = print_options
    with pikepdf.open(pdf_path) as pdf:
        assert "/OutputIntents" in pdf.Root
        with pdf.open_metadata() as meta:
            assert meta.get("pdfaid:part") == "3"
            assert meta.get("pdfaid:conformance") == "B"


def test_check_reports_each_finding(print_options):
    proc, _pdf = print_options
    lines = [line.strip() for line in proc.stdout.splitlines() if "preflight " in line]
    codes = [line.split()[2] for line in lines if line.startswith("preflight ")]
    assert codes == ["PAGE-SIZE", "FONTS", "IMAGE-DPI", "PAGES"], proc.stdout
    assert "with 0.125 in bleed" in proc.stdout
    assert "all" in proc.stdout and "fonts are embedded" in proc.stdout


def test_check_fails_on_a_low_resolution_image(tmp_path):
    source = write_book(tmp_path / "book", PRINT_BOOK, image_px=120)
    proc = build_with_check(source, tmp_path / "out")
    assert proc.returncode == 1
    assert re.search(r"preflight ERROR IMAGE-DPI .*120×120 px image .* is \d+ dpi", proc.stdout)
    assert "Traceback" not in proc.stderr


def test_preflight_of_the_sample(sample, pages):
    report = preflight(sample.pdf, Trim(6, 9), 0.0)
    assert report.source == "preflight"
    assert [f.severity for f in report.findings] == ["info"] * 4
    assert report.findings[-1].text == f"{len(pages)} pages"
    wrong = preflight(sample.pdf, Trim(5, 8), 0.0)
    assert [f.code for f in wrong.findings if f.severity == "error"] == ["PAGE-SIZE"]

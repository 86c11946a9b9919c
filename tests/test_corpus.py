"""Real books nobody here wrote (../shared/corpus), built as their authors keep them.

Each book is built once per session through the command line, EPUB and PDF, and must: exit 0
with no traceback, pass EPUBCheck with no error and no warning, list every chapter in the
EPUB's contents and the PDF's outline, and open each chapter on a page of its own (the
chapter's title near the top of the page its outline entry points at). The build's own
no-loss check has compared every chapter's words with the PDF's text layer.

The corpus is read in place and never copied into the project; a book kept with a Makefile
gets the book.yaml in tests/corpus/ beside a copy made in a temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pymupdf
import pytest
from conftest import require_tool
from lxml import etree

from quire.language.words import words_for
from quire.validate import ace_available, run_ace, run_epubcheck

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
KEPT = Path(__file__).resolve().parent / "corpus"  # book.yaml files for books kept by a Makefile
LANGS = ("en", "ru", "zh", "ja", "ko", "es", "pt", "uk")
# name: (what to build, relative to the corpus; the number of chapter files it lists, or None
# for a single file, whose level-1 headings are its chapters)
BOOKS: dict[str, tuple[str, int | None]] = {
    "pride-and-prejudice": ("pride-and-prejudice", 61),
    "pandoc-manual": ("pandoc-manual/MANUAL.txt", None),
    "user-need-research": ("user-need-research", 7),
    **{f"command-line-{lang}": (f"command-line/{lang}/README.md", None) for lang in LANGS},
}
NAV = "{http://www.w3.org/1999/xhtml}"
EPUB_NS = "{http://www.idpf.org/2007/ops}"

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir() and os.environ.get("CI") != "true",
    reason=f"the corpus of real books is not at {CORPUS}",
)


@dataclass
class CorpusBuild:
    """One corpus book built: the command's result and its outputs."""

    name: str
    proc: subprocess.CompletedProcess
    epub: Path | None
    pdf: Path | None


def _source(name: str, tmp: Path) -> Path:
    """Where to build a book from: the corpus itself, or a copy beside its kept book.yaml."""
    source = CORPUS / BOOKS[name][0]
    if not (KEPT / name).is_dir():
        return source
    copy = tmp / name
    shutil.copytree(source, copy)
    shutil.copytree(KEPT / name, copy, dirs_exist_ok=True)
    return copy


@pytest.fixture(scope="session")
def corpus_build(tmp_path_factory):
    """A function that builds a corpus book once per session."""
    done: dict[str, CorpusBuild] = {}

    def get(name: str) -> CorpusBuild:
        if name not in done:
            assert CORPUS.is_dir(), f"CI must have the corpus at {CORPUS}"
            tmp = tmp_path_factory.mktemp(f"corpus-{name}")
            out = tmp / "out"
            proc = subprocess.run(
                [sys.executable, "build.py", str(_source(name, tmp)), "--out", str(out),
                 "--to", "epub", "--to", "pdf"],
                cwd=ROOT, capture_output=True, text=True, timeout=900,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
            epub = next(out.glob("*.epub"), None) if out.is_dir() else None
            pdf = next(out.glob("*.pdf"), None) if out.is_dir() else None
            done[name] = CorpusBuild(name, proc, epub, pdf)
        return done[name]

    return get


def built(corpus_build, name: str) -> CorpusBuild:
    """A corpus book that built: exit 0, no traceback, both files written."""
    result = corpus_build(name)
    output = result.proc.stdout + result.proc.stderr
    assert result.proc.returncode == 0, output[-3000:]
    assert "Traceback" not in output and "internal error" not in output
    assert result.epub and result.pdf, output[-2000:]
    return result


def nav_entries(epub: Path) -> list[tuple[int, str]]:
    """The EPUB's contents: (depth, title) of each entry of the nav's toc."""
    with zipfile.ZipFile(epub) as archive:
        name = next(n for n in archive.namelist() if n.endswith("nav.xhtml"))
        nav = etree.fromstring(archive.read(name))
    toc = next(n for n in nav.iter(f"{NAV}nav") if n.get(f"{EPUB_NS}type") == "toc")
    entries = []
    for link in toc.iter(f"{NAV}a"):
        depth = sum(1 for a in link.iterancestors(f"{NAV}ol"))
        entries.append((depth, " ".join("".join(link.itertext()).split())))
    return entries


def _words(text: str) -> list[str]:
    """Letters and digits only, folded: how a title is matched on its page."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.findall(r"\w+", text)


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_corpus_book_builds(corpus_build, name):
    built(corpus_build, name)


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_corpus_book_passes_epubcheck(corpus_build, name):
    report = run_epubcheck(built(corpus_build, name).epub)
    problems = [str(f) for f in report.findings if f.severity in ("fatal", "error", "warning")]
    assert problems == []


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_corpus_book_lists_every_chapter(corpus_build, name):
    result = built(corpus_build, name)
    chapters = [t for d, t in nav_entries(result.epub) if d == 1]
    with pymupdf.open(result.pdf) as pdf:
        outline = [title for level, title, _page in pdf.get_toc() if level == 1]
    listed = BOOKS[name][1]
    assert chapters and outline, "the contents is empty"
    if listed is not None:
        assert len(chapters) >= listed, chapters
    assert all(title.strip() for title in chapters)
    # The PDF's outline holds the same chapters (it may add the contents page itself).
    assert [t for t in chapters if t not in outline] == []


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_corpus_chapters_open_a_page(corpus_build, name):
    result = built(corpus_build, name)
    chapters = {t for d, t in nav_entries(result.epub) if d == 1}
    with pymupdf.open(result.pdf) as pdf:
        entries = [(t, page) for level, t, page in pdf.get_toc() if level == 1 and t in chapters]
        assert entries, "no chapter of the contents is in the PDF's outline"
        misplaced = []
        for title, page in entries:
            top = _words(pdf[page - 1].get_text()[:600])
            wanted = _words(title)[:4]
            if wanted and " ".join(wanted) not in " ".join(top):
                misplaced.append((title, page, " ".join(top[:12])))
    assert misplaced == []


def _epub_language(epub: Path) -> str:
    """The book's language as its package document declares it."""
    with zipfile.ZipFile(epub) as archive:
        opf = etree.fromstring(archive.read("EPUB/package.opf"))
    return opf.findtext(".//{http://purl.org/dc/elements/1.1/}language")


@pytest.mark.parametrize("lang", LANGS)
def test_command_line_book_speaks_its_language(corpus_build, lang):
    # The Art of Command Line in each of its languages sets no `lang`: Quire detects it from
    # the text, and then every word it adds (here the contents' title) is in that language.
    result = built(corpus_build, f"command-line-{lang}")
    declared = _epub_language(result.epub)
    assert declared.split("-")[0] == lang, declared
    contents = words_for(declared)["Contents"]
    assert lang == "en" or contents != "Contents"
    with zipfile.ZipFile(result.epub) as archive:
        nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
    assert nav.findtext(f".//{NAV}h1") == contents
    outline = [title for _, title, _ in pymupdf.open(result.pdf).get_toc()]
    assert contents in outline, outline[:5]


@pytest.mark.parametrize("lang", LANGS)
def test_command_line_book_passes_ace(corpus_build, lang):
    require_tool(ace_available() is None, "Ace by DAISY", str(ace_available()))
    report = run_ace(built(corpus_build, f"command-line-{lang}").epub)
    assert report.findings == (), [str(f) for f in report.findings]

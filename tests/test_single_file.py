"""A book kept as one file: its no-op check reads what it uses (in a folder of other things),
pandoc reads it in parts joined into the whole file's AST, and one word changed reads one part."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest
from PIL import Image
from test_bad_input import run_build

from quire.load import load
from quire.load.manuscript import SourceFile
from quire.package import write_cache
from quire.parse import pandoc
from quire.parse import parts as pandoc_parts
from quire.pipeline import build

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from make_book import make_book  # noqa: E402

BOOK = "---\ntitle: Single\nlang: en\n---\n\n# One\n\nText.\n\n![A dot](pics/dot.png)\n"


def _dot(path, colour: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), colour).save(path)


def _up_to_date(book, out) -> bool:
    proc = run_build(book, out, "--to", "epub")
    assert proc.returncode == 0, proc.stderr
    return "up to date" in proc.stdout


def test_a_single_file_book_is_not_rebuilt_for_its_neighbours(tmp_path):
    folder = tmp_path / "repository"
    (folder / "src").mkdir(parents=True)
    book = folder / "book.md"
    book.write_text(BOOK)
    _dot(folder / "pics" / "dot.png", "red")
    (folder / "src" / "main.c").write_text("int main(void) { return 0; }\n")
    out = tmp_path / "out"
    assert not _up_to_date(book, out)
    # A file the book does not use changes: nothing to do (the folder digest rebuilt it).
    (folder / "src" / "main.c").write_text("int main(void) { return 1; }\n")
    assert _up_to_date(book, out)
    # The image it shows changes: built again.
    _dot(folder / "pics" / "dot.png", "blue")
    assert not _up_to_date(book, out)
    assert _up_to_date(book, out)
    # A file appears beside it that a build would read (settings): built again.
    (folder / "book.yaml").write_text("title: Single\n")
    assert not _up_to_date(book, out)
    # A file appears in a folder it reads from (a font beside its fonts): built again.
    (folder / "pics" / "other.png").write_bytes(b"")
    assert not _up_to_date(book, out)


# A book kept as one file is read by pandoc in parts, cut at its chapters, and joined into the
# AST pandoc gives the whole file (quire/parse/parts.py). Each case: its text, and whether
# the parts can be joined (True) or the file must be read whole (False).
CASES = {
    "a fence holding headings": (
        "# One\n\nText.\n\n```markdown\n# Not a chapter\n\nInside.\n```\n\n"
        "~~~~\n# Nor this\n```\n# Nor this one\n~~~~\n\n# Two\n\nText two.\n",
        True,
    ),
    "notes and links defined in other chapters": (
        "---\ntitle: Notes\n---\n\n# One\n\nA note defined later.[^far] And [a link][ref], "
        "[Ref] again.\n\n# Two\n\nIts own note.[^near]\n\n[^near]: Near.\n\n    Second "
        "paragraph.\n\n# Three\n\nThe end.\n\n[^far]: Far, *emphasised*.\n\n"
        '[ref]: https://example.org/ "A title"\n',
        True,
    ),
    "a note from another chapter linking to a third's label": (
        "# One\n\nNote.[^n]\n\n# Two\n\n[^n]: See [far].\n\n# Three\n\n[far]: /far\n",
        True,
    ),
    "a YAML block mid-file, a key again": (
        "---\ntitle: First\nsubtitle: Kept\n---\n\n# One\n\nText.\n\n---\ntitle: Second\n"
        "extra: value\n# a YAML comment\n---\n\n# Two\n\nMore.\n",
        True,
    ),
    "setext headings": (
        "Title One\n=========\n\nText one.\n\nTitle Two\n=========\n\nText.\n\nSub\n---\n\nMore.\n",
        True,
    ),
    # Pandoc makes identifiers unique over the whole document: notes, notes-1, notes-2…
    "the same heading in every chapter": (
        "# Intro\n\n## Notes\n\nText.\n\n# Chapter {#one}\n\n## Notes\n\n## Notes\n\n"
        "# Chapter\n\n## Notes {#notes-9}\n\n## Summary\n\n# Summary\n\n## Section 1-2\n",
        True,
    ),
    "comments, divs, raw HTML and TeX around headings": (
        "# One\n\n<!--\n# Commented\n-->\n\n::: {.box}\nBoxed.\n\n# In a div\n:::\n\n"
        '<div class="raw">\n\n# In raw HTML\n\n</div>\n\n\\begin{verbatim}\n\n# In TeX\n\n'
        "\\end{verbatim}\n\n# Two\n\nText two.\n",
        True,
    ),
    # Each citation carries the count of notes and citations before it in the document.
    "citations after other chapters' notes": (
        "# One\n\nAs @doe says,[^1] and [@roe; @poe].^[Inline, [@moe].]\n\n[^1]: With [@zoe]."
        "\n\n# Two\n\nThen [-@doe, p. 3] and @roe [p. 4].\n\n# Three\n\nMail me@x.org, [@last].\n",
        True,
    ),
    "a multiline table with a row that looks like a heading": (
        "# One\n\n-----------------------------\nKey       Value\n--------- ---------------\n"
        "first     one line\n\n# second  a row that opens\n          like a heading\n\n"
        "-----------------------------\n\n# Two\n\nText.\n",
        True,
    ),
    # Pandoc applies a macro to the math after it (its latex_macros extension).
    "a TeX macro defined in one chapter, used in another": (
        "# One\n\n\\newcommand{\\R}{\\mathbb{R}}\n\n# Two\n\n$\\R$ and \\R.\n",
        False,
    ),
    # A note's text is read where it is called: its calls count there, not where it is defined.
    "a note from a later chapter with a call in it, citations after": (
        "D.[^d]\n\n# Chapter {#ch}\n\n[^d]: Then [^a] and [s].\n\nAs @doe says [@roe; @poe].\n",
        True,
    ),
    "an identifier given twice": ("# One {#same}\n\nText.\n\n# Two {#same}\n\nText.\n", False),
    "a link to another chapter's heading by its text": (
        "# One\n\nSee [Two].\n\n# Two\n\nText.\n",
        False,
    ),
    "a link label defined in two chapters": (
        "# One\n\n[x]: /one\n\n# Two\n\n[x]: /two\n\nUse [x].\n",
        False,
    ),
    "numbered examples, counted over the document": (
        "# One\n\n(@) First.\n\n# Two\n\n(@) Second.\n",
        False,
    ),
}


def _source(text: str, name: str = "book.md") -> SourceFile:
    return SourceFile(Path(name), name, text, "body")


def _whole_and_joined(monkeypatch, text: str, name: str = "book.md"):
    """(pandoc's reading of the whole file, Quire's reading of it), each with its warnings."""
    warned: list[tuple[str, int | None]] = []
    monkeypatch.setattr(
        pandoc, "warn", lambda message, file=None, line=None, **_: warned.append((message, line))
    )
    whole = pandoc.parse(_source(text, name))
    whole_warnings, warned[:] = sorted(warned), []
    (read,) = pandoc.parse_all((_source(text, name),))
    return (whole, whole_warnings), (read, sorted(warned))


@pytest.mark.parametrize("case", CASES)
def test_a_file_read_in_parts_gives_the_whole_file_s_ast(monkeypatch, case):
    text, joined = CASES[case]
    (whole, whole_warnings), (read, warnings) = _whole_and_joined(monkeypatch, text)
    assert (read.meta, read.blocks) == (whole.meta, whole.blocks)
    assert warnings == whole_warnings
    parts = pandoc_parts.split(_source(text), pandoc.READER)
    if joined:
        assert read.parts == (len(parts), len(parts)) and len(parts) > 1
    else:
        assert read.parts is None  # read whole


def test_a_cut_is_made_only_between_chapters():
    text = CASES["comments, divs, raw HTML and TeX around headings"][0]
    parts = pandoc_parts.split(_source(text), pandoc.READER)
    assert [p.text.split("\n", 1)[0] for p in parts] == ["# One", "# Two"]
    text = CASES["a fence holding headings"][0]
    parts = pandoc_parts.split(_source(text), pandoc.READER)
    assert [p.text.split("\n", 1)[0] for p in parts] == ["# One", "# Two"]
    text = CASES["a multiline table with a row that looks like a heading"][0]
    parts = pandoc_parts.split(_source(text), pandoc.READER)
    assert [p.text.split("\n", 1)[0] for p in parts] == ["# One", "# Two"]
    # An end tag inside a comment closes nothing.
    text = "# One\n\n<div>\n<!-- </div> -->\n\n# In the div\n\n</div>\n\n# Two\n"
    parts = pandoc_parts.split(_source(text), pandoc.READER)
    assert [p.text.split("\n", 1)[0] for p in parts] == ["# One", "# Two"]


SNIPPETS = [
    "# Notes", "# Chapter {#ch}", "# Chapter", "## Notes", "## Summary {#summary}", "# Summary",
    "A note.[^a]", "A note.[^b]", "[^a]: Note a.", "[^b]: Note b.\n\n    More b.",
    "A [link][r] and [R].", "[r]: /r", '[s]: /s "t"', "See [Notes].", "See [Summary].",
    "```\n# fenced\n```", "~~~\n```\n# x\n~~~", "<!--\n# hidden\n-->", "::: note\n# in div\n:::",
    "<div>\n\n# in html\n\n</div>", "---\nkey: v\n# c\n---", "---\nother: w\n---",
    "As @doe says [@roe; @poe].", "Inline^[note [@x]] text.", "Setext\n======", "Sub\n---",
    "- item\n- item\n\n  # not at col 0", "> # quoted", "Para\n# not after blank",
    "| a | b |\n|---|---|\n| 1 | 2 |", "Term\n:   Definition", "    # indented code",
    "\\begin{itemize}\n# tex\n\\end{itemize}", "# Section 1-2", "# 1999", "# {#empty}",
    "Plain words.", "Smart \"quotes\" and 'single' -- dashes...",
    "----------------\nKey   Value\n----- ----------\na     b\n\n# c   row\n\n----------------",
    "Math $x^2$ and \\emph{tex}.", "* * *", "% not a title", "A call.[^c]", "[^c]: See [r].",
]  # fmt: skip


def test_random_files_read_in_parts_give_the_whole_file_s_ast(monkeypatch):
    rng = random.Random(7)
    joined = 0
    for _ in range(40):
        text = "\n\n".join(rng.choice(SNIPPETS) for _ in range(rng.randint(3, 14))) + "\n"
        (whole, whole_warnings), (read, warnings) = _whole_and_joined(monkeypatch, text)
        assert (read.meta, read.blocks) == (whole.meta, whole.blocks), text
        assert warnings == whole_warnings, text
        joined += read.parts is not None
    assert joined >= 15  # most are read in parts, not whole


CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
CORPUS_FILES = ["pandoc-manual/MANUAL.txt"] + [
    f"command-line/{lang}/README.md" for lang in ("en", "ru", "zh", "ja", "ko", "es", "pt", "uk")
]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the corpus (../shared/corpus) is absent")
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_single_files_read_in_parts_give_the_whole_file_s_ast(monkeypatch, name):
    text = (CORPUS / name).read_text(encoding="utf-8")
    (whole, whole_warnings), (read, warnings) = _whole_and_joined(monkeypatch, text, name)
    assert (read.meta, read.blocks) == (whole.meta, whole.blocks)
    assert warnings == whole_warnings
    # Pandoc's manual numbers examples over the document and links to headings of other
    # chapters by their text: it is read whole. The READMEs are read in parts.
    assert (read.parts is None) == name.startswith("pandoc-manual")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the corpus (../shared/corpus) is absent")
def test_the_cuts_of_pandoc_s_manual_are_its_chapters(monkeypatch):
    """With its numbered examples and macros set aside, pandoc's manual (fences holding
    headings and YAML, indented HTML and TeX) is cut at each of its level-1 headings, and only
    there."""
    monkeypatch.setattr(pandoc_parts, "EXAMPLE_LIST", re.compile("(?!)"))
    monkeypatch.setattr(pandoc_parts, "TEX_MACROS", re.compile("(?!)"))
    source = _source((CORPUS / CORPUS_FILES[0]).read_text(encoding="utf-8"))
    parts = pandoc_parts.split(source, pandoc.READER)
    whole = pandoc.parse(source)
    chapters = [b for b in whole.blocks if b["t"] == "Header" and b["c"][0] == 1]
    assert len(chapters) == 23
    assert [p.text.split("\n", 1)[0] for p in parts[1:]] == [
        "# " + pandoc_parts.pandoc_ids.plain_text(h["c"][2]).replace("\u2019", "'")
        for h in chapters
    ]


def test_one_word_changed_reads_one_part_again(tmp_path):
    book = make_book(tmp_path / "book", 6000, single=True)
    cache = pandoc.pandoc_cache(tmp_path / "cache")
    (first,) = pandoc.parse_all(load(book).files, cache)
    write_cache(tmp_path / "cache", tuple(cache.new.items()), frozenset(cache.used), ("parsed",))
    parts = first.parts[1]
    assert first.parts == (parts, parts) and parts >= 4
    text = book.read_text()
    at = text.index(" treaty ", text.index("{#ch-2}"))
    book.write_text(text[:at] + " treaties " + text[at + 8 :])
    cache = pandoc.pandoc_cache(tmp_path / "cache")
    (again,) = pandoc.parse_all(load(book).files, cache)
    assert again.parts == (1, parts)
    assert len([k for k in cache.new if k.endswith(".ast")]) == 1  # one part read by pandoc
    assert (again.meta, again.blocks) == _whole(load(book).files[0])


def _whole(source: SourceFile):
    whole = pandoc.parse(source)
    return whole.meta, whole.blocks


def test_one_word_changed_in_a_single_file_book_reads_one_part_and_lays_out_one_chapter(
    tmp_path,
):
    book = make_book(tmp_path / "book", 6000, single=True)
    out = tmp_path / "out"
    lines: list[str] = []

    def report(stage: str, _seconds: float, detail: str) -> None:
        lines.append(f"{stage}: {detail}")

    build(book, out, ("pdf",), report)
    text = book.read_text()
    at = text.index(" treaty ", text.index("{#ch-1}"))
    book.write_text(text[:at] + " treaties " + text[at + 8 :])
    lines.clear()
    build(book, out, ("pdf",), report)
    parse = next(line for line in lines if line.startswith("parse: "))
    assert re.search(r"read: book\.md \(1 of [5-9] parts\)$", parse), parse
    render = next(line for line in lines if line.startswith("render pdf: "))
    assert render.endswith("laid out: book.md (ch-1)"), render

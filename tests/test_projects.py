"""Project readers: a book kept for mdBook, GitBook/HonKit or pandoc (a defaults file) is read
from its own project file, in its own order and nesting, in its own Markdown flavour."""

from __future__ import annotations

import logging
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_bad_input import run_build, write_book

from quire.errors import BuildError
from quire.load import load as load_book
from quire.load import manuscript
from quire.parse.pandoc import parse_all, parse_key

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"

MDBOOK = {
    "book.toml": (
        "[book]\n"
        'title = "Rust by Rote"\n'
        'authors = ["Ann Author", "Ben Writer"]\n'
        'description = "A book about a language."\n'
        'language = "fr"\n'
        'src = "text"\n'
        "\n[output.html]\n"
        "smart-punctuation = false\n"
    ),
    "text/SUMMARY.md": (
        "# Summary\n\n"
        "[Foreword](foreword.md)\n\n"
        "- [Getting going](start/index.md)\n"
        "    - [Setting up](start/setup.md)\n"
        "        - [On Linux](start/linux.md)\n"
        "    - [Not yet written]()\n"
        "\n---\n\n"
        "# Advanced topics\n\n"
        "- [Deep dive](deep.md)\n"
        "  - [Later]()\n"
        "- [Afterword proper](after.md)\n\n"
        "---\n\n"
        "[Glossary](glossary.md)\n"
    ),
    "text/foreword.md": "# Foreword\n\nWhy.\n",
    "text/start/index.md": "# Start\n\nGo.\n",
    "text/start/setup.md": "## Setup\n\nSet up.\n",
    "text/start/linux.md": "### Linux\n\nOn Linux.\n",
    "text/deep.md": "# Deep\n\nDeep.\n",
    "text/after.md": "# After\n\nAfter.\n",
    "text/glossary.md": "# Glossary\n\nWords.\n",
    # Files SUMMARY.md does not list are not chapters (the old reader took every .md file).
    "CONTRIBUTING.md": "# Contributing\n\nSend patches.\n",
}

GITBOOK = {
    "book.json": (
        '{\n  "title": "Functions Fondly",\n  "author": "Cy Coder",\n'
        '  "language": "de",\n  "description": "About functions.",\n  "root": "./content"\n}\n'
    ),
    "content/SUMMARY.md": (
        "# Summary\n\n"
        "* [Chapter one](ch01.md)\n"
        "  * [A heading of it](ch01.md#a-heading-of-it)\n"
        "* [Chapter two](ch02.md)\n"
    ),
    "content/README.md": "## About\n\nThe introduction.\n",
    "content/ch01.md": "# One\n\n## A heading of it\n\nText.\n",
    "content/ch02.md": "# Two\n\n## 2. Types n' Types / More\n\nText.\n",
}


def names(loaded: manuscript.Manuscript) -> list[str]:
    """The files of a loaded book, relative to its root, in reading order."""
    return [f.path.relative_to(loaded.root).as_posix() for f in loaded.files]


def warnings(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


@pytest.mark.expect_warnings
def test_mdbook_folder_is_read_from_book_toml_in_summary_order(tmp_path, caplog):
    loaded = load_book(write_book(tmp_path / "book", MDBOOK))
    assert names(loaded) == [
        "text/foreword.md",
        "text/start/index.md",
        "text/start/setup.md",
        "text/start/linux.md",
        "text/deep.md",
        "text/after.md",
        "text/glossary.md",
    ]
    assert loaded.project == "book.toml (mdBook)"
    config = loaded.config
    assert config.title == "Rust by Rote"
    assert config.authors == ("Ann Author", "Ben Writer")
    assert config.description == "A book about a language."
    assert config.lang == "fr"


@pytest.mark.expect_warnings
def test_summary_gives_nesting_parts_titles_prefix_suffix_and_leaves_drafts_out(tmp_path, caplog):
    files = {f.path.name: f for f in load_book(write_book(tmp_path / "b", MDBOOK)).files}
    shape = {name: (f.role, f.depth, f.numbered, f.part, f.title) for name, f in files.items()}
    assert shape == {
        "foreword.md": ("front", 0, False, None, "Foreword"),
        "index.md": ("body", 0, True, None, "Getting going"),
        "setup.md": ("body", 1, True, None, "Setting up"),
        "linux.md": ("body", 2, True, None, "On Linux"),
        "deep.md": ("body", 0, True, "Advanced topics", "Deep dive"),
        "after.md": ("body", 0, True, None, "Afterword proper"),
        "glossary.md": ("back", 0, False, None, "Glossary"),
    }
    said = warnings(caplog)
    assert said.count("draft chapters with no file") == 1  # one warning names them all
    assert "“Not yet written”" in said and "“Later”" in said
    assert "SUMMARY.md:8: draft chapters" in said


@pytest.mark.expect_warnings
def test_mdbook_src_folder_given_finds_book_toml_above(tmp_path, caplog):
    book = write_book(tmp_path / "book", MDBOOK)
    loaded = load_book(book / "text")
    assert loaded.root == book.resolve()
    assert names(loaded)[0] == "text/foreword.md"
    assert load_book(book / "book.toml").config.title == "Rust by Rote"
    assert len(load_book(book / "text" / "SUMMARY.md").files) == 7


def test_mdbook_files_are_read_as_commonmark_with_mdbooks_extensions(tmp_path):
    files = {
        "book.toml": '[book]\ntitle = "T"\nlanguage = "en"\n',
        "src/SUMMARY.md": "- [One](one.md)\n",
        "src/one.md": (
            "# Concatenating with `+` or `format!`\n\n"
            "Options are:\n- first\n- second\n\n"
            "Set $HOME and then $PATH.\n\n"
            "See _target\\debug\\app_ here.\n\n"
            '"Quoted" text.\n\n'
            "| a | b |\n|---|---|\n| 1 | 2 |\n"
        ),
    }
    loaded = load_book(write_book(tmp_path / "book", files))
    (parsed,) = parse_all(loaded.files)
    kinds = [b["t"] for b in parsed.blocks]
    # A list with no blank line before it is a list (CommonMark), not part of the paragraph.
    assert kinds == ["Header", "Para", "BulletList", "Para", "Para", "Para", "Table"]
    # mdBook's (and GitHub's) heading id, so `one.md#concatenating-with--or-format` works.
    assert parsed.blocks[0]["c"][1][0] == "concatenating-with--or-format"
    text = str(parsed.blocks[3])
    assert "Math" not in text and "$HOME" in text  # no TeX math in mdBook
    assert "RawInline" not in str(parsed.blocks[4])  # `\debug` is text, not raw LaTeX
    assert "\\\\debug" in str(parsed.blocks[4]) or "\\debug" in str(parsed.blocks[4])
    assert "Quoted" in str(parsed.blocks[5]) and "DoubleQuote" in str(parsed.blocks[5])


@pytest.mark.expect_warnings
def test_smart_punctuation_follows_book_toml_and_the_reader_is_in_the_cache_key(tmp_path):
    book = write_book(tmp_path / "book", MDBOOK)
    plain = load_book(book).files[1]
    assert "+smart" not in (plain.reader or "")  # smart-punctuation = false
    toml = book / "book.toml"
    toml.write_text(toml.read_text().replace("smart-punctuation = false", ""))
    smart = load_book(book).files[1]
    assert smart.reader and smart.reader.endswith("+smart")
    assert smart.text == plain.text and parse_key(smart) != parse_key(plain)


@pytest.mark.expect_warnings
def test_markdown_setting_overrides_the_flavour(tmp_path):
    book = write_book(tmp_path / "book", {**MDBOOK, "book.yaml": "markdown: markdown\n"})
    assert {f.reader for f in load_book(book).files} == {"markdown"}
    (book / "book.yaml").write_text("markdown: docx\n")
    with pytest.raises(BuildError) as raised:
        load_book(book)
    assert "`markdown` is 'docx' but must be a Markdown format" in str(raised.value)


@pytest.mark.expect_warnings
def test_book_yaml_beside_book_toml_adds_print_settings_and_wins(tmp_path):
    beside = "title: The Printed Title\nauthor: Ann Author\ntrim: 5x8\nprinter: kdp\n"
    loaded = load_book(write_book(tmp_path / "book", {**MDBOOK, "book.yaml": beside}))
    assert loaded.config.title == "The Printed Title"
    assert loaded.config.authors == ("Ann Author",)  # `author` wins over book.toml's `authors`
    assert loaded.config.description == "A book about a language."  # from book.toml
    assert (loaded.config.trim.width, loaded.config.printer) == (5.0, "kdp")
    assert loaded.project == "book.toml (mdBook) + book.yaml"


def test_gitbook_folder_is_read_from_book_json_and_summary(tmp_path):
    loaded = load_book(write_book(tmp_path / "book", GITBOOK))
    # README.md first (GitBook's introduction), each file once (a #heading entry is not a file).
    assert names(loaded) == ["content/README.md", "content/ch01.md", "content/ch02.md"]
    intro, one, _two = loaded.files
    assert (intro.role, intro.numbered, one.title) == ("front", False, "Chapter one")
    assert loaded.project == "book.json (GitBook)"
    config = loaded.config
    assert (config.title, config.authors, config.lang) == ("Functions Fondly", ("Cy Coder",), "de")
    assert config.description == "About functions."
    assert one.reader and one.reader.startswith("gfm")
    # GitHub's heading ids, which GitBook gives: `ch02.md#2-types-n-types--more` finds it.
    parsed = parse_all(loaded.files)[2]
    assert parsed.blocks[1]["c"][1][0] == "2-types-n-types--more"


def test_honkit_summary_without_book_json_is_a_gitbook(tmp_path):
    files = {"SUMMARY.md": "* [One](one.md)\n", "one.md": "# One\n\nText.\n", "zz.md": "# Z\n"}
    loaded = load_book(write_book(tmp_path / "book", files))
    assert names(loaded) == ["one.md"] and loaded.project == "SUMMARY.md (GitBook)"


DEFAULTS = {
    "defaults.yaml": (
        "from: markdown+smart\n"
        "input-files:\n  - front.yaml\n  - ${.}/chapters/b.md\n  - chapters/a.md\n"
        "metadata-file: meta.yaml\n"
        "metadata:\n  lang: en\n"
        "toc: false\n"
        "number-sections: true\n"
        "resource-path: [images]\n"
        "filters: [pandoc-crossref]\n"
        "to: epub\n"
    ),
    "meta.yaml": "---\ntitle: Defaults Book\nauthor: Dee Fault\nsubtitle: Not This\n...\n",
    # A YAML input file is metadata (`pandoc front.yaml b.md a.md`), over the metadata file's.
    "front.yaml": "---\nsubtitle: A Subtitle\n---\n",
    "chapters/a.md": "# Second\n\nText two.\n",
    "chapters/b.md": "# First\n\nText one, with $x$ math.\n",
}


@pytest.mark.expect_warnings
def test_pandoc_defaults_file_is_read(tmp_path, caplog):
    book = write_book(tmp_path / "book", DEFAULTS)
    loaded = load_book(book)
    assert names(loaded) == ["chapters/b.md", "chapters/a.md"]
    config = loaded.config
    assert (config.title, config.authors, config.lang) == ("Defaults Book", ("Dee Fault",), "en")
    assert config.subtitle == "A Subtitle"
    assert (config.toc, config.number_sections, config.resource_path) == (False, True, ("images",))
    assert {f.reader for f in loaded.files} == {"markdown+smart"}
    assert loaded.project == "defaults.yaml (pandoc)"
    said = warnings(caplog)
    assert "`filters` not run: pandoc-crossref" in said
    # The same file given by name, under another name.
    (book / "defaults.yaml").rename(book / "print.yml")
    assert names(load_book(book / "print.yml")) == ["chapters/b.md", "chapters/a.md"]


@pytest.mark.expect_warnings
def test_pandoc_defaults_project_builds_without_book_yaml(tmp_path):
    book = write_book(tmp_path / "book", DEFAULTS)
    proc = run_build(book, tmp_path / "out", "--to", "epub")
    assert proc.returncode == 0, proc.stderr
    (epub,) = (tmp_path / "out").glob("*.epub")
    with zipfile.ZipFile(epub) as archive:
        opf = next(archive.read(n).decode() for n in archive.namelist() if n.endswith(".opf"))
        text = " ".join(
            archive.read(n).decode() for n in archive.namelist() if n.endswith(".xhtml")
        )
    assert "Defaults Book" in opf and "Dee Fault" in opf
    assert text.index("Text one") < text.index("Text two")  # input-files' order
    assert "pandoc-crossref" in proc.stderr


def test_unknown_project_names_what_quire_looked_for(tmp_path):
    folder = write_book(tmp_path / "book", {"notes.txt": "no book here", "README.md": "# R\n"})
    with pytest.raises(BuildError) as raised:
        load_book(folder)
    message = str(raised.value)
    assert (
        "no book found here: Quire looked for book.toml (mdBook), book.json or SUMMARY.md "
        "(GitBook, HonKit), defaults.yaml (pandoc), book.yaml (Quire) and chapter files (*.md)"
    ) in message


@pytest.mark.expect_warnings
def test_a_missing_summary_entry_is_refused_with_its_line(tmp_path):
    files = {**MDBOOK, "text/SUMMARY.md": "- [One](one.md)\n- [Gone](gone.md)\n"}
    files["text/one.md"] = "# One\n"
    with pytest.raises(BuildError) as raised:
        load_book(write_book(tmp_path / "book", files))
    assert "SUMMARY.md:2: chapter file `text/gone.md` listed in `SUMMARY.md` does not exist" in str(
        raised.value
    )


@pytest.mark.parametrize("book", ["perf-book", "embedded-book", "mostly-adequate"])
@pytest.mark.expect_warnings
def test_corpus_books_are_read_from_their_project_files(book):
    folder = (CORPUS / book).resolve()  # the readers give resolved paths
    if not folder.is_dir():
        pytest.skip("the corpus is not beside the project (../shared/corpus)")
    loaded = load_book(folder)
    summary_path = next(folder.rglob("SUMMARY.md"))
    summary = summary_path.read_text()
    base = summary_path.parent
    listed = [f.path.relative_to(base).as_posix() for f in loaded.files]
    listed = [n for n in listed if n != "README.md"]  # GitBook's introduction, listed or not
    # Every file is listed in SUMMARY.md, in its order.
    positions = [summary.index(n) for n in listed]
    assert positions == sorted(positions)
    assert "SUMMARY.md" not in names(loaded) and loaded.config.title


@pytest.mark.expect_warnings
def test_a_drafts_entries_take_its_place_and_web_pages_are_left_out(tmp_path, caplog):
    files = {
        "book.toml": '[book]\ntitle = "T"\nlanguage = "en"\n',
        "src/SUMMARY.md": (
            "- [One](one.md)\n"
            "- [Planned]()\n"
            "    - [Written](written.md)\n"
            "- [Elsewhere](https://example.org/page.md)\n"
        ),
        "src/one.md": "# One\n",
        "src/written.md": "# Written\n",
    }
    loaded = load_book(write_book(tmp_path / "book", files))
    # Not a section of One: its parent is a draft, so it opens a chapter of its own.
    assert [(f.path.name, f.depth) for f in loaded.files] == [("one.md", 0), ("written.md", 0)]
    said = warnings(caplog)
    assert "draft chapters with no file: “Planned”" in said
    assert "`https://example.org/page.md` is a web page, not a file of the book" in said


@pytest.mark.expect_warnings
def test_defaults_option_names_the_file_and_the_first_line_says_what_was_read(tmp_path):
    book = write_book(tmp_path / "book", DEFAULTS)
    (book / "defaults.yaml").rename(book / "print.yml")
    proc = subprocess.run(
        [sys.executable, "build.py", "--defaults", str(book / "print.yml"), "--to", "epub",
         "--out", str(tmp_path / "out")],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "2 files from print.yml (pandoc)" in proc.stdout
    both = run_build(book, tmp_path / "out", "--defaults", str(book / "print.yml"))
    assert both.returncode == 2 and "not both" in both.stderr

"""The book's structure comes from what the author listed: chapters, sections, parts, titles;
raw LaTeX is read by pandoc's LaTeX reader; epub:type prefixes are declared or dropped."""

from __future__ import annotations

import dataclasses
import logging
import re
import zipfile
from pathlib import Path

import lxml.html
import pymupdf
import pytest
from lxml import etree

from quire import pipeline
from quire.load import load as load_book
from quire.load import manuscript as load_stage
from quire.parse import pandoc
from quire.pipeline import build
from quire.render.pdf.html import contents_nav
from quire.transform import transform
from quire.validate import run_epubcheck

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
XHTML = "{http://www.w3.org/1999/xhtml}"
NCX = "{http://www.daisy.org/z3986/2005/ncx/}"


def write_book(folder: Path, files: dict[str, str], settings: str = "") -> Path:
    """A book of these files, listed in this order in its book.yaml."""
    folder.mkdir(parents=True)
    listed = ", ".join(name for name in files if name.endswith(".md"))
    (folder / "book.yaml").write_text(
        f"title: Structure\nauthor: A. Writer\nlang: en\n{settings}chapters: [{listed}]\n"
    )
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def transformed(folder: Path, **entries: dict):
    """The book loaded (each file's project-file entry changed as `entries` say) and
    transformed."""
    loaded = load_book(folder)
    loaded = _with_entries(loaded, entries)
    return transform(loaded, pandoc.parse_all(loaded.files))


def _with_entries(loaded: load_stage.Manuscript, entries: dict) -> load_stage.Manuscript:
    """The manuscript with what a SUMMARY.md would say of each file (depth, part, title...)."""
    files = tuple(
        dataclasses.replace(f, **entries.get(Path(f.name).stem.replace("-", "_"), {}))
        for f in loaded.files
    )
    return dataclasses.replace(loaded, files=files)


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


# A chapter as pandoc reads Standard Ebooks' XHTML: a fenced div, its heading `##`.
DIV_CHAPTER = """::: {{#chapter-{n} .section .chapter epub:type="chapter"}}
## {title} {{#{slug} epub:type="z3998:ordinal z3998:roman"}}

Text of chapter {title}, with [Mr.]{{epub:type="z3998:name-title"}} Bennet{more}.
:::
"""


def div_chapter(n: int, title: str, more: str = "") -> str:
    return DIV_CHAPTER.format(n=n, title=title, slug=title.lower(), more=more)


def test_listed_files_opening_with_a_level_two_heading_in_a_div_are_chapters(tmp_path):
    folder = write_book(
        tmp_path / "book",
        {
            f"chapter-{n}.md": div_chapter(n, title)
            for n, title in ((1, "I"), (2, "II"), (3, "III"))
        },
    )
    book = transformed(folder)
    assert [(c.title, c.role, c.kind) for c in book.chapters] == [
        ("I", "body", "chapter"),
        ("II", "body", "chapter"),
        ("III", "body", "chapter"),
    ]
    for n, chapter in enumerate(book.chapters, 1):
        # The div's section is the chapter's: it opens with its heading, as print.css expects
        # (a level-1 section breaks to a recto, its h1 gives the running head and bookmark).
        body = chapter.body
        assert body.tag == "section" and "level1" in body.get("class").split()
        assert body.get("id") == f"chapter-{n}"
        assert body[0].tag == "h1" and body[0].get("id") == chapter.title.lower()


def test_listed_level_two_files_are_not_merged_into_the_chapter_before(tmp_path):
    folder = write_book(
        tmp_path / "book",
        {"one.md": "# One\n\nText one.\n", "two.md": "## Two\n\nText two.\n\n### Deeper\n"},
    )
    book = transformed(folder)
    assert [c.title for c in book.chapters] == ["One", "Two"]
    two = book.chapters[1]
    assert two.body[0].tag == "h1" and [(h.title, h.level) for h in two.headings] == [("Deeper", 2)]


def test_lower_headings_and_comments_before_a_heading_open_no_chapter_of_their_own(tmp_path):
    folder = write_book(
        tmp_path / "book",
        {
            # Several `####` and no higher: sections of one front-matter chapter, named in the
            # contents by its first heading (a listed file is never left out of it).
            "preface.md": "#### Abstract {-}\n\nText.\n\n#### Licence {-}\n\nMore.\n",
            "one.md": "<!-- a note to self -->\n\n# One\n\nText one.\n",
            "notes.md": " <!-- another -->\n\n## Notes\n\nText of the notes.\n",
        },
    )
    book = transformed(folder)
    assert [(c.title, c.role) for c in book.chapters] == [
        ("Abstract", "front"),
        ("One", "body"),
        ("Notes", "body"),
    ]
    assert [(h.title, h.level) for h in book.chapters[0].headings] == [
        ("Abstract", 2),
        ("Licence", 2),
    ]
    assert all(c.body[0].tag == "h1" for c in book.chapters[1:])


def test_a_listed_file_without_a_heading_takes_its_yaml_title(tmp_path):
    folder = write_book(
        tmp_path / "book",
        {
            "one.md": "# One\n\nText one.\n",
            "declaration.md": "---\ntitle: Declaration\n---\n\nI confirm that this is my work.\n",
            "plain.md": "Text with no heading and no title.\n",
        },
    )
    book = transformed(folder)
    assert [(c.title, c.role) for c in book.chapters] == [
        ("One", "body"),
        ("Declaration", "body"),
        ("", "body"),  # untitled: in the spine, not the contents; never the file's name
    ]
    assert text_of(book.chapters[1].body.find("h1")) == "Declaration"
    assert "unnumbered" in book.chapters[2].body.get("class").split()


def test_a_listed_file_titled_by_its_entry(tmp_path):
    folder = write_book(tmp_path / "book", {"one.md": "# One\n\nText.\n", "two.md": "Text.\n"})
    book = transformed(folder, one={"title": "The First"}, two={"title": "The Second"})
    assert [c.title for c in book.chapters] == ["The First", "The Second"]


def read_epub(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.expect_warnings
def test_epub_type_prefixes_are_declared_or_dropped_and_epubcheck_is_clean(tmp_path, caplog):
    folder = write_book(
        tmp_path / "book",
        {
            "chapter-1.md": div_chapter(1, "I"),
            "chapter-2.md": div_chapter(
                2, "II", ', a [letter]{epub:type="se:letter.dateline"} and [x]{epub:type="zz:odd"}'
            ),
        },
    )
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="quire"):
        build(folder, out, ("epub",), lambda *a: None)
    epub = next(out.glob("*.epub"))
    assert run_epubcheck(epub).findings == ()
    files = read_epub(epub)
    nav = etree.fromstring(files["EPUB/nav.xhtml"])
    toc = nav.find(f".//{XHTML}nav[@id='toc']")
    assert [text_of(a) for a in toc.iter(f"{XHTML}a")] == ["I", "II"]
    second = files["EPUB/text/02-chapter-2.xhtml"].decode()
    assert 'epub:type="se:letter.dateline"' in second and "zz:" not in second
    assert "epub:prefix=" in second and "standardebooks.org" in second
    assert ["chapter-2.md:4: epub:type prefix `zz:`" in m for m in caplog.messages].count(True) == 1


def test_raw_latex_keeps_its_text_and_the_books_macros_apply(tmp_path):
    folder = write_book(
        tmp_path / "book",
        {
            "macros.tex": "\\newcommand{\\Z}{\\mathbb{Z}}\n",
            "one.md": "# Declaration\n\n\\newcommand{\\R}{\\mathbb{R}}\n\n"
            "\\textit{I, A. Writer, confirm that this work is my own.}\n\n"
            "Text \\textbf{bold} here.\n",
            "two.md": "# Two\n\nA formula $\\R^2$, $\\N$ and $\\Z$.\n",
        },
        "header-includes: |\n  \\newcommand{\\N}{\\mathbb{N}}\n  \\input{macros.tex}\n",
    )
    one, two = transformed(folder).chapters
    emphasis = one.body.find(".//em")
    assert text_of(emphasis) == "I, A. Writer, confirm that this work is my own."
    assert text_of(one.body.find(".//strong")) == "bold"
    formulas = [text_of(m.find(".//annotation")) for m in two.body.iter("math")]
    assert formulas == ["\\mathbb{R}^2", "\\mathbb{N}", "\\mathbb{Z}"]


@pytest.mark.expect_warnings
def test_layout_commands_are_dropped_with_one_warning_per_command(tmp_path, caplog):
    folder = write_book(
        tmp_path / "book",
        {"one.md": "# One\n\n\\vspace{1em}\n\nText \\hfill more.\n\n\\vspace{2em}\n\nEnd.\n"},
    )
    with caplog.at_level(logging.WARNING, logger="quire"):
        (one,) = transformed(folder).chapters
    dropped = [m for m in caplog.messages if "raw LaTeX" in m]
    assert len(dropped) == 2, dropped
    assert "one.md:3: raw LaTeX `\\vspace` dropped" in dropped[0]
    assert "one.md:5: raw LaTeX `\\hfill` dropped" in dropped[1]
    assert text_of(one.body) == "One Text more. End."


# A book as a SUMMARY.md lays it out: a prefix chapter, a part, a chapter with its sections.
OUTLINED = {
    "intro.md": "# Opening Words\n\nOpening text.\n",
    "one.md": "# One\n\nText of one.\n",
    "one-a.md": "Section text without a heading.\n",
    "one-b.md": "# Details\n\nDetail text.\n\n## Finer\n\nFiner text.\n",
    "one-c.md": "## Alpha\n\nAlpha text.\n\n## Beta\n\nBeta text.\n",
    "two.md": "# Two\n\nText of two, after [the details](one-b.md) and [more](one-c.html).\n",
}
ENTRIES = {
    "intro": {"numbered": False},
    "one": {"part": "Part One", "title": "The First"},
    "one_a": {"depth": 1, "title": "A Section"},
    "one_b": {"depth": 1},
    "one_c": {"depth": 1, "title": "Gamma Entry"},  # its headings are its sections
}


@pytest.fixture(scope="module")
def outlined(tmp_path_factory):
    """The book built to EPUB and PDF, its files' entries set as a SUMMARY.md sets them."""
    # No printed contents: its page is checked in the test below, and its entries, with their
    # page numbers, are not what this book tests.
    folder = write_book(tmp_path_factory.mktemp("outlined") / "book", OUTLINED, "toc: false\n")
    out = folder.parent / "out"
    patch = pytest.MonkeyPatch()
    patch.setattr(pipeline, "load", lambda source: _with_entries(load_book(source), ENTRIES))
    try:
        build(folder, out, ("epub", "pdf"), lambda *a: None)
    finally:
        patch.undo()
    return out


def nav_tree(ol, ns: str = XHTML) -> list:
    """The contents' nested lists as [(title, [children...]), ...]."""
    return [
        (
            text_of(li.find(f"{ns}a")),
            nav_tree(li.find(f"{ns}ol"), ns) if li.find(f"{ns}ol") is not None else [],
        )
        for li in ol.findall(f"{ns}li")
    ]


def test_depth_part_title_and_numbered_in_the_epub_nav(outlined):
    files = read_epub(next(outlined.glob("*.epub")))
    nav = etree.fromstring(files["EPUB/nav.xhtml"])
    toc = nav.find(f".//{XHTML}nav[@id='toc']/{XHTML}ol")
    # The nav goes two levels deep (chapters and sections), and a part is a level above.
    assert nav_tree(toc) == [
        ("Opening Words", []),
        (
            "Part One",
            [("The First", [("A Section", []), ("Details", []), ("Gamma Entry", [])]), ("Two", [])],
        ),
    ]
    ncx = etree.fromstring(files["EPUB/toc.ncx"])
    labels = [text_of(p.find(f"{NCX}navLabel")) for p in ncx.iter(f"{NCX}navPoint")]
    assert labels == [
        "Opening Words",
        "Part One",
        "The First",
        "A Section",
        "Details",
        "Gamma Entry",
        "Two",
    ]
    assert run_epubcheck(next(outlined.glob("*.epub"))).findings == ()


def test_depth_part_title_and_numbered_in_the_pdf(outlined):
    with pymupdf.open(next(outlined.glob("*.pdf"))) as pdf:
        outline = [(level, title) for level, title, _page in pdf.get_toc()]
        pages = [" ".join(page.get_text().split()) for page in pdf]
    assert outline == [
        (1, "Opening Words"),
        (1, "Part One"),
        (2, "The First"),
        (3, "A Section"),
        (3, "Details"),
        (4, "Finer"),
        (3, "Gamma Entry"),
        (4, "Beta"),
        (2, "Two"),
    ]

    def page_of(text: str) -> int:
        return next(n for n, page in enumerate(pages) if text in page)

    assert "Chapter" not in pages[page_of("Opening text.")]  # numbered: false
    assert "Chapter 1" in pages[page_of("Text of one.")]
    assert "Chapter 2" in pages[page_of("Text of two")]
    # Each listed section opens a page of its own, in its chapter (no chapter number of its own).
    assert page_of("Section text without a heading.") == page_of("Text of one.") + 1
    assert page_of("Detail text.") == page_of("Section text without a heading.") + 1
    assert "Chapter" not in pages[page_of("Detail text.")]
    assert page_of("Alpha text.") == page_of("Finer text.") + 1
    # The part has a title page of its own, before its first chapter.
    assert pages[page_of("Part One")].strip().startswith("Part One")
    assert page_of("Part One") < page_of("Text of one.")


def test_a_link_to_a_file_listed_as_a_section_lands_on_its_section(tmp_path):
    folder = write_book(tmp_path / "book", OUTLINED)
    book = transformed(folder, **ENTRIES)
    one, two = (c for c in book.chapters if c.title in ("The First", "Two"))
    hrefs = [a.get("href") for a in two.body.iter("a")]
    sections = one.body.xpath(".//div[@class='listed-section']")
    assert hrefs == [f"#{sections[1].get('id')}", f"#{sections[2].get('id')}"]
    assert sections[1].find(".//h2").text == "Details"


def test_depth_part_and_title_in_the_printed_contents(tmp_path):
    folder = write_book(tmp_path / "book", OUTLINED)
    book = transformed(folder, **ENTRIES)
    nav = lxml.html.fragment_fromstring(contents_nav(book, "contents"))
    tree = nav_tree(nav.find("ol"), "")
    assert tree == [
        ("Opening Words", []),
        (
            "Part One",
            [("The First", [("A Section", []), ("Details", []), ("Gamma Entry", [])]), ("Two", [])],
        ),
    ]  # toc-depth 1: the listed sections, not the heading under one


@pytest.mark.skipif(not (CORPUS / "pride-and-prejudice").is_dir(), reason="no corpus folder")
def test_pride_and_prejudice_has_a_chapter_for_each_listed_file(tmp_path):
    book = transformed(CORPUS / "pride-and-prejudice")
    assert len(book.chapters) == 61
    assert all(c.role == "body" and c.kind == "chapter" for c in book.chapters)
    assert [c.title for c in book.chapters[:3]] == ["I", "II", "III"]
    assert re.fullmatch(r"[IVXL]+", book.chapters[-1].title)


def test_a_slug_cut_at_forty_characters_ends_in_a_letter():
    """The name of a book's files (and of its chapters' documents) never ends in the hyphen
    that stood between two words where it was cut: Mostly Adequate's PDF was `…-guide-.pdf`."""
    from quire.transform.structure import ascii_slug

    slug = ascii_slug("Professor Frisby's Mostly Adequate Guide to Functional Programming")
    assert slug == "professor-frisbys-mostly-adequate-guide"
    assert ascii_slug("Été – “quoted” ") == "ete-quoted"

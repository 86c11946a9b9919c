"""Numbered cross-references in pandoc-crossref's syntax and in Quarto's (issue 26): captions
numbered, every reference a link to its target with the right number, in the EPUB and the PDF."""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from quire.errors import Problem

XHTML = "{http://www.w3.org/1999/xhtml}"
GROUP = "unresolved cross-references"
# Blank lines around each reference target, as pandoc-crossref's own demo writes them.
CROSSREF_ONE = """# Beginnings {#sec:begin}

As @fig:red shows, and [@fig:red; @fig:green] agree, with -@tbl:data and @eq:energy.
See @sec:more, and [see @fig:missing] too.

![A red square](a.png){#fig:red}

![A green square](b.png){#fig:green}

| a | b |
|---|---|
| 1 | 2 |

: Some data {#tbl:data}

$$ E = mc^2 $$ {#eq:energy}
"""
CROSSREF_TWO = """# More {#sec:more}

## A subsection {#sec:sub}

Back to @fig:blue; all of [@fig:red; @fig:green; @fig:blue], and @sec:sub.

![A blue square](c.png){#fig:blue}

![Not labelled, so not numbered](c.png)
"""
QUARTO_ONE = """# Start {#sec-start}

Look at @fig-red and [-@fig-red; -@fig-green], then @tbl-data, @eq-sum and @sec-end.

![Red](a.png){#fig-red}

![Green](b.png){#fig-green}

| a | b |
|---|---|
| 1 | 2 |

: Data {#tbl-data}

$$ a + b $$ {#eq-sum}

$$ a - b $$ {#eq-difference}

# End {#sec-end}

@Fig-red once more, and @eq-difference; the divs: @fig-div and @tbl-div.

::: {#fig-div}
![](c.png)

A blue square in a div.
:::

::: {#tbl-div}
| c | d |
|---|---|
| 3 | 4 |

Numbers in a div.
:::
"""


def write(root: Path, files: dict[str, str]) -> Path:
    """Files written under root (three small images beside them), root returned."""
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    for name, colour in (("a", "red"), ("b", "green"), ("c", "blue")):
        Image.new("RGB", (60, 40), colour).save(root / f"{name}.png")
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def crossref_book(root: Path, settings: str = "") -> Path:
    """A two-chapter book in pandoc-crossref's syntax, with `figPrefix` as a list."""
    book_yaml = (
        "title: Crossref\nauthor: A. Writer\nlang: en\nchapters: [one.md, two.md]\n"
        "figPrefix: [fig., figs.]\n" + settings
    )
    return write(root, {"book.yaml": book_yaml, "one.md": CROSSREF_ONE, "two.md": CROSSREF_TWO})


def built(source: Path, out: Path) -> tuple[dict[str, etree._Element], str, list[Problem]]:
    """The book built to EPUB and PDF: each EPUB chapter's XHTML, the PDF's text, the warnings."""
    import pymupdf

    from quire.errors import Findings
    from quire.pipeline import build

    with Findings() as findings:
        written = build(source, out, ("epub", "pdf"), lambda *a: None)
    paths = {w.format: w.path for w in written}
    with zipfile.ZipFile(paths["epub"]) as epub:
        pages = {
            Path(name).name: etree.fromstring(epub.read(name))
            for name in epub.namelist()
            if name.endswith(".xhtml") and "/text/" in name
        }
    with pymupdf.open(paths["pdf"]) as pdf:
        text = "\n".join(page.get_text() for page in pdf)
    return pages, text, [f.problem for f in findings.found if f.group == GROUP]


def references(pages: dict[str, etree._Element]) -> list[tuple[str, str]]:
    """(text, href) of every cross-reference link, in reading order, each checked to land."""
    found = []
    for name in sorted(pages):
        for link in pages[name].iter(f"{XHTML}a"):
            if "cross-reference" not in link.get("class", "").split():
                continue
            href = link.get("href")
            file, _, ident = href.rpartition("#")
            target = pages[file or name].xpath("//*[@id=$i]", i=ident)
            assert target, f"{href} in {name} lands nowhere"
            found.append((squeeze(link.xpath("string()")), href))
    return found


def caption_numbers(pages: dict[str, etree._Element]) -> list[tuple[str, str]]:
    """(id, caption text) of each figure and table, in reading order."""
    found = []
    for name in sorted(pages):
        for element in pages[name].iter(f"{XHTML}figure", f"{XHTML}table"):
            caption = element.find(f"{XHTML}figcaption")
            caption = element.find(f"{XHTML}caption") if caption is None else caption
            found.append((element.get("id"), squeeze(caption.xpath("string()"))))
    return found


def squeeze(text: str) -> str:
    """Runs of spaces and line breaks as one space (no-break spaces kept, they are meant)."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def flat(text: str) -> str:
    """The PDF's text on one line, without the "(page N)" print adds after a reference."""
    joined = squeeze(text.replace("\u2010\n", ""))  # a word hyphenated at a line's end, whole
    return re.sub(r" \(page [0-9ivx]+\)", "", joined)


@pytest.fixture(scope="module")
def crossref_built(tmp_path_factory):
    root = crossref_book(tmp_path_factory.mktemp("crossref") / "book")
    return built(root, tmp_path_factory.mktemp("crossref-out"))


@pytest.fixture(scope="module")
def quarto_built(tmp_path_factory):
    root = write(
        tmp_path_factory.mktemp("quarto") / "book",
        {"book.md": "---\ntitle: Quarto\nlang: en\n---\n\n" + QUARTO_ONE},
    )
    return built(root / "book.md", tmp_path_factory.mktemp("quarto-out"))


@pytest.mark.expect_warnings
def test_crossref_syntax_every_reference_linked_with_its_number_in_the_epub(crossref_built):
    pages, _, _ = crossref_built
    one, two = "01-sec-begin.xhtml", "02-sec-more.xhtml"
    assert references(pages) == [
        ("fig.\u00a01", "#fig:red"),  # figPrefix's singular
        ("1", "#fig:red"),  # `[@fig:red; @fig:green]`: its plural before the numbers
        ("2", "#fig:green"),
        ("1", "#tbl:data"),  # `-@tbl:data`: the number alone
        ("Equation\u00a01", "#eq:energy"),
        ("Section\u00a02", f"{two}#sec:more"),
        ("fig.\u00a03", "#fig:blue"),
        ("1", f"{one}#fig:red"),  # three in a row: a range, its ends linked
        ("3", "#fig:blue"),
        ("Section\u00a02.1", "#sec:sub"),
    ]
    text = squeeze(pages[one].xpath("string(//*[local-name()='p'])"))
    assert "figs.\u00a01 and 2 agree, with 1 and Equation\u00a01." in text
    assert squeeze(pages[two].xpath("string(//*[local-name()='p'])")).startswith(
        "Back to fig.\u00a03; all of figs.\u00a01\u20133, and Section\u00a02.1."
    )
    assert caption_numbers(pages) == [
        ("fig:red", "Figure\u00a01: A red square"),
        ("fig:green", "Figure\u00a02: A green square"),
        ("tbl:data", "Table\u00a01: Some data"),
        ("fig:blue", "Figure\u00a03: A blue square"),
        ("quire-figure-4", "Not labelled, so not numbered"),  # as pandoc-crossref leaves it
    ]
    (equation,) = pages[one].xpath("//*[@id='eq:energy']")
    assert equation.xpath("string(.//*[local-name()='annotation'])").endswith(r"\qquad(1)")


@pytest.mark.expect_warnings
def test_crossref_syntax_resolved_in_the_pdf(crossref_built):
    _, text, _ = crossref_built
    text = flat(text)
    assert "As fig.\u00a01 shows, and figs.\u00a01 and 2 agree, with 1 and Equation\u00a01." in text
    assert "See Section\u00a02, and see fig.\u00a0?? too." in text
    assert "Back to fig.\u00a03; all of figs.\u00a01\u20133, and Section\u00a02.1." in text
    for caption in ("Figure\u00a01: A red square", "Table\u00a01: Some data"):
        assert caption in text
    assert "@fig" not in text and "@sec" not in text


@pytest.mark.expect_warnings
def test_an_unknown_reference_warns_with_its_line_and_prints_question_marks(crossref_built):
    pages, _, problems = crossref_built
    (problem,) = problems
    assert (Path(problem.file).name, problem.line) == ("one.md", 4)
    assert "@fig:missing" in problem.message and "??" in problem.hint
    (unresolved,) = pages["01-sec-begin.xhtml"].xpath("//*[@class='unresolved-reference']")
    assert unresolved.xpath("string()") == "fig.\u00a0??"
    assert unresolved.tag != f"{XHTML}a"  # no link to a target that does not exist


@pytest.mark.expect_warnings
def test_quarto_syntax_every_reference_linked_with_its_number(quarto_built):
    pages, text, problems = quarto_built
    assert problems == []
    found = [(words, href.rpartition("#")[2]) for words, href in references(pages)]
    assert found == [
        ("Figure\u00a01", "fig-red"),
        ("1", "fig-red"),  # `-@` leaves the prefix out
        ("2", "fig-green"),
        ("Table\u00a01", "tbl-data"),
        ("Equation\u00a01", "eq-sum"),
        ("Section\u00a02", "sec-end"),
        ("Figure\u00a01", "fig-red"),  # `@Fig-red` names fig-red, capitalised
        ("Equation\u00a02", "eq-difference"),
        ("Figure\u00a03", "fig-div"),
        ("Table\u00a02", "tbl-div"),
    ]
    assert caption_numbers(pages) == [
        ("fig-red", "Figure\u00a01: Red"),
        ("fig-green", "Figure\u00a02: Green"),
        ("tbl-data", "Table\u00a01: Data"),
        ("fig-div", "Figure\u00a03: A blue square in a div."),  # the div's last paragraph
        ("tbl-div", "Table\u00a02: Numbers in a div."),
    ]
    text = flat(text)
    assert "Look at Figure\u00a01 and 1 and 2, then Table\u00a01, Equation\u00a01 and" in text
    assert "Figure\u00a01 once more, and Equation\u00a02; the divs: Figure\u00a03 and" in text


def transformed(root: Path):  # noqa: ANN201 - a quire.transform.Book
    """A book folder read, parsed and transformed (no output made)."""
    from quire.load import load
    from quire.parse import pandoc
    from quire.transform import transform

    loaded = load(root)
    return transform(loaded, pandoc.parse_all(loaded.files))


def book_text(book) -> str:  # noqa: ANN001
    return " ".join(squeeze(c.body.xpath("string()")) for c in book.chapters)


@pytest.mark.expect_warnings
def test_chapters_number_within_each_chapter(tmp_path):
    # pandoc-crossref's `chapters: true` in the document's metadata (book.yaml's `chapters:`
    # lists the chapter files); prefixes as a list and as one string.
    settings = "---\ntitle: T\nlang: en\nchapters: true\nsecPrefix: [sec., secs.]\n---\n\n"
    root = write(tmp_path / "book", {"book.md": settings + CROSSREF_ONE + "\n" + CROSSREF_TWO})
    text = book_text(transformed(root / "book.md"))
    assert "Figures\u00a01.1 and 1.2 agree, with 1.1 and Equation\u00a01.1." in text
    assert "See sec.\u00a02, and" in text  # secPrefix's singular
    assert "Figure\u00a02.1: A blue square" in text and "Figure\u00a01.2: A green" in text
    assert "all of Figures\u00a01.1, 1.2 and 2.1, and sec.\u00a02.1." in text


@pytest.mark.expect_warnings
def test_section_references_agree_with_printed_section_numbers(tmp_path):
    book = transformed(crossref_book(tmp_path / "book", "number-sections: true\n"))
    text = book_text(book)
    assert "Section\u00a02.1." in text
    (heading,) = book.chapters[1].body.xpath("//*[@id='sec:sub']/h2")
    assert heading.xpath("string()").startswith("2.1")


def test_a_citation_beside_a_reference_stays_a_citation(tmp_path, caplog):
    root = write(
        tmp_path / "book",
        {
            "book.yaml": "title: T\nlang: en\nreferences:\n  - id: smith\n    type: book\n"
            "    title: A Book\n    author: [{family: Smith}]\n    issued: {date-parts: [[2001]]}\n",
            "one.md": "# One\n\nSee [@fig:a; @smith].\n\n![A](a.png){#fig:a}\n",
        },
    )
    with caplog.at_level(logging.WARNING, logger="quire"):
        text = book_text(transformed(root))
    assert "See Figure\u00a01; (Smith 2001)." in text
    assert not caplog.records


def test_lists_of_figures_number_their_entries(tmp_path):
    root = crossref_book(tmp_path / "book", "lof: true\n")
    (root / "one.md").write_text(CROSSREF_ONE.replace(", and [see @fig:missing] too", ""))
    from quire.transform import list_entries

    entries = [e.text for e in list_entries(transformed(root).chapters, "list-of-figures")]
    assert entries == [  # the list's text is the caption's, its spaces made plain
        "Figure 1: A red square",
        "Figure 2: A green square",
        "Figure 3: A blue square",
        "Not labelled, so not numbered",
    ]


@pytest.mark.expect_warnings
def test_the_web_edition_links_every_reference_to_its_target(tmp_path):
    import lxml.html

    from quire.pipeline import build

    root = crossref_book(tmp_path / "book")
    [site] = [w for w in build(root, tmp_path / "out", ("html",), lambda *a: None)]
    pages = {p.name: lxml.html.parse(str(p)).getroot() for p in site.path.glob("0*.html")}
    found = []
    for name in sorted(pages):
        for link in pages[name].xpath("//a[contains(@class, 'cross-reference')]"):
            file, _, ident = link.get("href").rpartition("#")
            assert pages[file or name].xpath("//*[@id=$i]", i=ident), link.get("href")
            found.append((squeeze(link.text_content()), ident))
    assert found == [
        ("fig.\u00a01", "fig:red"),
        ("1", "fig:red"),
        ("2", "fig:green"),
        ("1", "tbl:data"),
        ("Equation\u00a01", "eq:energy"),
        ("Section\u00a02", "sec:more"),
        ("fig.\u00a03", "fig:blue"),
        ("1", "fig:red"),
        ("3", "fig:blue"),
        ("Section\u00a02.1", "sec:sub"),
    ]


@pytest.mark.expect_warnings
def test_sections_count_as_print_counts_chapters_and_an_unnumbered_one_is_named(tmp_path):
    root = crossref_book(tmp_path / "book", "front-matter: [preface.md]\n")
    (root / "preface.md").write_text(
        "# Preface {#sec:preface}\n\nRead @sec:more, then @sec:sub.\n\n"
        "## Thanks {#sec:thanks .unnumbered}\n"
    )
    (root / "two.md").write_text(CROSSREF_TWO + "\nBack to @sec:preface and @sec:thanks.\n")
    book = transformed(root)
    text = book_text(book)
    assert "Read Section\u00a02, then Section\u00a02.1." in text  # "Chapter 2" in print
    assert "Back to Preface and Thanks." in text
    links = [a.get("href") for c in book.chapters for a in c.body.iter("a")]
    assert "#sec:preface" in links or any(h.endswith("#sec:preface") for h in links)


@pytest.mark.expect_warnings
def test_chapters_depth_numbers_within_sections(tmp_path):
    text = (
        "---\ntitle: T\nlang: en\nchapters: true\nchaptersDepth: 2\n---\n\n# A\n\n## B\n\n"
        "![X](a.png){#fig:x}\n\n## C\n\n![Y](b.png){#fig:y}\n\nSee [@fig:x; @fig:y].\n"
    )
    root = write(tmp_path / "book", {"book.md": text})
    text = book_text(transformed(root / "book.md"))
    assert "Figure\u00a01.1.1: X" in text and "Figure\u00a01.2.1: Y" in text
    assert "See Figures\u00a01.1.1 and 1.2.1." in text


@pytest.mark.expect_warnings
def test_the_words_are_the_books_language(tmp_path):
    text = (
        "---\ntitle: T\nlang: de\n---\n\n# Eins {#sec:eins}\n\n![X](a.png){#fig:x}\n\n"
        "![Y](b.png){#fig:y}\n\n| a |\n|---|\n| 1 |\n\n: Zahlen {#tbl:z}\n\n"
        "Siehe [@fig:x; @fig:y], @tbl:z und @sec:eins.\n"
    )
    root = write(tmp_path / "book", {"book.md": text})
    text = book_text(transformed(root / "book.md"))
    assert "Abbildung\u00a01: X" in text and "Tabelle\u00a01: Zahlen" in text  # pandoc's words
    assert "Siehe Abbildungen\u00a01 und 2, Tabelle\u00a01 und Abschnitt\u00a01." in text

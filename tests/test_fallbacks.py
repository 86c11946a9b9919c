"""Graceful fallbacks: what a real book brings that Quire cannot use as it is builds, with a
warning that says where it is and what Quire did instead (issue 22)."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import conftest
import pytest
from lxml import etree
from PIL import Image

from quire.errors import BuildError
from quire.load import fetch
from quire.load import load as load_book
from quire.pipeline import build
from quire.validate import ace_available, run_ace

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
H = "{http://www.w3.org/1999/xhtml}"
NS = {"opf": "http://www.idpf.org/2007/opf", "h": H[1:-1]}
pytestmark = pytest.mark.expect_warnings  # each test checks the warnings its build gives


def write_book(folder: Path, files: dict[str, str | bytes]) -> Path:
    """A book's files (text or bytes), written into `folder`; small PNGs for `*.png` names."""
    pngs = [name for name, content in files.items() if name.endswith(".png") and content == ""]
    conftest.write_book(folder, {k: v for k, v in files.items() if k not in pngs})
    for name in pngs:
        Image.new("RGB", (60, 40), (90, 120, 150)).save(folder / name)
    return folder


def warnings_of(caplog: pytest.LogCaptureFixture, group: str) -> list[str]:
    """The warnings of one group a build logged, each as `file:line: message (hint)`."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and getattr(r, "quire_group", None) == group
    ]


def epub_of(folder: Path, out: Path) -> Path:
    """Build a book's EPUB in-process and return its path."""
    [written] = build(folder, out, ("epub",), lambda *a: None)
    return written.path


def chapter_xhtml(epub: Path) -> list[etree._Element]:
    """The EPUB's chapter documents, parsed, in name order."""
    with zipfile.ZipFile(epub) as archive:
        names = sorted(
            n for n in archive.namelist() if n.startswith("EPUB/text/") and "cover" not in n
        )
        return [etree.fromstring(archive.read(n)) for n in names if n.endswith(".xhtml")]


def package_meta(epub: Path, prop: str) -> list[str]:
    """The values of one <meta property> of the EPUB's package document."""
    with zipfile.ZipFile(epub) as archive:
        opf = etree.fromstring(archive.read("EPUB/package.opf"))
    return [m.text for m in opf.iterfind(f".//opf:meta[@property='{prop}']", NS)]


# ---------- pandoc metadata Quire does not use -------------------------------------------------

THESIS_METADATA = """\
---
title: A Thesis
author: A. Student
lang: en-GB
mainlang: english
otherlang: german
linkReferences: true
location: Cambridge
supervisor: Prof. B. Adviser
degree: Doctor of Philosophy
figPrefix: [Figure, Figures]
mainfont: Palatino
...
"""


def test_pandoc_metadata_keys_are_kept_and_named_once(tmp_path, caplog):
    book = write_book(
        tmp_path / "book",
        {
            "book.yaml": "metadata-file: meta.yaml\nchapters: [one.md]\n",
            "meta.yaml": THESIS_METADATA,
            "one.md": "# One\n\nText.\n",
        },
    )
    config = load_book(book).config
    kept = dict(config.pandoc_metadata)
    assert kept["supervisor"] == '"Prof. B. Adviser"'
    assert kept["figPrefix"] == '["Figure", "Figures"]'
    assert {"mainlang", "otherlang", "linkReferences", "location", "degree", "mainfont"} <= set(
        kept
    )
    assert config.title == "A Thesis" and config.lang == "en-GB"
    [note] = warnings_of(caplog, "pandoc settings Quire does not use")
    assert "book/meta.yaml:5: pandoc settings not used:" in note  # at the first such key
    for key in ("mainlang", "otherlang", "linkReferences", "location", "supervisor", "degree"):
        assert f"`{key}`" in note
    assert "did you mean" not in note  # `mainlang` is not a slip of `lang`


def test_pandoc_crossref_settings_are_read_not_named_as_unused(tmp_path, caplog):
    """`chapters: true` is pandoc-crossref's numbering, not Quire's list of chapter files."""
    text = "---\ntitle: T\nlang: en\nchapters: true\nfigPrefix: Fig.\ndegree: PhD\n---\n\n# One\n"
    config = load_book(write_book(tmp_path / "b", {"book.md": text}) / "book.md").config
    assert dict(config.pandoc_metadata) == {
        "chapters": "true",
        "figPrefix": '"Fig."',
        "degree": '"PhD"',
    }
    [note] = warnings_of(caplog, "pandoc settings Quire does not use")
    assert "`degree`" in note and "chapters" not in note and "figPrefix" not in note


def test_a_misspelt_book_yaml_key_is_a_warning_with_the_setting_it_means(tmp_path, caplog):
    book = write_book(
        tmp_path / "book",
        {
            "book.yaml": "title: T\nlangauge: en\nallow_remote: false\nsupervisor: X\n",
            "one.md": "# One\n",
        },
    )
    config = load_book(book).config
    slips = warnings_of(caplog, "unknown settings")
    assert len(slips) == 2
    assert (
        "book.yaml:2: unknown setting `langauge`" in slips[0]
        and "did you mean `language`?" in slips[0]
    )
    assert "did you mean `allow-remote`?" in slips[1]
    # Not a slip of a setting: kept as pandoc metadata and named in the one note instead.
    assert dict(config.pandoc_metadata) == {"supervisor": '"X"'}
    assert config.lang is None  # the misspelt setting is not guessed into effect


def test_a_bad_value_of_a_setting_is_still_an_error(tmp_path):
    book = write_book(
        tmp_path / "book", {"book.yaml": "title: T\ntrim: huge\nmainlang: x\n", "one.md": "# One\n"}
    )
    with pytest.raises(BuildError, match="`trim` is 'huge'"):
        load_book(book)


# ---------- images without alt text ---------------------------------------------------------------

UNDESCRIBED_BOOK = {
    "book.yaml": "title: Pictures\nauthor: A. Tester\nlang: en\nchapters: [one.md, two.md]\n",
    "one.md": "# One\n\nA chart:\n\n![](chart.png)\n\nA described one:\n\n![A map of the coast](map.png)\n",
    "two.md": '# Two\n\nRaw:\n\n<img src="photo.png">\n\nDecorative:\n\n![](rule.png){alt=""}\n',
    "chart.png": "",
    "map.png": "",
    "photo.png": "",
    "rule.png": "",
}


@pytest.fixture(scope="module")
def undescribed(tmp_path_factory) -> tuple[Path, list[str]]:
    """The EPUB of a book with two images without alt text, and the warnings of its build."""
    folder = write_book(tmp_path_factory.mktemp("undescribed") / "book", UNDESCRIBED_BOOK)
    handler = _Collect()
    logging.getLogger("quire").addHandler(handler)
    try:
        epub = epub_of(folder, folder.parent / "out")
    finally:
        logging.getLogger("quire").removeHandler(handler)
    return epub, [
        r.getMessage()
        for r in handler.records
        if getattr(r, "quire_group", "") == "images without alt text"
    ]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_images_without_alt_text_build_with_a_warning_each(undescribed):
    epub, warned = undescribed
    assert [w.split(" (")[0].split("/book/")[1] for w in warned] == [
        "one.md:5: image `chart.png` has no alt text",
        "two.md:5: raw HTML image `photo.png` has no alt text",
    ]
    assert all("Quire built it as an image without a description" in w for w in warned)
    images = {
        i.get("src").rsplit("/", 1)[-1]: i
        for doc in chapter_xhtml(epub)
        for i in doc.iter(f"{H}img")
    }
    assert images["chart.png"].get("alt") == "" and "undescribed" in images["chart.png"].get(
        "class"
    )
    assert images["photo.png"].get("alt") == "" and "undescribed" in images["photo.png"].get(
        "class"
    )
    assert images["map.png"].get("alt") == "A map of the coast"
    assert "undescribed" not in (images["rule.png"].get("class") or "")  # decorative, by choice


def test_the_accessibility_metadata_tells_the_truth(undescribed):
    epub, _ = undescribed
    assert package_meta(epub, "dcterms:conformsTo") == []
    assert package_meta(epub, "a11y:certifiedBy") == []
    assert package_meta(epub, "schema:accessModeSufficient") == ["textual,visual"]
    assert "alternativeText" not in package_meta(epub, "schema:accessibilityFeature")
    [summary] = package_meta(epub, "schema:accessibilitySummary")
    assert "does not meet WCAG" in summary and "meets WCAG 2.2 Level AA." not in summary
    assert "images/chart.png (in “One”)" in summary and "images/photo.png (in “Two”)" in summary
    assert "map.png" not in summary and "rule.png" not in summary


def test_check_lists_the_images_without_alt_text(undescribed):
    from quire.press.preflight import preflight_epub_images

    epub, _ = undescribed
    found = [str(f) for f in preflight_epub_images(epub).findings]
    assert len(found) == 2
    assert all("NO-ALT" in f and "WARNING" in f for f in found)
    assert "chart.png" in found[0] and "photo.png" in found[1]


def test_ace_finds_nothing_in_a_book_with_images_without_alt_text(undescribed):
    """An empty alt keeps Ace's image-alt rule satisfied (a missing one is a serious violation)."""
    if reason := ace_available():
        pytest.skip(f"Ace cannot run here: {reason}")
    epub, _ = undescribed
    assert [str(f) for f in run_ace(epub).findings] == []


# ---------- links ------------------------------------------------------------------------------

LINKED_BOOK = {
    "book.yaml": "title: Links\nlang: en\nchapters: [intro.md, guide/setup.md, guide/use.md]\n",
    "intro.md": (
        "# Intro\n\n"
        "See [setup](guide/setup.md), [use as HTML](guide/use.html#running) and"
        " [nowhere](#no-such-heading).\n\n"
        "Also [the licence](../LICENSE) and [a file](notes.txt) and [by name](setup.md).\n"
    ),
    "guide/setup.md": (
        "# Setup\n\nBack to [the intro](../intro.md) or [use](use.md), [fast](use.html#2-running-fast)"
        " and [gone](use.md#no-such-id).\n\n## Running\n\nSee [capitals](use.md#Running).\n"
    ),
    "guide/use.md": "# Use\n\n## Running {#running}\n\nRun it.\n\n## 2. Running fast\n\nFaster.\n",
    "notes.txt": "not a chapter\n",
}


def links_of(epub: Path) -> dict[str, str | None]:
    """Each link's text in the chapters, with its href (None for a link made plain text)."""
    found: dict[str, str | None] = {}
    for doc in chapter_xhtml(epub):
        for p in doc.iter(f"{H}p"):
            for child in p:
                if child.tag == f"{H}a":
                    found["".join(child.itertext())] = child.get("href")
            for text in ("nowhere", "the licence", "a file", "by name"):
                if text in "".join(p.itertext()) and text not in found:
                    found[text] = None
    return found


def test_links_to_chapters_resolve_by_path_and_the_rest_become_text(tmp_path, caplog):
    folder = write_book(tmp_path / "book", LINKED_BOOK)
    links = links_of(epub_of(folder, tmp_path / "out"))
    assert links["setup"].endswith("#setup")
    # use.md's `running` was renamed `running-2`, setup.md having one before it
    assert links["use as HTML"].endswith("#running-2")
    assert links["capitals"].endswith("#running-2")  # as GitBook links keep the capitals
    assert links["the intro"].endswith("#intro")
    assert links["use"].endswith("#use")
    assert links["fast"].endswith("#running-fast")  # mdBook's id for the heading, pandoc's here
    assert links["gone"].endswith("#use")  # no such id: the chapter's start
    [gone] = warnings_of(caplog, "links to ids their chapter does not have")
    assert "setup.md:3: link to `use.md#no-such-id`" in gone
    for text in ("nowhere", "the licence", "a file", "by name"):
        assert links[text] is None, text
    warned = [
        *warnings_of(caplog, "links to ids nothing has"),
        *warnings_of(caplog, "links to files that are not chapters"),
        *warnings_of(caplog, "links out of the book's folder"),
    ]
    assert len(warned) == 4
    assert any("intro.md:3: link to `#no-such-heading`" in w for w in warned)
    assert any("link to `../LICENSE` leaves the book's folder" in w for w in warned)
    assert any("link to `setup.md`: not a chapter of this book" in w for w in warned)
    assert all("Quire kept the link's text" in w for w in warned)


def test_a_link_leaving_the_book_goes_to_the_web_editions_neighbour(tmp_path, caplog):
    files = {
        **LINKED_BOOK,
        "book.yaml": LINKED_BOOK["book.yaml"] + "site-url: https://example.org/links/\n",
    }
    links = links_of(epub_of(write_book(tmp_path / "book", files), tmp_path / "out"))
    assert links["the licence"] == "https://example.org/LICENSE"
    assert any(
        "leaves the book's folder; linked to https://example.org/LICENSE" in w
        for w in warnings_of(caplog, "links out of the book's folder")
    )


# ---------- remote images ------------------------------------------------------------------------


def test_a_remote_image_is_never_fetched_and_its_alt_text_stands_in(tmp_path, caplog, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a remote image was fetched")

    monkeypatch.setattr(fetch, "_download", refuse)
    text = (
        "# One\n\n[![Build status](https://ci.example.invalid/badge.svg)](https://ci.example.invalid/)\n\n"
        "![A photo of the bay](https://example.invalid/bay.jpg)\n\nAfter.\n"
    )
    folder = write_book(tmp_path / "book", {"book.yaml": "title: R\nlang: en\n", "one.md": text})
    docs = chapter_xhtml(epub_of(folder, tmp_path / "out"))
    assert not [i for doc in docs for i in doc.iter(f"{H}img") if "example" in i.get("src")]
    links = {"".join(a.itertext()): a.get("href") for doc in docs for a in doc.iter(f"{H}a")}
    assert links["Build status"] == "https://ci.example.invalid/"  # the badge's own link kept
    assert links["A photo of the bay"] == "https://example.invalid/bay.jpg"
    warned = warnings_of(caplog, "remote images not fetched")
    assert len(warned) == 2 and "one.md:3: remote image not fetched" in warned[0]


# ---------- the corpus ------------------------------------------------------------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the corpus of real books is not at {CORPUS}")
def test_a_corpus_readme_with_remote_badges_and_links_to_its_translations_builds(tmp_path, caplog):
    """command-line/en links to its translations (files beside it, not chapters) and shows a
    remote licence badge: the EPUB is built, with a warning for each."""
    epub = epub_of(CORPUS / "command-line" / "en" / "README.md", tmp_path / "out")
    assert epub.is_file()
    assert warnings_of(caplog, "remote images not fetched")
    translations = [
        w for w in warnings_of(caplog, "links to files that are not chapters") if "README-" in w
    ]
    assert len(translations) >= 10


# ---------- print: images and code stay in the text block ----------------------------------------

FILLER = " ".join(["The measured paragraph sets the width of the text block on its page."] * 6)
LONG_CALL = (
    "    result = compute_the_thing(first_argument, second_argument, third_argument,"
    " fourth_argument, fifth_argument)  # and a comment that goes on"
)
NO_SPACES = "x" * 30 + "/" + "averyverylongpathwithoutanyspaces" * 4
PRINTED = {
    "book.yaml": "title: Print\nauthor: A. Tester\nlang: en\n",
    "one.md": f"""# One

{FILLER}

<img src="wide.png" alt="A wide banner">

{FILLER}

A decorative one: ![](wide.png){{alt=""}}

{FILLER}

```
{LONG_CALL}
{NO_SPACES}
short
```

```python
def f():
{LONG_CALL}
    return "{NO_SPACES}"
```

Inline: `{NO_SPACES}` and `a_function_with_a_very_long_name_that_cannot_fit_on_one_line(arg)`.

{FILLER}

<img src="tall.png" alt="A tall column">
""",
}


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    """The PDF of a book with a raw <img> wider than the page, a taller one, long code lines
    and long inline code."""
    folder = write_book(tmp_path_factory.mktemp("printed") / "book", PRINTED)
    Image.new("RGB", (2400, 400), (200, 220, 240)).save(folder / "wide.png")
    Image.new("RGB", (400, 3200), (220, 240, 200)).save(folder / "tall.png")
    [written] = build(folder, folder.parent / "out", ("pdf",), lambda *a: None)
    return written.path


def text_block(page) -> tuple[float, float] | None:  # noqa: ANN001 - a PyMuPDF page
    """The left and right edges of the text on a page, from the lines of its justified
    filler paragraphs (None if it has none)."""
    lines = [
        line["bbox"]
        for block in page.get_text("dict")["blocks"]
        if block["type"] == 0 and "measured paragraph" in str(block)
        for line in block["lines"]
    ]
    return (min(b[0] for b in lines), max(b[2] for b in lines)) if lines else None


def test_images_and_code_stay_in_the_text_block(printed):
    import pymupdf

    checked = {"images": 0, "code": 0, "marks": 0}
    with pymupdf.open(printed) as pdf:
        for page in pdf:
            images = [info["bbox"] for info in page.get_image_info()]
            area = (0.5 * 72, page.rect.height - 0.5 * 72)  # inside the top and bottom margins
            for _x0, y0, _x1, y1 in images:
                assert area[0] <= y0 and y1 <= area[1], f"image cropped on page {page.number}"
            block = text_block(page)
            if block is None:
                assert all(x1 - x0 <= 4.6 * 72 for x0, _, x1, _ in images)  # the tall image
                continue
            left, right = block[0] - 0.5, block[1] + 0.5
            for x0, _y0, x1, _y1 in images:
                assert left <= x0 and x1 <= right, f"image outside the text block: {x0}-{x1}"
                checked["images"] += 1
            for word in page.get_text("words"):
                assert left <= word[0] and word[2] <= right, f"{word[4]!r} leaves the text block"
                checked["code"] += "_" in word[4] or "very" in word[4]
            marks = [d for d in page.get_drawings() if d.get("color") and d["type"] == "s"]
            assert all(left <= d["rect"].x0 and d["rect"].x1 <= right for d in marks)
            checked["marks"] += len(marks)
    assert checked["images"] == 2 and checked["code"] >= 10
    # A continuation mark for each line a long code line wraps onto: two code lines of each
    # block wrap, onto at least one more line each.
    assert checked["marks"] >= 4


# ---------- cover images -------------------------------------------------------------------------


def test_a_missing_cover_image_is_drawn_and_one_shown_in_the_text_is_listed_once(tmp_path, caplog):
    """A cover image that is not there gives Quire's drawn cover (user-need-research's SVG cover
    is missing upstream); a cover also shown in the text (a GitBook README) is not two
    manifest items with one href."""
    files = {"book.yaml": "title: C\nlang: en\ncover-image: art/cover.png\n", "one.md": "# One\n"}
    epub = epub_of(write_book(tmp_path / "missing", files), tmp_path / "out1")
    assert package_meta(epub, "schema:accessMode")  # built
    [warned] = warnings_of(caplog, "cover images not used")
    assert "book.yaml:3: cover image not found: art/cover.png" in warned
    shown = {**files, "book.yaml": "title: C\nlang: en\ncover-image: cover.png\n"}
    shown["one.md"] = "# One\n\n![The cover](cover.png)\n"
    folder = write_book(tmp_path / "shown", shown)
    Image.new("RGB", (1600, 2560), (90, 90, 120)).save(folder / "cover.png")
    with zipfile.ZipFile(epub_of(folder, tmp_path / "out2")) as archive:
        opf = etree.fromstring(archive.read("EPUB/package.opf"))
    hrefs = [item.get("href") for item in opf.iterfind(".//opf:item", NS)]
    assert len(hrefs) == len(set(hrefs)) and "images/cover.png" in hrefs


def test_a_link_with_a_scheme_no_reader_knows_keeps_its_text(tmp_path):
    from test_bad_input import run_build

    from quire.validate import run_epubcheck

    book = tmp_path / "book.md"
    book.write_text(
        "# One\n\nSee [Cash](ttps://github.com/dthree/cash), [mail](mailto:a@b.org) "
        "and [phone](tel:+123).\n"
    )
    proc = run_build(book, tmp_path / "out", "--to", "epub")
    assert proc.returncode == 0, proc.stderr
    assert "book.md:3: link to `ttps://github.com/dthree/cash`: `ttps:` is no URI" in proc.stderr
    (epub,) = (tmp_path / "out").glob("*.epub")
    with zipfile.ZipFile(epub) as archive:
        page = next(archive.read(n).decode() for n in archive.namelist() if "one" in n)
    assert "ttps:" not in page and "See Cash" in page
    assert 'href="mailto:a@b.org"' in page and 'href="tel:+123"' in page
    report = run_epubcheck(epub)
    assert [f for f in report.findings if f.severity in ("fatal", "error", "warning")] == []


def test_obsolete_presentational_html_becomes_css_and_the_epub_stays_valid(tmp_path):
    from test_bad_input import run_build

    from quire.validate import run_epubcheck

    book = tmp_path / "book.md"
    book.write_text(
        '# One\n\n<p align="center">Centred.</p>\n\n'
        '<table align="center" cellspacing="4" width="300"><tr>'
        '<td valign="top" bgcolor="#eeeeee" nowrap>Cell</td></tr></table>\n'
    )
    proc = run_build(book, tmp_path / "out", "--to", "epub")
    assert proc.returncode == 0, proc.stderr
    (epub,) = (tmp_path / "out").glob("*.epub")
    with zipfile.ZipFile(epub) as archive:
        page = next(archive.read(n).decode() for n in archive.namelist() if "one" in n)
    assert '<p style="text-align: center">' in page and "Centred." in page
    assert "border-spacing: 4px" in page and "vertical-align: top" in page
    assert " align=" not in page and "bgcolor" not in page
    report = run_epubcheck(epub)
    assert [str(f) for f in report.findings if f.severity in ("fatal", "error", "warning")] == []

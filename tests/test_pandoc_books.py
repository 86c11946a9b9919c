"""Books written for pandoc build as their authors meant: each case built through the command line."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import lxml.html
import pymupdf
import pytest
from conftest import run_build
from lxml import etree

from quire.validate import run_epubcheck

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"
OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"


class Built:
    """A case built by the command line: its files' text, page by page for the PDF."""

    def __init__(self, source: Path, out: Path) -> None:
        self.out = out
        self.proc = run_build(source, out)
        assert self.proc.returncode == 0, self.proc.stderr
        self.epub = next(out.glob("*.epub"))
        self.pdf = next(out.glob("*.pdf"))
        with zipfile.ZipFile(self.epub) as archive:
            self.files = {n: archive.read(n) for n in archive.namelist()}
        with pymupdf.open(self.pdf) as document:
            self.pages = [" ".join(page.get_text().split()) for page in document]

    def xhtml(self, name: str) -> str:
        """The text of one EPUB file, whitespace squeezed."""
        tree = etree.fromstring(self.files[name])
        return " ".join("".join(tree.itertext()).split())

    def epub_text(self) -> str:
        return " ".join(self.xhtml(n) for n in sorted(self.files) if n.endswith(".xhtml"))

    def page_of(self, text: str) -> int:
        return next(i for i, page in enumerate(self.pages) if text in page)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Built:
    return Built(CASES / "pandoc-project", tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> Built:
    return Built(CASES / "pandoc-single" / "notes.md", tmp_path_factory.mktemp("single"))


@pytest.fixture(scope="module")
def contents(tmp_path_factory) -> Built:
    return Built(CASES / "pandoc-contents", tmp_path_factory.mktemp("contents"))


@pytest.fixture(scope="module")
def levels(tmp_path_factory) -> Built:
    return Built(CASES / "pandoc-levels", tmp_path_factory.mktemp("levels"))


def test_citations_resolve_the_same_in_epub_and_pdf(project):
    pdf = " ".join(project.pages)
    for text in (
        "(Darwin 1859, 5)",
        "(Austen 1813)",
        "Darwin, Charles (1859). On the Origin of Species. John Murray.",
        "Mill, John Stuart (1859). On Liberty",  # only in `nocite`
    ):
        assert text in project.epub_text(), text
        assert text in pdf, text
    assert "@darwin1859" not in project.epub_text() + pdf


def test_references_stand_where_refs_div_is(project):
    references = project.xhtml("EPUB/text/05-references.xhtml")
    assert references.index("References") < references.index("Austen, Jane")
    assert "Austen, Jane" not in project.xhtml("EPUB/text/03-methods.xhtml")


def test_citations_from_csl_json_and_yaml_with_nocite_all(single):
    for text in ("Howard", "White", "Aratus", "Sources"):
        assert text in single.epub_text(), text
        assert text in " ".join(single.pages), text
    assert "[@" not in single.epub_text()


def test_newpage_is_a_page_break_in_print(project):
    before = project.page_of("The last sentence before the page break ends here.")
    after = project.page_of("The first sentence after the page break opens a fresh page.")
    assert after == before + 1
    assert project.pages[after].startswith("The first sentence after the page break")
    assert "newpage" not in project.epub_text() + " ".join(project.pages)


def test_latex_and_tex_become_words(project, levels):
    assert "typeset with LaTeX before they moved" in project.epub_text()
    assert "The TeX book is mentioned here" in levels.epub_text()


def test_math_macros_are_applied_not_dropped(levels):
    page = levels.files["EPUB/text/01-the-first-part.xhtml"].decode()
    assert "ℝ" in page and "\\R" not in page
    assert "newcommand" not in levels.proc.stderr


def test_raw_latex_warnings_each_have_their_own_line(levels):
    lines = re.findall(r"(\d\d-\w+\.md:\d+): raw LaTeX", levels.proc.stderr)
    assert lines == ["01-first.md:15", "01-first.md:15", "02-second.md:11"]
    assert "and boxed text is dropped" in levels.epub_text()  # \mbox{boxed}: its text is kept


def test_links_resolve_across_files(project):
    methods = etree.fromstring(project.files["EPUB/text/03-methods.xhtml"])
    hrefs = {a.get("href") for a in methods.iter("{http://www.w3.org/1999/xhtml}a")}
    # `[Introduction]` (an implicit heading reference) and `[x](01-introduction.md#background)`.
    assert {"02-introduction.xhtml#introduction", "02-introduction.xhtml#background"} <= hrefs
    assert "[Introduction]" not in project.epub_text()


def test_no_file_named_chapters_and_each_listed_file_opens_one(project, levels):
    nav = project.xhtml("EPUB/nav.xhtml")
    assert "Table of Contents Introduction" in nav  # toc-title
    assert project.pages[4].startswith("Table of Contents Introduction")
    assert "Opening" not in nav and "00" not in nav
    # A listed file opens a chapter, whatever its first heading's level, or with none.
    assert "Methods Sampling" in nav  # 03-sampling.md opens with `##`
    assert "Sampling" not in project.xhtml("EPUB/text/03-methods.xhtml")
    second = levels.xhtml("EPUB/text/03-chapter-3.xhtml")  # 02-second.md, before its heading
    assert "More text that continues the second part, from another file" in second
    assert "More text" not in levels.xhtml("EPUB/text/02-the-second-part.xhtml")


def test_unnumbered_headings_get_no_chapter_number(project, levels):
    assert "Chapter" not in project.pages[project.page_of("Austen, Jane")]
    second = levels.page_of("Text of the second part.")
    assert "Chapter" not in levels.pages[second]
    assert "Chapter 2" in levels.pages[levels.page_of("Closing text")]


def test_comments_are_dropped(project):
    assert "TODO" not in project.epub_text() + " ".join(project.pages)
    assert b"<!--" not in project.files["EPUB/text/02-introduction.xhtml"]


def test_images_found_from_the_root_and_resource_path(project):
    assert {"EPUB/images/square.png", "EPUB/images/dot.png"} <= set(project.files)


def test_pandoc_metadata_reaches_the_package(project):
    opf = etree.fromstring(project.files["EPUB/package.opf"])
    meta = opf.find(f"{OPF}metadata")
    assert meta.findtext(f"{DC}date") == "2015-01"  # "January 2015", as W3CDTF
    assert meta.findtext(f"{DC}identifier") == "urn:isbn:978-0-00-000000-2"
    assert [t.text for t in meta.findall(f"{DC}title")] == [
        "Field Notes on Reading",
        "A Pandoc Project",
    ]
    assert meta.findtext(f"{DC}contributor") == "Sam Okafor"
    roles = {m.get("refines"): m.text for m in meta.findall(f"{OPF}meta[@property='role']")}
    assert roles == {"#contributor-1": "edt"}
    assert meta.findtext(f"{OPF}meta[@property='belongs-to-collection']") == "Quire Test Books"
    assert meta.findtext(f"{DC}description").startswith("Short notes on reading")


def test_unused_pandoc_keys_get_one_warning(project):
    warnings = [w for w in project.proc.stderr.splitlines() if "not used" in w]
    assert len(warnings) == 1
    assert "metadata.yml:27" in warnings[0]  # documentclass, the first unused key
    for key in ("`mainfont`", "`geometry`", "`documentclass`", "`ibooks`"):
        assert key in warnings[0]
    for used in ("`toc`", "`toc-depth`", "`toc-title`"):
        assert used not in warnings[0]


def test_unknown_citation_key_is_a_warning_with_its_line(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text("title: T\nlang: en\nbibliography: refs.json\n")
    (book / "refs.json").write_text('[{"id": "known", "type": "book", "title": "Known"}]')
    (book / "one.md").write_text("# One\n\nKnown [@known].\n\nUnknown [@nokey].\n")
    proc = run_build(book, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "one.md:5: Citeproc: citation nokey not found" in proc.stderr


def test_bibliography_outside_the_book_is_refused(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (tmp_path / "refs.json").write_text("[]")
    (book / "book.yaml").write_text("title: T\nlang: en\nbibliography: ../refs.json\n")
    (book / "one.md").write_text("# One\n\nText [@a].\n")
    proc = run_build(book, tmp_path / "out")
    assert proc.returncode == 1
    assert "book.yaml:3: `../refs.json` points outside the book's folder" in proc.stderr


def test_metadata_file_is_merged_under_book_yaml(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text("metadata-file: meta.yaml\ntitle: From book.yaml\n")
    meta = "---\ntitle: From the metadata file\nauthor:\n  - name: A. Writer\nlang: en\n{}---\n"
    (book / "meta.yaml").write_text(meta.format("date: 2015-03-04T10:00:00\n"))
    (book / "one.md").write_text("# One\n\nText.\n")
    proc = run_build(book, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    opf = zipfile.ZipFile(next((tmp_path / "out").glob("*.epub"))).read("EPUB/package.opf")
    meta_xml = etree.fromstring(opf).find(f"{OPF}metadata")
    assert meta_xml.findtext(f"{DC}title") == "From book.yaml"  # book.yaml wins
    assert meta_xml.findtext(f"{DC}creator") == "A. Writer"
    assert meta_xml.findtext(f"{DC}date") == "2015-03-04"
    (book / "meta.yaml").write_text(meta.format("group-position: second\n"))
    proc = run_build(book, tmp_path / "out")
    assert proc.returncode == 1  # a problem in the metadata file is named with its file and line
    assert "meta.yaml:6: `group-position` is 'second' but must be a number" in proc.stderr


def test_list_markers_keep_their_style_in_print(levels):
    page = levels.pages[levels.page_of("the first step")]
    assert "a) the first step" in page and "b) the second step" in page


def test_image_width_in_pixels_is_honoured_in_print(project):
    with pymupdf.open(project.pdf) as document:
        page = document[project.page_of("Old books reward slow reading")]
        widths = [round(info["bbox"][2] - info["bbox"][0]) for info in page.get_image_info()]
    assert 90 in widths  # {width=120px}: 120 CSS px are 90 pt


def test_small_cover_is_a_warning(tmp_path):
    from PIL import Image

    book = tmp_path / "book"
    book.mkdir()
    Image.new("RGB", (400, 640), (90, 90, 120)).save(book / "cover.png")
    (book / "book.yaml").write_text("title: T\nlang: en\ncover-image: cover.png\n")
    (book / "one.md").write_text("# One\n\nText.\n")
    proc = run_build(book, tmp_path / "out", "--check")
    assert proc.returncode == 0, proc.stderr
    assert "book.yaml:3: the cover is 400×640 pixels, under the 1600×2560" in proc.stderr
    # and `--check` reports it with the PDF's preflight, from the EPUB's own cover image
    assert re.search(
        r"preflight WARNING COVER-PIXELS \S+\.epub: EPUB/images/cover\.png: the cover is 400×640"
        r" pixels, under the 1600×2560",
        proc.stdout,
    ), proc.stdout


def test_generated_cover_passes_the_check(tmp_path):
    source = write_single(tmp_path, "---\ntitle: T\nlang: en\n---\n\n# One\n\nText.\n")
    proc = run_build(source, tmp_path / "out", "--check")
    assert proc.returncode == 0, proc.stdout
    assert re.search(
        r"preflight INFO COVER-PIXELS \S+\.epub: \S+: the cover is 1600×2560 pixels", proc.stdout
    )


def test_author_styles_are_layered_after_quires(project):
    opf = project.files["EPUB/package.opf"].decode()
    assert 'href="styles/epub.css"' in opf  # Quire's styles stay
    page = project.files["EPUB/text/02-introduction.xhtml"].decode()
    sheets = re.findall(r'href="\.\./styles/([\w.-]+)"', page)
    assert sheets == ["epub.css", "book-1.css", "book-2.css"]
    assert b"letter-spacing" in project.files["EPUB/styles/book-1.css"]
    assert b".csl-entry" in project.files["EPUB/styles/book-2.css"]


def test_author_print_styles_change_the_print(project):
    with pymupdf.open(project.pdf) as document:
        page = document[project.page_of("Austen, Jane")]
        lines = [line for b in page.get_text("dict")["blocks"] for line in b.get("lines", [])]
    spans = {line["spans"][0]["text"].split(",")[0]: line["spans"][0] for line in lines}
    # book.css (css:) indents the references; Quire's own look (Charis) stays underneath.
    assert spans["Austen"]["bbox"][0] - spans["References"]["bbox"][0] > 20
    assert "Charis" in spans["Austen"]["font"]


def test_copyright_page_is_the_bare_verso_of_the_title_page(project):
    copyright = project.pages[3]  # half-title, blank, title page, then its verso
    for text in (
        "placed in the public domain",
        "Published by Quire Test Press, January 2015",
        "Edited by Sam Okafor",
        "ISBN-13 978-0-00-000000-2",
    ):
        assert text in copyright, text
    title = project.xhtml("EPUB/text/title.xhtml")
    assert "Edited by Sam Okafor" in title and "ISBN-13 978-0-00-000000-2" in title


def test_no_folio_on_half_title_title_and_copyright_pages_and_folio_1_on_a_recto(project):
    for index in (0, 2, 3):
        assert not re.search(r"\b[ivx]+$", project.pages[index]), project.pages[index][-30:]
    first = next(i for i, page in enumerate(project.pages) if page.endswith(" 1"))
    assert first % 2 == 0  # the ninth page: a right-hand page
    assert "Old books reward slow reading" in project.pages[first]


def test_pdf_figure_is_vector_in_print_and_svg_in_the_epub(project):
    svg = etree.fromstring(project.files["EPUB/images/method.svg"])
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert 'media-type="image/svg+xml"' in project.files["EPUB/package.opf"].decode()
    with pymupdf.open(project.pdf) as document:
        page = document[project.page_of("gives the reason")]  # the figure's page
        boxes = [d for d in page.get_drawings() if d["rect"].width > 40 and d["rect"].height > 20]
    assert len(boxes) >= 3  # the figure's three boxes, as paths, not a picture


def test_page_break_leaves_nothing_in_the_epub(project):
    assert b"page-break" not in project.files["EPUB/text/02-introduction.xhtml"]


def test_pandoc_warnings_keep_their_detail(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text("title: T\nlang: en\n")
    (book / "one.md").write_text("# One\n\nA broken formula $\\frac{a$ here.\n")
    proc = run_build(book, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "one.md:3: Could not convert TeX math \\frac{a, rendering as TeX: unexpected" in (
        proc.stderr
    )


def test_implicit_reference_to_a_heading_with_quotes_in_another_file(levels):
    second = etree.fromstring(levels.files["EPUB/text/03-chapter-3.xhtml"])  # 02-second.md
    hrefs = {a.get("href") for a in second.iter("{http://www.w3.org/1999/xhtml}a")}
    assert "01-the-first-part.xhtml#darwins-detail" in hrefs


def write_single(tmp_path: Path, text: str, **files: str) -> Path:
    """A one-file book (with other files beside it) in a fresh folder."""
    folder = tmp_path / "book"
    folder.mkdir()
    for name, content in files.items():
        (folder / name.replace("_", ".")).write_text(content)
    (folder / "book.md").write_text(text)
    return folder / "book.md"


def test_single_file_reads_its_metadata_file_and_inline_references(tmp_path):
    source = write_single(
        tmp_path,
        "---\nmetadata-file: meta.yaml\nreferences:\n- id: kant\n  type: book\n"
        "  title: Critique of Pure Reason\n  author:\n  - family: Kant\n    given: Immanuel\n"
        "  issued:\n    date-parts:\n    - [1781]\n---\n\n# One\n\nAs argued [@kant].\n",
        meta_yaml="---\ntitle: Inline References\nlang: en\nauthor: A. Writer\n---\n",
    )
    out = tmp_path / "out"
    proc = run_build(source, out)
    assert proc.returncode == 0, proc.stderr
    built = zipfile.ZipFile(next(out.glob("*.epub")))
    text = built.read("EPUB/text/01-one.xhtml").decode()
    assert "(Kant 1781)" in text and "Critique of Pure Reason" in text
    assert b'<dc:title id="title">Inline References</dc:title>' in built.read("EPUB/package.opf")


def test_citations_without_a_bibliography_are_named(tmp_path):
    source = write_single(tmp_path, "---\ntitle: T\nlang: en\n---\n\n# One\n\nText [@nobody].\n")
    proc = run_build(source, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "book.md:8: citation `@nobody`, but the book sets no `bibliography:`" in proc.stderr


def test_free_form_date_is_printed_but_kept_out_of_the_package(tmp_path):
    source = write_single(
        tmp_path,
        "---\ntitle: T\nlang: en\ndate: Spring 2015\npublisher: P\n---\n\n# One\n\nText.\n",
    )
    out = tmp_path / "out"
    proc = run_build(source, out)
    assert proc.returncode == 0, proc.stderr
    assert "book.md:4: date “Spring 2015” is not one pandoc can read" in proc.stderr
    built = zipfile.ZipFile(next(out.glob("*.epub")))
    assert b"<dc:date>" not in built.read("EPUB/package.opf")
    assert "Published by P, Spring 2015" in built.read("EPUB/text/title.xhtml").decode()


def test_file_in_a_subfolder_finds_its_own_images(levels):
    third = levels.files["EPUB/text/05-chapter-5.xhtml"].decode()  # more/03-more.md
    assert "A closing note from a file in a subfolder" in third
    assert 'src="../images/tick.png"' in third and "EPUB/images/tick.png" in levels.files


def test_book_epub_style_that_loads_a_file_is_refused(tmp_path):
    book = tmp_path / "book"
    (book / "styles").mkdir(parents=True)
    (book / "paper.png").write_bytes(b"")
    (book / "book.yaml").write_text("title: T\nlang: en\n")
    (book / "one.md").write_text("# One\n\nText.\n")
    (book / "styles" / "epub.css").write_text(
        "p { color: #222; }\nbody { background: url(../paper.png) }\n"
    )
    proc = run_build(book, tmp_path / "out")
    assert proc.returncode == 1
    assert (
        "epub.css:2: `../paper.png`: a book's own EPUB style sheet cannot load files" in proc.stderr
    )


def test_list_of_figures_stands_where_listoffigures_was(project):
    opening = etree.fromstring(project.files["EPUB/text/01-chapter-1.xhtml"])
    xhtml = "{http://www.w3.org/1999/xhtml}"
    links = opening.findall(f".//{xhtml}ol[@class='list-of-figures']//{xhtml}a")
    assert [a.text for a in links] == [
        "A grey square standing in for a diagram of the reading desk.",
        # Labelled for pandoc-crossref ({#fig:…}): numbered, in its caption and the list.
        "Figure 1: The reading method in three boxes: read, note, reread.",
    ]
    assert all(
        a.get("href").startswith(("02-introduction.xhtml#", "03-methods.xhtml#")) for a in links
    )
    page = project.pages[project.page_of("For the readers who keep notes")]
    assert "reading desk. (page 1)" in page and "reread. (page 3)" in page


XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_NS = "http://www.idpf.org/2007/ops"


def nav_entries(nav: etree._Element) -> list[tuple[int, str]]:
    """(depth, text) of each link in a contents list: 1 for a chapter, 2 for its sections…"""
    return [
        (len(link.xpath("ancestor::*[local-name()='ol']")), link.text)
        for link in nav.iter(f"{XHTML}a", "a")
    ]


def test_toc_depth_lists_subsections_in_every_contents(contents):
    listed = [
        (1, "The Opening Chapter"),
        (2, "A Section of the Opening"),
        (3, "A Subsection Listed Too"),
        (2, "Another Section of the Opening"),
        (1, "The Second Chapter"),
        (2, "A Section of the Second"),
    ]
    nav = etree.fromstring(contents.files["EPUB/nav.xhtml"]).find(f".//{XHTML}nav[@id='toc']")
    assert nav_entries(nav) == listed
    page = contents.pages[contents.page_of("What Is Inside")]
    assert re.search(r"A Subsection Listed Too[ .]+2 ", page)
    assert "A Detail Left Out" not in page
    site = contents.out / contents.epub.stem
    web = lxml.html.parse(site / "01-the-opening-chapter.html").find(".//nav[@class='toc']")
    assert nav_entries(web) == listed
    report = run_epubcheck(contents.epub)
    assert (report.count("error"), report.count("warning")) == (0, 0), report.findings


def test_tableofcontents_prints_the_contents_where_it_stands(contents):
    page = contents.pages[contents.page_of("Here the author asked for the contents again")]
    assert re.search(r"What Is Inside The Opening Chapter[ .]+1 .* The Second Chapter[ .]+3", page)
    assert "tableofcontents" not in contents.epub_text()


def test_toc_false_leaves_the_printed_contents_out_but_keeps_the_nav(tmp_path):
    source = write_single(
        tmp_path, "---\ntitle: T\nlang: en\ntoc: false\n---\n\n# One\n\nText.\n\n# Two\n\nMore.\n"
    )
    out = tmp_path / "out"
    proc = run_build(source, out)
    assert proc.returncode == 0, proc.stderr
    assert "`toc`" not in proc.stderr
    with pymupdf.open(next(out.glob("*.pdf"))) as document:
        assert not any("Contents" in page.get_text() for page in document)
    with zipfile.ZipFile(next(out.glob("*.epub"))) as archive:
        nav = etree.fromstring(archive.read("EPUB/nav.xhtml")).find(f".//{XHTML}nav[@id='toc']")
    assert [text for _depth, text in nav_entries(nav)] == ["One", "Two"]


def test_lof_and_lot_list_figures_and_tables_after_the_contents(contents):
    figures = [
        "A grey square that stands for the first figure.",
        "A second grey square, in the second chapter.",
    ]
    tables = ["The two readings and their length."]
    first = contents.page_of("List of Figures")
    assert contents.page_of("What Is Inside") < first < contents.page_of("List of Tables")
    assert re.search(r"first figure\.[ .]+1 .*second chapter\.[ .]+4 ", contents.pages[first])
    assert re.search(r"their length\.[ .]+2 ", contents.pages[contents.page_of("List of Tables")])
    nav = etree.fromstring(contents.files["EPUB/nav.xhtml"])
    for epub_type, texts in (("lof", figures), ("lot", tables)):
        links = nav.findall(f".//{XHTML}nav[@{{{EPUB_NS}}}type='{epub_type}']//{XHTML}a")
        assert [a.text for a in links] == texts
        for link in links:  # each link goes to the figure or table in its chapter's file
            name, ident = link.get("href").split("#")
            assert etree.fromstring(contents.files["EPUB/" + name]).xpath(f"//*[@id='{ident}']")
    index = lxml.html.parse(contents.out / contents.epub.stem / "index.html")
    for kind, texts in (("list-of-figures", figures), ("list-of-tables", tables)):
        links = index.xpath(f"//nav[contains(@class, '{kind}')]//a")
        assert [a.text for a in links] == texts
        assert all(a.get("href").startswith(("01-the-opening", "02-the-second")) for a in links)


NUMBERED = """---
title: Numbered
lang: en
number-sections: true
toc-depth: 2
---

# Preface {-}

Before the numbers.

# First Steps

## Getting Ready

### Tools

## Unnumbered Aside {.unnumbered}

## Going On

# Second Steps

## Again {-}

## Once More
"""


def test_numbersections_numbers_headings_as_pandoc_does_in_every_output(tmp_path):
    out = tmp_path / "out"
    proc = run_build(write_single(tmp_path, NUMBERED), out)
    assert proc.returncode == 0, proc.stderr
    assert "number-sections" not in proc.stderr
    epub = next(out.glob("*.epub"))
    with zipfile.ZipFile(epub) as archive:
        nav = etree.fromstring(archive.read("EPUB/nav.xhtml")).find(f".//{XHTML}nav[@id='toc']")
        first = etree.fromstring(archive.read("EPUB/text/02-first-steps.xhtml"))
    assert [" ".join("".join(a.itertext()).split()) for a in nav.iter(f"{XHTML}a")] == [
        "Preface",
        "1 First Steps",
        "1.1 Getting Ready",
        "Unnumbered Aside",
        "1.2 Going On",
        "2 Second Steps",
        "Again",
        "2.1 Once More",
    ]
    headings = [" ".join("".join(h.itertext()).split()) for h in first.iter(f"{XHTML}h3")]
    assert headings == ["1.1.1 Tools"]
    with pymupdf.open(next(out.glob("*.pdf"))) as document:
        text = " ".join(" ".join(page.get_text().split()) for page in document)
    assert (
        "Chapter 1 First Steps 1.1 Getting Ready 1.1.1 Tools Unnumbered Aside 1.2 Going On" in text
    )
    assert "Chapter 2 Second Steps Again 2.1 Once More" in text
    page = lxml.html.parse(out / epub.stem / "03-second-steps.html")
    assert [" ".join(h.text_content().split()) for h in page.iter("h2")] == [
        "Again",
        "2.1 Once More",
    ]
    report = run_epubcheck(epub)
    assert (report.count("error"), report.count("warning")) == (0, 0), report.findings

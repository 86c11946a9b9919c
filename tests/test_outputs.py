"""The built files themselves: validated by EPUBCheck, read back by ebooklib, pikepdf and pypdf."""

from __future__ import annotations

import re
import zipfile

import lxml.html
import pikepdf
import pymupdf
import pypandoc
import pytest
from ebooklib import epub
from lxml import etree
from pypdf import PdfReader

from quire.language.words import words_for

XHTML = "{http://www.w3.org/1999/xhtml}"


def chapter_titles(built) -> list[str]:
    """The titles the case's expect.yaml lists, or the sample book's first headings."""
    if "chapters" in built.expect:
        return built.expect["chapters"]
    titles = []
    for path in sorted_sources(built):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                titles.append(re.sub(r"\s*\{.*\}\s*$", "", line[2:]).strip())
                break
    return titles


def with_index(built, titles: list[str]) -> list[str]:
    """The titles, and the back-of-book index's after them when the book marks terms for one
    (`[term]{.index}`: transform/index.py makes it, in the book's language)."""
    marked = any(re.search(r"\{[^}]*\.index\b", p.read_text(encoding="utf-8"))
                 for p in sorted_sources(built))  # fmt: skip
    return [*titles, words_for(built.expect.get("lang", "en"))["Index"]] if marked else titles


def sorted_sources(built) -> list:
    """The case's Markdown files in reading order (from book.yaml when there is one)."""
    import yaml

    folder = built.source if built.source.is_dir() else built.source.parent
    settings = folder / "book.yaml"
    if settings.exists():
        data = yaml.safe_load(settings.read_text())
        names = [
            *data.get("front-matter", []),
            *data.get("chapters", []),
            *data.get("back-matter", []),
        ]
        if names:
            return [folder / n for n in names]
    if built.source.is_file():
        return [built.source]
    return sorted(folder.glob("*.md"))


def test_epubcheck_finds_nothing(case, epubcheck_report):
    report = epubcheck_report(case.name)
    problems = [str(f) for f in report.findings if f.severity in ("fatal", "error", "warning")]
    assert problems == []
    assert (report.count("fatal"), report.count("error"), report.count("warning")) == (0, 0, 0)


def test_build_warnings_are_the_expected_ones(case):
    expected = case.expect.get("warnings", [])
    assert len(case.warnings) == len(expected), case.warnings
    for needle, message in zip(expected, case.warnings, strict=True):
        assert needle in message


def test_epub_metadata_reads_back(case):
    book = epub.read_epub(str(case.epub), options={"ignore_ncx": False})
    title = book.get_metadata("DC", "title")[0][0]
    if "title" in case.expect:
        assert title == case.expect["title"]
    assert book.get_metadata("DC", "language")[0][0] == case.expect["lang"]
    identifier = book.get_metadata("DC", "identifier")[0][0]
    assert identifier.startswith(("urn:uuid:", "urn:isbn:", "isbn:"))
    if "authors" in case.expect:
        assert [c[0] for c in book.get_metadata("DC", "creator")] == case.expect["authors"]


def test_epub_spine_and_nav_follow_the_chapters(case):
    book = epub.read_epub(str(case.epub))
    titles = with_index(case, chapter_titles(case))
    spine_titles = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        tree = etree.fromstring(item.get_content())
        h1 = tree.find(f".//{XHTML}section/{XHTML}h1")
        if (
            h1 is not None
            and item.get_name().startswith("text/")
            and "title" not in item.get_name()
        ):
            spine_titles.append("".join(h1.itertext()).strip())
    assert spine_titles == titles
    nav = next(
        i for i in book.get_items() if isinstance(i, epub.EpubNav) or i.get_name() == "nav.xhtml"
    )
    tree = etree.fromstring(nav.get_content())
    toc = tree.find(f".//{XHTML}nav[@id='toc']/{XHTML}ol")
    nav_titles = ["".join(li.find(f"{XHTML}a").itertext()) for li in toc.findall(f"{XHTML}li")]
    assert nav_titles == titles


def test_epub_is_one_file_per_chapter_with_the_mimetype_first(case):
    with zipfile.ZipFile(case.epub) as archive:
        names = archive.namelist()
        assert names[0] == "mimetype"
        assert archive.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
    chapter_files = [n for n in names if n.startswith("EPUB/text/") and n[10:12].isdigit()]
    # Text before the first heading of a book is a section of its own, with no title.
    untitled = case.expect.get("untitled-sections", 0)
    assert len(chapter_files) == len(with_index(case, chapter_titles(case))) + untitled


def test_pdf_page_size_matches_the_trim(case):
    width, height = case.expect["page-size-in"]
    with pikepdf.open(case.pdf) as pdf:
        for page in pdf.pages:
            box = [float(v) for v in page.trimbox]  # the MediaBox also holds any bleed
            assert box[2] - box[0] == pytest.approx(width * 72, abs=0.5)
            assert box[3] - box[1] == pytest.approx(height * 72, abs=0.5)


def test_pdf_bookmarks_are_the_chapters(case):
    reader = PdfReader(case.pdf)
    top = [item.title for item in reader.outline if not isinstance(item, list)]
    words = words_for(case.expect.get("lang", "en"))  # the generated words, in the book's language
    contents = case.expect.get("contents-title", words["Contents"])  # pandoc's toc-title
    front = {contents, words["ListOfFigures"], words["ListOfTables"]}  # `lof`/`lot` pages
    assert [t for t in top if t not in front] == with_index(case, chapter_titles(case))


def test_pdf_metadata(case):
    with pikepdf.open(case.pdf) as pdf:
        info = pdf.docinfo
        if "title" in case.expect:
            assert str(info["/Title"]) == case.expect["title"]
        if "authors" in case.expect:
            assert all(a in str(info["/Author"]) for a in case.expect["authors"])
        assert str(pdf.Root.Lang) == case.expect["lang"]


def test_pdf_fonts_are_all_embedded(case):
    with pikepdf.open(case.pdf) as pdf:
        fonts = {}
        for page in pdf.pages:
            for font in (page.Resources.get("/Font") or {}).values():
                fonts[str(font.BaseFont)] = font
        assert fonts
        for name, font in fonts.items():
            descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            descriptor = descendant.FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), name
            assert re.match(r"/[A-Z]{6}\+", name), f"{name} is not subset"


# A word: a run of letters and digits, except that each Chinese character is a word of its own
# (Chinese sets no spaces, so lines and inline tags may break anywhere between characters).
WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]|[^\W\u3400-\u4dbf\u4e00-\u9fff]+")


def manuscript_words(built) -> set[str]:
    """Every word of the manuscript's text, as pandoc reads it (plain text, notes included)."""
    words = set()
    for path in sorted_sources(built):
        html = pypandoc.convert_file(str(path), "html5", extra_args=["--wrap=none"])
        tree = lxml.html.fromstring(f"<div>{html}</div>")
        for math in tree.xpath("//span[contains(@class, 'math')]"):
            math.drop_tree()  # formulas are drawn, not set as words, in the PDF
        for cite in tree.xpath("//span[contains(@class, 'citation')]"):
            cite.drop_tree()  # `[@key]` is printed as the citation style writes it
        for raw in tree.xpath("//*[@class='sourceCode']//a[@aria-hidden]"):
            raw.drop_tree()
        words |= set(WORD.findall(tree.text_content()))
    return words


def epub_words(built) -> set[str]:
    words = set()
    with zipfile.ZipFile(built.epub) as archive:
        for name in archive.namelist():
            if name.endswith(".xhtml"):
                tree = etree.fromstring(archive.read(name))
                words |= set(WORD.findall(" ".join(tree.itertext())))
    return words


def pdf_words(built) -> set[str]:
    text = "\n".join(page.extract_text() for page in PdfReader(built.pdf).pages)
    text = re.sub("\u2010\\s*\n", "", text)  # words WeasyPrint hyphenated at a line end
    text = re.sub("-\\s*\n", "-", text)
    words = set(WORD.findall(text))
    # pypdf runs together the runs of a right-to-left line that stand side by side in visual
    # order (table cells, a number or a Latin word in Arabic text); MuPDF's words keep them
    # apart. Both are the PDF's words.
    with pymupdf.open(built.pdf) as document:
        for page in document:
            words |= {w for item in page.get_text("words") for w in WORD.findall(item[4])}
    return words


def _digits_apart(words: set[str]) -> set[str]:
    """Words with their digits and letters apart (و350, "and 350": the bidi algorithm sets
    the number and the letter as two runs)."""
    return {part for word in words for part in re.findall(r"\d+|\D+", word)}


def test_every_word_is_in_the_epub(case):
    missing = manuscript_words(case) - epub_words(case)
    assert not missing, sorted(missing)[:20]


def test_every_word_is_in_the_pdf(case):
    missing = _digits_apart(manuscript_words(case)) - _digits_apart(pdf_words(case))
    assert not missing, sorted(missing)[:20]

"""The EPUB as a store takes it: valid, accessible, with the print edition's pages, reproducible."""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import unicodedata
import zipfile
from pathlib import Path

import pymupdf
import pytest
from lxml import etree
from PIL import Image

from quire.cover import HEIGHT, WIDTH
from quire.language.words import words_for
from quire.pipeline import CACHE_FOLDER, build
from quire.validate import ValidatorUnavailable, ace_available, run_ace

ROOT = Path(__file__).resolve().parent.parent
NS = {
    "h": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
WORDS_COMPARED = 5  # words after each page-break marker that must match the top of the PDF page
HYPHEN_AT_LINE_END = "\u2010"


# ---------- reading the built files ----------


def epub_files(path: Path) -> dict[str, bytes]:
    """Every file in the EPUB by its name in the zip."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def opf_tree(path: Path) -> etree._Element:
    """The package document, parsed."""
    return etree.fromstring(epub_files(path)["EPUB/package.opf"])


def metadata(path: Path, prop: str) -> list[str]:
    """The values of one <meta property> of the package document."""
    return [m.text for m in opf_tree(path).iterfind(f".//opf:meta[@property='{prop}']", NS)]


def xhtml_documents(path: Path) -> dict[str, etree._Element]:
    """The XHTML files of the EPUB, parsed, by their name inside EPUB/."""
    return {
        name.removeprefix("EPUB/"): etree.fromstring(data)
        for name, data in epub_files(path).items()
        if name.endswith(".xhtml")
    }


def normalise(text: str) -> list[str]:
    """Words to compare: NFKC, hyphenated line ends joined, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(HYPHEN_AT_LINE_END + r"\s+", "", text)
    text = re.sub(r"\u00ad", "", text)
    # Chinese has no spaces between words: each ideograph or CJK mark counts as a word.
    return re.findall(
        r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]|[^\s\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+",
        text,
    )


def _skipped(element: etree._Element) -> bool:
    """EPUB text that is not in the print page's flow: note calls, notes, formulas."""
    if not isinstance(element.tag, str):
        return True
    classes = (element.get("class") or "").split()
    return (
        etree.QName(element).localname == "math" or "noteref" in classes or "footnotes" in classes
    )


BLOCK_TAGS = {
    *("p", "div", "section", "nav", "figure", "figcaption", "blockquote", "pre", "br", "hr"),
    *("h1", "h2", "h3", "h4", "h5", "h6", "ol", "ul", "li", "dl", "dt", "dd"),
    *("table", "caption", "thead", "tbody", "tr", "td", "th", "aside", "math"),
}


def text_after(root: etree._Element, marker: etree._Element, limit: int = 400) -> str:
    """The printed text that follows a page-break marker in its document, in reading order."""
    out: list[str] = []
    on, skip = False, 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            on = on or element is marker
            if skip or _skipped(element):
                skip += 1
            elif on:
                if etree.QName(element).localname in BLOCK_TAGS:
                    out.append(" ")  # words meet across inline tags, not across blocks
                out.append(element.text or "")
        else:
            skip -= 1 if skip else 0
            if on and not skip and element.tail:
                out.append(element.tail)
        if sum(len(t) for t in out) > limit:
            break
    return "".join(out)


def print_margins() -> tuple[float, float]:
    """The top and bottom page margins of print.css, in points (where the margin boxes are)."""
    css = (ROOT / "styles" / "print.css").read_text()
    found = re.search(r"@page\s*\{[^}]*?margin:\s*([\d.]+)in\s+[\d.]+in\s+([\d.]+)in", css)
    return (float(found[1]) * 72, float(found[2]) * 72) if found else (54.0, 57.6)


def pdf_page_top(page: pymupdf.Page) -> str:
    """A PDF page's text in reading order without running heads, folios or note calls."""
    top, bottom = print_margins()
    lines = [
        line["spans"]
        for block in page.get_text("dict")["blocks"]
        for line in block.get("lines", [])
        if top <= (line["bbox"][1] + line["bbox"][3]) / 2 <= page.rect.height - bottom
    ]
    sizes = [s["size"] for spans in lines for s in spans]
    body = max(set(sizes), key=sizes.count, default=10)
    text = "\n".join(
        "".join(
            s["text"] for s in spans if not (s["text"].strip().isdigit() and s["size"] < 0.8 * body)
        )
        for spans in lines
    )
    text = re.sub(r"-\n", "-", text)  # a line broken after a hard hyphen
    text = re.sub(r"\(page [0-9ivxlcdm]+\)", " ", text)  # print's cross-reference page numbers
    return text.replace("⁂", " ")


def page_list(path: Path) -> list[tuple[str, str]]:
    """(label, href) of each entry of the nav's page-list."""
    nav = xhtml_documents(path)["nav.xhtml"]
    links = nav.iterfind(".//h:nav[@id='page-list']//h:a", NS)
    return [(a.text, a.get("href")) for a in links]


def repeated_table_head(marker: etree._Element) -> list[str]:
    """The words of the head of the table a marker is in: print repeats it on each page."""
    table = next((a for a in marker.iterancestors() if etree.QName(a).localname == "table"), None)
    head = table.find("h:thead", NS) if table is not None else None
    return normalise(" ".join(head.itertext())) if head is not None else []


def compared_words(docs: dict, pdf: pymupdf.Document, label: str, href: str) -> tuple[list, list]:
    """The words after a page-list entry's marker in the EPUB, and at the top of its PDF page."""
    name, _, fragment = href.partition("#")
    marker = docs[name].find(f".//*[@id='{fragment}']")
    epub_words = normalise(text_after(docs[name], marker))
    index = next(i for i in range(pdf.page_count) if pdf[i].get_label() == label)
    pdf_words = normalise(pdf_page_top(pdf[index]))
    if pdf_words[:1] == ["Chapter"] and epub_words[:1] != ["Chapter"]:
        pdf_words = pdf_words[2:]  # print.css labels each chapter's heading "Chapter N"
    elif epub_words and epub_words[0] in pdf_words[1:4] and epub_words[0] != pdf_words[0]:
        cut = pdf_words.index(epub_words[0])  # ... in the book's language: 第1章, باب 1
        if re.search(r"\d", "".join(pdf_words[:cut])):
            pdf_words = pdf_words[cut:]
    head = repeated_table_head(marker)
    if head and pdf_words[: len(head)] == head and epub_words[: len(head)] != head:
        pdf_words = pdf_words[len(head) :]
    if name == "nav.xhtml":
        epub_words, pdf_words = epub_words[:1], pdf_words[:1]  # print's contents has folios
    return epub_words, pdf_words


RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def same_right_to_left(epub_words: list[str], pdf: pymupdf.Document, label: str) -> bool:
    """True if the PDF page's first line is right to left and has the letters the EPUB's text
    begins with: the text layer holds a mixed line's runs (a number, a date, a Latin word) in
    the order they are drawn, the EPUB in the order they are read."""
    index = next(i for i in range(pdf.page_count) if pdf[i].get_label() == label)
    line = pdf_page_top(pdf[index]).strip().split("\n", 1)[0]
    if not RIGHT_TO_LEFT.search(line):
        return False
    printed = re.sub(r"\W", "", unicodedata.normalize("NFKC", line))
    written = re.sub(r"\W", "", "".join(epub_words))[: len(printed)]
    return sorted(printed) == sorted(written)


def page_list_mismatches(built) -> tuple[int, list[str]]:
    """Compare each page-list entry's text in the EPUB with the top of that page in the PDF.

    A blank printed page has no text of its own: its marker must stand right where the next
    page's does.
    """
    docs = xhtml_documents(built.epub)
    pdf = pymupdf.open(built.pdf)
    entries, problems = page_list(built.epub), []
    for n, (label, href) in enumerate(entries):
        epub_words, pdf_words = compared_words(docs, pdf, label, href)
        if not pdf_words and n + 1 < len(entries):
            following, _ = compared_words(docs, pdf, *entries[n + 1])
            same = epub_words[:WORDS_COMPARED] == following[:WORDS_COMPARED]
        else:
            k = min(WORDS_COMPARED, len(epub_words), len(pdf_words))
            same = k > 0 and epub_words[0].endswith(pdf_words[0])
            same = same and epub_words[1:k] == pdf_words[1:k]
            same = same or same_right_to_left(epub_words, pdf, label)
        if not same:
            problems.append(f"page {label}: EPUB {epub_words[:5]} / PDF {pdf_words[:5]}")
    return len(entries), problems


# ---------- fixtures ----------


@pytest.fixture(scope="session")
def ace_report(build_case):
    """Ace's report for a case, run once per built file; a skip (a failure under CI) without Ace."""
    reports: dict[str, object] = {}

    def get(name: str):
        """The report, or a skip (a failure under CI=true) saying why Ace cannot run."""
        if name not in reports:
            try:
                reason = ace_available()
                if reason:
                    raise ValidatorUnavailable(reason)
                reports[name] = run_ace(build_case(name).epub)
            except ValidatorUnavailable as exc:
                reports[name] = exc
        if isinstance(reports[name], ValidatorUnavailable):
            if os.environ.get("CI") == "true":
                pytest.fail(f"Ace must run in CI: {reports[name]}")
            pytest.skip(f"Ace cannot run here: {reports[name]}")
        return reports[name]

    return get


# ---------- validators ----------


def test_ace_finds_no_violations(case, ace_report):
    report = ace_report(case.name)
    assert [str(f) for f in report.findings] == []


# ---------- accessibility metadata ----------


def described_images(built) -> int:
    """How many images in the chapters carry alt text (decorative ones have alt="")."""
    docs = xhtml_documents(built.epub)
    return sum(
        1
        for name, root in docs.items()
        if name.startswith("text/") and "cover" not in name
        for img in root.iterfind(".//h:img", NS)
        if img.get("alt", "").strip()
    )


def test_accessibility_metadata_says_what_the_book_has(case):
    features = set(metadata(case.epub, "schema:accessibilityFeature"))
    visual = described_images(case) > 0
    modes = {"textual", "visual"} if visual else {"textual"}
    assert set(metadata(case.epub, "schema:accessMode")) == modes
    assert "textual" in metadata(case.epub, "schema:accessModeSufficient")
    assert {"structuralNavigation", "tableOfContents", "readingOrder"} <= features
    assert ("alternativeText" in features) == visual
    assert {"pageBreakMarkers", "pageNavigation"} <= features
    assert metadata(case.epub, "schema:accessibilityHazard") == ["none"]
    [summary] = metadata(case.epub, "schema:accessibilitySummary")
    assert "WCAG 2.2 Level AA" in summary and "page numbers of the print edition" in summary
    conforms = metadata(case.epub, "dcterms:conformsTo")
    assert conforms == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
    assert metadata(case.epub, "a11y:certifiedBy")[0].strip()
    [source] = metadata(case.epub, "pageBreakSource")
    identifier = opf_tree(case.epub).findtext(".//dc:identifier", namespaces=NS)
    assert "print edition" in source and identifier in source


# ---------- navigation ----------


def href_target_exists(docs: dict, href: str, base: str = "") -> bool:
    """True if a nav or NCX link points at an existing file (and id, if it names one)."""
    name, _, fragment = href.partition("#")
    name = name or base
    if name not in docs:
        return False
    return not fragment or docs[name].find(f".//*[@id='{fragment}']") is not None


def test_nav_has_nested_contents_landmarks_and_an_ncx(case):
    docs = xhtml_documents(case.epub)
    nav = docs["nav.xhtml"]
    toc = nav.find(".//h:nav[@id='toc']", NS)
    assert toc.get(EPUB_TYPE) == "toc"
    links = [a.get("href") for a in toc.iterfind(".//h:a", NS)]
    assert links and all(href_target_exists(docs, h) for h in links)
    if case.name == "sample":
        assert toc.find("h:ol/h:li/h:ol/h:li/h:a", NS) is not None  # sections under chapters
    landmarks = nav.find(".//h:nav[@id='landmarks']", NS)
    kinds = {a.get(EPUB_TYPE): a.get("href") for a in landmarks.iterfind(".//h:a", NS)}
    assert {"cover", "titlepage", "toc", "bodymatter"} <= set(kinds)
    if any("back-matter" in line for line in _book_yaml(case)):
        assert "backmatter" in kinds
    assert all(href_target_exists(docs, h, "nav.xhtml") for h in kinds.values())
    ncx = etree.fromstring(epub_files(case.epub)["EPUB/toc.ncx"])
    points = ncx.findall("ncx:navMap/ncx:navPoint", NS)
    assert len(points) == len(toc.findall("h:ol/h:li", NS))
    targets = ncx.findall("ncx:pageList/ncx:pageTarget", NS)
    assert [t.findtext("ncx:navLabel/ncx:text", namespaces=NS) for t in targets] == [
        label for label, _ in page_list(case.epub)
    ]


def _book_yaml(built) -> list[str]:
    """The lines of a case's book.yaml (none for a single file)."""
    folder = built.source if built.source.is_dir() else built.source.parent
    path = folder / "book.yaml"
    return path.read_text().splitlines() if path.exists() else []


# ---------- the print edition's pages ----------


def test_page_list_has_every_page_of_the_pdf_in_order(case):
    pdf = pymupdf.open(case.pdf)
    assert [label for label, _ in page_list(case.epub)] == [
        pdf[i].get_label() for i in range(pdf.page_count)
    ]


def test_page_breaks_are_marked_and_labelled(case):
    docs = xhtml_documents(case.epub)
    for label, href in page_list(case.epub):
        name, _, fragment = href.partition("#")
        marker = docs[name].find(f".//*[@id='{fragment}']")
        assert marker.get(EPUB_TYPE) == "pagebreak" and marker.get("role") == "doc-pagebreak"
        assert marker.get("aria-label") == label and not "".join(marker.itertext())


def test_each_page_starts_where_the_printed_page_starts(case):
    entries, problems = page_list_mismatches(case)
    assert entries > 0
    assert problems == []


def test_page_positions_count_the_same_characters_on_both_sides():
    """The EPUB's quick count of a text (a table of the characters to leave out) agrees with the
    print side's counts() for every character."""
    from quire.render.epub.page_breaks import NOT_COUNTED
    from quire.render.pages import counts

    left_out = [c for c in range(sys.maxunicode + 1) if not counts(chr(c))]
    assert sorted(NOT_COUNTED) == left_out


def test_epub_only_build_reuses_the_last_layout(build_case, tmp_path):
    case = build_case("folder-book")
    out = tmp_path / "out"
    shutil.copytree(case.epub.parent / CACHE_FOLDER, out / CACHE_FOLDER)
    [written] = build(case.source, out, ("epub",), lambda *a: None)
    assert written.path.read_bytes() == case.epub.read_bytes()
    assert written.notes == ()


def test_epub_only_build_leaves_out_a_stale_page_list(build_case, tmp_path):
    case = build_case("folder-book")
    source = tmp_path / "book"
    source.mkdir()
    for item in case.source.iterdir():
        (source / item.name).write_bytes(item.read_bytes())
    out = tmp_path / "out"
    build(source, out, ("pdf", "epub"), lambda *a: None)
    spring = source / "spring.md"
    spring.write_text(
        spring.read_text() + "\n\nA new closing paragraph, written after the print.\n"
    )
    [written] = build(source, out, ("epub",), lambda *a: None)
    assert page_list(written.path) == []
    assert not metadata(written.path, "pageBreakSource")
    assert any("no page-list" in note for note in written.notes)


# ---------- notes ----------


def test_notes_pop_up_and_come_back_at_each_chapters_end(case):
    total = 0
    for name, root in xhtml_documents(case.epub).items():
        refs = root.findall(f".//h:a[@{{{NS['epub']}}}type='noteref']", NS)
        asides = root.findall(f".//h:aside[@{{{NS['epub']}}}type='footnote']", NS)
        assert len(refs) == len(asides), name
        total += len(refs)
        for ref in refs:
            note = root.find(f".//*[@id='{ref.get('href')[1:]}']", NS)
            assert note is not None and note.get(f"{{{NS['epub']}}}type") == "footnote", name
            assert note.get("role") == "doc-footnote"
            back = note.find(".//h:a[@role='doc-backlink']", NS)
            assert back is not None and back.get("href") == "#" + ref.get("id"), name
        if asides:
            section = root.find(".//h:body/h:section", NS)
            last = [e for e in section if isinstance(e.tag, str)][-1]
            assert all(a.getparent() is last for a in asides), "notes are not at the chapter's end"
    if case.name in ("sample", "rich"):
        assert total > 0


# ---------- images and the cover ----------


def test_every_image_has_alt_text_and_the_cover_is_big_enough(case):
    for name, root in xhtml_documents(case.epub).items():
        for img in root.iterfind(".//h:img", NS):
            assert img.get("alt") is not None, name
    opf = opf_tree(case.epub)
    cover = opf.find(".//opf:item[@properties='cover-image']", NS)
    image = Image.open(io.BytesIO(epub_files(case.epub)["EPUB/" + cover.get("href")]))
    if case.name == "sample":
        assert cover.get("media-type") == "image/jpeg"  # the book's own cover.jpg
    else:
        assert image.size == (WIDTH, HEIGHT) and WIDTH >= 1600 and HEIGHT >= 2560
    cover_page = xhtml_documents(case.epub)["text/cover.xhtml"]
    alt = cover_page.find(".//h:img", NS).get("alt")
    cover_word = words_for(case.expect.get("lang", "en"))["Cover"]  # in the book's language
    assert alt.startswith(f"{cover_word}: ") and opf.findtext(".//dc:title", namespaces=NS) in alt


def test_generated_cover_is_the_same_each_time():
    from quire.cover import cover_png

    fonts = ROOT / "styles" / "fonts"
    first = cover_png("A Title Long Enough to Wrap on Two Lines", "Sub", ("A. Author",), fonts)
    assert first == cover_png(
        "A Title Long Enough to Wrap on Two Lines", "Sub", ("A. Author",), fonts
    )
    assert first != cover_png("Another Title", "Sub", ("A. Author",), fonts)
    assert Image.open(io.BytesIO(first)).size == (1600, 2560)


def write_book(folder: Path, image_markdown: str) -> Path:
    """A one-chapter book in `folder` that shows one image, written as given."""
    folder.mkdir()
    (folder / "dot.png").write_bytes(
        (ROOT / "tests" / "cases" / "rich" / "barometer.png").read_bytes()
    )
    (folder / "book.md").write_text(
        "---\ntitle: Dots\nauthor: A. Tester\nlang: en\ndate: 2025-01-01\n---\n\n"
        f"# One\n\nSome text before the picture.\n\n{image_markdown}\n\nAnd after it.\n"
    )
    return folder / "book.md"


@pytest.mark.expect_warnings
def test_an_image_without_alt_text_is_built_and_no_conformance_is_claimed(tmp_path):
    source = write_book(tmp_path / "book", "![](dot.png)")
    [written] = build(source, tmp_path / "out", ("epub",), lambda *a: None)
    chapter = xhtml_documents(written.path)["text/01-one.xhtml"]
    assert chapter.find(".//h:img", NS).get("alt") == ""  # Ace's image-alt rule holds
    assert metadata(written.path, "dcterms:conformsTo") == []
    [summary] = metadata(written.path, "schema:accessibilitySummary")
    assert "does not meet WCAG 2.2 Level AA" in summary and "images/dot.png" in summary


def test_an_explicitly_empty_alt_marks_a_decorative_image(tmp_path):
    source = write_book(tmp_path / "book", '![](dot.png){alt=""}')
    [written] = build(source, tmp_path / "out", ("epub",), lambda *a: None)
    chapter = xhtml_documents(written.path)["text/01-one.xhtml"]
    assert chapter.find(".//h:img", NS).get("alt") == ""
    assert metadata(written.path, "schema:accessMode") == ["textual"]
    assert "alternativeText" not in metadata(written.path, "schema:accessibilityFeature")


# ---------- reproducible builds ----------


@pytest.mark.expect_warnings
def test_a_rebuild_gives_the_same_bytes(case, tmp_path):
    written = build(case.source, tmp_path, ("pdf", "epub"), lambda *a: None)
    for again in written:  # with `printer:`, the print kit's interior and cover as well
        first = case.pdf.with_name(again.path.name)
        assert again.path.read_bytes() == first.read_bytes(), again.path.name
    assert {w.format for w in written} >= {"pdf", "epub"}


def test_source_date_epoch_fixes_the_dates(build_case, tmp_path, monkeypatch):
    case = build_case("rich")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build(case.source, tmp_path / "a", ("pdf", "epub"), lambda *a: None)
    second = build(case.source, tmp_path / "b", ("pdf", "epub"), lambda *a: None)
    for one, two in zip(first, second, strict=True):
        assert one.path.read_bytes() == two.path.read_bytes(), one.format
    epub = next(w.path for w in first if w.format == "epub")
    assert metadata(epub, "dcterms:modified") == ["2023-11-14T22:13:20Z"]
    with zipfile.ZipFile(epub) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2023, 11, 14, 0, 0, 0)}


# ---------- a real reading engine ----------


def squash(text: str) -> str:
    """Letters and digits only, lower-cased: text compared across line breaks and hyphenation."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text)).lower()


def test_mupdf_lays_out_each_chapter_with_its_opening_words(case):
    doc = pymupdf.open(case.epub)
    spine = [
        item.get("href")
        for ref in opf_tree(case.epub).iterfind(".//opf:itemref", NS)
        for item in opf_tree(case.epub).iterfind(f".//opf:item[@id='{ref.get('idref')}']", NS)
    ]
    assert doc.chapter_count == len(spine)
    docs = xhtml_documents(case.epub)
    checked = 0
    for index, href in enumerate(spine):
        first = docs[href].find(".//h:section/h:p", NS)
        if first is None or not href.startswith("text/") or href == "text/title.xhtml":
            continue
        opening = " ".join("".join(first.itertext()).split()[:8])
        pages = range(doc.chapter_page_count(index))
        text = " ".join(doc[doc.page_number_from_location((index, n))].get_text() for n in pages)
        assert squash(opening) in squash(text), f"{href}: {opening!r} not shown"
        checked += 1
    assert checked >= len([h for h in spine if h.startswith("text/") and h[5:7].isdigit()]) - 1

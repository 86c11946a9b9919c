# ruff: noqa: F811 - `browser` is a fixture imported from web_site
"""The back-of-book index (issue 26): terms marked in the text, sorted as the book's language
sorts them, printed with the pages the marks land on, linked to each mark in the EPUB.

The book is tests/cases/index-en (no expect.yaml: only this module builds it), copied to a
temporary folder and built once for the module; the rebuild test edits its own copy."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from web_site import browser  # noqa: F401 - a fixture, for the search test

CASE = Path(__file__).resolve().parent / "cases" / "index-en"
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
GROUP = "index marks left out"
# What the text holds where each entry's marks stand (the span's text, not its `entry=`).
MARKED_TEXT = {
    "Aihui": "Aihui",
    "Amur": "Amur",
    "navigation": "Amur",
    "tributaries": "Amur",
    "Ätna": "Ätna",
    "Kiakhta": "Kiakhta",
    "Nerchinsk": "Nerchinsk",
    "Nerchinsk, Treaty of": "the treaty",
    "Shilka": "Shilka",
}
LOCATOR = re.compile(r"^[0-9ivxlc]+$")
# The case book has two malformed marks, on purpose: each test checks the warnings it expects.
pytestmark = pytest.mark.expect_warnings


def build(source: Path, out: Path, formats: tuple[str, ...] = ("pdf", "epub")) -> dict:
    """The book built: {format: path}, and "warnings": the index's warnings."""
    from quire.errors import Findings
    from quire.pipeline import build as run

    with Findings() as findings:
        written = run(source, out, formats, lambda *a: None)
    paths: dict = {w.format: w.path for w in written}
    paths["warnings"] = [f.problem for f in findings.found if f.group == GROUP]
    paths["others"] = [f.problem for f in findings.found if f.group != GROUP]
    return paths


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    source = tmp_path_factory.mktemp("index") / "book"
    shutil.copytree(CASE, source)
    return build(source, tmp_path_factory.mktemp("index-out"), ("pdf", "epub", "html"))


def flat(text: str) -> str:
    """A page's text on one line, words hyphenated at a line's end made whole."""
    return " ".join(text.replace("\u2010\n", "").replace("-\n", "").split())


def pdf_index(path: Path) -> tuple[list[str], list[str], list[tuple[str, str, int]]]:
    """(labels of the pages, their texts, and each locator of the printed index as (its
    entry, its text, the index of the page its link lands on)), read back with PyMuPDF."""
    import pymupdf

    with pymupdf.open(path) as pdf:
        labels = [page.get_label() for page in pdf]
        texts = [flat(page.get_text()) for page in pdf]
        first = next(i for i, t in enumerate(texts) if t.startswith("Index ") and i > 3)
        found = []
        for page in list(pdf)[first:]:
            chars = [
                (pymupdf.Rect(c["bbox"]), c["c"])
                for block in page.get_text("rawdict")["blocks"]
                for line in block.get("lines", [])
                for span in line["spans"]
                for c in span["chars"]
            ]
            lines = _entry_lines(page)
            for link in page.get_links():
                if link.get("page", -1) < 0:
                    continue  # not a link within the book
                rect = link["from"]
                text = "".join(c for box, c in chars if rect.contains((box.tl + box.br) / 2))
                text = text.strip().rstrip(",;")
                if not LOCATOR.match(text):
                    continue  # a "see" reference, to another entry
                entry = _line_of(lines, rect)
                found.append((entry, text, link["page"]))
    return labels, texts, found


def _entry_lines(page) -> list[tuple[tuple[float, ...], str]]:  # noqa: ANN001
    """Each printed line of the index (its box) with the entry it names (its text before the
    first comma that precedes a page number)."""
    lines = []
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            text = "".join(span["text"] for span in line["spans"])
            term = re.split(r",\s*(?=[0-9ivx]+\b|see\b)", text)[0].strip()
            lines.append((tuple(line["bbox"]), term))
    return lines


def _line_of(lines: list[tuple[tuple[float, ...], str]], rect) -> str:  # noqa: ANN001
    """The entry of the line a link is on: in its column, the nearest in height."""
    middle = (rect.y0 + rect.y1) / 2
    column = [(box, t) for box, t in lines if box[0] - 1 <= rect.x0 and rect.x1 <= box[2] + 1]
    return min(column, key=lambda line: abs((line[0][1] + line[0][3]) / 2 - middle))[1]


def epub_pages(path: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(path) as epub:
        return {
            name.removeprefix("EPUB/"): etree.fromstring(epub.read(name))
            for name in epub.namelist()
            if name.endswith(".xhtml")
        }


def test_every_printed_page_number_is_a_page_that_holds_the_marked_term(built):
    labels, texts, locators = pdf_index(built["pdf"])
    entries = {entry for entry, _, _ in locators}
    assert entries == set(MARKED_TEXT), entries
    for entry, text, page in locators:
        assert text == labels[page], f"{entry}: printed {text}, its link lands on {labels[page]}"
        assert MARKED_TEXT[entry] in texts[page], f"{entry}: page {text} lacks the term"
    # A term mentioned only where it is marked: its pages are exactly those that hold it.
    body = [i for i, label in enumerate(labels) if label.isdigit() and "Index" not in texts[i][:6]]
    for term in ("Nerchinsk", "Kiakhta"):
        printed = sorted({labels[p] for e, _, p in locators if e == term}, key=int)
        holding = [labels[i] for i in body if re.search(rf"\b{term}\b", texts[i])]
        assert printed == holding, (term, printed, holding)
    # One locator per page: the marks of Nerchinsk on one page print that page once.
    printed = [t for e, t, _ in locators if e == "Nerchinsk"]
    assert len(printed) == len(set(printed))
    # The Shilka, marked in every paragraph of a few pages: a range, each page in it holds it.
    index_text = " ".join(t for t in texts if t.startswith("Index ") or "Shilka, " in t)
    first, last = re.search(r"Shilka, (\d+)\u2013(\d+)", index_text).groups()
    assert int(last) - int(first) >= 2
    for label in range(int(first), int(last) + 1):
        assert "Shilka" in texts[labels.index(str(label))], label


def test_the_index_is_two_columns_at_the_back_after_every_chapter(built):
    import pymupdf

    with pymupdf.open(built["pdf"]) as pdf:
        texts = [flat(page.get_text()) for page in pdf]
        first = next(i for i, t in enumerate(texts) if t.startswith("Index ") and i > 3)
        assert all("Later Years" not in t for t in texts[first:])
        assert any("Later Years" in t for t in texts[:first])
        page = pdf[first]
        words = page.get_text("words")
        starts = {round(w[0]) for w in words if w[4].rstrip(",") in ("Aigun", "Zeya")}
        assert len(starts) == 2 and max(starts) - min(starts) > page.rect.width / 4, starts
    contents = next(t for t in texts if t.startswith("Contents"))
    assert "Index" in contents  # listed in the contents, with its page


def test_every_epub_index_link_lands_on_its_mark(built):
    pages = epub_pages(built["epub"])
    index_name = next(n for n, p in pages.items() if p.find(f".//*[@{EPUB_TYPE}='index']")
                      is not None and "nav" not in n)  # fmt: skip
    index = pages[index_name]
    locators = index.findall(f".//{XHTML}a[@{EPUB_TYPE}='index-locator']")
    assert len(locators) >= 10
    labels, _, printed = pdf_index(built["pdf"])
    for link in locators:
        file, _, ident = link.get("href").rpartition("#")
        target = pages["text/" + file].xpath("//*[@id=$i]", i=ident)
        assert target, f"{link.get('href')} lands nowhere"
        assert "index" in target[0].get("class", "").split(), link.get("href")
    # The locators name the printed pages, as print does.
    assert sorted(a.text for a in locators) == sorted(t for _, t, _ in printed)
    terms = [t.text for t in index.iter(f"{XHTML}span") if t.get(EPUB_TYPE) == "index-term"]
    assert terms[:4] == ["Aigun", "Aihui", "Amur", "navigation"], terms
    nav = pages["nav.xhtml"]
    landmark = nav.xpath("//*[@epub:type='landmarks']//*[@epub:type='index']",
                         namespaces={"epub": "http://www.idpf.org/2007/ops"})  # fmt: skip
    assert landmark and landmark[0].get("href").endswith(index_name.removeprefix("text/"))
    toc = nav.xpath("//*[@id='toc']//*[local-name()='a']/text()")
    assert "Index" in toc


def test_the_epub_with_its_index_passes_epubcheck(built):
    from quire.validate import ValidatorUnavailable, run_epubcheck

    pages = epub_pages(built["epub"])
    assert any(p.find(f".//*[@{EPUB_TYPE}='index-locator']") is not None for p in pages.values())

    try:
        report = run_epubcheck(built["epub"])
    except ValidatorUnavailable as exc:
        pytest.skip(str(exc))
    assert report.clean, report.findings  # no error, no warning


def test_a_malformed_mark_is_a_warning_with_its_line(built):
    found = sorted((Path(p.file).name, p.line, p.message) for p in built["warnings"])
    assert [(f, line) for f, line, _ in found] == [("two.md", 18), ("two.md", 19)], found
    assert "names no term" in found[0][2] and "Albazino fort" in found[1][2]
    assert not built["others"], built["others"]


def test_a_rebuild_after_an_edit_that_moves_a_term_updates_its_page(tmp_path):
    source = tmp_path / "book"
    shutil.copytree(CASE, source)
    out = tmp_path / "out"
    before = _kiakhta(build(source, out, ("pdf",))["pdf"])
    text = (source / "two.md").read_text(encoding="utf-8")
    moved = text.replace(
        "At [Kiakhta]", "\n\n".join(["More words. " * 120] * 3) + "\n\nAt [Kiakhta]"
    )
    (source / "two.md").write_text(moved, encoding="utf-8")
    after = _kiakhta(build(source, out, ("pdf",))["pdf"])
    assert int(after) > int(before), (before, after)


def _kiakhta(pdf: Path) -> str:
    """The page the index prints for Kiakhta, checked to hold it."""
    labels, texts, locators = pdf_index(pdf)
    ((_, text, page),) = [x for x in locators if x[0] == "Kiakhta"]
    assert text == labels[page] and "Kiakhta" in texts[page]
    return text


def test_the_one_document_layout_prints_the_same_pages(built, tmp_path, monkeypatch):
    monkeypatch.setenv("QUIRE_PDF_LAYOUT", "single")
    source = tmp_path / "book"
    shutil.copytree(CASE, source)
    single = pdf_index(build(source, tmp_path / "out", ("pdf",))["pdf"])[2]
    assert [(e, t) for e, t, _ in single] == [(e, t) for e, t, _ in pdf_index(built["pdf"])[2]]


def test_a_mark_added_in_one_chapter_leaves_the_ids_of_the_others(tmp_path):
    from quire.load import load
    from quire.parse import pandoc
    from quire.transform import transform

    source = tmp_path / "book"
    shutil.copytree(CASE, source)

    def mark_ids() -> dict[str, list[str]]:
        loaded = load(source)
        book = transform(loaded, pandoc.parse_all(loaded.files))
        return {
            c.source.name: [s.get("id") for s in c.body.iter("span") if s.get("class") == "index"]
            for c in book.chapters
        }

    before = mark_ids()
    one = source / "one.md"
    added = "# The Border\n\n[Nerchinsk]{.index} and [Kiakhta]{.index} first.\n\n"
    one.write_text(one.read_text().replace("# The Border\n\n", added))
    after = mark_ids()
    changed = [name for name in before if before[name] != after[name]]
    assert [Path(name).name for name in changed] == ["one.md"], changed
    assert all(before[name] for name in before if name != "index")


def test_an_authors_heading_named_index_keeps_its_id_apart_from_quires_index(tmp_path):
    from quire.load import load
    from quire.parse import pandoc
    from quire.transform import transform

    source = tmp_path / "book.md"
    source.write_text("---\ntitle: T\n---\n\n# Index\n\nThe [Amur]{.index}.\n")
    loaded = load(source)
    book = transform(loaded, pandoc.parse_all(loaded.files))
    assert [c.kind for c in book.chapters][-1] == "index"
    ids = [e.get("id") for c in book.chapters for e in c.body.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_marks_on_one_page_print_it_once_and_runs_of_pages_print_as_ranges():
    import lxml.html

    from quire.render.index_page import write_locators

    pages = {"a": "12", "b": "13", "c": "13", "d": "14", "e": "20", "f": "21", "g": "xi"}
    links = ", ".join(
        f'<a class="index-locator" href="#{m}">?</a>' for m in ("g", *"abcdef")
    )  # fmt: skip
    body = lxml.html.fragment_fromstring(f'<p><span class="index-locators">{links}</span></p>')
    assert write_locators(body, pages.get) == {**pages}
    assert body.text_content() == "xi, 12\u201314, 20, 21"
    hrefs = [a.get("href") for a in body.iter("a")]
    assert hrefs == ["#g", "#a", "#d", "#e", "#f"]  # each page's first mark; a range's ends


SORTED = {
    "ru": (
        ["Яблоков", "Ёлкин", "Иванов", "Абакан", "Йошкар-Ола", "Елагин", "Жуков", "Амур"],
        ["Абакан", "Амур", "Елагин", "Ёлкин", "Жуков", "Иванов", "Йошкар-Ола", "Яблоков"],
        ["А", "Е", "Ж", "И", "Й", "Я"],
    ),
    "de": (
        ["Zürich", "Öl", "Straße", "Apfel", "Ofen", "Ärger", "Bach", "Äbte"],
        ["Äbte", "Apfel", "Ärger", "Bach", "Ofen", "Öl", "Straße", "Zürich"],
        ["A", "B", "O", "S", "Z"],
    ),
}


@pytest.mark.parametrize("lang", sorted(SORTED))
def test_the_index_sorts_as_the_language_does(tmp_path, lang):
    terms, expected, letters = SORTED[lang]
    source = tmp_path / "book.md"
    marks = " ".join(f"[{t}]{{.index}}" for t in terms)
    see = '[Амур]{.index see="Абакан; Жуков"}' if lang == "ru" else '[Bach]{.index see="Apfel"}'
    source.write_text(f"---\ntitle: T\nlang: {lang}\n---\n\n# Eins\n\n{marks}\n\n{see}\n")
    made = build(source, tmp_path / "out", ("epub",))
    assert not made["warnings"] and not made["others"]
    pages = epub_pages(made["epub"])
    index = next(p for n, p in pages.items() if p.find(f".//*[@{EPUB_TYPE}='index']") is not None
                 and "nav" not in n)  # fmt: skip
    top = index.xpath("//*[@epub:type='index-group']/*[local-name()='ul']/*[local-name()='li']"
                      "/*[@epub:type='index-term']/text()",
                      namespaces={"epub": "http://www.idpf.org/2007/ops"})  # fmt: skip
    assert top == expected
    heads = index.xpath("//*[@epub:type='index-group']/*[local-name()='h2']/text()",
                        namespaces={"epub": "http://www.idpf.org/2007/ops"})  # fmt: skip
    assert heads == letters
    words = {"ru": ("Предметный указатель", "см."), "de": ("Index", "siehe")}[lang]
    text = "".join(index.itertext())
    assert words[0] in text and f"{words[1]} " in text
    see = index.xpath("//*[@epub:type='index-xref-preferred']/text()",
                      namespaces={"epub": "http://www.idpf.org/2007/ops"})  # fmt: skip
    assert see == (["Абакан", "Жуков"] if lang == "ru" else ["Apfel"])  # several, apart by `;`


def test_the_web_index_links_every_locator_to_its_mark(built):
    import lxml.html

    site = built["html"]
    page = next(site.glob("*-index.html"))
    main = lxml.html.parse(str(page)).find(".//main")
    locators = main.xpath(".//a[contains(concat(' ', @class, ' '), ' index-locator ')]")
    _, _, printed = pdf_index(built["pdf"])
    assert sorted(a.text for a in locators) == sorted(t for _, t, _ in printed)
    for link in locators:
        file, _, ident = link.get("href").rpartition("#")
        target = lxml.html.parse(str(site / file)).getroot().get_element_by_id(ident, None)
        assert target is not None, link.get("href")
        assert "index" in target.get("class", "").split(), link.get("href")
    see = main.xpath(".//a[contains(@class, 'index-xref')]")
    assert see and all(main.get_element_by_id(a.get("href")[1:], None) is not None for a in see)


def test_the_web_search_finds_a_term_only_the_index_names(built, browser):
    site = built["html"]
    page = browser.new_page()
    page.goto((site / "index.html").as_uri(), wait_until="networkidle")
    page.fill("#q", "Dragon")  # "Black Dragon River": an entry with no text of its own
    page.click(".search button")
    page.wait_for_selector(".results li a")
    found = page.eval_on_selector_all(".results li a", "links => links.map(a => a.href)")
    page.close()
    assert found and found[0].split("#")[0].endswith("-index.html"), found


def test_a_link_to_the_index_lands_on_it(tmp_path):
    # `#index` (pandoc's id for a heading "Index", what an author writes) and Quire's own id
    # both reach the index Quire makes after the links are resolved, with no warning
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text("title: Links\nauthor: A. Writer\nlang: en\n")
    (book / "one.md").write_text(
        "# One\n\nThe [Amur]{.index} river; see [the index](#index) or [it](#quire-index).\n"
    )
    paths = build(book, tmp_path / "out", ("epub",))
    assert paths["others"] == [] and paths["warnings"] == []
    with zipfile.ZipFile(paths["epub"]) as archive:
        names = archive.namelist()
        text = archive.read("EPUB/text/01-one.xhtml").decode()
    index_file = next(n for n in names if n.endswith("-index.xhtml")).rsplit("/", 1)[-1]
    hrefs = re.findall(r'<a href="([^"]+)">(?:the index|it)</a>', text)
    assert hrefs == [f"{index_file}#quire-index"] * 2, hrefs


def test_the_sample_books_index_prints_the_pages_its_marks_land_on(build_case):
    # Russia–China Relations, as the session builds it: every locator of its EPUB index names
    # the printed page of its mark, that page holds the mark's first word, and print's index
    # prints the same numbers
    sample = build_case("sample")
    labels, texts, printed = pdf_index(sample.pdf)
    pages = epub_pages(sample.epub)
    locators = [a for p in pages.values() for a in p.iter(f"{XHTML}a")
                if a.get(EPUB_TYPE) == "index-locator"]  # fmt: skip
    assert len(locators) >= 150
    for link in locators:
        file, _, ident = link.get("href").rpartition("#")
        [mark] = pages["text/" + file].xpath("//*[@id=$i]", i=ident)
        first = re.findall(r"\w+", "".join(mark.itertext()))[0]
        assert link.text in labels, link.text
        page = texts[labels.index(link.text)]
        assert re.search(rf"\b{re.escape(first)}", page), (link.get("href"), link.text, first)
    assert sorted(a.text for a in locators) == sorted(t for _, t, _ in printed)

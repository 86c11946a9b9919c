"""The spine's own pages: cover, title page and chapters, with notes and links made EPUB's."""

from __future__ import annotations

import copy
from xml.sax.saxutils import quoteattr

import lxml.html
from lxml import etree

from quire.ahead import when_needed
from quire.cover import cover_png
from quire.fonts import load_fonts
from quire.language.words import book_words
from quire.render import PageStart
from quire.render.contents import chapter_of_ids
from quire.render.epub.document import CoverImage, Page, marker_html, x, xhtml_page
from quire.render.epub.page_breaks import insert_page_breaks
from quire.render.front_matter import COPYRIGHT_ID, copyright_page
from quire.render.print_checks import check_metadata_coverage
from quire.transform import SECTION_TYPES, Book, Chapter

MATTER = {"front": "frontmatter", "body": "bodymatter", "back": "backmatter"}


def _starts_by_chapter(book: Book, starts: tuple[PageStart, ...]) -> dict[str, list[PageStart]]:
    """The page starts that fall in each chapter, by chapter id, in page order."""
    owner: dict[str, str] = {}
    for chapter in book.chapters:
        for element in chapter.body.iter():
            if isinstance(element.tag, str) and element.get("id"):
                owner[element.get("id")] = chapter.id
    result: dict[str, list[PageStart]] = {}
    for start in starts:
        if start.element_id in owner:
            result.setdefault(owner[start.element_id], []).append(start)
    return result


def cover_image(book: Book) -> CoverImage:
    """The book's cover image, or a typographic one drawn from its title and authors."""
    if book.cover:
        return CoverImage(
            book.cover.href, book.cover.media_type, book.cover.path.read_bytes(), False
        )
    taken, href, n = {a.href for a in book.assets}, "images/cover.png", 1
    while href in taken:
        n += 1
        href = f"images/cover-{n}.png"
    config = book.config
    fonts = book.styles / "fonts"
    check_metadata_coverage(book, when_needed(load_fonts, fonts))  # drawn with these fonts
    data = when_needed(cover_png, config.title or "", config.subtitle, config.authors, fonts)
    return CoverImage(href, "image/png", data, True)


def cover_page(book: Book, cover: CoverImage) -> Page:
    """The cover as its own page, for reading systems that show it in the spine."""
    name = book_words(book.config)["Cover"]
    alt = f"{name}: {book.config.title}" + (
        f" — {', '.join(book.config.authors)}" if book.config.authors else ""
    )
    body = (
        '<body class="cover" epub:type="cover">\n<section epub:type="cover" class="cover">\n'
        f'<img src="../{cover.href}" alt={quoteattr(alt)}/>\n</section>\n</body>'
    )
    xhtml = xhtml_page(book, book.config.title or "", body)
    return Page("text/cover.xhtml", name, xhtml)


def title_page(book: Book, starts: list[PageStart]) -> Page:
    """The title page (title, subtitle, authors, publisher) with the print title pages' markers."""
    config = book.config
    labels = tuple(s.label for s in starts if s.chars == 0)
    # The print copyright page's marker goes where its text starts, inside it.
    verso = [s.label for s in starts if s.chars == 0 and s.element_id == COPYRIGHT_ID]
    lines = [marker_html(label) for label in labels if label not in verso]
    lines.append(f'<h1 class="title">{x(config.title)}</h1>')
    if config.subtitle:
        lines.append(f'<p class="subtitle">{x(config.subtitle)}</p>')
    lines.extend(f'<p class="author">{x(a)}</p>' for a in config.authors)
    if config.publisher and config.publisher not in config.authors:
        lines.append(f'<p class="publisher">{x(config.publisher)}</p>')
    body = (
        '<body class="titlepage" epub:type="frontmatter">\n'
        '<section epub:type="titlepage" class="titlepage" id="title-page">\n'
        + "\n".join(lines)
        + "\n</section>\n"
        + copyright_page(book, epub=True, start="".join(marker_html(v) for v in verso))
        + "\n</body>"
    )
    xhtml = xhtml_page(book, config.title or "", body)
    name = book_words(config)["TitlePage"]
    return Page("text/title.xhtml", name, xhtml, page_labels=labels)


def chapter_page(
    book: Book, chapter: Chapter, owners: dict[str, str], starts: list[PageStart]
) -> Page:
    """One chapter as XHTML: notes as EPUB 3 footnotes, print page markers, links into the package."""
    body = copy.deepcopy(chapter.body)
    body.set("epub:type", chapter.kind)
    classes = [*body.get("class", "").split(), chapter.kind]  # epub.css styles by kind
    body.set("class", " ".join(dict.fromkeys(classes)))
    if SECTION_TYPES.get(chapter.kind):
        body.set("role", SECTION_TYPES[chapter.kind])
    _rewrite_links(owners, chapter, body)
    for page_break in body.xpath(".//div[@class='page-break']"):
        page_break.drop_tree()  # `\newpage` is for print; a reflowable book has no pages to break
    for image in body.iter("img"):
        image.set("src", "../" + image.get("src"))
    _epub_notes(body, book_words(book.config)["Notes"])
    labels = insert_page_breaks(body, starts)
    markup = etree.tostring(body, method="xml", encoding="unicode", with_tail=False)
    page_body = f'<body epub:type="{MATTER[chapter.role]}">\n{markup}\n</body>'
    href = "text/" + chapter.file_name
    xhtml = xhtml_page(book, chapter.title or book.config.title or "", page_body)
    return Page(href, chapter.title, xhtml, _properties(body), chapter, labels)


def link_owners(book: Book) -> dict[str, str]:
    """The file of the chapter each element id is in (made once per book, not per chapter)."""
    return {name: chapter.file_name for name, chapter in chapter_of_ids(book).items()}


def _rewrite_links(owners: dict[str, str], chapter: Chapter, body: etree._Element) -> None:
    """Links to ids in other chapters point into those chapters' files (ids are unique)."""
    for link in body.iter("a"):
        href = link.get("href", "")
        if href.startswith("#") and owners.get(href[1:], chapter.file_name) != chapter.file_name:
            link.set("href", owners[href[1:]] + href)


def _epub_notes(body: etree._Element, notes: str) -> None:
    """Note references become noterefs, the chapter's notes become footnote asides at its end."""
    for ref in body.xpath(".//a[contains(concat(' ', @class, ' '), ' noteref ')]"):
        ref.set("epub:type", "noteref")
        ref.set("role", "doc-noteref")
        number = ref.text
        ref.text = None
        sup = lxml.html.etree.SubElement(ref, "sup")
        sup.text = number
    block = body.find(".//div[@class='footnotes']")
    if block is None:
        return
    block.tag = "section"
    block.set("role", "doc-endnotes")
    block.set("epub:type", "endnotes")
    block.set("aria-label", notes)
    for note in block.findall("div"):
        note.tag = "aside"
        note.set("epub:type", "footnote")
        note.set("role", "doc-footnote")
        number = note.attrib.pop("data-n")
        back = lxml.html.Element("a", href=f"#{note.get('id').replace('-', '-ref-', 1)}")
        back.set("role", "doc-backlink")
        back.text = f"{number}."
        first = note[0] if len(note) and note[0].tag == "p" else note
        back.tail = " " + (first.text or "")
        first.text = None
        first.insert(0, back)
    rule = lxml.html.Element("hr")
    rule.set("class", "notes-rule")
    block.insert(0, rule)


def _properties(body: etree._Element) -> str:
    """The manifest properties a chapter needs: mathml and svg if it holds them."""
    found = {
        etree.QName(e).localname if "}" in str(e.tag) else e.tag
        for e in body.iter()
        if isinstance(e.tag, str)
    }
    props = []
    if "math" in found:
        props.append("mathml")
    if "svg" in found:
        props.append("svg")
    return " ".join(props)

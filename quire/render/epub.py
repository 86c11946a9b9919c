"""EPUB renderer: one XHTML file per chapter, package document, nav, NCX, in a reproducible zip."""

from __future__ import annotations

import copy
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import lxml.html
from lxml import etree

from quire.config import BookConfig
from quire.cover import cover_png
from quire.fonts import FontFile, FontSet, load_fonts
from quire.render import Output, PageStart
from quire.render.contents import nested_list, sections
from quire.render.front_matter import COPYRIGHT_ID, copyright_page
from quire.render.pages import counts, roman
from quire.render.print_checks import check_metadata_coverage
from quire.transform import LIST_TITLES, SECTION_TYPES, Book, Chapter, list_entries

XHTML_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" \
lang={lang} xml:lang={lang}>
<head>
<meta charset="utf-8"/>
<title>{title}</title>
{links}</head>
"""
CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles>
<rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/>
</rootfiles>
</container>
"""
MATTER = {"front": "frontmatter", "body": "bodymatter", "back": "backmatter"}
BEFORE_CONTENTS = {"copyright-page", "dedication", "epigraph"}
NAV_DEPTH = 2  # without `toc-depth`, the nav lists chapters and their sections
# Pages the print edition adds before the chapters, and the EPUB page that stands for each.
PRINT_FRONT = {
    "half-title": "title-page",
    "title-page": "title-page",
    COPYRIGHT_ID: "title-page",  # the generated copyright page is part of the EPUB's title page
    "contents": "contents",
    "list-of-figures": "contents",  # `lof`/`lot`: the EPUB's lists are in its nav too
    "list-of-tables": "contents",
}
# Blocks a page-break marker goes before (not into) when the printed page begins with them.
HOISTED = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "figure", "table", "dl"}
HOIST_INTO = {"section", "div", "aside", "blockquote", "li", "td", "th", "dd", "figure", "body"}
XHTML_NS = "http://www.w3.org/1999/xhtml"
# EPUB 3.3 core media types of the font files Quire ships.
FONT_MEDIA_TYPES = {".ttf": "font/ttf", ".otf": "font/otf"}
# Text set in the monospaced family (epub.css); everything else is in the text family.
MONO_TAGS = ("code", "pre", "kbd", "samp")
# What a reading system may draw without its being in the text: list numbers and the
# hyphen of automatic hyphenation (epub.css has `hyphens: auto`).
GENERATED_TEXT = "0123456789.-\u2010"


@dataclass(frozen=True)
class CoverImage:
    """The cover picture: the book's own, or one drawn from its title and authors."""

    href: str
    media_type: str
    data: bytes
    generated: bool


@dataclass(frozen=True)
class EmbeddedFont:
    """One subset font file of the package."""

    href: str  # inside EPUB/, e.g. fonts/CharisSIL-Regular.ttf
    media_type: str
    data: bytes


@dataclass(frozen=True)
class Page:
    """One XHTML file of the package and its place in the spine and the contents."""

    href: str  # inside EPUB/, e.g. text/01-preface.xhtml
    title: str
    xhtml: str
    properties: str = ""
    chapter: Chapter | None = None
    page_labels: tuple[str, ...] = ()  # the printed pages whose markers this file holds


def x(text: str | None) -> str:
    """Text escaped for XML content."""
    return escape(text or "")


def xhtml_page(book: Book, title: str, body: str, css: str = "../styles/epub.css") -> str:
    """A complete XHTML document in the book's language with the EPUB style sheet.

    With embed-fonts on, the fonts' style sheet comes first, so epub.css can name the families.
    """
    lang = quoteattr(book.config.lang or "und")
    sheets = [css.rsplit("/", 1)[0] + "/fonts.css"] if book.config.embed_fonts else []
    sheets.append(css)
    folder = css.rsplit("/", 1)[0]
    sheets += [f"{folder}/{name}" for name in author_sheets(book)]
    links = "".join(f'<link rel="stylesheet" type="text/css" href="{href}"/>\n' for href in sheets)
    return XHTML_HEAD.format(lang=lang, title=x(title), links=links) + body + "\n</html>\n"


def author_sheets(book: Book) -> list[str]:
    """The names of the book's own style sheets in the package, after epub.css."""
    return [f"book-{n}.css" for n in range(1, len(book.epub_css) + 1)]


class EpubRenderer:
    """Builds an EPUB 3 package (with an EPUB 2 NCX) from a Book."""

    format = "epub"

    def render(self, book: Book, earlier: dict[str, Output]) -> Output:
        """Render the whole package as zip bytes."""
        pdf = earlier.get("pdf")
        page_starts = pdf.page_starts if pdf else ()
        cover = cover_image(book)
        pages = self._pages(book, cover, page_starts)
        nav = nav_page(book, pages, page_starts)
        pages.insert(_contents_position(pages), nav)
        files = {"EPUB/" + p.href: p.xhtml.encode("utf-8") for p in pages}
        files["EPUB/toc.ncx"] = ncx_document(book, pages).encode("utf-8")
        files["EPUB/styles/epub.css"] = (book.styles / "epub.css").read_bytes()
        for name, path in zip(author_sheets(book), book.epub_css, strict=True):
            files[f"EPUB/styles/{name}"] = path.read_bytes()
        fonts: tuple[EmbeddedFont, ...] = ()
        if book.config.embed_fonts:
            fonts, css = embedded_fonts(book, pages)
            files["EPUB/styles/fonts.css"] = css.encode("utf-8")
            key = obfuscation_key(book.config.identifier or "")
            files.update({"EPUB/" + f.href: obfuscate(f.data, key) for f in fonts})
            files["META-INF/encryption.xml"] = encryption_document(fonts).encode("utf-8")
        for asset in book.assets:
            files["EPUB/" + asset.href] = asset.path.read_bytes()
        files["EPUB/" + cover.href] = cover.data
        page_list = any(p.page_labels for p in pages)
        opf = package_document(book, pages, cover, page_list, fonts)
        files["EPUB/package.opf"] = opf.encode("utf-8")
        notes = () if page_list else ("no page-list: the print layout was not made in this build",)
        return Output("epub", zip_package(files, book.modified), notes=notes)

    def _pages(
        self, book: Book, cover: CoverImage, page_starts: tuple[PageStart, ...]
    ) -> list[Page]:
        """Cover, title page and chapters, with the print pages' markers in them."""
        pages = [cover_page(book, cover)]
        front = [s for s in page_starts if PRINT_FRONT.get(s.element_id) == "title-page"]
        pages.append(title_page(book, front))
        by_id = {c.id: c for c in book.chapters}
        starts_in = _starts_by_chapter(book, page_starts)
        for chapter in book.chapters:
            pages.append(chapter_page(book, chapter, by_id, starts_in.get(chapter.id, [])))
        return pages


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
    check_metadata_coverage(book, load_fonts(book.styles / "fonts"))  # drawn with these fonts
    data = cover_png(config.title or "", config.subtitle, config.authors, book.styles / "fonts")
    return CoverImage(href, "image/png", data, True)


def cover_page(book: Book, cover: CoverImage) -> Page:
    """The cover as its own page, for reading systems that show it in the spine."""
    alt = f"Cover: {book.config.title}" + (
        f", by {', '.join(book.config.authors)}" if book.config.authors else ""
    )
    body = (
        '<body class="cover" epub:type="cover">\n<section epub:type="cover" class="cover">\n'
        f'<img src="../{cover.href}" alt={quoteattr(alt)}/>\n</section>\n</body>'
    )
    return Page("text/cover.xhtml", "Cover", xhtml_page(book, book.config.title or "", body))


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
    return Page("text/title.xhtml", "Title Page", xhtml, page_labels=labels)


def marker_html(label: str) -> str:
    """A page-break marker as XHTML: empty, labelled, and announced as a page break."""
    return (
        f'<span epub:type="pagebreak" role="doc-pagebreak" id="page-{x(label)}" '
        f"aria-label={quoteattr(label)}></span>"
    )


def chapter_page(
    book: Book, chapter: Chapter, by_id: dict[str, Chapter], starts: list[PageStart]
) -> Page:
    """One chapter as XHTML: notes as EPUB 3 footnotes, print page markers, links into the package."""
    body = copy.deepcopy(chapter.body)
    body.set("epub:type", chapter.kind)
    classes = [*body.get("class", "").split(), chapter.kind]  # epub.css styles by kind
    body.set("class", " ".join(dict.fromkeys(classes)))
    if SECTION_TYPES.get(chapter.kind):
        body.set("role", SECTION_TYPES[chapter.kind])
    _rewrite_links(book, chapter, body)
    for page_break in body.xpath(".//div[@class='page-break']"):
        page_break.drop_tree()  # `\newpage` is for print; a reflowable book has no pages to break
    for image in body.iter("img"):
        image.set("src", "../" + image.get("src"))
    _epub_notes(body)
    labels = tuple(s.label for s in starts if _insert_page_break(body, s))
    markup = etree.tostring(body, method="xml", encoding="unicode", with_tail=False)
    page_body = f'<body epub:type="{MATTER[chapter.role]}">\n{markup}\n</body>'
    href = "text/" + chapter.file_name
    xhtml = xhtml_page(book, chapter.title or book.config.title or "", page_body)
    return Page(href, chapter.title, xhtml, _properties(body), chapter, labels)


def _rewrite_links(book: Book, chapter: Chapter, body: etree._Element) -> None:
    """Links to ids in other chapters point into those chapters' files."""
    owners = {}
    for other in book.chapters:
        if other is chapter:
            continue
        for element in other.body.iter():
            if isinstance(element.tag, str) and element.get("id"):
                owners[element.get("id")] = other.file_name
    for link in body.iter("a"):
        href = link.get("href", "")
        if href.startswith("#") and href[1:] in owners:
            link.set("href", owners[href[1:]] + href)


def _epub_notes(body: etree._Element) -> None:
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
    block.set("aria-label", "Notes")
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


def _insert_page_break(body: etree._Element, start: PageStart) -> bool:
    """Put a page-break marker where the printed page begins; False if that place is not here."""
    found = body.xpath(".//*[@id=$i]", i=start.element_id)
    element = found[0] if found else body if body.get("id") == start.element_id else None
    place = _locate(element, start.chars) if element is not None else None
    if place is None:
        return False
    node, attr, index = place
    marker = lxml.html.fromstring(marker_html(start.label))
    marker.text = ""  # written <span ...></span>: some older readers mishandle <span/>
    text = getattr(node, attr)
    if attr == "text" and index == 0 and node.tag in HOISTED:
        parent = node.getparent()
        if parent is not None and parent.tag in HOIST_INTO:
            node.addprevious(marker)  # the page begins with this block: mark it before the block
            return True
    setattr(node, attr, text[:index])
    marker.tail = text[index:]
    if attr == "text":
        node.insert(0, marker)
    else:
        node.addnext(marker)
    return True


def _skipped(node: etree._Element) -> bool:
    """True for what print does not lay out in the flow: notes, note calls, formulas, comments."""
    if not isinstance(node.tag, str):
        return True
    if node.tag in ("math", "script", "style"):
        return True
    classes = node.get("class", "").split()
    return "noteref" in classes or "footnotes" in classes or node.get("epub:type") == "pagebreak"


def _text_slots(element: etree._Element, top: bool = True) -> Iterator[tuple[etree._Element, str]]:
    """(node, "text" or "tail") for each piece of an element's printed text, in reading order."""
    if not top and _skipped(element):
        return
    yield element, "text"
    for child in element:
        yield from _text_slots(child, top=False)
        yield child, "tail"


def _locate(element: etree._Element, chars: int) -> tuple[etree._Element, str, int] | None:
    """Where the element's visible character number `chars` is: (node, attribute, offset)."""
    seen = 0
    for node, attr in _text_slots(element):
        text = getattr(node, attr) or ""
        for index, char in enumerate(text):
            if not counts(char):
                continue
            if seen == chars:
                return node, attr, _word_start(text, index)
            seen += 1
    return None


def _word_start(text: str, index: int) -> int:
    """Back from the middle of a word (a page that begins after a hyphenated break) to its start."""
    while index > 0 and text[index - 1].isalpha() and text[index].isalpha():
        index -= 1
    return index


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


def _contents_position(pages: list[Page]) -> int:
    """The contents follow the title page and the copyright-like pages, before the preface."""
    position = 0
    for index, page in enumerate(pages):
        if page.chapter is None or (
            page.chapter.role == "front" and page.chapter.kind in BEFORE_CONTENTS
        ):
            position = index + 1
        else:
            break
    return position


def _toc_items(pages: list[Page], depth: int) -> list[tuple[str, str, list[tuple[str, str, int]]]]:
    """(href, title, [(href, title, level) of its sections]) for each chapter page."""
    items = []
    for page in pages:
        if page.chapter is None or not page.chapter.title:
            continue  # untitled front matter, as pandoc has it: in the spine, not the contents
        items.append((page.href, page.title, sections(page.chapter, depth, page.href)))
    return items


def _toc_html(pages: list[Page], depth: int) -> str:
    """The contents as nested lists: each chapter, then its sections down to `depth`."""
    toc = [
        f'<li><a href="{href}">{x(title)}</a>{nested_list(subs)}</li>'
        for href, title, subs in _toc_items(pages, depth)
    ]
    return "<ol>" + "\n".join(toc) + "</ol>"


def _list_navs(book: Book, starts: tuple[PageStart, ...]) -> list[str]:
    """The lists of figures and tables that `lof: true` and `lot: true` ask for (epub:type lof, lot),
    each after the markers of the printed pages it fills."""
    navs = []
    for kind, epub_type, wanted in (
        ("list-of-figures", "lof", book.config.lof),
        ("list-of-tables", "lot", book.config.lot),
    ):
        entries = list_entries(book.chapters, kind) if wanted else []
        if entries:
            items = "".join(
                f'<li><a href="text/{e.chapter.file_name}#{x(e.id)}">{x(e.text)}</a></li>'
                for e in entries
            )
            navs += [marker_html(label) for label in _front_labels(starts, kind)]
            navs.append(
                # Each <nav> is a landmark: its own name keeps the landmarks unique (Ace).
                f'<nav epub:type="{epub_type}" id="{kind}" aria-label="{x(LIST_TITLES[kind])}">'
                f"<h2>{x(LIST_TITLES[kind])}</h2>"
                f"<ol>{items}</ol></nav>"
            )
    return navs


def _landmarks_html(pages: list[Page]) -> str:
    """Landmarks: cover, title page, contents, start of the body, back matter."""
    marks = [
        ("cover", "text/cover.xhtml", "Cover"),
        ("titlepage", "text/title.xhtml", "Title Page"),
        ("toc", "nav.xhtml#toc", "Contents"),
    ]
    body = next((p for p in pages if p.chapter and p.chapter.role == "body"), None)
    if body:
        marks.append(("bodymatter", body.href, "Start of Content"))
    back = next((p for p in pages if p.chapter and p.chapter.role == "back"), None)
    if back:
        marks.append(("backmatter", back.href, "Back Matter"))
    return "".join(f'<li><a epub:type="{t}" href="{h}">{x(n)}</a></li>' for t, h, n in marks)


def page_targets(pages: list[Page]) -> list[tuple[str, str]]:
    """(label, href) of every printed page with a marker, in reading order."""
    return [(label, f"{p.href}#page-{label}") for p in pages for label in p.page_labels]


def _front_labels(starts: tuple[PageStart, ...], element_id: str) -> list[str]:
    """The labels of the printed pages that open in one front-matter element (a blank page
    counts with the element after it)."""
    return [s.label for s in starts if s.element_id == element_id and not s.chars]


def nav_page(book: Book, pages: list[Page], starts: tuple[PageStart, ...]) -> Page:
    """The EPUB 3 navigation document: contents, landmarks and the print edition's page list."""
    labels = tuple(
        s.label for s in starts if PRINT_FRONT.get(s.element_id) == "contents" and not s.chars
    )
    contents_labels = _front_labels(starts, "contents")
    # The nav is not in `pages` yet; its markers go first, as in print (after the title pages).
    nav = Page("nav.xhtml", "Contents", "", "nav", page_labels=labels)
    position = _contents_position(pages)
    targets = page_targets([*pages[:position], nav, *pages[position:]])
    parts = [
        '<body epub:type="frontmatter">',
        *(marker_html(label) for label in contents_labels),
        f'<nav epub:type="toc" id="toc" role="doc-toc"><h1>{x(book.config.toc_title or "Contents")}</h1>',
        _toc_html(pages, book.config.toc_depth or NAV_DEPTH) + "</nav>",
        *_list_navs(book, starts),
        '<nav epub:type="landmarks" id="landmarks" aria-label="Landmarks" hidden="">'
        f"<h2>Landmarks</h2><ol>{_landmarks_html(pages)}</ol></nav>",
    ]
    if targets:
        entries = "".join(f'<li><a href="{h}">{x(label)}</a></li>' for label, h in targets)
        parts.append(
            '<nav epub:type="page-list" id="page-list" role="doc-pagelist" aria-label="Pages"'
            f' hidden=""><h2>Pages</h2><ol>{entries}</ol></nav>'
        )
    parts.append("</body>")
    xhtml = xhtml_page(book, "Contents", "\n".join(parts), css="styles/epub.css")
    return Page("nav.xhtml", "Contents", xhtml, "nav", page_labels=labels)


def _nav_points(pages: list[Page], depth: int) -> list[str]:
    """The NCX navMap's points: chapters with their sections (one level under), in play order."""
    points, order = [], 0
    for href, title, subs in _toc_items(pages, depth):
        order += 1
        own = order
        inner = []
        for sub_href, sub_title, _level in subs:
            order += 1
            inner.append(
                f'<navPoint id="np-{order}" playOrder="{order}"><navLabel><text>{x(sub_title)}'
                f'</text></navLabel><content src="{sub_href}"/></navPoint>'
            )
        points.append(
            f'<navPoint id="np-{own}" playOrder="{own}"><navLabel><text>{x(title)}'
            f'</text></navLabel><content src="{href}"/>{"".join(inner)}</navPoint>'
        )
    return points


def _page_value(label: str) -> int:
    """The number a page label stands for: 7 for "7", 4 for "iv"."""
    if label.isdigit():
        return int(label)
    return next((n for n in range(1, 400) if roman(n) == label), 0)


def _page_list_ncx(targets: list[tuple[str, str]], first_order: int) -> str:
    """The NCX pageList: one pageTarget per printed page, front matter typed as such."""
    items = []
    for n, (label, href) in enumerate(targets):
        kind = "normal" if label.isdigit() else "front"
        items.append(
            f'<pageTarget id="pt-{n + 1}" type="{kind}" value="{_page_value(label)}"'
            f' playOrder="{first_order + n}"><navLabel><text>{x(label)}</text></navLabel>'
            f'<content src="{href}"/></pageTarget>'
        )
    return "<pageList><navLabel><text>Pages</text></navLabel>" + "".join(items) + "</pageList>\n"


def ncx_document(book: Book, pages: list[Page]) -> str:
    """The EPUB 2 NCX, for older reading systems: contents and, with a print edition, its pages."""
    depth = book.config.toc_depth or NAV_DEPTH
    points = _nav_points(pages, depth)
    order = sum(1 + len(subs) for _h, _t, subs in _toc_items(pages, depth))
    targets = page_targets(pages)
    numbers = [int(label) for label, _ in targets if label.isdigit()]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">\n'
        f'<head><meta name="dtb:uid" content={quoteattr(book.config.identifier or "")}/>'
        '<meta name="dtb:depth" content="2"/>'
        f'<meta name="dtb:totalPageCount" content="{len(targets)}"/>'
        f'<meta name="dtb:maxPageNumber" content="{max(numbers, default=0)}"/></head>\n'
        f"<docTitle><text>{x(book.config.title)}</text></docTitle>\n"
        "<navMap>\n"
        + "\n".join(points)
        + "\n</navMap>\n"
        + (_page_list_ncx(targets, order + 1) if targets else "")
        + "</ncx>\n"
    )


def _features(book: Book, pages: list[Page], page_list: bool) -> list[str]:
    """The schema.org accessibilityFeature values that are true of this book."""
    features = [
        "structuralNavigation",
        "tableOfContents",
        "readingOrder",
        "displayTransformability",
    ]
    if _described_images(book):
        features.append("alternativeText")
    if _has_mathml(pages):
        features.append("MathML")
    if page_list:
        features += ["pageBreakMarkers", "pageNavigation"]
    return features


def _has_mathml(pages: list[Page]) -> bool:
    """True if some page of the package carries MathML."""
    return any("mathml" in p.properties.split() for p in pages)


def _described_images(book: Book) -> bool:
    """True if some image in the text carries information (has alt text, so is not decorative)."""
    return any(image.get("alt", "").strip() for c in book.chapters for image in c.body.iter("img"))


def accessibility_summary(book: Book, pages: list[Page], page_list: bool) -> str:
    """A plain-language summary of what the book offers readers who use assistive technology."""
    parts = [
        "a table of contents with its sections",
        "headings in order",
        "a logical reading order",
    ]
    if _described_images(book):
        parts.append("a text alternative for every image that carries information")
    if _has_mathml(pages):
        parts.append("formulas in MathML")
    if any(c.note_count for c in book.chapters):
        parts.append("notes at the end of each chapter, linked to and from the text")
    if page_list:
        parts.append("the page numbers of the print edition, with a page list")
    listed = ", ".join(parts[:-1]) + ", and " + parts[-1]
    return (
        f"This publication meets WCAG 2.2 Level AA. It has {listed}. Readers can change the type,"
        " size and colours. It contains no flashing, motion or sound hazards."
    )


def accessibility_metadata(book: Book, pages: list[Page], page_list: bool) -> list[str]:
    """schema.org accessibility metadata (EPUB Accessibility 1.1) that is true of this book."""
    visual = _described_images(book)
    lines = ['<meta property="schema:accessMode">textual</meta>']
    if visual:
        lines.append('<meta property="schema:accessMode">visual</meta>')
    lines.append('<meta property="schema:accessModeSufficient">textual</meta>')
    if visual:
        lines.append('<meta property="schema:accessModeSufficient">textual,visual</meta>')
    lines += [
        f'<meta property="schema:accessibilityFeature">{f}</meta>'
        for f in _features(book, pages, page_list)
    ]
    lines.append('<meta property="schema:accessibilityHazard">none</meta>')
    summary = accessibility_summary(book, pages, page_list)
    lines.append(f'<meta property="schema:accessibilitySummary">{x(summary)}</meta>')
    lines.append(
        '<meta property="dcterms:conformsTo">EPUB Accessibility 1.1 - WCAG 2.2 Level AA</meta>'
    )
    lines.append(f'<meta property="a11y:certifiedBy">{x(book.config.publisher or "Quire")}</meta>')
    if page_list:
        lines.append(f'<meta property="pageBreakSource">{x(print_source(book))}</meta>')
    return lines


def print_source(book: Book) -> str:
    """What the page-list's pages are: this book's print edition, named well enough to find it."""
    config = book.config
    by = f" by {', '.join(config.authors)}" if config.authors else ""
    size = f"{config.trim.width:g} × {config.trim.height:g} in"
    return (
        f"{config.title}{by}, print edition (PDF, {size}) built by Quire from the same sources,"
        f" {config.identifier}"
    )


def package_document(
    book: Book,
    pages: list[Page],
    cover: CoverImage,
    page_list: bool,
    fonts: tuple[EmbeddedFont, ...] = (),
) -> str:
    """The OPF package document: metadata, manifest and spine."""
    config = book.config
    meta = [
        f'<dc:identifier id="pub-id">{x(config.identifier)}</dc:identifier>',
        f'<dc:title id="title">{x(config.title)}</dc:title>',
        '<meta refines="#title" property="title-type">main</meta>',
        f"<dc:language>{x(config.lang)}</dc:language>",
    ]
    meta += [
        f'<dc:creator id="creator-{i}">{x(a)}</dc:creator>' for i, a in enumerate(config.authors, 1)
    ]
    for tag, value in (
        ("date", config.date),
        ("publisher", config.publisher),
        ("rights", config.rights),
        ("description", config.description),
    ):
        if value:
            meta.append(f"<dc:{tag}>{x(value)}</dc:{tag}>")
    meta += [f"<dc:subject>{x(s)}</dc:subject>" for s in config.subjects]
    meta += pandoc_metadata(config)
    if config.subtitle:
        meta.append(f'<dc:title id="subtitle">{x(config.subtitle)}</dc:title>')
        meta.append('<meta refines="#subtitle" property="title-type">subtitle</meta>')
    meta.append(f'<meta property="dcterms:modified">{book.modified}</meta>')
    meta.append('<meta name="cover" content="cover-image"/>')
    meta += accessibility_metadata(book, pages, page_list)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="pub-id"'
        f" xml:lang={quoteattr(config.lang or 'und')}>\n"
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        + "\n".join(meta)
        + "\n</metadata>\n<manifest>\n"
        + "\n".join(_manifest(book, pages, cover, fonts))
        + "\n</manifest>\n"
        f'<spine toc="ncx"{_progression(config)}>\n'
        + "\n".join(f'<itemref idref="p{n}"/>' for n in range(1, len(pages) + 1))
        + "\n</spine>\n</package>\n"
    )


def _progression(config: BookConfig) -> str:
    """The spine's page-progression-direction, for a book set right to left (`dir: rtl`)."""
    return ' page-progression-direction="rtl"' if config.dir == "rtl" else ""


def pandoc_metadata(config: BookConfig) -> list[str]:
    """Contributors with their roles, other identifiers and the series, as pandoc writes them."""
    meta = []
    for i, (name, role) in enumerate(config.contributors, 1):
        meta.append(f'<dc:contributor id="contributor-{i}">{x(name)}</dc:contributor>')
        if role:
            meta.append(
                f'<meta refines="#contributor-{i}" property="role" scheme="marc:relators">'
                f"{x(role)}</meta>"
            )
    meta += [
        f'<dc:identifier id="identifier-{i}">{x(value)}</dc:identifier>'
        for i, (_scheme, value) in enumerate(config.identifiers[1:], 2)
    ]
    if config.collection:
        meta.append(
            f'<meta property="belongs-to-collection" id="collection">{x(config.collection)}</meta>'
        )
        meta.append('<meta refines="#collection" property="collection-type">series</meta>')
        if config.group_position:
            meta.append(
                f'<meta refines="#collection" property="group-position">{config.group_position}</meta>'
            )
    return meta


def _manifest(
    book: Book, pages: list[Page], cover: CoverImage, fonts: tuple[EmbeddedFont, ...]
) -> list[str]:
    """The manifest items: NCX, style sheets, pages in spine order, cover, images and fonts."""
    items = [
        '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>',
        '<item id="css" href="styles/epub.css" media-type="text/css"/>',
    ]
    if book.config.embed_fonts:
        items.append('<item id="css-fonts" href="styles/fonts.css" media-type="text/css"/>')
    items += [
        f'<item id="css-book-{n}" href="styles/{name}" media-type="text/css"/>'
        for n, name in enumerate(author_sheets(book), 1)
    ]
    for n, page in enumerate(pages, 1):
        props = f' properties="{page.properties}"' if page.properties else ""
        items.append(
            f'<item id="p{n}" href="{page.href}" media-type="application/xhtml+xml"{props}/>'
        )
    items.append(
        f'<item id="cover-image" href="{cover.href}" media-type="{cover.media_type}"'
        ' properties="cover-image"/>'
    )
    items += [
        f'<item id="img{n}" href="{a.href}" media-type="{a.media_type}"/>'
        for n, a in enumerate(book.assets, 1)
    ]
    items += [
        f'<item id="font{n}" href="{f.href}" media-type="{f.media_type}"/>'
        for n, f in enumerate(fonts, 1)
    ]
    return items


def page_text(pages: list[Page]) -> tuple[str, str]:
    """The distinct characters of the pages' text: (set in the text family, set in monospace)."""
    prose: dict[str, None] = {}
    mono: dict[str, None] = {}
    code = " or ".join(f"ancestor::h:{tag}" for tag in MONO_TAGS)
    for page in pages:
        root = etree.fromstring(page.xhtml.encode("utf-8"))
        for text in root.xpath(f"//h:body//text()[not({code})]", namespaces={"h": XHTML_NS}):
            prose.update(dict.fromkeys(text))
        for text in root.xpath(f"//h:body//text()[{code}]", namespaces={"h": XHTML_NS}):
            mono.update(dict.fromkeys(text))
    return "".join(prose), "".join(mono)


def font_roles(fonts: FontSet) -> dict[str, FontSet]:
    """The families the style sheet names, by role: "text", "mono" and "cjk" (when shipped)."""
    roles: dict[str, FontSet] = {}
    for name in fonts.families():
        family = fonts.family(name)
        role = "cjk" if family.is_cjk else "mono" if family.monospaced else "text"
        roles.setdefault(role, family)
    return roles


def family_text(fonts: FontSet, pages: list[Page]) -> list[tuple[FontSet, str]]:
    """Each embedded family with the characters it must draw.

    The text family gets all the text outside code (and list numbers and the hyphen); the
    monospaced family the text in code, pre, kbd and samp; the CJK family what some face of
    the text family lacks, which is what a reading system falls back to it for.
    """
    prose, mono = page_text(pages)
    roles = font_roles(fonts)
    result = []
    text = roles.get("text")
    if text is not None:
        body = "".join(dict.fromkeys(prose + GENERATED_TEXT))
        result.append((text, body))
        faces = [FontSet((f,)) for f in text.files]
        prose = "".join(c for c in prose if not all(face.maps(c) for face in faces))
    if "mono" in roles:
        result.append((roles["mono"], mono))
    if "cjk" in roles:
        result.append((roles["cjk"], prose))
    return result


def embedded_fonts(book: Book, pages: list[Page]) -> tuple[tuple[EmbeddedFont, ...], str]:
    """Subsets of the shipped fonts for the characters the pages use, and their @font-face CSS.

    A file none of whose characters the book uses is left out (the monospaced family of a
    book without code, the CJK family of a book without Chinese).
    """
    fonts = load_fonts(book.styles / "fonts")
    embedded: list[EmbeddedFont] = []
    used: list[FontFile] = []
    for family, text in family_text(fonts, pages):
        for file in family.files:
            face = FontSet((file,))
            if not any(face.maps(c) for c in text if not c.isspace()):
                continue
            data = face.subset(text)[file.path.name]
            media_type = FONT_MEDIA_TYPES[file.path.suffix.lower()]
            embedded.append(EmbeddedFont("fonts/" + file.path.name, media_type, data))
            used.append(file)
    css = FontSet(tuple(used)).font_face_css(lambda f: "../fonts/" + f.path.name)
    header = (
        "/* The book's fonts, subset to the characters it uses. Each file keeps its copyright"
        " and licence in its name table. */\n"
    )
    return tuple(embedded), header + css


OBFUSCATION_ALGORITHM = "http://www.idpf.org/2008/embedding"


def obfuscation_key(identifier: str) -> bytes:
    """The OCF font obfuscation key: SHA-1 of the unique identifier without white space."""
    return hashlib.sha1(re.sub("[ \t\r\n]", "", identifier).encode("utf-8")).digest()


def obfuscate(data: bytes, key: bytes) -> bytes:
    """IDPF font obfuscation (OCF 3.3): XOR the first 1040 bytes with the key.

    It marks the fonts as part of this book and discourages lifting them out of it, which is what
    the OFL FAQ (1.11, 1.12) expects of fonts embedded in a document. It is its own inverse.
    """
    head = bytes(byte ^ key[i % len(key)] for i, byte in enumerate(data[:1040]))
    return head + data[1040:]


def encryption_document(fonts: tuple[EmbeddedFont, ...]) -> str:
    """META-INF/encryption.xml, listing each obfuscated font."""
    entries = "".join(
        f'<enc:EncryptedData><enc:EncryptionMethod Algorithm="{OBFUSCATION_ALGORITHM}"/>'
        f'<enc:CipherData><enc:CipherReference URI="EPUB/{f.href}"/></enc:CipherData>'
        "</enc:EncryptedData>\n"
        for f in fonts
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#">\n' + entries + "</encryption>\n"
    )


def zip_package(files: dict[str, bytes], modified: str) -> bytes:
    """Zip the package reproducibly: mimetype first and stored, fixed times, fixed order."""
    stamp = (int(modified[:4]), int(modified[5:7]), int(modified[8:10]), 0, 0, 0)
    stamp = max(stamp, (1980, 1, 1, 0, 0, 0))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entries = [
            ("mimetype", b"application/epub+zip"),
            ("META-INF/container.xml", CONTAINER.encode()),
        ]
        entries += sorted(files.items())
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, data, compresslevel=9 if name != "mimetype" else None)
    return buffer.getvalue()

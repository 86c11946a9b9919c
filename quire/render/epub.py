"""EPUB renderer: one XHTML file per chapter, package document, nav, NCX, in a reproducible zip."""

from __future__ import annotations

import copy
import io
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import lxml.html
from lxml import etree

from quire.render import Output, PageStart
from quire.transform import Book, Chapter

XHTML_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" \
lang={lang} xml:lang={lang}>
<head>
<meta charset="utf-8"/>
<title>{title}</title>
<link rel="stylesheet" type="text/css" href="{css}"/>
</head>
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


@dataclass(frozen=True)
class Page:
    """One XHTML file of the package and its place in the spine and the contents."""

    href: str  # inside EPUB/, e.g. text/01-preface.xhtml
    title: str
    xhtml: str
    properties: str = ""
    chapter: Chapter | None = None


def x(text: str | None) -> str:
    """Text escaped for XML content."""
    return escape(text or "")


def xhtml_page(book: Book, title: str, body: str, css: str = "../styles/epub.css") -> str:
    """A complete XHTML document in the book's language with the EPUB style sheet."""
    lang = quoteattr(book.config.lang or "und")
    return XHTML_HEAD.format(lang=lang, title=x(title), css=css) + body + "\n</html>\n"


class EpubRenderer:
    """Builds an EPUB 3 package (with an EPUB 2 NCX) from a Book."""

    format = "epub"

    def render(self, book: Book, earlier: dict[str, Output]) -> Output:
        """Render the whole package as zip bytes."""
        pdf = earlier.get("pdf")
        page_starts = pdf.page_starts if pdf else ()
        pages = self._pages(book, page_starts)
        nav = Page("nav.xhtml", "Contents", nav_document(book, pages, page_starts), "nav")
        pages.insert(_contents_position(pages), nav)
        files = {"EPUB/" + p.href: p.xhtml.encode("utf-8") for p in pages}
        files["EPUB/toc.ncx"] = ncx_document(book, pages).encode("utf-8")
        files["EPUB/styles/epub.css"] = (book.styles / "epub.css").read_bytes()
        for asset in (*book.assets, *([book.cover] if book.cover else [])):
            files["EPUB/" + asset.href] = asset.path.read_bytes()
        files["EPUB/package.opf"] = package_document(book, pages, bool(page_starts)).encode("utf-8")
        notes = (
            () if page_starts else ("no page-list: the print layout was not made in this build",)
        )
        return Output("epub", zip_package(files, book.modified), notes=notes)

    def _pages(self, book: Book, page_starts: tuple[PageStart, ...]) -> list[Page]:
        pages: list[Page] = []
        if book.cover:
            pages.append(cover_page(book))
        pages.append(title_page(book))
        by_id = {c.id: c for c in book.chapters}
        starts_in = _starts_by_chapter(book, page_starts)
        for chapter in book.chapters:
            pages.append(chapter_page(book, chapter, by_id, starts_in.get(chapter.id, [])))
        return pages


def _starts_by_chapter(book: Book, starts: tuple[PageStart, ...]) -> dict[str, list[PageStart]]:
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


def cover_page(book: Book) -> Page:
    """The cover as its own page, for reading systems that show it in the spine."""
    alt = f"Cover: {book.config.title}" + (
        f", by {', '.join(book.config.authors)}" if book.config.authors else ""
    )
    body = (
        '<body class="cover" epub:type="cover">\n<section epub:type="cover" class="cover">\n'
        f'<img src="../{book.cover.href}" alt={quoteattr(alt)}/>\n</section>\n</body>'
    )
    return Page("text/cover.xhtml", "Cover", xhtml_page(book, book.config.title or "", body))


def title_page(book: Book) -> Page:
    """The title page: title, subtitle, authors and publisher."""
    config = book.config
    lines = [f'<h1 class="title">{x(config.title)}</h1>']
    if config.subtitle:
        lines.append(f'<p class="subtitle">{x(config.subtitle)}</p>')
    lines.extend(f'<p class="author">{x(a)}</p>' for a in config.authors)
    if config.publisher:
        lines.append(f'<p class="publisher">{x(config.publisher)}</p>')
    body = (
        '<body class="titlepage" epub:type="frontmatter">\n'
        '<section epub:type="titlepage" class="titlepage">\n'
        + "\n".join(lines)
        + "\n</section>\n</body>"
    )
    return Page("text/title.xhtml", "Title Page", xhtml_page(book, config.title or "", body))


def chapter_page(
    book: Book, chapter: Chapter, by_id: dict[str, Chapter], starts: list[PageStart]
) -> Page:
    """One chapter as XHTML: notes as EPUB 3 footnotes, links and images pointed into the package."""
    body = copy.deepcopy(chapter.body)
    epub_type = chapter.kind
    body.set("epub:type", epub_type)
    from quire.transform import SECTION_TYPES

    if SECTION_TYPES.get(epub_type):
        body.set("role", SECTION_TYPES[epub_type])
    _rewrite_links(book, chapter, body)
    for image in body.iter("img"):
        image.set("src", "../" + image.get("src"))
    _epub_notes(body)
    for start in starts:
        _insert_page_break(body, start)
    markup = etree.tostring(body, method="xml", encoding="unicode", with_tail=False)
    page_body = f'<body epub:type="{MATTER[chapter.role]}">\n{markup}\n</body>'
    href = "text/" + chapter.file_name
    return Page(
        href, chapter.title, xhtml_page(book, chapter.title, page_body), _properties(body), chapter
    )


def _rewrite_links(book: Book, chapter: Chapter, body: etree._Element) -> None:
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


def _insert_page_break(body: etree._Element, start: PageStart) -> None:
    """Put a page-break marker where the printed page `start.label` begins."""
    found = body.xpath(".//*[@id=$i]", i=start.element_id)
    if not found and body.get("id") == start.element_id:
        found = [body]
    if not found:
        return
    element = found[0]
    marker = lxml.html.Element("span")
    marker.set("epub:type", "pagebreak")
    marker.set("role", "doc-pagebreak")
    marker.set("id", f"page-{start.label}")
    marker.set("aria-label", start.label)
    if start.word and _insert_at_word(element, start.word, marker):
        return
    if element.tag in (
        "section",
        "div",
        "table",
        "ol",
        "ul",
        "dl",
        "figure",
        "aside",
        "blockquote",
    ):
        first = next((c for c in element if isinstance(c.tag, str)), None)
        if first is not None and first.tag in ("h1", "h2", "h3", "h4", "h5", "h6", "p"):
            element = first
        else:
            element.addprevious(marker) if element.getparent() is not None else element.insert(
                0, marker
            )
            return
    marker.tail = element.text
    element.text = None
    element.insert(0, marker)


def _insert_at_word(element: etree._Element, word: int, marker: etree._Element) -> bool:
    """Insert the marker before the word-th word of the element's text; False if it has fewer."""
    seen = 0
    for node in element.iter():
        for attr in ("text", "tail"):
            if attr == "tail" and node is element:
                continue
            text = getattr(node, attr)
            if not text:
                continue
            tokens = text.split()
            if seen + len(tokens) <= word:
                seen += len(tokens)
                continue
            cut = _word_offset(text, word - seen)
            setattr(node, attr, text[:cut])
            marker.tail = text[cut:]
            if attr == "text":
                node.insert(0, marker)
            else:
                node.addnext(marker)
            return True
    return False


def _word_offset(text: str, index: int) -> int:
    """The character offset where the index-th whitespace-separated word of text starts."""
    count, in_word = -1, False
    for offset, char in enumerate(text):
        if not char.isspace() and not in_word:
            count += 1
            if count == index:
                return offset
        in_word = not char.isspace()
    return len(text)


def _properties(body: etree._Element) -> str:
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


def _toc_items(pages: list[Page]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(href, title, [(href, title) of its sections]) for each chapter page."""
    items = []
    for page in pages:
        if page.chapter is None:
            continue
        subs = [(f"{page.href}#{h.id}", h.title) for h in page.chapter.headings if h.level == 2]
        items.append((page.href, page.title, subs))
    return items


def nav_document(book: Book, pages: list[Page], starts: tuple[PageStart, ...]) -> str:
    """The EPUB 3 navigation document: contents, landmarks and the print page list."""
    toc = []
    for href, title, subs in _toc_items(pages):
        inner = "".join(f'<li><a href="{h}">{x(t)}</a></li>' for h, t in subs)
        toc.append(
            f'<li><a href="{href}">{x(title)}</a>'
            + (f"<ol>{inner}</ol>" if inner else "")
            + "</li>"
        )
    marks = []
    if book.cover:
        marks.append(("cover", "text/cover.xhtml", "Cover"))
    marks.append(("titlepage", "text/title.xhtml", "Title Page"))
    marks.append(("toc", "nav.xhtml#toc", "Contents"))
    body = next((p for p in pages if p.chapter and p.chapter.role == "body"), None)
    if body:
        marks.append(("bodymatter", body.href, "Start of Content"))
    back = next((p for p in pages if p.chapter and p.chapter.role == "back"), None)
    if back:
        marks.append(("backmatter", back.href, "Back Matter"))
    landmarks = "".join(f'<li><a epub:type="{t}" href="{h}">{x(n)}</a></li>' for t, h, n in marks)
    parts = [
        '<body epub:type="frontmatter">',
        '<nav epub:type="toc" id="toc" role="doc-toc"><h1>Contents</h1>',
        "<ol>" + "\n".join(toc) + "</ol></nav>",
        f'<nav epub:type="landmarks" id="landmarks" hidden=""><h2>Landmarks</h2><ol>{landmarks}</ol></nav>',
    ]
    if starts:
        owner = {
            e.get("id"): p.href
            for p in pages
            if p.chapter
            for e in p.chapter.body.iter()
            if isinstance(e.tag, str) and e.get("id")
        }
        entries = "".join(
            f'<li><a href="{owner[s.element_id]}#page-{s.label}">{x(s.label)}</a></li>'
            for s in starts
            if s.element_id in owner
        )
        parts.append(
            f'<nav epub:type="page-list" id="page-list" hidden=""><h2>Pages</h2><ol>{entries}</ol></nav>'
        )
    parts.append("</body>")
    return xhtml_page(book, "Contents", "\n".join(parts), css="styles/epub.css")


def ncx_document(book: Book, pages: list[Page]) -> str:
    """The EPUB 2 NCX, for older reading systems."""
    points, order = [], 0
    for href, title, subs in _toc_items(pages):
        order += 1
        inner = []
        for sub_href, sub_title in subs:
            order += 1
            inner.append(
                f'<navPoint id="np-{order}" playOrder="{order}"><navLabel><text>{x(sub_title)}</text>'
                f'</navLabel><content src="{sub_href}"/></navPoint>'
            )
        points.append(
            f'<navPoint id="np-{order - len(subs)}" playOrder="{order - len(subs)}"><navLabel><text>{x(title)}'
            f'</text></navLabel><content src="{href}"/>{"".join(inner)}</navPoint>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">\n'
        f'<head><meta name="dtb:uid" content={quoteattr(book.config.identifier or "")}/>'
        '<meta name="dtb:depth" content="2"/><meta name="dtb:totalPageCount" content="0"/>'
        '<meta name="dtb:maxPageNumber" content="0"/></head>\n'
        f"<docTitle><text>{x(book.config.title)}</text></docTitle>\n"
        "<navMap>\n" + "\n".join(points) + "\n</navMap>\n</ncx>\n"
    )


def accessibility_metadata(book: Book, pages: list[Page], page_list: bool) -> list[str]:
    """schema.org accessibility metadata (EPUB Accessibility 1.1) that is true of this book."""
    visual = bool(book.assets)
    maths = any("mathml" in p.properties for p in pages)
    features = [
        "structuralNavigation",
        "tableOfContents",
        "readingOrder",
        "displayTransformability",
    ]
    if visual:
        features.append("alternativeText")
    if maths:
        features.append("MathML")
    if page_list:
        features += ["printPageNumbers", "pageBreakMarkers"]
    if any(c.note_count for c in book.chapters):
        features.append("annotations")
    summary = (
        "This publication meets WCAG 2.2 Level AA. It has a structured table of contents, "
        "headings in order, and a logical reading order"
        + (", text alternatives for every image" if visual else "")
        + (", and the print edition's page numbers" if page_list else "")
        + ". It contains no hazards."
    )
    lines = ['<meta property="schema:accessMode">textual</meta>']
    if visual:
        lines.append('<meta property="schema:accessMode">visual</meta>')
    lines.append('<meta property="schema:accessModeSufficient">textual</meta>')
    lines += [f'<meta property="schema:accessibilityFeature">{f}</meta>' for f in features]
    lines.append('<meta property="schema:accessibilityHazard">none</meta>')
    lines.append(f'<meta property="schema:accessibilitySummary">{x(summary)}</meta>')
    lines.append(
        '<meta property="dcterms:conformsTo">EPUB Accessibility 1.1 - WCAG 2.2 Level AA</meta>'
    )
    lines.append(f'<meta property="a11y:certifiedBy">{x(book.config.publisher or "Quire")}</meta>')
    if page_list:
        lines.append(f'<meta property="pageBreakSource">{x(_print_source(book))}</meta>')
    return lines


def _print_source(book: Book) -> str:
    return f"{book.config.identifier} (print edition built by Quire from the same sources)"


def package_document(book: Book, pages: list[Page], page_list: bool) -> str:
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
    if config.subtitle:
        meta.append(f'<dc:title id="subtitle">{x(config.subtitle)}</dc:title>')
        meta.append('<meta refines="#subtitle" property="title-type">subtitle</meta>')
    meta.append(f'<meta property="dcterms:modified">{book.modified}</meta>')
    if book.cover:
        meta.append('<meta name="cover" content="cover-image"/>')
    meta += accessibility_metadata(book, pages, page_list)
    manifest = [
        '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>',
        '<item id="css" href="styles/epub.css" media-type="text/css"/>',
    ]
    for n, page in enumerate(pages, 1):
        props = f' properties="{page.properties}"' if page.properties else ""
        manifest.append(
            f'<item id="p{n}" href="{page.href}" media-type="application/xhtml+xml"{props}/>'
        )
    if book.cover:
        manifest.append(
            f'<item id="cover-image" href="{book.cover.href}" media-type="{book.cover.media_type}" properties="cover-image"/>'
        )
    manifest += [
        f'<item id="img{n}" href="{a.href}" media-type="{a.media_type}"/>'
        for n, a in enumerate(book.assets, 1)
    ]
    spine = [f'<itemref idref="p{n}"/>' for n in range(1, len(pages) + 1)]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="pub-id" xml:lang={quoteattr(config.lang or "und")}>\n'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        + "\n".join(meta)
        + "\n</metadata>\n"
        "<manifest>\n" + "\n".join(manifest) + "\n</manifest>\n"
        '<spine toc="ncx">\n' + "\n".join(spine) + "\n</spine>\n</package>\n"
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

"""The print HTML: the book (or one unit of it) as HTML for WeasyPrint to lay out with print.css."""

from __future__ import annotations

import copy
import html
import re
import unicodedata
from typing import Protocol

import lxml.html
from lxml import etree

from quire.errors import BuildError
from quire.images import Asset, svg_size
from quire.language.scripts import dir_attribute, isolate_directions
from quire.language.words import book_words, print_words_css
from quire.render.contents import (
    book_lists,
    chapter_of_ids,
    contents_title,
    contents_tree,
    tree_html,
)
from quire.render.front_matter import copyright_page
from quire.render.index_page import write_locators
from quire.render.print_checks import fit_tables, separators_as_breaks
from quire.transform import Book, Chapter, locate

BEFORE_CONTENTS = {"copyright-page", "dedication", "epigraph"}
# Blocks of lines Quire numbers (data-line-block) so that a layout pass can name them.
LINE_BLOCKS = ("p", "li", "dd", "dt", "figcaption")
CJK_PHRASE = 12  # characters: a CJK phrase up to this long is not broken across lines
MAX_IMAGE_HEIGHT_VH = 90  # % of the text block's height an image may take (print.css: img)


def book_html(book: Book, fixes: dict[str, str] | None = None) -> str:
    """The whole book as one HTML document: title pages, contents, then every chapter."""
    fixes = fixes or {}
    parts = [_half_title(book), _title_page(book), copyright_page(book)]
    front = [c for c in book.chapters if c.role == "front"]
    parts += [_chapter_html(book, c, fixes) for c in front if c.kind in BEFORE_CONTENTS]
    parts += contents_sections(book)
    parts += [
        _chapter_html(book, c, fixes)
        for c in book.chapters
        if c not in front or c.kind not in BEFORE_CONTENTS
    ]
    return html_document(book, parts)


def html_document(book: Book, parts: list[str], body_style: str = "") -> str:
    """An HTML document with the book's metadata in its head and these sections in its body."""
    config = book.config
    e = html.escape
    head = [f'<meta charset="utf-8"/><title>{e(config.title or "")}</title>']
    head += [f'<meta name="author" content="{e(a)}"/>' for a in config.authors]
    if config.description:
        head.append(f'<meta name="description" content="{e(config.description)}"/>')
    if config.subjects:
        head.append(f'<meta name="keywords" content="{e(", ".join(config.subjects))}"/>')
    head.append('<meta name="generator" content="Quire"/>')
    head.append(f'<meta name="dcterms.created" content="{book.modified}"/>')
    head.append(f'<meta name="dcterms.modified" content="{book.modified}"/>')
    # "Chapter 3" and "(page 7)" in the book's language: print.css reads these words with var().
    head.append(f"<style>{print_words_css(book_words(config))}</style>")
    lang = e(config.lang or "und")
    style = f' style="{e(body_style)}"' if body_style else ""
    # The body, not the root, carries `dir`: the root's direction would make WeasyPrint's
    # first page a left one, and the units and folios take "right" for the recto.
    style += dir_attribute(config)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head>{"".join(head)}</head>\n<body{style}>\n'
        + "\n".join(parts)
        + "\n</body></html>\n"
    )


def _half_title(book: Book) -> str:
    return f'<section class="half-title front" id="half-title"><p class="half-title-text">{html.escape(book.config.title or "")}</p></section>'


def _title_page(book: Book) -> str:
    e, config = html.escape, book.config
    lines = [f'<h1 class="book-title">{e(config.title or "")}</h1>']
    if config.subtitle:
        lines.append(f'<p class="subtitle">{e(config.subtitle)}</p>')
    lines += [f'<p class="author">{e(a)}</p>' for a in config.authors]
    if config.publisher and config.publisher not in config.authors:
        lines.append(f'<p class="publisher">{e(config.publisher)}</p>')
    return '<section class="title-page front" id="title-page">' + "".join(lines) + "</section>"


def contents_sections(book: Book) -> list[str]:
    """What stands between the title pages and the chapters: the contents and the lists."""
    return [part for part in (_contents(book), *_front_lists(book)) if part]


def _front_lists(book: Book) -> list[str]:
    """The lists of figures and tables that `lof: true` and `lot: true` ask for."""
    parts = []
    for kind, title, entries in book_lists(book):
        items = "".join(
            f'<li class="toc-{e.chapter.role}"><a href="#{html.escape(e.id)}">'
            f"{html.escape(e.text)}</a></li>"
            for e in entries
        )
        title = html.escape(title)
        parts.append(
            f'<nav class="contents front {kind}" id="{kind}" aria-label="{title}">'
            f"<h1>{title}</h1><ol>{items}</ol></nav>"
        )
    return parts


def _contents(book: Book) -> str:
    """The contents page (none with `toc: false`); print.css adds dot leaders and page numbers."""
    if not book.config.toc:
        return ""
    return contents_nav(book, "contents")


def contents_nav(book: Book, ident: str) -> str:
    """The contents: chapters, with their sections down to `toc-depth` as nested lists."""
    depth = book.config.toc_depth or 1
    chapters = [(c, f"#{c.id}", "") for c in book.chapters if c.kind not in BEFORE_CONTENTS]
    items = tree_html(contents_tree(chapters, depth), classes=True) or "<ol></ol>"
    return (
        f'<nav class="contents front" id="{ident}" role="doc-toc">'
        f"<h1>{html.escape(contents_title(book))}</h1>\n{items}</nav>"
    )


def _chapter_html(book: Book, chapter: Chapter, fixes: dict[str, str]) -> str:
    """One chapter for print: notes floated to the page foot, images from their files."""
    body = copy.deepcopy(chapter.body)
    classes = [*body.get("class", "").split(), chapter.role, chapter.kind]
    if chapter.role == "body" and chapter is next(c for c in book.chapters if c.role == "body"):
        classes.append("body-start")
    if chapter.role != "body" or chapter.kind != "chapter":
        classes.append("front" if chapter.role == "front" else "unnumbered")
    body.set("class", " ".join(dict.fromkeys(c for c in classes if c)))
    assets = {a.href: a for a in book.assets}
    for image in list(body.iter("img")):
        asset = assets[image.get("src")]
        image.set("src", asset.path.as_uri())
        if image.get("alt") == "":
            _decorative(image, asset)
    _place_contents(book, chapter, body)
    label_bookmarks(chapter, body)
    _inline_notes(body)
    _mark_front_references(book, body)
    _typeset_math(chapter, body)
    fit_tables(chapter, body, fixes)
    separators_as_breaks(body)  # else WeasyPrint prints a box for U+2028 and U+2029
    _mark_short_tables(body)
    _mark_cjk_phrases(body)
    _number_line_blocks(chapter, body, fixes)
    _code_lines(body)
    _unindent_image_lines(body)
    isolate_directions(body)  # a run with its own `dir` (code in Arabic text) kept apart
    return etree.tostring(body, method="html", encoding="unicode", with_tail=False)


def label_bookmarks(chapter: Chapter, body: etree._Element) -> None:
    """The PDF's bookmarks read as the contents do: a chapter or a listed section is named
    by its project file's title (SUMMARY.md's link text), and a listed section without a
    heading still has a bookmark."""
    first = next(body.iter("h1"), None)
    if first is not None and chapter.title and first.text_content().strip() != chapter.title:
        _add_style(first, f"bookmark-label: {_css_string(chapter.title)}")
    for element in body.xpath(".//*[@data-toc-title]"):
        title = element.get("data-toc-title")
        if element.tag != "div":
            if title != element.text_content().strip():
                _add_style(element, f"bookmark-label: {_css_string(title)}")
            level = element.get("data-toc-level")
            if level and level != element.tag[1]:
                _add_style(element, f"bookmark-level: {level}")
        elif not element.xpath(".//h2|.//h3|.//h4|.//h5|.//h6"):
            level = element.get("data-level", "2")
            _add_style(element, f"bookmark-level: {level}; bookmark-label: {_css_string(title)}")


def _add_style(element: etree._Element, style: str) -> None:
    element.set("style", "; ".join(s for s in (element.get("style"), style) if s))


def _css_string(text: str) -> str:
    """Text as a CSS string: quotes and backslashes escaped, line breaks as spaces."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + " ".join(quoted.split()) + '"'


def _place_contents(book: Book, chapter: Chapter, body: etree._Element) -> None:
    """The contents where `\\tableofcontents` stood in the chapter."""
    spots = body.xpath(".//div[contains(concat(' ', @class, ' '), ' table-of-contents ')]")
    for n, spot in enumerate(spots, 1):
        nav = lxml.html.fragment_fromstring(contents_nav(book, f"contents-{chapter.index}-{n}"))
        nav.set("class", "contents in-text")
        nav.tail = spot.tail
        spot.getparent().replace(spot, nav)


def _inline_notes(body: etree._Element) -> None:
    """Replace each note reference by the note itself, floated to the foot of the page."""
    notes = {div.get("id"): div for div in body.xpath(".//div[@class='footnotes']/div")}
    for ref in body.xpath(".//a[contains(concat(' ', @class, ' '), ' noteref ')]"):
        note = notes.get(ref.get("href", "")[1:])
        span = lxml.html.Element("span")
        span.set("class", "footnote")
        span.set("id", ref.get("href", "")[1:])
        blocks = list(note) if note is not None else []
        for n, block in enumerate(blocks):
            if n:
                lxml.html.etree.SubElement(span, "br")
            if block.text:
                if len(span):
                    span[-1].tail = (span[-1].tail or "") + block.text
                else:
                    span.text = (span.text or "") + block.text
            for child in list(block):
                span.append(child)
        span.tail = ref.tail
        ref.getparent().replace(ref, span)
    for block in body.xpath(".//div[@class='footnotes']"):
        block.getparent().remove(block)


def _mark_front_references(book: Book, body: etree._Element) -> None:
    """Cross-references into the front matter show roman page numbers."""
    front_ids = {
        e.get("id")
        for c in book.chapters
        if c.role == "front"
        for e in c.body.iter()
        if isinstance(e.tag, str) and e.get("id")
    }
    for link in body.xpath(".//a[contains(concat(' ', @class, ' '), ' xref ')]"):
        if link.get("href", "")[1:] in front_ids:
            link.set("class", link.get("class") + " xref-front")


def _number_line_blocks(chapter: Chapter, body: etree._Element, fixes: dict[str, str]) -> None:
    """Name each block of lines, and mark those that ended a page badly last time."""
    for n, block in enumerate(body.iter(*LINE_BLOCKS)):
        name = f"{chapter.index}.{n}"
        block.set("data-line-block", name)
        if name in fixes:
            block.set("class", (block.get("class", "") + " " + fixes[name]).strip())


def _mark_cjk_phrases(body: etree._Element) -> None:
    """Short Chinese or Japanese phrases in other text are kept on one line, like a word."""
    for span in body.xpath(".//span[starts-with(@lang, 'zh') or starts-with(@lang, 'ja')]"):
        text = span.text_content()
        if len(text) <= CJK_PHRASE and any(unicodedata.east_asian_width(c) == "W" for c in text):
            span.set("class", (span.get("class", "") + " cjk-phrase").strip())


def _mark_short_tables(body: etree._Element) -> None:
    """Tables of up to 12 rows are kept whole with their captions (print.css: div.short-table).

    WeasyPrint lays a caption out apart from its table's grid, so `break-inside: avoid` on the
    table alone can leave the caption at the foot of one page and the table on the next.
    """
    for table in list(body.iter("table")):
        if len(table.findall(".//tr")) <= 12:
            table.set("class", (table.get("class", "") + " short").strip())
            keep = lxml.html.Element("div")
            keep.set("class", "short-table")
            table.addprevious(keep)
            keep.append(table)  # moves the table, and its tail, into the wrapper


def _typeset_math(chapter: Chapter, body: etree._Element) -> None:
    """WeasyPrint cannot lay out MathML, so each formula becomes an SVG drawn by ziamath."""
    formulas = list(body.iter("math"))
    if not formulas:
        return  # ziamath takes a fifth of a second to import: only for a book with formulas
    import base64

    import ziamath

    for math in formulas:
        tex = "".join(math.xpath(".//annotation[@encoding='application/x-tex']/text()")).strip()
        for annotation in math.xpath(".//annotation | .//annotation-xml"):
            annotation.getparent().remove(annotation)  # ziamath draws the MathML, not the TeX
        for semantics in math.findall("semantics"):
            semantics.drop_tag()  # ziamath does not know <semantics>; keep what it wraps
        markup = etree.tostring(math, method="xml", encoding="unicode", with_tail=False)
        display = math.get("display") == "block"
        try:
            svg = ziamath.Math(markup, size=15 if display else 14).svg()
        except Exception as exc:  # noqa: BLE001 - ziamath raises many kinds on MathML it lacks
            raise BuildError(
                f"cannot typeset the formula `{tex}` for print: {exc}",
                file=chapter.source.name,
                line=locate(chapter.source, tex) if tex else None,
            ) from None
        root = etree.fromstring(svg.encode())
        min_y, height = float(root.get("viewBox").split()[1]), float(root.get("height"))
        image = lxml.html.Element("img")
        image.set("src", "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode())
        image.set("alt", tex or math.text_content())
        image.set("class", "math display" if display else "math")
        image.set("style", f"vertical-align: {-(min_y + height):.2f}px" if not display else "")
        image.set("role", "math")
        image.tail = math.tail
        math.getparent().replace(math, image)


def _decorative(image: etree._Element, asset: Asset) -> None:
    """A decorative image (alt="") is drawn as a background, which tagged PDF leaves untagged.

    Three boxes scale it as print.css scales an <img>: the outer one is the image's width (or
    the width the author gave) but no wider than the text block, the middle one no wider than
    the width at which it would be 90% of the page's text height, and the inner one is as tall
    as the image is for that width (a padding in % is a share of the width)."""
    width, height = asset.width, asset.height
    if width is None:
        width, height = svg_size(asset.path)
    given = re.search(r"(?:^|;)\s*width\s*:\s*([^;]+)", image.get("style", ""))
    box = lxml.html.Element("span")
    box.set("class", "decorative")
    box.set("aria-hidden", "true")
    box.set("style", f"width: {given[1].strip() if given else f'{width}px'}")
    cap = etree.SubElement(box, "span")
    cap.set("style", f"display: block; max-width: {MAX_IMAGE_HEIGHT_VH * width / height:.3f}vh")
    fill = etree.SubElement(cap, "span")
    fill.set(
        "style",
        f"display: block; padding-top: {100 * height / width:.4f}%;"
        f" background: url('{asset.path.as_uri()}') no-repeat 0 0 / 100% 100%",
    )
    box.tail = image.tail
    image.getparent().replace(image, box)


def _unindent_image_lines(body: etree._Element) -> None:
    """A paragraph that opens with an image is not indented: an image as wide as the text
    block would run into the margin by the indent (print.css: p.opens-with-image)."""
    for p in body.iter("p"):
        first = p[0] if len(p) else None
        if first is None or (p.text or "").strip():
            continue
        if first.tag == "img" or "decorative" in first.get("class", "").split():
            p.set("class", " ".join([*p.get("class", "").split(), "opens-with-image"]))


def _code_lines(body: etree._Element) -> None:
    """Each line of a code block as a block of its own (print.css: `pre .line`), so a line too
    long for the text block wraps under itself, after a continuation mark.

    Pandoc writes a highlighted block's lines as spans already; a plain block is one text.
    A block of raw HTML with markup inside is left as it is (it still wraps, without marks).
    """
    for code in body.xpath(".//pre/code"):
        lines = list(code)
        if not lines and code.text:
            code.text, texts = None, code.text.split("\n")
            for text in texts:
                line = etree.SubElement(code, "span")
                line.text = text
            lines = list(code)
        if (
            not lines
            or code.text
            or any(e.tag != "span" or (e.tail or "\n") != "\n" for e in lines)
        ):
            continue
        for line in lines:
            line.set("class", " ".join([*line.get("class", "").split(), "line"]))
            line.tail = None  # the blocks break the lines; a newline would add an empty one


# ---------- one unit of the book, laid out on its own ----------

LAST_MARK = "data-quire-last"  # the unit's last block of text, looked for after layout
ANCHOR_SCHEME = "quire-anchor:"  # a link to another unit, made a GoTo when the units are joined


def unit_sections(
    book: Book, chapters: tuple[int, ...], opening: bool, contents: bool
) -> list[str]:
    """The sections of one unit: the title pages and what precedes the contents, the contents,
    or a chapter."""
    parts = [_half_title(book), _title_page(book), copyright_page(book)] if opening else []
    if contents:
        parts += contents_sections(book)
    parts += [_chapter_html(book, book.chapters[i], {}) for i in chapters]
    return parts


class PageNumbers(Protocol):
    """Where a unit learns the page number to print for an id (a dict will do)."""

    def get(self, target: str, default: str, /) -> str | None: ...


def xref_target(link: etree._Element) -> str | None:
    """The id a "(page N)" reference points to (a link the transform marked `xref`), if the
    link is one: print.css prints the page number after it."""
    href = link.get("href", "")
    if href.startswith("#") and "xref" in link.get("class", "").split():
        return href[1:]
    return None


def unit_html(
    book: Book, sections: list[str], chapters_before: int, number_of: PageNumbers
) -> tuple[str, dict[str, str], str]:
    """One unit as a document: (HTML, the page number printed for each target, opening id).

    A unit does not see the others, so what crosses units is written in: the chapter counter
    it starts from, the book's title for the running heads, the printed page number of every
    reference and contents entry (as data-page, which print.css's target-counter() rules are
    overridden to show), and links to other units as quire-anchor: URIs.
    """
    title = (book.config.title or "").replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    style = f'counter-reset: chapter {chapters_before}; string-set: book-title "{title}"'
    root = lxml.html.document_fromstring(html_document(book, sections, style))
    body = root.find("body")
    own = {e.get("id") for e in body.iter() if isinstance(e.tag, str) and e.get("id")}
    # The index's locators: the page each mark is on, one per page, runs as ranges.
    printed: dict[str, str] = write_locators(body, lambda target: number_of.get(target, "1"))
    for link in body.iter("a"):
        href = link.get("href", "")
        if not href.startswith("#"):
            continue
        target = href[1:]
        if xref_target(link) or link.xpath(
            "ancestor::nav[contains(concat(' ', @class, ' '), ' contents ')]"
        ):
            printed[target] = number_of.get(target, "1")
            link.set("data-page", printed[target])
        if target not in own:
            link.set("href", ANCHOR_SCHEME + target)
    last = _last_with_text(body)
    if last is not None:
        last.set(LAST_MARK, "")
    opening = next(e.get("id") for e in body.iter() if isinstance(e.tag, str) and e.get("id"))
    markup = lxml.html.tostring(root, doctype="<!DOCTYPE html>", encoding="unicode", method="html")
    return markup, printed, opening


def _last_with_text(body: etree._Element) -> etree._Element | None:
    """The element that holds the unit's last text. A child's tail is its parent's text: in
    `<h1><span class="header-section-number">1</span> Title</h1>` it is the h1 (print.css
    hides that span, and a mark on it was never found in the layout)."""
    last = None
    for element in body.iter():
        if not isinstance(element.tag, str):
            continue
        if (element.text or "").strip():
            last = element
        if (element.tail or "").strip() and element.getparent() is not None:
            last = element.getparent()
    return last


def element_ids(book: Book) -> dict[str, int]:
    """Each element id of the book's chapters, with the index of the chapter it is in."""
    return {name: chapter.index for name, chapter in chapter_of_ids(book).items()}

"""PDF renderer: the whole book as one HTML document, laid out by WeasyPrint with print.css."""

from __future__ import annotations

import copy
import hashlib
import html
import logging
import unicodedata
from pathlib import Path

import lxml.html
import pydyf
from lxml import etree

from quire.config import BookConfig
from quire.confine import Confinement
from quire.errors import BuildError, warn
from quire.fonts import FontSet, check_svg_files, load_fonts
from quire.images import Asset, svg_size
from quire.render import Output
from quire.render.front_matter import copyright_page
from quire.render.pages import HYPHENATION_MARK, page_starts
from quire.render.print_checks import (
    check_metadata_coverage,
    check_no_loss,
    check_tables_fit,
    fit_tables,
    wide_table_faults,
)
from quire.transform import Book, Chapter, locate

# Print-on-demand gutter tables: (up to this many pages, gutter in inches).
# The inside margin is the base margin plus the gutter, the part the binding takes.
INSIDE_MARGIN = 0.5
DEFAULT_BLEED = 0.125  # inches, when crop marks are asked for without a bleed
GUTTER_TABLE = ((150, 0.375), (300, 0.5), (500, 0.625), (700, 0.75))
GUTTER_BEYOND = 0.875
BEFORE_CONTENTS = {"copyright-page", "dedication", "epigraph"}
MAX_LAYOUTS = 4  # layout passes: the gutter, then paragraphs that must not strand a note
# Blocks of lines Quire numbers (data-line-block) so that a layout pass can name them.
LINE_BLOCKS = ("p", "li", "dd", "dt", "figcaption")
CJK_PHRASE = 12  # characters: a CJK phrase up to this long is not broken across lines


def gutter_for(pages: int) -> float:
    """The inside margin a printer asks for at this page count."""
    return next((gutter for limit, gutter in GUTTER_TABLE if pages <= limit), GUTTER_BEYOND)


class PdfRenderer:
    """Lays the book out as a print PDF with WeasyPrint."""

    format = "pdf"

    def render(self, book: Book, earlier: dict[str, Output]) -> Output:
        """Lay the book out until the gutter fits the page count and every note sits with its call."""
        fonts = load_fonts(book.styles / "fonts")
        check_coverage(book, fonts)
        check_metadata_coverage(book, fonts)
        check_svg_files([asset.path for asset in book.assets], fonts)
        gutter = book.config.gutter if book.config.gutter is not None else gutter_for(0)
        fixes: dict[str, str] = {}
        for _ in range(MAX_LAYOUTS):
            document = self._layout(book, fonts, gutter, fixes)
            fitted = (
                book.config.gutter
                if book.config.gutter is not None
                else gutter_for(len(document.pages))
            )
            faults = {k: v for k, v in layout_faults(document).items() if k not in fixes}
            faults.update(wide_table_faults(document, fixes))
            if fitted == gutter and not faults:
                break
            gutter, fixes = fitted, {**fixes, **faults}
        check_tables_fit(book, document)
        body_start = _body_start(book, document)
        with capture_weasyprint_log() as messages:
            data = document.write_pdf(
                pdf_variant=None if book.config.pdf_variant == "none" else book.config.pdf_variant,
                pdf_identifier=hashlib.sha256((book.config.identifier or "").encode())
                .hexdigest()[:32]
                .encode(),
                finisher=lambda _doc, pdf: add_page_labels(pdf, body_start),
            )
        report_layout_messages(book, messages)
        check_no_loss(book, data)
        return Output(
            "pdf", data, pages=len(document.pages), page_starts=page_starts(document, body_start)
        )

    def _layout(self, book: Book, fonts: FontSet, gutter: float, fixes: dict[str, str]):  # noqa: ANN202
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import FatalURLFetchingError

        variant = None if book.config.pdf_variant == "none" else book.config.pdf_variant
        fetcher = confined_fetcher(Confinement((book.root, book.styles, *book.generated)))
        # @font-face rules load only through a FontConfiguration, which must outlive write_pdf.
        font_config = self.font_config = FontConfiguration()
        stylesheets = [
            CSS(
                string=fonts.font_face_css(stand_ins=True),
                url_fetcher=fetcher,
                font_config=font_config,
            ),
            CSS(
                filename=str(book.styles / "print.css"),
                url_fetcher=fetcher,
                font_config=font_config,
            ),
            *(  # the book's own style sheets, after Quire's, each on its own
                CSS(filename=str(p), url_fetcher=fetcher, font_config=font_config)
                for p in book.print_css
            ),
            CSS(string=page_css(book, gutter), font_config=font_config),
        ]
        source = HTML(
            string=book_html(book, fixes), base_url=str(book.root) + "/", url_fetcher=fetcher
        )
        with capture_weasyprint_log() as messages:
            try:
                document = source.render(
                    stylesheets=stylesheets, pdf_variant=variant, font_config=font_config
                )
            except FatalURLFetchingError as exc:
                raise BuildError(
                    "the print layout refers to a file outside the book: "
                    + (str(exc.args[0]) if exc.args else "?"),
                    hint="keep fonts, images and CSS files inside the book's folder or styles/",
                ) from None
        report_layout_messages(book, messages)
        return document


def confined_fetcher(confinement: Confinement):  # noqa: ANN201 - a WeasyPrint URLFetcher
    """WeasyPrint's URL fetcher, limited to files inside the book and its styles."""
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    class ConfinedFetcher(URLFetcher):
        def fetch(self, url: str, headers: object = None) -> object:
            parts = urlsplit(url)
            inside = parts.scheme == "file" and confinement.may_read(Path(unquote(parts.path)))
            if parts.scheme != "data" and not inside:
                # Fatal, so that WeasyPrint stops instead of printing the book without it.
                raise FatalURLFetchingError(url)
            return super().fetch(url, headers)

    return ConfinedFetcher(allowed_protocols={"file", "data"}, fail_on_errors=True)


class capture_weasyprint_log:  # noqa: N801 - used as a context manager, like a function
    """Collect WeasyPrint's warnings during layout, so they become the build's own messages."""

    def __enter__(self) -> list[tuple[int, str]]:
        self.messages: list[tuple[int, str]] = []
        self.handler = logging.Handler(logging.WARNING)
        self.handler.emit = lambda record: self.messages.append(
            (record.levelno, record.getMessage())
        )
        self.logger = logging.getLogger("weasyprint")
        self.logger.addHandler(self.handler)
        self.propagate = self.logger.propagate
        self.logger.propagate = False
        return self.messages

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.propagate = self.propagate


def report_layout_messages(book: Book, messages: list[tuple[int, str]]) -> None:
    """WeasyPrint's errors stop the build; its warnings become the build's warnings."""
    for level, message in messages:
        if level >= logging.ERROR:
            raise BuildError(f"PDF layout: {message}", file=str(book.styles / "print.css"))
        warn(f"PDF layout: {message}", file=str(book.styles / "print.css"))


def _boxes(box):  # noqa: ANN001, ANN202 - WeasyPrint boxes
    """Every box under a box, depth first."""
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)


def layout_faults(document) -> dict[str, str]:  # noqa: ANN001 - WeasyPrint Document
    """Blocks that end a page badly, each with the class (print.css) that sets it better.

    `hold-lines`: the page prints a note's call but not the note, because WeasyPrint moved
    the note on to fit a line that widows and orphans require. `whole-words`: the page's last
    line ends in a hyphen, carrying half a word over the page turn.
    """
    faults = {}
    for page in document.pages:
        root, *areas = page._page_box.children  # the footnote area, when the page has notes
        blocks = [b for b in _boxes(root) if b.element is not None]
        named = [b.element.get("data-line-block") for b in blocks]
        named = [name for name in named if name]
        if not named:
            continue
        noted = {id(b.element) for area in areas for b in _boxes(area) if b.element is not None}
        calls = [b for b in blocks if getattr(b, "element_tag", "").endswith("::footnote-call")]
        texts = [b.text for b in _boxes(root) if getattr(b, "text", "").strip()]
        if any(id(call.element) not in noted for call in calls):
            faults[named[-1]] = "hold-lines"
        elif texts and texts[-1].endswith(HYPHENATION_MARK):
            faults[named[-1]] = "whole-words"
    return faults


def check_coverage(book: Book, fonts: FontSet) -> None:
    """Refuse to print a character no font has, naming it and where it first appears."""
    for chapter in book.chapters:
        # Formulas are drawn by ziamath with its own math font, so only the text is checked.
        text = "".join(chapter.body.xpath(".//text()[not(ancestor::math)]"))
        missing = fonts.uncovered(text)
        if missing:
            char = missing[0]
            raise BuildError(
                f"no font has the character {char!r} (U+{ord(char):04X})",
                file=chapter.source.name,
                line=locate(chapter.source, char),
                hint=f"add a font that covers it to {book.styles / 'fonts'} (.ttf or .otf)",
            )


def page_css(book: Book, gutter: float) -> str:
    """Page size, mirrored margins with the gutter, and bleed, from the book's settings."""
    config = book.config
    inside = INSIDE_MARGIN + gutter
    rules = [
        f"@page {{ size: {config.trim.css}; }}",
        f"@page :left {{ margin-right: {inside:g}in; }}",
        f"@page :right {{ margin-left: {inside:g}in; }}",
    ]
    bleed = effective_bleed(config)
    if bleed:
        rules.append(f"@page {{ bleed: {bleed:g}in; }}")
    if config.crop_marks:
        rules.append("@page { marks: crop; }")
    return "\n".join(rules)


def effective_bleed(config: BookConfig) -> float:
    """The bleed in inches: the setting, or room for the crop marks if only those are asked for."""
    return config.bleed or (DEFAULT_BLEED if config.crop_marks else 0.0)


def _body_start(book: Book, document) -> int:  # noqa: ANN001
    """The index of the page where the body (arabic page 1) begins."""
    first = next((c for c in book.chapters if c.role == "body"), None)
    if first is None:
        return 0
    for index, page in enumerate(document.pages):
        if first.id in page.anchors:
            return index
    return 0


def add_page_labels(pdf: pydyf.PDF, body_start: int) -> None:
    """PDF page labels that match the printed folios: i, ii, ... then 1, 2, ..."""
    nums = pydyf.Array([0, pydyf.Dictionary({"S": "/r"})])
    if body_start:
        nums.extend([body_start, pydyf.Dictionary({"S": "/D", "St": 1})])
    pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": nums})


def book_html(book: Book, fixes: dict[str, str] | None = None) -> str:
    """The whole book as one HTML document: title pages, contents, then every chapter."""
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
    parts = [
        _half_title(book),
        _title_page(book),
        copyright_page(book),
    ]
    front = [c for c in book.chapters if c.role == "front"]
    fixes = fixes or {}
    parts += [_chapter_html(book, c, fixes) for c in front if c.kind in BEFORE_CONTENTS]
    parts.append(_contents(book))
    parts += [
        _chapter_html(book, c, fixes)
        for c in book.chapters
        if c not in front or c.kind not in BEFORE_CONTENTS
    ]
    lang = e(config.lang or "und")
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head>{"".join(head)}</head>\n<body>\n'
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


def _contents(book: Book) -> str:
    """The contents page; print.css adds the dot leaders and page numbers."""
    items = []
    for chapter in book.chapters:
        if chapter.kind in BEFORE_CONTENTS or not chapter.title:
            continue
        items.append(
            f'<li class="toc-{chapter.role}"><a href="#{chapter.id}">{html.escape(chapter.title)}</a></li>'
        )
    return (
        '<nav class="contents front" id="contents" role="doc-toc">'
        f"<h1>{html.escape(book.config.toc_title or 'Contents')}</h1><ol>"
        + "".join(items)
        + "</ol></nav>"
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
    _inline_notes(body)
    _mark_front_references(book, body)
    _typeset_math(chapter, body)
    fit_tables(chapter, body, fixes)
    _mark_short_tables(body)
    _mark_cjk_phrases(body)
    _number_line_blocks(chapter, body, fixes)
    return etree.tostring(body, method="html", encoding="unicode", with_tail=False)


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
    import base64

    import ziamath

    for math in list(body.iter("math")):
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
    """A decorative image (alt="") is drawn as a background, which tagged PDF leaves untagged."""
    width, height = asset.width, asset.height
    if width is None:
        width, height = svg_size(asset.path)
    box = lxml.html.Element("span")
    box.set("class", "decorative")
    box.set("aria-hidden", "true")
    box.set(
        "style",
        f"background-image: url('{asset.path.as_uri()}'); width: {width}px; height: {height}px",
    )
    box.tail = image.tail
    image.getparent().replace(image, box)

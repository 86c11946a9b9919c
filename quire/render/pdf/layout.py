"""WeasyPrint's side: style sheets, the confined URL fetcher, and the layout of one unit.

`lay_out_unit` runs in a worker process, so what goes in (a UnitJob) and what comes out (a
UnitLayout) are plain, picklable data; WeasyPrint's messages travel back in the result and
become the build's warnings in the main process.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html

from quire.errors import BuildError, warn
from quire.fonts import FontSet, book_fonts, describe_characters
from quire.language.scripts import direction, mirrored_page_css
from quire.load.config import BookConfig
from quire.load.confine import Confinement
from quire.press.profiles import PROFILES
from quire.render import text_check
from quire.render.pages import HYPHENATION_MARK, page_firsts, roman
from quire.render.pdf.html import LAST_MARK
from quire.render.print_checks import (
    PRINTED_SETTINGS,
    SPLIT,
    TABLE_NAME,
    TOLERANCE_PX,
    _split_columns,
    _tables,
    pdf_text,
    wide_table_faults,
)
from quire.svg_fonts import SvgFonts, for_print
from quire.transform import Book, locate

# Print-on-demand gutter tables: (up to this many pages, gutter in inches).
# The inside margin is the base margin plus the gutter, the part the binding takes.
INSIDE_MARGIN = 0.5
DEFAULT_BLEED = 0.125  # inches, when crop marks are asked for without a bleed
GUTTER_TABLE = ((150, 0.375), (300, 0.5), (500, 0.625), (700, 0.75))
GUTTER_BEYOND = 0.875
# print.css's page margins (top, outside, bottom) and how far its running heads and folios reach
# into them from the text: a head's ink begins 0.18 in padding + a 9 pt line + the font's ascent
# above the text, a folio's ink ends 0.34 in gap + a 9 pt line + the descent below it. With a
# `printer:`, the margins grow until that ink keeps the printer's distance from the trim.
BASE_MARGINS = (0.75, 0.625, 0.8)
HEAD_REACH = 0.36  # inches (measured 0.345 in Charis SIL)
FOLIO_GAP = 0.3375  # inches from the text to the folio's line, as print.css centres it today
FOLIO_REACH = 0.52  # inches (measured 0.502 in Charis SIL)
MAX_LAYOUTS = 4  # layout passes: the gutter, then tables too wide for the page
MAX_PAGE_FIXES = 3  # a page made again with a fix, at most this many times
# A unit prints the page numbers Quire writes into it (data-page) instead of asking WeasyPrint
# for target-counter(), which cannot see pages in other units. Same look as print.css's rules.
UNIT_CSS = """
nav.contents li a[data-page]::after { content: leader(". ") attr(data-page) !important; }
a.xref[data-page]::after {
  content: " (" var(--quire-page-before, "page ") attr(data-page) var(--quire-page-after, "") ")"
    !important;
}
nav.contents a.xref::after { content: none !important; }
"""
MARGIN_BOXES = (
    "top-left-corner", "top-left", "top-center", "top-right", "top-right-corner",
    "right-top", "right-middle", "right-bottom", "bottom-right-corner", "bottom-right",
    "bottom-center", "bottom-left", "bottom-left-corner", "left-bottom", "left-middle", "left-top",
)  # fmt: skip


def gutter_for(pages: int) -> float:
    """The inside margin a printer asks for at this page count."""
    return next((gutter for limit, gutter in GUTTER_TABLE if pages <= limit), GUTTER_BEYOND)


def fitted_gutter(config: BookConfig, pages: int) -> float:
    """The gutter for this page count: the setting or the table, raised to the printer's
    minimum inside margin when the book names a printer."""
    gutter = config.gutter if config.gutter is not None else gutter_for(pages)
    if config.printer:
        gutter = max(gutter, PROFILES[config.printer].inside_margin(pages) - INSIDE_MARGIN)
    return gutter


def page_css(book: Book, gutter: float, marks: bool = True) -> str:
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
    if config.crop_marks and marks:
        rules.append("@page { marks: crop; }")
    if config.printer:
        rules += printer_margin_css(config, bleed)
    if direction(config) == "rtl":  # bound on the right
        return mirrored_page_css("\n".join(rules))
    return "\n".join(rules)


def printer_margins(config: BookConfig, bleed: float) -> tuple[float, float, float]:
    """Top, outside and bottom margins wide enough that the text, the running heads and the
    folios all keep the printer's minimum distance from the trim (profiles.py)."""
    profile = PROFILES[config.printer]
    least = profile.outside_margin_bleed if bleed else profile.outside_margin
    top, outside, bottom = BASE_MARGINS
    return max(top, least + HEAD_REACH), max(outside, least), max(bottom, least + FOLIO_REACH)


def printer_margin_css(config: BookConfig, bleed: float) -> list[str]:
    """The page rules that set the printer's margins; the folio keeps its distance from the
    text however deep the bottom margin grows."""
    top, outside, bottom = printer_margins(config, bleed)
    folio = f"vertical-align: top; padding-top: {FOLIO_GAP:g}in;"
    boxes = " ".join(
        f"@{box} {{ {folio} }}" for box in ("bottom-left", "bottom-center", "bottom-right")
    )
    return [
        f"@page {{ margin-top: {top:g}in; margin-bottom: {bottom:g}in; {boxes} }}",
        f"@page :left {{ margin-left: {outside:g}in; }}",
        f"@page :right {{ margin-right: {outside:g}in; }}",
    ]


def effective_bleed(config: BookConfig) -> float:
    """The bleed in inches: the setting, or room for the crop marks if only those are asked for."""
    return config.bleed or (DEFAULT_BLEED if config.crop_marks else 0.0)


def check_coverage(book: Book, fonts: FontSet) -> None:
    """Warn, once per chapter, about the characters no font has, naming where the first one
    is: they print as a box (the font's .notdef), and are an error under --strict."""
    seen: set[str] = set()
    for chapter in book.chapters:
        # Formulas are drawn by ziamath with its own math font, so only the text is checked.
        text = "".join(chapter.body.xpath(".//text()[not(ancestor::math)]"))
        missing = [c for c in fonts.uncovered(text) if c not in seen]
        if not missing:
            continue
        seen.update(missing)
        warn(
            f"no font has the {describe_characters(missing)}",
            file=chapter.source.name,
            line=locate(chapter.source, missing[0]),
            hint="it prints as a box in the PDF; add a .ttf or .otf font that has it to the "
            "book's fonts/ folder",
            group="characters no font has",
        )


def confined_fetcher(confinement: Confinement, svg_fonts: SvgFonts | None = None):  # noqa: ANN201 - a WeasyPrint URLFetcher
    """WeasyPrint's URL fetcher, limited to files inside the book and its styles; with
    svg_fonts, an SVG file is read with its text in the book's fonts (svg_fonts.for_print)."""
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class ConfinedFetcher(URLFetcher):
        def fetch(self, url: str, headers: object = None) -> object:
            parts = urlsplit(url)
            path = Path(unquote(parts.path))
            inside = parts.scheme == "file" and confinement.may_read(path)
            if parts.scheme != "data" and not inside:
                # Fatal, so that WeasyPrint stops instead of printing the book without it.
                raise FatalURLFetchingError(url)
            if inside and svg_fonts is not None and path.suffix.lower() == ".svg":
                data = for_print(path.read_bytes(), svg_fonts)
                return URLFetcherResponse(url, data, {"Content-Type": "image/svg+xml"})
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
    """WeasyPrint's errors stop the build; its warnings become the build's warnings (but for
    a box drawn for a character the glyph checks have already named, with its place)."""
    for level, message in messages:
        if level >= logging.ERROR:
            raise BuildError(f"PDF layout: {message}", file=str(book.styles / "print.css"))
        if not _named_by_glyph_checks(book, message):
            warn(f"PDF layout: {message}", file=str(book.styles / "print.css"))


def _named_by_glyph_checks(book: Book, message: str) -> bool:
    """True for WeasyPrint's `.notdef glyph rendered` about characters of the book's text or
    printed settings that no font has: check_coverage and check_metadata_coverage named them."""
    found = NOTDEF_MESSAGE.match(message)
    if not found:
        return False
    text = [chapter.body.xpath("string()") for chapter in book.chapters]
    for _key, name in PRINTED_SETTINGS:
        value = getattr(book.config, name)
        text.append(" ".join(value) if isinstance(value, tuple) else value or "")
    return set(found[1]) <= set(book_fonts(book).uncovered("".join(text)))


# WeasyPrint's warning for text no font has (weasyprint/draw/text.py).
NOTDEF_MESSAGE = re.compile(
    r'\.notdef glyph rendered for Unicode string unsupported by fonts: "(.*)"', re.S
)


def _boxes(box):  # noqa: ANN001, ANN202 - WeasyPrint boxes
    """Every box under a box, depth first."""
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)


def layout_faults(document) -> dict[str, str]:  # noqa: ANN001 - WeasyPrint Document
    """Blocks that end a page badly, each with the class (print.css) that sets it better."""
    faults = {}
    for page in document.pages:
        fault = page_fault(page._page_box)
        if fault:
            faults[fault[0]] = fault[1]
    return faults


def page_fault(page_box) -> tuple[str, str] | None:  # noqa: ANN001 - WeasyPrint PageBox
    """The last block of a page that ends it badly, with the fix it needs; None if none does.

    `hold-lines`: the page prints a note's call but not the note, because WeasyPrint moved
    the note on to fit a line that widows and orphans require. `whole-words`: the page's last
    line ends in a hyphen, carrying half a word over the page turn.
    """
    root, *areas = page_box.children  # the footnote area, when the page has notes
    blocks = [b for b in _boxes(root) if b.element is not None]
    named = [b.element.get("data-line-block") for b in blocks]
    named = [name for name in named if name]
    if not named:
        return None
    noted = {id(b.element) for area in areas for b in _boxes(area) if b.element is not None}
    calls = [b for b in blocks if getattr(b, "element_tag", "").endswith("::footnote-call")]
    if any(id(call.element) not in noted for call in calls):
        return named[-1], "hold-lines"
    texts = [b.text for b in _boxes(root) if getattr(b, "text", "").strip()]
    if texts and texts[-1].endswith(HYPHENATION_MARK):
        return named[-1], "whole-words"
    return None


# What each fix sets on a block and everything inside it, as print.css's classes of the same
# names would (.hold-lines, .whole-words); a note's text keeps its own hyphenation.
FIX_STYLES = {"hold-lines": {"orphans": 3, "widows": 3}, "whole-words": {"hyphens": "manual"}}


class fixing_pages:  # noqa: N801 - used as a context manager, like a function
    """While WeasyPrint paginates, a page that ends badly is made again at once, with the fix
    set on the block at fault, before the pages after it are made.

    Why: fixing after a whole layout costs a layout of the document for each round of faults
    (two or three). Here a fault costs one page. The fix is the style print.css's class would
    give (FIX_STYLES), set on the block's boxes, so the block's lines from this page on are set
    with it; WeasyPrint carries on from the page's start as it does when it re-makes a page
    whose counters changed. `fixes` collects the fixes (block name -> class), one per block:
    a block fixed once is not fixed again, which ends the loop.
    """

    def __init__(self, fixes: dict[str, str]) -> None:
        self.fixes = fixes

    def __enter__(self) -> dict[str, str]:
        from weasyprint.layout import page as paging

        self.paging, self.remake = paging, paging.remake_page
        blocks: dict[int, dict[str, list]] = {}  # id(root box) -> block name -> its boxes

        def remake_page(index, context, root_box, html):  # noqa: ANN001, ANN202
            saved = _page_state(context, index)
            page, resume_at = self.remake(index, context, root_box, html)
            for _ in range(MAX_PAGE_FIXES):
                fault = page_fault(page)
                if fault is None or fault[0] in self.fixes:
                    break
                self.fixes[fault[0]] = fault[1]
                if id(root_box) not in blocks:
                    blocks[id(root_box)] = _named_blocks(root_box)
                for box in blocks[id(root_box)].get(fault[0], ()):
                    for inner in _boxes(box):
                        inner.style.update(FIX_STYLES[fault[1]])
                _restore_page_state(context, index, saved)
                page, resume_at = self.remake(index, context, root_box, html)
            return page, resume_at

        paging.remake_page = remake_page
        return self.fixes

    def __exit__(self, *exc: object) -> None:
        self.paging.remake_page = self.remake


def _named_blocks(root_box) -> dict[str, list]:  # noqa: ANN001 - WeasyPrint box
    """The boxes of each block of lines Quire named (data-line-block), in the unlaid tree."""
    named: dict[str, list] = {}
    for box in _boxes(root_box):
        name = box.element.get("data-line-block") if box.element is not None else None
        if name and (not named.get(name) or named[name][-1].element is not box.element):
            named.setdefault(name, []).append(box)
    return named


def _page_state(context, index: int) -> tuple:  # noqa: ANN001 - WeasyPrint LayoutContext
    """What making a page changes in WeasyPrint's layout context, to make it again."""
    remake = context.page_maker[index][-1]
    targets = context.target_collector  # what target-counter() learnt on the page
    lookups = [
        (item, item.page_maker_index, item.pending, item.cached_page_counter_values)
        for item in targets.counter_lookup_items.values()
    ]
    anchors = [
        (item, item.page_maker_index, item.cached_page_counter_values)
        for item in targets.target_lookup_items.values()
    ]
    return (
        list(context.footnotes), list(context.reported_footnotes),
        dict(context.broken_out_of_flow), list(context.rendered_notes or []),
        {name: {n: list(b) for n, b in pages.items()} for name, pages in context.running_elements.items()},
        {key: list(value) if isinstance(value, list) else value for key, value in remake.items()},
        lookups, anchors,
    )  # fmt: skip


def _restore_page_state(context, index: int, saved: tuple) -> None:  # noqa: ANN001
    footnotes, reported, broken, rendered, running, remake, lookups, anchors = saved
    context.footnotes[:] = footnotes
    context.reported_footnotes = list(reported)
    context.broken_out_of_flow = dict(broken)
    if context.rendered_notes is not None:
        context.rendered_notes[:] = rendered
    for name, pages in running.items():
        context.running_elements[name].clear()
        context.running_elements[name].update(pages)
    for item, page, pending, values in lookups:
        item.page_maker_index, item.pending, item.cached_page_counter_values = page, pending, values
    for item, page, values in anchors:
        item.page_maker_index, item.cached_page_counter_values = page, values
    context.page_maker[index][-1].clear()
    context.page_maker[index][-1].update(
        {k: list(v) if isinstance(v, list) else v for k, v in remake.items()}
    )


PARSED_STYLE: dict = {}  # (process id, PrintStyle, extra CSS) -> (FontConfiguration, [CSS])


def _forget_parsed_styles() -> None:
    """Delete the kept styles' font files. WeasyPrint keeps a FontConfiguration's fonts in a
    temporary folder until its __del__, which a worker process, ending with os._exit, never
    runs: left there, each build would leave a copy of the book's fonts in /tmp.

    A forked worker inherits its parent's entries: their folders are the parent's, still in
    use there, so the worker lets go of them without deleting anything (not even by __del__).
    """
    for (pid, *_style), (fonts, _sheets) in PARSED_STYLE.items():
        if pid == os.getpid():
            fonts.__del__()
        fonts._folder = None  # noqa: SLF001 - so that no later __del__ deletes it again
    PARSED_STYLE.clear()


def _forget_at_exit() -> None:
    """Have _forget_parsed_styles run when this process ends: multiprocessing runs its
    finalizers where atexit does not (a worker), but a forked worker starts without its
    parent's, so each process registers its own."""
    if os.getpid() not in FORGETTING:
        FORGETTING.add(os.getpid())
        multiprocessing.util.Finalize(None, _forget_parsed_styles, exitpriority=10)


FORGETTING: set[int] = set()  # the processes that have registered _forget_parsed_styles


@dataclass(frozen=True)
class PrintStyle:
    """Everything but the HTML that a layout depends on, as plain data for a worker."""

    font_css: str
    print_css: str  # path of print.css (its url()s are relative to it)
    page_css: str
    roots: tuple[str, ...]  # the folders files may be read from
    base_url: str
    variant: str | None  # pdf/ua-1, pdf/a-3b or None
    book_css: tuple[str, ...] = ()  # the book's own print style sheets, after Quire's
    # A digest of the contents of the files above and the fonts (Composer.fixed): a worker
    # kept for the next build (parallel.py) must not take its parsed sheets for edited ones.
    inputs: str = ""
    svg_fonts: SvgFonts | None = None  # the book's families, for SVG text (svg_fonts.py)

    def render(self, markup: str, extra_css: str = "", fixes: dict[str, str] | None = None):  # noqa: ANN201
        """Lay an HTML document out with print.css; (document, WeasyPrint's messages).

        With `fixes`, a page that ends badly is made again with the fix (fixing_pages), and
        the fixes made are added to it."""
        from weasyprint import HTML

        fetcher = self.fetcher()
        fonts, sheets = self._sheets(extra_css)
        source = HTML(string=markup, base_url=self.base_url, url_fetcher=fetcher)
        fixing = fixing_pages(fixes) if fixes is not None else contextlib.nullcontext()
        with capture_weasyprint_log() as messages, fixing:
            document = source.render(
                stylesheets=sheets, pdf_variant=self.variant, font_config=fonts
            )
        document.quire_fonts = fonts  # keep the font configuration alive until write_pdf
        return document, messages

    def fetcher(self):  # noqa: ANN201 - a WeasyPrint URLFetcher
        """The confined fetcher for this style's folders, SVG text in the book's fonts."""
        return confined_fetcher(Confinement(tuple(Path(r) for r in self.roots)), self.svg_fonts)

    def _sheets(self, extra_css: str):  # noqa: ANN202 - (FontConfiguration, [CSS])
        """The parsed style sheets and the fonts they load, kept for the next layout in this
        process with the same style: parsing them and loading the fonts costs a fifth of a
        second, a chapter's layout a second or two, and a worker lays out many units."""
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        key = (os.getpid(), self, extra_css)
        if key not in PARSED_STYLE:
            fetcher = self.fetcher()
            # @font-face rules load only through a FontConfiguration, which must outlive
            # write_pdf.
            fonts = FontConfiguration()
            sheets = [
                CSS(string=self.font_css, url_fetcher=fetcher, font_config=fonts),
                CSS(filename=self.print_css, url_fetcher=fetcher, font_config=fonts),
                *(CSS(filename=p, url_fetcher=fetcher, font_config=fonts) for p in self.book_css),
                CSS(string=self.page_css + extra_css, font_config=fonts),
            ]
            _forget_parsed_styles()  # one style at a time; its documents are written by now
            _forget_at_exit()
            PARSED_STYLE[key] = fonts, sheets
        return PARSED_STYLE[key]


@dataclass(frozen=True)
class UnitJob:
    """One unit to lay out: its HTML and the style."""

    name: str
    html: str
    style: PrintStyle
    opening: str  # the id the unit opens with, looked for after layout


@dataclass
class PageFacts:
    """What assembly needs to know of one laid-out page."""

    side: str  # "left" or "right"
    blank: bool
    folio: tuple[str, str] | None  # (margin box, "arabic" or "roman") if a folio is printed
    first: tuple[str, int] | None  # where the page's text begins (PageStart's id and chars)


@dataclass
class UnitLayout:
    """One unit laid out: its PDF without folios, and facts about its pages."""

    name: str
    pdf: bytes
    pages: list[PageFacts]
    anchors: dict[str, int]  # element id -> index of the first page it is on
    fixes: dict[str, str]
    opening_found: bool
    last_found: bool
    messages: list[tuple[int, str]] = field(default_factory=list)
    fetch_error: str | None = None
    wide_tables: list[tuple[str, str]] = field(default_factory=list)  # (name, first cell's text)
    # The unit's text its PDF lacks (text_check.Loss), found in the worker (not cached: a unit
    # is stored only once nothing is missing from it, and its key holds its text).
    lost: list = field(default_factory=list)


def apply_fixes(markup: str, fixes: dict[str, str]) -> str:
    """The unit's HTML with the fix classes (print.css) on the blocks that ended a page badly."""
    if not fixes:
        return markup
    root = lxml.html.document_fromstring(markup)
    for table in root.xpath(f"//table[@{TABLE_NAME}]"):  # as print_checks.fit_tables sets them
        fix = fixes.get(table.get(TABLE_NAME), "")
        if fix:
            table.set("class", (table.get("class", "") + " table-small").strip())
        if fix.startswith(SPLIT):
            groups = [[int(c) for c in group.split(",")] for group in fix[len(SPLIT) :].split(";")]
            _split_columns(table, groups)
    for block in root.xpath("//*[@data-line-block]"):
        fix = fixes.get(block.get("data-line-block"))
        if fix:
            block.set("class", (block.get("class", "") + " " + fix).strip())
    return lxml.html.tostring(root, doctype="<!DOCTYPE html>", encoding="unicode", method="html")


def lay_out_unit(job: UnitJob) -> UnitLayout:
    """Lay one unit out, each page that ends badly made again with a fix as it is made, and
    again as a whole only when a table is too wide (worker process)."""
    from weasyprint.urls import FatalURLFetchingError

    fixes: dict[str, str] = {}  # tables set smaller or split (another layout each time)
    try:
        for _ in range(MAX_LAYOUTS):
            lines: dict[str, str] = {}  # blocks of lines fixed while the pages were made
            document, messages = job.style.render(apply_fixes(job.html, fixes), UNIT_CSS, lines)
            faults = wide_table_faults(document, fixes)
            if not faults:
                break
            fixes = {**fixes, **faults}
        fixes = {**fixes, **lines}
    except FatalURLFetchingError as exc:
        return UnitLayout(
            job.name, b"", [], {}, {}, True, True, [], str(exc.args[0] if exc.args else "?")
        )
    anchors: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)
    wide = [
        (name, next((t.strip() for t in box.element.itertext() if t.strip()), ""))
        for name, box, limit in _tables(document)
        if box.position_x + box.margin_width() > limit + TOLERANCE_PX
    ]
    firsts = page_firsts(document)
    pages = [
        PageFacts(p._page_box.page_type.side, p._page_box.page_type.blank, _take_folio(p, i), f)
        for i, (p, f) in enumerate(zip(document.pages, firsts, strict=True))
    ]
    with capture_weasyprint_log() as written:
        data = document.write_pdf(pdf_variant=job.style.variant)
    opening_found, last_found, lost = _nothing_lost(document, job, anchors, pdf_text(data))
    return UnitLayout(
        job.name, data, pages, anchors, fixes, opening_found, last_found,
        messages + written, None, wide, lost,
    )  # fmt: skip


def _nothing_lost(document, job: UnitJob, anchors: dict[str, int], printed: str):  # noqa: ANN001, ANN202
    """(opening laid out, last text laid out, text missing from the text layer) for a unit.
    A unit without text, or with no element to open it, has neither to lose."""
    laid = _as_laid_out(document)
    if laid is None:
        return True, True, []
    boxed, body, ordered, shown = laid
    parts = [(part.get("id"), part) for part in body if isinstance(part.tag, str)]
    lost = text_check.losses(text_check.stream(parts, shown), printed)
    mark = next((e for e in reversed(ordered) if e.get(LAST_MARK) is not None), None)
    opening = next((e for e in ordered if e.get("id") == job.opening), None)
    opening_found = job.opening in anchors or opening is None or not shown(opening)
    return opening_found, mark is None or id(mark) in boxed, lost


def printed_losses(document, printed: str) -> list[text_check.Loss]:  # noqa: ANN001
    """The text of a laid-out document that its PDF's text layer (`printed`) lacks."""
    laid = _as_laid_out(document)
    if laid is None:
        return []
    _boxed, body, _ordered, shown = laid
    parts = [(part.get("id"), part) for part in body if isinstance(part.tag, str)]
    return text_check.losses(text_check.stream(parts, shown), printed)


def _as_laid_out(document):  # noqa: ANN001, ANN202
    """(ids of the elements with a box, the body, its elements in order, `shown`) of the tree
    WeasyPrint laid out; None without a body.

    The text is read from that tree, so it is the text as printed: notes where their calls
    are, formulas as images, tables as split. An element WeasyPrint made no box for, with
    boxes after it, was hidden by the style sheets (`display: none`, as the chapter heading's
    number is), not lost (`shown` is False for it); a note floated to the page's foot counts.
    """
    boxed, stack = set(), [page._page_box for page in document.pages]
    while stack:  # every box of every page (not _boxes: a generator per level costs more)
        box = stack.pop()
        if box.element is not None:
            boxed.add(id(box.element))
        stack.extend(getattr(box, "children", ()))
    root = document.pages[0]._page_box.children[0].element if document.pages else None
    body = root.find("body") if root is not None else None
    if body is None:
        return None
    ordered = list(body.iter())
    last = next((n for n in range(len(ordered) - 1, -1, -1) if id(ordered[n]) in boxed), -1)
    beyond = {id(e) for e in ordered[last + 1 :]}  # past the last box: lost, or hidden

    def shown(element) -> bool:  # noqa: ANN001 - an ElementTree element
        if id(element) in boxed or id(element) in beyond:
            return True
        if "footnote" in (element.get("class") or "").split():
            return True
        return any(id(inner) in boxed for inner in element.iter())

    return boxed, body, ordered, shown


def _take_folio(page, index: int) -> tuple[str, str] | None:  # noqa: ANN001
    """Remove the page's folio (the margin box that prints its number in the unit) and say
    where and in what style it was; assembly prints the book's number there instead.

    Folios sit in margin boxes, which never move the text, so a unit's layout does not depend
    on the number its pages will have in the book.
    """
    box = page._page_box
    for child in list(box.children):
        keyword = getattr(child, "at_keyword", "")
        text = "".join(b.text for b in _boxes(child) if getattr(b, "text", None)).strip()
        style = (
            "arabic" if text == str(index + 1) else "roman" if text == roman(index + 1) else None
        )
        if keyword and style:
            box.children = [c for c in box.children if c is not child]
            return keyword.removeprefix("@"), style
    return None

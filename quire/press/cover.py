"""The full-wrap cover (back, spine, front) laid out with WeasyPrint from styles/cover.css.

The geometry comes from the printer's profile and the interior's real page count; the look comes
from cover.css, which a book may replace in its own styles/ folder.
"""

from __future__ import annotations

import base64
import html
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageStat

from quire import cover as generated_cover
from quire.errors import BuildError, warn
from quire.fonts import load_fonts
from quire.load.config import BookConfig, Trim
from quire.load.confine import Confinement
from quire.load.manuscript import REPO_STYLES
from quire.press.isbn import book_isbn, ean13_svg, isbn_label
from quire.press.pdfx import to_pdfx4
from quire.press.profiles import PROFILES, Profile
from quire.render import Output
from quire.transform import Book

MIN_DPI = 300  # the front image prints soft below this at its printed size
# The spine panel overlaps its neighbours by this much (inches), so that no hairline of paper
# shows between panels where rounding leaves a gap; the front is painted over it.
SEAM = 0.01
SPINE_GAP_EMS = 3  # at least this much space between the spine's title, author and publisher
BACK_COVER_FILE = "back-cover.md"


@dataclass(frozen=True)
class Wrap:
    """The cover's geometry in inches: bleed + back + spine + front + bleed."""

    trim: Trim
    spine: float
    bleed: float
    pages: int
    profile: Profile

    @property
    def width(self) -> float:
        """The whole sheet's width, bleed included."""
        return 2 * self.bleed + 2 * self.trim.width + self.spine

    @property
    def height(self) -> float:
        """The whole sheet's height, bleed included."""
        return self.trim.height + 2 * self.bleed

    @property
    def spine_text(self) -> bool:
        """Whether the printer allows text on a spine of this many pages."""
        return self.pages >= self.profile.spine_text_pages


def wrap_for(book: Book, pages: int) -> Wrap:
    """The cover's geometry for this book on its printer and paper at this page count."""
    profile = PROFILES[book.config.printer or "kdp"]
    spine = profile.spine_width(pages, book.config.paper)
    return Wrap(book.config.trim, spine, profile.bleed, pages, profile)


class CoverRenderer:
    """The full-wrap cover, sized from the interior's real page count."""

    format = "cover"

    def render(self, book: Book, earlier: dict[str, Output]) -> Output:
        """Lay the cover out for the page count of the PDF made earlier in this build."""
        pages = earlier["pdf"].pages or 0
        wrap = wrap_for(book, pages)
        data = to_pdfx4(cover_pdf(book, wrap), book.config.identifier or "")
        note = (
            f"cover {wrap.width:.4f} × {wrap.height:.4f} in: spine {wrap.spine:.4f} in for "
            f"{pages} pages of {book.config.paper} paper"
            + ("" if wrap.spine_text else f", no spine text under {wrap.profile.spine_text_pages}")
        )
        return Output("cover", data, pages=1, notes=(note,))


def cover_pdf(book: Book, wrap: Wrap) -> bytes:
    """The wrap laid out by WeasyPrint: the author's cover.css, then the geometry."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import FatalURLFetchingError

    from quire.render.pdf import capture_weasyprint_log, confined_fetcher

    isbn = book_isbn(book.config)
    fetcher = confined_fetcher(Confinement((book.root, book.styles, REPO_STYLES)))
    fonts = FontConfiguration()
    css_file = cover_css(book)
    stylesheets = [
        CSS(string=_font_css(book), font_config=fonts),
        CSS(string=colour_css(book), font_config=fonts),
        CSS(filename=str(css_file), url_fetcher=fetcher, font_config=fonts),
        CSS(string=geometry_css(book, wrap), font_config=fonts),
    ]
    source = HTML(
        string=cover_html(book, wrap, isbn), base_url=str(book.root) + "/", url_fetcher=fetcher
    )
    with capture_weasyprint_log() as messages:
        try:
            data = source.render(stylesheets=stylesheets, font_config=fonts).write_pdf()
        except FatalURLFetchingError as exc:
            raise BuildError(
                "the cover refers to a file outside the book: "
                + (str(exc.args[0]) if exc.args else "?"),
                file=str(css_file),
                hint="keep the cover image and cover.css's files inside the book's folder",
            ) from None
    for level, message in messages:  # WeasyPrint's word on the cover, naming cover.css
        if level >= logging.ERROR:
            raise BuildError(f"cover layout: {message}", file=str(css_file))
        warn(f"cover layout: {message}", file=str(css_file))
    return data


def _font_css(book: Book) -> str:
    """The shipped faces, with the stacks that set the book's language in its own CJK face
    (a Japanese title in the Japanese face, not the simplified Chinese one)."""
    faces = load_fonts(book.styles / "fonts")
    return faces.font_face_css() + faces.language_css(book.config.lang)


def cover_css(book: Book) -> Path:
    """The book's own cover.css (in its styles/ folder, which may hold only that), or Quire's."""
    for folder in (book.root / "styles", book.styles):
        if (folder / "cover.css").is_file():
            return folder / "cover.css"
    return REPO_STYLES / "cover.css"


def colour_css(book: Book) -> str:
    """The ground and ink colours, as custom properties cover.css may use or override."""
    ground = edge_colour(book.cover.path) if book.cover else generated_cover.BACKGROUND
    light = sum(c * w for c, w in zip(ground, (0.299, 0.587, 0.114), strict=True)) > 150
    ink = (17, 17, 17) if light else generated_cover.INK
    return (
        f":root {{ --ground: {_hex(ground)}; --ink: {_hex(ink)}; "
        f"--accent: {_hex(generated_cover.ACCENT)}; }}\n"
        f"@page {{ background: {_hex(ground)}; }}"  # the bleed, under the panels
    )


def edge_colour(path: Path) -> tuple[int, int, int]:
    """The mean colour of the cover image's left edge, which meets the spine."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        # The outermost sliver: art often has a frame a little further in.
        strip = rgb.crop((0, 0, max(1, rgb.width // 64), rgb.height))
        mean = ImageStat.Stat(strip).mean
    return tuple(round(c) for c in mean[:3])


def _hex(colour: tuple[int, ...]) -> str:
    return "#" + "".join(f"{c:02x}" for c in colour[:3])


def geometry_css(book: Book, wrap: Wrap) -> str:
    """Page size, bleed and where each panel, the spine text and the barcode box sit."""
    t, b, s, p = wrap.trim, wrap.bleed, wrap.spine, wrap.profile
    safe, gap = p.cover_safe, p.spine_clearance
    box_w, box_h = p.barcode_box
    long_side, short_side = t.height - 2 * safe, max(s - 2 * gap, 0.01)
    spine_font = min(14.0, short_side * 72 * 0.62, fitting_size(book, long_side))
    marks = "marks: crop;" if book.config.crop_marks else ""
    return f"""
@page {{ size: {2 * t.width + s:.4f}in {t.height:.4f}in; bleed: {b:g}in; margin: 0; {marks} }}
html, body {{ margin: 0; padding: 0; }}
.panel {{ position: absolute; top: -{b:g}in; height: {t.height + 2 * b:.4f}in; overflow: hidden; }}
.back {{ left: -{b:g}in; width: {t.width + b:.4f}in; }}
.spine {{ left: {t.width - SEAM:.4f}in; width: {s + 2 * SEAM:.4f}in; }}
.front {{ left: {t.width + s:.4f}in; width: {t.width + b:.4f}in; }}
.back .safe {{ position: absolute; left: {b + safe:.4f}in; top: {b + safe:.4f}in;
  width: {t.width - 2 * safe:.4f}in; height: {t.height - 2 * safe:.4f}in; }}
.front .safe {{ position: absolute; left: {safe:.4f}in; top: {b + safe:.4f}in;
  width: {t.width - 2 * safe:.4f}in; height: {t.height - 2 * safe:.4f}in; }}
.front img.art {{ position: absolute; left: 0; top: 0; width: 100%; height: 100%;
  object-fit: cover; }}
.spine-text {{ position: absolute; width: {long_side:.4f}in; height: {short_side:.4f}in;
  left: {SEAM + (s - long_side) / 2:.4f}in; top: {b + (t.height - short_side) / 2:.4f}in;
  transform: rotate(90deg); font-size: {spine_font:.2f}pt; line-height: {short_side:.4f}in; }}
.barcode {{ position: absolute; width: {box_w:g}in; height: {box_h:g}in;
  left: {b + t.width - p.barcode_offset - box_w:.4f}in;
  top: {b + t.height - p.barcode_offset - box_h:.4f}in; }}
"""


def fitting_size(book: Book, length: float) -> float:
    """The largest type size (points) at which the spine's title, author and publisher fit
    along `length` inches, measured in capitals (small capitals are no wider)."""
    from PIL import ImageFont

    parts = [p for p in spine_parts(book.config) if p]
    text = "".join(parts).upper()
    path = generated_cover.font_for(text, book.styles / "fonts", generated_cover.TEXT_FONTS)
    measured = ImageFont.truetype(str(path), 100).getlength(text) / 100  # ems
    gaps = SPINE_GAP_EMS * (len(parts) - 1)
    return length * 72 / (measured + gaps) if parts else 14.0


def spine_parts(config: BookConfig) -> list[str]:
    """What the spine carries: the title, the authors, and the publisher if it is not them."""
    parts = [config.title or "", ", ".join(config.authors)]
    if config.publisher and config.publisher not in config.authors:
        parts.append(config.publisher)
    return parts


def cover_html(book: Book, wrap: Wrap, isbn: str | None) -> str:
    """The three panels as HTML: the back's text and barcode, the spine, the front."""
    e, config = html.escape, book.config
    head = f'<meta charset="utf-8"/><title>{e(config.title or "")} (cover)</title>'
    head += "".join(f'<meta name="author" content="{e(a)}"/>' for a in config.authors)
    # The book's fixed dates, so that the same sources give the same cover, byte for byte.
    head += f'<meta name="generator" content="Quire"/><meta name="dcterms.created" content="{book.modified}"/>'
    head += f'<meta name="dcterms.modified" content="{book.modified}"/>'
    return (
        f'<!DOCTYPE html>\n<html lang="{e(config.lang or "und")}"><head>{head}</head><body>'
        f'<section class="panel back"><div class="safe"><div class="blurb">{back_text(book)}'
        f"</div></div>{barcode_html(isbn, isbn_label(config, isbn) if isbn else '')}</section>"
        f'<section class="panel spine">{spine_html(book, wrap)}</section>'
        f'<section class="panel front">{front_html(book, wrap)}</section>'
        "</body></html>"
    )


def back_text(book: Book) -> str:
    """The back cover's text: back-cover.md beside the book, else its `description`."""
    source = book.root / BACK_COVER_FILE
    if os.path.lexists(source):  # a link out of the book, a FIFO, ... is refused, not skipped
        from quire.load.manuscript import read_book_file
        from quire.parse.pandoc import READER, run_pandoc

        # Raw HTML is read as text: the back cover takes words and emphasis, not markup.
        return run_pandoc(
            ["-f", READER + "-raw_html", "-t", "html", "--wrap=none"],
            read_book_file(book.root, source),
            str(source),
        )
    paragraphs = (book.config.description or "").split("\n\n")
    return "".join(f"<p>{html.escape(p.strip())}</p>" for p in paragraphs if p.strip())


def barcode_html(isbn: str | None, label: str) -> str:
    """The barcode box: the ISBN's EAN-13 bars, or white space kept clear for the printer's."""
    if isbn is None:
        return '<div class="barcode empty"></div>'
    svg = base64.b64encode(ean13_svg(isbn).encode()).decode()
    label = html.escape(label)
    return (
        f'<div class="barcode"><p class="isbn">{label}</p>'
        f'<img class="bars" src="data:image/svg+xml;base64,{svg}" alt="{label}"/>'
        # The digits under the bars, grouped as EAN-13 prints them: 9 780306 406157.
        f'<p class="digits">{isbn[0]}\u2002{isbn[1:7]}\u2002{isbn[7:]}</p></div>'
    )


def spine_html(book: Book, wrap: Wrap) -> str:
    """Title, author and publisher along the spine, when the page count allows them."""
    if not wrap.spine_text:
        return ""
    classes = ("title", "author", "publisher")
    parts = [
        f'<span class="{kind}">{html.escape(text)}</span>'
        for kind, text in zip(classes, spine_parts(book.config), strict=False)
        if text
    ]
    return f'<div class="spine-text">{"".join(parts)}</div>'


def front_html(book: Book, wrap: Wrap) -> str:
    """The book's cover image fitted to trim and bleed, or a typographic front."""
    e, config = html.escape, book.config
    if book.cover is not None:
        check_front_resolution(book, wrap)
        alt = e(config.title or "")
        return f'<img class="art" src="{book.cover.path.as_uri()}" alt="{alt}"/>'
    lines = [f'<h1 class="title">{e(config.title or "")}</h1>']
    if config.subtitle:
        lines.append(f'<p class="subtitle">{e(config.subtitle)}</p>')
    if config.authors:
        lines.append(f'<p class="author">{e(", ".join(config.authors))}</p>')
    return f'<div class="safe typographic">{"".join(lines)}</div>'


def check_front_resolution(book: Book, wrap: Wrap) -> None:
    """Warn when the cover image, fitted to the front and its bleed, is under 300 dpi."""
    asset = book.cover
    width_in, height_in = wrap.trim.width + wrap.bleed, wrap.height
    dpi = min(asset.width / width_in, asset.height / height_in)
    if dpi < MIN_DPI:
        need = (round(width_in * MIN_DPI), round(height_in * MIN_DPI))
        warn(
            f"the cover image is {asset.width}×{asset.height} px, {dpi:.0f} dpi on a "
            f"{width_in:.3f} × {height_in:.3f} in front with bleed; print wants {MIN_DPI} dpi",
            file=book.config.origin,
            line=book.config.line_of("cover-image"),
            hint=f"supply at least {need[0]}×{need[1]} px for `cover-image`",
        )

"""Print preflight: the PDFs themselves, read back as a printer's prepress check reads them.

`preflight` checks any print PDF (page size, fonts, image resolution); `preflight_interior` and
`preflight_cover` add the rules of the book's printer (profiles.py). Every finding names the
page and the rule it breaks.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from quire import cover as generated_cover
from quire.load.config import Trim
from quire.press.profiles import COVER_TOLERANCE, PROFILES, Profile
from quire.validate import Finding, Report

PREFLIGHT_DPI = 300  # raster images print soft below this resolution at their printed size
PREFLIGHT_MIN_DPI = 150  # below this they print visibly blurred or blocky: a failure
PREFLIGHT_TOLERANCE = 0.5  # points of difference allowed between a page box and the trim
MARGIN_TOLERANCE = 0.5  # points: a glyph's box may graze the margin by this much
PAGES_NAMED = 8  # pages listed by number in one finding; the rest are counted


def preflight(pdf: Path, trim: Trim, bleed: float) -> Report:
    """Check a print PDF: page size against trim and bleed, fonts, image resolution, pages."""
    import pymupdf

    pdf = Path(pdf)
    with pymupdf.open(pdf) as doc:
        full = (trim.width + 2 * bleed, trim.height + 2 * bleed)
        findings = [
            *_preflight_pages(doc, pdf.name, trim, bleed, full),
            *_preflight_fonts(doc, pdf.name),
            *_preflight_images(doc, pdf.name),
        ]
        findings.append(_finding("info", "PAGES", pdf.name, f"{doc.page_count} pages"))
    return Report("preflight", tuple(findings))


def preflight_interior(pdf: Path, trim: Trim, bleed: float, printer: str) -> Report:
    """The interior against its printer: trim, page count, margins, marks, fonts, images."""
    import pymupdf

    profile, pdf = PROFILES[printer], Path(pdf)
    # The interior carries bleed on the top, bottom and outside edges only (pdfx.py).
    full = (trim.width + bleed, trim.height + 2 * bleed)
    with pymupdf.open(pdf) as doc:
        findings = [
            _trim_rule(profile, trim, pdf.name),
            _page_count_rule(profile, doc.page_count, pdf.name),
            *_preflight_pages(doc, pdf.name, trim, bleed, full),
            *_margin_rules(doc, profile, bleed, pdf.name),
            *_marks_rule(doc, profile, pdf.name),
            *_preflight_fonts(doc, pdf.name),
            *_preflight_images(doc, pdf.name),
        ]
    findings.append(_pdfx_rule(pdf))
    return Report("preflight", tuple(findings))


def preflight_cover(pdf: Path, trim: Trim, pages: int, paper: str, printer: str) -> Report:
    """The cover against its printer: size from the formula, spine text, fonts, images."""
    import pymupdf

    profile, pdf = PROFILES[printer], Path(pdf)
    spine = profile.spine_width(pages, paper)
    with pymupdf.open(pdf) as doc:
        page = doc[0]
        findings = [
            _cover_size_rule(page, profile, trim, spine, pages, paper, pdf.name),
            *_spine_text_rule(page, profile, trim, spine, pages, pdf.name),
            *_preflight_fonts(doc, pdf.name),
            *_preflight_images(doc, pdf.name),
        ]
    findings.append(_pdfx_rule(pdf))
    return Report("preflight", tuple(findings))


def trim_rect(page: object) -> object:
    """The page's TrimBox in PyMuPDF's page coordinates (top-left origin, y downwards).

    WeasyPrint puts a bleeding page's MediaBox origin at minus the bleed, which PyMuPDF's own
    `trimbox` does not shift by; the page's transformation matrix does.
    """
    import pymupdf

    kind, value = page.parent.xref_get_key(page.xref, "TrimBox")
    if kind != "array":
        return page.rect
    box = pymupdf.Rect(*(float(v) for v in value.strip("[]").split()))
    return box * page.transformation_matrix


def _finding(severity: str, code: str, file: str, text: str) -> Finding:
    """One preflight finding about the PDF file."""
    return Finding("preflight", severity, code, file, None, text)


def _size_in(box: object) -> str:
    """A PDF rectangle's size in inches, as '6 × 9 in'."""
    return f"{box.width / 72:.4g} × {box.height / 72:.4g} in"


def _preflight_pages(
    doc: object, name: str, trim: Trim, bleed: float, full: tuple[float, float]
) -> list[Finding]:
    """Every page's TrimBox is the trim size, and its MediaBox adds the bleed."""
    wrong = []
    for page in doc:
        trim_box, media = page.trimbox, page.mediabox
        want = (trim.width * 72, trim.height * 72)
        if not (_close(trim_box, want) and _close(media, (full[0] * 72, full[1] * 72))):
            wrong.append((page.number, trim_box, media))
    if wrong:
        number, trim_box, media = wrong[0]
        text = (
            f"{len(wrong)} pages differ from the trim {trim.width:.4g} × {trim.height:.4g} in "
            f"with {bleed:g} in bleed; page {number + 1} is {_size_in(trim_box)} "
            f"({_size_in(media)} with bleed)"
        )
        return [_finding("error", "PAGE-SIZE", name, text)]
    text = f"every page is {trim.width:.4g} × {trim.height:.4g} in" + (
        f", with {bleed:g} in bleed" if bleed else ""
    )
    return [_finding("info", "PAGE-SIZE", name, text)]


def _close(box: object, size: tuple[float, float]) -> bool:
    """True if a rectangle has this width and height, within the tolerance."""
    return (
        abs(box.width - size[0]) <= PREFLIGHT_TOLERANCE
        and abs(box.height - size[1]) <= PREFLIGHT_TOLERANCE
    )


def _preflight_fonts(doc: object, name: str) -> list[Finding]:
    """Every font the pages use is embedded (a printer will not substitute fonts)."""
    fonts: dict[str, str] = {}
    for page in doc:
        for _xref, ext, _kind, base, *_ in page.get_fonts(full=True):
            fonts.setdefault(base, ext)
    missing = sorted(base for base, ext in fonts.items() if ext in ("", "n/a"))
    if missing:
        text = f"{len(missing)} fonts are not embedded: {', '.join(missing)}"
        return [_finding("error", "FONTS", name, text)]
    return [_finding("info", "FONTS", name, f"all {len(fonts)} fonts are embedded")]


def _preflight_images(doc: object, name: str) -> list[Finding]:
    """Raster images at their printed size: under 300 dpi a warning, under 150 an error."""
    findings, count = [], 0
    for page in doc:
        for image in page.get_image_info():
            x0, y0, x1, y1 = image["bbox"]
            if x1 - x0 < 1 or y1 - y0 < 1:
                continue
            count += 1
            dpi = min(image["width"] / ((x1 - x0) / 72), image["height"] / ((y1 - y0) / 72))
            if dpi < PREFLIGHT_DPI:
                severity = "error" if dpi < PREFLIGHT_MIN_DPI else "warning"
                text = (
                    f"page {page.number + 1} (folio {page.get_label() or page.number + 1}): "
                    f"a {image['width']}×{image['height']} px image printed "
                    f"{(x1 - x0) / 72:.2f} × {(y1 - y0) / 72:.2f} in is {dpi:.0f} dpi, "
                    f"under {PREFLIGHT_DPI} (supply a larger image or print it smaller)"
                )
                findings.append(_finding(severity, "IMAGE-DPI", name, text))
    if not findings:
        text = f"no raster images under {PREFLIGHT_DPI} dpi at their printed size ({count} checked)"
        findings.append(_finding("info", "IMAGE-DPI", name, text))
    return findings


def _trim_rule(profile: Profile, trim: Trim, name: str) -> Finding:
    """The trim is one of the sizes the printer makes."""
    size = f"{trim.width:.4g} × {trim.height:.4g} in"
    if profile.has_trim(trim.width, trim.height):
        return _finding("info", "TRIM", name, f"{profile.name} prints the trim {size}")
    text = (
        f"{profile.name} does not print the trim {size}; its sizes are "
        f"{profile.trim_names()} in (set `trim:` in book.yaml)"
    )
    return _finding("error", "TRIM", name, text)


def _page_count_rule(profile: Profile, pages: int, name: str) -> Finding:
    """The page count is within the printer's limits."""
    limits = f"{profile.min_pages}–{profile.max_pages} pages"
    if profile.min_pages <= pages <= profile.max_pages:
        return _finding("info", "PAGE-COUNT", name, f"{pages} pages, within {limits}")
    text = f"{pages} pages, but {profile.name} binds {limits}"
    return _finding("error", "PAGE-COUNT", name, text)


def _margin_rules(doc: object, profile: Profile, bleed: float, name: str) -> list[Finding]:
    """Text, images and drawings keep the printer's margins from the trim, side by side."""
    pages = doc.page_count
    minimum = {
        "inside": profile.inside_margin(pages),
        "outside": profile.outside_margin_bleed if bleed else profile.outside_margin,
    }
    minimum["top"] = minimum["bottom"] = minimum["outside"]
    broken: dict[str, list[tuple[int, float]]] = {side: [] for side in minimum}
    for page in doc:
        for side, inches in _margins(page).items():
            if inches * 72 < minimum[side] * 72 - MARGIN_TOLERANCE:
                broken[side].append((page.number + 1, inches))
    findings = []
    for side, hits in broken.items():
        rule = f"{profile.name}: {side} margin at least {minimum[side]:g} in" + (
            f" for {pages} pages" if side == "inside" else ""
        )
        if not hits:
            findings.append(_finding("info", "MARGIN", name, f"{rule}: kept on every page"))
            continue
        worst = min(hits, key=lambda hit: hit[1])
        listed = ", ".join(str(number) for number, _ in hits[:PAGES_NAMED])
        more = f" and {len(hits) - PAGES_NAMED} more" if len(hits) > PAGES_NAMED else ""
        text = (
            f"page {worst[0]}: content {max(worst[1], 0):.3f} in from the trim breaks the rule "
            f"({rule}); pages {listed}{more}"
        )
        findings.append(_finding("error", "MARGIN", name, text))
    return findings


def _margins(page: object) -> dict[str, float]:
    """The smallest distance, in inches, from the trim to the page's content on each side.

    Without bleed, content that runs off the page counts (its distance is 0 or less).
    """
    trim = trim_rect(page)
    boxes = [_rect(w[:4]) for w in page.get_text("words")]
    boxes += [_rect(i["bbox"]) for i in page.get_image_info()]
    boxes += [d["rect"] for d in page.get_drawings()]
    if page.rect.width > trim.width + 1 or page.rect.height > trim.height + 1:
        boxes = _inside(boxes, trim)  # what reaches into the bleed is art meant to bleed
    inside = [b for b in boxes if b.width > 0 or b.height > 0]
    if not inside:
        return {}
    left = (min(b.x0 for b in inside) - trim.x0) / 72
    right = (trim.x1 - max(b.x1 for b in inside)) / 72
    recto = page.number % 2 == 0  # page 1 is a right-hand page: its inside edge is on the left
    return {
        "inside": left if recto else right,
        "outside": right if recto else left,
        "top": (min(b.y0 for b in inside) - trim.y0) / 72,
        "bottom": (trim.y1 - max(b.y1 for b in inside)) / 72,
    }


def _rect(bbox: Iterable[float]) -> object:
    import pymupdf

    return pymupdf.Rect(*bbox)


def _inside(boxes: list, trim: object) -> list:
    """Boxes within the trim: what bleeds past it is art the printer trims on purpose."""
    tol = MARGIN_TOLERANCE
    return [
        b
        for b in boxes
        if b.x0 >= trim.x0 - tol
        and b.y0 >= trim.y0 - tol
        and b.x1 <= trim.x1 + tol
        and b.y1 <= trim.y1 + tol
    ]


def _marks_rule(doc: object, profile: Profile, name: str) -> list[Finding]:
    """Printer's marks (drawings wholly outside the trim) where the printer wants none."""
    if profile.marks_in_interior:
        return []
    marked = [
        page.number + 1
        for page in doc
        if any(_outside(d["rect"], trim_rect(page)) for d in page.get_drawings())
    ]
    if not marked:
        return []
    text = (
        f"page {marked[0]}: crop marks in the bleed ({len(marked)} pages); "
        f"{profile.name} wants no printer's marks in the interior (remove `crop-marks: true`)"
    )
    return [_finding("error", "MARKS", name, text)]


def _outside(box: object, trim: object) -> bool:
    """True if a box (a hairline rule has no height) lies wholly outside the trim."""
    return box.x1 <= trim.x0 or box.x0 >= trim.x1 or box.y1 <= trim.y0 or box.y0 >= trim.y1


def _cover_size_rule(
    page: object, profile: Profile, trim: Trim, spine: float, pages: int, paper: str, name: str
) -> Finding:
    """The cover's sheet is bleed + back + spine + front + bleed, within 1/16 in."""
    want_w = 2 * profile.bleed + 2 * trim.width + spine
    want_h = trim.height + 2 * profile.bleed
    got_w, got_h = page.mediabox.width / 72, page.mediabox.height / 72
    formula = (
        f"{profile.bleed:g} + {trim.width:g} + {spine:.4f} (spine: {pages} pages of {paper} "
        f"paper) + {trim.width:g} + {profile.bleed:g} = {want_w:.4f} in wide, "
        f"{trim.height:g} + 2 × {profile.bleed:g} = {want_h:.4f} in tall"
    )
    if abs(got_w - want_w) <= COVER_TOLERANCE and abs(got_h - want_h) <= COVER_TOLERANCE:
        return _finding("info", "COVER-SIZE", name, f"the cover is {formula}")
    text = (
        f"page 1: the cover is {got_w:.4f} × {got_h:.4f} in, but {profile.name} wants "
        f"{formula}, within {COVER_TOLERANCE:g} in"
    )
    return _finding("error", "COVER-SIZE", name, text)


def _spine_text_rule(
    page: object, profile: Profile, trim: Trim, spine: float, pages: int, name: str
) -> list[Finding]:
    """Text on the spine only at the printer's page count, and clear of the spine's folds."""
    left = trim_rect(page).x0 + trim.width * 72  # the back panel ends at the spine's left fold
    right = left + spine * 72
    words = [w for w in page.get_text("words") if w[2] > left and w[0] < right]
    if not words:
        return [_finding("info", "SPINE-TEXT", name, "the spine carries no text")]
    if pages < profile.spine_text_pages:
        text = (
            f"page 1: {len(words)} words on the spine (“{words[0][4]}” …), but {profile.name} "
            f"prints no spine text under {profile.spine_text_pages} pages and the book has {pages}"
        )
        return [_finding("error", "SPINE-TEXT", name, text)]
    gap = profile.spine_clearance * 72 - MARGIN_TOLERANCE
    outside = [w for w in words if w[0] < left + gap or w[2] > right - gap]
    if outside:
        text = (
            f"page 1: “{outside[0][4]}” comes within {profile.spine_clearance:g} in of the "
            f"spine's fold ({profile.name} keeps that much blank on each side)"
        )
        return [_finding("error", "SPINE-TEXT", name, text)]
    trim, safe = trim_rect(page), profile.cover_safe * 72 - MARGIN_TOLERANCE
    cut = [w for w in words if w[1] < trim.y0 + safe or w[3] > trim.y1 - safe]
    if cut:
        text = (
            f"page 1: “{cut[0][4]}” on the spine comes within {profile.cover_safe:g} in of the "
            f"top or bottom trim (shorten the spine text or set it smaller in cover.css)"
        )
        return [_finding("error", "SPINE-TEXT", name, text)]
    text = f"{len(words)} words on the spine, {profile.spine_clearance:g} in clear of its folds"
    return [_finding("info", "SPINE-TEXT", name, text)]


def _pdfx_rule(pdf: Path) -> Finding:
    """The file says it is PDF/X-4 and carries its output intent's ICC profile."""
    import pikepdf

    with pikepdf.open(pdf) as doc:
        intents = doc.Root.get("/OutputIntents") or []
        with_profile = [
            i for i in intents if i.get("/S") == "/GTS_PDFX" and "/DestOutputProfile" in i
        ]
        version = str(doc.docinfo.get("/GTS_PDFXVersion", ""))
    if with_profile and version:
        name = str(with_profile[0].get("/OutputConditionIdentifier", "?"))
        return _finding("info", "PDFX", pdf.name, f"{version}, output intent {name}")
    return _finding("error", "PDFX", pdf.name, "no PDF/X output intent with an ICC profile")


def preflight_epub_cover(epub: Path) -> Report:
    """The EPUB's cover image against the size the e-book stores ask for."""
    import io
    import posixpath
    import zipfile

    from lxml import etree
    from PIL import Image

    epub = Path(epub)
    with zipfile.ZipFile(epub) as archive:
        container = etree.fromstring(archive.read("META-INF/container.xml"))
        opf_name = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        opf = etree.fromstring(archive.read(opf_name))
        hrefs = opf.xpath("//*[local-name()='item'][contains(@properties, 'cover-image')]/@href")
        if not hrefs:
            return Report("preflight", (_finding("info", "COVER-PIXELS", epub.name, "no cover"),))
        name = posixpath.normpath(posixpath.join(posixpath.dirname(opf_name), hrefs[0]))
        width, height = Image.open(io.BytesIO(archive.read(name))).size
    wanted = f"{generated_cover.WIDTH}×{generated_cover.HEIGHT}"
    if width < generated_cover.WIDTH or height < generated_cover.HEIGHT:
        text = (
            f"{name}: the cover is {width}×{height} pixels, under the {wanted} the stores ask for"
            " (set a larger `cover-image:`)"
        )
        return Report("preflight", (_finding("warning", "COVER-PIXELS", epub.name, text),))
    text = f"{name}: the cover is {width}×{height} pixels"
    return Report("preflight", (_finding("info", "COVER-PIXELS", epub.name, text),))


def preflight_epub_images(epub: Path) -> Report:
    """Each image of the EPUB its author gave no alt text (transform/sources.py marks them)."""
    import zipfile

    from lxml import etree

    from quire.transform.sources import UNDESCRIBED

    epub, findings = Path(epub), []
    with zipfile.ZipFile(epub) as archive:
        for name in sorted(n for n in archive.namelist() if n.endswith(".xhtml")):
            root = etree.fromstring(archive.read(name))
            for image in root.iter("{http://www.w3.org/1999/xhtml}img"):
                if UNDESCRIBED in image.get("class", "").split():
                    text = (
                        f"{name}: {image.get('src')} has no alt text; the accessibility summary"
                        " names it and claims no WCAG conformance (describe it in the source)"
                    )
                    findings.append(_finding("warning", "NO-ALT", epub.name, text))
    return Report("preflight", tuple(findings))


def preflight_written(written: list) -> list[tuple[Path, Report]]:
    """The preflight of each PDF a build wrote, and of the EPUB's cover."""
    pages = next((w.pages for w in written if w.format == "interior"), None)
    reports = []
    for item in written:
        if item.format == "epub":
            cover, images = preflight_epub_cover(item.path), preflight_epub_images(item.path)
            reports.append((item.path, Report("preflight", cover.findings + images.findings)))
        if item.trim is None:
            continue
        if item.format == "pdf":
            reports.append((item.path, preflight(item.path, item.trim, item.bleed)))
        elif item.format == "interior":
            report = preflight_interior(item.path, item.trim, item.bleed, item.printer)
            reports.append((item.path, report))
        elif item.format == "cover" and pages:
            report = preflight_cover(item.path, item.trim, pages, item.paper, item.printer)
            reports.append((item.path, report))
    return reports

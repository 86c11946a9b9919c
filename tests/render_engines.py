"""Render a PDF in four engines (MuPDF, PDFium, Poppler, Ghostscript) and report where they disagree.

Readers open a PDF in whatever viewer they have, and printers and Linux printing go through
Ghostscript or Poppler, so a glyph that one engine draws and another leaves blank is a broken
book. Each page is rendered in grey at a low resolution; the text spans that the PDF's text
layer places on the page (read with PyMuPDF) must have ink in every engine's image, and the
ink of a span and of the whole page may differ only a little from one engine to the next.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from conftest import require_tool
from PIL import Image

ENGINES = ("mupdf", "pdfium", "poppler", "ghostscript")
DPI = 60
MIN_LIKENESS = 0.5  # a span drawn by one engine must correlate this well with the others'
PAGE_INK_TOLERANCE = 0.35  # whole-page ink may differ this much (Ghostscript draws text darker)
MIN_SPAN_INK = 2.0  # spans with less ink (in black pixels) in every engine are too small to judge


@dataclass(frozen=True)
class Disagreement:
    """One place where an engine's image does not match the others."""

    page: int  # 1-based
    engine: str
    text: str
    detail: str

    def __str__(self) -> str:
        return f"page {self.page}, {self.engine}: {self.detail}: {self.text!r}"


def _mupdf(pdf: Path, dpi: int, _tmp: Path) -> list[np.ndarray]:
    import pymupdf

    with pymupdf.open(pdf) as doc:
        return [
            _array(page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY).pil_image()) for page in doc
        ]


def _pdfium(pdf: Path, dpi: int, _tmp: Path) -> list[np.ndarray]:
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return [_array(page.render(scale=dpi / 72, grayscale=True).to_pil()) for page in doc]
    finally:
        doc.close()


def _poppler(pdf: Path, dpi: int, tmp: Path) -> list[np.ndarray]:
    prefix = tmp / "poppler"
    subprocess.run(
        ["pdftoppm", "-q", "-r", str(dpi), "-gray", "-png", str(pdf), str(prefix)], check=True
    )
    return [_array(Image.open(p)) for p in sorted(tmp.glob("poppler-*.png"), key=_page_number)]


def _ghostscript(pdf: Path, dpi: int, tmp: Path) -> list[np.ndarray]:
    subprocess.run(
        [
            "gs",
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=pnggray",
            f"-r{dpi}",
            "-dTextAlphaBits=4",
            "-dGraphicsAlphaBits=4",
            f"-sOutputFile={tmp / 'gs-%d.png'}",
            str(pdf),
        ],
        check=True,
        capture_output=True,
    )
    return [_array(Image.open(p)) for p in sorted(tmp.glob("gs-*.png"), key=_page_number)]


RENDERERS = {"mupdf": _mupdf, "pdfium": _pdfium, "poppler": _poppler, "ghostscript": _ghostscript}


def _page_number(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


def _array(image: Image.Image) -> np.ndarray:
    """A rendered page as ink, 0.0 (paper) to 1.0 (black)."""
    return 1.0 - np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def render_all(pdf: Path, dpi: int = DPI) -> dict[str, list[np.ndarray]]:
    """Every page of pdf as an ink mask, per engine."""
    for tool, package in (("pdftoppm", "poppler-utils"), ("gs", "ghostscript")):
        require_tool(shutil.which(tool) is not None, tool, f"apt-get install {package}")
    with tempfile.TemporaryDirectory() as tmp:
        return {name: RENDERERS[name](pdf, dpi, Path(tmp)) for name in ENGINES}


def text_spans(pdf: Path) -> list[list[tuple[tuple[float, float, float, float], str]]]:
    """Per page, the text layer's spans: (bbox in points, text), blank spans left out."""
    import pymupdf

    with pymupdf.open(pdf) as doc:
        pages = []
        for page in doc:
            spans = []
            for block in page.get_text("dict")["blocks"]:
                for line in block.get("lines", ()):
                    spans += [
                        (tuple(s["bbox"]), s["text"]) for s in line["spans"] if s["text"].strip()
                    ]
            pages.append(spans)
        return pages


def _crop(image: np.ndarray, bbox: tuple[float, float, float, float], width: float) -> np.ndarray:
    """The part of a page image under a bbox given in points (width: the page's, in points)."""
    scale = image.shape[1] / width
    x0, y0, x1, y1 = (round(v * scale) for v in bbox)
    return image[max(y0, 0) : y1 + 1, max(x0, 0) : x1 + 1]


def _blur(image: np.ndarray) -> np.ndarray:
    """A 3x3 box blur, so that a pixel's shift between engines does not count as a difference."""
    padded = np.pad(image, 1)
    rows, cols = image.shape
    return sum(padded[i : i + rows, j : j + cols] for i in range(3) for j in range(3)) / 9


def _likeness(image: np.ndarray, others: np.ndarray) -> float:
    """How alike two crops are: their correlation, 1.0 for the same picture, 0 or less for none."""
    if image.std() < 1e-6 or others.std() < 1e-6:
        return 1.0 if abs(float(image.sum()) - float(others.sum())) < 1.0 else 0.0
    return float(np.corrcoef(image.ravel(), others.ravel())[0, 1])


def disagreements(pdf: Path, dpi: int = DPI) -> list[Disagreement]:
    """Where the four engines' renderings of pdf disagree; empty if they all agree."""
    import pymupdf

    images = render_all(pdf, dpi)
    counts = {name: len(pages) for name, pages in images.items()}
    if len(set(counts.values())) != 1:
        return [Disagreement(0, "all", "", f"page counts differ: {counts}")]
    with pymupdf.open(pdf) as doc:
        widths = [page.rect.width for page in doc]
    found: list[Disagreement] = []
    for index, spans in enumerate(text_spans(pdf)):
        pages = {name: pages[index] for name, pages in images.items()}
        found += _span_disagreements(index + 1, pages, spans, widths[index])
        found += _page_ink_disagreements(index + 1, pages)
    return found


def _span_disagreements(
    page: int, images: dict[str, np.ndarray], spans: list, width: float
) -> list[Disagreement]:
    """Spans that an engine draws unlike the other three (blank, boxes, other glyphs)."""
    found = []
    for bbox, text in spans:
        crops = {name: _crop(image, bbox, width) for name, image in images.items()}
        rows = min(c.shape[0] for c in crops.values())
        cols = min(c.shape[1] for c in crops.values())
        crops = {name: _blur(c[:rows, :cols]) for name, c in crops.items()}
        if max(float(c.sum()) for c in crops.values()) < MIN_SPAN_INK:
            continue
        for name, crop in crops.items():
            others = np.median([c for other, c in crops.items() if other != name], axis=0)
            likeness = _likeness(crop, others)
            if likeness < MIN_LIKENESS:
                detail = f"draws the span unlike the others (likeness {likeness:.2f}, ink {crop.sum():.0f} vs {others.sum():.0f})"
                found.append(Disagreement(page, name, text, detail))
    return found


def _page_ink_disagreements(page: int, images: dict[str, np.ndarray]) -> list[Disagreement]:
    """Engines whose whole-page ink is far from the others' median."""
    totals = {name: float(image.sum()) for name, image in images.items()}
    median = float(np.median(list(totals.values())))
    return [
        Disagreement(page, name, "", f"page ink {total:.0f}, the engines' median {median:.0f}")
        for name, total in totals.items()
        if abs(total - median) > PAGE_INK_TOLERANCE * max(median, 1.0)
    ]

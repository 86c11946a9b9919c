"""PDF figures, as pandoc's LaTeX route takes them: drawn as SVG, so they stay vector in print."""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from pathlib import Path

from quire.errors import BuildError

_folder: list[Path] = []


def figures_folder() -> Path:
    """A private temporary folder for converted figures, removed when the process ends."""
    if not _folder:
        _folder.append(Path(tempfile.mkdtemp(prefix="quire-figures-")).resolve())
        atexit.register(shutil.rmtree, _folder[0], True)
    return _folder[0]


def generated_folders(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    """The folder of converted figures, if the book uses any, for the PDF to read from."""
    used = bool(_folder) and any(p.is_relative_to(_folder[0]) for p in paths)
    return (_folder[0],) if used else ()


def is_pdf(path: Path) -> bool:
    """True for a PDF file, by its first bytes (a figure may be named anything)."""
    try:
        with path.open("rb") as stream:
            return stream.read(5) == b"%PDF-"
    except OSError:
        return False


def pdf_figure(path: Path, *, file: str, line: int | None) -> Path:
    """The first page of a PDF figure as an SVG file (text as outlines), for both outputs."""
    import pymupdf

    data = path.read_bytes()
    target = figures_folder() / hashlib.sha256(data).hexdigest()[:16] / f"{path.stem}.svg"
    if target.exists():
        return target
    try:
        with pymupdf.open(stream=data, filetype="pdf") as document:
            if document.page_count < 1 or document.needs_pass:
                raise ValueError("no page that can be read")
            svg = document[0].get_svg_image(text_as_path=True)
    except (ValueError, RuntimeError) as exc:
        raise BuildError(
            f"PDF figure {path.name} cannot be read: {exc}",
            file=file,
            line=line,
            hint="export the figure again as PDF, SVG or PNG",
        ) from None
    target.parent.mkdir(exist_ok=True)
    target.write_text(svg, encoding="utf-8")
    return target

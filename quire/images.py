"""Images a book uses: checked for format, integrity and size before anything renders them."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from PIL import Image, UnidentifiedImageError

from quire.bounds import check_svg as check_svg_bounds
from quire.confine import check_file
from quire.css import css_references
from quire.errors import BuildError
from quire.manuscript import display_name

# What EPUB reading systems must show (EPUB 3.3 core media types), keyed by Pillow's format name.
RASTER_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
SVG_TYPE = "image/svg+xml"
SVG_DEPTH = 256  # libxml2's limit on nested elements, without XML_PARSE_HUGE
MAX_PIXELS = 50_000_000  # larger images are refused as possible decompression bombs
SVG_NS = "http://www.w3.org/2000/svg"
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
SAFE_SVG_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


@dataclass(frozen=True)
class Asset:
    """A file copied into the EPUB and drawn in the PDF."""

    path: Path
    href: str  # path inside the EPUB's content folder, e.g. images/map.svg
    media_type: str
    width: int | None = None  # pixels, for raster images
    height: int | None = None


def inspect(path: Path, *, file: str, line: int | None) -> tuple[str, int | None, int | None]:
    """Check an image and return its media type and pixel size, or raise a BuildError."""
    if not path.is_file():
        raise BuildError(
            f"image not found: {display_name(path)}",
            file=file,
            line=line,
            hint="check the file name and that the image is in the book's folder",
        )
    check_file(path, "image", file=file, line=line, what=path.name)
    if path.suffix.lower() == ".svg":
        check_svg(path, file=file, line=line)
        return SVG_TYPE, None, None
    return _inspect_raster(path, file=file, line=line)


def _inspect_raster(path: Path, *, file: str, line: int | None) -> tuple[str, int, int]:
    """Check a raster image's format, pixel count and integrity, decoding it only if safe."""
    kind, width, height = _identify(path, file=file, line=line)
    if kind not in RASTER_TYPES:
        raise BuildError(
            f"image {path.name} is {kind}, which e-readers cannot show",
            file=file,
            line=line,
            hint="convert it to PNG, JPEG, GIF, WebP or SVG",
        )
    if width * height > MAX_PIXELS:
        raise _too_large(path, f"{width}×{height} pixels", file=file, line=line)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=list(RASTER_TYPES)) as img:
                img.verify()
            with Image.open(path, formats=list(RASTER_TYPES)) as img:
                img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(path, "too many pixels", file=file, line=line) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _corrupt(path, file=file, line=line) from None
    return RASTER_TYPES[kind], width, height


def _identify(path: Path, *, file: str, line: int | None) -> tuple[str, int, int]:
    """An image's format and claimed size, read from its header without decoding the pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=list(RASTER_TYPES)) as img:
                return img.format, *img.size
    except Image.DecompressionBombError as exc:
        raise _too_large(path, _claimed_size(str(exc)), file=file, line=line) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        pass
    # Not a format e-readers show: name it if Pillow knows it (header only, no decoding).
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                return img.format or "an unknown format", 0, 0
    except Exception:  # noqa: BLE001 - any failure to read the header means it is no image
        raise _corrupt(path, file=file, line=line) from None


def _claimed_size(message: str) -> str:
    """The pixel count from Pillow's decompression-bomb message, for ours."""
    found = re.search(r"\((\d+) pixels\)", message)
    return f"{int(found[1]):,} pixels" if found else "too many pixels"


def _too_large(path: Path, size: str, *, file: str, line: int | None) -> BuildError:
    return BuildError(
        f"image {path.name} is {size}, too large to be safe (a possible decompression bomb)",
        file=file,
        line=line,
        hint=f"scale it down below {MAX_PIXELS // 1_000_000} megapixels",
    )


def _corrupt(path: Path, *, file: str, line: int | None) -> BuildError:
    return BuildError(
        f"image {path.name} is corrupt or not an image",
        file=file,
        line=line,
        hint="open it in an image editor and export it again as PNG or JPEG",
    )


def check_svg(path: Path, *, file: str, line: int | None) -> None:
    """Parse an SVG without entities or network, refusing scripts and outside references."""
    try:
        root = etree.parse(str(path), SAFE_SVG_PARSER).getroot()
    except etree.XMLSyntaxError as exc:
        if "Excessive depth" in exc.msg:  # libxml2's own cap, which no drawing comes near
            raise BuildError(
                f"SVG {path.name} nests elements more than {SVG_DEPTH} levels deep",
                file=file,
                line=line,
                hint="flatten its groups in an SVG editor",
            ) from None
        raise BuildError(
            f"SVG {path.name} is not well-formed XML: {exc.msg}",
            file=file,
            line=line,
            hint="open it in an SVG editor and save it again",
        ) from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise BuildError(f"{path.name} is not an SVG image", file=file, line=line)
    if root.getroottree().docinfo.internalDTD is not None:
        raise BuildError(
            f"SVG {path.name} declares a DTD (entities are not allowed)",
            file=file,
            line=line,
            hint="remove the <!DOCTYPE ...> block from the SVG",
        )
    check_svg_bounds(root, path.name, file=file, line=line)
    for node in root.getroottree().iter():
        problem = _svg_problem(node)
        if problem:
            raise BuildError(
                f"SVG {path.name} {problem}",
                file=file,
                line=line,
                hint="an image must be self-contained: no scripts, links to files or URLs",
            )


def _svg_problem(node: etree._Element) -> str | None:
    """What is unsafe about one node of an SVG, or None."""
    if isinstance(node, etree._ProcessingInstruction):
        return f"has a processing instruction <?{node.target} ...?>"
    if not isinstance(node.tag, str):
        return None
    name = etree.QName(node).localname
    if name in ("script", "foreignObject") or etree.QName(node).namespace == XINCLUDE_NS:
        return f"contains <{name}>"
    if name == "style":
        outside = _outside_reference(node.text or "", "sheet")
        if outside:
            return f"refers to `{outside}` in its style"
    for attr, value in node.attrib.items():
        local = etree.QName(attr).localname
        if local.lower().startswith("on"):
            return f"has an event handler `{local}`"
        if local == "href" and not value.startswith("#"):
            return f"refers to `{value}`"
        outside = _outside_reference(value, "declarations" if local == "style" else "value")
        if outside:
            return f"refers to `{outside}`"
    return None


def _outside_reference(css: str, form: str) -> str | None:
    """The first URL in a piece of CSS (read by tinycss2, escapes and all) that is not `#id`."""
    try:
        references = css_references(css, form)
    except ValueError:
        return "CSS nested too deeply"
    return next((r.url or "url( )" for r in references if not r.url.startswith("#")), None)


def svg_size(path: Path) -> tuple[float, float]:
    """An SVG's width and height in CSS pixels, from its attributes or its viewBox."""
    root = etree.parse(str(path), SAFE_SVG_PARSER).getroot()
    box = [float(v) for v in root.get("viewBox", "0 0 300 150").replace(",", " ").split()]
    width, height = root.get("width"), root.get("height")

    def pixels(value: str | None, fallback: float) -> float:
        try:
            return float(value.removesuffix("px")) if value else fallback
        except ValueError:
            return fallback

    return pixels(width, box[2]), pixels(height, box[3])

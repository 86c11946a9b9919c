"""Images a book uses: checked for format, integrity and size before anything renders them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from PIL import Image, UnidentifiedImageError

from quire.errors import BuildError

# What EPUB reading systems must show (EPUB 3.3 core media types), keyed by Pillow's format name.
RASTER_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
SVG_TYPE = "image/svg+xml"
MAX_PIXELS = 50_000_000  # larger images are refused as possible decompression bombs
SVG_NS = "http://www.w3.org/2000/svg"
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
            f"image not found: {path.name}",
            file=file,
            line=line,
            hint="check the file name and that the image is in the book's folder",
        )
    if path.suffix.lower() == ".svg":
        check_svg(path, file=file, line=line)
        return SVG_TYPE, None, None
    return _inspect_raster(path, file=file, line=line)


def _inspect_raster(path: Path, *, file: str, line: int | None) -> tuple[str, int, int]:
    try:
        with Image.open(path) as img:
            kind, (width, height) = img.format, img.size
            if width * height > MAX_PIXELS:
                raise BuildError(
                    f"image {path.name} is {width}×{height} pixels, too large to be safe",
                    file=file,
                    line=line,
                    hint=f"scale it down below {MAX_PIXELS // 1_000_000} megapixels",
                )
            img.verify()
        with Image.open(path) as img:
            img.load()
    except BuildError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise BuildError(
            f"image {path.name} is corrupt or not an image",
            file=file,
            line=line,
            hint="re-export it as PNG or JPEG",
        ) from None
    if kind not in RASTER_TYPES:
        raise BuildError(
            f"image {path.name} is {kind}, which e-readers cannot show",
            file=file,
            line=line,
            hint="convert it to PNG, JPEG, GIF, WebP or SVG",
        )
    return RASTER_TYPES[kind], width, height


def check_svg(path: Path, *, file: str, line: int | None) -> None:
    """Parse an SVG without entities or network, refusing scripts and outside references."""
    try:
        root = etree.parse(str(path), SAFE_SVG_PARSER).getroot()
    except etree.XMLSyntaxError as exc:
        raise BuildError(
            f"SVG {path.name} is not well-formed XML: {exc.msg}", file=file, line=line
        ) from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise BuildError(f"{path.name} is not an SVG image", file=file, line=line)
    if root.getroottree().docinfo.internalDTD is not None:
        raise BuildError(
            f"SVG {path.name} declares a DTD (entities are not allowed)", file=file, line=line
        )
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if etree.QName(element).localname in ("script", "foreignObject"):
            raise BuildError(
                f"SVG {path.name} contains <{etree.QName(element).localname}>",
                file=file,
                line=line,
                hint="remove scripts and embedded HTML from the SVG",
            )
        for name, value in element.attrib.items():
            if etree.QName(name).localname == "href" and not value.startswith("#"):
                raise BuildError(
                    f"SVG {path.name} refers to `{value}`; an image must be self-contained",
                    file=file,
                    line=line,
                )
            if etree.QName(name).localname.startswith("on"):
                raise BuildError(
                    f"SVG {path.name} has an event handler `{name}`", file=file, line=line
                )


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

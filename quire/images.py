"""Images a book uses: checked for format, integrity and size before anything renders them."""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from PIL import Image, UnidentifiedImageError

from quire.bounds import check_svg as check_svg_bounds
from quire.css import css_references
from quire.errors import BuildError
from quire.load.confine import check_file
from quire.load.manuscript import display_name

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
    kind, width, height = _check_raster(path, f"image {path.name}", file=file, line=line)
    return RASTER_TYPES[kind], width, height


Source = Path | io.BytesIO  # an image file, or the bytes of one embedded in an SVG


def _open(source: Source, formats: list[str] | None = None) -> Image.Image:
    """Open an image file or bytes with Pillow (from the start of the bytes)."""
    if isinstance(source, io.BytesIO):
        source.seek(0)
    return Image.open(source, formats=formats)


def _check_raster(
    source: Source, label: str, *, file: str, line: int | None
) -> tuple[str, int, int]:
    """Check an image's format, pixel count and integrity: (Pillow's format, width, height)."""
    kind, width, height = _identify(source, label, file=file, line=line)
    if kind not in RASTER_TYPES:
        raise BuildError(
            f"{label} is {kind}, which e-readers cannot show",
            file=file,
            line=line,
            hint="convert it to PNG, JPEG, GIF, WebP or SVG",
        )
    if width * height > MAX_PIXELS:
        raise _too_large(label, f"{width}×{height} pixels", file=file, line=line)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _open(source, list(RASTER_TYPES)) as img:
                img.verify()
            with _open(source, list(RASTER_TYPES)) as img:
                img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(label, "too many pixels", file=file, line=line) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _corrupt(label, file=file, line=line) from None
    return kind, width, height


def _identify(source: Source, label: str, *, file: str, line: int | None) -> tuple[str, int, int]:
    """An image's format and claimed size, read from its header without decoding the pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with _open(source, list(RASTER_TYPES)) as img:
                return img.format, *img.size
    except Image.DecompressionBombError as exc:
        raise _too_large(label, _claimed_size(str(exc)), file=file, line=line) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        pass
    # Not a format e-readers show: name it if Pillow knows it (header only, no decoding).
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with _open(source) as img:
                return img.format or "an unknown format", 0, 0
    except Exception:  # noqa: BLE001 - any failure to read the header means it is no image
        raise _corrupt(label, file=file, line=line) from None


def _claimed_size(message: str) -> str:
    """The pixel count from Pillow's decompression-bomb message, for ours."""
    found = re.search(r"\((\d+) pixels\)", message)
    return f"{int(found[1]):,} pixels" if found else "too many pixels"


def _too_large(label: str, size: str, *, file: str, line: int | None) -> BuildError:
    return BuildError(
        f"{label} is {size}, too large to be safe (a possible decompression bomb)",
        file=file,
        line=line,
        hint=f"scale it down below {MAX_PIXELS // 1_000_000} megapixels",
    )


def _corrupt(label: str, *, file: str, line: int | None) -> BuildError:
    return BuildError(
        f"{label} is corrupt or not an image",
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
    _check_doctype(root, path.name, file=file, line=line)
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
        for value in _embedded_images(node):
            check_data_image(value, f"SVG {path.name}", file=file, line=line)


def _check_doctype(root: etree._Element, name: str, *, file: str, line: int | None) -> None:
    """Accept a DOCTYPE (editors write one), refuse one that declares or uses entities.

    The parser never resolves entities; an entity declared or referred to is refused anyway,
    since its text would be lost (or, resolved elsewhere, read a file or grow exponentially).
    """
    dtd = root.getroottree().docinfo.internalDTD
    declared = [e.name for e in dtd.iterentities()] if dtd is not None else []
    used = [n.text for n in root.iter(etree.Entity)]
    if declared or used:
        raise BuildError(
            f"SVG {name} declares a DTD with entities ({_shown((declared or used)[0])}), "
            "which are not allowed",
            file=file,
            line=line,
            hint="remove the <!DOCTYPE ...> block from the SVG and write the text out in full",
        )


def _shown(value: str, limit: int = 60) -> str:
    """A value as a message may quote it: a data: URL by its type and size, long ones cut."""
    value = " ".join(value.split())
    if value[:5].lower() == "data:":
        head = value[5:].split(",", 1)[0][:40]
        return f"data:{head},… ({len(value):,} characters)"
    return value if len(value) <= limit else value[: limit - 1] + "…"


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
            return f"refers to `{_shown(outside)}` in its style"
    for attr, value in node.attrib.items():
        local = etree.QName(attr).localname
        if local.lower().startswith("on"):
            return f"has an event handler `{local}`"
        if local == "href" and not value.startswith("#") and not _is_data_image(node, value):
            return f"refers to `{_shown(value)}`"
        outside = _outside_reference(value, "declarations" if local == "style" else "value")
        if outside:
            return f"refers to `{_shown(outside)}`"
    return None


def _is_data_image(node: etree._Element, value: str) -> bool:
    """True for a data: URL in an <image>'s href (checked by check_data_image)."""
    return etree.QName(node).localname == "image" and value.lstrip()[:5].lower() == "data:"


def _embedded_images(node: etree._Element) -> list[str]:
    """The data: URLs of an SVG <image> element."""
    if not isinstance(node.tag, str):
        return []
    return [
        value
        for attr, value in node.attrib.items()
        if etree.QName(attr).localname == "href" and _is_data_image(node, value)
    ]


def check_data_image(url: str, where: str, *, file: str, line: int | None) -> None:
    """Check an image embedded as a data: URL (base64 PNG, JPEG, GIF or WebP) as a file is."""
    header, _, payload = url.strip().partition(",")
    media_type = header[5:].split(";")[0].strip().lower()
    hint = "embed a PNG or JPEG image (base64), or link the image as a file"
    if media_type not in RASTER_TYPES.values() or ";base64" not in header.lower():
        raise BuildError(
            f"{where} embeds an image of type `{_shown(media_type or header)}`, which is not "
            "supported (only base64 PNG, JPEG, GIF or WebP)",
            file=file,
            line=line,
            hint=hint,
        )
    try:
        data = base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise BuildError(
            f"{where} embeds an image whose base64 data is damaged", file=file, line=line, hint=hint
        ) from None
    label = f"{where}'s embedded {media_type.removeprefix('image/').upper()}"
    # A type that differs from the data's own is harmless: readers go by the data.
    _check_raster(io.BytesIO(data), label, file=file, line=line)


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

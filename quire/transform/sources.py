"""Images: alt text required, found as pandoc finds them, copied into the book."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree

from quire import images
from quire.css import check_stylesheets
from quire.errors import BuildError, Problem, warn
from quire.load.config import BookConfig
from quire.load.confine import Confinement, is_remote
from quire.load.manuscript import Manuscript, display_name
from quire.parse.pandoc import Parsed, stringify
from quire.transform.ast import iter_nodes, locate
from quire.transform.figures import is_pdf, pdf_figure
from quire.transform.model import Chapter
from quire.transform.structure import ascii_slug

IMAGE_MARK, ALT_MARK = "data-quire-image", "data-quire-alt"


IMG_ATTRIBUTES = {"src", "alt", "id", "class", "title", "width", "height", "style"}


MEDIA_SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
}


def mark_decorative_figures(figures: list[dict[str, Any]]) -> None:
    """Keep `![Caption](x.png){alt=""}` decorative: pandoc drops an empty alt inside a figure.

    The figures' images are changed in place; marking them a second time changes nothing.
    """
    for figure in figures:
        for image in (n for n in iter_nodes(figure["c"][2]) if n["t"] == "Image"):
            attr, alt = image["c"][0], image["c"][1]
            if not alt and "alt" not in dict(attr[2]):
                attr[2].append(["alt", ""])


ALT_GROUP = "images without alt text"
ALT_HINT = (
    "Quire built it as an image without a description (empty alt text), and the EPUB's"
    ' accessibility summary names it; describe it: ![What it shows](file) or {alt="..."}, or'
    ' write {alt=""} if it is decorative'
)
# The class an image without alt text carries in every output: the EPUB's accessibility
# metadata names these images, and the print layout draws them as it draws decorative ones.
UNDESCRIBED = "undescribed"


def images_without_alt(parsed: Parsed, found: list[dict[str, Any]]) -> list[Problem]:
    """Every Markdown image (of a file's, in order) without alt text; an explicit `alt=""`
    marks a decorative one. Remote images are reported where they are resolved."""
    problems = []
    for node in found:
        attr, alt, (src, _title) = node["c"]
        if dict(attr[2]).get("alt") is None and not stringify(alt).strip() and not is_remote(src):
            found = (locate(parsed.source, n) for n in (f"![]({src}", f"]({src}", src))
            line = next((n for n in found if n), None)
            problems.append(Problem(f"image `{src}` has no alt text", parsed.source.name, line))
    return problems


def raw_images_without_alt(chapter: Chapter) -> list[Problem]:
    """Every raw HTML <img> without an alt attribute (Markdown images are checked earlier)."""
    return [
        Problem(
            f"raw HTML image `{img.get('src', '')}` has no alt text",
            *chapter.where(img.get("src") or "<img"),
        )
        for img in chapter.body.iter("img")
        if img.get(IMAGE_MARK) is None
        and img.get("alt") is None
        and not is_remote(img.get("src", ""))
    ]


def report_missing_alt(problems: list[Problem]) -> None:
    """Warn of every image without alt text, each where it is; the book is built with them."""
    for problem in problems:
        warn(problem.message, file=problem.file, line=problem.line, hint=ALT_HINT, group=ALT_GROUP)


def marked_image(node: dict[str, Any]) -> dict[str, Any] | None:
    """A Markdown image marked, so that what pandoc writes as <embed> or <video> stays an
    image (a `walk` visitor); None for any other node."""
    if node["t"] != "Image":
        return None
    attr, alt, target = node["c"]
    keyvals = [*attr[2], [IMAGE_MARK, "1"], [ALT_MARK, stringify(alt)]]
    return {"t": "Image", "c": [[attr[0], attr[1], keyvals], alt, target]}


def restore_images(chapter: Chapter) -> None:
    """Markdown images become <img> again, whatever tag pandoc chose for their file's suffix."""
    for element in chapter.body.xpath(f".//*[@{IMAGE_MARK}]"):
        alt = element.attrib.pop(ALT_MARK, "")
        del element.attrib[IMAGE_MARK]
        if element.tag != "img":
            for child in list(element):
                element.remove(child)
            for name in set(element.attrib) - IMG_ATTRIBUTES:
                del element.attrib[name]
            element.tag, element.text = "img", None
            element.set("alt", element.get("alt", alt))
        _size_as_style(element)


def _size_as_style(image: etree._Element) -> None:
    """`{width=320px}` or `{height=5cm}`: pandoc writes a bare number as an attribute, which
    the PDF's layout would ignore; as a style it holds in every output."""
    rules = []
    for name in ("width", "height"):
        value = image.get(name)
        if value and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
            rules.append(f"{name}:{value.strip()}px")
            del image.attrib[name]
    if rules:
        style = image.get("style", "").rstrip("; ")
        image.set("style", ";".join([style, *rules]) if style else ";".join(rules))


def resolve_sources(
    chapter: Chapter,
    confinement: Confinement,
    assets: dict[Path, images.Asset],
    search: tuple[Path, ...] = (),
) -> None:
    """Check each image a chapter shows and point it at its copy in the book."""
    for element in chapter.body.xpath(".//*[@src or @srcset or @poster or @data]"):
        for name in ("srcset", "poster", "data"):
            if element.get(name):
                raise BuildError(
                    f"raw HTML attribute `{name}` is not supported",
                    file=chapter.source.name,
                    line=locate(chapter.source, name),
                    hint="use a Markdown image instead",
                )
        ref = element.get("src", "")
        file, line = chapter.where(ref)
        if ref.startswith("data:") or element.tag != "img":
            raise BuildError(
                f'<{element.tag} src="{ref[:40]}"> is not supported; only images from files',
                file=file,
                line=line,
                hint="save the image as a file in the book's folder and link to it",
            )
        if is_remote(ref) and not confinement.allow_remote:
            stand_in_for_remote(element, file, line)
            continue
        if element.get("alt") is None:
            _undescribed(element, is_remote(ref), file, line)
        if element.get("height") and not element.get("width"):
            _size_as_style(element)  # print.css's `height: auto` would override the attribute
        found = find_image(ref, chapter, confinement, search)
        path = pdf_figure(found, file=file, line=line) if is_pdf(found) else found
        if path not in assets:
            media_type, width, height = images.inspect(path, file=file, line=line)
            href = _unique_href(found, media_type, {a.href for a in assets.values()})
            assets[path] = images.Asset(path, href, media_type, width, height)
        element.set("src", assets[path].href)


def _undescribed(image: etree._Element, remote: bool, file: str, line: int | None) -> None:
    """An image without alt text: built with an empty one, and marked for the EPUB's summary.

    An empty alt keeps Ace and the tagged PDF clean (a missing one is a violation in both),
    but says "decorative"; the EPUB's accessibility metadata then says it is not, and claims no
    conformance. A remote one is reported here: it is only known to be fetched by now.
    """
    if remote:
        warn(
            f"image `{image.get('src')}` has no alt text",
            file=file,
            line=line,
            hint=ALT_HINT,
            group=ALT_GROUP,
        )
    image.set("alt", "")
    image.set("class", " ".join([*image.get("class", "").split(), UNDESCRIBED]))


def stand_in_for_remote(image: etree._Element, file: str, line: int | None) -> None:
    """A remote image the book did not opt in to fetch: never fetched, its alt text (or its
    address) stands in its place, as a link to it unless it already is in a link."""
    url, alt = image.get("src", ""), (image.get("alt") or "").strip()
    in_link = any(a.tag == "a" for a in image.iterancestors())
    stand_in = lxml.html.Element("span" if in_link else "a")
    if not in_link:
        stand_in.set("href", url)
    stand_in.text = alt or url
    stand_in.set("class", "remote-image")
    image.addprevious(stand_in)
    shown = "its alt text" if alt else "its address"
    warn(
        f"remote image not fetched: {url[:200]}",
        file=file,
        line=line,
        hint=f"Quire put {shown} in its place{'' if in_link else ', linked to it'}; download it"
        " into the book's folder and refer to it by a relative path (or set `allow-remote: true`"
        " in book.yaml to fetch remote images)",
        group="remote images not fetched",
    )
    _remove_keeping_tail(image)


def _remove_keeping_tail(element: etree._Element) -> None:
    """Remove an element; the text after it stays where it was."""
    parent, tail = element.getparent(), element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def find_image(
    ref: str, chapter: Chapter, confinement: Confinement, search: tuple[Path, ...]
) -> Path:
    """An image as pandoc finds it: beside the chapter's file, then in the book's root and
    resource-path (pandoc resolves from where it runs, usually the root)."""
    file, line = chapter.where(ref)
    first = confinement.resolve(ref, chapter.folders[0], file=file, line=line)
    if first.exists() or "://" in ref:
        return first
    for folder in (*chapter.folders[1:], *search):
        path = confinement.resolve(ref, folder, file=file, line=line)
        if path.exists():
            return path
    return first


def check_styles(styles: Path, confinement: Confinement) -> None:
    """The style sheets' url()s and @imports must stay in the book: no other files, no network."""
    check_stylesheets(styles, confinement, display_name(styles))


def check_book_styles(root: Path, styles: Path) -> None:
    """check_styles for the book's styles folder, and for styles/ beside the manuscript (where
    cover.css may be) if that is another one."""
    for folder in dict.fromkeys((styles, root / "styles")):
        if folder.is_dir():
            check_styles(folder, Confinement((root, styles)))


def _unique_href(path: Path, media_type: str, taken: set[str]) -> str:
    """images/<name> for an image in the EPUB, with the suffix of its real format.

    images/cover.* is the cover's (cover_asset, or the one Quire draws): a text image named
    cover, often the cover itself shown in a README, gets another name.
    """
    suffix = MEDIA_SUFFIXES.get(media_type, path.suffix.lower())
    if path.suffix.lower() in (".jpeg", ".jpg") and suffix == ".jpg":
        suffix = path.suffix.lower()
    stem = ascii_slug(path.stem) or "image"
    href, n = f"images/{stem}{suffix}", 1
    while href in taken or href.startswith("images/cover."):
        n += 1
        href = f"images/{stem}-{n}{suffix}"
    return href


COVER_SIZE = (1600, 2560)  # the size the e-book stores ask for (quire/cover.py draws this size)


def cover_asset(
    manuscript: Manuscript, config: BookConfig, confinement: Confinement
) -> images.Asset | None:
    """The book's cover image, checked; None (Quire draws a cover) if it names none it can use."""
    if not config.cover_image:
        return None
    file, line = config.origin_of("cover-image"), config.line_of("cover-image")
    path = confinement.resolve(config.cover_image, manuscript.root, file=file, line=line)
    if not path.exists():
        return _cover_drawn(f"cover image not found: {config.cover_image}", file, line)
    media_type, width, height = images.inspect(path, file=file, line=line)
    if media_type == images.SVG_TYPE:
        return _cover_drawn("the cover is an SVG image; a cover must be a JPEG or PNG", file, line)
    if width < COVER_SIZE[0] or height < COVER_SIZE[1]:
        warn(
            f"the cover is {width}×{height} pixels, under the {COVER_SIZE[0]}×{COVER_SIZE[1]}"
            " the stores ask for",
            file=file,
            line=line,
            hint="use a larger image; small covers look blurred in store listings",
        )
    return images.Asset(path, f"images/cover{path.suffix.lower()}", media_type, width, height)


def _cover_drawn(message: str, file: str, line: int | None) -> None:
    """A cover image Quire cannot use: the typographic cover it draws stands in its place."""
    warn(
        message,
        file=file,
        line=line,
        hint="Quire drew a cover from the title and authors instead; set `cover-image:` to a"
        f" JPEG or PNG of at least {COVER_SIZE[0]}×{COVER_SIZE[1]} pixels",
        group="cover images not used",
    )

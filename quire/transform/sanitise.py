"""Raw HTML made safe: no scripts, frames, plugins, handlers or file-loading styles.

It works on the chapter's element tree, so that each removal is reported at its line in the
manuscript (an allowlist cleaner over text, such as nh3, would lose those places). Besides the
elements and attributes that run or embed code, it removes SVG animations (`<animate
attributeName="href" values="javascript:…">` and `<set>` rewrite an attribute after any check of
it, and nothing in a book needs to move), the attributes that fetch or report on their own
(`ping`, `background`, `lowsrc`, `longdesc`, ...), and links to `data:` URLs (a page inside a
link, which EPUB forbids and a browser would open as a page of its own origin).
"""

from __future__ import annotations

import re

from lxml import etree

from quire.css import css_references
from quire.errors import BuildError, warn
from quire.load.confine import Confinement
from quire.transform.ast import locate
from quire.transform.model import Chapter

UNSAFE_ELEMENTS = ("script", "iframe", "object", "embed", "frame", "frameset", "applet", "base")


# Elements that belong in a page's <head>: the book's look comes from styles/, not from raw HTML.
HEAD_ELEMENTS = ("style", "link", "meta")


URL_LIKE = ("href", "src", "action", "formaction", "data", "poster", "srcset", "background")

# SVG's animation elements: each can set any attribute of its target (an href) after it is read.
SVG_ANIMATIONS = ("animate", "set", "animatemotion", "animatetransform", "animatecolor", "discard")

# The elements of HTML (the living standard); raw HTML's others (<center>, <font>, <blink>,
# made-up names) are not valid in an EPUB: their text is kept, the element unwrapped. SVG and
# MathML keep their own elements (the subtrees under <svg> and <math> are not looked at here).
_HTML_NAMES = (
    "a abbr address area article aside audio b bdi bdo blockquote body br button canvas caption "
    "cite code col colgroup data datalist dd del details dfn dialog div dl dt em embed fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe img "
    "input ins kbd label legend li link main map mark menu meta meter nav noscript object ol "
    "optgroup option output p picture pre progress q rp rt ruby s samp script search section "
    "select slot small source span strong style sub summary sup table tbody td template textarea "
    "tfoot th thead time title tr track u ul var video wbr svg math"
)
HTML_ELEMENTS = frozenset(_HTML_NAMES.split())

# Attributes that load or send something by themselves, and that no book needs.
FETCHING = ("ping", "background", "lowsrc", "dynsrc", "longdesc", "manifest", "codebase", "archive")


# Attributes HTML made obsolete for CSS, and the property each becomes (width and height
# only where the element has no attribute of that name: a table's, a cell's, not an image's).
PRESENTATIONAL = {"align": "text-align", "valign": "vertical-align", "bgcolor": "background-color",
                  "cellspacing": "border-spacing", "nowrap": "white-space",
                  "cellpadding": ""}  # fmt: skip
SIZED = ("width", "height")
TABLE_PARTS = ("table", "tr", "td", "th", "col", "colgroup", "thead", "tbody", "tfoot")
LINK_ELEMENTS = ("a",)  # the only elements whose href is a link (checked in resolve_links)


def drop_comments(body: etree._Element) -> None:
    """Remove HTML comments and processing instructions: notes to the author, not the reader."""
    for node in list(body.iter(etree.Comment, etree.ProcessingInstruction)):
        parent = node.getparent()
        if parent is None:
            continue
        if node.tail:  # the text after the comment stays where it was
            previous = node.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + node.tail
            else:
                parent.text = (parent.text or "") + node.tail
        parent.remove(node)


def sanitize(chapter: Chapter, confinement: Confinement) -> None:
    """Strip comments, scripts, frames, plugins and event handlers that raw HTML may bring in."""
    drop_comments(chapter.body)
    for element in list(chapter.body.iter(*UNSAFE_ELEMENTS, *HEAD_ELEMENTS)):
        _removed(
            chapter,
            f"raw HTML <{element.tag}>",
            f"<{element.tag}",
            "books may not run scripts or embed frames and plugins"
            if element.tag in UNSAFE_ELEMENTS
            else "the book's look comes from the CSS files in styles/",
        )
        element.drop_tree()
    for element in [e for e in chapter.body.iter() if _local(e.tag) in SVG_ANIMATIONS]:
        _removed(
            chapter,
            f"raw SVG <{_local(element.tag)}>",
            f"<{etree.QName(element).localname}",
            "a book's pages do not move: an animation could also change a link after it was "
            "checked",
        )
        element.drop_tree()
    _unwrap_unknown(chapter)
    for element in chapter.body.iter():
        if isinstance(element.tag, str):
            _sanitize_attributes(chapter, element, confinement)
            if element.tag in HTML_ELEMENTS:
                presentational_to_css(element)


def presentational_to_css(element: etree._Element) -> None:
    """HTML's obsolete presentational attributes (`<p align="center">`, `bgcolor`, a cell's
    `width`), which EPUB's HTML does not allow, as the CSS that says the same."""
    css = []
    obsolete = {*PRESENTATIONAL, *(SIZED if element.tag in TABLE_PARTS else ())}
    if element.tag == "img":
        obsolete.add("border")
    for name in [n for n in element.attrib if n in obsolete]:
        value = element.attrib.pop(name).strip()
        if name == "nowrap":
            css.append("white-space: nowrap")
        elif name == "cellpadding":
            continue  # no one property says it for every cell
        elif name == "align" and element.tag == "img" and value.lower() in ("left", "right"):
            css.append(f"float: {value.lower()}")
        elif name == "align" and element.tag == "table" and value.lower() == "center":
            css.append("margin-left: auto; margin-right: auto")
        elif name in ("width", "height", "border", "cellspacing") and re.fullmatch(
            r"\d+(\.\d+)?", value
        ):
            prop = {"border": "border-width", "cellspacing": "border-spacing"}.get(name, name)
            css.append(f"{prop}: {value}px")
        elif name in ("width", "height") and re.fullmatch(r"\d+(\.\d+)?%", value):
            css.append(f"{name}: {value}")
        elif name != "border" and re.fullmatch(r"[#\w-]{1,40}", value):
            css.append(f"{PRESENTATIONAL[name]}: {value.lower()}")
    if css:
        element.set("style", "; ".join(c for c in (*css, element.get("style")) if c))


def _unwrap_unknown(chapter: Chapter) -> None:
    """Unwrap elements that are not HTML (outside SVG and MathML), keeping their text."""
    unknown = []
    stack = [chapter.body]
    while stack:
        element = stack.pop()
        for child in element:
            name = _local(child.tag)
            if not name or name in ("svg", "math"):
                continue
            if name not in HTML_ELEMENTS:
                unknown.append(child)
            stack.append(child)
    for element in unknown:
        warn(
            f"raw HTML <{_local(element.tag)}> is not an HTML element",
            file=chapter.source.name,
            line=locate(chapter.source, f"<{_local(element.tag)}"),
            hint="Quire kept what it holds without it: an EPUB allows only HTML's elements",
            group="raw HTML elements unwrapped",
        )
        element.drop_tag()


def _removed(chapter: Chapter, what: str, needle: str, why: str) -> None:
    """Warn that raw markup was removed, at the line where `needle` first appears."""
    warn(
        f"{what} removed",
        file=chapter.source.name,
        line=locate(chapter.source, needle),
        hint=why,
    )


def _local(tag: object) -> str:
    """An element's or attribute's name without its namespace or prefix, in lower case."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def _sanitize_attributes(
    chapter: Chapter, element: etree._Element, confinement: Confinement
) -> None:
    """Drop event handlers and javascript: URLs; refuse styles and hrefs that reach for files."""
    for name in list(element.attrib):
        value = element.get(name, "")
        local = _local(name)
        if local.startswith("on") or (local in URL_LIKE and _is_script_url(value)):
            _removed(
                chapter,
                f"raw HTML attribute `{name}`",
                name,
                "event handlers and javascript: links do not belong in a book",
            )
            del element.attrib[name]
        elif local in FETCHING or (local == "href" and _is_data_url(value)):
            _removed(
                chapter,
                f"raw HTML attribute `{name}`",
                f"{name}=",
                "a book's pages load nothing by themselves, and links to data: URLs are not "
                "allowed in an EPUB",
            )
            del element.attrib[name]
        elif local == "style" and _style_references(chapter, value):
            _refuse_style_url(chapter, value, confinement)
        elif (
            local in ("href", "action", "formaction")
            and element.tag not in LINK_ELEMENTS
            and not value.startswith("#")
        ):
            raise BuildError(
                f'raw HTML <{element.tag} {name}="{value[:60]}"> is not supported',
                file=chapter.source.name,
                line=locate(chapter.source, value) or locate(chapter.source, name),
                hint="in raw HTML only <a href> may point elsewhere; use Markdown for images",
            )


def _is_script_url(value: str) -> bool:
    """True for javascript: and vbscript: URLs, however they are spaced or cased."""
    squeezed = re.sub(r"[\s\x00-\x1f]", "", value).lower()
    return squeezed.startswith(("javascript:", "vbscript:"))


def _is_data_url(value: str) -> bool:
    """True for a data: URL, however it is spaced or cased."""
    return re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith("data:")


def _refuse_style_url(chapter: Chapter, value: str, confinement: Confinement) -> None:
    """A raw HTML style attribute may not load files: say why, naming the reference."""
    ref = _style_references(chapter, value)[0].url.strip()
    line = locate(chapter.source, ref) or locate(chapter.source, "style=")
    if ref and not ref.startswith("#"):
        confinement.resolve(ref, chapter.source.path.parent, file=chapter.source.name, line=line)
    raise BuildError(
        f"raw HTML style `{value[:60]}` loads a file, which the book would not include",
        file=chapter.source.name,
        line=line,
        hint="use a Markdown image, or put the rule in a CSS file in styles/",
    )


def _style_references(chapter: Chapter, value: str) -> list:
    """What a raw HTML style attribute would load, as a CSS parser reads it (escapes and all)."""
    try:
        return css_references(value, "declarations")
    except ValueError as exc:
        raise BuildError(f"raw HTML style: CSS {exc}", file=chapter.source.name) from None

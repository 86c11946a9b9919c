"""SVG text and the book's fonts: refuse SVG text that a system font would draw.

WeasyPrint lays out an SVG's text with the document's @font-face fonts, so a family the book
ships is used; any other family, a generic one, or a character those families lack makes
fontconfig pick a system font, and the PDF would change from machine to machine.
"""

from __future__ import annotations

from pathlib import Path

import tinycss2
from lxml import etree

from quire.errors import BuildError
from quire.fonts import FontSet
from quire.images import SVG_NS

# CSS generic families: WeasyPrint asks fontconfig for these, which answers with system fonts.
_GENERIC_FAMILIES = frozenset(
    {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "emoji", "math"}
)
_SVG_TEXT = ("text", "tspan", "textPath")


def _svg_font_family(node: etree._Element) -> str | None:
    """The font-family an SVG element inherits: its own or its nearest ancestor's."""
    for element in (node, *node.iterancestors()):
        declared = _style_value(element.get("style", ""), "font-family")
        if declared or element.get("font-family"):
            return declared or element.get("font-family")
    return None


def _style_value(style: str, name: str) -> str | None:
    """The value of one property in a style attribute, parsed with tinycss2."""
    for item in tinycss2.parse_blocks_contents(style, skip_comments=True, skip_whitespace=True):
        if item.type == "declaration" and item.lower_name == name:
            return tinycss2.serialize(item.value).strip()
    return None


def _family_names(value: str) -> list[str]:
    """The family names of a font-family value, unquoted."""
    return [name.strip().strip("\"'").strip() for name in value.split(",") if name.strip()]


def check_svg_files(paths: list[Path], fonts: FontSet) -> None:
    """Refuse any SVG among paths whose text would need a system font (see check_svg_fonts)."""
    for path in paths:
        if path.suffix.lower() == ".svg":
            check_svg_fonts(path, fonts, name=path.name)


def check_svg_fonts(path: Path, fonts: FontSet, *, name: str) -> None:
    """Refuse SVG text that would be set in a font from the system instead of the book's.

    WeasyPrint lays out SVG text with the document's @font-face fonts, so a family the book
    ships is used; any other family, a generic one, or a character the named families lack
    makes fontconfig pick a system font, and the PDF would change from machine to machine.
    """
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    shipped = fonts.families()
    hint = f"set font-family on the SVG's text to fonts the book ships: {', '.join(shipped)}"
    for style in root.iter("{*}style"):
        if "font-family" in (style.text or ""):
            raise BuildError(
                "SVG sets fonts in a <style> element; Quire checks only font-family attributes",
                file=name,
                line=style.sourceline,
                hint=hint,
            )
    for node in root.iter(*(f"{{{SVG_NS}}}{tag}" for tag in _SVG_TEXT)):
        text = "".join(node.itertext())
        if not text.strip():
            continue
        value = _svg_font_family(node) or "(none: the system's sans-serif)"
        families = _family_names(value)
        where = f"<{etree.QName(node).localname}> “{text.strip()[:40]}”"
        foreign = [f for f in families if f not in shipped and f.lower() not in _GENERIC_FAMILIES]
        ours = [f for f in families if f in shipped]
        if foreign or not ours:
            raise BuildError(
                f"SVG text {where} is set in {value}, which is not a font the book ships",
                file=name,
                line=node.sourceline,
                hint=hint,
            )
        missing = FontSet(tuple(f for f in fonts.files if f.family in ours)).uncovered(text)
        if missing:
            raise BuildError(
                f"SVG text {where}: {', '.join(ours)} has no {missing[0]!r} "
                f"(U+{ord(missing[0]):04X}), so a system font would draw it",
                file=name,
                line=node.sourceline,
                hint=hint,
            )

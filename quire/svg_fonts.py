"""SVG text and the book's fonts: every SVG's text is set in the book's faces, never the system's.

WeasyPrint lays out an SVG's text with the document's @font-face fonts, so a family the book
ships is used; any other family, a generic one (`sans-serif`) or none at all makes fontconfig
pick a system font, and the PDF would change from machine to machine. So the print layout
reads each SVG through `for_print`, which names the book's families instead (a serif, sans-serif
or unknown family becomes the text family, a monospaced one the monospaced family, each followed
by the rest of the book's families), and `check_svg_text` warns, before the layout, about the
families it replaced that are not common names and the characters no font of the book has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tinycss2
from lxml import etree

from quire.errors import warn
from quire.fonts import FALLBACK_FAMILY, FontSet, describe_characters
from quire.images import SAFE_SVG_PARSER, SVG_NS
from quire.load.manuscript import display_name

_MONO_NAMES = frozenset(
    {
        "monospace", "ui-monospace", "courier", "courier new", "consolas", "menlo", "monaco",
        "lucida console", "lucida sans typewriter", "liberation mono", "source code pro",
        "fira code", "fira mono", "sf mono", "andale mono", "noto sans mono", "roboto mono",
        "ubuntu mono", "inconsolata", "jetbrains mono", "cascadia code", "dejavu sans mono",
    }
)  # fmt: skip
# Names an SVG editor writes without the author choosing a face: generic families and the
# faces of the usual systems. They become the book's text family without a word.
_COMMON_NAMES = _MONO_NAMES | frozenset(
    {
        "serif", "sans-serif", "cursive", "fantasy", "system-ui", "ui-serif", "ui-sans-serif",
        "ui-rounded", "emoji", "math", "fangsong", "-apple-system", "blinkmacsystemfont",
        "times", "times new roman", "timesnewromanpsmt", "georgia", "cambria", "garamond",
        "palatino", "palatino linotype", "book antiqua", "baskerville", "liberation serif",
        "dejavu serif", "noto serif", "arial", "arialmt", "helvetica", "helvetica neue",
        "verdana", "tahoma", "trebuchet ms", "calibri", "segoe ui", "open sans", "roboto",
        "lato", "liberation sans", "dejavu sans", "noto sans", "lucida grande", "lucida sans",
        "lucida sans unicode", "gill sans", "futura", "avenir", "inter", "source sans pro",
        "ubuntu", "cantarell", "fira sans", "arial unicode ms", "symbol",
    }
)  # fmt: skip
_SVG_TEXT = ("text", "tspan", "textPath")
_FONT_KEYWORDS = {
    "font-style": {"italic", "oblique"},
    "font-weight": {"bold", "bolder", "lighter", *(str(w) for w in range(100, 1000, 100))},
}
_SIZE_KEYWORDS = {"xx-small", "x-small", "small", "medium", "large", "x-large", "xx-large"}
_SIZE_KEYWORDS |= {"xxx-large", "smaller", "larger"}


@dataclass(frozen=True)
class SvgFonts:
    """The book's families as an SVG in print may name them (plain data, for the workers)."""

    families: tuple[str, ...]  # every family the book's fonts provide
    text: tuple[str, ...]  # the stack for text: the text family first
    mono: tuple[str, ...]  # the stack for monospaced text

    def stack(self, value: str | None) -> str:
        """A font-family value in the book's families: those of value the book has, in order,
        each other name as the text or monospaced family, then the rest of the stack."""
        if (value or "").strip().lower() in ("inherit", "initial", "unset"):
            return value.strip()
        names = _family_names(value or "")
        mono = bool(names) and names[0].lower() in _MONO_NAMES
        chosen: list[str] = []
        for name in names:
            if name in self.families:
                chosen.append(name)
            else:
                chosen.append((self.mono if name.lower() in _MONO_NAMES else self.text)[0])
        chosen += self.mono if mono else self.text
        # No space after the commas: WeasyPrint splits an SVG's font-family at commas and strips
        # quotes but not spaces from each name, so `, "Quire Fallback"` would name no font.
        return ",".join(_css_name(n) for n in dict.fromkeys(chosen))


def svg_fonts(fonts: FontSet) -> SvgFonts:
    """The book's families for SVG text: the text family, then the others in the FontSet's
    order and the fallback faces (as FALLBACK_FAMILY); monospaced text puts the monospaced
    family first. The shipped fallback faces have no name of their own in print."""
    main = fonts.main().families()
    mono = next((f for f in main if fonts.family(f).monospaced), None)
    text = next((f for f in main if f != mono), main[0])
    rest = tuple(f for f in main if f not in (text, mono))
    fallback = (FALLBACK_FAMILY,) if fonts.fallback_files() else ()
    own = tuple(dict.fromkeys(f.family for f in fonts.files if f.role == "book"))
    return SvgFonts(
        main + own,
        (text, *rest, *((mono,) if mono else ()), *fallback),
        ((mono,) if mono else ()) + (text, *rest, *fallback),
    )


def _family_names(value: str) -> list[str]:
    """The family names of a font-family value, unquoted."""
    return [name.strip().strip("\"'").strip() for name in value.split(",") if name.strip()]


def _css_name(name: str) -> str:
    """A family name as a CSS string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------- the SVG as the print layout reads it ----------


def for_print(data: bytes, fonts: SvgFonts) -> bytes:
    """An SVG's bytes with every font-family (attribute, style attribute, <style>, `font`
    shorthand) in the book's families, the root's default too, and no DOCTYPE."""
    root = etree.fromstring(data, SAFE_SVG_PARSER)
    for element in root.iter(etree.Element):
        if element.get("font-family") is not None:
            element.set("font-family", fonts.stack(element.get("font-family")))
        if "font" in element.get("style", ""):
            element.set("style", _declarations(element.get("style"), fonts))
        if etree.QName(element).localname == "style" and "font" in (element.text or ""):
            element.text = _sheet(element.text, fonts)
    if root.get("font-family") is None:  # the initial value is the system's sans-serif
        root.set("font-family", fonts.stack(None))
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def _declarations(css: str, fonts: SvgFonts) -> str:
    """A declaration list with font-family in the book's families and `font` spelt out."""
    out = []
    parsed = tinycss2.parse_blocks_contents(css, skip_comments=True, skip_whitespace=True)
    for item in parsed:
        if item.type != "declaration":
            out.append(tinycss2.serialize([item]))
            continue
        value = tinycss2.serialize(item.value).strip()
        important = " !important" if item.important else ""
        if item.lower_name == "font-family":
            out.append(f"font-family: {fonts.stack(value)}{important};")
        elif item.lower_name == "font":
            out.extend(f"{k}: {v}{important};" for k, v in _font_shorthand(item.value, fonts))
        else:
            out.append(f"{item.name}: {value}{important};")
    return " ".join(out)


def _font_shorthand(tokens: list, fonts: SvgFonts) -> list[tuple[str, str]]:
    """The `font` shorthand as longhands (WeasyPrint reads only `size family` of it)."""
    parts = [t for t in tokens if t.type != "whitespace"]
    longhands: list[tuple[str, str]] = []
    for index, token in enumerate(parts):
        text = tinycss2.serialize([token]).strip()
        if token.type in ("dimension", "percentage") or text.lower() in _SIZE_KEYWORDS:
            longhands.append(("font-size", text))
            rest = parts[index + 1 :]
            if rest and rest[0].type == "literal" and rest[0].value == "/":
                longhands.append(("line-height", tinycss2.serialize([rest[1]]) if rest[1:] else ""))
                rest = rest[2:]
            family = "".join(
                tinycss2.serialize([t]) if t.type != "literal" else t.value for t in rest
            )
            longhands.append(("font-family", fonts.stack(family)))
            return [(k, v) for k, v in longhands if v]
        for name, keywords in _FONT_KEYWORDS.items():
            if text.lower() in keywords:
                longhands.append((name, text))
    return [("font-family", fonts.stack(None))]  # no size: invalid, but keep our faces


def _sheet(css: str, fonts: SvgFonts) -> str:
    """A <style> element's style sheet with its rules' fonts in the book's families."""
    out = []
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type == "qualified-rule":
            body = _declarations(tinycss2.serialize(rule.content), fonts)
            out.append(f"{tinycss2.serialize(rule.prelude).strip()} {{ {body} }}")
        else:
            out.append(tinycss2.serialize([rule]))
    return "\n".join(out)


# ---------- what the author is told ----------


def check_svg_text(paths: list[Path], fonts: FontSet) -> None:
    """Warn, once per SVG, about the families its text names that the book does not have and
    that are no common name (set in the book's text family instead), and about the characters
    no font of the book has."""
    known = set(svg_fonts(fonts).families)
    for path in paths:
        if path.suffix.lower() != ".svg":
            continue
        root = etree.parse(str(path), SAFE_SVG_PARSER).getroot()
        name = display_name(path)
        unknown: dict[str, int | None] = {}
        for value, line in _family_values(root):
            for family in _family_names(value):
                if family not in known and family.lower() not in _COMMON_NAMES:
                    unknown.setdefault(family[:60], line)
        if unknown:
            names = ", ".join(f"`{family}`" for family in list(unknown)[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            warn(
                f"SVG text is set in {names}{more}, which the book does not have",
                file=name,
                line=next(iter(unknown.values())),
                hint=f"printed in {fonts.families()[0]}, the book's text font; name a font of "
                "the book (or add the font to the book's fonts/ folder)",
                group="SVG text in fonts the book does not have",
            )
        _check_characters(root, fonts, name)


def _family_values(root: etree._Element) -> list[tuple[str, int | None]]:
    """Every font-family value an SVG sets (attributes, style attributes, <style>), with its line."""
    found = []
    for element in root.iter(etree.Element):
        if element.get("font-family"):
            found.append((element.get("font-family"), element.sourceline))
        css = element.get("style", "")
        if etree.QName(element).localname == "style":
            css = element.text or ""
        if "font" in css:
            found += [(value, element.sourceline) for value in _css_families(css)]
    return found


def _css_families(css: str) -> list[str]:
    """The family lists a piece of CSS (declarations or a style sheet) sets."""
    families = []
    sheet = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    blocks = [r.content for r in sheet if r.type == "qualified-rule"] or [css]
    for block in blocks:
        block = block if isinstance(block, str) else tinycss2.serialize(block)
        for item in tinycss2.parse_blocks_contents(block, skip_comments=True, skip_whitespace=True):
            if item.type == "declaration" and item.lower_name in ("font", "font-family"):
                longhands = dict(_font_shorthand(item.value, _NAMES_ONLY))
                value = tinycss2.serialize(item.value) if item.lower_name == "font-family" else None
                families.append(value or longhands.get("font-family", ""))
    return families


class _Names:
    """A stand-in for SvgFonts that keeps family names as they are (to read them)."""

    def stack(self, value: str | None) -> str:
        return value or ""


_NAMES_ONLY = _Names()


def _check_characters(root: etree._Element, fonts: FontSet, name: str) -> None:
    """Warn once about the characters of the SVG's text that no font of the book has."""
    nodes = list(root.iter(*(f"{{{SVG_NS}}}{tag}" for tag in _SVG_TEXT)))
    missing = fonts.uncovered("".join("".join(node.itertext()) for node in nodes))
    if missing:
        first = next(n for n in nodes if missing[0] in "".join(n.itertext()))
        warn(
            f"SVG text has the {describe_characters(missing)}, which no font of the book has",
            file=name,
            line=first.sourceline,
            hint="it prints as a box; add a .ttf or .otf font that has it to the book's "
            "fonts/ folder",
            group="characters no font has",
        )

"""CSS as a CSS parser reads it: every URL a style sheet or a style attribute would load.

tinycss2 tokenises the way browsers and WeasyPrint do, so escapes (`\\75 rl(...)`,
`@\\69mport`), comments and `image-set()` cannot hide a reference from the check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tinycss2
from tinycss2 import ast

from quire.errors import BuildError
from quire.load.confine import Confinement, is_remote, read_file

# Functions whose string arguments are URLs of images (CSS Images 4).
IMAGE_FUNCTIONS = {"image-set", "-webkit-image-set", "image", "cross-fade", "-webkit-cross-fade"}
URL_FUNCTIONS = {"url", "src"}
NOT_FETCHED = {"namespace"}  # at-rules whose URL is a name, never loaded


@dataclass(frozen=True)
class Reference:
    """A URL a piece of CSS would load, the line it is on, and whether it is an @import."""

    url: str
    line: int
    is_import: bool = False
    malformed: bool = False  # a url( ) CSS cannot read, which a reader might still try to load


# The three forms CSS comes in, each read by its own tinycss2 entry point: a style sheet (a file,
# an SVG <style>), the declarations of a style attribute, and one value (an SVG `fill="url(...)"`).
PARSERS = {
    "sheet": lambda text: tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True),
    "declarations": lambda text: tinycss2.parse_blocks_contents(
        text, skip_comments=True, skip_whitespace=True
    ),
    "value": lambda text: tinycss2.parse_component_value_list(text, skip_comments=True),
}


def css_references(text: str, form: str = "sheet") -> list[Reference]:
    """Every URL a piece of CSS would load, with its line (1-based); ValueError if unreadable.

    `form` is what the text is: "sheet", "declarations" (a style attribute) or "value".
    """
    try:
        nodes = PARSERS[form](text)
    except RecursionError:  # tinycss2 recurses into nested blocks
        raise ValueError("nested too deeply to read") from None
    return list(_rule_references(nodes))


def _rule_references(nodes: list) -> Iterator[Reference]:
    """URLs among rules, declarations or values; an @import's first URL is the sheet it loads."""
    for node in nodes:
        if isinstance(node, ast.AtRule) and node.lower_at_keyword in NOT_FETCHED:
            continue
        if isinstance(node, ast.AtRule) and node.lower_at_keyword == "import":
            for ref in _value_references(node.prelude, bare_strings=True):
                yield Reference(ref.url, ref.line, is_import=True)
                break  # the first URL is the sheet; the rest are media queries
            continue
        yield from _value_references([node])


def _value_references(nodes: list, bare_strings: bool = False) -> Iterator[Reference]:
    """URLs among component values, walked without recursion (CSS may nest deeply)."""
    stack = [(list(nodes), bare_strings)]
    while stack:
        items, strings_are_urls = stack.pop()
        for node in items:
            if isinstance(node, ast.URLToken):
                yield Reference(node.value, node.source_line)
            elif isinstance(node, ast.ParseError) and node.kind == "bad-url":
                yield Reference("", node.source_line, malformed=True)
            elif isinstance(node, ast.StringToken) and strings_are_urls:
                yield Reference(node.value, node.source_line)
            elif isinstance(node, ast.FunctionBlock):
                name = node.lower_name
                urls = name in URL_FUNCTIONS or name in IMAGE_FUNCTIONS
                stack.append((node.arguments, urls))
            elif isinstance(node, ast.QualifiedRule | ast.AtRule):
                stack.append((node.prelude or [], False))
                stack.append((node.content or [], False))
            elif isinstance(
                node, ast.SquareBracketsBlock | ast.ParenthesesBlock | ast.CurlyBracketsBlock
            ):
                stack.append((node.content, False))
            elif isinstance(node, ast.Declaration):
                stack.append((node.value, False))


def check_stylesheet(
    css: Path, confinement: Confinement, *, shown: str, seen: frozenset[Path] = frozenset()
) -> None:
    """Refuse a style sheet that loads anything remote or outside the book, naming file:line."""
    text = read_file(css, "style", file=shown).decode("utf-8", "replace")
    try:
        references = css_references(text)
    except ValueError as exc:
        raise BuildError(f"CSS {exc}", file=shown, hint="simplify the style sheet") from None
    for ref in references:
        url = ref.url.strip()
        if ref.malformed:
            raise BuildError(
                "malformed url( ) in CSS",
                file=shown,
                line=ref.line,
                hint="quote the URL, like url('images/x.png')",
            )
        if not url or url.startswith("#") or url.lower().startswith("data:"):
            continue
        if is_remote(url):
            raise BuildError(
                f"remote resource refused: {url[:100]}",
                file=shown,
                line=ref.line,
                hint="style sheets may only use files in the book's folder or styles/; "
                "download it there",
            )
        target = confinement.resolve(url, css.parent, file=shown, line=ref.line)
        if ref.is_import and target.is_file() and target not in seen:
            check_stylesheet(target, confinement, shown=str(target), seen=seen | {css.resolve()})


def check_stylesheets(styles: Path, confinement: Confinement, shown: str) -> None:
    """Check every CSS file of a styles folder (and what each imports)."""
    for css in sorted(styles.rglob("*.css")):
        check_stylesheet(css, confinement, shown=f"{shown}/{css.relative_to(styles)}")

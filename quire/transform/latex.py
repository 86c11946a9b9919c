"""Raw LaTeX: the common commands translated, the rest dropped with a warning each."""

from __future__ import annotations

import re
from typing import Any

from quire.errors import warn
from quire.pandoc import Parsed
from quire.transform.ast import NodeIndex, walk
from quire.transform.lists import placeholder

PAGE_BREAKS = {"\\newpage", "\\clearpage", "\\pagebreak", "\\cleardoublepage"}
WORDS = {"\\LaTeX": "LaTeX", "\\TeX": "TeX", "\\LaTeXe": "LaTeX2e"}
LIST_COMMANDS = {
    "\\listoffigures": "list-of-figures",
    "\\listoftables": "list-of-tables",
    "\\tableofcontents": "table-of-contents",  # the print renderer puts its contents here
}
# Macro definitions: pandoc has already applied them to the math (its latex_macros extension).
MACRO_DEFINITION = re.compile(
    r"^\s*\\(newcommand|renewcommand|providecommand|def|let|"
    r"DeclareMathOperator)\b"
)
# The nodes translate_raw_latex looks at: raw TeX, and the paragraphs a page break splits.
RAW_KINDS = ("RawInline", "RawBlock")
VISITED_KINDS = frozenset({*RAW_KINDS, "Para", "Plain"})
_END = {"t": "End"}  # marks the end of a paragraph being split


def page_break() -> dict[str, Any]:
    """An empty block that print.css turns into a page break (div.page-break)."""
    return {"t": "Div", "c": [["", ["page-break"], []], []]}


def command(text: str) -> str:
    """A raw TeX snippet reduced to its command: `\\LaTeX{}` and `\\newpage ` are the same."""
    return text.strip().removesuffix("{}").strip()


def is_tex(node: dict[str, Any]) -> bool:
    """True for a raw TeX node, inline or block."""
    return node["t"] in ("RawInline", "RawBlock") and node["c"][0] in ("tex", "latex")


class Occurrences:
    """Finds the line of the n-th use of a snippet in a file, so each warning has its own."""

    def __init__(self, parsed: Parsed) -> None:
        self.source = parsed.source
        self.seen: dict[str, int] = {}

    def line(self, needle: str) -> int | None:
        """The line of the next unreported occurrence of `needle`."""
        start = self.seen.get(needle, 0)
        index = self.source.text.find(needle, start)
        if index < 0:
            index = self.source.text.find(needle)
        if index < 0:
            return None
        self.seen[needle] = index + len(needle)
        return self.source.text.count("\n", 0, index) + 1


def translate_raw_latex(parsed: Parsed, found: NodeIndex) -> list[Any]:
    """Page breaks, \\LaTeX and \\TeX translated; other raw TeX dropped with a warning each.

    `found` is the index of the file's nodes; the walk goes only where raw TeX or paragraphs are.
    """
    places = Occurrences(parsed)

    def visit(node: dict[str, Any]) -> Any:
        if node["t"] in ("Para", "Plain") and any(_is_break(n) for n in node["c"]):
            for inline in filter(_is_break, node["c"]):
                places.line(inline["c"][1])
            return _split_at_breaks(node)
        if not is_tex(node):
            return None
        name = command(node["c"][1])
        if name in WORDS:
            places.line(node["c"][1])
            return {"t": "Str", "c": WORDS[name]}
        if name in PAGE_BREAKS:
            if node["t"] == "RawInline":
                return None  # its paragraph is split around it, below
            places.line(node["c"][1])
            return page_break()
        if name in LIST_COMMANDS:
            places.line(node["c"][1])
            return placeholder(LIST_COMMANDS[name]) if node["t"] == "RawBlock" else []
        if MACRO_DEFINITION.match(name):
            places.line(node["c"][1])
            return []
        warn(
            f"raw LaTeX `{name[:40]}` dropped",
            file=parsed.source.name,
            line=places.line(node["c"][1]),
            hint="write it in Markdown; LaTeX is not printed in EPUB or PDF",
        )
        return []

    return walk(parsed.blocks, visit, VISITED_KINDS, found.paths_to(VISITED_KINDS))


def _is_break(node: Any) -> bool:
    return isinstance(node, dict) and is_tex(node) and command(node["c"][1]) in PAGE_BREAKS


def _split_at_breaks(paragraph: dict[str, Any]) -> list[Any]:
    """A paragraph with `\\newpage` inside: the text before, a page break, the text after."""
    result: list[Any] = []
    part: list[Any] = []
    for inline in [*paragraph["c"], _END]:
        if inline is _END or _is_break(inline):
            while part and part[-1]["t"] in ("Space", "SoftBreak"):
                part.pop()
            if part:
                result.append({"t": paragraph["t"], "c": part})
            result.append(page_break())
            part = []
        elif part or inline["t"] not in ("Space", "SoftBreak"):
            part.append(inline)
    return result[:-1]  # the sentinel's break

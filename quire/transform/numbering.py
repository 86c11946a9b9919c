"""Section numbers as pandoc's --number-sections gives them: 1, 1.1, 1.1.1…, across the book."""

from __future__ import annotations

from typing import Any

from quire.transform.ast import walk

NUMBER_CLASS = "header-section-number"  # the class pandoc's HTML writer gives the number


class SectionNumbers:
    """Numbers headings in reading order; the count runs on from one file to the next."""

    def __init__(self) -> None:
        self.counts = [0] * 6

    def number(self, blocks: list[Any]) -> list[Any]:
        """The blocks with a number before each heading's text, except {.unnumbered} ones."""
        return walk(blocks, self._visit)

    def _visit(self, node: dict[str, Any]) -> dict[str, Any] | None:
        if node["t"] != "Header":
            return None
        level, (ident, classes, attributes), inlines = node["c"]
        if "unnumbered" in classes:
            return None
        self.counts[level - 1] += 1
        self.counts[level:] = [0] * (6 - level)
        number = ".".join(str(n) for n in self.counts[:level])
        span = {"t": "Span", "c": [["", [NUMBER_CLASS], []], [{"t": "Str", "c": number}]]}
        attributes = [*attributes, ["number", number]]  # pandoc's data-number
        return {
            "t": "Header",
            "c": [level, [ident, classes, attributes], [span, {"t": "Space"}, *inlines]],
        }

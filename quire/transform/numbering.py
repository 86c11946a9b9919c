"""Section numbers as pandoc's --number-sections gives them: 1, 1.1, 1.1.1…, across the book."""

from __future__ import annotations

from typing import Any

NUMBER_CLASS = "header-section-number"  # the class pandoc's HTML writer gives the number


class SectionNumbers:
    """Numbers headings in reading order; the count runs on from one file to the next."""

    def __init__(self) -> None:
        self.counts = [0] * 6

    def numbered(self, heading: dict[str, Any]) -> dict[str, Any]:
        """The next heading, with its number before its text, unless it is {.unnumbered}."""
        level, (ident, classes, attributes), inlines = heading["c"]
        if "unnumbered" in classes:
            return heading
        self.counts[level - 1] += 1
        self.counts[level:] = [0] * (6 - level)
        number = ".".join(str(n) for n in self.counts[:level])
        span = {"t": "Span", "c": [["", [NUMBER_CLASS], []], [{"t": "Str", "c": number}]]}
        attributes = [*attributes, ["number", number]]  # pandoc's data-number
        return {
            "t": "Header",
            "c": [level, [ident, classes, attributes], [span, {"t": "Space"}, *inlines]],
        }

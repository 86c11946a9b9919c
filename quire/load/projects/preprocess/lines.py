"""Text put together from pieces of the author's files, with each line's place in them."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

Place = tuple[str, int]  # a file, as messages show it, and a line of it


class Lined:
    """Text being put together, with the place of each of its lines in the author's files."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.places: list[Place | None] = [None]  # one per line; None: no place yet
        self.empty = True  # nothing stands on the last line yet

    def add(self, text: str, places: Sequence[Place]) -> None:
        """Append `text`, whose n-th line stands at places[n] (one place per line)."""
        if not text:
            return
        first = text.split("\n", 1)[0]
        # A line takes the place of what stands first on it.
        if self.places[-1] is None or (self.empty and first):
            self.places[-1] = places[0]
        self.places.extend(places[1 : text.count("\n") + 1])
        self.empty = text.endswith("\n")
        self.parts.append(text)

    def add_made(self, text: str, place: Place) -> None:
        """Append text Quire made (a code fence), all at the directive's place."""
        self.add(text, [place] * (text.count("\n") + 1))

    def add_text(self, other: Lined) -> None:
        """Append text already put together, with its places."""
        self.add(other.text, [p or ("", 0) for p in other.places])

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class SourceText:
    """One file's text being expanded, with the line number in that file of each of its lines
    (an anchor's lines skip the markers of other anchors)."""

    text: str
    shown: str
    numbers: Sequence[int]
    starts: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.starts = [0, *(m.end() for m in re.finditer("\n", self.text))]

    def line(self, offset: int) -> int:
        """The line number of an offset of the text."""
        return self.numbers[bisect_right(self.starts, offset) - 1]

    def add(self, out: Lined, begin: int, end: int) -> None:
        """Append the text from `begin` to `end`, each line with its place."""
        first = bisect_right(self.starts, begin) - 1
        count = self.text.count("\n", begin, end)
        out.add(
            self.text[begin:end], [(self.shown, n) for n in self.numbers[first : first + count + 1]]
        )

"""The layout cache in <out>/.quire-cache/: laid-out units and folio sheets, keyed by content.

A unit's key is a hash of everything its layout depends on: its HTML (with the numbers it
prints), the style sheets, the font and image files it uses, the page settings (trim, gutter,
bleed, PDF variant) and the versions of Quire and WeasyPrint. Its start-page parity is not in
the key because every unit opens on a recto. An entry is trusted only if its record names the
format version and carries the digests of its own text and of its PDF: a truncated,
hand-edited or foreign entry is ignored with a warning and laid out again; so is anything in
the folder that is not a regular file within the cache's size cap (confine.py), which could
otherwise hang the build (a FIFO) or fill its memory (a link to /dev/zero). The entries are
kept and checked as cache_store.py keeps every cache's entries (signed with the user's key), and
what is read from them is range-checked: a unit's pages, anchors and messages must be of the
right types and within the unit's own pages, and the state's page counts within MAX_UNIT_PAGES
(a guess that large would make the first placement allocate every page it claims).

The renderer only reads the cache; what it would store travels in the Output
(cache_files) and is written by the packaging step with the other outputs.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from quire.cache_store import CacheStore, read_cache_file, signature, signed_right
from quire.cache_store import digest as content_digest
from quire.load.confine import file_digest as confined_digest
from quire.load.confine import kind_of
from quire.render.pdf.layout import PageFacts, UnitLayout

FORMAT = "quire-layout-cache 1"
# The most pages a unit's cached layout or the state's guess may claim: far over any chapter
# (a 300,000-word book prints about 1,000 pages in all), far under what would fill memory.
MAX_UNIT_PAGES = 20_000
MAX_NUMBERS = 1_000_000  # printed numbers the state may hold (one per cross-reference target)
SIDES = ("left", "right")
NUMERALS = ("arabic", "roman")
UNITS, SHEETS, STATE = "units", "sheets", "state.json"
__all__ = ["FORMAT", "SHEETS", "UNITS", "LayoutCache", "digest", "file_digest", "read_cache_file"]


def digest(*parts: str | bytes) -> str:
    """A content key: the hash of the parts, each length-prefixed so that none run together."""
    return content_digest(FORMAT, *parts)


def file_digest(path: Path) -> str:
    """The hash of a book's file, read in chunks within the size cap of its kind."""
    return confined_digest(path, kind_of(path), file=str(path))


class LayoutCache(CacheStore):
    """Reads cached layouts and collects the new ones for the packaging step to write."""

    def __init__(self, folder: Path | None) -> None:
        super().__init__(folder, FORMAT, "layout", "it will be laid out again")

    def _read(self, kind: str, key: str) -> tuple[dict, bytes] | None:
        """A record and its PDF, if both are there and intact; a damaged one is reported."""
        return self.read(kind, key, ".pdf")

    def _store(self, kind: str, key: str, record: dict, pdf: bytes) -> None:
        self.store(kind, key, record, pdf, ".pdf")

    def unit(self, key: str) -> UnitLayout | None:
        """A unit laid out before under this key."""
        found = self._read(UNITS, key)
        if found is None:
            return None
        record, pdf = found
        try:
            if not pdf.startswith(b"%PDF-") or not 0 < len(record["pages"]) <= MAX_UNIT_PAGES:
                raise ValueError("not a unit's PDF and pages")
            pages = [_page(p) for p in record["pages"]]
            layout = UnitLayout(
                _text(record["name"]), pdf, pages, _anchors(record["anchors"], len(pages)),
                {_text(k): _text(v) for k, v in record["fixes"].items()},
                bool(record["opening_found"]), bool(record["last_found"]),
                [(int(n), _text(m)) for n, m in record["messages"]], None,
                [(_text(n), _text(c)) for n, c in record["wide_tables"]],
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError):
            self.damaged("entry (its values are out of range)", f"{self.folder}/{UNITS}/{key}")
            return None
        self.use(UNITS, key)
        return layout

    def store_unit(self, key: str, layout: UnitLayout) -> None:
        """Keep a unit's layout for the next build."""
        record = asdict(layout)
        for name in ("pdf", "fetch_error", "lost", "text"):  # not kept: see UnitLayout
            record.pop(name, None)
        self._store(UNITS, key, record, layout.pdf)

    def sheet(self, key: str) -> tuple[bytes, list[int]] | None:
        """A folio sheet laid out before under this key."""
        found = self._read(SHEETS, key)
        if found is None:
            return None
        record, pdf = found
        try:
            pages = [int(n) for n in record.get("pages", [])]
            if not pdf.startswith(b"%PDF-") or not all(0 <= n < MAX_NUMBERS for n in pages):
                raise ValueError
        except (TypeError, ValueError):
            self.damaged("entry (its values are out of range)", f"{self.folder}/{SHEETS}/{key}")
            return None
        self.use(SHEETS, key)
        return pdf, pages

    def store_sheet(self, key: str, pdf: bytes, pages: list[int]) -> None:
        """Keep a folio sheet for the next build."""
        self._store(SHEETS, key, {"pages": pages}, pdf)

    def state(self) -> dict:
        """What the last build learnt (page counts and numbers), as a first guess; {} if none."""
        if self.folder is None or not (self.folder / STATE).exists():
            return {}
        try:
            state = json.loads(read_cache_file(self.folder / STATE))
            body = {k: v for k, v in state.items() if k != "check"}
            if state.get("format") != FORMAT:
                raise ValueError("made by another version of Quire")
            if not signed_right(state.get("check"), FORMAT, json.dumps(body, sort_keys=True)):
                raise ValueError("its contents do not match their signature")
            return _checked_state(body)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            self.damaged(f"state ({exc or 'its values are out of range'})", self.folder / STATE)
            return {}

    def store_state(self, state: dict) -> None:
        """Keep page counts and numbers as the next build's first guess, signed."""
        body = {"format": FORMAT, **state}
        check = signature(FORMAT, json.dumps(body, sort_keys=True))
        self.new[STATE] = json.dumps({**body, "check": check}, sort_keys=True).encode()


def _checked_state(state: dict) -> dict:
    """The state with its numbers and page counts checked: strings, and counts in range."""
    numbers, pages = state["numbers"], state.get("pages", {})
    if len(numbers) > MAX_NUMBERS or len(pages) > MAX_NUMBERS:
        raise ValueError("it holds too many values")
    numbers = {_text(k): _text(v) for k, v in numbers.items()}
    for count in pages.values():
        if not isinstance(count, int) or not 0 < count <= MAX_UNIT_PAGES:
            raise ValueError(f"a page count of {count!r} is out of range")
    return {**state, "numbers": numbers, "pages": {_text(k): v for k, v in pages.items()}}


def _page(facts: dict) -> PageFacts:
    """One page's facts from a cached record, each of its type."""
    side, blank, folio, first = facts["side"], facts["blank"], facts["folio"], facts["first"]
    if side not in SIDES or not isinstance(blank, bool):
        raise ValueError("a page's side")
    if folio is not None and (
        len(folio) != 2 or not isinstance(folio[0], str) or folio[1] not in NUMERALS
    ):
        raise ValueError("a page's folio")
    if first is not None and (len(first) != 2 or not isinstance(first[1], int) or first[1] < 0):
        raise ValueError("a page's start")
    return PageFacts(
        side, blank, _pair(folio), None if first is None else (_text(first[0]), first[1])
    )


def _anchors(anchors: dict, pages: int) -> dict[str, int]:
    """Element ids and the page each is on, every page within the unit's own."""
    found = {_text(k): v for k, v in anchors.items()}
    if not all(isinstance(v, int) and 0 <= v < pages for v in found.values()):
        raise ValueError("an anchor's page")
    return found


def _text(value: object) -> str:
    """A string of a cache record; anything else is a damaged entry."""
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _pair(value: list | None) -> tuple | None:
    return tuple(value) if value is not None else None

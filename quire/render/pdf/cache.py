"""The layout cache in <out>/.quire-cache/: laid-out units and folio sheets, keyed by content.

A unit's key is a hash of everything its layout depends on: its HTML (with the numbers it
prints), the style sheets, the font and image files it uses, the page settings (trim, gutter,
bleed, PDF variant) and the versions of Quire and WeasyPrint. Its start-page parity is not in
the key because every unit opens on a recto. An entry is trusted only if its record names the
format version and carries the digests of its own text and of its PDF: a truncated,
hand-edited or foreign entry is ignored with a warning and laid out again; so is anything in
the folder that is not a regular file within the cache's size cap (confine.py), which could
otherwise hang the build (a FIFO) or fill its memory (a link to /dev/zero). The entries are
kept and checked as cache_store.py keeps every cache's entries.

The renderer only reads the cache; what it would store travels in the Output
(cache_files) and is written by the packaging step with the other outputs.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from quire.cache_store import CacheStore, read_cache_file
from quire.cache_store import digest as content_digest
from quire.confine import file_digest as confined_digest
from quire.confine import kind_of
from quire.render.pdf.layout import PageFacts, UnitLayout

FORMAT = "quire-layout-cache 1"
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
            pages = [PageFacts(p["side"], p["blank"], _pair(p["folio"]), _pair(p["first"]))
                     for p in record["pages"]]  # fmt: skip
            layout = UnitLayout(
                record["name"], pdf, pages, dict(record["anchors"]), dict(record["fixes"]),
                record["opening_found"], record["last_found"],
                [tuple(m) for m in record["messages"]], None,
                [tuple(w) for w in record["wide_tables"]],
            )  # fmt: skip
        except (KeyError, TypeError, ValueError):
            self.damaged("entry", f"{self.folder}/{UNITS}/{key}")
            return None
        self.use(UNITS, key)
        return layout

    def store_unit(self, key: str, layout: UnitLayout) -> None:
        """Keep a unit's layout for the next build."""
        record = asdict(layout)
        del record["pdf"], record["fetch_error"], record["text"]
        self._store(UNITS, key, record, layout.pdf)

    def sheet(self, key: str) -> tuple[bytes, list[int]] | None:
        """A folio sheet laid out before under this key."""
        found = self._read(SHEETS, key)
        if found is None:
            return None
        record, pdf = found
        self.use(SHEETS, key)
        return pdf, [int(n) for n in record.get("pages", [])]

    def store_sheet(self, key: str, pdf: bytes, pages: list[int]) -> None:
        """Keep a folio sheet for the next build."""
        self._store(SHEETS, key, {"pages": pages}, pdf)

    def state(self) -> dict:
        """What the last build learnt (page counts and numbers), as a first guess; {} if none."""
        if self.folder is None or not (self.folder / STATE).exists():
            return {}
        try:
            state = json.loads(read_cache_file(self.folder / STATE))
            if state.get("format") != FORMAT or not isinstance(state.get("numbers"), dict):
                raise ValueError
            return state
        except (OSError, ValueError, AttributeError):
            self.damaged("state", self.folder / STATE)
            return {}

    def store_state(self, state: dict) -> None:
        """Keep page counts and numbers as the next build's first guess."""
        self.new[STATE] = json.dumps({"format": FORMAT, **state}, sort_keys=True).encode()


def _pair(value: list | None) -> tuple | None:
    return tuple(value) if value is not None else None

"""Entries of the build cache in <out>/.quire-cache/: a record and its payload, keyed by content.

The layout cache (render/pdf/cache.py) and pandoc's cache (pandoc.py, pandoc_html.py) keep
their entries the same way. An entry is two files, `<kind>/<key>.json` (its record) and
`<kind>/<key><suffix>` (its payload: a PDF, an AST, HTML). It is trusted only if its record
names the cache's format version and its own key, and carries the digest of its own text and
of its payload: a truncated, hand-edited or foreign entry is ignored with a warning and made
again; so is anything in the folder that is not a regular file within the cache's size cap
(confine.py), which could otherwise hang the build (a FIFO) or fill its memory (/dev/zero).

Stages only read the cache; what they would store is collected here (`new`), travels with
their results and is written by the packaging step, after the outputs (package.write_cache).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from quire import __version__
from quire.confine import read_file
from quire.errors import BuildError, warn
from quire.limits import size_limit


def digest(format_name: str, *parts: str | bytes) -> str:
    """A content key: the hash of the cache's format, Quire's version and the parts, each
    length-prefixed so that none run together."""
    hasher = hashlib.sha256()
    for part in (format_name, __version__, *parts):
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()


def read_cache_file(path: Path) -> bytes:
    """A cache file's bytes, read as confine.py reads a book's files: a regular file within the
    cache's size cap, never blocking; anything else raises ValueError (a damaged entry)."""
    try:
        return read_file(path, "cache", file=str(path))
    except BuildError as exc:
        raise ValueError(exc.problems[0].message) from None


class CacheStore:
    """Reads checked entries of one cache and collects new ones for the packaging step."""

    def __init__(self, folder: Path | None, format_name: str, name: str, remedy: str) -> None:
        self.folder = folder  # None: no cache (nothing read, entries still collected)
        self.format = format_name
        self.name = name  # "layout", "pandoc": how a warning names the cache
        self.remedy = remedy  # what is done instead, for a warning: "it will be laid out again"
        self.new: dict[str, bytes] = {}  # path inside the cache folder -> bytes
        self.used: set[str] = set()  # "<kind>/<key>" of the entries this build used or made

    def read(self, kind: str, key: str, suffix: str) -> tuple[dict, bytes] | None:
        """A record and its payload, if both are there and intact; a damaged one is reported."""
        if self.folder is None:
            return None
        record_path = self.folder / kind / f"{key}.json"
        if not record_path.exists():
            return None
        try:
            record = json.loads(read_cache_file(record_path))
            payload = read_cache_file(self.folder / kind / f"{key}{suffix}")
            body = {k: v for k, v in record.items() if k != "check"}
            if record.get("format") != self.format or record.get("key") != key:
                raise ValueError("made by another version of Quire")
            if record.get("check") != self.check(body, payload):
                raise ValueError("its contents do not match their checksum")
        except (OSError, ValueError, AttributeError) as exc:
            self.damaged(f"entry ({exc}); {self.remedy}", record_path)
            return None
        return record, payload

    def damaged(self, what: str, path: Path | str) -> None:
        """Warn of a damaged part of the cache, which is not used."""
        warn(f"ignoring a damaged {self.name} cache {what}", file=str(path))

    def store(self, kind: str, key: str, record: dict, payload: bytes, suffix: str) -> None:
        """Collect an entry for the packaging step to write; one too big to be read back (over
        the cache's size cap) is not kept, rather than warned of as damaged at every build."""
        body = {"format": self.format, "key": key, **record}
        text = json.dumps({**body, "check": self.check(body, payload)}, sort_keys=True).encode()
        if max(len(text), len(payload)) > size_limit("cache"):
            return
        self.new[f"{kind}/{key}.json"] = text
        self.new[f"{kind}/{key}{suffix}"] = payload
        self.use(kind, key)

    def use(self, kind: str, key: str) -> None:
        """Note an entry this build needs, so that the packaging step keeps it."""
        self.used.add(f"{kind}/{key}")

    def check(self, body: dict, payload: bytes) -> str:
        """The checksum of an entry's record (without its check) and payload."""
        return digest(self.format, json.dumps(body, sort_keys=True), payload)

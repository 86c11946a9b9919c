"""Entries of the build cache in <out>/.quire-cache/: a record and its payload, keyed by content.

The layout cache (render/pdf/cache.py) and pandoc's cache (parse/pandoc.py, parse/html.py) keep
their entries the same way. An entry is two files, `<kind>/<key>.json` (its record) and
`<kind>/<key><suffix>` (its payload: a PDF, an AST, HTML). It is trusted only if its record
names the cache's format version and its own key, and carries the digest of its own text and
of its payload, signed: a truncated, hand-edited or foreign entry is ignored with a warning and
made again; so is anything in the folder that is not a regular file within the cache's size cap
(confine.py), which could otherwise hang the build (a FIFO) or fill its memory (/dev/zero).

The signature is an HMAC with a key kept outside the out folder, a secret of the user made on
first use (`$XDG_CACHE_HOME/quire/key`, or `~/.cache/quire/key`, mode 0600): a cache entry
someone else wrote (a pull request that adds one, an out folder shared between users) cannot
be made to pass, however its checksum is recomputed. Without a usable key, the build uses one
of its own, and the cache only lasts the build. Readers still range-check what they take from
an entry, against the book.

Stages only read the cache; what they would store is collected here (`new`), travels with
their results and is written by the packaging step, after the outputs (package.write_cache).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path

from quire import __version__
from quire.errors import BuildError, warn
from quire.load.confine import read_file
from quire.load.limits import size_limit


def digest(format_name: str, *parts: str | bytes) -> str:
    """A content key: the hash of the cache's format, Quire's version and the parts, each
    length-prefixed so that none run together."""
    hasher = hashlib.sha256()
    for part in (format_name, __version__, *parts):
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()


def signature(format_name: str, *parts: str | bytes) -> str:
    """An entry's signature: the HMAC, under the user's key, of what `digest` hashes."""
    signer = hmac.new(user_key(), digestmod=hashlib.sha256)
    for part in (format_name, __version__, *parts):
        data = part.encode() if isinstance(part, str) else part
        signer.update(len(data).to_bytes(8, "big") + data)
    return signer.hexdigest()


def signed_right(value: object, format_name: str, *parts: str | bytes) -> bool:
    """True if `value` is the signature of these parts (compared in constant time)."""
    return isinstance(value, str) and hmac.compare_digest(value, signature(format_name, *parts))


def key_path() -> Path:
    """Where the user's cache key is kept: in the user's cache folder, never in an out folder."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "quire" / "key"


KEY_BYTES = 32


@functools.cache
def user_key() -> bytes:
    """The user's secret for signing cache entries, made on first use (0600, no links followed);
    a key of this process alone, with a warning, where none can be read or made."""
    path = key_path()
    try:
        try:
            return _read_key(path)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = secrets.token_bytes(KEY_BYTES)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            with os.fdopen(os.open(path, flags, 0o600), "wb") as stream:
                stream.write(key)
            return key
    except FileExistsError:  # another build made it first
        return _read_key(path)
    except (OSError, ValueError) as exc:
        warn(
            f"cannot use the cache key {path} ({getattr(exc, 'strerror', None) or exc})",
            hint="the cache is kept for this build only; remove the file to have Quire make it",
            group="cache entries dropped",
        )
        return secrets.token_bytes(KEY_BYTES)


def _read_key(path: Path) -> bytes:
    """The key in `path`: a regular file of this user, readable by no one else, of KEY_BYTES."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    with os.fdopen(os.open(path, flags), "rb") as stream:
        facts = os.fstat(stream.fileno())
        if not stat.S_ISREG(facts.st_mode) or facts.st_uid != os.getuid():
            raise ValueError("not a regular file of this user")
        if facts.st_mode & 0o077:
            raise ValueError("others may read it")
        key = stream.read(KEY_BYTES + 1)
    if len(key) != KEY_BYTES:
        raise ValueError(f"not {KEY_BYTES} bytes")
    return key


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
            if not self.checked(record.get("check"), body, payload):
                raise ValueError("its contents do not match their signature")
        except (OSError, ValueError, AttributeError) as exc:
            self.damaged(f"entry ({exc})", record_path)
            return None
        return record, payload

    def damaged(self, what: str, path: Path | str) -> None:
        """Warn of a damaged part of the cache, which is not used (and is made again)."""
        warn(
            f"ignoring a damaged {self.name} cache {what}",
            file=str(path),
            hint=self.remedy,
            group="cache entries dropped",
        )

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
        """The signature of an entry's record (without its check) and payload."""
        return signature(self.format, json.dumps(body, sort_keys=True), payload)

    def checked(self, check: object, body: dict, payload: bytes) -> bool:
        """True if `check` is the signature of this record and payload."""
        return signed_right(check, self.format, json.dumps(body, sort_keys=True), payload)

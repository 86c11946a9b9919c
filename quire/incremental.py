"""Nothing changed, nothing done: a build whose inputs are the last build's returns at once.

The inputs are the bytes of every file of the manuscript's folder and its styles (not hidden
ones, nor the output folder), the formats asked for, the layout mode and Quire's version. The
record of the last build (in the cache folder) holds their digest and the digest of each file
written; a build is skipped only if both still match, so an output edited or deleted since is
made again. The record and the outputs it names are read as confine.py reads a book's files
(regular files only, never blocking, the record within the cache's size cap), so a FIFO or a
link to a device in their place means "build", never a hang. The record is signed with the
user's cache key (cache_store.py) and each of its values checked: one written by anyone else,
or with a value of the wrong kind, is no record.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

from quire import __version__
from quire.cache_store import signature, signed_right
from quire.errors import BuildError
from quire.load.confine import file_digest, kind_of, read_file
from quire.load.manuscript import MARKDOWN_SUFFIXES, Manuscript

RECORD = "build.json"
RECORD_FORMAT = "quire-build-record 1"
BIBLIOGRAPHY_SUFFIXES = {".bib", ".bibtex", ".json", ".csl", ".ris", ".xml"}


def input_digest(
    manuscript: Manuscript, formats: tuple[str, ...], out: Path, used: tuple[str, ...] = ()
) -> str:
    """The digest of everything a build reads, to tell whether anything changed.

    A book kept as folders is every file of its folder. A single file often sits in a folder
    of other things (a repository, a home folder): it is the file, the names in its folder,
    and the files the last build of it read or looked for (`used`, from its record); any new
    reference changes the file itself."""
    hasher = hashlib.sha256(f"{RECORD_FORMAT}|{__version__}|{','.join(formats)}".encode())
    hasher.update(os.environ.get("QUIRE_PDF_LAYOUT", "").encode())
    out = out.resolve()
    folders = (manuscript.styles,) if manuscript.single_file else (manuscript.root,)
    for folder in dict.fromkeys((*folders, manuscript.styles)):
        for path in sorted(_files(folder, out)):
            hasher.update(str(path.relative_to(folder)).encode() + b"\0")
            hasher.update(_input_file_digest(path).encode() + b"\0")
    if manuscript.single_file:
        # The names in its folder and in each folder it read from: a book.yaml, a fonts/
        # folder or a font in it added is read by the next build.
        for folder in sorted({"", *(str(Path(u).parent) for u in used if "/" in u)}):
            hasher.update(folder.encode() + b"\0" + _names(manuscript.root / folder) + b"\1")
        for name in sorted({*used, *(f.path.name for f in manuscript.files)}):
            path = manuscript.root / name
            found = _input_file_digest(path) if os.path.lexists(path) else "missing"
            hasher.update(f"{name}\0{found}\0".encode())
    return hasher.hexdigest()


def _names(folder: Path) -> bytes:
    """The names of a folder's entries (not hidden ones), or why there are none."""
    try:
        return "\0".join(sorted(n for n in os.listdir(folder) if not n.startswith("."))).encode()
    except OSError as exc:
        return f"unlisted: {exc.errno}".encode()


def used_by_last_build(cache: Path) -> tuple[str, ...]:
    """The files (inside the book's folder) the last build read or looked for, from its record."""
    try:
        data = json.loads(read_file(cache / RECORD, "cache", file=str(cache / RECORD)))
        uses = data.get("uses", [])
        return tuple(u for u in uses if isinstance(u, str) and ".." not in Path(u).parts)
    except (BuildError, OSError, ValueError, AttributeError):
        return ()


def used_files(root: Path, touched: set[Path], out: Path) -> list[str]:
    """The touched paths inside the book's folder (not its outputs), relative to it."""
    root, out = Path(os.path.abspath(root)), Path(os.path.abspath(out))
    return sorted(
        str(p.relative_to(root))
        for p in touched
        if p.is_relative_to(root) and not p.is_relative_to(out)
    )


def _input_file_digest(path: Path) -> str:
    """A file's digest, read in chunks within the size cap of its kind; for anything else (a
    FIFO, a loop, a file over its cap) why it was not read. A file the book uses is refused
    with that same reason by the stage that reads it, so no build of it is ever recorded."""
    try:
        return file_digest(path, _kind(path), file=str(path))
    except BuildError as exc:
        return f"not read: {exc}"
    except OSError as exc:
        return f"unreadable: {exc.errno}"


def _kind(path: Path) -> str:
    """The size-cap kind of a file in a book's folder, from its suffix."""
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return "chapter"
    if suffix in (".yaml", ".yml"):
        return "settings"
    return "bibliography" if suffix in BIBLIOGRAPHY_SUFFIXES else kind_of(path)


def _files(folder: Path, out: Path) -> list[Path]:
    found = []
    for base, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and Path(base, d).resolve() != out]
        found += [Path(base, f) for f in files if not f.startswith(".")]
    return found


def unchanged(cache: Path, inputs: str) -> list[dict] | None:
    """The files the last build wrote, if its inputs were these and the files are as written."""
    try:
        record = json.loads(read_file(cache / RECORD, "cache", file=str(cache / RECORD)))
        if record.get("format") != RECORD_FORMAT or record.get("inputs") != inputs:
            return None
        body = {k: v for k, v in record.items() if k != "check"}
        if not signed_right(record.get("check"), RECORD_FORMAT, json.dumps(body, sort_keys=True)):
            return None
        for item in record["written"]:
            if not _sane(item) or output_digest(Path(item["path"])) != item["sha256"]:
                return None
        return record["written"]
    except (BuildError, OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no record, or a damaged one: build


def _sane(item: dict) -> bool:
    """True if a recorded output's values are of their kinds and in range."""
    pages, notes, bleed = item["pages"], item["notes"], item["bleed"]
    return (
        isinstance(item["path"], str) and isinstance(item["format"], str)
        and isinstance(item["sha256"], str)
        and isinstance(item["size"], int) and item["size"] >= 0
        and (pages is None or isinstance(pages, int) and pages >= 0)
        and isinstance(notes, list) and all(isinstance(n, str) for n in notes)
        and isinstance(bleed, int | float) and 0 <= bleed < 1
    )  # fmt: skip


def output_digest(path: Path) -> str:
    """The digest of an output as it is on disk: a file's bytes, or a site folder's files."""
    if not path.is_dir():
        return _file_digest(path)
    hasher = hashlib.sha256(b"folder\0")
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        hasher.update(str(item.relative_to(path)).encode() + b"\0")
        hasher.update(bytes.fromhex(_file_digest(item)))
    return hasher.hexdigest()


def _file_digest(path: Path) -> str:
    """The sha256 of a regular file, read in chunks; OSError for anything else (a FIFO, a
    device), which a record may name if someone put it there: the build then runs."""
    with open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NONBLOCK)) as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise OSError(f"{path} is not a regular file")
        return hashlib.file_digest(stream, "sha256").hexdigest()


def record(
    inputs: str,
    written: list[tuple[Path, str, int, int | None, tuple[str, ...]]],
    bleed: float,
    uses: list[str] | None = None,
) -> bytes:
    """The record of a build: its inputs' digest and each output written (path, format, size,
    pages, notes), read back from disk, with the PDF's bleed for `--check`."""
    items = [
        {"path": str(path.resolve()), "format": fmt, "sha256": output_digest(path),
         "size": size, "pages": pages, "notes": list(notes), "bleed": bleed}
        for path, fmt, size, pages, notes in written
    ]  # fmt: skip
    kept = {"format": RECORD_FORMAT, "inputs": inputs, "written": items, "uses": uses or []}
    check = signature(RECORD_FORMAT, json.dumps(kept, sort_keys=True))
    return json.dumps({**kept, "check": check}).encode()

"""Package stage: every output of a build is written together, or none of them is.

Each output is first written beside its place under a name only Quire makes, with its process
id (`.quire-<pid>-<name>.part`). Only when all of them are on disk are they renamed into place,
one after another; the file or folder each replaces is kept as `.quire-<pid>-<name>.old` until
all renames have succeeded, so that a failure part-way puts every earlier one back.

Quire replaces or removes only what it wrote: every output written is listed in the out
folder's manifest (`.quire-manifest.json`, a site folder with each file in it), written with the
outputs, and a path that is in the way and not listed (a file someone else put there, a folder
holding a book) is refused by name before anything is written. Nothing is removed or written
through a link: the cache folder, its subfolders and the manifest must not be symlinks.

The build cache (<out>/.quire-cache/: pandoc's work, the PDF's layouts, the build record) is
written after the outputs, by write_cache.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from quire import press
from quire.cache_store import signature, signed_right
from quire.errors import BuildError
from quire.load.config import Trim
from quire.load.confine import read_file
from quire.render import Output

CACHE_FOLDER = ".quire-cache"
MANIFEST = ".quire-manifest.json"
MANIFEST_FORMAT = "quire-manifest 1"
# Files whose presence makes a folder a book's (or a project's), never an output to replace.
BOOK_FILES = ("book.yaml", "book.yml", "book.toml", "SUMMARY.md")
OWN_TEMP = re.compile(r"^\.quire-(?P<pid>\d+)-(?P<name>.+)\.(?P<kind>part|old)$")


@dataclass(frozen=True)
class Written:
    """A file the build wrote."""

    path: Path
    format: str
    size: int
    pages: int | None
    notes: tuple[str, ...]
    trim: Trim | None = None  # for a PDF: the page size it must have, for `--check`
    bleed: float = 0.0  # for a PDF: inches of bleed on each side
    printer: str | None = None  # for the print kit: the profile `--check` applies
    paper: str | None = None


def check_output_folder(out: Path) -> None:
    """Refuse an output folder that cannot be one, before any work is done."""
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                raise _output_error(folder, "is a file, not a folder", "choose an output folder")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise _output_error(
                    folder, "this folder cannot be written to", "choose a folder you can write to"
                )
            break
    for link in _links_in_cache(out):
        raise _output_error(
            link,
            "is a symlink, and Quire never writes or deletes through a link",
            "remove the link (Quire makes its cache again) or choose another folder",
        )


def _links_in_cache(out: Path) -> list[Path]:
    """The cache folder, the manifest and the cache's subfolders, where any is a symlink.

    (A link in place of a cache file is only a damaged entry: it is replaced or unlinked, never
    written through, and read as confine.py reads; a link to a folder would be written into.)"""
    cache = out / CACHE_FOLDER
    links = [p for p in (cache, out / MANIFEST) if p.is_symlink()]
    if cache.is_dir() and not cache.is_symlink():
        with contextlib.suppress(OSError):
            links += [e for e in sorted(cache.iterdir()) if e.is_symlink() and e.is_dir()]
    return links


def _output_error(path: Path, message: str, what_to_do: str) -> BuildError:
    return BuildError(message, file=str(path), hint=f"{what_to_do} with --out", kind="output")


def package(out: Path, slug: str, fingerprint: str, outputs: dict[str, Output]) -> list[Written]:
    """Write the book's outputs, and the page map that EPUB-only builds reuse, all or nothing."""
    names = {fmt: output_name(slug, fmt) for fmt in outputs}
    with tempfile.TemporaryDirectory(prefix="quire-site-") as staging:
        files: dict[str, bytes | Path] = {
            names[fmt]: _site_folder(o.files, Path(staging) / fmt) if o.files else o.data
            for fmt, o in outputs.items()
        }
        pdf = outputs.get("pdf")
        if pdf is not None and pdf.page_starts:
            starts = [s.__dict__ for s in pdf.page_starts]
            check = page_map_signature(fingerprint, starts)
            cache = json.dumps({"fingerprint": fingerprint, "starts": starts, "check": check})
            files[f"{CACHE_FOLDER}/{slug}.pages.json"] = cache.encode()
        write_outputs(out, files)
    return [
        Written(out / names[fmt], fmt, _size(o), o.pages, o.notes) for fmt, o in outputs.items()
    ]


def page_map_signature(fingerprint: str, starts: list[dict]) -> str:
    """The signature of a PDF's page map (cache_store.py), for the EPUB-only build that reads it."""
    return signature("quire-page-map", fingerprint, json.dumps(starts, sort_keys=True))


def page_map_signed(data: dict) -> bool:
    """True if a page map read back from the cache is one this user's Quire wrote."""
    return signed_right(
        data.get("check"), "quire-page-map", data["fingerprint"],
        json.dumps(data["starts"], sort_keys=True),
    )  # fmt: skip


def _site_folder(files: dict[str, bytes], folder: Path) -> Path:
    """A site's files (relative path → bytes) laid out in a folder, for write_outputs to copy."""
    for name, data in sorted(files.items()):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def _size(output: Output) -> int:
    return sum(map(len, output.files.values())) if output.files else len(output.data)


def output_name(slug: str, fmt: str) -> str:
    """The name of one output: `<slug>.pdf`, `<slug>.epub`, `<slug>-interior.pdf`, the site `<slug>/`."""
    if fmt == "html":
        return f"{slug}/"
    return press.file_name(slug, fmt) if fmt in press.PRESS_FORMATS else f"{slug}.{fmt}"


def write_outputs(out: Path, files: dict[str, bytes | Path]) -> None:
    """Put every output in place under `out`, or, if any cannot be, leave `out` as it was.

    `files` maps a relative name (`book.pdf`, `.quire-cache/book.pages.json`, `book/`) to the
    bytes of a file or to a finished folder, which is copied in whole.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(
            out, f"cannot create the folder: {exc.strerror}", "choose a folder"
        ) from None
    targets = [_Target(out, name.rstrip("/"), content) for name, content in files.items()]
    for folder in {t.path.parent for t in targets}:
        remove_own_leftovers(folder)
    for target in targets:
        target.check_place()
    owned = read_manifest(out) or _recorded_before(out, targets)
    for target in targets:
        target.check_owned(owned.get(target.name))
    targets.append(_Target(out, MANIFEST, _manifest(out, owned, targets)))
    targets[-1].check_place()
    try:
        for target in targets:
            target.stage()
        _swap_in(targets)
    finally:
        for target in targets:
            _remove(target.temp)


@dataclass
class _Target:
    """One output: where it goes, what it holds, and its temporary and backup names."""

    out: Path
    name: str
    content: bytes | Path

    @property
    def path(self) -> Path:
        return self.out / self.name

    @property
    def temp(self) -> Path:
        return self.path.parent / f".quire-{os.getpid()}-{self.path.name}.part"

    @property
    def backup(self) -> Path:
        return self.path.parent / f".quire-{os.getpid()}-{self.path.name}.old"

    @property
    def is_folder(self) -> bool:
        return isinstance(self.content, Path)

    def check_place(self) -> None:
        """Refuse, before anything is written, a place taken by the wrong kind of thing."""
        for parent in reversed(self.path.relative_to(self.out).parents[:-1]):
            folder = self.out / parent
            if os.path.lexists(folder) and (folder.is_symlink() or not folder.is_dir()):
                raise self._error(folder, "is a file or a link, but Quire keeps a folder there")
        taken = os.path.lexists(self.path)
        if taken and self.path.is_dir() and not self.path.is_symlink() and not self.is_folder:
            raise self._error(self.path, "is a folder, but the build writes a file there")
        if taken and self.is_folder and not self.path.is_dir():
            raise self._error(self.path, "is a file, but the build writes a folder there")

    def check_owned(self, entry: dict | None) -> None:
        """Refuse to replace what Quire did not write: a path not in the manifest, a folder
        holding a book or any file not listed as written there (the cache is Quire's own)."""
        if not os.path.lexists(self.path) or self.name.startswith(f"{CACHE_FOLDER}/"):
            return
        if self.is_folder and self.path.is_dir() and not self.path.is_symlink():
            book = next((f for f in BOOK_FILES if os.path.lexists(self.path / f)), None)
            if book:
                raise self._foreign(f"is a book's folder (it holds {book}), not Quire's output")
        if entry is None or entry.get("folder", False) != self.is_folder:
            raise self._foreign("is not a file Quire wrote, and the build would replace it")
        if self.is_folder:
            written = set(entry["files"])
            stranger = next((f for f in _files_in(self.path) if f not in written), None)
            if stranger:
                raise self._foreign(f"holds {stranger}, which Quire did not write")

    def _foreign(self, message: str) -> BuildError:
        return BuildError(
            message,
            file=str(self.path),
            hint=f"Quire replaces only what it wrote (listed in {MANIFEST}): move it out of "
            "the way, or choose another folder with --out",
            kind="output",
        )

    def stage(self) -> None:
        """Write the content to the temporary name, flushed to disk."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(self.content, Path):
                shutil.copytree(self.content, self.temp, symlinks=False)
            else:
                _write_file(self.temp, self.content)
        except OSError as exc:
            raise self._error(self.path, f"cannot be written: {exc.strerror}") from None

    def _error(self, path: Path, message: str) -> BuildError:
        return BuildError(
            message,
            file=str(path),
            hint="move it out of the way, free some space, or choose another folder with --out",
            kind="output",
        )


def read_manifest(out: Path) -> dict[str, dict]:
    """What earlier builds wrote in `out` (relative name -> entry); {} if no manifest is there or
    it cannot be read, so that nothing is taken for Quire's that is not listed."""
    path = out / MANIFEST
    if not os.path.lexists(path):
        return {}
    try:
        manifest = json.loads(read_file(path, "cache", file=str(path)))
        if manifest.get("format") != MANIFEST_FORMAT:
            return {}
        outputs = manifest["outputs"]
        return {
            str(name): {"folder": bool(e.get("folder")), "files": [str(f) for f in e["files"]]}
            for name, e in outputs.items()
        }
    except (BuildError, OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _recorded_before(out: Path, targets: list[_Target]) -> dict[str, dict]:
    """For an out folder built before Quire kept a manifest: the outputs in the way that the
    last build's record names with the digest they still have (what that build wrote, as it
    wrote it), so that upgrading Quire does not refuse them."""
    from quire.incremental import RECORD, output_digest

    path = out / CACHE_FOLDER / RECORD
    try:
        written = json.loads(read_file(path, "cache", file=str(path)))["written"]
        digests = {str(item["path"]): str(item["sha256"]) for item in written}
    except (BuildError, OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    owned = {}
    for target in targets:
        place = str(target.path.resolve()) if os.path.lexists(target.path) else ""
        with contextlib.suppress(OSError):
            if place in digests and output_digest(target.path) == digests[place]:
                files = _files_in(target.path) if target.is_folder else []
                owned[target.name] = {"folder": target.is_folder, "files": files}
    return owned


def _manifest(out: Path, owned: dict[str, dict], targets: list[_Target]) -> bytes:
    """The manifest after this build: what is still there of earlier builds' outputs, and this
    build's (each site folder with the files in it)."""
    entries = {name: e for name, e in owned.items() if os.path.lexists(out / name)}
    for target in targets:
        if target.name.startswith(f"{CACHE_FOLDER}/"):
            continue
        if isinstance(target.content, Path):
            entries[target.name] = {"folder": True, "files": _files_in(target.content)}
        else:
            entries[target.name] = {"folder": False, "files": []}
    manifest = {"format": MANIFEST_FORMAT, "outputs": dict(sorted(entries.items()))}
    return json.dumps(manifest, indent=1).encode()


def _files_in(folder: Path) -> list[str]:
    """Every entry under a folder that is not a folder (links included, never followed), by
    relative name, sorted."""
    found = []
    for base, dirs, files in os.walk(folder):
        links = [d for d in dirs if os.path.islink(os.path.join(base, d))]
        dirs[:] = [d for d in dirs if d not in links]
        found += [os.path.relpath(os.path.join(base, f), folder) for f in (*files, *links)]
    return sorted(found)


def _write_file(path: Path, data: bytes) -> None:
    """Write bytes to a new file and flush them to disk before it is renamed into place."""
    with open(path, "xb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(path, 0o644)


def _swap_in(targets: list[_Target]) -> None:
    """Rename each staged output into place; on a failure, put back every one already moved."""
    done: list[_Target] = []
    for target in targets:
        try:
            _replace(target)
        except OSError as exc:
            for earlier in reversed(done):
                with contextlib.suppress(OSError):  # report the first failure, not a later one
                    _restore(earlier)
            raise target._error(target.path, f"cannot be replaced: {exc.strerror}") from None
        done.append(target)
    for target in done:
        _remove(target.backup)
    for folder in {t.path.parent for t in targets}:
        _sync_folder(folder)


def _replace(target: _Target) -> None:
    """Move the staged output into place, keeping what was there as the backup."""
    path, backup = target.path, target.backup
    if not os.path.lexists(path):
        os.rename(target.temp, path)
        return
    if target.is_folder:
        os.rename(path, backup)  # a folder cannot be replaced in one step
        try:
            os.rename(target.temp, path)
        except OSError:
            os.rename(backup, path)
            raise
        return
    try:
        os.link(path, backup, follow_symlinks=False)  # the old file stays, for a rollback
        linked = True
    except OSError:  # a file system without hard links: move it aside instead
        os.rename(path, backup)
        linked = False
    try:
        os.replace(target.temp, path)  # atomic: a reader sees the old file or the new one
    except OSError:
        # A hard link still has the old file in place (and renaming a link onto its twin
        # does nothing): drop it. A moved-aside file goes back.
        os.unlink(backup) if linked else os.replace(backup, path)
        raise


def _restore(target: _Target) -> None:
    """Undo one replacement: the backup (or nothing, if there was none) goes back in place."""
    if os.path.lexists(target.backup):
        if target.is_folder:
            _remove(target.path)
        os.replace(target.backup, target.path)
    else:
        _remove(target.path)


def _remove(path: Path) -> None:
    """Delete a file or folder that Quire made, if it is there."""
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def remove_own_leftovers(folder: Path) -> None:
    """Clean what a killed Quire left: only `.quire-<pid>-*` names, and only of dead processes.

    A backup whose output is missing (killed between the two renames of a folder) is put back.
    """
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        found = OWN_TEMP.match(entry.name)
        if not found or _alive(int(found["pid"])):
            continue
        with contextlib.suppress(OSError):
            original = folder / found["name"]
            if found["kind"] == "old" and not os.path.lexists(original):
                os.rename(entry, original)
            else:
                _remove(entry)


def _alive(pid: int) -> bool:
    """True if a process with this id exists (then its files may still be in use)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, but belongs to someone else
    return True


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the renames) to disk."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def write_cache(
    folder: Path, files: tuple[tuple[str, bytes], ...], kept: frozenset[str], kinds: tuple[str, ...]
) -> None:
    """Write a stage's new cache entries, and remove those of its kinds no build uses now
    (`kept` names the entries used, as "<kind>/<key>"; an entry is "<kind>/<key>.<suffix>").

    The cache is not an output: it is written after the outputs, each file by a rename so
    that no reader sees half of one, without the outputs' all-or-nothing care (a lost or
    damaged entry only costs its remaking, and is found out by its checksum).
    """
    for name, data in files:
        write_cache_file(folder / name, data)
    for kind in kinds:
        place = folder / kind
        if place.is_symlink() or folder.is_symlink() or not place.is_dir():
            continue  # never delete through a link (check_output_folder refuses one anyway)
        for path in place.glob("*.*"):
            if f"{kind}/{path.name.split('.')[0]}" not in kept:
                with contextlib.suppress(OSError):
                    path.unlink()


def write_cache_file(path: Path, data: bytes) -> None:
    """Write one cache file through a temporary file and a rename, never through a linked folder
    (an OSError then: the cache is only not kept)."""
    for folder in (path.parent, *path.parent.parents):
        if folder.is_symlink():
            raise OSError(f"{folder} is a symlink: the cache is not written through it")
        if folder.name == CACHE_FOLDER:
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise

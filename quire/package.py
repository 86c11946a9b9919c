"""Package stage: every output of a build is written together, or none of them is.

Each output is first written beside its place under a name only Quire makes, with its process
id (`.quire-<pid>-<name>.part`). Only when all of them are on disk are they renamed into place,
one after another; the file or folder each replaces is kept as `.quire-<pid>-<name>.old` until
all renames have succeeded, so that a failure part-way puts every earlier one back.

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
from quire.config import Trim
from quire.errors import BuildError
from quire.render import Output

CACHE_FOLDER = ".quire-cache"
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
            return


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
            cache = json.dumps({"fingerprint": fingerprint, "starts": starts}).encode()
            files[f"{CACHE_FOLDER}/{slug}.pages.json"] = cache
        write_outputs(out, files)
    return [
        Written(out / names[fmt], fmt, _size(o), o.pages, o.notes) for fmt, o in outputs.items()
    ]


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
        for path in (folder / kind).glob("*.*") if (folder / kind).is_dir() else ():
            if f"{kind}/{path.name.split('.')[0]}" not in kept:
                with contextlib.suppress(OSError):
                    path.unlink()


def write_cache_file(path: Path, data: bytes) -> None:
    """Write one cache file through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise

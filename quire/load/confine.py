"""What a book may read: regular files of a sane size inside its own folder, nothing else.

Every file a build reads (settings, chapters, images, style sheets, fonts) goes through
`check_file` or `read_file`: symlinks are followed and the target must be a regular file (not a
folder, a FIFO or a device, which could hang the build or never end) no larger than the cap for
its kind. References made by the book (image paths, CSS url()s) go through `Confinement.resolve`.

The one way out is the `allow-remote: true` setting, which lets images (never style sheets or
fonts) come from http(s) URLs, downloaded within bounds by fetch.py and then checked like a local
image. The size caps are in limits.py.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from quire.errors import BuildError
from quire.load.fetch import FETCH_SCHEMES, fetch, was_fetched
from quire.load.limits import MIB, size_limit, too_big

REMOTE_SCHEMES = {"http", "https", "ftp", "ftps", "sftp", "ws", "wss", "gopher"}
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2", ".ttc")
# Every path this process checked, read or resolved a reference to (missing ones too) since
# the build began: what a single-file book's next build digests to know if anything changed,
# instead of every file of the folder it sits in (incremental.py).
TOUCHED: set[Path] = set()


def touched_since(reset: bool = False) -> set[Path]:
    """The paths checked or looked for since the last reset (absolute, links not followed)."""
    found = set(TOUCHED)
    if reset:
        TOUCHED.clear()
    return found


def resolved(path: Path) -> Path:
    """A path with symlinks followed; a symlink loop stays as it is (`not_a_file` names it)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError on a loop
        return Path(os.path.abspath(path))


def not_a_file(path: Path) -> str | None:
    """Why a path cannot be read as a file (a folder, a FIFO, a loop, ...), or None if it can."""
    try:
        mode = os.stat(path).st_mode  # follows symlinks
    except FileNotFoundError:
        return "a link to a file that does not exist" if os.path.islink(path) else "missing"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symlink loop"
        return f"unreadable ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "not a regular file"


def check_file(
    path: Path, kind: str, *, file: str, line: int | None = None, what: str | None = None
) -> int:
    """Refuse anything but a regular file within the size cap of its kind; return its size.

    `what` names the file when the message is about the line that refers to it.
    """
    TOUCHED.add(Path(os.path.abspath(path)))
    why = not_a_file(path)
    if why == "missing":
        raise BuildError("no such file", file=file, line=line, hint="check the name and path")
    if why:
        raise BuildError(
            f"is {why}, but a {kind} file is expected here",
            file=file,
            line=line,
            hint="replace it with an ordinary file inside the book's folder",
        )
    size = os.stat(path).st_size
    if size > size_limit(kind):
        raise too_big(kind, size, file=file, line=line, what=what)
    return size


def read_file(path: Path, kind: str, *, file: str, line: int | None = None) -> bytes:
    """Read a regular file of a kind, never more than its size cap, without blocking on a FIFO."""
    check_file(path, kind, file=file, line=line)
    with _open_regular(path, kind, file=file, line=line) as stream:
        data = stream.read(size_limit(kind) + 1)
    if len(data) > size_limit(kind):
        raise too_big(kind, len(data), file=file, line=line)
    return data


def file_digest(path: Path, kind: str, *, file: str) -> str:
    """The sha256 of a regular file of a kind, read in chunks and refused past its size cap."""
    check_file(path, kind, file=file)
    hasher, size = hashlib.sha256(), 0
    with _open_regular(path, kind, file=file) as stream:
        while chunk := stream.read(MIB):
            size += len(chunk)
            if size > size_limit(kind):  # it grew since the check
                raise too_big(kind, size, file=file, line=None)
            hasher.update(chunk)
    return hasher.hexdigest()


def _open_regular(path: Path, kind: str, *, file: str, line: int | None = None) -> BinaryIO:
    """Open a checked file for reading; refuse it if it was swapped for something else since."""
    # O_NONBLOCK: if the file was swapped for a FIFO after the check, opening it must not hang.
    stream = os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")
    if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
        stream.close()
        raise BuildError(f"is no longer a regular {kind} file", file=file, line=line)
    return stream


def kind_of(path: Path) -> str:
    """The size-cap kind of a file in a styles folder, from its suffix."""
    suffix = path.suffix.lower()
    if suffix == ".css":
        return "style"
    return "font" if suffix in FONT_SUFFIXES else "image"


def check_tree(folder: Path, inside: tuple[Path, ...], *, shown: str) -> None:
    """Every entry under a folder (styles/) must resolve inside `inside`, and files be regular."""
    roots = tuple(root.resolve() for root in inside)
    for current, folders, files in os.walk(folder):  # symlinked folders are not descended
        for name in [*folders, *files]:
            path = Path(current) / name
            where = f"{shown}/{path.relative_to(folder)}"
            if not any(resolved(path).is_relative_to(root) for root in roots):
                raise BuildError(
                    "is a link to something outside the book's folder",
                    file=where,
                    hint="replace the link with a copy inside the book's folder",
                )
            if name in files or os.path.islink(path):
                why = not_a_file(path)
                if why and why != "a folder":
                    raise BuildError(
                        f"is {why}, but only ordinary files may be in a styles folder",
                        file=where,
                        hint="remove it",
                    )
                if not why:
                    check_file(path, kind_of(path), file=where)


def is_remote(ref: str) -> bool:
    """True for a reference that would reach the network (http:, //host/...)."""
    parts = urlsplit(ref)
    return parts.scheme.lower() in REMOTE_SCHEMES or ref.startswith("//")


def is_local_anchor_or_scheme(ref: str) -> bool:
    """True for `#id`, `mailto:` and the like: references that read no file."""
    parts = urlsplit(ref)
    return ref.startswith("#") or parts.scheme.lower() in {"mailto", "tel", "data"}


@dataclass(frozen=True)
class Confinement:
    """The folders a book may read from, and whether remote images are allowed at all."""

    roots: tuple[Path, ...]
    allow_remote: bool = False

    def resolve(self, ref: str, base: Path, *, file: str, line: int | None) -> Path:
        """Resolve a reference made in `file` to a path inside the roots, or refuse it."""
        if is_remote(ref):
            return self._remote(ref, file=file, line=line)
        parts = urlsplit(ref)
        if parts.scheme and parts.scheme != "file":
            raise BuildError(
                f"unsupported reference `{ref[:80]}`",
                file=file,
                line=line,
                hint="refer to a file in the book's folder by a relative path",
            )
        raw = unquote(parts.path)
        if Path(raw).is_absolute() or parts.scheme == "file":
            raise BuildError(
                f"absolute path refused: {ref}",
                file=file,
                line=line,
                hint="use a path relative to the file, inside the book's folder",
            )
        target = resolved(base / raw)
        TOUCHED.add(Path(os.path.abspath(base / raw)))
        if not self.allows(target):
            raise BuildError(
                f"`{ref}` points outside the book's folder",
                file=file,
                line=line,
                hint="keep images and other files inside the book's folder or styles/",
            )
        why = not_a_file(base / raw)
        if why not in (None, "missing"):
            raise BuildError(
                f"`{ref}` is {why}, not a file",
                file=file,
                line=line,
                hint="refer to an ordinary file inside the book's folder",
            )
        return target

    def _remote(self, ref: str, *, file: str, line: int | None) -> Path:
        """A remote image: refused, unless the book opted in and the URL is http(s)."""
        if not self.allow_remote:
            raise BuildError(
                f"remote resource refused: {ref}",
                file=file,
                line=line,
                hint="download it into the book's folder and refer to it by a relative path "
                "(or set `allow-remote: true` in book.yaml to fetch remote images)",
            )
        if urlsplit(ref).scheme.lower() not in FETCH_SCHEMES:
            raise BuildError(
                f"remote resource refused: {ref}",
                file=file,
                line=line,
                hint="only http and https images can be fetched with `allow-remote: true`",
            )
        return fetch(ref, file=file, line=line)

    def may_read(self, path: Path) -> bool:
        """True if a renderer may read this file: allowed, regular, and within its size cap."""
        if not self.allows(path) or not_a_file(path) is not None:
            return False
        return os.stat(path).st_size <= size_limit(kind_of(path))

    def allows(self, path: Path) -> bool:
        """True if a path, symlinks followed, lies inside a root or was fetched by opt-in."""
        target = resolved(path)
        if was_fetched(target):
            return True
        return any(target.is_relative_to(root.resolve()) for root in self.roots)

"""What a book may read: files inside its own folder and its styles, nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from quire.errors import BuildError

REMOTE_SCHEMES = {"http", "https", "ftp", "ftps", "sftp", "ws", "wss", "gopher"}


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
    """The folders a book may read from, and whether remote URLs are allowed at all."""

    roots: tuple[Path, ...]
    allow_remote: bool = False

    def resolve(self, ref: str, base: Path, *, file: str, line: int | None) -> Path:
        """Resolve a reference made in `file` to a path inside the roots, or refuse it."""
        if is_remote(ref):
            raise BuildError(
                f"remote resource refused: {ref}",
                file=file,
                line=line,
                hint="download it into the book's folder and refer to it by a relative path",
            )
        parts = urlsplit(ref)
        if parts.scheme and parts.scheme != "file":
            raise BuildError(f"unsupported reference `{ref}`", file=file, line=line)
        raw = unquote(parts.path)
        if Path(raw).is_absolute() or parts.scheme == "file":
            raise BuildError(
                f"absolute path refused: {ref}",
                file=file,
                line=line,
                hint="use a path relative to the file, inside the book's folder",
            )
        target = (base / raw).resolve()
        if not any(target.is_relative_to(root.resolve()) for root in self.roots):
            raise BuildError(
                f"`{ref}` points outside the book's folder",
                file=file,
                line=line,
                hint="keep images and other files inside the book's folder or styles/",
            )
        return target

    def allows(self, path: Path) -> bool:
        """True if an already resolved path lies inside one of the roots."""
        target = path.resolve()
        return any(target.is_relative_to(root.resolve()) for root in self.roots)

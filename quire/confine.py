"""What a book may read: files inside its own folder and its styles, nothing else.

The one way out is the `allow-remote: true` setting, which lets images (never style sheets or
fonts) come from http(s) URLs: each is downloaded once, with a timeout and a size cap, into a
private temporary folder, and then checked like a local image.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from quire.errors import BuildError

REMOTE_SCHEMES = {"http", "https", "ftp", "ftps", "sftp", "ws", "wss", "gopher"}
FETCH_SCHEMES = {"http", "https"}
FETCH_TIMEOUT = 20  # seconds, for connecting and for each read
FETCH_MAX_BYTES = 20 * 1024 * 1024
FETCH_SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
}
CSS_REFERENCE = re.compile(
    r"""(?P<imp>@import\s+)?url\(\s*(?P<q>['"]?)(?P<url>.*?)(?P=q)\s*\)"""
    r"""|@import\s+(?P<iq>['"])(?P<import>.*?)(?P=iq)""",
    re.IGNORECASE | re.DOTALL,
)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_fetched: dict[str, Path] = {}  # URL -> downloaded file, for this process


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
        target = (base / raw).resolve()
        if not self.allows(target):
            raise BuildError(
                f"`{ref}` points outside the book's folder",
                file=file,
                line=line,
                hint="keep images and other files inside the book's folder or styles/",
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

    def allows(self, path: Path) -> bool:
        """True if a path, symlinks followed, lies inside a root or was fetched by opt-in."""
        target = path.resolve()
        if target in _fetched.values():
            return True
        return any(target.is_relative_to(root.resolve()) for root in self.roots)

    def check_css(self, css: Path, *, name: str, seen: frozenset[Path] = frozenset()) -> None:
        """Refuse a style sheet whose url()s or @imports reach outside the book or the network."""
        text = CSS_COMMENT.sub(lambda c: "\n" * c[0].count("\n"), css.read_text("utf-8", "replace"))
        for found in CSS_REFERENCE.finditer(text):
            ref = (found["url"] or found["import"] or "").strip()
            if not ref or ref.startswith("#") or ref.lower().startswith("data:"):
                continue
            line = text.count("\n", 0, found.start()) + 1
            if is_remote(ref):
                raise BuildError(
                    f"remote resource refused: {ref}",
                    file=name,
                    line=line,
                    hint="style sheets may only use files in the book's folder or styles/; "
                    "download it there",
                )
            target = self.resolve(ref, css.parent, file=name, line=line)
            if (found["import"] or found["imp"]) and target.is_file() and target not in seen:
                self.check_css(target, name=str(target), seen=seen | {css.resolve()})


def fetch(url: str, *, file: str, line: int | None) -> Path:
    """Download a remote image once per process, with a timeout and a size cap."""
    if url in _fetched:
        return _fetched[url]
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    request = urllib.request.Request(url, headers={"User-Agent": "Quire (book builder)"})
    try:
        with opener.open(request, timeout=FETCH_TIMEOUT) as response:
            data = response.read(FETCH_MAX_BYTES + 1)
            kind = response.headers.get_content_type()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise BuildError(
            f"cannot fetch {url}: {reason}",
            file=file,
            line=line,
            hint="check the URL, or download the image into the book's folder",
        ) from None
    if len(data) > FETCH_MAX_BYTES:
        raise BuildError(
            f"remote image {url} is larger than {FETCH_MAX_BYTES // (1024 * 1024)} MB",
            file=file,
            line=line,
            hint="download and scale it down, then refer to the local file",
        )
    return _store(url, data, kind)


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s), never to ftp: or file:."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        """The redirected request, or an error if it leaves http(s)."""
        if urlsplit(newurl).scheme.lower() not in FETCH_SCHEMES:
            raise urllib.error.URLError(f"redirect to {newurl} refused")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _store(url: str, data: bytes, content_type: str) -> Path:
    """Save downloaded bytes under a name made from the URL, in this process's download folder."""
    name = Path(unquote(urlsplit(url).path)).name or "image"
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(name).stem).strip("-") or "image"
    suffix = Path(name).suffix.lower()
    if content_type in FETCH_SUFFIXES:
        suffix = FETCH_SUFFIXES[content_type]
    elif data.lstrip()[:1] == b"<":
        suffix = ".svg"
    folder = _download_folder() / hashlib.sha256(url.encode()).hexdigest()[:16]
    folder.mkdir(exist_ok=True)
    path = folder / f"{stem}{suffix}"
    path.write_bytes(data)
    _fetched[url] = path.resolve()
    return _fetched[url]


_folder: list[Path] = []


def _download_folder() -> Path:
    """A private temporary folder for downloaded images, removed when the process ends."""
    if not _folder:
        _folder.append(Path(tempfile.mkdtemp(prefix="quire-remote-")))
        atexit.register(shutil.rmtree, _folder[0], True)
    return _folder[0]

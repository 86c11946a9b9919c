"""What a book may read: regular files of a sane size inside its own folder, nothing else.

Every file a build reads (settings, chapters, images, style sheets, fonts) goes through
`check_file` or `read_file`: symlinks are followed and the target must be a regular file (not a
folder, a FIFO or a device, which could hang the build or never end) no larger than the cap for
its kind. References made by the book (image paths, CSS url()s) go through `Confinement.resolve`.

The one way out is the `allow-remote: true` setting, which lets images (never style sheets or
fonts) come from http(s) URLs: each is downloaded once, within a total deadline for the build and
size caps per image and per build, into a private temporary folder, then checked like a local image.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import errno
import hashlib
import http.client
import os
import re
import shutil
import socket
import ssl
import stat
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urljoin, urlsplit

from quire.errors import BuildError

REMOTE_SCHEMES = {"http", "https", "ftp", "ftps", "sftp", "ws", "wss", "gopher"}
FETCH_SCHEMES = {"http", "https"}
FETCH_SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
}
MAX_REDIRECTS = 5
MIB = 1024 * 1024
# The largest file of each kind a build reads, in MiB; the environment variable QUIRE_MAX_<KIND>
# (for example QUIRE_MAX_IMAGE=200) raises or lowers one for whoever runs the build. A book
# cannot: its own settings must not lift the limits that protect the machine from it.
SIZE_LIMITS_MIB = {
    "settings": 1,  # book.yaml
    "chapter": 16,  # each Markdown file
    "style": 2,  # each CSS file
    "font": 32,  # each font file
    "image": 64,  # each image, local or downloaded
    "downloads": 128,  # all downloaded images of one build together
    "metadata": 1,  # a metadata file (pandoc's --metadata-file)
    "bibliography": 16,  # a bibliography (BibTeX, CSL JSON, ...)
    "cache": 256,  # each file Quire reads back from <out>/.quire-cache/ (a unit's PDF, a record)
}
# allow-remote: every download of a build must be finished within this many seconds in all.
FETCH_DEADLINE_SECONDS = 60
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2", ".ttc")
_fetched: dict[str, Path] = {}  # URL -> downloaded file, for this process
_downloads = {"bytes": 0, "deadline": 0.0}  # totals for this process (one build)


def size_limit(kind: str) -> int:
    """The size cap in bytes for a kind of file, from QUIRE_MAX_<KIND> (MiB) or the default."""
    raw = os.environ.get(f"QUIRE_MAX_{kind.upper()}", "")
    return (
        int(float(raw) * MIB) if re.fullmatch(r"\d+(\.\d+)?", raw) else SIZE_LIMITS_MIB[kind] * MIB
    )


def fetch_deadline() -> float:
    """Seconds all downloads of a build may take together (QUIRE_FETCH_DEADLINE overrides)."""
    raw = os.environ.get("QUIRE_FETCH_DEADLINE", "")
    return float(raw) if re.fullmatch(r"\d+(\.\d+)?", raw) else FETCH_DEADLINE_SECONDS


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
        raise _too_big(kind, size, file=file, line=line, what=what)
    return size


def _too_big(
    kind: str, size: int, *, file: str, line: int | None, what: str | None = None
) -> BuildError:
    article = "an" if kind[0] in "aeiou" else "a"
    return BuildError(
        f"{f'`{what}` ' if what else ''}is {size / MIB:.1f} MiB, more than the "
        f"{size_limit(kind) / MIB:g} MiB {article} {kind} file may have",
        file=file,
        line=line,
        hint=f"make it smaller, or raise the limit with QUIRE_MAX_{kind.upper()}=<MiB>",
    )


def read_file(path: Path, kind: str, *, file: str, line: int | None = None) -> bytes:
    """Read a regular file of a kind, never more than its size cap, without blocking on a FIFO."""
    check_file(path, kind, file=file, line=line)
    with _open_regular(path, kind, file=file, line=line) as stream:
        data = stream.read(size_limit(kind) + 1)
    if len(data) > size_limit(kind):
        raise _too_big(kind, len(data), file=file, line=line)
    return data


def file_digest(path: Path, kind: str, *, file: str) -> str:
    """The sha256 of a regular file of a kind, read in chunks and refused past its size cap."""
    check_file(path, kind, file=file)
    hasher, size = hashlib.sha256(), 0
    with _open_regular(path, kind, file=file) as stream:
        while chunk := stream.read(MIB):
            size += len(chunk)
            if size > size_limit(kind):  # it grew since the check
                raise _too_big(kind, size, file=file, line=None)
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
        if target in _fetched.values():
            return True
        return any(target.is_relative_to(root.resolve()) for root in self.roots)


def fetch(url: str, *, file: str, line: int | None) -> Path:
    """Download a remote image once per process, within the build's deadline and size caps."""
    if url in _fetched:
        return _fetched[url]
    if not _downloads["deadline"]:
        _downloads["deadline"] = time.monotonic() + fetch_deadline()
    try:
        data, kind = _download(url, file=file, line=line)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        late = time.monotonic() >= _downloads["deadline"]
        reason = (
            f"no answer within {fetch_deadline():g} s" if late else str(exc) or type(exc).__name__
        )
        raise BuildError(
            f"cannot fetch {url}: {reason}",
            file=file,
            line=line,
            hint="check the URL, or download the image into the book's folder",
        ) from None
    return _store(url, data, kind)


def _download(url: str, *, file: str, line: int | None) -> tuple[bytes, str]:
    """GET a URL, following up to five http(s) redirects; the body and its content type."""
    for _ in range(MAX_REDIRECTS + 1):
        status, location, kind, data = _get(url, file=file, line=line)
        if status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            if urlsplit(url).scheme.lower() not in FETCH_SCHEMES:
                raise ValueError(f"redirect to {url[:80]} refused")
            continue
        if status != 200:
            raise ValueError(f"HTTP status {status}")
        return data, kind
    raise ValueError("too many redirects")


def _get(url: str, *, file: str, line: int | None) -> tuple[int, str, str, bytes]:
    """One GET, cut off when the build's download deadline passes, however slowly bytes drip."""
    remaining = _downloads["deadline"] - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("deadline passed")
    conn, target, headers = _connection(url, remaining)
    # A per-read timeout does not bound a server that sends one byte a second; this timer
    # closes the socket at the deadline, which ends any read in progress.
    watchdog = threading.Timer(remaining, _cut, (conn,))
    watchdog.start()
    try:
        conn.request("GET", target, headers={"User-Agent": "Quire (book builder)", **headers})
        response = conn.getresponse()
        data = _read_capped(response, url, file=file, line=line)
        kind = response.headers.get_content_type()
        return response.status, response.getheader("Location", ""), kind, data
    finally:
        watchdog.cancel()
        conn.close()


def _connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str, dict]:
    """A connection for a URL, the request target and headers to send, through the proxy that
    HTTPS_PROXY / HTTP_PROXY name unless NO_PROXY exempts the host, as curl and pip do."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(scheme)
    if proxy and urllib.request.proxy_bypass_environment(parts.netloc, proxies):
        proxy = None
    if not proxy:
        if scheme == "https":
            context = ssl.create_default_context()
            conn = http.client.HTTPSConnection(parts.netloc, timeout=timeout, context=context)
            return conn, path, {}
        return http.client.HTTPConnection(parts.netloc, timeout=timeout), path, {}
    via = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if via.scheme.lower() != "http" or not via.hostname:
        raise ValueError(f"proxy {via.geturl()[:80]}: only http:// proxies are supported")
    headers = {}
    if via.username is not None:  # http://user:password@proxy:port
        login = f"{unquote(via.username)}:{unquote(via.password or '')}"
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
    if scheme == "https":  # a CONNECT tunnel: the proxy sees the host, never the request
        context = ssl.create_default_context()
        conn = http.client.HTTPSConnection(
            via.hostname, via.port or 80, timeout=timeout, context=context
        )
        conn.set_tunnel(parts.hostname or "", parts.port or 443, headers=headers)
        return conn, path, {}
    # Plain http: the proxy is asked for the whole URL, with the credentials beside it.
    return http.client.HTTPConnection(via.hostname, via.port or 80, timeout=timeout), url, headers


def _cut(conn: http.client.HTTPConnection) -> None:
    """Shut a connection's socket down from the watchdog thread."""
    if conn.sock is not None:
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)


def _read_capped(
    response: http.client.HTTPResponse, url: str, *, file: str, line: int | None
) -> bytes:
    """The body, refused as soon as it passes the cap per image or the total for the build."""
    image_cap = size_limit("image")
    chunks, size = [], 0
    while chunk := response.read1(64 * 1024):
        size += len(chunk)
        if time.monotonic() >= _downloads["deadline"]:
            raise TimeoutError("deadline passed")
        if size > image_cap:
            raise _too_big("image", size, file=file, line=line)
        if _downloads["bytes"] + size > size_limit("downloads"):
            raise BuildError(
                f"downloading {url[:80]} would pass the {size_limit('downloads') / MIB:g} MiB "
                "all remote images of a build may have",
                file=file,
                line=line,
                hint="download the images into the book's folder",
            )
        chunks.append(chunk)
    if time.monotonic() >= _downloads["deadline"]:
        raise TimeoutError("deadline passed")
    _downloads["bytes"] += size
    return b"".join(chunks)


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

"""Remote images for a book that opted in (`allow-remote: true`), fetched within bounds.

Each URL is downloaded once per process over http(s), through the proxy the environment names
(HTTPS_PROXY, HTTP_PROXY, NO_PROXY), within a total deadline for the build and size caps per
image and per build, into a private temporary folder; the confinement then checks it like a
local image.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

from quire.errors import BuildError
from quire.load.limits import MIB, size_limit, too_big

if TYPE_CHECKING:
    import http.client

# http.client, ssl, socket and urllib.request are imported where they are used: only a book with
# remote images needs them, and they cost every build a fiftieth of a second to import.

FETCH_SCHEMES = {"http", "https"}
FETCH_SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
}
MAX_REDIRECTS = 5
# allow-remote: every download of a build must be finished within this many seconds in all.
FETCH_DEADLINE_SECONDS = 60
_fetched: dict[str, Path] = {}  # URL -> downloaded file, for this process
_downloads = {"bytes": 0, "deadline": 0.0}  # totals for this process (one build)


def fetch_deadline() -> float:
    """Seconds all downloads of a build may take together (QUIRE_FETCH_DEADLINE overrides)."""
    raw = os.environ.get("QUIRE_FETCH_DEADLINE", "")
    return float(raw) if re.fullmatch(r"\d+(\.\d+)?", raw) else FETCH_DEADLINE_SECONDS


def was_fetched(path: Path) -> bool:
    """True if a (resolved) path is an image this process downloaded."""
    return path in _fetched.values()


def download_folders(paths: Iterable[Path]) -> tuple[Path, ...]:
    """The folder of this process's downloads, if one of paths is in it: a layout worker reads
    them from there, and did not download them itself (was_fetched is false in it)."""
    if not _folder:
        return ()
    folder = _folder[0].resolve()
    return (folder,) if any(Path(p).resolve().is_relative_to(folder) for p in paths) else ()


def fetch(url: str, *, file: str, line: int | None) -> Path:
    """Download a remote image once per process, within the build's deadline and size caps."""
    import http.client

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
    import http.client
    import ssl
    import urllib.request

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
    import socket

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
            raise too_big("image", size, file=file, line=line)
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

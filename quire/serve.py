"""`build.py --serve`: serve the web edition on 127.0.0.1 and reload its pages after each build.

The rebuilding is `--watch`'s loop (quire/watch.py); this module only serves what it builds.

It is a preview for this machine, and is careful as one should be: only requests naming this
machine in their Host header are answered (a page elsewhere that rebinds its name to 127.0.0.1
cannot read the book), only regular files inside the site folder are served (never a listing
of a folder, nothing through a link that leads out), a request line is bounded and a bad one
is a 400, each connection has a time limit, and a fixed pool of threads answers (a connection
over what the pool and its queue hold is closed at once).
"""

from __future__ import annotations

import contextlib
import mimetypes
import shutil
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from quire.errors import BuildError

LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}
MAX_PATH = 2048  # bytes of a request's path; a longer one is refused (414)
TIMEOUT = 15  # seconds a connection may wait for the client's next bytes
THREADS = 8  # requests answered at once
QUEUED = 32  # connections that may wait for a thread; any more are closed at once

RELOAD_PATH = "/__quire/build"
# Asks the server every second which build it serves, and reloads the page when it is not the
# build the page came from. The page is told that build: were the first answer taken for it, a
# build finished between the page's load and its first question (a second) would be missed.
RELOAD_SCRIPT = '<script src="/__quire/reload.js" data-build="{build}"></script>\n'
RELOAD_JS = b"""(function () {
  let seen = document.currentScript ? document.currentScript.dataset.build : null;
  setInterval(async function () {
    try {
      const build = await (await fetch("/__quire/build", {cache: "no-store"})).text();
      if (seen !== null && build !== seen) location.reload();
      seen = build;
    } catch (error) { /* the server is rebuilding or has stopped */ }
  }, 1000);
})();
"""


class Site:
    """The folder being served and the number of the build in it (0 for the first)."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.build = -1

    def update(self, written: list) -> None:
        """A build wrote its outputs: serve its web edition, and tell the pages to reload."""
        folder = next((w.path for w in written if w.format == "html"), None)
        if folder is not None:
            self.folder = folder
            self.build += 1


class Handler(SimpleHTTPRequestHandler):
    """Serves the site's files, the reload script, and the build number it polls."""

    site: Site
    timeout = TIMEOUT  # socketserver sets it on the connection: a silent client is let go

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        """The build number, the reload script, a page with the script added, or a file."""
        self._answer(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802 - the name http.server calls
        """As GET, without the body."""
        self._answer(with_body=False)

    def _answer(self, with_body: bool) -> None:
        if not self._host_allowed():
            return self.send_error(HTTPStatus.FORBIDDEN, "this server answers only localhost")
        if len(self.path) > MAX_PATH:
            return self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
        path = urlsplit(self.path).path
        if "\0" in unquote(path) or not path.startswith("/"):
            return self.send_error(HTTPStatus.BAD_REQUEST)
        build = self.site.build  # before the page: a build that ends between the two reloads it
        if path == RELOAD_PATH:
            return self._send(str(build).encode(), "text/plain", with_body)
        if path == "/__quire/reload.js":
            return self._send(RELOAD_JS, "text/javascript", with_body)
        file = self._site_file(path)
        if file is None:
            return self.send_error(HTTPStatus.NOT_FOUND)
        if file.suffix == ".html":
            script = RELOAD_SCRIPT.format(build=build).encode()
            page = file.read_bytes().replace(b"</body>", script + b"</body>", 1)
            return self._send(page, "text/html; charset=utf-8", with_body)
        return self._send_file(file, with_body)

    def _host_allowed(self) -> bool:
        """True if the Host header names this machine: a loopback name or the bound address."""
        host = (self.headers.get("Host") or "").strip().lower()
        if host.startswith("["):
            name = host[1 : host.find("]")] if "]" in host else ""
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return name in LOCAL_NAMES | {str(self.server.server_address[0])}

    def _site_file(self, path: str) -> Path | None:
        """The regular file inside the site folder that a path names (a folder's index.html),
        links followed only where they stay inside; None for anything else."""
        if self.site.folder is None:
            return None
        try:
            root = self.site.folder.resolve(strict=True)
            parts = [p for p in unquote(path).split("/") if p not in ("", ".")]
            if ".." in parts:
                return None
            file = root.joinpath(*parts).resolve()
            if file.is_dir():
                file = (file / "index.html").resolve()
            if not file.is_relative_to(root) or not file.is_file():
                return None
        except (OSError, ValueError, RuntimeError):  # too long a name, a loop, ...
            return None
        return file

    def _send(self, data: bytes, media_type: str, with_body: bool = True) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if with_body:
            self.wfile.write(data)

    def _send_file(self, file: Path, with_body: bool) -> None:
        """A file of the site, streamed."""
        try:
            stream = file.open("rb")
        except OSError:
            return self.send_error(HTTPStatus.NOT_FOUND)
        with stream:
            media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(file.stat().st_size))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if with_body:
                shutil.copyfileobj(stream, self.wfile)

    def list_directory(self, path: str) -> None:  # noqa: ARG002 - http.server's signature
        """Never a listing of a folder."""
        self.send_error(HTTPStatus.NOT_FOUND)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        """Quiet: a reader's requests are not news."""


class PooledServer(HTTPServer):
    """An HTTP server whose requests a fixed pool of threads answers; a connection that finds
    the pool and its queue full is closed at once, so no number of clients takes more."""

    def __init__(self, address: tuple[str, int], handler: type[Handler]) -> None:
        super().__init__(address, handler)
        self.pool = ThreadPoolExecutor(THREADS, thread_name_prefix="quire-serve")
        self.slots = threading.BoundedSemaphore(THREADS + QUEUED)

    def process_request(self, request: socket.socket, client_address: tuple) -> None:
        """Hand the connection to the pool, or close it if the pool is full."""
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        self.pool.submit(self._work, request, client_address)

    def _work(self, request: socket.socket, client_address: tuple) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - a client's error ends its connection, not the server
            pass
        finally:
            self.shutdown_request(request)
            self.slots.release()

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: a client that hung up or sent nonsense is not the build's problem."""

    def server_close(self) -> None:
        """Stop listening, and let the pool's threads go."""
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


def start_server(site: Site, port: int) -> PooledServer:
    """An HTTP server on 127.0.0.1 in a daemon thread, serving the site."""
    handler = type("SiteHandler", (Handler,), {"site": site})
    server = PooledServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextlib.contextmanager
def serving(site: Site, port: int) -> Iterator[str]:
    """The site served on 127.0.0.1 while the block runs; yields its address."""
    if not 0 <= port <= 65535:
        raise BuildError(
            f"{port} is not a port number", hint="give --port 0 to 65535", kind="usage"
        )
    try:
        server = start_server(site, port)
    except OSError as exc:
        raise BuildError(
            f"cannot serve on 127.0.0.1:{port}: {exc.strerror}",
            hint="choose another port with --port",
            kind="usage",
        ) from None
    address = f"http://127.0.0.1:{server.server_port}/"
    print(f"quire: serving {address} (Ctrl-C to stop)", flush=True)
    try:
        yield address
    finally:
        server.shutdown()
        server.server_close()
        print("quire: stopped serving", flush=True)

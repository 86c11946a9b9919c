"""`build.py --serve`: serve the web edition on 127.0.0.1 and reload its pages after each build.

The rebuilding is `--watch`'s loop (quire/watch.py); this module only serves what it builds.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from quire.errors import BuildError

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

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        """The build number, the reload script, a page with the script added, or a file."""
        path = self.path.split("?", 1)[0]
        build = self.site.build  # before the page: a build that ends between the two reloads it
        if path == RELOAD_PATH:
            return self._send(str(build).encode(), "text/plain")
        if path == "/__quire/reload.js":
            return self._send(RELOAD_JS, "text/javascript")
        file = Path(self.translate_path(path))
        if file.is_dir():
            file = file / "index.html"
        if file.suffix == ".html" and file.is_file():
            script = RELOAD_SCRIPT.format(build=build).encode()
            page = file.read_bytes().replace(b"</body>", script + b"</body>", 1)
            return self._send(page, "text/html; charset=utf-8")
        return super().do_GET()

    def _send(self, data: bytes, media_type: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def translate_path(self, path: str) -> str:
        """Files come from the site folder as it is now (a rebuild swaps the folder)."""
        self.directory = str(self.site.folder)
        return super().translate_path(path)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        """Quiet: a reader's requests are not news."""


def start_server(site: Site, port: int) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 in a daemon thread, serving the site."""
    handler = type("SiteHandler", (Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextlib.contextmanager
def serving(site: Site, port: int) -> Iterator[str]:
    """The site served on 127.0.0.1 while the block runs; yields its address."""
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

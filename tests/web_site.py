"""Helpers for the web edition's browser tests: build a case with its site, serve it, drive Chromium."""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

CHROMIUM = Path("/usr/bin/chromium")
# The same quiet flags as Ace's Chromium: no sandbox as root, no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Site:
    """A built web edition served on a loopback port, and the files beside it."""

    folder: Path
    base: str
    epub: Path
    pdf: Path
    server: ThreadingHTTPServer
    pages: list[str] = field(default_factory=list)  # index.html, then chapters in reading order


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def serve_folder(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    """Serve a folder on 127.0.0.1 on a free port, in a daemon thread."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def reading_order(folder: Path) -> list[str]:
    """index.html, then the chapter pages in the order of the contents on the download page."""
    tree = lxml.html.parse(str(folder / "index.html"))
    return ["index.html", *tree.xpath("//nav[contains(@class, 'index-toc')]//a/@href")]


def launch_chromium(playwright):
    """Debian's Chromium under Playwright; a skip without it, a failure under CI=true."""
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is not installed (bash .ci/install-ace installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, driven by Playwright, for one test module.

    Module scope: each test module that imports the fixture gets its own copy, and the sync API
    allows one Playwright at a time, so each must be closed before the next module starts.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """What loading one page did: requests, failed responses and console errors."""

    requests: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def visit(page, url: str) -> Visit:
    """Load a page and wait until the network is idle, recording what happened."""
    seen = Visit()
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and seen.failures.append(f"{response.status} {response.url}")
        ),
    )
    page.on("requestfailed", lambda request: seen.failures.append(f"failed {request.url}"))
    page.on("console", lambda message: message.type == "error" and seen.errors.append(message.text))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.goto(url, wait_until="networkidle")
    return seen


def outside_requests(seen: Visit, base: str) -> list[str]:
    """The requests of a visit that left the site."""
    return [url for url in seen.requests if not url.startswith(base)]


def broken_links(folder: Path, base: str, fetch) -> list[str]:
    """Every link of every page that does not answer 200 with the file's bytes, or misses its id."""
    problems = []
    ids: dict[str, set[str]] = {}
    for page in sorted(folder.glob("*.html")):
        tree = lxml.html.parse(str(page))
        ids[page.name] = set(tree.xpath("//@id"))
    for page in sorted(folder.glob("*.html")):
        tree = lxml.html.parse(str(page))
        hrefs = tree.xpath("//a/@href | //link/@href | //img/@src | //script/@src")
        for href in hrefs:
            url = urljoin(base + page.name, href)
            if not url.startswith(base):
                problems.append(f"{page.name}: {href} leaves the site")
                continue
            path, fragment = urlsplit(url).path.lstrip("/") or "index.html", urlsplit(url).fragment
            status, body = fetch(url.split("#")[0])
            target = folder / path
            if status != 200 or not target.is_file() or body != target.read_bytes():
                problems.append(f"{page.name}: {href} answers {status}")
            elif fragment and fragment not in ids.get(path, set()):
                problems.append(f"{page.name}: {href} has no element {fragment}")
    return problems

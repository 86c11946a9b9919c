"""Each EPUB in a second reading engine: epub.js in headless Chromium, with the book's own fonts.

MuPDF's side (every chapter's opening words laid out) is in test_epub_store.py; MuPDF cannot tell
the book's fonts from its own built-in Charis SIL and fallbacks, so the browser proves the fonts:
every @font-face loads once de-obfuscated, and CDP names the embedded fonts as the ones used.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zipfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from test_epub_store import NS, opf_tree, squash, xhtml_documents

from quire.render.epub import obfuscate, obfuscation_key

JS_DIR = Path(__file__).resolve().parent / "js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCRIPTS = {
    "/epub.min.js": JS_DIR / "node_modules/epubjs/dist/epub.min.js",
    "/jszip.min.js": JS_DIR / "node_modules/jszip/dist/jszip.min.js",
}
# Text in these is set in the reader's monospace or drawn by SVG/MathML, not in the book's fonts.
MATHML = {"m": "http://www.w3.org/1998/Math/MathML"}
NOT_BOOK_TEXT = "pre, code, kbd, samp, svg, math"


def require_browser() -> None:
    """Skip when Chromium, Playwright or the npm packages are missing; fail on CI, where they must be."""
    missing = [str(p) for p in (CHROMIUM, *SCRIPTS.values()) if not p.exists()]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if missing:
        reason = "epub.js engine test needs " + ", ".join(missing) + " (see .ci/run)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


class LoopbackServer:
    """A loopback HTTP server for the reader page, its scripts and the EPUBs under test."""

    def __init__(self) -> None:
        self.files = {"/reader.html": JS_DIR / "reader.html", **SCRIPTS}
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                path = files.get(self.path)
                if path is None:
                    self.send_error(404)
                    return
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass  # quiet: the tests report what matters

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """The address of a served path."""
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def publish(self, name: str, epub: Path) -> str:
        """Serve an EPUB and return its address."""
        self.files[f"/{name}.epub"] = epub
        return self.url(f"/{name}.epub")

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright, and the loopback server it reads from."""
    require_browser()
    from playwright.sync_api import sync_playwright

    server = LoopbackServer()
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                yield chromium, server
            finally:
                chromium.close()
    finally:
        server.stop()


@dataclass
class Chapter:
    """One spine item as epub.js rendered it."""

    href: str
    text: str
    faces: list[dict]  # each @font-face in its frame: family, weight, style, status
    platform_fonts: dict[str, set[str]]  # element description → fonts Chromium drew its text in


def read_in_epubjs(
    browser, epub: Path, deobfuscate: bool = True
) -> tuple[list[str], list[Chapter]]:
    """Open an EPUB in epub.js; return the fonts it de-obfuscated and each spine item rendered."""
    chromium, server = browser
    page = chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(server.url("/reader.html"))
        address = server.publish(hashlib.sha1(str(epub).encode()).hexdigest()[:12], epub)
        opened = page.evaluate("([url, d]) => openBook(url, d)", [address, deobfuscate])
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        chapters = []
        for href in opened["spine"]:
            shown = page.evaluate("href => showChapter(href)", href)
            fonts = platform_fonts(cdp)
            chapters.append(Chapter(href, shown["text"], shown["faces"], fonts))
    finally:
        page.close()
    assert not errors, f"{epub.name}: the reader page failed: {errors}"
    return opened["fonts"], chapters


def platform_fonts(cdp) -> dict[str, set[str]]:
    """For each element of the chapter's body with text of its own, the platform fonts that drew it.

    CSS.getPlatformFontsForNode reports the font Chromium really used (the custom font's own name
    when a @font-face was used, the system font when it fell back), per child text node.
    """
    root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
    frame = find_frame_document(root)
    assert frame is not None, "epub.js showed no chapter frame"
    ids = cdp.send("DOM.querySelectorAll", {"nodeId": frame["nodeId"], "selector": "body *"})
    skip = cdp.send(
        "DOM.querySelectorAll",
        {
            "nodeId": frame["nodeId"],
            "selector": ", ".join(f"{t}, {t} *" for t in NOT_BOOK_TEXT.split(", ")),
        },
    )
    used = {}
    for node_id in sorted(set(ids["nodeIds"]) - set(skip["nodeIds"])):
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})["fonts"]
        if fonts:
            node = cdp.send("DOM.describeNode", {"nodeId": node_id})["node"]
            label = f"<{node['localName']}> #{node_id}"
            used[label] = {
                f"{f['familyName']}{'' if f['isCustomFont'] else ' (system)'}" for f in fonts
            }
    return used


def find_frame_document(node: dict) -> dict | None:
    """The content document of the first iframe under a CDP DOM node (epub.js shows one chapter)."""
    if node.get("nodeName") == "IFRAME" and "contentDocument" in node:
        return node["contentDocument"]
    for child in node.get("children", []):
        found = find_frame_document(child)
        if found:
            return found
    return None


def embedded_families(epub: Path) -> set[str]:
    """The family names (name ID 1) in the EPUB's fonts, de-obfuscated as a reading system would."""
    identifier = unique_identifier(epub)
    with zipfile.ZipFile(epub) as archive:
        fonts = [n for n in archive.namelist() if n.startswith("EPUB/fonts/")]
        data = [obfuscate(archive.read(n), obfuscation_key(identifier)) for n in fonts]
    return {TTFont(io.BytesIO(d))["name"].getDebugName(1) for d in data}


def unique_identifier(epub: Path) -> str:
    """The package's unique identifier, the key of its font obfuscation."""
    opf = opf_tree(epub)
    uid = opf.get("unique-identifier")
    return opf.find(f".//dc:identifier[@id='{uid}']", NS).text


def opening_words(epub: Path) -> dict[str, str]:
    """The first words of each chapter's first paragraph, by spine href (as test_epub_store picks)."""
    openings = {}
    for href, root in xhtml_documents(epub).items():
        first = root.find(".//h:section/h:p", NS)
        if first is not None and href.startswith("text/") and href != "text/title.xhtml":
            openings[href] = " ".join(text_before_math(first).split()[:8])
    return openings


def text_before_math(element) -> str:
    """An element's text up to its first MathML formula (a browser shows a formula as drawn)."""
    text = []
    for node in element.xpath(".//text()"):
        if node.getparent().xpath("ancestor-or-self::m:math", namespaces=MATHML):
            break
        text.append(node)
    return "".join(text)


def check_epubjs_reading(epub: Path, deobfuscated: list[str], chapters: list[Chapter]) -> None:
    """Assert each chapter shows its opening words and, when fonts are embedded, is set in them."""
    openings = opening_words(epub)
    assert {c.href for c in chapters} >= set(openings), "epub.js left chapters out of the spine"
    for chapter in chapters:
        if chapter.href in openings:
            opening = openings[chapter.href]
            assert squash(opening) in squash(chapter.text), f"{chapter.href}: {opening!r} not shown"
    with zipfile.ZipFile(epub) as archive:
        if "META-INF/encryption.xml" not in archive.namelist():
            return
    assert deobfuscated, "the reader found no obfuscated fonts to read back"
    for chapter in chapters:
        broken = [f for f in chapter.faces if f["status"] != "loaded"]
        assert not broken, f"{chapter.href}: @font-face not read: {broken}"
    families = embedded_families(epub)
    for chapter in chapters:
        assert {f["family"] for f in chapter.faces} >= families, chapter.href
        fallback = {e: f for e, f in chapter.platform_fonts.items() if not f <= families}
        assert not fallback, (
            f"{chapter.href}: text drawn in fonts the book does not embed: {fallback}"
        )
    drawn = set().union(*(f for c in chapters for f in c.platform_fonts.values()))
    assert drawn == families, f"embedded {families}, drawn {drawn}"


def test_epubjs_shows_each_chapter_in_the_books_own_fonts(case, browser):
    deobfuscated, chapters = read_in_epubjs(browser, case.epub)
    check_epubjs_reading(case.epub, deobfuscated, chapters)


def test_obfuscated_fonts_do_not_load_unless_read_back(build_case, browser):
    sample = build_case("sample").epub
    deobfuscated, chapters = read_in_epubjs(browser, sample, deobfuscate=False)
    assert not deobfuscated
    statuses = {f["status"] for c in chapters for f in c.faces}
    assert statuses == {"error"}, statuses
    with pytest.raises(AssertionError, match="no obfuscated fonts to read back"):
        check_epubjs_reading(sample, deobfuscated, chapters)


def test_a_font_obfuscated_with_the_wrong_key_fails_the_check(build_case, browser, tmp_path):
    sample = build_case("sample").epub
    broken = tmp_path / "wrong-key.epub"
    rewrite_fonts(sample, broken, obfuscation_key("urn:uuid:not-this-book"))
    deobfuscated, chapters = read_in_epubjs(browser, broken)
    assert deobfuscated
    with pytest.raises(AssertionError, match="@font-face not read"):
        check_epubjs_reading(broken, deobfuscated, chapters)


def rewrite_fonts(source: Path, target: Path, wrong_key: bytes) -> None:
    """Copy an EPUB with its fonts obfuscated under another key; encryption.xml still claims them."""
    right_key = obfuscation_key(unique_identifier(source))
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename.startswith("EPUB/fonts/"):
                data = obfuscate(obfuscate(data, right_key), wrong_key)
            new.writestr(info, data)

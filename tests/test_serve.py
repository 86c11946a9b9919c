"""`build.py --serve`: serves the web edition on loopback, rebuilds on change, reloads, stops cleanly."""

# ruff: noqa: F811 - `browser` is a fixture imported from web_site
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest
from conftest import CASES_DIR, ROOT, answers_ctrl_c
from web_site import browser  # noqa: F401

RELOAD_SECONDS = 60  # the page asks every second; a small book rebuilds in about a second


class Printed:
    """The lines a process prints, read in a thread so that a failure can show them all."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.read = 0  # how many lines wait_for has looked at
        self.changed = threading.Condition()
        threading.Thread(target=self._collect, args=(process,), daemon=True).start()

    def _collect(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, pattern: str, seconds: float = 120) -> re.Match:
        """The next line (after those already looked at) that matches, or fail."""
        deadline = time.monotonic() + seconds
        with self.changed:
            while True:
                while self.read < len(self.lines):
                    self.read += 1
                    found = re.search(pattern, self.lines[self.read - 1])
                    if found:
                        return found
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"no line matching {pattern!r} in:\n{self.text()}")
                self.changed.wait(left)

    def text(self) -> str:
        """Everything printed so far."""
        return "".join(self.lines)


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def wait_for_text(page, word: str, printed: Printed) -> None:
    """Wait until the page, reloaded by its script, shows `word`; else fail with the output."""
    try:
        page.wait_for_function(
            "word => document.querySelector('main')?.innerText.includes(word)",
            arg=word,
            timeout=RELOAD_SECONDS * 1000,
        )
    except Exception as error:  # noqa: BLE001 - Playwright's TimeoutError, reported with context
        shown = page.evaluate("() => document.documentElement.outerHTML.slice(0, 1500)")
        served = get(page.url)
        pytest.fail(
            f"the page did not reload to show {word!r} ({error}); the server printed:\n"
            f"{printed.text()}\nThe page, {page.url}, after its requests "
            f"{getattr(page, 'quire_requests', [])}, shows:\n{shown}\n"
            f"The server now serves {word!r} there: {word in served}; build "
            f"{get(urllib.parse.urljoin(page.url, '/__quire/build'))}"
        )


@pytest.mark.expect_warnings
def test_serve_rebuilds_reloads_and_stops_cleanly(tmp_path, browser):
    book = tmp_path / "book.md"
    shutil.copy(CASES_DIR / "single-file" / "book.md", book)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), str(book), "--out", str(tmp_path / "dist")]
        + ["--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
        preexec_fn=answers_ctrl_c,
    )
    printed = Printed(process)
    try:
        base = printed.wait_for(r"serving (http://127\.0\.0\.1:\d+/)").group(1)
        printed.wait_for(r"quire: watching")  # --watch's loop, after the first build
        time.sleep(1)  # the watcher starts just after it says so
        assert '<script src="/__quire/reload.js" data-build="0">' in get(base)
        assert get(base + "__quire/build") == "0"
        page = browser.new_page()
        page.quire_requests = []  # what the page asked for and got, shown on a failure
        page.on("response", lambda r: page.quire_requests.append((r.url[-40:], r.status)))
        page.goto(base + "index.html", wait_until="networkidle")
        last = ".index-toc li:last-child a"  # the sentence goes at the end of the last chapter
        chapter = page.eval_on_selector(last, "a => a.getAttribute('href')")
        page.goto(base + chapter, wait_until="networkidle")

        good = book.read_text() + "\n\nA sentence about zymurgical puddles.\n"
        book.write_text(good)
        printed.wait_for(r"quire: changed book\.md")
        printed.wait_for(r"laid out: ")  # what was laid out again
        printed.wait_for(r"quire: rebuilt in \d+\.\d+ s")
        assert get(base + "__quire/build") == "1"
        wait_for_text(page, "zymurgical", printed)

        book.write_text(good + "\n![A figure that is not there](nowhere.png)\n")
        printed.wait_for(r"^error: .*nowhere\.png")
        printed.wait_for(r"quire: build failed in")
        assert get(base + "__quire/build") == "1"  # the last good build, still served
        assert "zymurgical" in get(base + chapter)

        book.write_text(good.replace("zymurgical", "saponaceous"))
        printed.wait_for(r"quire: rebuilt in \d+\.\d+ s")
        assert int(get(base + "__quire/build")) >= 2, printed.text()  # one save, one build or two
        wait_for_text(page, "saponaceous", printed)
        page.close()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0, printed.text()
    printed.wait_for("stopped watching", seconds=5)
    printed.wait_for("stopped serving", seconds=5)

"""`build.py --serve`: serves the web edition on loopback, rebuilds on change, reloads, stops cleanly."""

# ruff: noqa: F811 - `browser` is a fixture imported from web_site
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import CASES_DIR, ROOT, answers_ctrl_c
from web_site import browser  # noqa: F401


def read_until(process: subprocess.Popen, pattern: str, seconds: float = 120) -> re.Match:
    """Read the process's output line by line until a line matches, or fail."""
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found
    pytest.fail(f"no line matching {pattern!r} in:\n{''.join(seen)}")


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


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
    try:
        base = read_until(process, r"serving (http://127\.0\.0\.1:\d+/)").group(1)
        read_until(process, r"quire: watching")  # --watch's loop, after the first build
        time.sleep(1)  # the watcher starts just after it says so
        assert "/__quire/reload.js" in get(base)
        assert get(base + "__quire/build") == "0"
        page = browser.new_page()
        page.goto(base + "index.html", wait_until="networkidle")
        last = ".index-toc li:last-child a"  # the sentence goes at the end of the last chapter
        chapter = page.eval_on_selector(last, "a => a.getAttribute('href')")
        page.goto(base + chapter, wait_until="networkidle")
        good = book.read_text() + "\n\nA sentence about zymurgical puddles.\n"
        with page.expect_event("load", timeout=120_000):
            book.write_text(good)
        assert "zymurgical" in page.inner_text("main")
        read_until(process, r"quire: changed book\.md")
        read_until(process, r"laid out: ")  # what was laid out again
        read_until(process, r"quire: rebuilt in \d+\.\d+ s")
        assert get(base + "__quire/build") == "1"

        book.write_text(good + "\n![A figure that is not there](nowhere.png)\n")
        read_until(process, r"^error: .*nowhere\.png")
        read_until(process, r"quire: build failed in")
        assert get(base + "__quire/build") == "1"  # the last good build, still served
        assert "zymurgical" in get(base + chapter)
        with page.expect_event("load", timeout=120_000):
            book.write_text(good.replace("zymurgical", "saponaceous"))
        assert "saponaceous" in page.inner_text("main")
        assert get(base + "__quire/build") == "2"
        page.close()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "stopped watching" in output
    assert "stopped serving" in output

"""Bad and hostile manuscripts: clear errors, nothing lost, nothing read or fetched from outside.

Every build here runs through the real command line. A small good book is built into one output
folder once per session; every failing build writes into that same folder, and afterwards its
files must be byte-identical.
"""

from __future__ import annotations

import http.server
import io
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from pathlib import Path

import pytest
import yaml
from PIL import Image
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
BAD = Path(__file__).resolve().parent / "bad"
GOOD_BOOK = {
    "book.yaml": "title: Good Book\nauthor: A. Writer\nlang: en\n",
    "one.md": "# One\n\nA short chapter.\n",
}
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_PROXY": "127.0.0.1,localhost"}


def run_build(source: Path | str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """`python build.py SOURCE --out OUT ...`, from the repository's root."""
    return subprocess.run(
        [sys.executable, "build.py", str(source), "--out", str(out), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )


def write_book(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write a manuscript's files (text or bytes) and return its folder."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file in an output folder, by relative path."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def good_out(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """An output folder with a good book built into it, and its files' bytes."""
    book = write_book(tmp_path_factory.mktemp("good-book"), GOOD_BOOK)
    out = tmp_path_factory.mktemp("out")
    proc = run_build(book, out)
    assert proc.returncode == 0, proc.stderr
    assert {"good-book.epub", "good-book.pdf"} <= set(snapshot(out))
    return out, snapshot(out)


def assert_refused(proc: subprocess.CompletedProcess, good_out, *needles: str) -> None:
    """Exit 1, every needle in stderr, no traceback, and the earlier output left as it was."""
    out, before = good_out
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "internal error" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, f"{needle!r} not in:\n{proc.stderr}"
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors and all(len(line) < 400 for line in errors), proc.stderr
    assert snapshot(out) == before


# --- manuscripts in tests/bad/<case>/, each with the messages it must get in expect.yaml ---------


def bad_cases() -> list[str]:
    """The folders under tests/bad with an expect.yaml."""
    return sorted(p.parent.name for p in BAD.glob("*/expect.yaml"))


@pytest.mark.parametrize("name", bad_cases())
def test_bad_manuscript_is_refused_clearly(name, good_out):
    expect = yaml.safe_load((BAD / name / "expect.yaml").read_text())
    source = BAD / name / expect.get("source", "")
    proc = run_build(source, good_out[0])
    assert_refused(proc, good_out, *expect["stderr"])


# --- cases that need files made on the spot --------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (8, 8)) -> bytes:
    """A small image in the given Pillow format."""
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, fmt)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size: a decompression bomb, made cheaply."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * (width + 1) * 4)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def image_book(tmp_path: Path, image: bytes, name: str) -> Path:
    """A book whose one chapter shows one image, on line 5."""
    return write_book(
        tmp_path / "book",
        {**GOOD_BOOK, "one.md": f"# One\n\nText.\n\n![A picture]({name})\n", name: image},
    )


@pytest.mark.parametrize(
    ("name", "make", "needles"),
    [
        ("scan.tif", lambda: image_bytes("TIFF"), ["image scan.tif is TIFF", "convert it to PNG"]),
        ("scan.bmp", lambda: image_bytes("BMP"), ["image scan.bmp is BMP", "convert it to PNG"]),
        ("cut.png", lambda: image_bytes("PNG")[:60], ["image cut.png is corrupt", "export it"]),
        ("text.jpg", lambda: b"not an image at all\n", ["image text.jpg is corrupt", "export it"]),
        ("bomb.png", lambda: png_claiming(30000, 30000), ["900,000,000 pixels", "scale it down"]),
        ("big.png", lambda: png_claiming(8000, 8000), ["8000×8000 pixels", "scale it down"]),
    ],
    ids=["tiff", "bmp", "truncated", "not-an-image", "bomb", "too-many-pixels"],
)
def test_bad_image_is_refused(tmp_path, good_out, name, make, needles):
    book = image_book(tmp_path, make(), name)
    proc = run_build(book, good_out[0])
    assert_refused(proc, good_out, "one.md:5: ", *needles)


def test_symlink_out_of_the_book_is_refused(tmp_path, good_out):
    secret = tmp_path / "secret.png"
    secret.write_bytes(image_bytes("PNG"))
    book = write_book(tmp_path / "book", {**GOOD_BOOK, "one.md": "# One\n\n![Map](map.png)\n"})
    (book / "map.png").symlink_to(secret)
    (book / "pictures").symlink_to(tmp_path)
    proc = run_build(book, good_out[0])
    assert_refused(proc, good_out, "one.md:3: `map.png` points outside the book's folder")
    (book / "one.md").write_text("# One\n\n![Map](pictures/secret.png)\n")
    proc = run_build(book, good_out[0])
    assert_refused(proc, good_out, "one.md:3: `pictures/secret.png` points outside")


def test_symlinked_chapter_out_of_the_book_is_refused(tmp_path, good_out):
    (tmp_path / "private.md").write_text("# Private\n\nNot for the book.\n")
    book = write_book(tmp_path / "book", GOOD_BOOK)
    (book / "two.md").symlink_to(tmp_path / "private.md")
    proc = run_build(book, good_out[0])
    assert_refused(proc, good_out, "`two.md`", "is outside the book's folder")


def test_css_url_out_of_the_book_is_refused(tmp_path, good_out):
    book = write_book(tmp_path / "book", GOOD_BOOK)
    shutil.copytree(ROOT / "styles", book / "styles", ignore=shutil.ignore_patterns("fonts"))
    with (book / "styles" / "print.css").open("a") as css:
        css.write(
            "\n/* url(../../ignored-in-a-comment.png) */\nbody { background: url(/etc/passwd) }\n"
        )
    proc = run_build(book, good_out[0])
    assert_refused(proc, good_out, "print.css:", "absolute path refused: /etc/passwd")


@pytest.mark.parametrize("where", ["parent-is-a-file", "out-is-a-file"])
def test_output_folder_that_cannot_be_written(tmp_path, where):
    book = write_book(tmp_path / "book", GOOD_BOOK)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be\n")
    out = blocker / "dist" if where == "parent-is-a-file" else blocker
    proc = run_build(book, out, "--to", "epub")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    # Refused before any work, naming the file that stands where a folder must be.
    assert f"error: {blocker}: is a file, not a folder" in proc.stderr
    assert "choose an output folder with --out" in proc.stderr
    assert "render" not in proc.stdout
    assert blocker.read_text() == "a file where a folder should be\n"


def test_missing_source(tmp_path, good_out):
    proc = run_build(tmp_path / "no-such-book", good_out[0])
    assert_refused(proc, good_out, "no-such-book: no such file or folder", "give a manuscript")


# --- raw HTML: scripts and handlers stripped, and the EPUB stays valid ---------------------------

HOSTILE_HTML = """# One

Text.

<script>alert("hi")</script>

<iframe src="https://example.invalid/"></iframe>

<object data="movie.swf"></object>

<p onclick="alert(1)" onmouseover="alert(2)">Click me.</p>

<a href=" javascript:alert(3)">A bad link</a> and <a href="https://example.org/">a good one</a>.
"""


def test_scripts_and_handlers_are_stripped_and_the_epub_is_valid(tmp_path):
    from quire.validate import run_epubcheck

    book = write_book(tmp_path / "book", {**GOOD_BOOK, "one.md": HOSTILE_HTML})
    out = tmp_path / "out"
    proc = run_build(book, out, "--to", "epub")
    assert proc.returncode == 0, proc.stderr
    for needle in ("<script> removed", "<iframe> removed", "<object> removed", "`onclick` removed"):
        assert needle in proc.stderr
    assert "one.md:11: raw HTML attribute `onclick`" in proc.stderr
    assert "raw HTML attribute `href` removed" in proc.stderr
    with zipfile.ZipFile(out / "good-book.epub") as epub:
        text = "".join(epub.read(n).decode() for n in epub.namelist() if n.endswith(".xhtml"))
    for gone in ("<script", "<iframe", "<object", "onclick", "onmouseover", "javascript:"):
        assert gone not in text
    assert "Click me." in text and "https://example.org/" in text
    report = run_epubcheck(out / "good-book.epub")
    assert (report.count("fatal"), report.count("error")) == (0, 0), report.findings


def test_xxe_in_raw_html_leaks_nothing(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT\n")
    markdown = (
        f'# One\n\n<!DOCTYPE x [<!ENTITY s SYSTEM "file://{secret}">]>\n\n<p>Entity: &s;</p>\n'
    )
    book = write_book(tmp_path / "book", {**GOOD_BOOK, "one.md": markdown})
    out = tmp_path / "out"
    proc = run_build(book, out)
    assert "Traceback" not in proc.stderr
    for path in [*out.glob("*.epub"), *out.glob("*.pdf")]:
        data = path.read_bytes()
        if path.suffix == ".epub":
            data = b"".join(zipfile.ZipFile(path).read(n) for n in zipfile.ZipFile(path).namelist())
        assert b"TOP-SECRET" not in data
    if proc.returncode == 0:
        text = "".join(p.extract_text() for p in PdfReader(out / "good-book.pdf").pages)
        assert "TOP-SECRET" not in text


# --- no network: a loopback server proves that nothing is requested without the opt-in ------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Serves one small PNG for any path and records every request."""

    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        """Answer with the PNG."""
        type(self).requests.append(self.path)
        body = image_bytes("PNG", (12, 12))
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server():
    """A loopback HTTP server in a thread: yields its base URL and the list of requested paths."""
    _Recorder.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Recorder.requests
    httpd.shutdown()
    httpd.server_close()


def remote_book(tmp_path: Path, base: str, where: str, allow: bool) -> Path:
    """A book that refers to the server: by a Markdown image, a raw <img>, or its styles' CSS."""
    settings = GOOD_BOOK["book.yaml"] + ("allow-remote: true\n" if allow else "")
    text = {
        "markdown": f"# One\n\nText.\n\n![A remote picture]({base}/md.png)\n",
        "html": f'# One\n\nText.\n\n<img src="{base}/raw.png" alt="A remote picture"/>\n',
        "css": GOOD_BOOK["one.md"],
    }[where]
    book = write_book(tmp_path / "book", {"book.yaml": settings, "one.md": text})
    if where == "css":
        shutil.copytree(ROOT / "styles", book / "styles", ignore=shutil.ignore_patterns("fonts"))
        with (book / "styles" / "print.css").open("a") as css:
            css.write(f"\nbody {{\n  background: url('{base}/bg.png');\n}}\n")
    return book


@pytest.mark.parametrize("where", ["markdown", "html", "css"])
def test_remote_reference_is_refused_without_a_request(tmp_path, good_out, server, where):
    base, requests = server
    proc = run_build(remote_book(tmp_path, base, where, allow=False), good_out[0])
    line = "print.css:" if where == "css" else "one.md:5:"
    assert_refused(proc, good_out, f"{line}", "remote resource refused: http://127.0.0.1:")
    assert requests == []


def test_css_url_is_refused_even_with_the_opt_in(tmp_path, good_out, server):
    base, requests = server
    proc = run_build(remote_book(tmp_path, base, "css", allow=True), good_out[0])
    assert_refused(proc, good_out, "print.css:", "remote resource refused")
    assert requests == []


@pytest.mark.parametrize("where", ["markdown", "html"])
def test_remote_image_is_fetched_with_the_opt_in(tmp_path, server, where):
    base, requests = server
    out = tmp_path / "out"
    proc = run_build(remote_book(tmp_path, base, where, allow=True), out)
    assert proc.returncode == 0, proc.stderr
    assert len(requests) == 1 and requests[0].endswith(".png")
    with zipfile.ZipFile(out / "good-book.epub") as epub:
        name = "md.png" if where == "markdown" else "raw.png"
        pictures = [n for n in epub.namelist() if n == f"EPUB/images/{name}"]
        assert len(pictures) == 1, epub.namelist()
        assert Image.open(io.BytesIO(epub.read(pictures[0]))).size == (12, 12)
    assert len(PdfReader(out / "good-book.pdf").pages) > 0


def test_remote_image_that_fails_to_fetch_is_a_clear_error(tmp_path, good_out, server):
    base, _requests = server
    dead = base.rsplit(":", 1)[0] + ":9"  # the discard port: nothing listens there
    book = remote_book(tmp_path, dead, "markdown", allow=True)
    proc = run_build(book, good_out[0])
    assert_refused(proc, good_out, "one.md:5: cannot fetch http://127.0.0.1:9/md.png")


# --- atomic outputs: interrupted and concurrent builds ----------------------------------------------


@pytest.fixture(scope="module")
def big_out(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """The sample book built into a folder of its own, and that folder's files."""
    out = tmp_path_factory.mktemp("big-out")
    proc = run_build(ROOT / "manuscript", out)
    assert proc.returncode == 0, proc.stderr
    return out, snapshot(out)


def start_and_signal(out: Path, sig: int) -> subprocess.CompletedProcess:
    """Start building the sample book, send `sig` once it is rendering, and wait for the end."""
    proc = subprocess.Popen(
        [sys.executable, "build.py", "manuscript", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    for line in proc.stdout:
        if line.lstrip().startswith("transform"):
            break
    time.sleep(1.0)  # well inside the PDF layout, which takes several seconds
    assert proc.poll() is None, "the build finished before it could be interrupted"
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def test_ctrl_c_during_rendering_keeps_the_previous_files(big_out):
    out, before = big_out
    proc = start_and_signal(out, signal.SIGINT)
    assert proc.returncode == 130, proc.stderr
    assert "interrupted; nothing in" in proc.stderr and "Traceback" not in proc.stderr
    assert snapshot(out) == before


def test_kill_during_rendering_keeps_the_previous_files(big_out):
    out, before = big_out
    proc = start_and_signal(out, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(out) == before


def test_leftover_part_files_do_not_break_a_later_build(big_out):
    out, before = big_out
    slug = next(name for name in before if name.endswith(".epub"))
    leftover = out / f".{slug}.k3j4h5.part"
    leftover.write_bytes(b"half a file from a killed build")
    proc = run_build(ROOT / "manuscript", out, "--to", "epub")
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out / slug) as epub:
        assert epub.testzip() is None
    leftover.unlink()


def test_two_builds_at_once_into_one_folder(tmp_path):
    book = write_book(tmp_path / "book", GOOD_BOOK)
    out = tmp_path / "out"
    command = [sys.executable, "build.py", str(book), "--out", str(out)]
    runs = [
        subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    assert [code for code, _out, _err in results] == [0, 0], results
    pages = {
        line.split(", ")[-1]
        for _c, text, _e in results
        for line in text.splitlines()
        if ".pdf (" in line
    }
    assert len(pages) == 1  # both builds laid out the same number of pages
    with zipfile.ZipFile(out / "good-book.epub") as epub:
        assert epub.testzip() is None
        assert epub.read("mimetype") == b"application/epub+zip"
    pdf = (out / "good-book.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert f"{len(PdfReader(out / 'good-book.pdf').pages)} pages)" == pages.pop()
    assert not list(out.glob(".*.part"))


# --- an unexpected exception is reported as a bug, with its traceback in a log ---------------------


def test_unexpected_exception_is_reported_as_a_bug(tmp_path, monkeypatch, capsys):
    import quire.cli
    import quire.pipeline

    def broken(*args: object) -> None:
        raise RuntimeError("injected failure in the transform stage")

    monkeypatch.setattr(quire.pipeline, "transform", broken)
    book = write_book(tmp_path / "book", GOOD_BOOK)
    status = quire.cli.main([str(book), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1
    assert "error: internal error (a bug in Quire): RuntimeError: injected failure" in err
    assert "Traceback" not in err
    log = Path(err.split("the traceback is in ", 1)[1].split(";", 1)[0])
    text = log.read_text()
    assert "Traceback" in text and "injected failure in the transform stage" in text
    assert "def broken" in text or "broken" in text
    assert not (tmp_path / "out").exists()

"""Issue 24, hardening: Quire deletes only what it wrote, escapes every value it writes in a page,
trusts no cache file it did not sign, and serves a preview only to this machine.

Each build runs through the real command line, as tests/test_bad_input.py runs them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_bad_input import run_build, snapshot, write_book

BOOK = {"book.yaml": "title: My Book\nauthor: A. Writer\nlang: en\n", "one.md": "# One\n\nText.\n"}


@pytest.fixture(autouse=True)
def own_key(tmp_path, monkeypatch):
    """Each test's builds keep their cache key in a folder of their own, not the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a build of this test (its own cache key, one layout worker)."""
    return {"XDG_CACHE_HOME": str(tmp_path / "user-cache"), "QUIRE_WORKERS": "1"}


def refused(proc, *needles: str) -> None:
    """Exit 1, a clear message with every needle, no traceback."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, f"{needle!r} not in:\n{proc.stderr}"


# --- item 1: the manuscript is never replaced ------------------------------------------------------


def test_manuscript_inside_the_out_folder_is_not_replaced(tmp_path):
    """The web edition's folder is named by the slug: here, the book's own folder."""
    work = tmp_path / "work"
    book = write_book(work / "my-book", BOOK)
    before = snapshot(work)
    proc = run_build(book, work, env=env(tmp_path))
    refused(proc, f"{book}: is a book's folder (it holds book.yaml)")
    assert snapshot(work) == before
    assert sorted(os.listdir(work)) == ["my-book"]


def test_out_folder_that_is_the_book_folder_keeps_the_chapters(tmp_path):
    book = write_book(
        tmp_path / "book",
        {
            "book.yaml": "title: Chapters\nlang: en\nchapters: [chapters/one.md]\n",
            "chapters/one.md": "# One\n\nText.\n",
        },
    )
    before = snapshot(book)
    proc = run_build(book, book, "--to", "html", env=env(tmp_path))
    refused(proc, f"{book / 'chapters'}: is not a file Quire wrote")
    assert snapshot(book) == before


def test_book_and_out_as_one_folder_builds_and_rebuilds(tmp_path):
    book = write_book(tmp_path / "book", BOOK)
    sources = snapshot(book)
    for text in ("Text.", "Text, changed."):
        (book / "one.md").write_text(f"# One\n\n{text}\n", encoding="utf-8")
        proc = run_build(book, book, "--to", "epub", env=env(tmp_path))
        assert proc.returncode == 0, proc.stderr
    assert (book / "my-book.epub").is_file()
    assert snapshot(book)["book.yaml"] == sources["book.yaml"]
    assert (book / "one.md").read_text() == "# One\n\nText, changed.\n"


def test_out_folder_inside_the_book_builds_and_rebuilds(tmp_path):
    book = write_book(tmp_path / "book", BOOK)
    out = book / "dist"
    for text in ("Text.", "Text, changed."):
        (book / "one.md").write_text(f"# One\n\n{text}\n", encoding="utf-8")
        proc = run_build(book, out, "--to", "html", env=env(tmp_path))
        assert proc.returncode == 0, proc.stderr
    assert (out / "my-book" / "index.html").is_file()
    assert set(snapshot(book)) >= {"book.yaml", "one.md"}


def test_a_file_quire_did_not_write_is_not_replaced(tmp_path):
    book = write_book(tmp_path / "book", BOOK)
    out = write_book(tmp_path / "out", {"my-book.epub": "my own notes, not an EPUB\n"})
    proc = run_build(book, out, "--to", "epub", env=env(tmp_path))
    refused(proc, f"{out / 'my-book.epub'}: is not a file Quire wrote", "--out")
    assert snapshot(out) == {"my-book.epub": b"my own notes, not an EPUB\n"}


def test_a_file_put_into_the_site_folder_is_not_deleted(tmp_path):
    book = write_book(tmp_path / "book", BOOK)
    out = tmp_path / "out"
    assert run_build(book, out, "--to", "html", env=env(tmp_path)).returncode == 0
    (out / "my-book" / "mine.txt").write_text("keep me\n")
    (book / "one.md").write_text("# One\n\nChanged.\n", encoding="utf-8")
    before = snapshot(out)
    proc = run_build(book, out, "--to", "html", env=env(tmp_path))
    refused(proc, "holds mine.txt, which Quire did not write")
    assert snapshot(out) == before


def test_an_out_folder_from_before_the_manifest_is_rebuilt(tmp_path):
    """Outputs the last build's record names, as they were written, are Quire's: an out folder
    made before Quire kept a manifest builds again; an output changed since does not."""
    book = write_book(tmp_path / "book", BOOK)
    out = tmp_path / "out"
    assert run_build(book, out, "--to", "html", env=env(tmp_path)).returncode == 0
    (out / ".quire-manifest.json").unlink()
    (book / "one.md").write_text("# One\n\nChanged.\n", encoding="utf-8")
    proc = run_build(book, out, "--to", "html", env=env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    (out / ".quire-manifest.json").unlink()
    (out / "my-book" / "index.html").write_text("edited by hand\n")
    (book / "one.md").write_text("# One\n\nChanged again.\n", encoding="utf-8")
    proc = run_build(book, out, "--to", "html", env=env(tmp_path))
    refused(proc, f"{out / 'my-book'}: is not a file Quire wrote")
    assert (out / "my-book" / "index.html").read_text() == "edited by hand\n"


# --- item 2: never through a symlink ---------------------------------------------------------------


@pytest.mark.parametrize("link", [".quire-cache", ".quire-cache/parsed"])
@pytest.mark.parametrize("to", [("--to", "epub"), ()], ids=["epub", "all"])
def test_nothing_is_written_or_deleted_through_a_linked_cache(tmp_path, link, to):
    book = write_book(tmp_path / "book", BOOK)
    out = tmp_path / "out"
    assert run_build(book, out, "--to", "epub", env=env(tmp_path)).returncode == 0
    victim = write_book(tmp_path / "victim", {"notes.txt": "mine\n", "a.json": "{}\n"})
    place = out / link
    if link == ".quire-cache":
        for entry in place.iterdir():  # the victim holds the cache's files, as a link would show
            os.rename(entry, victim / entry.name)
    else:
        for entry in place.iterdir():
            entry.unlink()
    place.rmdir()
    place.symlink_to(victim, target_is_directory=True)
    kept = snapshot(victim)
    (book / "one.md").write_text("# One\n\nChanged.\n", encoding="utf-8")
    proc = run_build(book, out, *to, env=env(tmp_path))
    refused(proc, f"{place}: is a symlink, and Quire never writes or deletes through a link")
    assert snapshot(victim) == kept


# --- items 3-4: every value of the settings stays a value in the web edition ----------------------

HOSTILE = {
    "title": 'The "Best" Book',
    "subtitle": "A <b>bold</b> 'sub' title",
    "author": 'Ada "The Countess" Lovelace',
    "description": '0;url=http://127.0.0.1:9/x" http-equiv="refresh <!--<script> </script>',
    "publisher": 'P "&" Co',
    "site-url": 'https://example.org/a"b/',
}


def test_quotes_and_markup_in_the_settings_stay_text_on_the_web(tmp_path):
    import json

    import lxml.html
    import yaml

    settings = yaml.safe_dump({**HOSTILE, "lang": "en"})
    book = write_book(tmp_path / "book", {"book.yaml": settings, "one.md": "# One\n\nText.\n"})
    out = tmp_path / "out"
    proc = run_build(book, out, "--to", "html", env=env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    site = out / "the-best-book"
    index = lxml.html.parse(str(site / "index.html")).getroot()
    equivs = [m.get("http-equiv") for m in index.iter("meta") if m.get("http-equiv")]
    assert equivs == ["Content-Security-Policy"]  # no refresh to another site
    [described] = index.xpath("//meta[@name='description']")
    assert described.get("content") == HOSTILE["description"]
    assert index.findtext(".//title") == HOSTILE["title"]
    assert index.find(".//h1").text_content() == HOSTILE["title"]
    assert index.find(".//p[@class='authors']").text_content() == HOSTILE["author"]
    assert index.find(".//p[@class='subtitle']").text_content() == HOSTILE["subtitle"]
    assert index.find(".//p[@class='description']").text_content() == HOSTILE["description"]
    [canonical] = index.xpath("//link[@rel='canonical']")
    assert canonical.get("href") == HOSTILE["site-url"]
    scripts = index.findall(".//script")
    kinds = [s.get("src") or s.get("type") for s in scripts]
    assert kinds == ["site.js", "application/json", "application/ld+json"]  # words, then facts
    assert scripts[1].get("id") == "quire-words" and json.loads(scripts[1].text)["CloseNote"]
    data = json.loads(scripts[2].text)
    assert data["description"] == HOSTILE["description"]
    assert [a["name"] for a in data["author"]] == [HOSTILE["author"]]
    assert index.find(".//footer") is not None  # the page was not swallowed by the script
    for page in sorted(site.glob("*.html")):
        root = lxml.html.parse(str(page)).getroot()
        attributes = {name for element in root.iter() for name in element.attrib}
        words = {w.strip("\"'").lower() for value in HOSTILE.values() for w in value.split()}
        assert not attributes & (words - {"title"}), page  # no word of a value became a name
        assert not [a for a in attributes if a.startswith("on")], page
        alts = [img.get("alt") for img in root.iter("img")]
        assert all(HOSTILE["title"] in alt for alt in alts), alts


# --- items 5-6: a cache entry is signed with the user's key and range-checked ----------------------


def _built(tmp_path: Path) -> tuple[Path, Path, bytes]:
    """A small book built to PDF, its out folder and its PDF's bytes."""
    book = write_book(tmp_path / "book", {**BOOK, "two.md": "# Two\n\nMore text.\n"})
    out = tmp_path / "out"
    proc = run_build(book, out, "--to", "pdf", env=env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    return book, out, (out / "my-book.pdf").read_bytes()


def _rewrite(path: Path, change) -> dict:  # noqa: ANN001
    """Change a cache file's JSON in place; returns it as changed."""
    data = json.loads(path.read_bytes())
    change(data)
    path.write_text(json.dumps(data, sort_keys=True))
    return data


def _sign_state(data: dict, key_home: Path) -> None:
    """Sign a layout state as Quire would with this test's key (a forger with the key)."""
    from quire import cache_store
    from quire.render.pdf.cache import FORMAT

    os.environ["XDG_CACHE_HOME"] = str(key_home)
    cache_store.user_key.cache_clear()
    body = {k: v for k, v in data.items() if k != "check"}
    data["check"] = cache_store.signature(FORMAT, json.dumps(body, sort_keys=True))


@pytest.mark.parametrize("signed", [False, True], ids=["forged", "signed-but-out-of-range"])
def test_a_huge_page_count_in_the_state_is_dropped(tmp_path, signed):
    book, out, pdf = _built(tmp_path)
    state = out / ".quire-cache" / "state.json"

    def huge(data: dict) -> None:
        data["pages"] = dict.fromkeys(data["pages"], 10**9)
        if signed:
            _sign_state(data, tmp_path / "user-cache")

    _rewrite(state, huge)
    (out / ".quire-cache" / "build.json").unlink()  # so that the build runs
    proc = run_build(book, out, "--to", "pdf", env=env(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ignoring a damaged layout cache state" in proc.stderr
    assert (out / "my-book.pdf").read_bytes() == pdf


def test_a_forged_layout_entry_is_laid_out_again(tmp_path):
    """An entry with an action added and its plain checksum recomputed, as one could before."""
    from quire.cache_store import digest
    from quire.render.pdf.cache import FORMAT

    book, out, pdf = _built(tmp_path)
    units = sorted((out / ".quire-cache" / "units").glob("*.json"))
    record = units[-1]
    payload = record.with_suffix(".pdf")
    payload.write_bytes(b"%PDF-1.7\nnot a PDF at all, but its checksum is right\n")

    def forge(data: dict) -> None:
        body = {k: v for k, v in data.items() if k != "check"}
        data["check"] = digest(FORMAT, json.dumps(body, sort_keys=True), payload.read_bytes())

    _rewrite(record, forge)
    (out / ".quire-cache" / "build.json").unlink()
    proc = run_build(book, out, "--to", "pdf", env=env(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ignoring a damaged layout cache entry" in proc.stderr
    assert "cache entries dropped" in proc.stderr or proc.stderr.count("damaged") == 1
    assert "laid out: nothing" not in proc.stdout and "laid out: " in proc.stdout
    assert (out / "my-book.pdf").read_bytes() == pdf


def test_the_cache_key_is_the_users_own(tmp_path):
    from quire import cache_store

    cache_store.user_key.cache_clear()
    key = cache_store.user_key()
    path = tmp_path / "user-cache" / "quire" / "key"
    assert path.read_bytes() == key and len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    cache_store.user_key.cache_clear()
    assert cache_store.user_key() == key  # read back, not made again
    cache_store.user_key.cache_clear()


# --- item 9: --serve answers this machine only, with files of the site only -----------------------


@pytest.fixture
def served(tmp_path):
    """A site folder served by --serve's server; yields (port, folder)."""
    from quire import serve

    site_folder = write_book(tmp_path / "site", {"index.html": "<body>home</body>"})
    (site_folder / "empty").mkdir()
    (site_folder / "passwd").symlink_to("/etc/passwd")
    (site_folder / "outside").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "secret.txt").write_text("secret\n")
    site = serve.Site()
    site.folder, site.build = site_folder, 0
    server = serve.start_server(site, 0)
    yield server.server_port, site_folder
    server.shutdown()
    server.server_close()


def request(port: int, path: str, host: str | None = None) -> tuple[int, bytes]:
    """A GET with this Host header (the loopback address and port by default)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", host or f"127.0.0.1:{port}")
    connection.endheaders()
    response = connection.getresponse()
    status, body = response.status, response.read()
    connection.close()
    return status, body


def test_serve_answers_only_requests_for_this_machine(served):
    port, _ = served
    assert request(port, "/")[0] == 200
    assert request(port, "/", f"localhost:{port}")[0] == 200
    assert request(port, "/", f"[::1]:{port}")[0] == 200
    assert request(port, "/", f"evil.example:{port}")[0] == 403  # DNS rebinding
    assert request(port, "/", "127.0.0.1.evil.example")[0] == 403


def test_serve_serves_only_files_inside_the_site(served, capfd):
    port, _ = served
    status, body = request(port, "/index.html")
    assert status == 200 and body.startswith(b"<body>home")
    assert request(port, "/empty/")[0] == 404  # no listing of a folder
    assert request(port, "/passwd")[0] == 404  # a link out of the site
    assert request(port, "/outside/secret.txt")[0] == 404
    assert request(port, "/../secret.txt")[0] == 404
    assert request(port, "/%2e%2e/secret.txt")[0] == 404
    assert request(port, "/a%00b")[0] == 400
    assert request(port, "/" + "a" * 60_000)[0] in (400, 414)
    assert request(port, "/" + "a/" * 1000)[0] in (404, 414)
    assert request(port, "/")[0] == 200  # still serving
    assert "Traceback" not in capfd.readouterr().err


def test_a_silent_client_is_let_go_and_the_threads_are_bounded(served, monkeypatch):
    import socket
    import threading
    import time

    from quire import serve

    monkeypatch.setattr(serve.Handler, "timeout", 1)
    port, _ = served
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
    time.sleep(0.5)
    assert threading.active_count() - before <= serve.THREADS
    idle[0].settimeout(10)
    assert idle[0].recv(1) == b""  # closed by the server after its timeout, not held for ever
    for connection in idle:
        connection.close()
    time.sleep(1.5)
    assert request(port, "/")[0] == 200


def test_a_port_out_of_range_is_a_usage_error(tmp_path):
    book = write_book(tmp_path / "book", BOOK)
    proc = run_build(book, tmp_path / "out", "--serve", "--port", "70000", env=env(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "0 to 65535" in proc.stderr
    assert not (tmp_path / "out").exists()


# --- item 10: the sanitiser's leftovers ------------------------------------------------------------

LEFTOVERS = """# One

Text.

<svg width="10" height="10"><a><animate attributeName="href" values="javascript:alert(1)"/>\
<set attributeName="xlink:href" to="javascript:alert(2)"/><text x="0" y="9">x</text></a></svg>

<p background="http://127.0.0.1:9/bg.png">Background.</p>

<p><a href="https://example.org/" ping="http://127.0.0.1:9/ping">Pinged link.</a></p>

<p><a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">Data link.</a></p>

<table background="https://example.org/t.png"><tr><td>Cell</td></tr></table>

<p><font color="red">Red</font> and <made-up>odd</made-up> words.</p>
"""


def test_svg_animations_pings_backgrounds_and_data_links_are_removed(tmp_path):
    import zipfile

    from quire.validate import run_epubcheck

    book = write_book(tmp_path / "book", {**BOOK, "one.md": LEFTOVERS})
    out = tmp_path / "out"
    proc = run_build(book, out, "--to", "epub", "--verbose", env=env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for needle in ("raw SVG <animate> removed", "raw SVG <set> removed", "`ping` removed",
                   "one.md:7: raw HTML attribute `background` removed", "`href` removed",
                   "one.md:15: raw HTML <font> is not an HTML element", "<made-up> is not"):  # fmt: skip
        assert needle in proc.stderr, proc.stderr
    with zipfile.ZipFile(out / "my-book.epub") as epub:
        text = epub.read("EPUB/text/01-one.xhtml").decode()
    for gone in ("javascript:", "<animate", "<set", "ping=", "background=", "data:", "<font"):
        assert gone not in text, gone
    for kept in ("Background.", "Pinged link.", "Data link.", "https://example.org/", "Red and"):
        assert kept in text, kept
    report = run_epubcheck(out / "my-book.epub")
    # (Inline SVG's own namespace findings are another matter: see the round's report.)
    findings = [str(f) for f in report.findings if "svg" not in str(f).lower()]
    assert not [f for f in findings if "ERROR" in f or "FATAL" in f], findings


# --- items 7-8: citeproc confined and bounded ------------------------------------------------------

BAD = Path(__file__).resolve().parent / "bad"


def _references(count: int) -> str:
    """A CSL JSON bibliography of `count` books, keyed w0, w1, ..."""
    return json.dumps([{"id": f"w{n}", "type": "book", "title": f"Work {n}"} for n in range(count)])


def test_a_dependent_style_uses_its_parent_kept_in_the_book(tmp_path):
    case = BAD / "csl-dependent-remote"
    book = write_book(
        tmp_path / "book",
        {name: (case / name).read_text() for name in ("book.yaml", "one.md", "refs.json")},
    )
    (book / "dependent.csl").write_text((case / "dependent.csl").read_text())
    (book / "parent-style.csl").write_text(
        (BAD / "notes-made-by-citeproc" / "note.csl").read_text()
    )
    proc = run_build(book, tmp_path / "out", "--to", "epub", env=env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    import zipfile

    with zipfile.ZipFile(tmp_path / "out" / "dependent-style.epub") as epub:
        text = "".join(epub.read(n).decode() for n in epub.namelist() if n.endswith(".xhtml"))
    assert 'role="doc-noteref"' in text  # the parent, a note style, made the citation a note


def test_nocite_cannot_pull_in_more_than_the_cap(tmp_path):
    settings = "title: Everything\nlang: en\nbibliography: refs.json\nnocite: '@*'\n"
    book = write_book(
        tmp_path / "book",
        {
            "book.yaml": settings,
            "one.md": "# One\n\nAs [@w0] shows.\n",
            "refs.json": _references(6),
        },
    )
    capped = {**env(tmp_path), "QUIRE_MAX_NOCITE_REFERENCES": "4"}
    proc = run_build(book, tmp_path / "out", "--to", "epub", env=capped)
    refused(proc, "book.yaml:4: `nocite` brings 5 references the book does not cite, more than 4")
    assert not (tmp_path / "out").exists()
    (book / "book.yaml").write_text(settings.replace("'@*'", "'@w1, @w2'"))
    proc = run_build(book, tmp_path / "out", "--to", "epub", env=capped)
    assert proc.returncode == 0, proc.stderr

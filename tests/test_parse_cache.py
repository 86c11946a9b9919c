"""Pandoc's cache: a rebuild reads and writes again only what changed, and gives what a cold
build gives, byte for byte, with the same warnings; a damaged entry is ignored with a warning."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import pytest

from quire.errors import BuildError
from quire.load import load as load_book
from quire.parse import pandoc
from quire.pipeline import CACHE_FOLDER, build

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from make_book import make_book  # noqa: E402

# Pandoc warns of a note defined twice (its reader) and of TeX it cannot turn into MathML
# (its HTML writer); both must be reported again when the file comes from the cache.
WARNED = "\n\nA formula $\\badmacro{x}$ here.[^w]\n\n[^w]: first\n[^w]: again\n"
# Code blocks without an id: pandoc numbers those it highlights (cb1, cb2) through the book.
CODE = "\n\n```\nplain\n```\n\n```python\nx = 1\n```\n"


def built(source: Path, out: Path, formats=("epub",)) -> tuple[dict[str, bytes], list[str]]:
    """Build; (each output's bytes by format, the report's lines)."""
    lines: list[str] = []
    written = build(
        source, out, formats, lambda stage, _s, detail: lines.append(f"{stage}: {detail}")
    )
    return {w.format: w.path.read_bytes() for w in written}, lines


def read_again(lines: list[str]) -> list[str]:
    """The files the report says pandoc read (the others came from the cache); ["all"] when
    it read every one."""
    detail = next(line for line in lines if line.startswith("parse: "))
    named = detail.split("read: ", 1)[1]
    return [] if named.startswith("nothing") else named.split(", ")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def book(tmp_path_factory) -> Path:
    """A generated book of five files; the second chapter has code blocks without ids."""
    source = make_book(tmp_path_factory.mktemp("parse-cache") / "book", 3000)
    with (source / "01-chapter.md").open("a") as chapter:
        chapter.write(CODE)
    return source


def written_again(caplog) -> list[str]:
    """The chapters (by number) whose HTML pandoc wrote, from the debug record."""
    found = [r.getMessage() for r in caplog.records if "pandoc wrote the HTML" in r.getMessage()]
    return found[-1].split("chapters ", 1)[1].split(", ") if found else []


def test_an_edit_reads_and_writes_one_file_and_equals_a_cold_build(book, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="quire")
    out = tmp_path / "out"
    first, lines = built(book, out, ("epub", "pdf"))
    assert read_again(lines) == ["all"]
    edit(book / "02-chapter.md", " treaty ", " treaties ")
    with (book / "02-chapter.md").open("a") as chapter:
        chapter.write(CODE)  # its code blocks are numbered after the first chapter's
    caplog.clear()
    warm, lines = built(book, out, ("epub", "pdf"))
    assert read_again(lines) == ["02-chapter.md"]
    assert written_again(caplog) == ["3"]  # the preface is the first chapter
    cold, _ = built(book, tmp_path / "cold", ("epub", "pdf"))
    assert warm == cold
    assert warm["epub"] != first["epub"]
    # Its highlighted block is the book's fourth without an id (each chapter has two).
    assert b'id="cb4"' in _chapter_xhtml(warm["epub"], "ch-2")


def _chapter_xhtml(epub: bytes, anchor: str) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(epub)) as archive:
        texts = [archive.read(n) for n in archive.namelist() if n.endswith(".xhtml")]
    return next(t for t in texts if f'id="{anchor}"'.encode() in t)


def test_nothing_read_again_when_nothing_changed_but_the_record(book, tmp_path):
    out = tmp_path / "out"
    first, _ = built(book, out)
    (out / CACHE_FOLDER / "build.json").unlink()  # past the up-to-date check: parse again
    again, lines = built(book, out)
    assert read_again(lines) == []
    assert again == first


@pytest.mark.expect_warnings
def test_pandoc_warnings_of_an_unchanged_file_are_reported_again(book, tmp_path, caplog):
    with (book / "03-chapter.md").open("a") as chapter:
        chapter.write(WARNED)
    out = tmp_path / "out"
    built(book, out)
    edit(book / "02-chapter.md", " treaty ", " treaties ")
    caplog.clear()
    _, lines = built(book, out)
    assert read_again(lines) == ["02-chapter.md"]
    warm = _warnings(caplog)
    caplog.clear()
    built(book, tmp_path / "cold")
    cold = _warnings(caplog)
    assert warm == cold
    assert any("Duplicate note reference" in message for message in warm), warm
    assert any("badmacro" in message for message in warm), warm
    assert all("03-chapter.md:" in message for message in warm), warm


def _warnings(caplog) -> list[str]:
    """The warnings logged, each with the file and line it names."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.expect_warnings
@pytest.mark.parametrize(
    "damage", ["truncated", "wrong version", "hand-edited", "hand-edited html", "a folder"]
)
def test_a_damaged_entry_is_ignored_with_a_warning(book, tmp_path, damage, caplog):
    reference, _ = built(book, tmp_path / "reference")
    out = tmp_path / "out"
    built(book, out)
    source = next(s for s in load_book(book).files if s.name.endswith("02-chapter.md"))
    record = out / CACHE_FOLDER / "parsed" / f"{pandoc.parse_key(source)}.json"
    ast = record.with_suffix(".ast")
    if damage == "truncated":
        ast.write_bytes(ast.read_bytes()[: ast.stat().st_size // 2])
    elif damage == "wrong version":
        record.write_text(
            record.read_text().replace("quire-pandoc-cache 1", "quire-pandoc-cache 0")
        )
    elif damage == "hand-edited":  # valid JSON, another text: only the checksum tells
        ast.write_bytes(ast.read_bytes().replace(b'"treaty"', b'"truce"', 1))
    elif damage == "hand-edited html":
        page = sorted((out / CACHE_FOLDER / "html").glob("*.html"))[2]
        page.write_bytes(page.read_bytes().replace(b"treaty", b"truce", 1))
    else:
        ast.unlink()
        ast.mkdir()  # not a regular file: never read
    (out / CACHE_FOLDER / "build.json").unlink()
    caplog.clear()
    again, lines = built(book, out)
    assert again == reference
    assert read_again(lines) == ([] if damage == "hand-edited html" else ["02-chapter.md"])
    assert any("damaged pandoc cache" in r.getMessage() for r in caplog.records)


def test_deleting_the_cache_only_costs_time(book, tmp_path):
    out = tmp_path / "out"
    first, _ = built(book, out)
    shutil.rmtree(out / CACHE_FOLDER)
    again, lines = built(book, out)
    assert again == first
    assert read_again(lines) == ["all"]


def test_entries_of_files_gone_are_dropped_and_a_failed_build_writes_none(book, tmp_path):
    out = tmp_path / "out"
    built(book, out)
    parsed = out / CACHE_FOLDER / "parsed"
    before = set(parsed.iterdir())
    edit(book / "02-chapter.md", " treaty ", " treaties ")
    built(book, out)
    after = set(parsed.iterdir())
    assert len(after) == len(before) == 10  # five files, a record and an AST each
    assert len(after - before) == 2
    edit(book / "03-chapter.md", " treaty ", " treaties ")
    with (book / "03-chapter.md").open("a") as chapter:
        chapter.write("\n\n![A map](../../map.png)\n")  # outside the book: refused after the parse
    with pytest.raises(BuildError):
        built(book, out)
    assert set(parsed.iterdir()) == after


def test_pandoc_reads_and_writes_in_one_process_per_half_of_the_book(book, monkeypatch):
    """Each file or chapter in a pandoc process of its own would cost 50 ms apiece."""
    from quire.transform import transform

    pandoc.abbreviations()  # asked once per process, before the count starts
    runs: list[list[str]] = []
    run = pandoc.run_captured

    def counted(args, stdin, origin):
        runs.append(args)
        return run(args, stdin, origin)

    monkeypatch.setattr(pandoc, "run_captured", counted)
    monkeypatch.setattr("quire.parse.html.run_captured", counted)
    loaded = load_book(book)
    transform(loaded, pandoc.parse_all(loaded.files))
    assert [args[:2] for args in runs] == [["lua", "-e"]] * 4

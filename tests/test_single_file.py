"""A book kept as one file in a folder of other things: its no-op check reads what it uses."""

from __future__ import annotations

from PIL import Image
from test_bad_input import run_build

BOOK = "---\ntitle: Single\nlang: en\n---\n\n# One\n\nText.\n\n![A dot](pics/dot.png)\n"


def _dot(path, colour: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), colour).save(path)


def _up_to_date(book, out) -> bool:
    proc = run_build(book, out, "--to", "epub")
    assert proc.returncode == 0, proc.stderr
    return "up to date" in proc.stdout


def test_a_single_file_book_is_not_rebuilt_for_its_neighbours(tmp_path):
    folder = tmp_path / "repository"
    (folder / "src").mkdir(parents=True)
    book = folder / "book.md"
    book.write_text(BOOK)
    _dot(folder / "pics" / "dot.png", "red")
    (folder / "src" / "main.c").write_text("int main(void) { return 0; }\n")
    out = tmp_path / "out"
    assert not _up_to_date(book, out)
    # A file the book does not use changes: nothing to do (the folder digest rebuilt it).
    (folder / "src" / "main.c").write_text("int main(void) { return 1; }\n")
    assert _up_to_date(book, out)
    # The image it shows changes: built again.
    _dot(folder / "pics" / "dot.png", "blue")
    assert not _up_to_date(book, out)
    assert _up_to_date(book, out)
    # A file appears beside it that a build would read (settings): built again.
    (folder / "book.yaml").write_text("title: Single\n")
    assert not _up_to_date(book, out)
    # A file appears in a folder it reads from (a font beside its fonts): built again.
    (folder / "pics" / "other.png").write_bytes(b"")
    assert not _up_to_date(book, out)

"""Load stage: find the manuscript's files and settings and read them as text."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quire.errors import BuildError
from quire.load.config import BookConfig, load_config, parse_yaml
from quire.load.confine import check_tree, not_a_file, read_file, resolved

MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt")
SETTINGS_FILE = "book.yaml"
REPO_STYLES = Path(__file__).resolve().parents[2] / "styles"


@dataclass(frozen=True)
class SourceFile:
    """One Markdown file of the book, read as text."""

    path: Path
    name: str  # as shown in messages
    text: str
    role: str  # "front", "body" or "back"
    # What a project file (SUMMARY.md, book.yaml) says of this entry; the defaults are a
    # chapter of its own, titled by its first heading, numbered, in no new part.
    depth: int = 0  # 0 opens a chapter (a recto); 1+ is a section of the chapter before it
    part: str | None = None  # on the first file of a part: the part's title
    title: str | None = None  # the entry's title in the project file: the contents' title
    numbered: bool = True  # False for unnumbered entries (mdBook's prefix and suffix chapters)
    reader: str | None = None  # pandoc's reader for this file; None: the book's default
    # A file SUMMARY.md lists is one page in mdBook and GitBook: one chapter, whatever its
    # level-1 headings (those after its first are its sections).
    whole: bool = False
    sections: tuple[ListedHeading, ...] = ()  # its headings the project file lists too
    mathjax: bool = False  # mdBook's `\\( \\)` and `\\[ \\]` are math (mathjax-support)
    # Where each line of `text` stands in the author's files, when Quire rewrote the text
    # before reading it (mdBook's includes); None: each line is its own (see preprocess/lines.py).
    places: tuple[tuple[str, int], ...] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ListedHeading:
    """A heading of a file that the project file lists as an entry of its own (GitBook's
    `ch01.md#introductions` under `ch01.md`): in the contents with the entry's title."""

    fragment: str  # the heading's id
    title: str
    depth: int  # the entry's depth in the project file: 1 is a section of a chapter
    listing: str  # the project file, and its line, for messages
    line: int | None


@dataclass(frozen=True)
class Manuscript:
    """The whole input of a build: settings, files in reading order, and the styles folder."""

    root: Path
    styles: Path
    config: BookConfig
    files: tuple[SourceFile, ...]
    single_file: bool
    project: str = "book.yaml"  # the project file that was read, as the build's first line says


def display_name(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def read_text(path: Path, kind: str = "chapter") -> str:
    """Read a UTF-8 text file; a bad byte is reported with its offset and line."""
    if not_a_file(path) == "a folder":
        raise BuildError(
            "is a folder, but a file is expected here",
            file=display_name(path),
            hint="give the Markdown file inside it, or the folder as SOURCE",
        )
    try:
        data = read_file(path, kind, file=display_name(path))
    except OSError as exc:
        raise BuildError(
            f"cannot read: {exc.strerror}",
            file=display_name(path),
            hint="check that the file exists and that you may read it",
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BuildError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}",
            file=display_name(path),
            line=line,
            hint="save the file as UTF-8 in your editor",
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    _check_control_characters(text, path)
    return text


def read_book_file(root: Path, path: Path, kind: str = "chapter") -> str:
    """Read a text file the book names (back-cover.md, ...): inside the book, regular, capped."""
    if not resolved(path).is_relative_to(resolved(root)):
        raise BuildError(
            "is a link to a file outside the book's folder",
            file=display_name(path),
            hint="replace the link with a copy of the file",
        )
    return read_text(path, kind)


CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _check_control_characters(text: str, path: Path) -> None:
    """Refuse control characters, which no book can show and XML cannot hold."""
    found = CONTROL_CHARACTER.search(text)
    if found:
        raise BuildError(
            f"control character U+{ord(found[0]):04X} in the text "
            f"(column {found.start() - text.rfind(chr(10), 0, found.start())})",
            file=display_name(path),
            line=text.count("\n", 0, found.start()) + 1,
            hint="delete it; if the file is not Markdown text, take it out of the book",
        )


def find_styles(root: Path) -> Path:
    """Quire's styles folder, after checking the book's own styles/ file by file.

    The book's print.css and epub.css are layered over Quire's (quire/transform/styles.py),
    never instead of them. A folder beside the book is not used: it belongs to no one book,
    and a book from a pull request must not pick up, or ship, files from its neighbours.
    """
    own = root / "styles"
    if not os.path.lexists(own):
        return REPO_STYLES
    shown = display_name(own)
    if not resolved(own).is_relative_to(root):
        raise BuildError(
            "is a link to a folder outside the book's folder",
            file=shown,
            hint="replace the link with a copy of the styles folder",
        )
    if not_a_file(own) != "a folder":
        raise BuildError(f"is {not_a_file(own)}, not a folder", file=shown, hint="remove it")
    check_tree(own, (root,), shown=shown)
    return REPO_STYLES


def natural_key(name: str) -> list[object]:
    """A sort key that puts chapter-2 before chapter-10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def config_with_metadata_files(
    root: Path,
    raw: dict[str, tuple[Any, int]],
    origin: str,
    origins: dict[str, str] | None = None,
) -> BookConfig:
    """Settings with the pandoc metadata files they name merged under them (they win).

    `origins` names the file of settings that came from elsewhere than `origin`."""
    origins = dict(origins or {})
    if "metadata-file" in raw:
        value, line = raw["metadata-file"]
        names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        for name in names:
            path = _inside_book(root, str(name), "metadata-file", line, origin)
            shown = display_name(path)
            block, offset = metadata_block(read_text(path, "settings"))
            for key, item in parse_yaml(block, shown, line_offset=offset).items():
                if key not in raw:
                    raw[key] = item
                    origins[key.split("\0")[0]] = shown
    return load_config(raw, origin, origins=origins)


def metadata_block(text: str) -> tuple[str, int]:
    """A pandoc metadata file's YAML and its line offset: `---`/`...` fences are allowed."""
    lines = text.split("\n")
    start = 1 if lines and lines[0].rstrip() == "---" else 0
    end = next(
        (i for i in range(start, len(lines)) if lines[i].rstrip() in ("---", "...")), len(lines)
    )
    return "\n".join(lines[start:end]), start


def _inside_book(root: Path, name: str, key: str, line: int | None, origin: str) -> Path:
    """A file named by a setting: it must exist inside the book's folder."""
    path = root / name
    if not path.resolve().is_relative_to(root):
        raise BuildError(
            f"`{name}` in `{key}` is outside the book's folder",
            file=origin,
            line=line,
            hint="move the file into the book's folder",
        )
    if not path.is_file():
        raise BuildError(
            f"`{name}` in `{key}` does not exist", file=origin, line=line, hint="fix the path"
        )
    return path


def chapter_path(root: Path, name: str, role: str, line: int | None, origin: str) -> Path:
    """A chapter file listed in the settings (or found): it must be a file inside the book."""
    path = root / name
    where = f"`{name}` listed in `{role}`"
    if not resolved(path).is_relative_to(root):
        raise BuildError(
            f"{where} is outside the book's folder",
            file=origin,
            line=line,
            hint=f"move the file into {display_name(root)} and list it by a relative path",
        )
    why = not_a_file(path)
    if why == "missing":
        raise BuildError(
            f"chapter file {where} does not exist",
            file=origin,
            line=line,
            hint=f"create {display_name(path)} or remove it from the list",
        )
    if why:
        hint = "list the .md files inside it instead" if why == "a folder" else "replace it"
        raise BuildError(
            f"{where} is {why}, but a chapter must be a Markdown file",
            file=origin,
            line=line,
            hint=hint,
        )
    return path


def check_not_empty(files: list[SourceFile], root: Path) -> None:
    """Refuse a book with no files, or with files that have no text."""
    if not files:
        raise BuildError(
            "the manuscript has no Markdown files",
            file=display_name(root),
            hint="add chapter files (*.md) or list them under `chapters:` in book.yaml",
        )
    if not any(f.text.strip() for f in files):
        raise BuildError(
            "the manuscript is empty: its files have no text",
            file=display_name(root),
            hint="write at least one chapter, starting with a `# Heading` line",
        )

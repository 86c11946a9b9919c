"""Load stage: project readers. Each reads one kind of book's own project file (Quire's
book.yaml, mdBook's book.toml, GitBook's book.json, a pandoc defaults file, a single Markdown
file) into the same Manuscript, behind one small protocol, as the renderers are."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from quire.errors import BuildError, set_line_places
from quire.load.manuscript import MARKDOWN_SUFFIXES, SETTINGS_FILE, Manuscript, display_name


class ProjectReader(Protocol):
    """One kind of project: how to recognise its folder, and how to read it."""

    name: str  # the tool whose project it is, for the build's first line: "mdBook"
    looks_for: str  # what detect() looks for, for the message when nothing is found:
    # "book.toml (mdBook)"

    def detect(self, folder: Path) -> Path | None:
        """The project file (or folder) this reader would read in `folder`, or None."""
        ...

    def read(self, folder: Path, project_file: Path, styles: Path | None) -> Manuscript:
        """The book: its settings and its files in reading order."""
        ...


def readers() -> tuple[ProjectReader, ...]:
    """The readers of a folder, in the order they are asked: another tool's project file
    first (a book.yaml beside it adds Quire's settings), then Quire's own book.yaml, then a
    folder of Markdown files."""
    from quire.load.projects import bookyaml, gitbook, mdbook, pandoc_defaults

    return (
        mdbook.READER,
        gitbook.READER,
        pandoc_defaults.READER,
        bookyaml.READER,
        bookyaml.FOLDER,
    )


def read_project(source: Path, styles: Path | None = None) -> Manuscript:
    """Read the book at `source` (a folder, a project file, or a Markdown file), and make
    what later stages report at a line of a text Quire rewrote (mdBook's includes) name the
    author's file and line."""
    set_line_places({})  # the last build's, in this process, are not this one's
    manuscript = _read_project(source, styles)
    set_line_places({f.name: f.places for f in manuscript.files if f.places})
    return manuscript


def _read_project(source: Path, styles: Path | None) -> Manuscript:
    """The book at `source`, by its kind."""
    if source.is_dir():
        return read_folder(source.resolve(), styles)
    from quire.load.projects import bookyaml, gitbook, mdbook, pandoc_defaults, single

    name, suffix = source.name, source.suffix.lower()
    if name == SETTINGS_FILE:
        return read_folder(source.resolve().parent, styles, bookyaml.READER)
    by_name = {"book.toml": mdbook.READER, "book.json": gitbook.READER}
    if name in by_name:
        return read_folder(source.resolve().parent, styles, by_name[name])
    if name == "SUMMARY.md":  # mdBook's (book.toml above it) or GitBook's list of chapters
        folder = source.resolve().parent
        for reader in (mdbook.READER, gitbook.READER):
            if reader.detect(folder) is not None:
                return read_folder(folder, styles, reader)
    if suffix in (".yaml", ".yml"):
        path = source.resolve()
        return pandoc_defaults.READER.read(path.parent, path, styles)
    if suffix not in MARKDOWN_SUFFIXES:
        raise BuildError(
            "is not a Markdown file (.md, .markdown or .txt)",
            file=display_name(source),
            hint="give a manuscript folder or a .md file",
        )
    path = source.resolve()
    return single.READER.read(path.parent, path, styles)


def read_folder(folder: Path, styles: Path | None, only: ProjectReader | None = None) -> Manuscript:
    """Read a folder with the first reader that recognises it (or `only`)."""
    for reader in (only,) if only else readers():
        found = reader.detect(folder)
        if found is not None:
            return reader.read(folder, found, styles)
    looked = [r.looks_for for r in readers()]
    raise BuildError(
        f"no book found here: Quire looked for {', '.join(looked[:-1])} and {looked[-1]}",
        file=display_name(folder),
        hint="give the folder that holds the book's project file or its chapters, "
        "or write a book.yaml that lists the chapters under `chapters:`",
    )

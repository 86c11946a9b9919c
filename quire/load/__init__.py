"""Load stage: find a book's project file and read its settings and files as text.

`projects/` holds one reader per kind of project (Quire's book.yaml, mdBook, GitBook, a pandoc
defaults file, a single file); `manuscript` the Manuscript they make and the reading of its
files; `config` and `metadata` the one typed, checked settings dataclass; `confine`, `limits`
and `fetch` what a book may read (regular files inside it, within size caps, remote images
only by opt-in).
"""

from __future__ import annotations

from pathlib import Path

from quire.errors import BuildError
from quire.load.manuscript import Manuscript, display_name


def load(source: Path, styles: Path | None = None) -> Manuscript:
    """Read a book: a folder with its project file (book.yaml, book.toml, book.json, a pandoc
    defaults file), a defaults file or a project file itself, or a single Markdown file."""
    from quire.load.projects import read_project  # the readers build on manuscript's helpers

    source = source.expanduser()
    if not source.exists():
        raise BuildError(
            "no such file or folder",
            file=display_name(source),
            hint="give a manuscript folder or a Markdown file",
        )
    return read_project(source, styles)

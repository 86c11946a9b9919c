"""A single Markdown file: the whole book, its settings in its YAML metadata block."""

from __future__ import annotations

from pathlib import Path

from quire.load.config import BookConfig, check_yaml_blocks, parse_yaml
from quire.load.manuscript import Manuscript, check_not_empty, display_name, find_styles, read_text
from quire.load.projects.common import settings_of, source_file


class SingleFile:
    """One Markdown file given as the book."""

    name = "Markdown file"
    looks_for = "a Markdown file"

    def detect(self, folder: Path) -> Path | None:
        """Never a folder's reader: a single file is given by its name."""
        return None

    def read(self, folder: Path, project_file: Path, styles: Path | None) -> Manuscript:
        """The file, its opening YAML block as the book's settings."""
        path = project_file
        text = read_text(path)
        origin = display_name(path)
        check_yaml_blocks(text, origin)
        block = yaml_block(text)
        config, reader = BookConfig(origin=origin), None
        if block is not None:
            raw = parse_yaml(block, origin, line_offset=1)
            found = settings_of(path.parent, raw, origin, {}, path.name)
            config, reader = found.config, found.markdown
        files = [source_file(path, text, "body", reader)]
        check_not_empty(files, path)
        return Manuscript(
            path.parent, styles or find_styles(path.parent), config, tuple(files), True, path.name
        )


def yaml_block(text: str) -> str | None:
    """The YAML metadata block that opens a file, as pandoc reads it, or None."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return "\n".join(lines[1:index])
    return None


READER = SingleFile()

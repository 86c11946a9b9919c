"""Quire's own project: book.yaml (settings, and the chapters in `chapters:`), or a folder of
Markdown files read in name order."""

from __future__ import annotations

import os
from pathlib import Path

from quire.load.config import BookConfig
from quire.load.manuscript import (
    SETTINGS_FILE,
    Manuscript,
    chapter_path,
    check_not_empty,
    display_name,
    find_styles,
    natural_key,
)
from quire.load.projects.common import read_chapter, read_settings, settings_of, source_file

ROLES = {"front-matter": "front", "chapters": "body", "back-matter": "back"}
# A README and the back-cover text (quire/press/cover.py) are not chapters.
NOT_CHAPTERS = ("readme.md", "back-cover.md")


class BookYaml:
    """A folder with book.yaml; or (FOLDER) one with only Markdown files."""

    def __init__(self, name: str, looks_for: str, settings_file: bool) -> None:
        self.name, self.looks_for, self.settings_file = name, looks_for, settings_file

    def detect(self, folder: Path) -> Path | None:
        """book.yaml (a dangling link too: reading it says what is wrong); or the folder, if it
        has Markdown files."""
        settings = folder / SETTINGS_FILE
        if self.settings_file:
            return settings if os.path.lexists(settings) else None
        return folder if _markdown_files(folder) else None

    def read(self, folder: Path, project_file: Path, styles: Path | None) -> Manuscript:
        """The chapters book.yaml lists (or the folder's Markdown files), with its settings."""
        root = folder
        settings = root / SETTINGS_FILE
        origin = display_name(settings)
        if os.path.lexists(settings):  # a dangling link or a loop is reported, not passed over
            found = settings_of(root, read_settings(root, settings), origin, {}, SETTINGS_FILE)
            config, reader, project = found.config, found.markdown, found.project
        else:
            config, reader = BookConfig(origin=origin), None
            project = "the folder's Markdown files, in name order"
        files = []
        for role, names in _reading_order(root, config):
            for index, name in enumerate(names):
                path = chapter_path(root, name, role, config.line_of(role, index), origin)
                text, _places = read_chapter(root, path)
                files.append(source_file(path, text, ROLES[role], reader))
        check_not_empty(files, root)
        return Manuscript(
            root, styles or find_styles(root), config, tuple(files), False, project=project
        )


def _markdown_files(root: Path) -> list[str]:
    """The folder's Markdown files that may be chapters, in name order."""
    found = [
        p.name
        for p in root.iterdir()
        if p.suffix.lower() in (".md", ".markdown") and not p.is_dir()
    ]
    return [n for n in sorted(found, key=natural_key) if n.lower() not in NOT_CHAPTERS]


def _reading_order(root: Path, config: BookConfig) -> list[tuple[str, tuple[str, ...]]]:
    """book.yaml's lists of files; without `chapters:`, the folder's other Markdown files."""
    if config.chapters:
        body = config.chapters
    else:
        listed = set(config.front_matter) | set(config.back_matter)
        body = tuple(n for n in _markdown_files(root) if n not in listed)
    return [
        ("front-matter", config.front_matter),
        ("chapters", body),
        ("back-matter", config.back_matter),
    ]


READER = BookYaml("Quire", f"{SETTINGS_FILE} (Quire)", settings_file=True)
FOLDER = BookYaml("Markdown files", "chapter files (*.md)", settings_file=False)

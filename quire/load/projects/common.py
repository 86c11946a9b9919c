"""What the project readers share: settings merged with a book.yaml beside another tool's
project file, and chapter files read in the order a project file lists them."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quire.errors import BuildError, Problem, warn
from quire.load.config import SETTINGS, BookConfig, check_yaml_blocks, parse_yaml
from quire.load.confine import resolved
from quire.load.manuscript import (
    SETTINGS_FILE,
    SourceFile,
    chapter_path,
    config_with_metadata_files,
    display_name,
    read_book_file,
    read_text,
)
from quire.load.projects import preprocess
from quire.load.projects.flavour import markdown_setting

Raw = dict[str, tuple[Any, int | None]]
# book.yaml's lists of files, which another tool's project file (SUMMARY.md, input-files) gives.
FILE_LISTS = ("front-matter", "chapters", "back-matter")


@dataclass(frozen=True)
class Settings:
    """A project's settings: checked, with the `markdown:` reader if one was set."""

    config: BookConfig
    markdown: str | None  # a `markdown:` setting: the reader of every file
    project: str  # what was read, for the build's first line: "book.toml (mdBook) + book.yaml"


def settings_beside(root: Path, raw: Raw, project_file: Path, tool: str) -> Settings:
    """A tool's settings with a book.yaml beside its project file merged over them (book.yaml
    wins), and the pandoc metadata files either names merged under both."""
    shown = display_name(project_file)
    origins = {key.split("\0")[0]: shown for key in raw}
    origin, project = shown, f"{project_file.name} ({tool})"
    beside = root / SETTINGS_FILE
    if os.path.lexists(beside) and resolved(beside) != resolved(project_file):
        origin = display_name(beside)
        own = read_settings(root, beside)
        for key in FILE_LISTS:
            if key in own:
                warn(
                    f"`{key}` is not used: {project_file.name} gives the book's files",
                    file=origin,
                    line=own[key][1],
                    hint=f"Quire read the files {project_file.name} lists; "
                    f"remove `{key}` from {SETTINGS_FILE}, or list the files there",
                    group="settings another project file gives",
                )
        own = {k: v for k, v in own.items() if k.split("\0")[0] not in FILE_LISTS}
        raw = {k: v for k, v in raw.items() if not _given(k.split("\0")[0], own)} | own
        origins = {k: v for k, v in origins.items() if k not in own}
        project += f" + {SETTINGS_FILE}"
    return settings_of(root, raw, origin, origins, project)


def _given(key: str, own: Raw) -> bool:
    """True if book.yaml gives this setting, under its name or another (`authors`, `author`)."""
    field = SETTINGS.get(key, (key, None))[0]
    return key in own or any(SETTINGS.get(k, (k, None))[0] == field for k in own)


def settings_of(
    root: Path, raw: Raw, origin: str, origins: dict[str, str], project: str
) -> Settings:
    """Checked settings, with `markdown:` taken out (no BookConfig field: it is the files')."""
    raw = dict(raw)
    markdown = None
    if "markdown" in raw:
        value, line = raw.pop("markdown")
        markdown = markdown_setting(value, origins.get("markdown", origin), line)
    config = config_with_metadata_files(root, raw, origin, origins)  # type: ignore[arg-type]
    return Settings(config, markdown, project)


def read_settings(root: Path, path: Path) -> Raw:
    """A YAML settings file inside the book, as {key: (value, line)}."""
    return parse_yaml(read_book_file(root, path, "settings"), display_name(path))


def line_of(text: str, pattern: str) -> int | None:
    """The first line of a project file (TOML, JSON) that matches `pattern`, for messages."""
    found = re.search(pattern, text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else None


Places = tuple[tuple[str, int], ...]  # where each line of a rewritten text stands
Preprocessor = Callable[[str, Path, Path], tuple[str, Places | None]]


def read_chapter(
    root: Path, path: Path, preprocess: Preprocessor | None = None
) -> tuple[str, Places | None]:
    """A chapter's text, run through the project's preprocessor (mdBook's includes) if any,
    and the places of its lines in the author's files if the preprocessor moved them."""
    text, places = read_text(path), None
    if preprocess is not None:
        text, places = preprocess(text, path, root)
    try:
        check_yaml_blocks(text, display_name(path))
    except BuildError as error:  # at a line of the text made: name the author's
        raise BuildError(
            problems=[_placed(p, places) for p in error.problems], kind=error.kind
        ) from None
    return text, places


def _placed(problem: Problem, places: Places | None) -> Problem:
    """A problem at a line of a rewritten text, placed at the author's file and line."""
    if places is None or not problem.line or not 1 <= problem.line <= len(places):
        return problem
    file, line = places[problem.line - 1]
    return Problem(problem.message, file, line, problem.hint)


def listed_file(root: Path, base: Path, target: str, listing: Path, line: int | None) -> Path:
    """A chapter file a project file lists (relative to `base`): a Markdown file in the book."""
    relative = os.path.relpath(base / target, root)
    return chapter_path(root, relative, listing.name, line, display_name(listing))


def preprocessor(flavour: str) -> Preprocessor:
    """mdBook's ("mdbook") or GitBook's ("gitbook") preprocessing of a chapter's text
    ({{#include}}, {% %} tags), its findings reported as warnings."""
    seen: set[str] = set()  # what the book's files reported once for all (a GitBook tag)

    def run(text: str, path: Path, root: Path) -> tuple[str, Places | None]:
        done, places, findings = preprocess.preprocess_lines(text, path, root, flavour)
        preprocess.report(findings, seen)
        return done, places

    return run


def source_file(path: Path, text: str, role: str, reader: str | None, **entry: Any) -> SourceFile:
    """A SourceFile as a project file describes it."""
    return SourceFile(path, display_name(path), text, role, reader=reader, **entry)

"""GitBook's and HonKit's project: book.json (title, author, description, language, `root`,
`structure`) and the chapters SUMMARY.md lists, README.md first, read as GitHub's Markdown."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from quire.errors import BuildError
from quire.load.manuscript import SETTINGS_FILE, Manuscript, display_name, find_styles, read_text
from quire.load.projects.common import Raw, line_of, preprocessor, settings_beside
from quire.load.projects.flavour import GITBOOK
from quire.load.projects.summary import Entry, no_chapters, read_summary, summary_files

PROJECT_FILE = "book.json"
# book.json's keys and the settings they are.
BOOK_KEYS = {
    "title": "title",
    "author": "author",
    "description": "description",
    "language": "lang",
    "direction": "dir",
}


class GitBook:
    """GitBook's (and HonKit's) book.json and SUMMARY.md."""

    name = "GitBook"
    looks_for = "book.json or SUMMARY.md (GitBook, HonKit)"

    def detect(self, folder: Path) -> Path | None:
        """book.json; or SUMMARY.md (HonKit needs no book.json) where no book.yaml is."""
        if (folder / PROJECT_FILE).is_file():
            return folder / PROJECT_FILE
        if (folder / "SUMMARY.md").is_file() and not (folder / SETTINGS_FILE).exists():
            return folder / "SUMMARY.md"
        return None

    def read(self, folder: Path, project_file: Path, styles: Path | None) -> Manuscript:
        """The book book.json describes, README.md first, then SUMMARY.md's entries."""
        root = project_file.parent
        book: dict[str, Any] = {}
        text = ""
        if project_file.name == PROJECT_FILE:
            text = read_text(project_file, "settings")
            book = _parse_json(text, project_file)
        settings = settings_beside(root, _settings(root, book, text), project_file, self.name)
        content = root / str(book.get("root", "."))
        structure = book.get("structure") if isinstance(book.get("structure"), dict) else {}
        summary_path = content / str(structure.get("summary", "SUMMARY.md"))
        if not summary_path.is_file():
            raise BuildError(
                f"{display_name(summary_path)} does not exist: GitBook's list of chapters",
                file=display_name(project_file),
                hint="write the SUMMARY.md that lists the book's chapters, or fix `root`",
            )
        summary = read_summary(read_text(summary_path, "settings"), display_name(summary_path))
        # GitBook numbers no chapter (its titles carry a number when the author wants one,
        # "Chapter 01: …"): no "Chapter N" before them either.
        summary.entries = [replace(e, numbered=False) for e in summary.entries]
        _readme_first(summary.entries, content, str(structure.get("readme", "README.md")))
        reader = settings.markdown or GITBOOK
        files = summary_files(root, content, summary_path, summary, reader, preprocessor("gitbook"))
        no_chapters(files, summary_path)
        return Manuscript(
            root,
            styles or find_styles(root),
            settings.config,
            tuple(files),
            single_file=False,
            project=settings.project,
        )


def _readme_first(entries: list[Entry], content: Path, readme: str) -> None:
    """GitBook's first page is the README, listed or not: its introduction."""
    listed = {Path(e.target).as_posix().removeprefix("./") for e in entries}
    if (content / readme).is_file() and readme not in listed:
        entries.insert(0, Entry("Introduction", readme, "", None, "front", numbered=False))


def _parse_json(text: str, path: Path) -> dict[str, Any]:
    """book.json as data; a syntax error names its line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildError(
            f"invalid JSON: {exc.msg}",
            file=display_name(path),
            line=exc.lineno,
            hint="fix the syntax on that line",
        ) from None
    if not isinstance(data, dict):
        raise BuildError("must be a JSON object", file=display_name(path), hint="write { ... }")
    return data


def _settings(root: Path, book: dict[str, Any], text: str) -> Raw:
    """book.json's settings in book.yaml's terms, each with its line."""
    raw: Raw = {}
    for key, setting in BOOK_KEYS.items():
        if book.get(key) not in (None, "", []):
            raw[setting] = (book[key], line_of(text, rf'"{key}"\s*:'))
    # GitBook's cover is cover.jpg in the book's folder; some books name theirs in `cover`.
    cover = book.get("cover") if isinstance(book.get("cover"), str) else "cover.jpg"
    if (root / cover).is_file():
        raw["cover-image"] = (cover, line_of(text, r'"cover"\s*:'))
    return raw


READER = GitBook()

"""SUMMARY.md (mdBook, GitBook, HonKit): the book's files, their nesting, parts and titles.

Read with pandoc (CommonMark) to its AST, so the list structure is CommonMark's whatever the
indentation or bullet: a title heading first, prefix chapters (links before the first list),
numbered chapters (nested lists), `# Part` headings between them, separators (`---`), and
suffix chapters (links after the last list). A draft (`- [Title]()`) has no file.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quire.errors import BuildError, warn
from quire.load.manuscript import ListedHeading, SourceFile, check_not_empty, display_name
from quire.load.projects.common import Preprocessor, listed_file, read_chapter, source_file
from quire.parse.pandoc import run_pandoc, stringify


@dataclass(frozen=True)
class Entry:
    """One entry of SUMMARY.md that names a file."""

    title: str
    target: str  # the link as written, without its #fragment, %-escapes undone
    fragment: str  # the link's #fragment ("" if none): GitBook lists headings of a file so
    line: int | None
    role: str  # "front" (prefix), "body" (numbered), "back" (suffix)
    depth: int = 0
    part: str | None = None
    numbered: bool = True


@dataclass
class Summary:
    """What SUMMARY.md lists: the entries with a file, and the drafts (titles) without one."""

    entries: list[Entry] = field(default_factory=list)
    drafts: list[tuple[str, int | None]] = field(default_factory=list)
    remote: list[tuple[str, int | None]] = field(default_factory=list)
    _part: str | None = None  # a `# Part` heading waiting for its first chapter


def read_summary(text: str, origin: str) -> Summary:
    """The entries of a SUMMARY.md, in reading order."""
    doc = json.loads(run_pandoc(["--from", "commonmark", "--to", "json"], text, origin))
    blocks = doc.get("blocks", [])
    lists = [i for i, b in enumerate(blocks) if b["t"] in ("BulletList", "OrderedList")]
    summary = Summary()
    titled = False
    for index, block in enumerate(blocks):
        kind = block["t"]
        if kind == "Header":
            if titled or summary.entries or (lists and index > lists[0]):
                summary._part = stringify(block["c"][2]).strip() or None
            titled = True  # the first heading is the book's title, which SUMMARY.md may give
        elif kind in ("Para", "Plain"):
            before, after = not lists or index < lists[0], bool(lists) and index > lists[-1]
            role = "front" if before else "back" if after else "body"
            for link in _links(block["c"]):
                _add(summary, text, link, role, 0, numbered=False)
        elif kind in ("BulletList", "OrderedList"):
            _walk_list(summary, text, block, 0)
        # HorizontalRule (a separator) and RawBlock (an HTML comment) are dropped.
    return summary


def _walk_list(summary: Summary, text: str, block: dict[str, Any], depth: int) -> None:
    """The items of a list: each a chapter, its nested lists its sections. A draft's nested
    entries take its place (they have no chapter of its to belong to)."""
    items = block["c"] if block["t"] == "BulletList" else block["c"][1]
    for item in items:
        head = next((b for b in item if b["t"] in ("Plain", "Para")), None)
        links = _links(head["c"]) if head else []
        if links:
            added = _add(summary, text, links[0], "body", depth)
        else:  # an item that is only a title: a draft (GitBook's heading-like entries too)
            title = stringify(head["c"]).strip() if head else ""
            if title:
                summary.drafts.append((title, _line(text, title)))
            added = False
        for inner in item:
            if inner["t"] in ("BulletList", "OrderedList"):
                _walk_list(summary, text, inner, depth + 1 if added else depth)


def _links(inlines: list[Any]) -> list[dict[str, Any]]:
    """The links of a paragraph or list item's first line (pandoc's Link nodes)."""
    return [node for node in inlines if node.get("t") == "Link"]


def _add(
    summary: Summary, text: str, link: dict, role: str, depth: int, numbered: bool = True
) -> bool:
    """Add a link as an entry; a draft or a remote page is noted instead. True if added."""
    title = stringify(link["c"][1]).strip()
    url = link["c"][2][0]
    if not url.strip():
        summary.drafts.append((title, _line(text, f"[{title}]") or _line(text, "]()")))
        return False
    line = _line(text, f"]({url}")
    if urllib.parse.urlsplit(url).scheme:
        summary.remote.append((url, line))
        return False
    target, _, fragment = url.partition("#")
    opens_part = depth == 0 and role == "body"
    part, summary._part = (summary._part, None) if opens_part else (None, summary._part)
    summary.entries.append(
        Entry(
            title,
            urllib.parse.unquote(target).lstrip("/"),
            fragment,
            line,
            role,
            depth,
            part,
            numbered and role == "body",
        )
    )
    return True


def _line(text: str, needle: str) -> int | None:
    """The line of SUMMARY.md where `needle` first stands, for messages."""
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def summary_files(
    root: Path,
    base: Path,
    summary_path: Path,
    summary: Summary,
    reader: str | None,
    preprocess: Preprocessor | None,
    mathjax: bool = False,
) -> list[SourceFile]:
    """The files SUMMARY.md lists (relative to `base`), read in its order, each once: one
    chapter each (mdBook and GitBook show each as one page), with the headings SUMMARY.md
    lists as `file.md#heading` under it."""
    shown = display_name(summary_path)
    _warn_left_out(summary, shown)
    listed: dict[Path, Entry] = {}
    headings: dict[Path, list[ListedHeading]] = {}
    for entry in summary.entries:
        path = listed_file(root, base, entry.target, summary_path, entry.line)
        if path not in listed:
            listed[path], headings[path] = entry, []
        elif entry.fragment:  # GitBook lists a file's headings as #fragments of it
            heading = ListedHeading(entry.fragment, entry.title, entry.depth, shown, entry.line)
            headings[path].append(heading)
        else:
            warn(
                f"`{entry.target}` is listed twice (also on line {listed[path].line})",
                file=shown,
                line=entry.line,
                hint="Quire put it in the book once, where it is first listed",
                group="files SUMMARY.md lists twice",
            )
    files: list[SourceFile] = []
    for path, entry in listed.items():
        text, places = read_chapter(root, path, preprocess)
        files.append(
            source_file(
                path,
                text,
                entry.role,
                reader,
                depth=entry.depth,
                part=entry.part,
                title=entry.title or None,
                numbered=entry.numbered,
                whole=True,
                sections=tuple(headings[path]),
                mathjax=mathjax,
                places=places,
            )
        )
    return files


def _warn_left_out(summary: Summary, shown: str) -> None:
    """One warning for the drafts SUMMARY.md lists, one for its links to web pages."""
    if summary.drafts:
        names = ", ".join(f"“{title}”" for title, _line in summary.drafts)
        warn(
            f"draft chapters with no file: {names}",
            file=shown,
            line=summary.drafts[0][1],
            hint="Quire left them out, as mdBook does; give each a file to put it in the book",
            group="draft chapters",
        )
    for url, line in summary.remote:
        warn(
            f"`{url}` is a web page, not a file of the book",
            file=shown,
            line=line,
            hint="Quire left it out of the book",
            group="web pages SUMMARY.md lists",
        )


def no_chapters(files: list[SourceFile], summary_path: Path) -> None:
    """Refuse a SUMMARY.md that lists no chapter file, or whose files have no text."""
    if not files:
        raise BuildError(
            "lists no chapter files",
            file=display_name(summary_path),
            hint="list each chapter as a line `- [Title](file.md)`",
        )
    check_not_empty(files, summary_path.parent)

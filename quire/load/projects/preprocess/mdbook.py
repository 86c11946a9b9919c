"""mdBook's links (preprocess/links.rs): `{{#include}}` with anchors and line ranges,
`{{#rustdoc_include}}`, `{{#playground}}` and `{{#title}}`."""

from __future__ import annotations

import re
from pathlib import Path

from quire.load.manuscript import display_name
from quire.load.projects.preprocess.core import Run, expand, included
from quire.load.projects.preprocess.lines import Lined, SourceText

# mdBook's link pattern (preprocess/links.rs): an escaped directive, or {{#type target}}.
MDBOOK_LINK = re.compile(r"\\\{\{#.*\}\}|\{\{\s*#([A-Za-z0-9_]+)\s+([^}]+)\}\}")
ANCHOR_START = re.compile(r"ANCHOR:\s*([\w-]+)")
ANCHOR_END = re.compile(r"ANCHOR_END:\s*([\w-]+)")


def directives(source: SourceText, path: Path, run: Run) -> Lined:
    """mdBook's links done in one file's text (preprocess/links.rs, replace_all)."""
    out, last, text = Lined(), 0, source.text
    for match in MDBOOK_LINK.finditer(text):
        source.add(out, last, match.start())
        last = match.end()
        line = source.line(match.start())
        if match[1] is None:  # `\{{#...}}`: the directive's text, without the backslash
            source.add(out, match.start() + 1, match.end())
            continue
        out.add_text(_mdbook_link(match[1], match[2], match[0], path, line, run))
    source.add(out, last, len(text))
    return out


def _mdbook_link(kind: str, target: str, whole: str, path: Path, line: int, run: Run) -> Lined:
    """What one `{{#kind target}}` stands for."""
    shown = display_name(path)
    out = Lined()
    if kind == "title":
        return out  # the HTML page's <title> in mdBook; a book's chapters take SUMMARY's titles
    words = target.split()
    if kind not in ("include", "rustdoc_include", "playground", "playpen") or not words:
        run.note(f"mdBook directive `{whole[:80]}` is not one Quire knows", shown, line,
                 "left out: it is for a preprocessor Quire does not run; replace it with "
                 "its text", "mdBook directives Quire does not run")  # fmt: skip
        return out
    ref, _, spec = words[0].partition(":")
    if kind in ("playground", "playpen"):
        ref, spec = words[0], ""  # a playground takes the whole file, its path as written
    found = included(ref, whole, path, line, run)
    if found is None:
        return out
    target_path, lines = found[0], _split_lines(found[1])
    if kind in ("playground", "playpen"):
        out.add_made(f"```{','.join(['rust', *words[1:]])}\n", (shown, line))
        out.add_text(expand("\n".join(lines), target_path, run))
        out.add_made("\n```\n", (shown, line))
        return out
    anchor, start, end = _range(spec)
    if anchor is not None and not any(_anchor(ANCHOR_START, x) == anchor for x in lines):
        run.note(f"`{whole[:80]}`: no `ANCHOR: {anchor}` in {display_name(target_path)}",
                 shown, line, "left out: check the anchor's name in both files",
                 "includes of missing anchors")  # fmt: skip
        return out
    if kind == "rustdoc_include":
        taken = _rustdoc_lines(lines, anchor, start, end)
    else:
        taken = _taken_lines(lines, anchor, start, end)
    if not taken:
        return out
    numbers = [n + 1 for n, _x in taken]
    return expand("\n".join(x for _n, x in taken), target_path, run, numbers)


def _split_lines(text: str) -> list[str]:
    """Lines as Rust's str::lines gives them: split at \\n, a \\r before it dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [x[:-1] if x.endswith("\r") else x for x in lines]


def _range(spec: str) -> tuple[str | None, int, int | None]:
    """An include's `:anchor`, `:10:20`, `:10:`, `::20` or `:10` as (anchor, start, end):
    0-based start, end excluded, as mdBook's parse_range_or_anchor."""
    parts = spec.split(":", 2) if spec else []
    first = parts[0] if parts else ""
    if first and not _number(first):
        return first, 0, None
    start = max(int(first) - 1, 0) if first else 0
    if len(parts) < 2:
        return None, start, (start + 1 if first else None)
    end = parts[1]
    return None, start, int(end) if _number(end) else None


def _number(text: str) -> bool:
    """True for a line number: ASCII digits only (str.isdigit takes `²` too)."""
    return text.isascii() and text.isdigit()


def _anchor(pattern: re.Pattern[str], line: str) -> str | None:
    """The anchor a line opens or closes, if it is an ANCHOR:/ANCHOR_END: line."""
    found = pattern.search(line)
    return found[1] if found else None


def _is_marker(line: str) -> bool:
    """True for an ANCHOR: or ANCHOR_END: line, which an anchored include leaves out."""
    return bool(ANCHOR_START.search(line) or ANCHOR_END.search(line))


def _taken_lines(
    lines: list[str], anchor: str | None, start: int, end: int | None
) -> list[tuple[int, str]]:
    """The lines an include shows, each with its 0-based index in the file: its range's as
    they are, or its anchor's with the markers of other anchors inside it left out (mdBook 0.5
    keeps the markers of a whole file or a range: so does Quire, for the book to read as its
    author sees it)."""
    if anchor is None:
        return list(enumerate(lines))[start:end]
    taken, inside = [], False
    for n, x in enumerate(lines):
        if inside and _anchor(ANCHOR_END, x) == anchor:
            break
        if inside and not _is_marker(x):
            taken.append((n, x))
        inside = inside or _anchor(ANCHOR_START, x) == anchor
    return taken


def _rustdoc_lines(
    lines: list[str], anchor: str | None, start: int, end: int | None
) -> list[tuple[int, str]]:
    """The lines a rustdoc_include shows (each with its 0-based index in the file): all of the
    file, those outside the anchor or range hidden (`# `), so that the example still compiles
    (take_rustdoc_include_lines)."""
    if anchor is None:
        last = len(lines) if end is None else end
        return [(n, x if start <= n < last else f"# {x}") for n, x in enumerate(lines)]
    shown, inside = [], False
    for n, x in enumerate(lines):
        if inside and _anchor(ANCHOR_END, x) == anchor:
            inside = False
        elif not inside and _anchor(ANCHOR_START, x) == anchor:
            inside = True
        elif not _is_marker(x):
            shown.append((n, x if inside else f"# {x}"))
    return shown

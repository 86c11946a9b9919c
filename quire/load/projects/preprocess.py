"""mdBook's and GitBook's text directives, done on a chapter's text before pandoc reads it.

mdBook replaces `{{#include}}`, `{{#rustdoc_include}}`, `{{#playground}}` and `{{#title}}` in
the text, code blocks included, before its Markdown parser sees it; GitBook (Nunjucks) does the
same with `{% %}` tags. Quire does what they do, at the same stage: an include is read through
the book's confinement (inside the book's root, a regular file within the chapter size cap) and
within bounds (nesting depth, number of includes, size of the result); a missing file or anchor
is a finding naming the directive's place and the target, and the directive is left out.

Line numbers in findings are those of the file that holds the directive, as its author sees it.
A directive alone on its line is replaced on that line, so the lines after it keep their
numbers, except where an include brings in lines of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from quire.errors import BuildError, Finding, Problem, warn
from quire.load.confine import check_file, not_a_file, read_file, resolved
from quire.load.limits import size_limit, too_big
from quire.load.manuscript import display_name

# mdBook's link pattern (preprocess/links.rs): an escaped directive, or {{#type target}}.
MDBOOK_LINK = re.compile(r"\\\{\{#.*\}\}|\{\{\s*#([A-Za-z0-9_]+)\s+([^}]+)\}\}")
ANCHOR_START = re.compile(r"ANCHOR:\s*([\w-]+)")
ANCHOR_END = re.compile(r"ANCHOR_END:\s*([\w-]+)")
# A Nunjucks tag (`{%-` and `-%}` too), or the include-codeblock plugin's `[include](file)`
# (or `[import]`) alone on its line: the file shown as a code block.
GITBOOK_TAG = re.compile(
    r"\{%-?\s*(\w+)(.*?)-?%\}|^[ \t]*\[(?:include|import)\]\(([^)\s]+)\)[ \t]*$", re.MULTILINE
)
GITBOOK_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
HINT_STYLE = re.compile(r"""style\s*=\s*["']?([\w-]+)""")
GITBOOK_INCLUDE = re.compile(r"""\s*["']([^"']+)["']""")
TAGS_DROPPED = "GitBook tags Quire drops"  # the group of their warnings
MAX_DEPTH = 10  # mdBook's own limit of nested includes
MAX_INCLUDES = 10_000  # directives expanded for one chapter, all levels together


@dataclass
class _Run:
    """What one chapter's preprocessing has done so far: its bounds and findings."""

    root: Path
    flavour: str
    findings: list[Finding] = field(default_factory=list)
    includes: int = 0
    size: int = 0  # characters brought in by includes so far, each include counted
    read: dict[Path, str] = field(default_factory=dict)  # each included file, read once
    chain: list[str] = field(default_factory=list)  # the files being expanded, outermost first

    def note(self, message: str, file: str, line: int, hint: str, group: str) -> None:
        """Keep a finding for the caller to report."""
        self.findings.append(Finding(Problem(message, file, line, hint), group))


def preprocess(text: str, path: Path, root: Path, flavour: str) -> tuple[str, list[Finding]]:
    """A chapter's text with its mdBook (`flavour` "mdbook") or GitBook ("gitbook") directives
    done, and the findings to report (see `report`). Other flavours are left as they are."""
    if flavour not in ("mdbook", "gitbook"):
        return text, []
    run = _Run(root=resolved(root), flavour=flavour)
    done = _expand(text, path, run)
    if len(done) > size_limit("chapter"):
        raise too_big("chapter", len(done), file=display_name(path), line=None,
                      what="the chapter with its includes")  # fmt: skip
    return done, run.findings


def report(findings: list[Finding], seen: set[str] | None = None) -> None:
    """Log each finding of `preprocess` as a build warning. With `seen` (one set for all of a
    book's files), a GitBook tag is reported once in the book, at its first place."""
    for f in findings:
        p = f.problem
        if seen is not None and f.group == TAGS_DROPPED:
            if p.message in seen:
                continue
            seen.add(p.message)
        warn(p.message, file=p.file, line=p.line, hint=p.hint or "", group=f.group)


def _expand(text: str, path: Path, run: _Run, first_line: int = 1) -> str:
    """One file's text (from its line `first_line` on) with its directives done, includes
    expanded in turn."""
    shown = display_name(path)
    if len(run.chain) >= MAX_DEPTH:
        raise BuildError(
            f"includes nested more than {MAX_DEPTH} deep: {' → '.join([*run.chain, shown])}",
            file=run.chain[-1],
            hint="a file includes itself, directly or through others: break the circle",
        )
    run.chain.append(shown)
    try:
        line_of = _lines_before(text, first_line)
        if run.flavour == "mdbook":
            return _mdbook(text, path, run, line_of)
        return _gitbook(text, path, run, line_of)
    finally:
        run.chain.pop()


def _lines_before(text: str, first_line: int) -> Callable[[int], int]:
    """A function giving the line number of an offset in `text`, for offsets in rising order."""
    state = {"offset": 0, "line": first_line}

    def line_of(offset: int) -> int:
        state["line"] += text.count("\n", state["offset"], offset)
        state["offset"] = offset
        return state["line"]

    return line_of


# ---------- mdBook ----------


def _mdbook(text: str, path: Path, run: _Run, line_of: Callable[[int], int]) -> str:
    """mdBook's links done in one file's text (preprocess/links.rs, replace_all)."""
    out, last = [], 0
    for match in MDBOOK_LINK.finditer(text):
        out.append(text[last : match.start()])
        last = match.end()
        line = line_of(match.start())
        if match[1] is None:  # `\{{#...}}`: the directive's text, without the backslash
            out.append(match[0][1:])
            continue
        out.append(_mdbook_link(match[1], match[2], match[0], path, line, run))
    out.append(text[last:])
    return "".join(out)


def _mdbook_link(kind: str, target: str, whole: str, path: Path, line: int, run: _Run) -> str:
    """What one `{{#kind target}}` stands for."""
    shown = display_name(path)
    if kind == "title":
        return ""  # the HTML page's <title> in mdBook; a book's chapters take SUMMARY's titles
    words = target.split()
    if kind not in ("include", "rustdoc_include", "playground", "playpen") or not words:
        run.note(f"mdBook directive `{whole[:80]}` is not one Quire knows", shown, line,
                 "left out: it is for a preprocessor Quire does not run; replace it with "
                 "its text", "mdBook directives Quire does not run")  # fmt: skip
        return ""
    ref, _, spec = words[0].partition(":")
    if kind in ("playground", "playpen"):
        ref, spec = words[0], ""  # a playground takes the whole file, its path as written
    found = _included(ref, whole, path, line, run)
    if found is None:
        return ""
    target_path, lines = found[0], _split_lines(found[1])
    if kind in ("playground", "playpen"):
        code = _expand("\n".join(lines), target_path, run)
        return f"```{','.join(['rust', *words[1:]])}\n{code}\n```\n"
    anchor, start, end = _range(spec)
    if anchor is not None and not any(_anchor(ANCHOR_START, x) == anchor for x in lines):
        run.note(f"`{whole[:80]}`: no `ANCHOR: {anchor}` in {display_name(target_path)}",
                 shown, line, "left out: check the anchor's name in both files",
                 "includes of missing anchors")  # fmt: skip
        return ""
    if kind == "rustdoc_include":
        return _expand("\n".join(_rustdoc_lines(lines, anchor, start, end)), target_path, run)
    first = start + 1 if anchor is None else _anchor_line(lines, anchor) + 1
    return _expand("\n".join(_taken_lines(lines, anchor, start, end)), target_path, run, first)


def _included(ref: str, whole: str, path: Path, line: int, run: _Run) -> tuple[Path, str] | None:
    """The path and text of an included file; None (with a finding) if it does not exist.
    A file outside the book, or not a regular file, is refused."""
    shown = display_name(path)
    target = path.parent / ref
    if Path(ref).is_absolute() or not resolved(target).is_relative_to(run.root):
        raise BuildError(
            f"`{whole[:80]}` points outside the book's folder",
            file=shown,
            line=line,
            hint="keep included files inside the book's folder",
        )
    why = not_a_file(target)
    if why == "missing":
        run.note(f"`{whole[:80]}`: no file {display_name(target)}", shown, line,
                 "left out: check the path, relative to the file that includes it",
                 "includes of missing files")  # fmt: skip
        return None
    if why:
        raise BuildError(
            f"`{whole[:80]}`: {display_name(target)} is {why}, not a file",
            file=shown,
            line=line,
            hint="include an ordinary file inside the book's folder",
        )
    run.includes += 1
    if run.includes > MAX_INCLUDES:
        raise BuildError(
            f"more than {MAX_INCLUDES} includes in one chapter",
            file=run.chain[0],
            hint="split the chapter, or include fewer, larger files",
        )
    key = resolved(target)
    if key not in run.read:
        run.read[key] = _read(target, ref, whole, shown, line)
    # What the chapter can grow to is bounded as it grows, not only once it is whole: a file
    # included many times over would otherwise be held in memory many times first.
    run.size += len(run.read[key])
    if run.size > size_limit("chapter"):
        raise too_big("chapter", run.size, file=run.chain[0], line=None,
                      what="the chapter with its includes")  # fmt: skip
    return target, run.read[key]


def _read(target: Path, ref: str, whole: str, shown: str, line: int) -> str:
    """An included file's text, read within the chapter size cap."""
    check_file(target, "chapter", file=shown, line=line, what=ref)
    data = read_file(target, "chapter", file=shown, line=line)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BuildError(
            f"`{whole[:80]}`: {display_name(target)} is not UTF-8 text "
            f"(byte 0x{data[exc.start]:02x} at offset {exc.start})",
            file=shown,
            line=line,
            hint="save the included file as UTF-8",
        ) from None


def _anchor_line(lines: list[str], anchor: str) -> int:
    """The 0-based index of the line that opens an anchor (known to be there)."""
    return next(n for n, x in enumerate(lines) if _anchor(ANCHOR_START, x) == anchor)


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


def _taken_lines(lines: list[str], anchor: str | None, start: int, end: int | None) -> list[str]:
    """The lines an include shows: its range's as they are, or its anchor's with the markers
    of other anchors inside it left out (mdBook 0.5 keeps the markers of a whole file or a
    range: so does Quire, for the book to read as its author sees it)."""
    if anchor is None:
        return lines[start:end]
    taken, inside = [], False
    for x in lines:
        if inside and _anchor(ANCHOR_END, x) == anchor:
            break
        if inside and not _is_marker(x):
            taken.append(x)
        inside = inside or _anchor(ANCHOR_START, x) == anchor
    return taken


def _rustdoc_lines(lines: list[str], anchor: str | None, start: int, end: int | None) -> list[str]:
    """The lines a rustdoc_include shows: all of the file, those outside the anchor or range
    hidden (`# `), so that the example still compiles (take_rustdoc_include_lines)."""
    if anchor is None:
        last = len(lines) if end is None else end
        return [x if start <= n < last else f"# {x}" for n, x in enumerate(lines)]
    shown, inside = [], False
    for x in lines:
        if inside and _anchor(ANCHOR_END, x) == anchor:
            inside = False
        elif not inside and _anchor(ANCHOR_START, x) == anchor:
            inside = True
        elif not _is_marker(x):
            shown.append(x if inside else f"# {x}")
    return shown


# ---------- GitBook ----------

# GitBook's hint styles as the GitHub alerts they are written as (see _quote_hints).
HINT_ALERTS = {"info": "NOTE", "tip": "TIP", "success": "TIP", "warning": "WARNING",
               "danger": "CAUTION"}  # fmt: skip
# Where a hint opens and closes in the text, until _quote_hints makes it a block quote.
HINT_MARK = re.compile("\x00(?:hint:([A-Z]+)|endhint)\x00")


def _gitbook(text: str, path: Path, run: _Run, line_of: Callable[[int], int]) -> str:
    """GitBook's tags done in one file's text: `{% raw %}` kept as written, `{% hint %}` an
    alert, `{% include %}` expanded, any other tag dropped (its text between kept)."""
    out, last, tags = [], 0, _Tags()
    for raw in GITBOOK_RAW.finditer(text):
        out.append(_gitbook_tags(text, (last, raw.start()), path, run, line_of, tags))
        out.append(raw[1])
        last = raw.end()
    out.append(_gitbook_tags(text, (last, len(text)), path, run, line_of, tags))
    shown = display_name(path)
    for name, line in tags.dropped.items():
        run.note(f"GitBook tag `{{% {name} %}}` dropped", shown, line,
                 "here and wherever else it stands; the text between its tags is kept "
                 "(GitBook's plugins do not run in Quire)", TAGS_DROPPED)  # fmt: skip
    for line in tags.open_hints:
        run.note("`{% hint %}` without its `{% endhint %}`", shown, line,
                 "the rest of the file is in the hint's aside; close it with {% endhint %}",
                 "GitBook hints left open")  # fmt: skip
    return _quote_hints("".join(out))


@dataclass
class _Tags:
    """What the GitBook tags of one file leave to report: each dropped tag's first line, and
    the lines of hints not closed."""

    dropped: dict[str, int] = field(default_factory=dict)
    open_hints: list[int] = field(default_factory=list)


def _gitbook_tags(
    text: str,
    span: tuple[int, int],
    path: Path,
    run: _Run,
    line_of: Callable[[int], int],
    tags: _Tags,
) -> str:
    """The tags in a span of a file done; what to report of them kept in `tags`."""
    begin, end = span
    out, last = [], begin
    for tag in GITBOOK_TAG.finditer(text, begin, end):
        out.append(text[last : tag.start()])
        last = tag.end()
        name, args, line = tag[1], tag[2], line_of(tag.start())
        if tag[3] is not None:
            out.append(_code_listing(tag[3], tag[0].strip(), path, line, run))
        elif name == "hint":
            style = HINT_STYLE.search(args)
            out.append(f"\x00hint:{HINT_ALERTS.get(style[1] if style else '', 'NOTE')}\x00")
            tags.open_hints.append(line)
        elif name == "endhint":
            out.append("\x00endhint\x00")
            if tags.open_hints:
                tags.open_hints.pop()
        elif name == "include" and (ref := GITBOOK_INCLUDE.match(args)):
            found = _included(ref[1], tag[0], path, line, run)
            out.append(_expand(found[1], found[0], run) if found else "")
        else:
            base = name[3:] if name.startswith("end") and len(name) > 3 else name
            tags.dropped.setdefault(base, line)
    out.append(text[last:end])
    return "".join(out)


def _code_listing(ref: str, whole: str, path: Path, line: int, run: _Run) -> str:
    """A file shown as a code block in its language (the include-codeblock plugin's `[include]`),
    fenced with more backticks than any run in it."""
    found = _included(ref, whole, path, line, run)
    if found is None:
        return ""
    code = found[1].rstrip("\n")
    fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", code)), default=0))
    return f"{fence}{Path(ref).suffix.lstrip('.')}\n{code}\n{fence}"


def _quote_hints(text: str) -> str:
    """Hints made GitHub alerts, which every Markdown reader of Quire's reads as an aside: the
    opening tag's line `> [!NOTE]` (or its kind), the hint's lines quoted, the closing tag's
    line left blank. A tag alone on its line keeps the lines after it where they were."""
    if "\x00" not in text:
        return text
    out, depth = [], 0
    for line in text.split("\n"):
        made: list[tuple[int, str]] = []  # (depth, text) of the lines this line becomes
        current, pieces = "", HINT_MARK.split(line)
        for n, piece in enumerate(pieces):
            if n % 2 == 0:
                current += piece
            elif piece is None:  # a closing tag
                if current.strip():
                    made.append((depth, current))
                current, depth = "", max(depth - 1, 0)
            else:
                if current.strip():
                    made.append((depth, current))
                made.append((depth + 1, f"[!{piece}]"))
                current, depth = "", depth + 1
        if current.strip() or not made:
            made.append((depth, current))
        out += [(f"{'> ' * d}{x}" if x.strip() else ">" * d) for d, x in made]
    return "\n".join(out)

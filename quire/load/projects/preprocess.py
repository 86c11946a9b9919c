"""mdBook's and GitBook's text directives, done on a chapter's text before pandoc reads it.

mdBook replaces `{{#include}}`, `{{#rustdoc_include}}`, `{{#playground}}` and `{{#title}}` in
the text, code blocks included, before its Markdown parser sees it; GitBook (Nunjucks) does the
same with `{% %}` tags. Quire does what they do, at the same stage: an include is read through
the book's confinement (inside the book's root, a regular file within the chapter size cap) and
within bounds (nesting depth, number of includes, size of the result); a missing file or anchor
is a finding naming the directive's place and the target, and the directive is left out.

Line numbers in findings are those of the file that holds the directive, as its author sees it.
The text made is given with the place of each of its lines in the author's files (the chapter's
own line, or the included file's), so that what a later stage reports at a line of it names the
line the author wrote (quire/load/places.py).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from quire.errors import BuildError, Finding, Problem, report_again
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


Place = tuple[str, int]  # a file, as messages show it, and a line of it


class _Text:
    """Text being put together, with the place of each of its lines in the author's files."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.places: list[Place | None] = [None]  # one per line; None: no place yet
        self.empty = True  # nothing stands on the last line yet

    def add(self, text: str, places: Sequence[Place]) -> None:
        """Append `text`, whose n-th line stands at places[n] (one place per line)."""
        if not text:
            return
        first = text.split("\n", 1)[0]
        # A line takes the place of what stands first on it.
        if self.places[-1] is None or (self.empty and first):
            self.places[-1] = places[0]
        self.places.extend(places[1 : text.count("\n") + 1])
        self.empty = text.endswith("\n")
        self.parts.append(text)

    def add_made(self, text: str, place: Place) -> None:
        """Append text Quire made (a code fence), all at the directive's place."""
        self.add(text, [place] * (text.count("\n") + 1))

    def add_text(self, other: _Text) -> None:
        """Append text already put together, with its places."""
        self.add(other.text, [p or ("", 0) for p in other.places])

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class _Source:
    """One file's text being expanded, with the line number in that file of each of its lines
    (an anchor's lines skip the markers of other anchors)."""

    text: str
    shown: str
    numbers: Sequence[int]
    starts: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.starts = [0, *(m.end() for m in re.finditer("\n", self.text))]

    def line(self, offset: int) -> int:
        """The line number of an offset of the text."""
        return self.numbers[bisect_right(self.starts, offset) - 1]

    def add(self, out: _Text, begin: int, end: int) -> None:
        """Append the text from `begin` to `end`, each line with its place."""
        first = bisect_right(self.starts, begin) - 1
        count = self.text.count("\n", begin, end)
        out.add(
            self.text[begin:end], [(self.shown, n) for n in self.numbers[first : first + count + 1]]
        )


def preprocess(text: str, path: Path, root: Path, flavour: str) -> tuple[str, list[Finding]]:
    """A chapter's text with its mdBook (`flavour` "mdbook") or GitBook ("gitbook") directives
    done, and the findings to report (see `report`). Other flavours are left as they are."""
    done, _places, findings = preprocess_lines(text, path, root, flavour)
    return done, findings


def preprocess_lines(
    text: str, path: Path, root: Path, flavour: str
) -> tuple[str, tuple[Place, ...] | None, list[Finding]]:
    """As `preprocess`, with the place in the author's files of each line of the text made;
    None when each line is still the chapter's own, at its own number."""
    if flavour not in ("mdbook", "gitbook"):
        return text, None, []
    run = _Run(root=resolved(root), flavour=flavour)
    done = _expand(text, path, run)
    made = done.text
    if len(made) > size_limit("chapter"):
        raise too_big("chapter", len(made), file=display_name(path), line=None,
                      what="the chapter with its includes")  # fmt: skip
    shown = display_name(path)
    places = tuple(p or (shown, n) for n, p in enumerate(done.places, 1))
    same = all(p == (shown, n) for n, p in enumerate(places, 1))
    return made, None if same else places, run.findings


def report(findings: list[Finding], seen: set[str] | None = None) -> None:
    """Log each finding of `preprocess` as a build warning. With `seen` (one set for all of a
    book's files), a GitBook tag is reported once in the book, at its first place."""
    for f in findings:
        p = f.problem
        if seen is not None and f.group == TAGS_DROPPED:
            if p.message in seen:
                continue
            seen.add(p.message)
        report_again(f)  # its line is the author's already


def _expand(text: str, path: Path, run: _Run, numbers: Sequence[int] | None = None) -> _Text:
    """One file's text with its directives done, includes expanded in turn; `numbers` are the
    line numbers in the file of the text's lines (1, 2, 3… if not given)."""
    shown = display_name(path)
    if len(run.chain) >= MAX_DEPTH:
        raise BuildError(
            f"includes nested more than {MAX_DEPTH} deep: {' → '.join([*run.chain, shown])}",
            file=run.chain[-1],
            hint="a file includes itself, directly or through others: break the circle",
        )
    run.chain.append(shown)
    try:
        source = _Source(text, shown, numbers or range(1, text.count("\n") + 2))
        if run.flavour == "mdbook":
            return _mdbook(source, path, run)
        return _gitbook(source, path, run)
    finally:
        run.chain.pop()


# ---------- mdBook ----------


def _mdbook(source: _Source, path: Path, run: _Run) -> _Text:
    """mdBook's links done in one file's text (preprocess/links.rs, replace_all)."""
    out, last, text = _Text(), 0, source.text
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


def _mdbook_link(kind: str, target: str, whole: str, path: Path, line: int, run: _Run) -> _Text:
    """What one `{{#kind target}}` stands for."""
    shown = display_name(path)
    out = _Text()
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
    found = _included(ref, whole, path, line, run)
    if found is None:
        return out
    target_path, lines = found[0], _split_lines(found[1])
    if kind in ("playground", "playpen"):
        out.add_made(f"```{','.join(['rust', *words[1:]])}\n", (shown, line))
        out.add_text(_expand("\n".join(lines), target_path, run))
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
    return _expand("\n".join(x for _n, x in taken), target_path, run, numbers)


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


# ---------- GitBook ----------

# GitBook's hint styles as the GitHub alerts they are written as (see _quote_hints).
HINT_ALERTS = {"info": "NOTE", "tip": "TIP", "success": "TIP", "warning": "WARNING",
               "danger": "CAUTION"}  # fmt: skip
# Where a hint opens and closes in the text, until _quote_hints makes it a block quote.
HINT_MARK = re.compile("\x00(?:hint:([A-Z]+)|endhint)\x00")


def _gitbook(source: _Source, path: Path, run: _Run) -> _Text:
    """GitBook's tags done in one file's text: `{% raw %}` kept as written, `{% hint %}` an
    alert, `{% include %}` expanded, any other tag dropped (its text between kept)."""
    out, last, tags, text = _Text(), 0, _Tags(), source.text
    for raw in GITBOOK_RAW.finditer(text):
        _gitbook_tags(out, source, (last, raw.start()), path, run, tags)
        source.add(out, raw.start(1), raw.end(1))
        last = raw.end()
    _gitbook_tags(out, source, (last, len(text)), path, run, tags)
    shown = display_name(path)
    for name, line in tags.dropped.items():
        run.note(f"GitBook tag `{{% {name} %}}` dropped", shown, line,
                 "here and wherever else it stands; the text between its tags is kept "
                 "(GitBook's plugins do not run in Quire)", TAGS_DROPPED)  # fmt: skip
    for line in tags.open_hints:
        run.note("`{% hint %}` without its `{% endhint %}`", shown, line,
                 "the rest of the file is in the hint's aside; close it with {% endhint %}",
                 "GitBook hints left open")  # fmt: skip
    return _quote_hints(out)


@dataclass
class _Tags:
    """What the GitBook tags of one file leave to report: each dropped tag's first line, and
    the lines of hints not closed."""

    dropped: dict[str, int] = field(default_factory=dict)
    open_hints: list[int] = field(default_factory=list)


def _gitbook_tags(
    out: _Text,
    source: _Source,
    span: tuple[int, int],
    path: Path,
    run: _Run,
    tags: _Tags,
) -> None:
    """The tags in a span of a file done, appended to `out`; what to report of them kept in
    `tags`."""
    begin, end = span
    last, text = begin, source.text
    for tag in GITBOOK_TAG.finditer(text, begin, end):
        source.add(out, last, tag.start())
        last = tag.end()
        name, args, line = tag[1], tag[2], source.line(tag.start())
        here = (source.shown, line)
        if tag[3] is not None:
            _code_listing(out, tag[3], tag[0].strip(), path, line, run)
        elif name == "hint":
            style = HINT_STYLE.search(args)
            out.add_made(f"\x00hint:{HINT_ALERTS.get(style[1] if style else '', 'NOTE')}\x00", here)
            tags.open_hints.append(line)
        elif name == "endhint":
            out.add_made("\x00endhint\x00", here)
            if tags.open_hints:
                tags.open_hints.pop()
        elif name == "include" and (ref := GITBOOK_INCLUDE.match(args)):
            found = _included(ref[1], tag[0], path, line, run)
            if found:
                out.add_text(_expand(found[1], found[0], run))
        else:
            base = name[3:] if name.startswith("end") and len(name) > 3 else name
            tags.dropped.setdefault(base, line)
    source.add(out, last, end)


def _code_listing(out: _Text, ref: str, whole: str, path: Path, line: int, run: _Run) -> None:
    """A file shown as a code block in its language (the include-codeblock plugin's `[include]`),
    fenced with more backticks than any run in it."""
    found = _included(ref, whole, path, line, run)
    if found is None:
        return
    code = found[1].rstrip("\n")
    fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", code)), default=0))
    here = (display_name(path), line)
    out.add_made(f"{fence}{Path(ref).suffix.lstrip('.')}\n", here)
    shown = display_name(found[0])
    out.add(code, [(shown, n) for n in range(1, code.count("\n") + 2)])
    out.add_made(f"\n{fence}", here)


def _quote_hints(done: _Text) -> _Text:
    """Hints made GitHub alerts, which every Markdown reader of Quire's reads as an aside: the
    opening tag's line `> [!NOTE]` (or its kind), the hint's lines quoted, the closing tag's
    line left blank. A tag alone on its line keeps the lines after it where they were; each
    line made keeps the place of the line it was made from."""
    text = done.text
    if "\x00" not in text:
        return done
    lines: list[str] = []
    places: list[Place] = []
    depth = 0
    for line, place in zip(text.split("\n"), done.places, strict=True):
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
        lines += [(f"{'> ' * d}{x}" if x.strip() else ">" * d) for d, x in made]
        places += [place or ("", 0)] * len(made)
    out = _Text()
    out.add("\n".join(lines), places)
    return out

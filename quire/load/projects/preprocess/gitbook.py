"""GitBook's (Nunjucks) tags: `{% raw %}` kept as written, `{% hint %}` an alert,
`{% include %}` and the include-codeblock plugin's `[include](file)` expanded, any other tag
dropped (its text between kept), with one finding per tag name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from quire.load.manuscript import display_name
from quire.load.projects.preprocess.core import Run, expand, included
from quire.load.projects.preprocess.lines import Lined, Place, SourceText

# A Nunjucks tag (`{%-` and `-%}` too), or the include-codeblock plugin's `[include](file)`
# (or `[import]`) alone on its line: the file shown as a code block.
GITBOOK_TAG = re.compile(
    r"\{%-?\s*(\w+)(.*?)-?%\}|^[ \t]*\[(?:include|import)\]\(([^)\s]+)\)[ \t]*$", re.MULTILINE
)
GITBOOK_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
HINT_STYLE = re.compile(r"""style\s*=\s*["']?([\w-]+)""")
GITBOOK_INCLUDE = re.compile(r"""\s*["']([^"']+)["']""")
TAGS_DROPPED = "GitBook tags Quire drops"  # the group of their warnings
# GitBook's hint styles as the GitHub alerts they are written as (see _quote_hints).
HINT_ALERTS = {"info": "NOTE", "tip": "TIP", "success": "TIP", "warning": "WARNING",
               "danger": "CAUTION"}  # fmt: skip
# Where a hint opens and closes in the text, until _quote_hints makes it a block quote.
HINT_MARK = re.compile("\x00(?:hint:([A-Z]+)|endhint)\x00")


def directives(source: SourceText, path: Path, run: Run) -> Lined:
    """GitBook's tags done in one file's text: `{% raw %}` kept as written, `{% hint %}` an
    alert, `{% include %}` expanded, any other tag dropped (its text between kept)."""
    out, last, tags, text = Lined(), 0, _Tags(), source.text
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
    out: Lined,
    source: SourceText,
    span: tuple[int, int],
    path: Path,
    run: Run,
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
            found = included(ref[1], tag[0], path, line, run)
            if found:
                out.add_text(expand(found[1], found[0], run))
        else:
            base = name[3:] if name.startswith("end") and len(name) > 3 else name
            tags.dropped.setdefault(base, line)
    source.add(out, last, end)


def _code_listing(out: Lined, ref: str, whole: str, path: Path, line: int, run: Run) -> None:
    """A file shown as a code block in its language (the include-codeblock plugin's `[include]`),
    fenced with more backticks than any run in it."""
    found = included(ref, whole, path, line, run)
    if found is None:
        return
    code = found[1].rstrip("\n")
    fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", code)), default=0))
    here = (display_name(path), line)
    out.add_made(f"{fence}{Path(ref).suffix.lstrip('.')}\n", here)
    shown = display_name(found[0])
    out.add(code, [(shown, n) for n in range(1, code.count("\n") + 2)])
    out.add_made(f"\n{fence}", here)


def _quote_hints(done: Lined) -> Lined:
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
    out = Lined()
    out.add("\n".join(lines), places)
    return out

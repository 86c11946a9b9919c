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
line the author wrote (lines.py; errors.author_place).
"""

from __future__ import annotations

from pathlib import Path

from quire.errors import Finding, report_again
from quire.load.confine import resolved
from quire.load.limits import size_limit, too_big
from quire.load.manuscript import display_name
from quire.load.projects.preprocess import gitbook, mdbook
from quire.load.projects.preprocess.core import Directives, Run, expand
from quire.load.projects.preprocess.gitbook import TAGS_DROPPED
from quire.load.projects.preprocess.lines import Place

FLAVOURS: dict[str, Directives] = {"mdbook": mdbook.directives, "gitbook": gitbook.directives}


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
    if flavour not in FLAVOURS:
        return text, None, []
    run = Run(root=resolved(root), directives=FLAVOURS[flavour])
    done = expand(text, path, run)
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

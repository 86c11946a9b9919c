"""Which Markdown each project's files are written in, as a pandoc reader (format+extensions)."""

from __future__ import annotations

import re
from typing import Any

from quire.errors import BuildError

# mdBook reads CommonMark with pulldown-cmark's extensions (mdbook-markdown's options): tables,
# footnotes, strikethrough, task lists, heading attributes, definition lists, admonitions
# (GitHub's alerts), and smart punctuation when book.toml asks. No math: `$HOME` is a dollar.
# GitHub's heading ids are mdBook's too (both drop punctuation and turn spaces into hyphens),
# so `file.md#concatenating-with--or-format` finds its heading.
MDBOOK = (
    "commonmark+pipe_tables+footnotes+strikeout+task_lists+attributes+definition_lists"
    "+alerts+gfm_auto_identifiers"
)
# GitBook and HonKit read GitHub's Markdown; their heading ids are GitHub's. Front matter is
# theirs too (a page's description); math only with a plugin, so no `$…$`.
GITBOOK = "gfm-tex_math_dollars-tex_math_gfm"
# The Markdown formats pandoc reads, which a `markdown:` setting (or a defaults file's `from:`)
# may name, with extensions: `markdown: commonmark_x-smart`.
FORMATS = (
    "markdown",
    "commonmark",
    "commonmark_x",
    "gfm",
    "markdown_strict",
    "markdown_phpextra",
    "markdown_mmd",
    "markdown_github",
)
READER_SPEC = re.compile(r"(?P<format>[a-z_]+)(?:[+-][a-z_]+)*")


def mdbook_reader(smart: bool) -> str:
    """mdBook's flavour, with smart punctuation as book.toml says."""
    return MDBOOK + ("+smart" if smart else "")


def markdown_setting(value: Any, origin: str, line: int | None, key: str = "markdown") -> str:
    """A `markdown:` setting checked: a pandoc Markdown reader, with extensions if any."""
    text = str(value).strip() if isinstance(value, str) else ""
    found = READER_SPEC.fullmatch(text)
    if found is None or found["format"] not in FORMATS:
        raise BuildError(
            f"`{key}` is {value!r} but must be a Markdown format pandoc reads: "
            + ", ".join(FORMATS),
            file=origin,
            line=line,
            hint="add extensions with + and -, like `commonmark_x-smart` or `markdown+hard_line_breaks`",
        )
    return text

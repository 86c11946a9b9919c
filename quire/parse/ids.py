"""Heading identifiers as pandoc's Markdown reader makes them, for a file read in parts.

Pandoc gives a heading without `{#id}` an identifier made from its text, unique in the
document: `notes`, then `notes-1`, `notes-2`. A part read alone counts only its own headings,
so a part's made identifiers are made again here against every identifier of the parts before
it, by pandoc's own rule (Text.Pandoc.Shared's inlineListToIdentifier and uniqueIdent). Each
is first checked against what pandoc made in the part itself: where the rule made here gives
another identifier there, the file is read whole.
"""

from __future__ import annotations

import re
from typing import Any

from quire.parse.text import stringify

SUFFIX = re.compile(r"(-\d+)+$")  # pandoc's -1, -2 (and a base that ends like one)


def renumber(
    headers: list[Any], explicit: set[str], seen: set[str], reader: str
) -> set[str] | None:
    """Give a part's headings (in reading order) the identifiers the whole file's reading gives
    them, after the identifiers `seen` in the parts before; the texts of the headings given
    another one, or None if that cannot be told (the file is then read whole)."""
    ids = [header["c"][1][0] for header in headers]
    if len(set(ids)) != len(ids) or any(i in seen for i in ids if i in explicit):
        return None  # pandoc would warn of the duplicate, or which one it made is unknown
    bases = {SUFFIX.sub("", i) for i in seen}
    if not any(SUFFIX.sub("", i) in bases for i in ids if i not in explicit):
        return set()  # no made identifier can meet one from before
    if "gfm_auto_identifiers" in reader or "-auto_identifiers" in reader:
        return None
    ascii_only = "+ascii_identifiers" in reader
    local, whole, renamed = set(), set(seen), set()
    for header, ident in zip(headers, ids, strict=True):
        if ident in explicit:
            local.add(ident)
            whole.add(ident)
            continue
        base = identifier(header["c"][2], ascii_only)
        if unique(base, local) != ident:
            return None
        made = unique(base, whole)
        local.add(ident)
        whole.add(made)
        if made != ident:
            header["c"][1] = [made, *header["c"][1][1:]]
            renamed.add(base)
    return renamed


def identifier(inlines: list[Any], ascii_only: bool = False) -> str:
    """A heading's identifier before it is made unique: its text in lower case, letters,
    digits, `_-.` kept, words joined by hyphens, from its first letter (or `section`)."""
    text = "".join(
        c for c in plain_text(inlines).lower() if c.isspace() or c.isalnum() or c in "_-."
    )
    made = "-".join(text.split())
    if ascii_only:
        made = "".join(c for c in made if c.isascii())
    at = next((n for n, c in enumerate(made) if c.isalpha()), len(made))
    return made[at:] or "section"


def unique(base: str, used: set[str]) -> str:
    """The base, or the first of base-1, base-2… not used (pandoc's uniqueIdent)."""
    if base not in used:
        return base
    return next(f"{base}-{n}" for n in range(1, 60001) if f"{base}-{n}" not in used)


def plain_text(node: Any) -> str:
    """The text of inlines as pandoc takes it for an identifier (a raw `<br>` is a space)."""
    return stringify(node, breaks=True)

"""Quotation marks as the book's language writes them.

With smart punctuation (Quire reads Markdown with pandoc's `smart`), "…" and '…' in the text
become Quoted nodes in pandoc's AST, which pandoc's writers print as English quotes, “…” and
‘…’, whatever the language. Here they become the language's own marks (the delimiters of the
Unicode CLDR): „…“ in German, «…» in Russian, « … » with narrow no-break spaces in French,
「…」 in Japanese. A language not listed keeps pandoc's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from quire.parse.pandoc import Parsed
from quire.transform.ast import Surveys, walk

NNBSP = "\u202f"  # French sets a narrow no-break space inside its guillemets
# Language (lower case, as its tag begins): (open, close, inner open, inner close).
QUOTES: dict[str, tuple[str, str, str, str]] = {
    "cs": ("„", "“", "‚", "‘"),
    "de": ("„", "“", "‚", "‘"),
    "es": ("«", "»", "“", "”"),
    "fr": ("«" + NNBSP, NNBSP + "»", "“", "”"),
    "it": ("«", "»", "“", "”"),
    "ja": ("「", "」", "『", "』"),
    "pl": ("„", "”", "«", "»"),
    "ru": ("«", "»", "„", "“"),
    "uk": ("«", "»", "„", "“"),
    "zh-hant": ("「", "」", "『", "』"),
}
# Regions whose Chinese is written in traditional characters, when the tag names no script.
TRADITIONAL_REGIONS = ("tw", "hk", "mo")


def quote_marks(lang: str | None) -> tuple[str, str, str, str] | None:
    """The quotation marks of a language tag, or None where pandoc's English ones stay."""
    if not lang:
        return None
    parts = lang.lower().replace("_", "-").split("-")
    if parts[0] == "zh":
        traditional = "hant" in parts or (
            "hans" not in parts and any(p in TRADITIONAL_REGIONS for p in parts[1:])
        )
        return QUOTES["zh-hant"] if traditional else None
    if parts[0] == "de" and "ch" in parts[1:]:
        return ("«", "»", "‹", "›")  # Swiss German writes guillemets
    return QUOTES.get(parts[0])


def local_quotes(parsed: list[Parsed], lang: str | None, surveys: Surveys) -> list[Parsed]:
    """The files' Quoted nodes as text between the language's quotation marks."""
    marks = quote_marks(lang)
    if marks is None:
        return parsed
    result = []
    for item in parsed:
        found = surveys.of(item.blocks)
        if not found.has("Quoted"):
            result.append(item)
            continue
        blocks = walk(item.blocks, lambda node: _quoted(node, marks), ["Quoted"])
        result.append(replace(item, blocks=blocks))
    return result


def _quoted(node: dict[str, Any], marks: tuple[str, str, str, str]) -> list[dict[str, Any]]:
    """A Quoted node as its inlines between the marks of its kind (double or single)."""
    kind, inlines = node["c"]
    opening, closing = marks[:2] if kind["t"] == "DoubleQuote" else marks[2:]
    return [{"t": "Str", "c": opening}, *inlines, {"t": "Str", "c": closing}]

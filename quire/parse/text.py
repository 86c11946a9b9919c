"""The plain text of pandoc AST nodes, as pandoc's `stringify` gives it."""

from __future__ import annotations

from typing import Any

QUOTES = {"DoubleQuote": "\u201c\u201d", "SingleQuote": "\u2018\u2019"}


def stringify(node: Any, breaks: bool = False) -> str:
    """The plain text of an AST node or list of nodes, as pandoc's stringify gives it (`breaks`:
    a raw `<br>` counts as a space, as when pandoc makes a heading's identifier)."""
    if isinstance(node, list):
        return "".join(stringify(n, breaks) for n in node)
    if not isinstance(node, dict):
        return ""
    kind, content = node.get("t"), node.get("c")
    if kind in ("Str", "MetaString"):
        return content
    if kind in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if kind in ("Code", "Math"):
        return content[-1]
    if kind == "Quoted":
        marks = QUOTES[content[0]["t"]]
        return marks[0] + stringify(content[1], breaks) + marks[1]
    if kind == "RawInline" and breaks:
        return " " if content[0] == "html" and content[1].startswith("<br") else ""
    if kind in ("Note", "RawInline", "RawBlock"):
        return ""
    if kind in ("Image", "Link", "Span", "Div", "Cite"):
        return stringify(content[1], breaks)
    if kind == "Header":
        return stringify(content[2], breaks)
    return stringify(content, breaks) if isinstance(content, list) else ""

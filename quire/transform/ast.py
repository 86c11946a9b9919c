"""Walking pandoc's JSON AST, and finding where a piece of text sits in its source file."""

from __future__ import annotations

from typing import Any

from quire.manuscript import SourceFile


def locate(source: SourceFile, needle: str) -> int | None:
    """The line of a source file where a piece of text first appears, for messages."""
    index = source.text.find(needle)
    return source.text.count("\n", 0, index) + 1 if index >= 0 else None


def walk(value: Any, visit: Any) -> Any:
    """Rebuild an AST bottom-up; `visit` may return a node, a list to splice, or None."""
    if isinstance(value, dict):
        content = value.get("c")
        # AST nodes are {"t": kind, "c": content}; strings and numbers need no visit.
        return {**value, "c": walk(content, visit)} if isinstance(content, list | dict) else value
    if not isinstance(value, list):
        return value
    result: list[Any] = []
    for item in value:
        if isinstance(item, list | dict):
            item = walk(item, visit)
            replacement = visit(item) if isinstance(item, dict) and "t" in item else None
            if isinstance(replacement, list):
                result.extend(replacement)
                continue
            if replacement is not None:
                item = replacement
        result.append(item)
    return result


def iter_nodes(value: Any) -> Any:
    """Every AST node (a dict with "t") inside value, in document order, without copying."""
    if isinstance(value, dict):
        if "t" in value:
            yield value
        value = value.get("c")
    if isinstance(value, list):
        for item in value:
            if isinstance(item, list | dict):
                yield from iter_nodes(item)

"""Walking pandoc's JSON AST, and finding where a piece of text sits in its source file."""

from __future__ import annotations

from typing import Any

from quire.manuscript import SourceFile

CONTAINERS = (list, dict)  # what an AST node's content may hold besides text and numbers


def locate(source: SourceFile, needle: str) -> int | None:
    """The line of a source file where a piece of text first appears, for messages."""
    index = source.text.find(needle)
    return source.text.count("\n", 0, index) + 1 if index >= 0 else None


def walk(value: Any, visit: Any) -> Any:
    """Rebuild an AST bottom-up; `visit` may return a node, a list to splice, or None."""
    # `type(x) is` rather than isinstance: a book's AST has hundreds of thousands of nodes, and
    # pandoc's JSON holds only plain dicts, lists, strings and numbers.
    if type(value) is dict:
        content = value.get("c")
        # AST nodes are {"t": kind, "c": content}; strings and numbers need no visit.
        return {**value, "c": walk(content, visit)} if type(content) in CONTAINERS else value
    if type(value) is not list:
        return value
    result: list[Any] = []
    for item in value:
        kind = type(item)
        if kind is list:
            item = walk(item, visit)
        elif kind is dict:
            item = walk(item, visit)
            replacement = visit(item) if "t" in item else None
            if type(replacement) is list:
                result.extend(replacement)
                continue
            if replacement is not None:
                item = replacement
        result.append(item)
    return result


def iter_nodes(value: Any) -> Any:
    """Every AST node (a dict with "t") inside value, in document order, without copying."""
    stack = [value]  # a stack, not recursion: generators nested a hundred deep are slow
    while stack:
        item = stack.pop()
        if type(item) is dict:
            if "t" in item:
                yield item
            item = item.get("c")
        if type(item) is list:
            stack.extend(child for child in reversed(item) if type(child) in CONTAINERS)

"""Bounds on the shape of a parsed book, checked before any stage that recurses over it.

Layout (WeasyPrint), the HTML writer and our own AST walks recurse once per level of nesting,
so a few hundred nested block quotes or emphases would exhaust Python's stack. No real book
comes near the limit; a file that does is refused with the line where the nesting gets deep.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from quire.errors import BuildError

if TYPE_CHECKING:  # pandoc imports this module to name a file that is too deep to decode
    from quire.manuscript import SourceFile
    from quire.pandoc import Parsed

MAX_NESTING = 64  # AST nodes inside one another: block quotes, lists, emphasis, spans, ...


JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_nesting(parsed: list[Parsed]) -> None:
    """Refuse a file whose AST nests deeper than MAX_NESTING, naming file:line."""
    for item in parsed:
        deep = _first_too_deep(item.blocks)
        if deep is not None:
            raise too_deep(item.source, _line_of(item.source, deep))


def too_deep(source: SourceFile, line: int | None) -> BuildError:
    """The error for a file nested too deeply, at a line."""
    return BuildError(
        f"text nested more than {MAX_NESTING} levels deep "
        "(block quotes, lists or emphasis inside one another)",
        file=source.name,
        line=line,
        hint="flatten it; no book needs that much nesting",
    )


def too_deep_to_decode(source: SourceFile, ast_json: str) -> BuildError:
    """For AST JSON too deep for Python's decoder: the error, at the first deep word's line."""
    depth, after_str = 0, False
    for token in JSON_TOKEN.finditer(ast_json):
        text = token[0]
        if text in "[{":
            depth += 1
        elif text in "]}":
            depth -= 1
        elif text == '"Str"':
            after_str = True
        elif after_str and text != '"c"':
            after_str = False
            if depth > 2 * MAX_NESTING:  # the first word that deep: {"t":"Str","c":"word"}
                word = json.loads(text)
                return too_deep(source, _line_of(source, {"t": "Str", "c": word}))
    return too_deep(source, None)


def _first_too_deep(blocks: list[Any]) -> Any:
    """The first AST node deeper than the limit, found without recursion, or None."""
    stack: list[tuple[Any, int]] = [(blocks, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if "t" in value:
                depth += 1
                if depth > MAX_NESTING:
                    return value
            value = value.get("c")
        if isinstance(value, list):
            stack.extend(
                (child, depth) for child in reversed(value) if isinstance(child, list | dict)
            )
    return None


def _line_of(source: SourceFile, node: Any) -> int | None:
    """The line of the first word inside the deep node (found without recursion), if any."""
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("t") == "Str":
                index = source.text.find(value["c"]) if value["c"].strip() else -1
                return source.text.count("\n", 0, index) + 1 if index >= 0 else None
            value = value.get("c")
        if isinstance(value, list):
            stack.extend(reversed(value))
    return None

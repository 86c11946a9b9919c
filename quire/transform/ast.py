"""Walking pandoc's JSON AST, and finding where a piece of text sits in its source file.

A book's AST has hundreds of thousands of nodes, nearly all words and spaces, so the walks
here are written for speed: `type(x) is` rather than isinstance (pandoc's JSON holds only plain
dicts, lists, strings and numbers), no call for a node without content to walk, and a survey
(`NodeIndex`) that lets each concern look only at the nodes of its kind, or skip a file that
has none.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any

from quire.load.manuscript import SourceFile

CONTAINERS = (list, dict)  # what an AST node's content may hold besides text and numbers
# Nodes too common to index, which no concern looks for: the words and the spaces between them.
UNINDEXED = frozenset({"Str", "Space", "SoftBreak", "LineBreak"})


def locate(source: SourceFile, needle: str) -> int | None:
    """The line of a source file where a piece of text first appears, for messages."""
    index = source.text.find(needle)
    return source.text.count("\n", 0, index) + 1 if index >= 0 else None


def walk(
    value: Any,
    visit: Callable[[dict], Any],
    kinds: Collection[str] | None = None,
    into: Collection[int] | None = None,
) -> Any:
    """Rebuild an AST bottom-up; `visit` may return a node, a list to splice, or None.

    With `kinds`, only nodes of those kinds are shown to `visit` (the others are kept as they
    are), which saves a call for each of the book's words. With `into` (NodeIndex.paths_to),
    only the lists named there are walked and rebuilt; the rest are kept, not copied.
    """
    if type(value) is dict:
        content = value.get("c")
        # AST nodes are {"t": kind, "c": content}; strings and numbers need no visit.
        if type(content) not in CONTAINERS:
            return value
        return {**value, "c": walk(content, visit, kinds, into)}
    if type(value) is not list:
        return value
    result: list[Any] = []
    for item in value:
        kind = type(item)
        if kind is list:
            if into is None or id(item) in into:
                item = walk(item, visit, kinds, into)
        elif kind is dict:
            content = item.get("c")
            # A word ({"t": "Str", "c": "..."}) is kept as it is, as is what `into` leaves out.
            if type(content) in CONTAINERS and (into is None or id(content) in into):
                item = {**item, "c": walk(content, visit, kinds, into)}
            if "t" not in item or (kinds is not None and item["t"] not in kinds):
                result.append(item)
                continue
            replacement = visit(item)
            if type(replacement) is list:
                result.extend(replacement)
                continue
            if replacement is not None:
                item = replacement
        result.append(item)
    return result


def iter_nodes(value: Any) -> Iterator[dict]:
    """Every AST node (a dict with "t") inside value, in document order, without copying."""
    stack = [value]  # a stack, not recursion: generators nested a hundred deep are slow
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        if type(item) is dict:
            if "t" in item:
                yield item
            item = item.get("c")
        if type(item) is list:
            extend(reversed(item))  # strings and numbers among them are popped and passed over


class NodeIndex:
    """The nodes of one AST by kind, in document order, found in one walk (words left out).

    The AST is read, never changed; a concern asks for the nodes of its kinds, or whether
    there are any, instead of walking the whole tree itself, and a walk that rebuilds it goes
    only where those nodes are (paths_to).
    """

    def __init__(self, blocks: list[Any]) -> None:
        self.blocks = blocks
        self._by_kind: dict[str, list[dict]] = {}
        # By id(): the list that holds each indexed node, and the list around each inner list.
        self._holder: dict[int, list[Any]] = {}
        self._outer: dict[int, list[Any]] = {}
        self._gather(blocks)

    def _gather(self, items: list[Any]) -> None:
        """Add the nodes inside a list to the index: to their kinds' lists, in document order.

        Recursion rather than iter_nodes' stack, for speed: a loop over a paragraph's words costs
        less than pushing and popping each. The depth is bounded (bounds.check_bounds has refused
        an AST nested deeper than MAX_NESTING before the transform reads it).
        """
        by_kind, holder, outer = self._by_kind, self._holder, self._outer
        for item in items:
            if type(item) is dict:
                kind = item.get("t")
                if kind is not None and kind not in UNINDEXED:
                    if kind in by_kind:
                        by_kind[kind].append(item)
                    else:
                        by_kind[kind] = [item]
                    holder[id(item)] = items
                content = item.get("c")
                if type(content) is list:  # as iter_nodes: a node's content, if it is a list
                    outer[id(content)] = items
                    self._gather(content)
            elif type(item) is list:
                outer[id(item)] = items
                self._gather(item)

    def has(self, *kinds: str) -> bool:
        """True if the AST holds a node of any of these kinds."""
        return any(kind in self._by_kind for kind in kinds)

    def nodes(self, kind: str) -> list[dict]:
        """The nodes of one kind, in document order."""
        return self._by_kind.get(kind, [])

    def paths_to(self, kinds: Collection[str]) -> set[int]:
        """The ids of the lists a walk must enter to reach every node of these kinds."""
        lists: set[int] = set()
        for kind in kinds:
            for node in self.nodes(kind):
                holder: list[Any] | None = self._holder[id(node)]
                while holder is not None and id(holder) not in lists:
                    lists.add(id(holder))
                    holder = self._outer.get(id(holder))
        return lists


class Surveys:
    """The NodeIndex of each AST one transform reads, made once per AST and then shared."""

    def __init__(self) -> None:
        self._made: dict[int, NodeIndex] = {}

    def of(self, blocks: list[Any]) -> NodeIndex:
        """The index of an AST (its top-level list), made the first time it is asked for."""
        index = self._made.get(id(blocks))
        if index is None or index.blocks is not blocks:  # the index keeps its AST alive
            index = self._made[id(blocks)] = NodeIndex(blocks)
        return index

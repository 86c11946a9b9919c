"""Bounds on the shape of a book, checked before the stages that would choke on it.

Layout (WeasyPrint), the HTML writer and our own AST walks recurse once per level of nesting,
so a few hundred nested block quotes or emphases would exhaust Python's stack. Other shapes cost
work out of all proportion to their size: a paragraph's notes, pages started by chapters and
page breaks, an SVG's <use> copies, a table cell's span. No real book comes near the limits; a
file that passes one is refused at its file:line, before layout, with the limit's name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import tinycss2
import tinycss2.ast

from quire.errors import BuildError

if TYPE_CHECKING:
    from lxml import etree

    from quire.load.manuscript import SourceFile


# What the checks read of the parse stage's and the transform's results, named here rather
# than imported: parse/pandoc.py and images.py (under transform) import this module, so importing
# them back would close a circle between the stages.
class Parsed(Protocol):
    """One file as pandoc read it (quire.parse.pandoc.Parsed)."""

    source: SourceFile
    blocks: list[Any]


class Book(Protocol):
    """The transformed book (quire.transform.Book): its chapters, each with its source."""

    chapters: Sequence[Any]


MAX_NESTING = 64  # AST nodes inside one another: block quotes, lists, emphasis, spans, ...
# Counts that make a stage slow out of all proportion to the size of the input: a few kilobytes
# could otherwise keep the layout busy for hours. Whoever runs the build (never the book) can
# change one with QUIRE_MAX_<NAME>, for example QUIRE_MAX_SVG_ELEMENTS=500000.
LIMITS = {
    "svg_elements": 100_000,  # elements an SVG draws, each <use> counted as all it repeats
    # Print lays a paragraph's notes out in time that grows faster than their number.
    "notes_per_paragraph": 200,
    # Each chapter opening and page break starts a page, and print's time grows with the pages:
    # on two busy cores 1,000 `\\newpage`s (11 KB) took 40 s, 500 empty chapters (4 KB) 126 s.
    # The cap grows with the text (below), so a long book of short chapters (a reader with one
    # a day) builds, while a few kilobytes cannot ask for thousands of pages.
    "page_breaks": 200,
    # References `nocite` brings in beyond those cited: `nocite: '@*'` with a 2.8 MB
    # bibliography laid its references out for more than 300 s.
    "nocite_references": 1_000,
}
TEXT_PER_PAGE_BREAK = 500  # bytes of manuscript that earn one more page break over the cap
# The largest spans the HTML standard lets a table cell have; a larger one (a few bytes of raw
# HTML: colspan="1000000") would keep print's table layout busy for hours.
HTML_SPANS = {"colspan": 1000, "rowspan": 65534}
HTML_INTEGER = re.compile(r"^[ \t\n\f\r]*[+]?([0-9]+)")  # the standard's reading, as WeasyPrint's
BREAK_PROPERTIES = {"break-before", "break-after", "page-break-before", "page-break-after"}
FORCED_BREAKS = {"page", "always", "left", "right", "recto", "verso"}
# What makes a page break in a Markdown file, to point at the one past the cap.
BREAK_IN_SOURCE = re.compile(
    r"\\(?:newpage|clearpage|pagebreak|cleardoublepage)\b|page-break|break-"
)
PARAGRAPHS = {"Para", "Plain", "Header", "LineBlock"}  # blocks of inlines, where notes are called
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def limit(name: str) -> int:
    """A structural limit, from QUIRE_MAX_<NAME> or the default."""
    raw = os.environ.get(f"QUIRE_MAX_{name.upper()}", "")
    return int(raw) if raw.isdigit() else LIMITS[name]


def over(
    what: str, name: str, *, file: str, line: int | None, hint: str, cap: int | None = None
) -> BuildError:
    """The error for a count over its limit, with how to lower it or raise the limit."""
    return BuildError(
        f"{what}, more than {cap if cap is not None else limit(name):,}",
        file=file,
        line=line,
        hint=f"{hint}, or raise the limit with QUIRE_MAX_{name.upper()}=<count>",
    )


JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_bounds(parsed: list[Parsed]) -> None:
    """Refuse a file nested too deeply or with too many notes in one paragraph, at file:line."""
    cap = limit("notes_per_paragraph")
    for item in parsed:
        deep, crowded, notes = _survey(item.blocks, cap)
        if deep is not None:
            raise too_deep(item.source, _line_of(item.source, deep))
        if crowded is not None:
            raise over(
                f"a paragraph with {notes:,} notes",
                "notes_per_paragraph",
                file=item.source.name,
                line=_line_of(item.source, crowded),
                hint="move some of its notes to the paragraphs around it",
            )


def check_book(book: Book) -> None:
    """Refuse a table cell spanning more than HTML allows, or more chapters and page breaks
    than the cap, at file:line."""
    for chapter in book.chapters:
        _check_spans(chapter)
    counts = [1 + _forced_breaks(chapter.body) for chapter in book.chapters]  # 1: its opening
    total, cap, before = sum(counts), _page_break_cap(book), 0
    for chapter, breaks in zip(book.chapters, counts, strict=True):
        if before + breaks > cap:
            file, line = _where_break(chapter, cap - before)
            raise over(
                f"the book starts {total:,} new pages, at its chapters and page breaks "
                f"(number {cap + 1:,} is here)",
                "page_breaks",
                file=file,
                line=line,
                hint="join short chapters and drop page breaks",
                cap=cap,
            )
        before += breaks


def _page_break_cap(book: Book) -> int:
    """The page breaks a book may start: the cap, plus one for each TEXT_PER_PAGE_BREAK bytes of
    its manuscript (each file counted once, however many chapters it holds)."""
    sources = {id(chapter.source): chapter.source for chapter in book.chapters}
    text = sum(len(source.text.encode()) for source in sources.values())
    return limit("page_breaks") + text // TEXT_PER_PAGE_BREAK


def _forced_breaks(body: etree._Element) -> int:
    """The page breaks a chapter's HTML forces: `\\newpage` and the like (div.page-break), and
    elements whose style says break-before/after: page (or always, left, right, ...)."""
    count = 0
    for node in body.iter():
        if not isinstance(node.tag, str):
            continue
        if "page-break" in (node.get("class") or "").split():
            count += 1
        style = node.get("style")
        if not style:  # most elements have none: spare them the CSS parser
            continue
        try:  # a style too deeply nested to read was refused by the sanitiser already
            declarations = tinycss2.parse_blocks_contents(style)
        except RecursionError:
            continue
        count += sum(
            1
            for item in declarations
            if isinstance(item, tinycss2.ast.Declaration)
            and item.lower_name in BREAK_PROPERTIES
            and tinycss2.serialize(item.value).strip().lower() in FORCED_BREAKS
        )
    return count


def _where_break(chapter: Any, nth: int) -> tuple[str, int | None]:
    """The file and line of a chapter's nth page break (0: the chapter's own opening)."""
    text = chapter.source.text
    start = max(text.find(chapter.title), 0) if chapter.title else 0
    found = list(BREAK_IN_SOURCE.finditer(text, start)) if nth > 0 else []
    if len(found) >= nth > 0:
        return chapter.source.name, text.count("\n", 0, found[nth - 1].start()) + 1
    return chapter.where(chapter.title) if chapter.title else (chapter.source.name, None)


def _check_spans(chapter: Any) -> None:
    """Refuse a table cell (Markdown or raw HTML) whose colspan or rowspan passes HTML's cap."""
    for cell in chapter.body.iter("td", "th"):
        for name, most in HTML_SPANS.items():
            value = HTML_INTEGER.match(cell.get(name, ""))
            if value and int(value[1]) > most:
                raw = cell.get(name, "")
                needles = (f'{name}="{raw}"', f"{name}='{raw}'", f"{name}={raw}", name)
                file, line = next(
                    (w for w in map(chapter.where, needles) if w[1]), (chapter.source.name, None)
                )
                raise BuildError(
                    f"a table cell has {name}={int(value[1]):,}, more than the {most:,} HTML allows",
                    file=file,
                    line=line,
                    hint=f"give the cell a {name} of at most {most:,}",
                )


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


def _survey(blocks: list[Any], cap: int) -> tuple[Any, Any, int]:
    """The first node deeper than MAX_NESTING, the first paragraph with more than `cap` notes
    and its count (None, None, 0 if neither), found in one walk without recursion."""
    stack: list[tuple[Any, int, int]] = [(blocks, 0, 0)]
    paragraphs: dict[int, Any] = {0: None}
    notes: dict[int, int] = {}
    while stack:
        value, depth, paragraph = stack.pop()
        if isinstance(value, dict):
            kind = value.get("t")
            if kind:
                depth += 1
                if depth > MAX_NESTING:
                    return value, None, 0
            if kind in PARAGRAPHS:
                paragraph = id(value)
                paragraphs[paragraph] = value
            elif kind == "Note" and paragraph:
                notes[paragraph] = notes.get(paragraph, 0) + 1
                if notes[paragraph] > cap:  # counted in full below, for the message
                    break
                paragraph = 0  # a note's own paragraphs are counted on their own
            value = value.get("c")
        if isinstance(value, list):
            stack.extend((child, depth, paragraph) for child in _inner(value, depth))
    crowded = next((p for p, n in notes.items() if n > cap), None)
    if crowded is None:
        return None, None, 0
    return None, paragraphs[crowded], _count_notes(paragraphs[crowded])


def _inner(items: list[Any], depth: int) -> list[Any]:
    """The items of a list that _survey must look at, last first (they go on its stack).

    A word or a space (a node without a list inside) can only be too deep; above the limit it
    is passed over, which spares the survey a stack entry for each word of the book.
    """
    if depth < MAX_NESTING:
        return [
            child
            for child in reversed(items)
            if type(child) is list or (type(child) is dict and type(child.get("c")) is list)
        ]
    return [child for child in reversed(items) if isinstance(child, list | dict)]


def _count_notes(paragraph: Any) -> int:
    """The notes called in one paragraph (not inside its notes, where pandoc allows none)."""
    stack, count = [paragraph.get("c")], 0
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("t") == "Note":
                count += 1
                continue
            value = value.get("c")
        if isinstance(value, list):
            stack.extend(value)
    return count


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


def check_svg(root: etree._Element, name: str, *, file: str, line: int | None) -> None:
    """Refuse an SVG that draws too many elements, or has a <use> inside what it copies.

    A `<use>` draws a copy of what it names, so ten <use>s of ten <use>s ... (a "billion laughs"
    of a few kilobytes) would keep the layout and any reader drawing for hours.
    """
    elements = [node for node in root.iter() if isinstance(node.tag, str)]
    cap = limit("svg_elements")
    hint = "simplify it in an SVG editor"
    if len(elements) > cap:
        raise over(
            f"SVG {name} has {len(elements):,} elements",
            "svg_elements",
            file=file,
            line=line,
            hint=hint,
        )
    try:
        drawn = _drawn(root, {node.get("id"): node for node in elements if node.get("id")})
    except RecursionError:
        drawn = None
    if drawn is None:
        raise BuildError(
            f"SVG {name} has a <use> that draws itself, or <use>s chained too deeply",
            file=file,
            line=line,
            hint="fix its references in an SVG editor",
        )
    if drawn > cap:
        what = f"SVG {name} draws {drawn:,} elements (its <use> copies counted)"
        raise over(what, "svg_elements", file=file, line=line, hint=hint)


def _drawn(root: etree._Element, by_id: dict[str, Any]) -> int | None:
    """How many elements an SVG draws, each <use> counted as a copy of its target; None if a
    <use> is inside what it draws. Memoised, so a chain of copies costs its length, not its size."""
    counts: dict[Any, int] = {}
    visiting: set[Any] = set()

    def count(node: Any) -> int | None:
        if node in counts:
            return counts[node]
        if node in visiting:
            return None
        visiting.add(node)
        parts = [count(child) for child in node if isinstance(child.tag, str)]
        href = node.get("href") or node.get(XLINK_HREF) or ""
        if node.tag.endswith("}use") and href.startswith("#") and href[1:] in by_id:
            parts.append(count(by_id[href[1:]]))
        visiting.discard(node)
        if None in parts:
            return None
        counts[node] = 1 + sum(parts)  # type: ignore[arg-type]
        return counts[node]

    return count(root)

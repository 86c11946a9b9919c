"""One long Markdown file read by pandoc in parts: cut at its top-level headings, joined after.

A single-file book is one pandoc reading of the whole book: no parallelism, and one word
changed reads it all again. Cut at its chapter headings, its parts are read as chapter files
are (two pandoc processes, each part's AST cached by its text), then joined into exactly the
AST pandoc gives the whole file. What pandoc's Markdown shares across a document is handled:

- reference links and footnotes defined anywhere are used anywhere: a part is given a copy of
  each definition from another part that it may use (a label defined in two parts: read whole);
- the note counter in each citation (`citationNoteNum`) counts on across parts: each part but
  the last ends with a sentinel citation whose number says where the next part starts;
- headings' identifiers are unique over the whole document (pandoc adds -1, -2): a part's are
  made again after those of the parts before it (ids.py);
- a `[Heading]` links to a heading anywhere: a part naming another part's heading so (or one
  of its own whose identifier changed) means the file is read whole;
- YAML blocks anywhere in the file merge, a later key over an earlier one.

A cut is made only where no fenced code, raw TeX environment, YAML block, multiline table,
HTML comment, HTML element or fenced div is open, before a level-1 heading (ATX or setext)
that follows a blank line. Anything the join cannot prove equal (numbered example lists and
TeX macros, which pandoc counts and applies over the document; a part that does not open with
its heading; a sentinel not read as one) means the whole file is read at once.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from quire.load.manuscript import SourceFile
from quire.parse import ids as pandoc_ids

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
DIV_FENCE = re.compile(r"^ {0,3}(:{3,})\s*(\S*)")
ATX_ONE = re.compile(r"^#(?:[ \t]|$)")
SETEXT_ONE = re.compile(r"^=+[ \t]*$")
TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?(/?)>")
CODE_SPAN = re.compile(r"(`+).*?\1")
TEX_ENV = re.compile(r"\\(begin|end)\{[^}]*\}")
DEFINITION = re.compile(r"^ {0,3}\[(\^?)([^\]\n]+)\]:")
LABEL_USE = re.compile(r"\[(\^?[^\[\]]+)\]")  # in a part's text, lower case, spaces collapsed
BRACKETED = re.compile(r"\[([^\[\]\n]{1,300})\]")
EXAMPLE_LIST = re.compile(r"\(@[\w-]*\)")
# TeX macros pandoc applies to the math and TeX after them (its latex_macros extension).
TEX_MACROS = re.compile(
    r"\\(?:(?:re|provide)?newcommand|(?:re)?newenvironment|DeclareMathOperator|[gex]?def|let)\b"
)
DASHES = re.compile(r"^ {0,3}-{3,}[- \t]*$")  # a multiline table's border (or a rule)
# A heading's attributes, at the end of an ATX heading or a setext heading's text.
ATTRIBUTES = re.compile(r"\{([^{}\n]*)\}[ \t]*#*[ \t]*$")
ATX_ANY = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
SETEXT_ANY = re.compile(r"^(=+|-+)[ \t]*$")
ID = re.compile(r"#([^\s}]+)")
# Elements with no end tag: they open nothing.
VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
SENTINEL = "quire-part-end"  # a citation key no book uses: the end of a part
LINE = re.compile(r"line (\d+)")  # as pandoc's warnings name a line
NOT_USED = re.compile(r"^Note with key '(.*)' defined at .* but not used")


@dataclass
class Part:
    """A part of a file: the text pandoc reads, and where its lines stand in the file."""

    text: str
    first_line: int  # the file's line number (1-based) of the part's first line
    lines: int  # the part's own lines; later ones are copied definitions
    sentinel: bool = False
    copied: set[str] = field(default_factory=set)  # labels of the definitions copied in
    lent: set[str] = field(default_factory=set)  # labels of its definitions copied out
    explicit: set[str] = field(default_factory=set)  # identifiers its headings' {#id} give


@dataclass
class _Scan:
    """What the line scanner has open at a line."""

    fence: str = ""
    yaml: bool = False
    table: bool = False  # a multiline table: its rows are apart by blank lines
    comment: bool = False
    divs: int = 0
    tex: int = 0
    tags: dict[str, int] = field(default_factory=dict)
    macros: bool = False  # a TeX macro is defined (outside code)

    def closed(self) -> bool:
        """True if nothing is open: a cut here leaves every construct whole."""
        open_tags = any(self.tags.values())
        return not (self.fence or self.yaml or self.comment or self.divs or self.tex or open_tags)


def split(source: SourceFile, reader: str) -> list[Part] | None:
    """The file's parts, or None when it is read whole (one part, or not provably equal)."""
    text = source.text
    if not reader.startswith("markdown") or EXAMPLE_LIST.search(text):
        return None
    lines = source.text.split("\n")
    state = _Scan()
    cuts, definitions = _scan(lines, state)
    if state.macros:
        return None
    if len(cuts) < 2:
        return None
    bounds = list(zip(cuts, [*cuts[1:], len(lines)], strict=True))
    parts = [_part(lines, start, end) for start, end in bounds]
    if "@" in source.text:  # citations may follow: each part but the last says its count
        for part in parts[:-1]:  # (before the definitions copied in, which count nothing)
            part.text += f"\n\n[@{SENTINEL}]\n"
            part.sentinel = True
    return parts if _share_definitions(parts, definitions, bounds) else None


def _part(lines: list[str], start: int, end: int) -> Part:
    text = "\n".join(lines[start:end]) + ("\n" if end < len(lines) else "")
    return Part(text, start + 1, end - start, explicit=_explicit_ids(lines, start, end))


def _explicit_ids(lines: list[str], start: int, end: int) -> set[str]:
    """The identifiers the part's heading lines give in `{#id}` (not those pandoc makes)."""
    found = set()
    for index in range(start, end):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if ATX_ANY.match(line) or (line.strip() and SETEXT_ANY.match(following)):
            attributes = ATTRIBUTES.search(line)
            found |= set(ID.findall(attributes[1])) if attributes else set()
    return found


def _scan(lines: list[str], state: _Scan) -> tuple[list[int], list[tuple[int, str, str, str]]]:
    """The lines a part may start at (0 first), and each definition: (line, kind, label, text)."""
    cuts, definitions = [0], []
    for index, line in enumerate(lines):
        before_blank = index == 0 or not lines[index - 1].strip()
        if state.fence:
            stripped = line.strip()
            if FENCE.match(line) and stripped.startswith(state.fence):
                state.fence = "" if not stripped.strip(state.fence[0]) else state.fence
            continue
        if state.yaml:
            state.yaml = line.rstrip() not in ("---", "...")
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if state.table:
            state.table = not (DASHES.match(line) and not following.strip())
            continue
        if state.closed() and before_blank and index > 0 and _opens_chapter(lines, index):
            cuts.append(index)
        _step(state, lines, index, before_blank)
        found = DEFINITION.match(line)
        if found and not state.fence and not state.yaml:
            text = _definition_text(lines, index, bool(found[1]))
            definitions.append((index, found[1], _label(found[2]), text))
    return cuts, definitions


def _opens_chapter(lines: list[str], index: int) -> bool:
    line = lines[index]
    if ATX_ONE.match(line):
        return True
    following = lines[index + 1] if index + 1 < len(lines) else ""
    return bool(line.strip()) and not line[0].isspace() and bool(SETEXT_ONE.match(following))


def _step(state: _Scan, lines: list[str], index: int, before_blank: bool) -> None:
    """Note what this line opens or closes."""
    line = lines[index]
    fence = FENCE.match(line)
    if fence:
        state.fence = fence[1]
        return
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if line.rstrip() == "---" and before_blank and following.strip():
        state.yaml = True
        return
    if DASHES.match(line) and before_blank and following.strip():
        state.table = True
        return
    div = DIV_FENCE.match(line)
    if div:
        state.divs += 1 if div[2] else -1 if state.divs else 0
    text = CODE_SPAN.sub("", line) if "`" in line else line
    # A macro defined in a list's indented text applies too: looked for on every line.
    state.macros = state.macros or ("\\" in text and bool(TEX_MACROS.search(text)))
    if line.startswith(("    ", "\t")) and state.closed():
        return  # indented code, or a list's text: HTML or TeX there opens no block of the file
    if state.comment or "<!--" in text:
        text, state.comment = _outside_comments(text, state.comment)
    if "\\" in text:
        for begin in TEX_ENV.findall(text):
            state.tex = max(0, state.tex + (1 if begin == "begin" else -1))
    for closing, name, self_closing in TAG.findall(text) if "<" in text else ():
        name = name.lower()
        if name in VOID or self_closing:
            continue
        state.tags[name] = max(0, state.tags.get(name, 0) + (-1 if closing else 1))


def _outside_comments(text: str, open_: bool) -> tuple[str, bool]:
    """The line's text outside HTML comments, and whether one is open after it."""
    kept, at = [], 0
    while True:
        mark = "-->" if open_ else "<!--"
        found = text.find(mark, at)
        if found < 0:
            kept.append("" if open_ else text[at:])
            return "".join(kept), open_
        if not open_:
            kept.append(text[at:found])
        open_, at = not open_, found + len(mark)


def _definition_text(lines: list[str], index: int, note: bool) -> str:
    """A definition's lines: a note's indented paragraphs too, a link's title line."""
    end = index + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and not line[0].isspace():
            break
        if not line.strip() and not note:
            break
        end += 1
    while end > index + 1 and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[index:end])


def _label(text: str) -> str:
    return " ".join(text.lower().split())


def _share_definitions(
    parts: list[Part], definitions: list[tuple[int, str, str, str]], bounds: list[tuple[int, int]]
) -> bool:
    """Copy into each part the definitions of other parts it may use; False if a label is
    defined in two parts (pandoc keeps the last, which a part alone may not see)."""
    owner: dict[tuple[str, str], int] = {}
    text_of: dict[tuple[str, str], str] = {}
    starts = [start for start, _end in bounds]
    for line, kind, label, text in definitions:
        part = bisect_right(starts, line) - 1
        if owner.setdefault((kind, label), part) != part:
            return False
        text_of[(kind, label)] = text_of.get((kind, label), "") + "\n\n" + text
    if not owner:
        return True
    for number, part in enumerate(parts):
        _copy_used(part, number, parts, owner, text_of)
    return True


def _copy_used(
    part: Part,
    number: int,
    parts: list[Part],
    owner: dict[tuple[str, str], int],
    text_of: dict[tuple[str, str], str],
) -> None:
    """Copy into a part each definition it may use, and those the copies may use in turn (a
    note's text linking to a label defined in a third part)."""
    pending, copied = part.text, set()
    while pending:
        flat = _label(pending)
        named = set(LABEL_USE.findall(flat))
        added = []
        for (kind, label), home in owner.items():
            if home == number or (kind, label) in copied:
                continue
            nested = "[" in label or "]" in label  # not a simple use: searched as it is
            if f"[{kind}{label}]" in flat if nested else kind + label in named:
                added.append(text_of[(kind, label)] + "\n")
                copied.add((kind, label))
                part.copied.add(label)
                if kind:  # a note called here is not unused (pandoc tells case apart)
                    called = DEFINITION.match(text_of[(kind, label)].lstrip("\n"))[2]
                    if f"[^{called}]" in pending:
                        parts[home].lent.add(called)
        pending = "".join(added)
        part.text += pending


def join(parts: list[Part], docs: list[Any], reader: str, texts: list[str]) -> Any | None:
    """The whole file's document from its parts' documents (decoded from `texts`, pandoc's
    JSON), or None if not provably equal."""
    offsets, count, meta, blocks = [], 0, {}, []
    for part, doc in zip(parts, docs, strict=True):
        part_blocks = list(doc.get("blocks", []))
        if part.sentinel:
            last = _sentinel_number(part_blocks[-1] if part_blocks else None)
            if last is None:
                return None
            part_blocks.pop()
        offsets.append(count)
        count += (last - 1) if part.sentinel else 0
        meta.update(doc.get("meta", {}))
        blocks.append(part_blocks)
    headers = [_headers(b, text) for b, text in zip(blocks, texts, strict=True)]
    if not _headings_apart(parts, blocks, headers, reader):
        return None
    for offset, part_blocks, text in zip(offsets, blocks, texts, strict=True):
        if offset and '"t":"Cite"' in text:
            _shift_citations(part_blocks, offset)
    joined = dict(docs[0])
    joined["meta"], joined["blocks"] = meta, [b for part_blocks in blocks for b in part_blocks]
    return joined


def _sentinel_number(block: Any) -> int | None:
    """The note number of a part's sentinel citation, if the block is that paragraph."""
    try:
        assert block["t"] == "Para" and len(block["c"]) == 1 and block["c"][0]["t"] == "Cite"
        (citation,) = block["c"][0]["c"][0]
        assert citation["citationId"] == SENTINEL
        return int(citation["citationNoteNum"])
    except (AssertionError, KeyError, TypeError, ValueError, IndexError):
        return None


def _headers(blocks: list[Any], text: str) -> list[Any]:
    """A part's headings in reading order: found among its blocks and those they hold, or
    (when its JSON has more, in a note or a table cell) in every node."""
    found = list(_block_headers(blocks))
    if len(found) == text.count('{"t":"Header"'):
        return found
    return [node for node in _walk_blocks(blocks) if _is_heading(node, None)]


def _block_headers(blocks: list[Any]):
    """The headings among blocks and in the blocks they hold (not in notes or tables)."""
    for block in blocks:
        kind, content = block.get("t"), block.get("c")
        if kind == "Header":
            yield block
        elif kind in ("Div", "OrderedList"):
            yield from _block_headers(content[1]) if kind == "Div" else _items(content[1])
        elif kind == "BlockQuote":
            yield from _block_headers(content)
        elif kind == "BulletList":
            yield from _items(content)
        elif kind == "DefinitionList":
            yield from _items(d for _term, definitions in content for d in definitions)
        elif kind == "Figure":
            yield from _block_headers(content[2])


def _items(items):
    for item in items:
        yield from _block_headers(item)


def _headings_apart(
    parts: list[Part], blocks: list[list[Any]], found: list[list[Any]], reader: str
) -> bool:
    """True if each part after the first opens with its level-1 heading, its headings'
    identifiers are made as the whole file's reading makes them (pandoc_ids), and no part
    names in brackets another part's heading, or one of its own given another identifier
    (an implicit link to it, which the part alone makes to another place or not at all)."""
    seen: set[str] = set()  # the identifiers of the parts before
    titles, renamed = [], []
    for number, (part, part_blocks) in enumerate(zip(parts, blocks, strict=True)):
        if number and not (part_blocks and _is_heading(part_blocks[0], 1)):
            return False
        headers = found[number]
        changed = pandoc_ids.renumber(headers, part.explicit, seen, reader)
        if changed is None:
            return False
        seen |= {h["c"][1][0] for h in headers}
        titles.append({_words(pandoc_ids.plain_text(h["c"][2])) for h in headers})
        renamed.append({_words(base.replace("-", " ")) for base in changed})
    for number, part in enumerate(parts):
        named = {_words(m) for m in BRACKETED.findall(part.text)}
        others = set().union(*(t for n, t in enumerate(titles) if n != number))
        if named & (others | renamed[number]) or (renamed[number] and named & titles[number]):
            return False
    return True


def _is_heading(block: Any, level: int | None) -> bool:
    return block.get("t") == "Header" and (level is None or block["c"][0] == level)


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _walk_blocks(node: Any):
    """Every dict node under `node`, depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def _shift_citations(blocks: list[Any], offset: int) -> None:
    """Count each citation's note number on from the parts before (the node is the part's own)."""
    for node in _walk_blocks(blocks):
        if node.get("t") == "Cite":
            node["c"][0] = [
                {**c, "citationNoteNum": c["citationNoteNum"] + offset} for c in node["c"][0]
            ]


def file_line(part: Part, line: int) -> int | None:
    """The file's line of a line of the part's text (None: a copied definition's)."""
    return part.first_line + line - 1 if line <= part.lines else None


def part_stderr(part: Part, stderr: str) -> str:
    """A part's pandoc warnings, their lines the file's. Those about the definitions copied in
    are left to the part that has them; a note of this part copied into another is used."""
    kept = []
    for block in re.split(r"(?m)^(?=\[)", stderr):
        unused = NOT_USED.match(block.removeprefix("[WARNING] "))
        if unused and unused[1] in part.lent:
            continue
        where = LINE.search(block)
        if where and file_line(part, int(where[1])) is None:
            continue
        kept.append(LINE.sub(lambda m: f"line {file_line(part, int(m[1])) or m[1]}", block))
    return "".join(kept)

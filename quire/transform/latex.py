"""Raw LaTeX: read by pandoc's LaTeX reader, so its text and emphasis survive.

Page breaks, \\LaTeX and the lists' commands are translated here; every other snippet of the
book is read in one pandoc process (read_latex), with the macros the book defines (in its
text, its `header-includes`, or a file those `\\input`), which apply to its math too. Only
what has no text (layout: \\vspace, \\noindent…) is dropped, with a warning per command.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quire.errors import BuildError, warn
from quire.parse.pandoc import Parsed, run_captured
from quire.transform.ast import NodeIndex, Surveys, iter_nodes, walk
from quire.transform.lists import placeholder

PAGE_BREAKS = {"\\newpage", "\\clearpage", "\\pagebreak", "\\cleardoublepage"}
WORDS = {"\\LaTeX": "LaTeX", "\\TeX": "TeX", "\\LaTeXe": "LaTeX2e"}
LIST_COMMANDS = {
    "\\listoffigures": "list-of-figures",
    "\\listoftables": "list-of-tables",
    "\\tableofcontents": "table-of-contents",  # the print renderer puts its contents here
}
# Macro definitions: pandoc has already applied them to the math (its latex_macros extension).
MACRO_DEFINITION = re.compile(
    r"^\s*\\(newcommand|renewcommand|providecommand|def|let|"
    r"DeclareMathOperator)\b"
)
# The nodes translate_raw_latex looks at: raw TeX, the paragraphs a page break splits, math.
RAW_KINDS = ("RawInline", "RawBlock")
VISITED_KINDS = frozenset({*RAW_KINDS, "Para", "Plain", "Math"})
# The names a definition gives: \newcommand{\R}, \newcommand\R, \def\R, \DeclareMathOperator.
DEFINED_NAME = re.compile(
    r"\\(?:(?:re)?newcommand|providecommand|DeclareMathOperator)\*?\s*\{?\s*\\([A-Za-z]+)"
    r"|\\def\s*\\([A-Za-z]+)"
)
INPUT = re.compile(r"\\(?:input|include)\s*\{([^}]+)\}")  # a macros file
# Commands with which pandoc's LaTeX reader reads files: never sent to it (a book reads only
# what it is confined to; a macros file is read by _with_inputs, inside the book).
FILE_COMMANDS = re.compile(
    r"\\(?:input|include|subfile|usepackage|RequirePackage|lstinputlisting|inputminted|"
    r"verbatiminput|includeonly|documentclass|bibliography|addbibresource)(?![A-Za-z])"
)
FILE_COMMAND_USE = re.compile(FILE_COMMANDS.pattern + r"\*?\s*(?:\[[^\]]*\]\s*)?(?:\{[^}]*\})?")
COMMAND_NAME = re.compile(r"\\(?:[A-Za-z@]+\*?|.)")
DROPPED = "quire-dropped"  # the format of what the reader left raw and nothing could read
START = "QUIRESTARTOFSNIPPET"  # a paragraph between the macros and the snippet
# Reads {"macros": TeX, "texts": [TeX, ...]} and writes each text's blocks as JSON, one a line
# ("null" for one pandoc cannot read). What the LaTeX reader keeps raw (a command it does not
# know, or \mbox) is read again without raw_tex: its text stays; if nothing is left of it,
# it is marked DROPPED for Quire to name.
READ_LATEX = r"""
local input = pandoc.json.decode(io.read("a"), false)
local function read(text, format)
  if input.macros == "" then return pandoc.read(text, format).blocks end
  local blocks = pandoc.read(input.macros .. "\n\n" .. START .. "\n\n" .. text, format).blocks
  local rest, after = pandoc.Blocks({}), false
  for _, block in ipairs(blocks) do
    if after then rest:insert(block) end
    if block.t == "Para" and pandoc.utils.stringify(block) == START then after = true end
  end
  return rest
end
local function is_tex(raw) return raw.format == "latex" or raw.format == "tex" end
local leftovers = {
  RawInline = function(raw)
    if not is_tex(raw) then return nil end
    local inlines = pandoc.utils.blocks_to_inlines(read(raw.text, "latex"))
    if #inlines == 0 then return pandoc.RawInline(DROPPED, raw.text) end
    return inlines
  end,
  RawBlock = function(raw)
    if not is_tex(raw) then return nil end
    local blocks = read(raw.text, "latex")
    if #blocks == 0 then return pandoc.RawBlock(DROPPED, raw.text) end
    return blocks
  end,
}
local docs = {}
for i, text in ipairs(input.texts) do
  local ok, doc = pcall(function()
    return pandoc.write(pandoc.Pandoc(read(text, "latex+raw_tex")):walk(leftovers), "json")
  end)
  docs[i] = ok and doc or "null"
end
io.stdout:write(table.concat(docs, "\n"))
""".replace("START", f'"{START}"').replace("DROPPED", f'"{DROPPED}"')
_END = {"t": "End"}  # marks the end of a paragraph being split


def page_break() -> dict[str, Any]:
    """An empty block that print.css turns into a page break (div.page-break)."""
    return {"t": "Div", "c": [["", ["page-break"], []], []]}


def command(text: str) -> str:
    """A raw TeX snippet reduced to its command: `\\LaTeX{}` and `\\newpage ` are the same."""
    return text.strip().removesuffix("{}").strip()


def is_tex(node: dict[str, Any]) -> bool:
    """True for a raw TeX node, inline or block."""
    return node["t"] in ("RawInline", "RawBlock") and node["c"][0] in ("tex", "latex")


class Occurrences:
    """Finds the line of the n-th use of a snippet in a file, so each warning has its own."""

    def __init__(self, parsed: Parsed) -> None:
        self.source = parsed.source
        self.seen: dict[str, int] = {}

    def line(self, needle: str) -> int | None:
        """The line of the next unreported occurrence of `needle`."""
        start = self.seen.get(needle, 0)
        index = self.source.text.find(needle, start)
        if index < 0:
            index = self.source.text.find(needle)
        if index < 0:
            return None
        self.seen[needle] = index + len(needle)
        return self.source.text.count("\n", 0, index) + 1


@dataclass
class LatexReading:
    """What pandoc's LaTeX reader made of the book's raw LaTeX, and its macros for the math."""

    read: dict[str, list[Any] | None] = field(default_factory=dict)  # snippet -> its blocks
    names: re.Pattern[str] | None = None  # the macros the book defines, as they are used
    warned: set[str] = field(default_factory=set)  # commands dropped, each named once

    def math(self, node: dict[str, Any]) -> dict[str, Any] | None:
        """A formula with the book's macros expanded, or None if it uses none."""
        text = node["c"][1]
        if self.names is None or not self.names.search(text):
            return None
        found = self.read.get(_math_source(node))
        expanded = next((n for n in iter_nodes(found or []) if n["t"] == "Math"), None)
        return {"t": "Math", "c": [node["c"][0], expanded["c"][1]]} if expanded else None


def read_latex(parsed: list[Parsed], surveys: Surveys, metadata: str, root: Path) -> LatexReading:
    """Every raw LaTeX snippet of the book and every formula that uses one of its macros, read
    by pandoc's LaTeX reader in one process, with the macros defined before each."""
    definitions = [metadata] + [_meta_tex(p.meta.get("header-includes")) for p in parsed]
    snippets: dict[str, None] = {}
    for item in parsed:
        for node in _tex_nodes(surveys.of(item.blocks)):
            name = command(node["c"][1])
            if MACRO_DEFINITION.match(name) or INPUT.match(name):  # a macros file's \\input
                definitions.append(node["c"][1])
            elif _for_the_reader(name, node["c"][1]):
                snippets[node["c"][1]] = None
    macros = _with_inputs("\n".join(d for d in definitions if d), root)
    names = {a or b for a, b in DEFINED_NAME.findall(macros)}
    pattern = re.compile(r"\\(?:" + "|".join(sorted(names)) + r")(?![A-Za-z])") if names else None
    if pattern is not None:
        for item in parsed:
            for node in surveys.of(item.blocks).nodes("Math"):
                if pattern.search(node["c"][1]):
                    snippets[_math_source(node)] = None
    return LatexReading(read=_read_all(macros, list(snippets)), names=pattern)


def _read_all(macros: str, texts: list[str]) -> dict[str, list[Any] | None]:
    """Each snippet's blocks, read in one pandoc process (None for one it cannot read)."""
    if not texts:
        return {}
    stdout, _stderr = run_captured(
        ["lua", "-e", READ_LATEX], json.dumps({"macros": macros, "texts": texts}), None
    )
    docs = stdout.split("\n")
    if len(docs) != len(texts):
        raise BuildError("internal error: pandoc's LaTeX reader lost a snippet", kind="bug")
    return {
        text: json.loads(doc)["blocks"] if doc != "null" else None
        for text, doc in zip(texts, docs, strict=True)
    }


def _for_the_reader(name: str, text: str) -> bool:
    """True for a snippet pandoc's reader reads: not one translated here, nor one that would
    read a file (dropped)."""
    translated = name in WORDS or name in PAGE_BREAKS or name in LIST_COMMANDS
    return not translated and not FILE_COMMANDS.search(text)


def header_includes(config: Any) -> str:
    """The raw TeX of `header-includes` in book.yaml or a metadata file (where macros are)."""
    value = json.loads(dict(getattr(config, "pandoc_metadata", ())).get("header-includes", '""'))
    return "\n".join(value) if isinstance(value, list) else str(value or "")


def _tex_nodes(found: NodeIndex) -> list[dict[str, Any]]:
    return [n for kind in RAW_KINDS for n in found.nodes(kind) if is_tex(n)]


def _math_source(node: dict[str, Any]) -> str:
    """A formula as LaTeX source, for the reader to expand the macros in."""
    fence = "$$" if node["c"][0]["t"] == "DisplayMath" else "$"
    return f"{fence}{node['c'][1]}{fence}"


def _meta_tex(value: Any) -> str:
    """The raw TeX of a metadata value (`header-includes` in a file's YAML)."""
    if value is None:
        return ""
    if value.get("t") == "MetaString":
        return value["c"]
    return "\n".join(n["c"][1] for n in iter_nodes(value) if n["t"] in RAW_KINDS and is_tex(n))


def _with_inputs(macros: str, root: Path) -> str:
    """The macros with the files they `\\input` (a macros file in the book) put in their place."""
    from quire.load.manuscript import read_book_file  # the load stage's reader: confined, capped

    def included(match: re.Match[str]) -> str:
        path = root / match[1].strip()
        path = path if path.suffix else path.with_suffix(".tex")
        if not path.is_file():
            warn(
                f"macros file `{match[1]}` not found",
                hint="Quire read the other macros; put the file in the book's folder",
                group="LaTeX commands dropped",
            )
            return ""
        return read_book_file(root, path, "metadata")

    for _ in range(4):  # a macros file may \\input another, a few deep
        macros = INPUT.sub(included, macros)
    return FILE_COMMAND_USE.sub("", macros)  # \\usepackage and any \\input left


def translate_raw_latex(parsed: Parsed, found: NodeIndex, reading: LatexReading) -> list[Any]:
    """Page breaks, \\LaTeX and \\TeX translated; other raw TeX as pandoc's LaTeX reader
    read it (see read_latex); the book's macros expanded in the math.

    `found` is the index of the file's nodes; the walk goes only where raw TeX, math or
    paragraphs are.
    """
    places = Occurrences(parsed)

    def visit(node: dict[str, Any]) -> Any:
        if node["t"] == "Math":
            return reading.math(node)
        if node["t"] in ("Para", "Plain") and any(_is_break(n) for n in node["c"]):
            for inline in filter(_is_break, node["c"]):
                places.line(inline["c"][1])
            return _split_at_breaks(node)
        if not is_tex(node):
            return None
        name = command(node["c"][1])
        if name in WORDS:
            places.line(node["c"][1])
            return {"t": "Str", "c": WORDS[name]}
        if name in PAGE_BREAKS:
            if node["t"] == "RawInline":
                return None  # its paragraph is split around it, below
            places.line(node["c"][1])
            return page_break()
        if name in LIST_COMMANDS:
            places.line(node["c"][1])
            return placeholder(LIST_COMMANDS[name]) if node["t"] == "RawBlock" else []
        if MACRO_DEFINITION.match(name) or INPUT.match(name):
            places.line(node["c"][1])
            return []
        line = places.line(node["c"][1])
        blocks = _kept(reading, node["c"][1], parsed, line)
        return blocks if node["t"] == "RawBlock" else _inlines(blocks)

    return walk(parsed.blocks, visit, VISITED_KINDS, found.paths_to(VISITED_KINDS))


def _kept(reading: LatexReading, text: str, parsed: Parsed, line: int | None) -> list[Any]:
    """What the reader made of a snippet, less the commands it dropped (a warning each, once
    in the book)."""
    blocks = reading.read.get(text)
    dropped = [text] if blocks is None else []

    def drop(node: dict[str, Any]) -> Any:
        if node["c"][0] != DROPPED:
            return None
        dropped.append(node["c"][1])
        return []

    blocks = walk(blocks or [], drop, RAW_KINDS)
    for snippet in dropped:
        name = (COMMAND_NAME.match(snippet.strip()) or [snippet.strip()[:40]])[0]
        if name not in reading.warned:
            reading.warned.add(name)
            warn(
                f"raw LaTeX `{name}` dropped",
                file=parsed.source.name,
                line=line,
                hint="it has no text for EPUB or PDF, and Quire left it out; "
                "write the layout in CSS, or remove it",
                group="LaTeX commands dropped",
            )
    return blocks


def _inlines(blocks: list[Any]) -> list[Any]:
    """Blocks as the inlines of one paragraph (a snippet read in the middle of a line)."""
    inlines: list[Any] = []
    for block in blocks:
        if block["t"] in ("Para", "Plain"):
            content = block["c"]
        elif block["t"] == "Div":
            content = _inlines(block["c"][1])
        else:
            continue
        if inlines and content:
            inlines.append({"t": "Space"})
        inlines += content
    return inlines


def _is_break(node: Any) -> bool:
    return isinstance(node, dict) and is_tex(node) and command(node["c"][1]) in PAGE_BREAKS


def _split_at_breaks(paragraph: dict[str, Any]) -> list[Any]:
    """A paragraph with `\\newpage` inside: the text before, a page break, the text after."""
    result: list[Any] = []
    part: list[Any] = []
    for inline in [*paragraph["c"], _END]:
        if inline is _END or _is_break(inline):
            while part and part[-1]["t"] in ("Space", "SoftBreak"):
                part.pop()
            if part:
                result.append({"t": paragraph["t"], "c": part})
            result.append(page_break())
            part = []
        elif part or inline["t"] not in ("Space", "SoftBreak"):
            part.append(inline)
    return result[:-1]  # the sentinel's break

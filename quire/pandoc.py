"""Parse stage: pandoc reads Markdown into its AST and writes the AST as HTML."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from quire.errors import BuildError, warn
from quire.manuscript import SourceFile

# Pandoc's own Markdown, with the extensions a pandoc user expects (most are on by default).
READER = "markdown+smart+footnotes+pipe_tables+grid_tables+definition_lists+tex_math_dollars"
HTML_WRITER_ARGS = ("--wrap=none", "--mathml", "--section-divs")
PANDOC_WARNING = re.compile(r"^\[WARNING\]\s*(?P<text>.*)$")
LINE_IN_MESSAGE = re.compile(r"line (\d+)")
# Pandoc's manual advises a timeout and a heap cap for untrusted input ("A note on security").
PANDOC_SECONDS = 60
PANDOC_HEAP_MIB = 1024
# Reads {"texts": [Markdown, ...], "abbreviations": [...]} from stdin and writes a JSON list of
# their ASTs, read with the reader options pandoc's command line uses (its defaults differ from
# a script's: 72 columns, the abbreviations data file). Before each file it marks stderr, so
# each warning can be given to the file that has it.
BATCH_READER = f"""
local input = pandoc.json.decode(io.read("a"), false)
local abbreviations = {{}}  -- a set: each abbreviation a key
for _, abbreviation in ipairs(input.abbreviations) do abbreviations[abbreviation] = true end
local options = {{ standalone = true, columns = 72, tab_stop = 4, abbreviations = abbreviations }}
local docs = {{}}
for i, text in ipairs(input.texts) do
  io.stderr:write("@@quire-file@@\\n")
  docs[i] = pandoc.write(pandoc.read(text, "{READER}", options), "json")
end
io.stdout:write("[" .. table.concat(docs, ",") .. "]")
"""
BATCH_MARK = re.compile(r"^@@quire-file@@\n", re.MULTILINE)
# A code block in json.dumps' spelling of pandoc's AST (those without an id pandoc numbers).
CODE_BLOCK = '"t": "CodeBlock"'
# What a pandoc warning quotes from the input: a formula, or a citation key (searched as @key).
QUOTED_INPUT = re.compile(r"(?:TeX math (.+?), rendering as TeX|citation (\S+) not found)")


_versions_seen: list[list[int]] = []  # the AST version of the documents pandoc wrote


@dataclass(frozen=True)
class Parsed:
    """One source file as pandoc's AST: the metadata and the blocks."""

    source: SourceFile
    meta: dict[str, Any]
    blocks: list[Any]


@cache
def pandoc_path() -> str:
    """The pandoc binary that pypandoc-binary ships."""
    try:
        import pypandoc
    except ImportError:
        raise BuildError(
            "pandoc is missing", hint="install it with `pip install pypandoc-binary`", kind="setup"
        ) from None
    return pypandoc.get_pandoc_path()


def run_pandoc(
    args: list[str],
    stdin: str,
    origin: str | None,
    where: Callable[[str], tuple[str | None, int | None]] | None = None,
) -> str:
    """Run pandoc, turn its warnings into ours and its failures into a BuildError.

    `where` places a warning (file, line) from its text, when pandoc's input was not one file.
    """
    stdout, stderr = _run(args, stdin, origin)
    report_warnings(stderr, origin, where)
    return stdout


def _run(args: list[str], stdin: str, origin: str | None) -> tuple[str, str]:
    """Run pandoc within its time and memory limits: (stdout, stderr), or a BuildError."""
    try:
        proc = subprocess.run(
            [pandoc_path(), *args, *pandoc_limits()],
            input=stdin.encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=pandoc_seconds(),
        )
    except subprocess.TimeoutExpired:
        raise BuildError(
            f"pandoc took more than {pandoc_seconds():g} s to read this file",
            file=origin,
            hint="look for very long runs of brackets or markup characters "
            "(or raise the limit with QUIRE_PANDOC_SECONDS)",
        ) from None
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0 and "Heap exhausted" in stderr:
        raise BuildError(
            f"pandoc needed more than {PANDOC_HEAP_MIB} MiB of memory to read this file",
            file=origin,
            hint="look for deeply nested or very long markup, or split the file",
        )
    if proc.returncode != 0:
        message = stderr.strip().splitlines()[0] if stderr.strip() else "pandoc failed"
        line = LINE_IN_MESSAGE.search(stderr)
        raise BuildError(f"pandoc: {message}", file=origin, line=int(line[1]) if line else None)
    return proc.stdout.decode("utf-8"), stderr


def report_warnings(
    stderr: str,
    origin: str | None,
    where: Callable[[str], tuple[str | None, int | None]] | None = None,
) -> None:
    """Pandoc's warnings as ours, each placed at its file and line."""
    for text in pandoc_warnings(stderr):
        line = LINE_IN_MESSAGE.search(text)
        file, found = where(text) if where else (origin, int(line[1]) if line else None)
        warn(text, file=file or origin, line=found)


def pandoc_warnings(stderr: str) -> list[str]:
    """Pandoc's warnings, each with the detail it prints on the lines below it."""
    warnings: list[list[str]] = []
    for raw in stderr.splitlines():
        match = PANDOC_WARNING.match(raw)
        if match:
            warnings.append([match["text"].strip()])
        elif warnings and raw.startswith(" "):
            warnings[-1].append(raw.strip())
    result = []
    for head, *detail in warnings:
        # The detail repeats the input and points a caret at it; the reason is what helps.
        reasons = [d for d in detail if d and d.strip("^ ") and not d.startswith("expecting")]
        reasons = [d for d in reasons if d not in head]
        result.append(f"{head} {'; '.join(reasons)}".strip() if reasons else head)
    return result


def pandoc_seconds() -> float:
    """How long one pandoc run may take: its parsers are slow on some pathological inputs."""
    raw = os.environ.get("QUIRE_PANDOC_SECONDS", "")
    return float(raw) if re.fullmatch(r"\d+(\.\d+)?", raw) else PANDOC_SECONDS


def pandoc_limits() -> list[str]:
    """Pandoc's own heap cap (GHC runtime options), so a bad input cannot take the machine's memory."""
    return ["+RTS", f"-M{PANDOC_HEAP_MIB}m", "-RTS"]


def parse(source: SourceFile) -> Parsed:
    """Read one Markdown file into pandoc's AST."""
    args = ["--from", READER, "--to", "json", "--standalone"]
    return _decoded(source, run_pandoc(args, source.text, source.name))


def _decoded(source: SourceFile, ast_json: str) -> Parsed:
    """One file's AST from pandoc's JSON."""
    try:
        doc = json.loads(ast_json)
    except RecursionError:  # nested thousands deep: name the line rather than crash
        from quire.bounds import too_deep_to_decode

        raise too_deep_to_decode(source, ast_json) from None
    _seen(doc)
    return Parsed(source, doc.get("meta", {}), doc.get("blocks", []))


def parse_all(sources: tuple[SourceFile, ...]) -> list[Parsed]:
    """Parse every file, the book in two halves read side by side.

    Each half is one pandoc process (a Lua script reads its files one by one): starting pandoc
    costs about 50 ms, which per file was a third of the parse of a 50,000-word book.
    """
    halves = _halves(sources)
    if len(sources) > 1:
        abbreviations()  # once, before the two halves ask for it
    with ThreadPoolExecutor(max_workers=2) as pool:
        return [parsed for half in pool.map(parse_batch, halves) for parsed in half]


def _halves(sources: tuple[SourceFile, ...]) -> list[tuple[SourceFile, ...]]:
    """The files in reading order, cut where the text is about half read."""
    total = sum(len(s.text) for s in sources)
    read, cut = 0, len(sources)
    for index, source in enumerate(sources):
        read += len(source.text)
        if read * 2 >= total:
            cut = index + 1
            break
    cut = min(cut, len(sources) - 1) if len(sources) > 1 else cut
    return [half for half in (sources[:cut], sources[cut:]) if half]


def parse_batch(sources: tuple[SourceFile, ...]) -> list[Parsed]:
    """Read several Markdown files in one pandoc process; their warnings name their own files.

    The script marks on stderr where each file's reading begins, so each warning goes to its
    file. If the batch fails (an error, the time or memory limit), the files are read again
    one by one, which fails as it always has, naming the file.
    """
    if len(sources) == 1:
        return [parse(sources[0])]
    try:
        batch = {"texts": [s.text for s in sources], "abbreviations": abbreviations()}
        stdout, stderr = _run(["lua", "-e", BATCH_READER], json.dumps(batch), None)
        docs = json.loads(stdout)
    except (BuildError, RecursionError):
        return _parse_one_by_one(sources)
    parts = BATCH_MARK.split(stderr)[1:]
    if len(parts) != len(sources) or len(docs) != len(sources):
        return _parse_one_by_one(sources)
    for source, part, doc in zip(sources, parts, docs, strict=True):
        report_warnings(part, source.name)
        _seen(doc)
    return [
        Parsed(s, d.get("meta", {}), d.get("blocks", []))
        for s, d in zip(sources, docs, strict=True)
    ]


@cache
def abbreviations() -> list[str]:
    """Pandoc's abbreviations ("Mr.", "chap."), after which its reader keeps a non-breaking space."""
    text = run_pandoc(["--print-default-data-file", "abbreviations"], "", None)
    return [line for line in text.splitlines() if line.strip()]


def _parse_one_by_one(sources: tuple[SourceFile, ...]) -> list[Parsed]:
    """Each file in its own pandoc process, so a failure names its file."""
    return [parse(source) for source in sources]


def write_html(
    blocks: list[Any],
    api_version: list[int],
    sources: tuple[SourceFile, ...] = (),
) -> str:
    """Write AST blocks as an HTML5 fragment (MathML for math, sections as <section>)."""
    doc = {"pandoc-api-version": api_version, "meta": {}, "blocks": blocks}
    args = ["--from", "json", "--to", "html5", *HTML_WRITER_ARGS]
    return run_pandoc(args, json.dumps(doc), None, where=placer(sources))


def write_chapters_html(
    chapters: list[Any],
    api_version: list[int],
    sources: tuple[SourceFile, ...] = (),
) -> str:
    """Write chapter Divs as one HTML5 fragment, the two halves of the book side by side.

    Pandoc writes each top-level Div on its own, with one exception: it numbers code blocks
    that have no id (cb1, cb2, ...) through the whole document. So the book is cut only where
    no such code block comes before the cut, and the HTML is what one run would write.
    """
    parts = [json.dumps(chapter) for chapter in chapters]
    cut = _html_cut(parts)
    if cut is None:
        return write_html(chapters, api_version, sources)
    header = json.dumps({"pandoc-api-version": api_version, "meta": {}})[:-1]
    docs = [f'{header}, "blocks": [{", ".join(half)}]}}' for half in (parts[:cut], parts[cut:])]
    args = ["--from", "json", "--to", "html5", *HTML_WRITER_ARGS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        written = list(pool.map(lambda doc: _run(args, doc, None), docs))
    where = placer(sources)
    for _html, stderr in written:  # in reading order, whichever half finished first
        report_warnings(stderr, None, where)
    return "".join(html for html, _stderr in written)


def _html_cut(parts: list[str]) -> int | None:
    """Where to cut the chapters (as JSON) in two of about the same size; None to write them
    in one run (a single chapter, or a code block in the first half)."""
    total = sum(len(part) for part in parts)
    written = 0
    for index, part in enumerate(parts[:-1]):
        if CODE_BLOCK in part:
            return None
        written += len(part)
        if written * 2 >= total:
            return index + 1
    return None


def placer(sources: tuple[SourceFile, ...]) -> Callable[[str], tuple[str | None, int | None]]:
    """Place a warning about a book's text: the file and line where its quoted input stands."""

    def where(text: str) -> tuple[str | None, int | None]:
        quoted = QUOTED_INPUT.search(text)
        needle = (quoted[1] or "@" + quoted[2]) if quoted else None
        for source in sources if needle else ():
            index = source.text.find(needle)
            if index >= 0:
                return source.name, source.text.count("\n", 0, index) + 1
        return None, None

    return where


def api_version() -> list[int]:
    """The AST version of the bundled pandoc, for documents we assemble ourselves: that of the
    documents parsed so far (asking pandoc costs a process), or pandoc's answer."""
    if not _versions_seen:
        empty = json.loads(run_pandoc(["--from", "markdown", "--to", "json"], "", None))
        _versions_seen.append(empty["pandoc-api-version"])
    return _versions_seen[0]


def _seen(doc: dict[str, Any]) -> None:
    """Note a parsed document's AST version for api_version()."""
    if not _versions_seen and "pandoc-api-version" in doc:
        _versions_seen.append(doc["pandoc-api-version"])


def stringify(node: Any) -> str:
    """The plain text of an AST node or list of nodes, as pandoc's stringify gives it."""
    if isinstance(node, list):
        return "".join(stringify(n) for n in node)
    if not isinstance(node, dict):
        return ""
    kind, content = node.get("t"), node.get("c")
    if kind == "Str":
        return content
    if kind in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if kind in ("Code", "Math"):
        return content[-1]
    if kind == "Quoted":
        marks = "“”" if content[0]["t"] == "DoubleQuote" else "‘’"
        return marks[0] + stringify(content[1]) + marks[1]
    if kind in ("Note", "RawInline", "RawBlock"):
        return ""
    if kind in ("Image", "Link", "Span", "Div"):
        return stringify(content[1])
    if kind in ("Cite",):
        return stringify(content[1])
    if kind == "Header":
        return stringify(content[2])
    if kind == "MetaString":
        return content
    return stringify(content) if isinstance(content, list) else ""

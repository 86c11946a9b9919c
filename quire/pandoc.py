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
# What a pandoc warning quotes from the input: a formula, or a citation key (searched as @key).
QUOTED_INPUT = re.compile(r"(?:TeX math (.+?), rendering as TeX|citation (\S+) not found)")


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
    for text in pandoc_warnings(stderr):
        line = LINE_IN_MESSAGE.search(text)
        file, found = where(text) if where else (origin, int(line[1]) if line else None)
        warn(text, file=file or origin, line=found)
    return proc.stdout.decode("utf-8")


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
    ast_json = run_pandoc(args, source.text, source.name)
    try:
        doc = json.loads(ast_json)
    except RecursionError:  # nested thousands deep: name the line rather than crash
        from quire.bounds import too_deep_to_decode

        raise too_deep_to_decode(source, ast_json) from None
    return Parsed(source, doc.get("meta", {}), doc.get("blocks", []))


def parse_all(sources: tuple[SourceFile, ...]) -> list[Parsed]:
    """Parse every file, two at a time: pandoc runs in its own process."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(parse, sources))


def write_html(
    blocks: list[Any],
    api_version: list[int],
    sources: tuple[SourceFile, ...] = (),
) -> str:
    """Write AST blocks as an HTML5 fragment (MathML for math, sections as <section>)."""
    doc = {"pandoc-api-version": api_version, "meta": {}, "blocks": blocks}
    args = ["--from", "json", "--to", "html5", *HTML_WRITER_ARGS]
    return run_pandoc(args, json.dumps(doc), None, where=placer(sources))


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


@cache
def api_version() -> list[int]:
    """The AST version of the bundled pandoc, for documents we assemble ourselves."""
    return json.loads(run_pandoc(["--from", "markdown", "--to", "json"], "", None))[
        "pandoc-api-version"
    ]


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

"""Parse stage: pandoc reads Markdown into its AST and writes the AST as HTML."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from quire.ahead import when_needed
from quire.cache_store import CacheStore, digest
from quire.errors import BuildError, warn
from quire.load.manuscript import SourceFile
from quire.parse import parts as pandoc_parts
from quire.parse.text import stringify  # noqa: F401 (the stages import it from here)

# Pandoc's own Markdown, with the extensions a pandoc user expects (most are on by default).
READER = "markdown+smart+footnotes+pipe_tables+grid_tables+definition_lists+tex_math_dollars"
PANDOC_WARNING = re.compile(r"^\[WARNING\]\s*(?P<text>.*)$")
LINE_IN_MESSAGE = re.compile(r"line (\d+)")
# Pandoc's manual advises a timeout and a heap cap for untrusted input ("A note on security").
PANDOC_SECONDS = 60
PANDOC_HEAP_MIB = 1024
# Reads {"texts": [Markdown, ...], "readers": [format, ...], "abbreviations": [...]} from stdin
# and writes their ASTs (each text read with its own reader: a project's flavour), one
# JSON document a line (pandoc's JSON has no raw newline), read with the reader options pandoc's
# command line uses (its defaults differ from a script's: 72 columns, the abbreviations data
# file). Before each file it marks stderr, so each warning can be given to the file that has it.
BATCH_READER = """
local input = pandoc.json.decode(io.read("a"), false)
local abbreviations = {}  -- a set: each abbreviation a key
for _, abbreviation in ipairs(input.abbreviations) do abbreviations[abbreviation] = true end
local options = { standalone = true, columns = 72, tab_stop = 4, abbreviations = abbreviations }
local docs = {}
for i, text in ipairs(input.texts) do
  io.stderr:write("@@quire-file@@\\n")
  docs[i] = pandoc.write(pandoc.read(text, input.readers[i], options), "json")
end
io.stdout:write(table.concat(docs, "\\n"))
"""
BATCH_MARK = re.compile(r"^@@quire-file@@\n", re.MULTILINE)
READER_ARGS = ("--to", "json", "--standalone")  # after `--from` and the file's reader
# The cache of what pandoc made (each file's AST, each chapter's HTML), in <out>/.quire-cache/.
CACHE_FORMAT = "quire-pandoc-cache 1"
PARSED = "parsed"  # the cache's folder of ASTs
T = TypeVar("T")
# What a pandoc warning quotes from the input: a formula, or a citation key (searched as @key).
QUOTED_INPUT = re.compile(r"(?:TeX math (.+?), rendering as TeX|citation (\S+) not found)")


_versions_seen: list[list[int]] = []  # the AST version of the documents pandoc wrote


@dataclass(frozen=True)
class Parsed:
    """One source file as pandoc's AST: the metadata and the blocks."""

    source: SourceFile
    meta: dict[str, Any]
    blocks: list[Any]
    from_cache: bool = False  # pandoc read it in an earlier build (for the build's report)
    parts: tuple[int, int] | None = None  # read in parts: (how many pandoc read now, of all)


@cache
def pandoc_path() -> str:
    """The pandoc binary that pypandoc-binary ships (or the one PYPANDOC_PANDOC names, which
    pypandoc honours too).

    Found where the package keeps it, without importing pypandoc: its own search runs every
    pandoc it can find (on the PATH first) for its version, six processes that took a tenth of
    a second of every build, and would take a newer pandoc of the system's over the one Quire
    was installed with."""
    named = os.environ.get("PYPANDOC_PANDOC", "")
    if named:
        return named
    spec = importlib.util.find_spec("pypandoc")
    if spec is None:
        raise BuildError(
            "pandoc is missing", hint="install it with `pip install pypandoc-binary`", kind="setup"
        )
    binary = "pandoc.exe" if sys.platform == "win32" else "pandoc"
    for folder in spec.submodule_search_locations or ():
        shipped = Path(folder) / "files" / binary
        if shipped.is_file():
            return str(shipped)
    import pypandoc  # pypandoc without its binary: the pandoc it finds

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
    stdout, stderr = run_captured(args, stdin, origin)
    report_warnings(stderr, origin, where)
    return stdout


def run_captured(args: list[str], stdin: str, origin: str | None) -> tuple[str, str]:
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
        prefix = text.split(":", 1)[0]  # "Citeproc: citation x not found"
        kind = prefix if ":" in text and prefix.isalpha() else "pandoc"
        warn(text, file=file or origin, line=found, group=f"{kind}'s warnings")


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
    ast_json, stderr = _read_one(source)
    report_warnings(stderr, source.name)
    return _decoded(source, ast_json)


def _read_one(source: SourceFile) -> tuple[str, str]:
    """One file read by its own pandoc process: (its AST as JSON, pandoc's stderr)."""
    return run_captured(["--from", reader_of(source), *READER_ARGS], source.text, source.name)


def reader_of(source: SourceFile) -> str:
    """The pandoc reader (format and extensions) a file is read with: its project's flavour."""
    return source.reader or READER


def _decoded(
    source: SourceFile,
    ast_json: str,
    from_cache: bool = False,
    doc: Any = None,
    parts: tuple[int, int] | None = None,
) -> Parsed:
    """One file's AST from pandoc's JSON (`doc`: decoded already)."""
    if doc is None:
        try:
            doc = decode_ast(ast_json)
        except RecursionError:  # nested thousands deep: name the line rather than crash
            from quire.bounds import too_deep_to_decode

            raise too_deep_to_decode(source, ast_json) from None
    _seen(doc)
    return Parsed(source, doc.get("meta", {}), doc.get("blocks", []), from_cache, parts)


def _loads(ast_json: str, words: dict[str, dict] | None = None) -> Any:
    """An AST decoded (see decode_ast), or None if too deep to decode (_decoded then names
    the file)."""
    try:
        return decode_ast(ast_json, words)
    except RecursionError:
        return None


_SPACE = {"t": "Space"}


def decode_ast(ast_json: str, words: dict[str, dict] | None = None) -> Any:
    """Pandoc's JSON decoded, with one Space node for all and one Str node for each word.

    A book's AST is mostly words and the spaces between them, each a dict of its own: a
    300,000-word book decoded to nearly 200 MiB, sixteen times its JSON, the most the build
    held at once. Equal nodes are shared instead (`words`: the Str nodes met so far, shared
    between files too). That is safe because no stage changes a node in place: the transform
    makes new lists and nodes, and only words and spaces (which no stage tells apart by
    identity, see transform.ast.UNINDEXED) are shared. It is faster too: fewer objects made.
    """
    shared = {} if words is None else words

    def node(value: dict) -> dict:
        kind = value.get("t")
        if kind == "Space" and len(value) == 1:
            return _SPACE
        if kind == "Str" and len(value) == 2:
            return shared.setdefault(value["c"], value)
        return value

    return json.loads(ast_json, object_hook=node)


def pandoc_cache(folder: Path | None) -> CacheStore:
    """The cache of pandoc's work (each file's AST, each chapter's HTML); None: no cache."""
    return CacheStore(folder, CACHE_FORMAT, "pandoc", "pandoc will make it again")


@cache
def pandoc_identity() -> str:
    """Which pandoc this is, without running it: the binary's path, size and time (a pandoc
    installed again, or replaced in place, is another pandoc).

    Not pypandoc-binary's version: asking importlib.metadata for it reads every installed
    package's metadata, 30 ms of every build, and the binary names the pandoc better."""
    path = pandoc_path()
    info = os.stat(path)
    return f"{path}|{info.st_size}|{info.st_mtime_ns}"


def parse_key(source: SourceFile) -> str:
    """The cache key of a file's AST: everything pandoc's reading depends on (its text, the
    reader, its extensions and options, pandoc itself; Quire's version is in every key)."""
    return digest(
        CACHE_FORMAT,
        PARSED,
        pandoc_identity(),
        reader_of(source),
        " ".join(READER_ARGS),
        BATCH_READER,
        source.text,
    )


def parse_all(sources: tuple[SourceFile, ...], cache: CacheStore | None = None) -> list[Parsed]:
    """Parse every file (those read in an earlier build from the cache), the others in two
    halves read side by side; each file's warnings are reported, in reading order, whether
    pandoc printed them now or in the build that cached the file.

    Each half is one pandoc process (a Lua script reads its files one by one): starting pandoc
    costs about 50 ms, which per file was a third of the parse of a 50,000-word book. A book
    kept as one file is read in parts, cut at its chapters (parts.py), each part cached
    as a file is, and joined into the AST pandoc gives the whole file (or read whole if the
    join cannot be proved equal).
    """
    cache = cache or pandoc_cache(None)
    plans = [pandoc_parts.split(s, reader_of(s)) if len(sources) == 1 else None for s in sources]
    units = [
        replace(source, text=part.text) if plan else source
        for source, plan in zip(sources, plans, strict=True)
        for part in (plan or [None])
    ]
    read = iter(_parse_units(tuple(units), cache))
    parsed = []
    for source, plan in zip(sources, plans, strict=True):
        results = [next(read) for _ in plan or [None]]
        docs = [r[2] for r in results]
        joined = (
            pandoc_parts.join(plan, docs, reader_of(source), [r[0] for r in results])
            if plan and None not in docs
            else None
        )
        if plan and joined is None:
            results, plan = _parse_units((source,), cache), None  # read whole
        if plan:
            for part, (_text, stderr, _doc, _cached) in zip(plan, results, strict=True):
                report_warnings(pandoc_parts.part_stderr(part, stderr), source.name)
            cached = [r[3] for r in results]
            parsed.append(
                _decoded(source, "", all(cached), joined, (cached.count(False), len(plan)))
            )
            continue
        ast_json, stderr, doc, cached = results[0]
        report_warnings(stderr, source.name)
        parsed.append(_decoded(source, ast_json, cached, doc))
    return parsed


def _parse_units(
    sources: tuple[SourceFile, ...], cache: CacheStore
) -> list[tuple[str, str, Any, bool]]:
    """Each text's (AST as JSON, pandoc's stderr, decoded AST, from the cache), read in two
    halves side by side unless the cache has it; what pandoc read is stored in the cache."""
    keys = [parse_key(source) for source in sources]
    found = {key: cached_output(cache, PARSED, key, ".ast") for key in keys}
    fresh = tuple(s for s, key in zip(sources, keys, strict=True) if found[key] is None)
    halves_read = halves(fresh, lambda source: len(source.text))
    if len(fresh) > 1:
        when_needed(abbreviations)  # once (started ahead), before the two halves ask for it
    words: dict[str, dict] = {}  # one Str node per word, for the whole book (decode_ast)
    with ThreadPoolExecutor(max_workers=2) as pool:
        reading = [pool.submit(_read_and_decode, half, words) for half in halves_read]
        # While pandoc reads, this thread decodes the ASTs from the cache.
        docs = {k: _loads(entry[0], words) for k, entry in found.items() if entry is not None}
        read = iter([item for half in reading for item in half.result()])
    results = []
    for key in keys:
        cached = found[key]
        ast_json, stderr, doc = (*cached, docs[key]) if cached else next(read)
        if cached is None:
            cache.store(PARSED, key, {"stderr": stderr}, ast_json.encode(), ".ast")
        results.append((ast_json, stderr, doc, cached is not None))
    return results


def _read_and_decode(
    sources: tuple[SourceFile, ...], words: dict[str, dict]
) -> list[tuple[str, str, Any]]:
    """_read_batch, each AST decoded too (in the thread that waited for pandoc)."""
    return [(text, stderr, _loads(text, words)) for text, stderr in _read_batch(sources)]


def cached_output(cache: CacheStore, kind: str, key: str, suffix: str) -> tuple[str, str] | None:
    """What pandoc wrote (an AST, HTML) and its stderr in an earlier build, if the cache has
    them intact; the entry is then kept for the next build."""
    found = cache.read(kind, key, suffix)
    if found is None:
        return None
    record, payload = found
    try:
        if not isinstance(record.get("stderr"), str):
            raise ValueError("no warnings recorded")
        entry = payload.decode("utf-8"), record["stderr"]
    except ValueError as exc:  # a checksum made over bad data: made again all the same
        cache.damaged(f"entry ({exc}); pandoc will make it again", f"{kind}/{key}")
        return None
    cache.use(kind, key)
    return entry


def halves(items: Sequence[T], size: Callable[[T], int]) -> list[Sequence[T]]:
    """The items in order, cut where about half of their total size is reached (two halves,
    neither empty, when there are two items or more): the work of two pandoc processes."""
    total = sum(map(size, items))
    done, cut = 0, len(items)
    for index, item in enumerate(items):
        done += size(item)
        if done * 2 >= total:
            cut = index + 1
            break
    cut = min(cut, len(items) - 1) if len(items) > 1 else cut
    return [half for half in (items[:cut], items[cut:]) if half]


def parse_batch(sources: tuple[SourceFile, ...]) -> list[Parsed]:
    """Read several Markdown files in one pandoc process; their warnings name their own files."""
    read = _read_batch(sources)
    for source, (_ast_json, stderr) in zip(sources, read, strict=True):
        report_warnings(stderr, source.name)
    return [_decoded(s, ast_json) for s, (ast_json, _stderr) in zip(sources, read, strict=True)]


def _read_batch(sources: tuple[SourceFile, ...]) -> list[tuple[str, str]]:
    """Several files read in one pandoc process: for each, (its AST as JSON, its stderr).

    The script marks on stderr where each file's reading begins, so each warning goes to its
    file. If the batch fails (an error, the time or memory limit), the files are read again
    one by one, which fails as it always has, naming the file.
    """
    if len(sources) == 1:
        return [_read_one(sources[0])]
    try:
        batch = {
            "texts": [s.text for s in sources],
            "readers": [reader_of(s) for s in sources],
            "abbreviations": abbreviations(),
        }
        stdout, stderr = run_captured(["lua", "-e", BATCH_READER], json.dumps(batch), None)
    except BuildError:
        return [_read_one(source) for source in sources]
    docs = stdout.split("\n")
    parts = BATCH_MARK.split(stderr)[1:]
    if len(parts) != len(sources) or len(docs) != len(sources):
        return [_read_one(source) for source in sources]
    return list(zip(docs, parts, strict=True))


@cache
def abbreviations() -> list[str]:
    """Pandoc's abbreviations ("Mr.", "chap."), after which its reader keeps a non-breaking space."""
    text = run_pandoc(["--print-default-data-file", "abbreviations"], "", None)
    return [line for line in text.splitlines() if line.strip()]


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

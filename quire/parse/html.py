"""The chapters' HTML: pandoc's HTML writer, run only for the chapters the cache lacks.

Each chapter is written as a document of its own, in one pandoc process per half of the book
(a Lua script writes them one by one, marking stderr before each, so each warning is known
to be its chapter's). What pandoc writes for a chapter depends on the chapter alone, with one
exception: it numbers the code blocks that have no id (cb1, cb2, ...) through the whole
document. So a chapter is written after as many empty code blocks as come before it in the
book, and a marker; what follows the marker is the chapter's HTML, byte for byte what one run
over the whole book writes. The count is in the chapter's cache key.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from quire.cache_store import CacheStore, digest
from quire.errors import BuildError, log
from quire.load.manuscript import SourceFile
from quire.parse.pandoc import (
    CACHE_FORMAT,
    cached_output,
    halves,
    pandoc_cache,
    pandoc_identity,
    placer,
    report_warnings,
    run_captured,
)

HTML = "html"  # the cache's folder of chapters' HTML
# Reads a JSON list of documents (each as JSON text) and writes a JSON list of their HTML,
# with the options of `pandoc --to html5 --wrap=none --mathml --section-divs`.
HTML_WRITER = """
local docs = pandoc.json.decode(io.read("a"), false)
local options = { wrap_text = "none", html_math_method = "mathml", section_divs = true }
local written = {}
for i, doc in ipairs(docs) do
  io.stderr:write("@@quire-chapter@@\\n")
  written[i] = pandoc.write(pandoc.read(doc, "json"), "html5", options)
end
io.stdout:write(pandoc.json.encode(written))
"""
CHAPTER_MARK = re.compile(r"^@@quire-chapter@@\n", re.MULTILINE)
START = "<!--quire-chapter-starts-->"  # what the writer's output of a chapter follows
FILLER = {"t": "CodeBlock", "c": [["", [], []], ""]}  # moves pandoc's code block count on
MARKER = {"t": "RawBlock", "c": ["html", START]}


def write_chapters_html(
    chapters: list[Any],
    api_version: list[int],
    sources: tuple[SourceFile, ...] = (),
    cache: CacheStore | None = None,
) -> list[str]:
    """Each chapter Div as an HTML5 fragment (MathML for math, sections as <section>); those
    the cache has from an earlier build are not written again. Their warnings are reported
    in reading order, whether pandoc printed them now or when the chapter was cached."""
    cache = cache or pandoc_cache(None)
    header = json.dumps({"pandoc-api-version": api_version, "meta": {}})[:-1]
    docs, keys, before = [], [], 0
    for chapter in chapters:
        text = json.dumps(chapter)
        # A code block is always spelled so in the JSON; the walk is only for chapters with one.
        numbered = _unnamed_code_blocks(chapter) if '"CodeBlock"' in text else 0
        # Only a chapter with such code blocks depends on the count (and has it in its key).
        fillers = "".join(f"{json.dumps(FILLER)}, " for _ in range(before if numbered else 0))
        docs.append(f'{header}, "blocks": [{fillers}{json.dumps(MARKER)}, {text}]}}')
        keys.append(_key(docs[-1]))
        before += numbered
    found = {key: cached_output(cache, HTML, key, ".html") for key in keys}
    missing = [n for n, key in enumerate(keys) if found[key] is None]
    written = dict(zip(missing, _write([docs[n] for n in missing]), strict=True))
    if missing:
        log.debug("pandoc wrote the HTML of chapters %s", ", ".join(str(n + 1) for n in missing))
    where = placer(sources)
    result = []
    for n, key in enumerate(keys):
        html, stderr = found[key] or written[n]
        if found[key] is None:
            cache.store(HTML, key, {"stderr": stderr}, html.encode(), ".html")
        report_warnings(stderr, None, where)
        result.append(html)
    return result


def _key(doc: str) -> str:
    """The cache key of a chapter's HTML: the document written (the chapter, the code blocks
    before it, the AST version), the writer and its options, pandoc itself."""
    return digest(CACHE_FORMAT, HTML, pandoc_identity(), HTML_WRITER, START, doc)


def _unnamed_code_blocks(node: Any) -> int:
    """How many code blocks without an id a chapter has: pandoc numbers each of them."""
    if isinstance(node, list):
        return sum(_unnamed_code_blocks(item) for item in node)
    if not isinstance(node, dict):
        return 0
    unnamed = node.get("t") == "CodeBlock" and not node["c"][0][0]
    return unnamed + _unnamed_code_blocks(node.get("c"))


def _write(docs: list[str]) -> list[tuple[str, str]]:
    """Write documents, in two halves side by side if there are several: (HTML, stderr) each."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        written = pool.map(_write_batch, halves(docs, len))
        return [item for half in written for item in half]


def _write_batch(docs: list[str]) -> list[tuple[str, str]]:
    """Several documents written in one pandoc process: each one's HTML after the marker, and
    its part of pandoc's stderr."""
    stdout, stderr = run_captured(["lua", "-e", HTML_WRITER], json.dumps(docs), None)
    written = json.loads(stdout)
    parts = CHAPTER_MARK.split(stderr)[1:]
    if len(written) != len(docs) or len(parts) != len(docs):
        raise BuildError(
            "internal error: pandoc wrote fewer chapters than it was given", kind="bug"
        )
    chapters = [html.partition(START + "\n") for html in written]
    if any(not mark for _fillers, mark, _html in chapters):
        raise BuildError("internal error: a chapter's HTML lost its marker", kind="bug")
    return [(html, part) for (_fillers, _mark, html), part in zip(chapters, parts, strict=True)]

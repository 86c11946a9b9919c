"""Citations: pandoc's citeproc over the whole book, so numbering and the references are shared.

Citeproc is confined as every other reader of the book is: the bibliographies and the style are
files of the book, and a dependent style, whose `independent-parent` link pandoc would fetch
from the network, is used through its parent kept in the book (`<id>.csl` beside it) or refused.
What citeproc makes is bounded again: a note style turns citations into notes after the
per-paragraph cap on notes was checked, and `nocite` can bring in a whole bibliography.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from quire.bounds import check_bounds, limit, over
from quire.errors import BuildError, warn
from quire.load.config import BookConfig
from quire.load.confine import Confinement, check_file, not_a_file
from quire.load.manuscript import Manuscript
from quire.parse.pandoc import Parsed, api_version, placer, run_pandoc, stringify
from quire.transform.ast import Surveys, locate

FILE_MARK = "quire-file-"
CSL = "{http://purl.org/net/xbiblio/csl}"
REF_MARK = "ref-"  # citeproc's id for each entry of the references


def cite(
    manuscript: Manuscript, config: BookConfig, parsed: list[Parsed], surveys: Surveys
) -> list[Parsed]:
    """Resolve `[@key]` citations and write the references (at `::: {#refs}`, or at the end)."""
    if not (config.bibliography or config.references):
        _warn_unresolved(parsed, surveys)
        return parsed
    doc = {
        "pandoc-api-version": api_version(),
        "meta": citeproc_meta(manuscript, config),
        "blocks": [
            {"t": "Div", "c": [[f"{FILE_MARK}{index}", [], []], item.blocks]}
            for index, item in enumerate(parsed)
        ],
    }
    args = ["--from", "json", "--to", "json", "--citeproc"]
    sources = tuple(item.source for item in parsed)
    out = json.loads(run_pandoc(args, json.dumps(doc), config.origin, where=placer(sources)))
    cited = _split_back(parsed, out["blocks"])
    check_bounds(cited)  # a note style made notes of citations: the cap counts them too
    _check_nocite(config, parsed, surveys, cited)
    return cited


def _check_nocite(
    config: BookConfig, parsed: list[Parsed], surveys: Surveys, cited: list[Parsed]
) -> None:
    """Refuse a `nocite` that brings more uncited references into the book than the cap."""
    if not config.nocite:
        return
    keys = {
        citation["citationId"]
        for item in parsed
        for node in surveys.of(item.blocks).nodes("Cite")
        for citation in node["c"][0]
    }
    entries = {
        node["c"][0][0]
        for item in cited
        for node in _divs(item.blocks)
        if node["c"][0][0].startswith(REF_MARK)
    }
    uncited = len(entries - {REF_MARK + key for key in keys})
    if uncited > limit("nocite_references"):
        raise over(
            f"`nocite` brings {uncited:,} references the book does not cite",
            "nocite_references",
            file=config.origin_of("nocite"),
            line=config.line_of("nocite"),
            hint="list the works to include by key instead of `@*`",
        )


def _divs(blocks: list[Any]) -> list[dict]:
    """Every Div in an AST, without recursion (the references are Divs inside a Div)."""
    found, stack = [], list(blocks)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("t") == "Div":
                found.append(node)
            stack.append(node.get("c"))
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _warn_unresolved(parsed: list[Parsed], surveys: Surveys) -> None:
    """Citations with no bibliography: pandoc without --citeproc prints them as written; say so."""
    for item in parsed:
        for node in surveys.of(item.blocks).nodes("Cite"):
            if stringify(node["c"][1]).startswith("["):
                key = node["c"][0][0]["citationId"]
                warn(
                    f"citation `@{key}`, but the book sets no `bibliography:`; printed as written",
                    file=item.source.name,
                    line=locate(item.source, "@" + key),
                    hint="add `bibliography: refs.bib` (BibTeX, CSL JSON or YAML) to the settings",
                )
                return


def _split_back(parsed: list[Parsed], blocks: list[Any]) -> list[Parsed]:
    """Each file's blocks again; a references section citeproc added at the end joins the last."""
    result = [list(item.blocks) for item in parsed]
    for block in blocks:
        ident = block["c"][0][0] if block["t"] == "Div" else ""
        if ident.startswith(FILE_MARK):
            result[int(ident.removeprefix(FILE_MARK))] = block["c"][1]
        else:
            result[-1].append(block)
    return [replace(item, blocks=blocks) for item, blocks in zip(parsed, result, strict=True)]


def citeproc_meta(manuscript: Manuscript, config: BookConfig) -> dict[str, Any]:
    """The citation settings as pandoc metadata, with every file checked to be in the book."""
    settings: dict[str, Any] = {"link-citations": config.link_citations}
    if config.bibliography:
        settings["bibliography"] = [
            str(_book_file(manuscript, config, "bibliography", index, name))
            for index, name in enumerate(config.bibliography)
        ]
    if config.references:
        settings["references"] = json.loads(config.references)
    if config.csl:
        style = _book_file(manuscript, config, "csl", None, config.csl)
        settings["csl"] = str(independent_style(manuscript, config, style))
    if config.nocite:
        settings["nocite"] = ", ".join(config.nocite)
    if config.reference_section_title:
        settings["reference-section-title"] = config.reference_section_title
    if config.lang:
        settings["lang"] = config.lang
    # Pandoc reads the values as its own Markdown would (nocite becomes citations).
    text = "---\n" + yaml.safe_dump(settings, allow_unicode=True) + "---\n"
    return json.loads(run_pandoc(["--from", "markdown", "--to", "json"], text, config.origin))[
        "meta"
    ]


def _book_file(
    manuscript: Manuscript, config: BookConfig, key: str, index: int | None, name: str
) -> Path:
    """A bibliography or style file: inside the book (as images are), and there."""
    origin, line = config.origin_of(key), config.line_of(key, index)
    path = Confinement((manuscript.root,)).resolve(name, manuscript.root, file=origin, line=line)
    if not_a_file(path) == "missing":
        raise BuildError(
            f"`{key}` file `{name}` does not exist",
            file=origin,
            line=line,
            hint=f"put it in {manuscript.root.name}/ or fix the path",
        )
    check_file(path, "bibliography", file=origin, line=line, what=name)  # no FIFO, within its cap
    return path


def independent_style(manuscript: Manuscript, config: BookConfig, style: Path) -> Path:
    """The style citeproc is given: the book's own, or, for a dependent style (which names the
    style it follows by a link pandoc would fetch), that parent kept in the book."""
    parent = _parent_link(style, config)
    if parent is None:
        return style
    name = parent.rstrip("/").rsplit("/", 1)[-1] + ".csl"
    origin, line = config.origin_of("csl"), config.line_of("csl")
    for folder in dict.fromkeys((style.parent, manuscript.root)):
        candidate = folder / name
        if candidate.is_file():
            inside = os.path.relpath(candidate.resolve(), manuscript.root.resolve())
            found = _book_file(manuscript, config, "csl", None, inside)
            if _parent_link(found, config) is None:
                return found
    raise BuildError(
        f"`csl` style `{config.csl}` is a dependent style: its parent, {parent}, would be "
        "fetched from the network",
        file=origin,
        line=line,
        hint=f"download the parent style into the book as `{name}` (Quire then uses it), or "
        "name an independent style in `csl:`",
    )


def _parent_link(style: Path, config: BookConfig) -> str | None:
    """The `independent-parent` link of a CSL style, or None for an independent style."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.parse(str(style), parser).getroot()
    except etree.XMLSyntaxError as exc:
        raise BuildError(
            f"`csl` style `{config.csl}` is not valid XML: {exc.msg}",
            file=config.origin_of("csl"),
            line=config.line_of("csl"),
            hint="use a CSL 1.0 style file",
        ) from None
    for link in root.iterfind(f"{CSL}info/{CSL}link"):
        if link.get("rel") == "independent-parent":
            return link.get("href") or "(no address)"
    return None

"""Citations: pandoc's citeproc over the whole book, so numbering and the references are shared."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from quire.config import BookConfig
from quire.confine import Confinement, check_file, not_a_file
from quire.errors import BuildError, warn
from quire.manuscript import Manuscript
from quire.pandoc import Parsed, api_version, placer, run_pandoc, stringify
from quire.transform.ast import Surveys, locate

FILE_MARK = "quire-file-"


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
    return _split_back(parsed, out["blocks"])


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
        settings["csl"] = str(_book_file(manuscript, config, "csl", None, config.csl))
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

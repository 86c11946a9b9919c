"""The settings a book left out, filled in from its metadata and text."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

from quire.errors import BuildError, warn
from quire.load.config import BookConfig
from quire.load.manuscript import Manuscript
from quire.load.metadata import w3c_date
from quire.parse.pandoc import Parsed, stringify


def complete_config(manuscript: Manuscript, parsed: list[Parsed]) -> BookConfig:
    """Fill in title, authors, language and identifier the settings left out."""
    config = manuscript.config
    # A single file, or a folder without book.yaml, may carry pandoc metadata (YAML or `%` lines).
    meta = parsed[0].meta
    values: dict[str, Any] = {}
    if not config.title:
        values["title"] = _derive_title(manuscript, parsed, meta)
    if not config.authors and "author" in meta:
        author = meta["author"]
        items = author["c"] if author["t"] == "MetaList" else [author]
        values["authors"] = tuple(stringify(a) for a in items)
    if not config.date_text and "date" in meta:  # a `% date` title-block line
        dated = w3c_date(stringify(meta["date"]))
        values["date"], values["date_text"] = dated.get("date"), dated["date_text"]
    if not config.lang:
        values["lang"] = _detect_language(manuscript, parsed)
    title = values.get("title", config.title)
    authors = values.get("authors", config.authors)
    if not config.identifier:
        # Derived from the title and authors, so it stays the same from build to build.
        values["identifier"] = "urn:uuid:" + str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"quire:{title}|{'; '.join(authors)}")
        )
    return config.with_derived(**values)


def _derive_title(manuscript: Manuscript, parsed: list[Parsed], meta: dict[str, Any]) -> str:
    if "title" in meta:
        return stringify(meta["title"])
    title = (
        next(
            (
                stringify(b)
                for p in parsed
                for b in p.blocks
                if b["t"] == "Header" and b["c"][0] == 1
            ),
            None,
        )
        or manuscript.files[0].path.stem.replace("-", " ").replace("_", " ").title()
    )
    warn(
        f"no title set; using “{title}”",
        file=manuscript.config.origin,
        hint="set `title:` in book.yaml or the file's YAML block (or a `% Title` line)",
    )
    return title


def _detect_language(manuscript: Manuscript, parsed: list[Parsed]) -> str:
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0  # langdetect is random unless seeded; builds must be repeatable
    # The text as a reader reads it, not the Markdown: code blocks, link targets and HTML
    # outweighed the Chinese of a README full of commands (langdetect said Vietnamese).
    prose = " ".join(stringify(block) for p in parsed for block in p.blocks)
    sample = (prose if prose.strip() else " ".join(f.text for f in manuscript.files))[:20000]
    try:
        lang = detect(sample)
    except LangDetectException:
        raise BuildError(
            "no language set, and none could be detected from the text",
            file=manuscript.config.origin,
            hint="set `lang:` (for example `lang: en`) in book.yaml or the YAML block",
        ) from None
    lang = lang.split("-")[0] if "-" in lang and not lang.startswith("zh") else lang
    warn(
        f"no language set; detected `{lang}` from the text",
        file=manuscript.config.origin,
        hint=f"set `lang: {lang}` in book.yaml or the file's YAML block",
    )
    return lang


def modified_time(manuscript: Manuscript, config: BookConfig) -> str:
    """dcterms:modified: SOURCE_DATE_EPOCH, else the book's date, else the newest source file."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        stamp = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    else:
        try:
            day = (config.date or "")[:10]
            day += (
                "-01" * (2 - day.count("-")) if len(day) in (4, 7) else ""
            )  # W3CDTF 2015, 2015-01
            stamp = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
        except ValueError:
            newest = max(f.path.stat().st_mtime for f in manuscript.files)
            stamp = dt.datetime.fromtimestamp(int(newest), dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")

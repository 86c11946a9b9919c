"""Links: every target must exist; links to chapter files become links to chapters."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from quire.confine import is_local_anchor_or_scheme, is_remote
from quire.errors import BuildError
from quire.pandoc import Parsed, parse, stringify
from quire.transform.ast import Surveys
from quire.transform.model import Chapter


def resolve_links(chapters: list[Chapter]) -> None:
    """Check every link: ids must exist, links to chapter files become links to chapters."""
    ids = {
        e.get("id")
        for c in chapters
        for e in c.body.iter()
        if isinstance(e.tag, str) and e.get("id")
    }
    by_file = {c.source.path.name: c for c in reversed(chapters)}
    for chapter in chapters:
        for link in chapter.body.iter("a"):
            href = link.get("href")
            if (
                href is None
                or is_remote(href)
                or (is_local_anchor_or_scheme(href) and not href.startswith("#"))
            ):
                continue
            file_part, _, fragment = href.partition("#")
            if file_part:
                target = by_file.get(Path(file_part).name)
                if target is None:
                    file, line = chapter.where(href)
                    raise BuildError(
                        f"link to `{href}`: not a chapter of this book",
                        file=file,
                        line=line,
                        hint="link to a heading with #its-id, or to a chapter's .md file",
                    )
                fragment = fragment or target.id
            if fragment not in ids:
                file, line = chapter.where(f"#{fragment}")
                raise BuildError(
                    f"link to `#{fragment}`, but no heading or element has that id",
                    file=file,
                    line=line,
                    hint="give the target an id with {#" + fragment + "} or fix the link",
                )
            link.set("href", f"#{fragment}")
            classes = link.get("class", "").split()
            if link.get("aria-hidden") == "true":
                continue  # pandoc's line anchors in code blocks
            if link.get("role") == "doc-biblioref":
                continue  # a citation: no "(page N)" after it
            if "noteref" not in classes and "footnote-back" not in classes:
                link.set("class", " ".join([*classes, "xref"]))


def cross_file_references(parsed: list[Parsed], surveys: Surveys) -> list[Parsed]:
    """Let `[Heading]` (pandoc's implicit heading reference) reach headings in other files.

    Pandoc resolves these within one document; a file that names another file's heading is
    parsed again with reference definitions appended, so its own lines keep their numbers.
    """
    found: dict[str, tuple[str, int]] = {}
    for index, item in enumerate(parsed):
        for node in surveys.of(item.blocks).nodes("Header"):
            if node["c"][1][0]:
                found.setdefault(_label(stringify(node["c"][2])), (node["c"][1][0], index))
    result = []
    for index, item in enumerate(parsed):
        text = _squeeze(item.source.text)
        bracketed = set(BRACKETED.findall(text))
        wanted = [
            (label, target)
            for label, (target, where) in found.items()
            if where != index and _names(text, bracketed, label)
        ]
        if not wanted:
            result.append(item)
            continue
        definitions = "".join(f"\n[{_escape(label)}]: #{target}" for label, target in wanted)
        source = replace(item.source, text=item.source.text.rstrip("\n") + "\n\n" + definitions)
        result.append(parse(source))
    return result


BRACKETED = re.compile(r"\[([^\[\]]*)\]")  # each `[...]` without brackets inside, as a group
STRAIGHT_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def _label(text: str) -> str:
    """A reference label as pandoc matches it: case and runs of spaces do not count.

    The heading's text has smart quotes; the `[Heading]` in the source has straight ones.
    """
    return " ".join(text.translate(STRAIGHT_QUOTES).split()).lower()


def _names(text: str, bracketed: set[str], label: str) -> bool:
    """True if a (squeezed) text has `[label]`; `bracketed` holds what its brackets enclose.

    One look-up per label, rather than a search of the text: a long book has hundreds of
    headings and files. A label with brackets of its own is searched for.
    """
    if "[" in label or "]" in label:
        return f"[{label}]" in text
    return label in bracketed


def _squeeze(text: str) -> str:
    return " ".join(text.split()).lower()


def _escape(label: str) -> str:
    return label.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")

"""The book's structure: chapters split at headings, their kinds, notes and ids."""

from __future__ import annotations

import re
import unicodedata
from itertools import count
from typing import Any

from lxml import etree

from quire.errors import warn
from quire.pandoc import Parsed, stringify
from quire.transform.ast import locate, walk
from quire.transform.model import Chapter, Draft, Heading

# Structural semantics for a section's epub:type, and the DPUB-ARIA role that goes with it.
SECTION_TYPES = {
    "chapter": "doc-chapter",
    "preface": "doc-preface",
    "foreword": "doc-foreword",
    "introduction": "doc-introduction",
    "prologue": "doc-prologue",
    "epilogue": "doc-epilogue",
    "afterword": "doc-afterword",
    "conclusion": "doc-conclusion",
    "acknowledgments": "doc-acknowledgments",
    "dedication": "doc-dedication",
    "epigraph": "doc-epigraph",
    "appendix": "doc-appendix",
    "glossary": "doc-glossary",
    "bibliography": "doc-bibliography",
    "colophon": "doc-colophon",
    "copyright-page": None,
}


TITLE_ALIASES = {"references": "bibliography", "works cited": "bibliography"}
CLASS_ALIASES = {"copyright": "copyright-page", "acknowledgements": "acknowledgments"}


# Headings kept for the contents (toc-depth) and the bookmarks; level 1 is the chapter.
SECTION_HEADINGS = ("h2", "h3", "h4", "h5", "h6")


def number_notes(blocks: list[Any], prefix: str) -> tuple[list[Any], int]:
    """Turn pandoc notes into numbered note references plus a notes block at the end."""
    notes: list[Any] = []

    def visit(node: dict[str, Any]) -> Any:
        if node["t"] != "Note":
            return None
        notes.append(node["c"])
        n = len(notes)
        ref_attr = [f"{prefix}-ref-{n}", ["noteref"], []]
        return {"t": "Link", "c": [ref_attr, [{"t": "Str", "c": str(n)}], [f"#{prefix}-{n}", ""]]}

    blocks = walk(blocks, visit, ("Note",))  # only notes are visited: not a call per word
    if notes:
        items = [
            {"t": "Div", "c": [[f"{prefix}-{n}", ["footnote"], [["data-n", str(n)]]], body]}
            for n, body in enumerate(notes, start=1)
        ]
        blocks.append({"t": "Div", "c": [["", ["footnotes"], []], items]})
    return blocks, len(notes)


def split_chapters(blocks: list[Any]) -> list[list[Any]]:
    """Split a file's blocks at its level-1 headings; text before the first one is its own chunk."""
    chapters: list[list[Any]] = []
    for block in blocks:
        if is_chapter_heading(block) or not chapters:
            chapters.append([])
        chapters[-1].append(block)
    return [c for c in chapters if c]


def is_chapter_heading(block: dict[str, Any]) -> bool:
    """True for a level-1 heading (after the book's chapter level is shifted to 1)."""
    return block.get("t") == "Header" and block["c"][0] == 1


def chapter_level(configured: int | None, parsed: list[Parsed]) -> int:
    """The heading level that starts chapters: as set, or the highest level the book uses."""
    if configured:
        return configured
    levels = [b["c"][0] for p in parsed for b in p.blocks if b.get("t") == "Header"]
    return min(levels, default=1)


def shifted_heading(heading: dict[str, Any], level: int) -> dict[str, Any]:
    """A heading with the chapter level made 1, as pandoc's --shift-heading-level-by; higher
    ones stay at 1."""
    if level == 1:
        return heading
    return {"t": "Header", "c": [max(1, heading["c"][0] - level + 1), *heading["c"][1:]]}


LIST_DELIMITERS = {"OneParen": "paren-list", "TwoParens": "parens-list"}


def delimited_list(node: dict[str, Any]) -> dict[str, Any] | None:
    """An `a)` or `(i)` list in a Div whose class keeps the delimiter, which pandoc's HTML
    drops (a `walk` visitor); None for any other node."""
    if node["t"] != "OrderedList":
        return None
    delimiter = node["c"][0][2]["t"]
    if delimiter not in LIST_DELIMITERS:
        return None
    counter = [["style", f"counter-reset: quire-item {node['c'][0][0] - 1}"]]
    return {"t": "Div", "c": [["", [LIST_DELIMITERS[delimiter]], counter], [node]]}


def gather_chapters(drafts: list[Draft], parsed: Parsed, blocks: list[Any]) -> None:
    """Add a file's chapters; text before its first chapter heading continues the last chapter.

    When no chapter came before, that text is front matter of its own.
    """
    for chunk in split_chapters(blocks):
        if not is_chapter_heading(chunk[0]) and drafts:
            drafts[-1].blocks.extend(chunk)
            if parsed.source is not drafts[-1].parsed.source:
                drafts[-1].more_sources.append(parsed.source)
        else:
            drafts.append(Draft(parsed, chunk, []))


def chapter_kind(heading: dict[str, Any] | None, role: str, title: str) -> str:
    """The epub:type of a chapter, from its heading's classes, then its title and role."""
    classes = heading["c"][1][1] if heading else []
    for cls in classes:
        cls = CLASS_ALIASES.get(cls, cls)
        if cls in SECTION_TYPES:
            return cls
    word = TITLE_ALIASES.get(title.strip().lower(), title.strip().lower())
    if word in SECTION_TYPES and word != "chapter":
        return word
    return {"front": "preface", "body": "chapter", "back": "appendix"}[role]


def ascii_slug(text: str) -> str:
    """A file-name-safe ASCII slug of a title or id."""
    text = re.sub(r"['’]", "", text).replace("–", "-").replace("—", "-")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40]


def make_chapter(index: int, draft: Draft, element: etree._Element, notes: int) -> Chapter:
    """A chapter from its AST chunk and the HTML pandoc wrote for it."""
    parsed, chunk = draft.parsed, draft.blocks
    heading = chunk[0] if is_chapter_heading(chunk[0]) else None
    sections = [c for c in element if c.tag == "section" and "level1" in c.get("class", "")]
    if heading is not None and len(sections) == 1 and len(element) == 1:
        body = sections[0]
    else:
        body = element
        body.tag = "section"
        body.set("id", f"chapter-{index}")
    footnotes = body.find(".//div[@class='footnotes']")
    if footnotes is not None:
        body.append(footnotes)  # pandoc's section-divs may have put it in the last subsection
    role = parsed.source.role if heading else "front"
    title = stringify(heading) if heading else _untitled(chunk)
    slug = ascii_slug(body.get("id", "")) or ascii_slug(title) or "section"
    headings = tuple(
        Heading(h.getparent().get("id") or h.get("id", ""), h.text_content().strip(), int(h.tag[1]))
        for h in body.iter(*SECTION_HEADINGS)
    )
    return Chapter(
        index=index,
        id=body.get("id"),
        file_name=f"{index:02d}-{slug}.xhtml",
        title=title.strip(),
        role=role,
        kind=chapter_kind(heading, role, title),
        source=parsed.source,
        body=body,
        headings=tuple(h for h in headings if h.id),
        note_count=notes,
        more_sources=tuple(draft.more_sources),
    )


def _untitled(chunk: list[Any]) -> str:
    """The title of front matter without a chapter heading: its first heading, or none.

    Like pandoc's EPUB writer, untitled text gets no entry in the contents.
    """
    first = next((b for b in chunk if b.get("t") == "Header"), None)
    return stringify(first) if first else ""


def dedupe_ids(chapters: list[Chapter]) -> None:
    """Give every element a book-wide unique id; the PDF is one document."""
    seen: set[str] = set()
    suffixes: dict[str, int] = {}  # the last number tried per id: no quadratic search, no limit
    for chapter in chapters:
        for element in chapter.body.iter():
            old = element.get("id") if isinstance(element.tag, str) else None
            if not old:
                continue
            if old in seen:
                new = next(
                    f"{old}-{n}" for n in count(suffixes.get(old, 2)) if f"{old}-{n}" not in seen
                )
                first = old not in suffixes  # warn once per id, not once per use
                suffixes[old] = int(new.rsplit("-", 1)[1]) + 1
                element.set("id", new)
                for link in chapter.body.iter("a"):
                    if link.get("href") == f"#{old}":
                        link.set("href", f"#{new}")
                if first and "{#" + old in chapter.source.text:
                    warn(
                        f"id `{old}` is used in an earlier chapter too; renamed `{new}` here",
                        file=chapter.source.name,
                        line=locate(chapter.source, "{#" + old),
                    )
                old = new
            seen.add(old)
        chapter.id = chapter.body.get("id")
        chapter.headings = tuple(
            Heading(
                h.getparent().get("id") or h.get("id", ""), h.text_content().strip(), int(h.tag[1])
            )
            for h in chapter.body.iter(*SECTION_HEADINGS)
        )

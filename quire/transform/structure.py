"""The book's structure: chapters split at headings, their kinds, notes and ids."""

from __future__ import annotations

from itertools import count
from typing import Any

from lxml import etree

from quire.errors import warn
from quire.parse.pandoc import Parsed, stringify
from quire.transform.ast import NodeIndex, iter_nodes, locate, walk
from quire.transform.entries import (  # ascii_slug: sources.py and index.py import it from here
    ascii_slug,
    chapter_headings,
    entry_anchor,  # noqa: F401 - links.py imports it from here
    is_part,
    listed_section,
    mark_listed_headings,
    page_break_block,
    part_draft,
)
from quire.transform.model import Chapter, Draft

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
    "part": "doc-part",
}


TITLE_ALIASES = {"references": "bibliography", "works cited": "bibliography"}
CLASS_ALIASES = {"copyright": "copyright-page", "acknowledgements": "acknowledgments"}


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


def file_level(found: NodeIndex, book_level: int) -> int:
    """The heading level that becomes level 1 in a file the author listed.

    A file whose highest headings (wherever they stand: in fenced divs too) are at the
    book's chapter level is cut there, as the book is. A file whose headings are all lower
    is one chapter: its one highest heading is its title (`## I` in a div, or a `##` file
    in a book of `#` chapters); several at that level are its sections (a preface of
    `####` paragraphs), under no title of their own.
    """
    levels = [h["c"][0] for h in found.nodes("Header")]
    top = min(levels, default=book_level)
    if top <= book_level:
        return book_level
    return top if levels.count(top) == 1 else top - 1


def one_chapter(blocks: list[Any], level: int) -> list[Any]:
    """A file SUMMARY.md lists, as one chapter: its headings at the chapter level (`level`,
    before the shift) after its first heading are made one level lower, sections of it, as
    mdBook and GitBook show the file: one page, titled by its entry."""
    first = True

    def visit(node: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal first
        opens, first = first, False
        if opens or node["c"][0] > level:
            return None
        return {"t": "Header", "c": [level + 1, *node["c"][1:]]}

    return walk(blocks, visit, ("Header",))


def shifted_heading(heading: dict[str, Any], level: int, depth: int = 0) -> dict[str, Any]:
    """A heading with the chapter level made 1 (1 + depth for a file listed as a section),
    as pandoc's --shift-heading-level-by; higher ones stay at 1."""
    if level == 1 + depth:
        return heading
    shifted = min(6, max(1, heading["c"][0] - level + 1 + depth))
    return {"t": "Header", "c": [shifted, *heading["c"][1:]]}


def unnumbered(heading: dict[str, Any]) -> dict[str, Any]:
    """A heading with pandoc's class `unnumbered`: no section number, no "Chapter N"."""
    level, (ident, classes, attributes), inlines = heading["c"]
    if "unnumbered" in classes:
        return heading
    return {"t": "Header", "c": [level, [ident, [*classes, "unnumbered"], attributes], inlines]}


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


def gather_chapters(
    drafts: list[Draft], parsed: Parsed, blocks: list[Any], listed: bool = False
) -> None:
    """Add a file's chapters: one at each chapter heading.

    A file the author listed (`listed`) opens a chapter whatever its first heading (a part's
    page first if it opens a part; a section of the chapter before if its depth is 1 or more).
    Otherwise text before a file's first chapter heading continues the last chapter, or is
    front matter of its own when no chapter came before.
    """
    source = parsed.source
    if listed and source.part:
        drafts.append(part_draft(parsed, source.part))
    if listed and source.depth and drafts and not is_part(drafts[-1]):
        drafts[-1].blocks.extend([page_break_block(), listed_section(parsed, blocks)])
        drafts[-1].more_sources.append(source)
        return
    chunks = [blocks] if listed and source.whole else split_chapters(blocks)
    if listed and len(chunks) > 1 and all(map(_is_comment, chunks[0])):
        del chunks[0]  # comments before the heading: no chapter (sanitise drops comments)
    for n, chunk in enumerate(chunks):
        opens_file = listed and n == 0
        if not is_chapter_heading(chunk[0]) and not opens_file and drafts:
            drafts[-1].blocks.extend(chunk)
            if source is not drafts[-1].parsed.source:
                drafts[-1].more_sources.append(source)
        else:
            after = any(d.heading is not None or d.title for d in drafts)
            drafts.append(_draft(parsed, chunk, opens_file, after))


def _is_comment(block: dict[str, Any]) -> bool:
    """True for an HTML comment standing as a block (or a paragraph of nothing else):
    nothing a reader sees."""
    if block.get("t") in ("Para", "Plain"):
        inlines = [n for n in block["c"] if n["t"] not in ("Space", "SoftBreak")]
        return bool(inlines) and all(_is_comment(n) for n in inlines)
    if block.get("t") not in ("RawBlock", "RawInline") or block["c"][0] != "html":
        return False
    text = block["c"][1].strip()
    return text.startswith("<!--") and text.endswith("-->")


def _draft(parsed: Parsed, chunk: list[Any], opens_file: bool, after: bool) -> Draft:
    """A chapter's draft, with the heading and title it takes (see gather_chapters)."""
    heading = chunk[0] if is_chapter_heading(chunk[0]) else None
    if not opens_file:
        return Draft(parsed, chunk, [], heading, stringify(heading) if heading else "")
    if heading is None:  # inside a fenced div, or further down: the first level-1 heading
        heading = next((n for n in iter_nodes(chunk) if is_chapter_heading(n)), None)
    own = stringify(parsed.meta.get("title", "")).strip()  # the file's YAML `title:`
    if heading is None and own:
        # The file's title stands as its heading, as pandoc shows a title block.
        meta = parsed.meta["title"]
        inlines = meta["c"] if meta.get("t") == "MetaInlines" else [{"t": "Str", "c": own}]
        heading = {"t": "Header", "c": [1, ["", [], []], inlines]}
        chunk = [heading, *chunk]
    elif heading is None and parsed.source.whole and parsed.source.title:
        # SUMMARY.md's entry titles a file with no heading of its own (GitBook's README, its
        # introduction): its title opens the chapter's page, and is its bookmark in print.
        title = parsed.source.title
        ident = ascii_slug(title) or "chapter"
        heading = {"t": "Header", "c": [1, [ident, [], []], [{"t": "Str", "c": title}]]}
        chunk = [heading, *chunk]
    title = parsed.source.title or (stringify(heading) if heading else own)
    return Draft(parsed, chunk, [], heading, title.strip(), listed=True, after_chapter=after)


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


def make_chapter(index: int, draft: Draft, element: etree._Element, notes: int) -> Chapter:
    """A chapter from its AST chunk and the HTML pandoc wrote for it."""
    parsed, chunk, heading = draft.parsed, draft.blocks, draft.heading
    body = _chapter_body(element) if heading is not None else None
    if body is None:
        body = element
        body.tag = "section"
        body.set("id", f"chapter-{index}")
    footnotes = body.find(".//div[@class='footnotes']")
    if footnotes is not None:
        body.append(footnotes)  # pandoc's section-divs may have put it in the last subsection
    mark_listed_headings(body, parsed.source, draft.more_sources)
    # Text without a heading or title before the first chapter is front matter.
    opens = heading is not None or draft.title or (draft.listed and draft.after_chapter)
    role = parsed.source.role if opens else "front"
    title = draft.title if heading is not None or draft.listed else ""
    # A file listed without a title of its own (no heading at its level, no entry title, no
    # YAML `title:`) is named by its first heading, never left out of the contents.
    title = title or _untitled(chunk)
    if draft.listed and (heading is None or not parsed.source.numbered):
        _add_class(body, "unnumbered")  # no "Chapter N" for it, nor a count of it
    if draft.listed and heading is None:
        _add_class(body, "level1")  # a chapter all the same: print.css opens it on a recto
    slug = ascii_slug(body.get("id", "")) or ascii_slug(title) or "section"
    return Chapter(
        index=index,
        id=body.get("id"),
        file_name=f"{index:02d}-{slug}.xhtml",
        title=title.strip(),
        role=role,
        kind=chapter_kind(heading, role, title),
        source=parsed.source,
        body=body,
        headings=chapter_headings(body),
        note_count=notes,
        more_sources=tuple(draft.more_sources),
    )


def _chapter_body(element: etree._Element) -> etree._Element | None:
    """The chapter's own level-1 section, when all else in its HTML only wraps it.

    A fenced div around a chapter (pandoc's reading of an XHTML book: `::: {.chapter}`)
    gives the section its id, classes and epub:type, so the chapter is a section that opens
    with its heading, as print.css and the EPUB expect. None when other text stands beside it.
    """
    wrappers, inner = [], element
    while True:
        children = [c for c in inner if isinstance(c.tag, str)]
        if len(children) != 1 or (inner.text or "").strip() or (children[0].tail or "").strip():
            return None
        inner = children[0]
        if inner.tag == "section" and "level1" in inner.get("class", "").split():
            break
        if inner.tag not in ("div", "section"):
            return None
        wrappers.append(inner)
    ids = [w.get("id") for w in wrappers if w.get("id")]
    if len(ids) > 1:
        return None  # a link may go to each: keep them all where they are
    first = inner.find("h1")
    if inner.get(EPUB_TYPE) and first is not None and not first.get(EPUB_TYPE):
        first.set(EPUB_TYPE, inner.attrib.pop(EPUB_TYPE))  # pandoc moved it from the heading
    for wrapper in wrappers:
        for name in ("class", EPUB_TYPE):
            own = [v for v in wrapper.get(name, "").split() if v != "section"]
            merged = dict.fromkeys([*inner.get(name, "").split(), *own])
            if merged:
                inner.set(name, " ".join(merged))
    if ids:
        if inner.get("id") and first is not None and not first.get("id"):
            first.set("id", inner.get("id"))  # a link to the heading still lands on it
        inner.set("id", ids[0])
    inner.tail = None
    return inner


# epub:type prefixes of Standard Ebooks' XHTML, declared in each EPUB file that uses them
# (render/epub/document.py); values with any other prefix are dropped, as EPUBCheck refuses
# a prefix that is not declared.
EPUB_PREFIXES = {
    "z3998": "http://www.daisy.org/z3998/2012/vocab/structure/#",
    "se": "https://standardebooks.org/vocab/1.0",
}
EPUB_TYPE = "epub:type"


def clean_epub_types(chapters: list[Chapter]) -> None:
    """Drop the epub:type values whose prefix the EPUB cannot declare (a warning each)."""
    dropped: set[str] = set()
    for chapter in chapters:
        for element in chapter.body.iter():
            value = element.get(EPUB_TYPE) if isinstance(element.tag, str) else None
            if not value:
                continue
            kept = [w for w in value.split() if ":" not in w or w.split(":")[0] in EPUB_PREFIXES]
            for word in value.split():
                prefix = word.split(":")[0]
                if word not in kept and prefix not in dropped:
                    dropped.add(prefix)
                    warn(
                        f"epub:type prefix `{prefix}:` is not one Quire can declare",
                        file=chapter.source.name,
                        line=locate(chapter.source, prefix + ":"),
                        hint=f"its values (`{word}`) are left out of the EPUB; the text is kept",
                        group="epub:type values dropped",
                    )
            if kept:
                element.set(EPUB_TYPE, " ".join(kept))
            else:
                del element.attrib[EPUB_TYPE]


def _add_class(element: etree._Element, name: str) -> None:
    classes = element.get("class", "").split()
    element.set("class", " ".join(dict.fromkeys([*classes, name])))


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
        chapter.headings = chapter_headings(chapter.body)

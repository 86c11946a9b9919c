"""Transform stage: turn pandoc's ASTs into one checked Book of chapters, ready to render."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import lxml.html

from quire import images
from quire.ahead import when_needed
from quire.cache_store import CacheStore
from quire.errors import BuildError, Problem
from quire.language.scripts import direction, mark_code_left_to_right
from quire.load.confine import Confinement
from quire.load.manuscript import Manuscript, SourceFile
from quire.parse.html import write_chapters_html
from quire.parse.pandoc import Parsed, api_version
from quire.transform.ast import NodeIndex, Surveys, iter_nodes, locate, walk
from quire.transform.citations import cite
from quire.transform.code import (
    CODE_KINDS,
    attributes_as_text,
    mathjax_math,
    tidy_code_and_asides,
)
from quire.transform.crossref import mark_references, number_references
from quire.transform.figures import generated_folders
from quire.transform.index import INDEX_ID, index_chapter, mark_index
from quire.transform.latex import (
    RAW_KINDS,
    LatexReading,
    header_includes,
    read_latex,
    translate_raw_latex,
)
from quire.transform.links import cross_file_references, resolve_links
from quire.transform.lists import LIST_TITLES, fill_lists, list_entries
from quire.transform.model import Book, Chapter, Draft, Heading
from quire.transform.numbering import SectionNumbers
from quire.transform.quotes import local_quotes
from quire.transform.sanitise import sanitize
from quire.transform.settings import complete_config, modified_time
from quire.transform.sources import (
    check_book_styles,
    cover_asset,
    images_without_alt,
    mark_decorative_figures,
    marked_image,
    raw_images_without_alt,
    report_missing_alt,
    resolve_sources,
    restore_images,
)
from quire.transform.structure import (
    SECTION_TYPES,
    ascii_slug,
    chapter_level,
    clean_epub_types,
    dedupe_ids,
    delimited_list,
    file_level,
    gather_chapters,
    make_chapter,
    number_notes,
    one_chapter,
    shifted_heading,
    unnumbered,
)
from quire.transform.styles import author_styles

__all__ = [
    "LIST_TITLES",
    "SECTION_TYPES",
    "Book",
    "Chapter",
    "Heading",
    "ascii_slug",
    "iter_nodes",
    "list_entries",
    "locate",
    "transform",
    "walk",
]


def transform(
    manuscript: Manuscript, parsed: list[Parsed], cache: CacheStore | None = None
) -> Book:
    """Check and reshape the parsed files into a Book of chapters with their assets (the
    chapters' HTML that pandoc wrote in an earlier build from `cache`, see parse/html.py)."""
    config = complete_config(manuscript, parsed)
    surveys = Surveys()  # each file's nodes by kind, found once and shared by the concerns
    parsed = cross_file_references(parsed, surveys)
    parsed = mark_references(parsed, surveys)  # before citeproc: `@fig:x` is no citation
    parsed = cite(manuscript, config, parsed, surveys)
    parsed = local_quotes(parsed, config.lang, surveys)  # „…“, «…»: the language's marks
    level = chapter_level(config.chapter_level, parsed)
    # Each file the author listed opens a chapter, its highest heading made level 1 (or the
    # level its depth gives); a single file's chapters are cut at the book's chapter level.
    listed = not manuscript.single_file
    numbers = SectionNumbers() if config.number_sections else None
    hidden_lines = "mdBook" in manuscript.project  # mdBook hides `# ` lines of Rust blocks
    drafts: list[Draft] = []
    missing_alt: list[Problem] = []
    latex = read_latex(parsed, surveys, header_includes(config), manuscript.root)
    for item in parsed:
        found = surveys.of(item.blocks)
        own = level if not listed or config.chapter_level else file_level(found, level)
        blocks, problems = _reshaped(item, found, own, numbers, hidden_lines, latex)
        missing_alt += problems
        gather_chapters(drafts, item, blocks, listed)
    number_references(drafts, config, parsed[0].meta)  # once the headings have their numbers
    marks = mark_index(drafts)  # each index mark gets its id before the HTML is written
    chapters = _write_chapters(drafts, tuple(item.source for item in parsed), cache)
    for chapter in chapters:
        missing_alt += raw_images_without_alt(chapter)
    report_missing_alt(missing_alt)
    dedupe_ids(chapters)
    clean_epub_types(chapters)
    fill_lists(chapters)
    if direction(config) == "rtl":
        for chapter in chapters:
            mark_code_left_to_right(chapter.body)
    confinement = Confinement((manuscript.root,), config.allow_remote)  # styles/ is not for images
    when_needed(check_book_styles, manuscript.root, manuscript.styles)  # started in the parse
    search = (manuscript.root, *(manuscript.root / p for p in config.resource_path))
    assets: dict[Path, images.Asset] = {}
    for chapter in chapters:
        restore_images(chapter)
        sanitize(chapter, confinement)
        resolve_sources(chapter, confinement, assets, search)
    made = dict.fromkeys(("index", INDEX_ID), INDEX_ID) if marks else {}
    resolve_links(chapters, manuscript.root, config.site_url, made)
    index = index_chapter(marks, chapters, config)  # the back-of-book index, last
    if index is not None:  # (its links are not "(page N)" references: added after those)
        chapters.append(index)
    cover = cover_asset(manuscript, config, confinement)
    print_css, epub_css = author_styles(manuscript, config)
    return Book(
        config=config,
        chapters=tuple(chapters),
        assets=tuple(assets.values()),
        cover=cover,
        styles=manuscript.styles,
        root=manuscript.root,
        modified=modified_time(manuscript, config),
        print_css=print_css,
        epub_css=epub_css,
        generated=generated_folders(tuple(a.path for a in assets.values())),
    )


def _reshaped(
    item: Parsed,
    found: NodeIndex,
    level: int,
    numbers: SectionNumbers | None,
    hidden_lines: bool = False,
    latex: LatexReading | None = None,
) -> tuple[list[Any], list[Problem]]:
    """One file's blocks ready to be cut into chapters, and its images without alt text.

    A pass whose kind of node the file does not have is skipped, rather than walking the file.
    """
    blocks = item.blocks
    latex = latex or LatexReading()
    source = item.source
    if hidden_lines and found.has("Span"):  # mdBook: `{…}` after a word is text (code.py)
        blocks = attributes_as_text(blocks)
        found = NodeIndex(blocks)
    if source.mathjax:  # mdBook's \\( \\) and \\[ \\] (transform/code.py)
        blocks = mathjax_math(blocks)
        found = NodeIndex(blocks)
    if found.has(*RAW_KINDS) or (latex.names and found.has("Math")):
        blocks = translate_raw_latex(item, found, latex)
        found = NodeIndex(blocks)  # a new AST: the passes below change its nodes, not the old
    if found.has(*CODE_KINDS):  # info strings, hidden lines, alerts (transform/code.py)
        blocks, found = tidy_code_and_asides(blocks, found, hidden_lines)
    if source.whole and found.has("Header"):  # one chapter a file SUMMARY.md lists
        blocks = one_chapter(blocks, level)
        found = NodeIndex(blocks)
    mark_decorative_figures(found.nodes("Figure"))
    problems = images_without_alt(item, found.nodes("Image"))
    kinds = [kind for kind in ("Image", "OrderedList") if found.has(kind)]
    if found.has("Header") and (level != 1 or numbers or source.depth or not source.numbered):
        kinds.append("Header")
    if kinds:
        reshape = partial(_reshape, level=level, numbers=numbers, source=source)
        blocks = walk(blocks, reshape, kinds, found.paths_to(kinds))
    return blocks, problems


def _reshape(
    node: dict, level: int, numbers: SectionNumbers | None, source: SourceFile
) -> dict | None:
    """Images marked, `a)` lists kept, headings shifted to the chapter level (or the file's
    depth) and numbered, in one walk (headings in reading order): each visitor has its own
    kind of node."""
    if node["t"] == "Header":
        node = shifted_heading(node, level, source.depth)
        if not source.numbered and node["c"][0] == 1:
            node = unnumbered(node)  # an mdBook prefix or suffix chapter
        return numbers.numbered(node) if numbers else node
    return marked_image(node) or delimited_list(node)


def _write_chapters(
    drafts: list[Draft], sources: tuple[SourceFile, ...], cache: CacheStore | None
) -> list[Chapter]:
    """Number each chapter's notes and make it from the HTML pandoc writes for it (or wrote
    in an earlier build: see parse/html.py)."""
    wrapped, note_counts = [], []
    for index, draft in enumerate(drafts, start=1):
        blocks, count = number_notes(draft.blocks, f"n{index}")
        note_counts.append(count)
        wrapped.append({"t": "Div", "c": [[f"quire-chapter-{index}", [], []], blocks]})
    written = write_chapters_html(wrapped, api_version(), sources, cache)
    return [
        make_chapter(index, draft, _element(html), count)
        for index, (draft, html, count) in enumerate(
            zip(drafts, written, note_counts, strict=True), start=1
        )
    ]


def _element(html: str) -> lxml.html.HtmlElement:
    """The element of a chapter's HTML (its Div), parsed as it would be among the others:
    with the line break after it as its tail, as pandoc writes between top-level blocks."""
    elements = [e for e in lxml.html.fragments_fromstring(html + "\n") if isinstance(e.tag, str)]
    if len(elements) != 1:
        raise BuildError(
            f"internal error: a chapter's HTML has {len(elements)} top-level elements", kind="bug"
        )
    return elements[0]

"""The back-of-book index: terms marked in the text, gathered, sorted by the book's language.

A mark is a span of class `index`: `[Nerchinsk]{.index}` indexes its text, `[the treaty]{.index
entry="Nerchinsk, Treaty of"}` another term, `entry="Amur!navigation"` a sub-entry (levels
apart by `!`, as makeindex writes them), and `see="…"` / `see-also="…"` point to other terms,
several apart by `;` (a span with only `see=` may be empty, with its term in `entry=`; it
adds no page). `mark_index` gives each mark an id where it stands (the place every output's
index links to) before the chapters' HTML is written; `index_chapter` makes the index
itself, a back-matter chapter after the others, its terms in the order the book's language
sorts them (the Unicode Collation Algorithm), grouped under their first letters. Its
locators link to each mark; the renderers write their text (render/index_page.py): the
printed page in print, the print edition's page in the EPUB and on the web (its page
markers), else the chapter's title.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree

from quire.errors import warn
from quire.language.words import words_for
from quire.load.config import BookConfig
from quire.load.manuscript import SourceFile
from quire.parse.pandoc import stringify
from quire.transform.ast import locate, walk
from quire.transform.model import Chapter, Draft
from quire.transform.structure import ascii_slug

GROUP = "index marks left out"
CLASS = "index"  # the class that marks a term
LEVELS = "!"  # between an entry and its sub-entries, as makeindex writes them
MARK_PREFIX = "ix-"
ENTRY_PREFIX = "quire-index-entry-"
INDEX_ID = "quire-index"  # not "index": pandoc gives a heading "Index" that id
EPUB_TYPE = "epub:type"
# `{.index`, `{#x .index entry=…`, or `class="index"` in a book's HTML: what a mark's text holds.
MENTION = re.compile(r"\{[^}]*\.index\b|class=[\"'][^\"']*\bindex\b")
LOCATOR = "index-locator"  # the class of a link to a mark
LOCATORS = "index-locators"  # the class of the span that holds an entry's locators


@dataclass(frozen=True)
class Mark:
    """One marked place: its id, the entry's levels, where it points, and where it stands."""

    id: str
    path: tuple[str, ...]
    see: tuple[str, ...] = ()  # "see" targets, each a path
    see_also: tuple[str, ...] = ()
    chapter: int = 0  # the position of its draft in the book
    file: str = ""
    line: int | None = None


@dataclass
class Entry:
    """An entry of the index: its term, the marks it links to, its cross-references."""

    term: str
    marks: list[Mark] = field(default_factory=list)
    see: list[tuple[str, ...]] = field(default_factory=list)
    see_also: list[tuple[str, ...]] = field(default_factory=list)
    children: dict[str, Entry] = field(default_factory=dict)


# ---------- before the chapters' HTML: each mark gets its id ----------


def mark_index(drafts: list[Draft]) -> list[Mark]:
    """Every index mark of the book in reading order, each span given its id (a malformed
    mark is warned about and left as plain text)."""
    marks: list[Mark] = []
    used: dict[str, int] = {}
    for position, draft in enumerate(drafts):
        sources = (draft.parsed.source, *draft.more_sources)
        if not any(MENTION.search(s.text) for s in sources):
            continue  # no mark in its text: no walk through its AST

        def visit(node: dict, position: int = position, sources: tuple = sources) -> Any:
            return _marked(node, position, sources, used, marks)

        draft.blocks[:] = walk(draft.blocks, visit, ("Span",))
    return marks


def _marked(
    node: dict, position: int, sources: tuple[SourceFile, ...], used: dict[str, int],
    marks: list[Mark],
) -> Any:  # fmt: skip
    """A span of class `index` with its id (kept if the author gave one), its mark recorded."""
    (ident, classes, attributes), inlines = node["c"]
    if CLASS not in classes:
        return node
    values = dict(attributes)
    text = " ".join(stringify(inlines).split())
    entry = values.get("entry", "").strip() or text
    file, line = _where(sources, _needles(values, text))
    path = _path(entry)
    if not path:
        _warn(file, line, "an index mark names no term (its text and `entry=` are empty,"
              " or a level of `entry=` is)",
              "Quire left it out of the index; give it a text or `entry=\"…\"`")  # fmt: skip
        return {"t": "Span", "c": [[ident, [c for c in classes if c != CLASS], attributes],
                                   inlines]}  # fmt: skip
    if not ident:
        # Named by its file and term, counted within the file: a mark added in one chapter
        # leaves the others' ids (their HTML and their print layouts) as they were.
        slug = ascii_slug(LEVELS.join(path)) or _digest(LEVELS.join(path))
        slug = f"{ascii_slug(Path(file).stem) or _digest(file)}-{slug}"
        used[slug] = used.get(slug, 0) + 1
        ident = f"{MARK_PREFIX}{slug}-{used[slug]}"
    see, also = _paths(values.get("see", "")), _paths(values.get("see-also", ""))
    marks.append(Mark(ident, path, see, also, position, file, line))
    return {"t": "Span", "c": [[ident, classes, attributes], inlines]}


def _path(entry: str) -> tuple[str, ...]:
    """An entry's levels (`Amur!navigation`); empty if any level is empty."""
    levels = tuple(" ".join(level.split()) for level in entry.split(LEVELS))
    return levels if all(levels) else ()


def _paths(targets: str) -> tuple[tuple[str, ...], ...]:
    """The terms a `see=` or `see-also=` names, apart by semicolons (`Aihui; Heihe`)."""
    return tuple(path for path in map(_path, targets.split(";")) if path)


def _digest(text: str) -> str:
    return hashlib.blake2s(text.encode(), digest_size=4).hexdigest()


def _needles(values: dict[str, str], text: str) -> list[str]:
    """What a mark's Markdown holds, most telling first, to find its line."""
    found = [f'entry="{values["entry"]}"'] if values.get("entry") else []
    found += [f"[{text}]{{.index", text] if text else ["[]{.index"]
    return [*found, "{.index"]


def _where(sources: tuple[SourceFile, ...], needles: list[str]) -> tuple[str, int | None]:
    """The file and line of the first source that holds one of the needles."""
    for needle in needles:
        for source in sources:
            line = locate(source, needle)
            if line is not None:
                return source.name, line
    return sources[0].name, None


def _warn(file: str, line: int | None, message: str, hint: str) -> None:
    warn(message, file=file, line=line, hint=hint, group=GROUP)


# ---------- once the chapters are made: the index itself ----------


def gather(marks: list[Mark]) -> dict[str, Entry]:
    """The marks as a tree of entries; a `see` to a term no mark names is warned and dropped."""
    entries: dict[str, Entry] = {}
    for mark in marks:
        level = entries
        for term in mark.path:
            entry = level.setdefault(term, Entry(term))
            level = entry.children
        if not (mark.see or mark.see_also):
            entry.marks.append(mark)
    for mark in marks:
        entry = _find(entries, mark.path)
        for targets, kind, out in ((mark.see, "see", entry.see), (mark.see_also, "see-also",
                                   entry.see_also)):  # fmt: skip
            for target in targets:
                if _find(entries, target) is None:
                    _warn(mark.file, mark.line,
                          f"index mark's `{kind}=\"{LEVELS.join(target)}\"` names no term"
                          " of the index",
                          "Quire left that reference out; mark the term it names, or correct"
                          " it")  # fmt: skip
                elif target not in out:
                    out.append(target)
    return _pruned(entries)


def _pruned(entries: dict[str, Entry]) -> dict[str, Entry]:
    """The entries with something to show: a mark, a cross-reference or a sub-entry (a mark
    whose only `see` was dropped leaves none)."""
    kept = {}
    for term, entry in entries.items():
        entry.children = _pruned(entry.children)
        if entry.marks or entry.see or entry.see_also or entry.children:
            kept[term] = entry
    return kept


def _find(entries: dict[str, Entry], path: tuple[str, ...]) -> Entry | None:
    level, entry = entries, None
    for term in path:
        entry = level.get(term)
        if entry is None:
            return None
        level = entry.children
    return entry


@cache
def _collator() -> Any:
    """The Unicode Collation Algorithm's default order (DUCET), loaded once (a third of a
    second): it sorts Ä with A and Ё with Е, as German and Russian dictionaries do."""
    import pyuca

    return pyuca.Collator()


def sort_key(term: str) -> tuple:
    """The key that sorts a term as the language does (not by code point), ties by text."""
    return (_collator().sort_key(term.casefold()), _collator().sort_key(term), term)


def first_letter(term: str) -> str:
    """The letter a term is grouped under: its first, capital, without a mark that the
    collation does not count as another letter (Ä under A, Ё under Е, Й under Й)."""
    first = term.lstrip("\"'“‘«(„[")[:1] or term[:1]
    letter = first.upper()
    base = unicodedata.normalize("NFD", letter)[:1]
    if base != letter and _primary(base) == _primary(letter):
        letter = base
    return letter if letter.isalpha() else "#"


def _primary(text: str) -> int:
    key = _collator().sort_key(text)
    return key[0] if key else 0


def sorted_entries(entries: dict[str, Entry]) -> list[Entry]:
    """Entries in the language's order."""
    return sorted(entries.values(), key=lambda e: sort_key(e.term))


def entry_id(path: tuple[str, ...]) -> str:
    """The id of an entry's <li>, where a `see` lands."""
    joined = LEVELS.join(path)
    return ENTRY_PREFIX + (ascii_slug(joined) or "x") + "-" + _digest(joined)


def index_chapter(marks: list[Mark], chapters: list[Chapter], config: BookConfig) -> Chapter | None:
    """The index as a back-matter chapter after the others, or None for a book without marks.

    Each locator links to its mark, its text the mark's chapter title until a renderer
    writes its own (the printed page)."""
    if not marks:
        return None
    words = words_for(config.lang or "en")
    entries = gather(marks)
    title = words["Index"]
    body = lxml.html.Element("section", {"id": INDEX_ID, "class": "level1 unnumbered index"})
    body.set("role", "doc-index")
    etree.SubElement(body, "h1").text = title
    groups = etree.SubElement(body, "div", {"class": "index-groups"})
    letters: dict[str, list[Entry]] = {}
    for entry in sorted_entries(entries):
        letters.setdefault(first_letter(entry.term), []).append(entry)
    for n, (letter, members) in enumerate(letters.items(), 1):
        group = etree.SubElement(groups, "section", {"class": "index-group",
                                                     "id": f"quire-index-group-{n}"})  # fmt: skip
        group.set(EPUB_TYPE, "index-group")
        etree.SubElement(group, "h2").text = letter
        _entry_list(group, members, (), chapters, words)
    _lines(body)
    # No file of the book: the index is made from all of them.
    source = SourceFile(chapters[-1].source.path.parent / "index", "index", "", "back")
    return Chapter(
        index=len(chapters) + 1, id=INDEX_ID, file_name=f"{len(chapters) + 1:02d}-index.xhtml",
        title=title, role="back", kind="index", source=source, body=body,
        headings=(), note_count=0,
    )  # fmt: skip


def _entry_list(
    parent: etree._Element, members: list[Entry], above: tuple[str, ...],
    chapters: list[Chapter], words: Any,
) -> None:  # fmt: skip
    """Entries as a <ul> (epub:type index-entry-list), each with its sub-entries below it."""
    items = etree.SubElement(parent, "ul", {"class": "index-entry-list"})
    items.set(EPUB_TYPE, "index-entry-list")
    for entry in members:
        path = (*above, entry.term)
        item = etree.SubElement(items, "li", {"class": "index-entry", "id": entry_id(path)})
        item.set(EPUB_TYPE, "index-entry")
        term = etree.SubElement(item, "span", {"class": "index-term"})
        term.set(EPUB_TYPE, "index-term")
        term.text = entry.term
        if entry.marks:
            term.tail = ", "
            span = etree.SubElement(item, "span", {"class": LOCATORS})
            span.set(EPUB_TYPE, "index-locator-list")
            for n, mark in enumerate(entry.marks):
                link = etree.SubElement(span, "a", {"class": LOCATOR, "href": f"#{mark.id}"})
                link.set(EPUB_TYPE, "index-locator")
                chapter = chapters[mark.chapter] if mark.chapter < len(chapters) else None
                link.text = chapter.title if chapter is not None and chapter.title else "↑"
                link.tail = ", " if n < len(entry.marks) - 1 else None
        for targets, key, kind in ((entry.see, "See", "index-xref-preferred"),
                                   (entry.see_also, "SeeAlso", "index-xref-related")):  # fmt: skip
            _xrefs(item, targets, words[key], kind)
        if entry.children:
            _entry_list(item, sorted_entries(entry.children), path, chapters, words)


def _xrefs(item: etree._Element, targets: list[tuple[str, ...]], word: str, kind: str) -> None:
    """ "see X" or "see also X, Y" after an entry's term and locators, each linked."""
    if not targets:
        return
    # "Amur, 12, 15; see also Heilongjiang", "Aigun, see Aihui"
    item[-1].tail = "; " if len(item) > 1 else ", "
    span = etree.SubElement(item, "span", {"class": "index-xref"})
    etree.SubElement(span, "em").text = word
    span[-1].tail = " "
    for n, target in enumerate(targets):
        link = etree.SubElement(span, "a", {"href": f"#{entry_id(target)}", "class": kind})
        link.set(EPUB_TYPE, kind)
        link.text = ", ".join(target)
        link.tail = "; " if n < len(targets) - 1 else None


def _lines(body: etree._Element) -> None:
    """A line break after each block and before each nested list, as pandoc writes its
    HTML: a reader of the text alone (search, a page's text) never runs two entries, or a
    page number and a sub-entry, together."""
    for element in body.iter("section", "div", "h1", "h2", "ul", "li"):
        if element is not body:
            element.tail = (element.tail or "").rstrip(" ") + "\n"
        before = element.getprevious()
        if element.tag == "ul" and before is not None:
            before.tail = (before.tail or "") + "\n"
